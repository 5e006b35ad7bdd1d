#!/usr/bin/env bash
# Refresh the GraphiQL assets served by the API (api/static/graphiql/) from npm: GraphiQL's and
# React's prebuilt browser bundles with their licences, so that GraphiQL loads nothing from a
# CDN (an intranet has none). Needs npm; run it from anywhere, then commit the result.
#
#   scripts/vendor-graphiql.sh              # the pinned versions below
#   GRAPHIQL=3.8.3 scripts/vendor-graphiql.sh
set -euo pipefail

GRAPHIQL=${GRAPHIQL:-3.8.3}  # the version strawberry 0.341 loads from its CDN: a UMD bundle
REACT=${REACT:-18.2.0}       # React 19 ships no UMD builds

target="$(cd "$(dirname "$0")/.." && pwd)/api/static/graphiql"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
    mkdir "$package"
    tar -xzf "$package.tgz" -C "$package"
done

mkdir -p "$target"
cp "graphiql-$GRAPHIQL/package/graphiql.min.js" "graphiql-$GRAPHIQL/package/graphiql.min.css" "$target/"
cp "graphiql-$GRAPHIQL/package/LICENSE" "$target/LICENSE.graphiql"
cp "react-$REACT/package/umd/react.production.min.js" "$target/"
cp "react-$REACT/package/LICENSE" "$target/LICENSE.react"
cp "react-dom-$REACT/package/umd/react-dom.production.min.js" "$target/"
cp "react-dom-$REACT/package/LICENSE" "$target/LICENSE.react-dom"
# The files stay byte for byte as published (VERSIONS lists their sha256); their source maps
# are left out, so a browser's developer tools find none.

{
    echo "# Vendored by scripts/vendor-graphiql.sh from npm; do not edit by hand."
    echo "graphiql $GRAPHIQL (MIT, LICENSE.graphiql)"
    echo "react $REACT (MIT, LICENSE.react)"
    echo "react-dom $REACT (MIT, LICENSE.react-dom)"
    echo
    (cd "$target" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js \
        react-dom.production.min.js)
} >"$target/VERSIONS"
echo "vendored into $target:"
cat "$target/VERSIONS"

"""GraphiQL for both endpoints, served from this package: its scripts and styles are vendored
under `api/static/graphiql/` (`scripts/vendor-graphiql.sh` refreshes them from npm), so it
works on an intranet with no CDN. The internal page adds a field for the bearer token.

A browser asking for HTML at an endpoint (GET, `Accept: text/html`, no `query`) gets the page;
every other request goes to the endpoint. Production serves no GraphiQL (settings).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql-assets"
#: Everything from this server; inline style attributes are React's and CodeMirror's, fonts and
#: icons are data URLs inside the stylesheet.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

Endpoint = Callable[[Request], Awaitable[Response]]

AUTHORIZATION_FIELD = """
  <form class="gongkai-token" id="token-form">
    <label for="token">Bearer token</label>
    <input id="token" type="password" autocomplete="off" spellcheck="false"
           placeholder="paste the output of: .venv/bin/gongkai token --role finance_officer">
  </form>"""

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{assets}/graphiql.min.css">
  <style>
    body {{ margin: 0; height: 100vh; display: flex; flex-direction: column; }}
    #graphiql {{ flex: 1; min-height: 0; }}
    .gongkai-token {{ display: flex; gap: 8px; align-items: center; padding: 6px 12px;
      font: 14px system-ui, sans-serif; border-bottom: 1px solid #ddd; }}
    .gongkai-token input {{ flex: 1; font: 13px monospace; padding: 4px 6px; }}
  </style>
</head>
<body>{token_field}
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{assets}/react.production.min.js"></script>
  <script src="{assets}/react-dom.production.min.js"></script>
  <script src="{assets}/graphiql.min.js"></script>
  <script src="{assets}/setup.js"></script>
</body>
</html>
"""


def page(request: Request, *, internal: bool) -> HTMLResponse:
    """The GraphiQL page; it sends its queries to the address it was loaded from."""
    html = PAGE.format(
        title="gongkai internal GraphQL" if internal else "gongkai public GraphQL",
        assets=escape(request.scope.get("root_path", "") + ASSETS_PATH),
        token_field=AUTHORIZATION_FIELD if internal else "",
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})


def wants_page(request: Request) -> bool:
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


def with_graphiql(endpoint: Endpoint, *, internal: bool) -> Endpoint:
    """`endpoint`, answering a browser's visit with GraphiQL. The internal page is served
    without a token: it holds no data, and every query it sends carries the token typed in."""

    async def route(request: Request) -> Response:
        if wants_page(request):
            return page(request, internal=internal)
        return await endpoint(request)

    return route


def assets() -> Mount:
    """The vendored files at ASSETS_PATH."""
    return Mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="graphiql-assets")

#!/usr/bin/env bash
# `make test`'s suite: on SQLite, and at the same time on PostgreSQL whenever it is reachable.
# The two runs share nothing but the machine: each has its own databases, moto server, browser
# and temporary folders. On two cores they take about as long as the PostgreSQL run alone, where
# one after the other took both. Each run's output goes to var/test-<backend>.log and is printed
# when both have ended; the exit status is non-zero if either failed.
#
# With GONGKAI_REQUIRE_POSTGRES=1 (CI) an unreachable PostgreSQL fails the run instead of
# skipping it.
set -uo pipefail
bin=${1:?usage: test-both-databases.sh VENV_BIN PG_SERVER_URL}
pg=${2:?usage: test-both-databases.sh VENV_BIN PG_SERVER_URL}
mkdir -p var

# Two sessions writing .pytest_cache at once could leave it half-written for the next run.
pytest=("$bin/pytest" -p no:cacheprovider)

if "$bin/python" -c "import asyncio, asyncpg; asyncio.run(asyncpg.connect('$pg/postgres', timeout=3))" 2>/dev/null; then
    with_postgres=1
elif [ "${GONGKAI_REQUIRE_POSTGRES:-}" = 1 ]; then
    echo "PostgreSQL at $pg is unreachable and GONGKAI_REQUIRE_POSTGRES=1" >&2
    exit 1
else
    echo "SKIPPED: the PostgreSQL run (no server at $pg); set GONGKAI_REQUIRE_POSTGRES=1 to require it" >&2
    with_postgres=0
fi

if [ "$with_postgres" = 1 ]; then backends="SQLite and PostgreSQL"; else backends="SQLite"; fi
echo "running the suite on $backends at once (logs: var/test-*.log)"
"${pytest[@]}" > var/test-sqlite.log 2>&1 &
sqlite_pid=$!
if [ "$with_postgres" = 1 ]; then
    GONGKAI_TEST_DB=postgres GONGKAI_TEST_PG=$pg "${pytest[@]}" > var/test-postgres.log 2>&1 &
    postgres_pid=$!
fi

wait "$sqlite_pid"; sqlite_status=$?
postgres_status=0
if [ "$with_postgres" = 1 ]; then
    wait "$postgres_pid"; postgres_status=$?
fi

echo "=== SQLite (exit $sqlite_status)"; cat var/test-sqlite.log
if [ "$with_postgres" = 1 ]; then
    echo "=== PostgreSQL (exit $postgres_status)"; cat var/test-postgres.log
fi
[ "$sqlite_status" = 0 ] && [ "$postgres_status" = 0 ]

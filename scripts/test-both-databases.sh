#!/usr/bin/env bash
# `make test`'s suite: on SQLite, and at the same time on PostgreSQL whenever it is reachable.
# The PostgreSQL run is two processes (GONGKAI_TEST_SHARD, tests/conftest.py): the tests of the
# district demo data set, whose generation and publish take minutes, and the rest; alone, it
# ran for minutes after the SQLite run had ended, on one of the two cores. The runs share
# nothing but the machine: each has its own databases, moto server, browser and temporary
# folders. Each run's output goes to var/test-<run>.log and is printed when all have ended; the
# exit status is non-zero if any failed.
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
status=0
if [ "$with_postgres" = 1 ]; then
    for shard in demo rest; do
        GONGKAI_TEST_DB=postgres GONGKAI_TEST_PG=$pg GONGKAI_TEST_SHARD=$shard "${pytest[@]}" \
            > "var/test-postgres-$shard.log" 2>&1 &
        eval "postgres_${shard}_pid=\$!"
    done
fi

sqlite_status=0
wait "$sqlite_pid" || sqlite_status=$?
echo "=== SQLite (exit $sqlite_status)"; cat var/test-sqlite.log
[ "$sqlite_status" = 0 ] || status=1
if [ "$with_postgres" = 1 ]; then
    for shard in demo rest; do
        pid_var="postgres_${shard}_pid"
        shard_status=0
        wait "${!pid_var}" || shard_status=$?
        echo "=== PostgreSQL, the $shard shard (exit $shard_status)"
        cat "var/test-postgres-$shard.log"
        [ "$shard_status" = 0 ] || status=1
    done
fi
exit "$status"

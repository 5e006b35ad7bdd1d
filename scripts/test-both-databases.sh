#!/usr/bin/env bash
# `make test`'s suite: on SQLite, and at the same time on PostgreSQL whenever it is reachable.
# Each backend's run is two processes (GONGKAI_TEST_SHARD, tests/conftest.py): the tests of the
# demo data set, whose generation and publish take minutes, with the kill -9 tests; and the
# rest. Four processes share the two cores better than two: while one waits on a child process
# or on the database, another runs. The runs share nothing but the machine: each has its own
# databases, moto server, browser and temporary folders. Each run's output goes to
# var/test-<run>.log and is printed when all have ended; the exit status is non-zero if any
# failed.
#
# With GONGKAI_REQUIRE_POSTGRES=1 (CI) an unreachable PostgreSQL fails the run instead of
# skipping it.
set -uo pipefail
bin=${1:?usage: test-both-databases.sh VENV_BIN PG_SERVER_URL}
pg=${2:?usage: test-both-databases.sh VENV_BIN PG_SERVER_URL}
mkdir -p var

# Two sessions writing .pytest_cache at once could leave it half-written for the next run.
# Each log ends with its slowest tests: where the suite's time goes, run after run.
pytest=("$bin/pytest" -p no:cacheprovider --durations=25)

if "$bin/python" -c "import asyncio, asyncpg; asyncio.run(asyncpg.connect('$pg/postgres', timeout=3))" 2>/dev/null; then
    with_postgres=1
elif [ "${GONGKAI_REQUIRE_POSTGRES:-}" = 1 ]; then
    echo "PostgreSQL at $pg is unreachable and GONGKAI_REQUIRE_POSTGRES=1" >&2
    exit 1
else
    echo "SKIPPED: the PostgreSQL run (no server at $pg); set GONGKAI_REQUIRE_POSTGRES=1 to require it" >&2
    with_postgres=0
fi

runs=(sqlite-demo sqlite-rest)
if [ "$with_postgres" = 1 ]; then
    runs+=(postgres-demo postgres-rest)
    echo "running the suite on SQLite and PostgreSQL at once (logs: var/test-*.log)"
else
    echo "running the suite on SQLite (logs: var/test-*.log)"
fi
declare -A pids
for run in "${runs[@]}"; do
    backend=${run%-*}
    GONGKAI_TEST_DB=$backend GONGKAI_TEST_PG=$pg GONGKAI_TEST_SHARD=${run#*-} "${pytest[@]}" \
        > "var/test-$run.log" 2>&1 &
    pids[$run]=$!
done

status=0
for run in "${runs[@]}"; do
    run_status=0
    wait "${pids[$run]}" || run_status=$?
    echo "=== ${run%-*}, the ${run#*-} shard (exit $run_status)"
    cat "var/test-$run.log"
    [ "$run_status" = 0 ] || status=1
done
exit "$status"

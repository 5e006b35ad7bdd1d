"""A PostgreSQL primary and a streaming replica of it, made for a test session: `initdb` on one
free port, `pg_basebackup -R` from it, the copy started on another port. Both are clusters of
their own in a temporary folder (the machine's PostgreSQL allows no replication connections),
stopped with `pg_ctl stop -m immediate` and removed at the end.

The server binaries are PostgreSQL's: GONGKAI_PG_BIN, else /usr/lib/postgresql/<version>/bin,
else the folder of `pg_ctl` on PATH. The server refuses to run as root: as root the clusters
run as the `postgres` user (`runuser`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.live import free_port

#: what pg_ctl waits for at most (a loaded machine)
START_SECONDS = 120


def server_binaries() -> Path | None:
    configured = os.environ.get("GONGKAI_PG_BIN")
    candidates = [Path(configured)] if configured else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return folder
    return None


@dataclass(frozen=True)
class Pair:
    primary: str  # postgres://postgres@127.0.0.1:PORT (no database)
    replica: str

    async def replayed(self) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        primary = await asyncpg.connect(f"{self.primary}/postgres")
        try:
            target = await primary.fetchval("SELECT pg_current_wal_lsn()")
        finally:
            await primary.close()
        replica = await asyncpg.connect(f"{self.replica}/postgres")
        try:
            for _ in range(START_SECONDS * 20):
                done = await replica.fetchval(
                    "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target
                )
                if done:
                    return
                await asyncio.sleep(0.05)
        finally:
            await replica.close()
        raise TimeoutError(f"the replica did not replay up to {target}")

    async def replica_sql(self, sql: str) -> None:
        replica = await asyncpg.connect(f"{self.replica}/postgres")
        try:
            await replica.execute(sql)
        finally:
            await replica.close()


@contextlib.contextmanager
def primary_and_replica(binaries: Path) -> Iterator[Pair]:
    root = Path(tempfile.mkdtemp(prefix="gongkai-replication-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]

    def run(*command: str | Path) -> None:
        done = subprocess.run(  # noqa: S603 (PostgreSQL's own tools)
            [*as_postgres, *map(str, command)], capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")

    primary, replica = root / "primary", root / "replica"
    ports = free_port(), free_port()
    started: list[Path] = []
    try:
        run(binaries / "initdb", "-D", primary, "-U", "postgres", "-A", "trust", "--no-sync")
        settings = (
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{root}'\n"
            "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "shared_buffers = 32MB\nmax_connections = 60\n"
        )
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(settings + f"port = {ports[0]}\n")
        run(binaries / "pg_ctl", "-D", primary, "-l", root / "primary.log", "-w", "start")
        started.append(primary)
        run(
            binaries / "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(ports[0]), "-U", "postgres"),
            *("-D", replica, "-R", "-X", "stream", "-c", "fast", "--no-sync"),
        )
        with (replica / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {ports[1]}\n")
        run(binaries / "pg_ctl", "-D", replica, "-l", root / "replica.log", "-w", "start")
        started.append(replica)
        yield Pair(*(f"postgres://postgres@127.0.0.1:{port}" for port in ports))
    finally:
        for folder in reversed(started):
            with contextlib.suppress(RuntimeError):
                run(binaries / "pg_ctl", "-D", folder, "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)

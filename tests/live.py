"""A real server for the tests that need one: `gongkai`'s app under uvicorn, in a child process,
on a free loopback port, with its log captured (the access log included)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

#: generous, for a loaded machine: the child imports the app and migrates nothing
START_TIMEOUT_SECONDS = 120.0
_LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


@dataclass
class LiveServer:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def serve(database_url: str, workdir: Path, **settings: str) -> Iterator[LiveServer]:
    """Run the app on 127.0.0.1 (port chosen by the OS) until the block ends. `settings` are
    GONGKAI_* variables without the prefix (``JWT_KEY=…``)."""
    env = {
        **os.environ,
        "GONGKAI_DATABASE_URL": database_url,
        "GONGKAI_STORE_URL": f"file://{workdir / 'store'}",
        **{f"GONGKAI_{name}": value for name, value in settings.items()},
    }
    log_path = workdir / "server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "api.app:from_environment",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log-level",
        "info",
        "--no-use-colors",
    ]
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=Path.cwd()
        )
    try:
        server = LiveServer(_wait_for_address(process, log_path), log_path)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_address(process: subprocess.Popen[bytes], log_path: Path) -> str:
    """The server's URL once it answers /healthz; fails with its log if it exits or never
    does within the timeout."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log_path.read_text()}")
        found = _LISTENING.search(log_path.read_text(encoding="utf-8", errors="replace"))
        if found:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{found.group(1)}/healthz", timeout=10).status_code == 200:
                    return found.group(1)
        time.sleep(0.1)
    raise RuntimeError(
        f"the server did not start in {START_TIMEOUT_SECONDS} s:\n{log_path.read_text()}"
    )


async def in_process(
    *args: str, database_url: str, store_url: str, **settings: str
) -> tuple[int, str]:
    """`gongkai ARGS…` through `api.cli.main` in a worker thread, with these settings in the
    environment, as an operator runs it, without starting an interpreter. The caller closes its
    own Tortoise connection first (the command opens and closes its own)."""
    import asyncio
    import io
    from unittest import mock

    from api import cli

    env = {
        "GONGKAI_DATABASE_URL": database_url,
        "GONGKAI_STORE_URL": store_url,
        **{f"GONGKAI_{name}": value for name, value in settings.items()},
    }
    output = io.StringIO()
    with mock.patch.dict(os.environ, env), contextlib.redirect_stderr(output):
        status = await asyncio.to_thread(cli.main, list(args))
    return status, output.getvalue()

"""A real server for the tests that need one: `gongkai`'s app under uvicorn, in a child process,
on a free loopback port, with its log captured (the access log included)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
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


ROOT = Path(__file__).resolve().parents[1]
#: The app under uvicorn, as a deployment runs it.
UVICORN = [
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


def gongkai_serve(port: int) -> list[str]:
    """The app as `gongkai serve` runs it (`make run`); its banner names the port it is given."""
    return [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serve(
    database_url: str,
    workdir: Path,
    command: Sequence[str] = tuple(UVICORN),
    *,
    in_workdir: bool = False,
    **settings: str,
) -> Iterator[LiveServer]:
    """Run the app on 127.0.0.1 (port chosen by the OS) until the block ends. `settings` are
    GONGKAI_* variables without the prefix (``JWT_KEY=…``); no other GONGKAI_* variable of the
    test's environment reaches the server. `in_workdir` starts it in `workdir` rather than the
    repository (where `gongkai serve` makes its development key)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")},
        "PYTHONPATH": str(ROOT),
        "GONGKAI_DATABASE_URL": database_url,
        "GONGKAI_STORE_URL": f"file://{workdir / 'store'}",
        **{f"GONGKAI_{name}": value for name, value in settings.items()},
    }
    log_path = workdir / "server.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir if in_workdir else ROOT,
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


def cli_token(role: str, jwt_key: str) -> str:
    """A token for a live server, minted as an operator mints one (`gongkai token`): stamped
    with the time the command ran, and checked by the server against that same clock."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "api.cli", "token", "--role", role],
        env={**os.environ, "GONGKAI_JWT_KEY": jwt_key},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


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

"""moto's standalone S3 server as a process of its own, for the tests and the benchmarks.

A separate process, like MinIO in production: it runs on the other core instead of competing
for this process's GIL, so the publisher and the bare-SDK floor are measured against the same
independent server.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: How long moto_server may take to exit after SIGTERM before it is killed. On a loaded machine
#: (two cores, other test suites running) it has taken longer than 10 s; a benchmark must still
#: finish and print its figures.
STOP_GRACE_SECONDS = 60.0


def stop(process: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> None:
    """Ask the process to exit (SIGTERM), wait up to `grace` seconds, then kill it; return once
    it is gone. Never raises for a slow exit."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def moto_server(timeout: float = 120) -> Iterator[str]:
    """Start `moto_server` on a free loopback port; yield ``host:port``; stop it on exit."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 (our own venv's moto_server, fixed arguments)
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        stop(server)

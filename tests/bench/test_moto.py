"""bench/moto.py stops its S3 server however slowly it exits (issue 11: `make bench` lost its
figures to a `TimeoutExpired` on a loaded machine)."""

from __future__ import annotations

import signal
import subprocess
import sys

from bench.moto import moto_server, stop

#: a child that ignores SIGTERM and says so once it does; then it would run for ever
STUBBORN = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "while True: time.sleep(1)\n"
)


def test_a_server_that_ignores_sigterm_is_killed_not_raised() -> None:
    with subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE) as child:  # noqa: S603
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"  # its handler is in place
        stop(child, grace=0.1)
        assert child.returncode == -signal.SIGKILL


def test_a_server_that_exits_on_sigterm_is_waited_for() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) as child:
        stop(child)
        assert child.returncode == -signal.SIGTERM
        stop(child)  # stopping a stopped server is a no-op


def test_moto_server_starts_and_stops() -> None:
    with moto_server() as endpoint:
        host, port = endpoint.split(":")
        assert host == "127.0.0.1" and int(port) > 0

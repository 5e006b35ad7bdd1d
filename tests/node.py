"""Node for the tests that run an npm package (the GraphQL-over-HTTP audit, the OpenID Connect
provider): each folder's locked packages come from `npm ci` (`make test` runs it). Without Node
or the packages the test is skipped, saying so, except in CI (``CI=true``), where it fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def node_with(folder: Path, package: str, what: str) -> str:
    """The `node` executable, once `package` is installed in `folder`; else a skip (a failure in
    CI) naming what `what` needs."""
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node is not installed"
    elif not (folder / "node_modules" / package).is_dir():
        relative = folder.relative_to(Path(__file__).resolve().parents[1])
        missing = f"{package} is not installed: run `npm ci --prefix {relative}`"
    if missing is None:
        assert node is not None
        return node
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} must run in CI: {missing}")
    pytest.skip(f"{what} did not run: {missing}")

"""The development signing key, so that the internal API works right after `make run`.

When no key is configured (neither `GONGKAI_JWT_KEY` nor `GONGKAI_JWT_JWKS_FILE`) and the
algorithm is an HS one, development uses a random HS secret kept in `var/dev-jwt.key` (mode
0600), created on first use. `gongkai serve` verifies with it and `gongkai token` signs with it,
so both read the same file from the same working directory. Production never creates one: there
the key comes from the settings or the internal API refuses every token.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import replace
from pathlib import Path

from api.settings import MIN_HS_KEY_BYTES, Settings

DEV_KEY_PATH = Path("var/dev-jwt.key")


class DevKeyError(Exception):
    """The development key file exists but cannot be used; the message names the file."""


def needs_dev_key(settings: Settings) -> bool:
    """Development, no key configured, and an HS algorithm (a public-key setup cannot mint)."""
    return (
        not settings.production
        and settings.jwt_key is None
        and settings.jwt_jwks_file is None
        and settings.jwt_algorithms[0].startswith("HS")
    )


def with_dev_key(settings: Settings, path: Path = DEV_KEY_PATH) -> tuple[Settings, Path | None]:
    """`settings` with the development key filled in where `needs_dev_key`, and the key file's
    path (None when the settings are returned unchanged)."""
    if not needs_dev_key(settings):
        return settings, None
    return replace(settings, jwt_key=read_or_create(path)), path


def read_or_create(path: Path) -> str:
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DevKeyError(f"{path} is readable by others (mode {oct(mode & 0o777)}): chmod 600 it")
    key = path.read_text(encoding="utf-8").strip()
    if len(key.encode()) < MIN_HS_KEY_BYTES:
        raise DevKeyError(
            f"{path} holds no HS secret of at least {MIN_HS_KEY_BYTES} bytes: delete it to get a "
            "new one"
        )
    return key


def _create(path: Path) -> None:
    """Write a new secret without ever exposing a partial or world-readable file: into a
    private temporary file, then linked into place, which fails if another process was first
    (its key wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink()

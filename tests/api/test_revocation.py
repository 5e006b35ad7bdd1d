"""The token deny-list: a revoked token is refused at its next request with a 401, by its `jti`
or with every token of its subject issued up to the revocation; the list is in the database, so
it holds after a restart; `gongkai revoke` writes it and `--purge` empties what has expired."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager

from api import revocation
from api.app import create_app
from api.auth import Principal, Role, mint
from storage import database, models
from tests.internal.conftest import SECRET, settings
from tests.live import in_process

ME = "{ me { subject } }"
#: a fixed moment; tokens are issued at or around it, valid for ten years (the app verifies
#: them with the real clock, so they must hold whenever the tests run)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def minted(subject: str = "laptop-user", *, issued: datetime = T0) -> str:
    return mint(
        settings("sqlite://:memory:", Path(".")),
        subject=subject,
        roles=[Role.AUDITOR],
        now=issued.timestamp(),
        ttl_seconds=10 * 365 * 86400,
    )


def jti(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return str(claims["jti"])


@asynccontextmanager
async def serving(db: str, store: Path) -> AsyncIterator[Any]:
    """The app (a fresh one each time: a restart), and a function sending `ME` with a token;
    the function's `metrics` are the app's."""
    app = create_app(settings(db, store))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def ask(token: str) -> httpx.Response:
                return await client.post(
                    "/internal/graphql",
                    json={"query": ME},
                    headers={"Authorization": f"Bearer {token}"},
                )

            ask.metrics = app.state.metrics  # type: ignore[attr-defined]
            yield ask


async def test_a_revoked_jti_is_refused_at_once_and_after_a_restart(
    db: str, tmp_path: Path
) -> None:
    lost, other = minted(), minted()
    assert jti(lost) != jti(other)
    await database.close()
    async with serving(db, tmp_path / "store") as ask:
        assert (await ask(lost)).status_code == 200
        await revocation.revoke(
            jti=jti(lost), now=T0, expires_at=T0 + timedelta(days=1), revoked_by="test"
        )
        refused = await ask(lost)  # the very next request
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["message"] == (
            "the token has been revoked: ask for a new one"
        )
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        # the same person's other token (another device) still works
        assert (await ask(other)).status_code == 200
        assert ask.metrics.revoked._value.get() == 1  # counted once, for the alert rule
    async with serving(db, tmp_path / "store") as ask:  # a restart
        assert (await ask(lost)).status_code == 401
        assert (await ask(other)).status_code == 200
    await database.init(db, global_fallback=True)


async def test_revoking_a_subject_refuses_its_tokens_issued_up_to_then(db: str) -> None:
    cutoff = T0
    at_cutoff = minted("gone", issued=cutoff)
    after = minted("gone", issued=cutoff + timedelta(seconds=1))
    someone_else = minted("stays", issued=cutoff)
    await revocation.revoke(
        subject="gone", now=cutoff, expires_at=cutoff + timedelta(days=30), revoked_by="test"
    )
    verify = _verifier()
    assert await revocation.is_revoked(verify(at_cutoff))
    assert not await revocation.is_revoked(verify(after))  # minted after the revocation
    assert not await revocation.is_revoked(verify(someone_else))


async def test_a_token_without_jti_is_accepted_and_revocable_by_subject(db: str) -> None:
    claims = {
        "sub": "legacy",
        "iss": "gongkai",
        "aud": "gongkai-internal",
        "iat": int(T0.timestamp()),
        "exp": int(T0.timestamp()) + 10 * 365 * 86400,
        "roles": ["auditor"],
    }
    principal = _verifier()(jwt.encode(claims, SECRET, algorithm="HS256"))
    assert principal.token_id is None
    assert not await revocation.is_revoked(principal)
    await revocation.revoke(
        subject="legacy", now=T0, expires_at=T0 + timedelta(days=1), revoked_by="test"
    )
    assert await revocation.is_revoked(principal)


async def test_the_command_revokes_and_purges(db: str, tmp_path: Path) -> None:
    token = minted()
    # one entry past its expiry: the purge deletes it, and only it
    await models.RevokedToken.create(
        jti="old", expires_at=T0 - timedelta(days=1), revoked_by="test"
    )
    store = f"file://{tmp_path / 'store'}"
    await database.close()  # the commands connect by themselves
    try:
        revoked = await in_process("revoke", "--jti", jti(token), database_url=db, store_url=store)
        past = await in_process(
            "revoke", "--sub", "x", "--until", "2020-01-01", database_url=db, store_url=store
        )
        purged = await in_process("revoke", "--purge", database_url=db, store_url=store)
    finally:
        await database.init(db, global_fallback=True)
    assert revoked[0] == 0 and f"revoked token {jti(token)}" in revoked[1], revoked
    assert past[0] == 2 and "--until must be in the future" in past[1], past
    assert purged[0] == 0 and "1 deny-list entries past their expiry deleted" in purged[1]
    assert await revocation.is_revoked(_verifier()(token))
    assert await models.RevokedToken.all().values_list("jti", flat=True) == [jti(token)]


async def test_an_entry_is_kept_past_now(db: str) -> None:
    with pytest.raises(ValueError, match="kept past now"):
        await revocation.revoke(jti="j", now=T0, expires_at=T0, revoked_by="test")
    await revocation.revoke(
        jti="j", now=T0, expires_at=T0 + timedelta(microseconds=1), revoked_by="test"
    )
    with pytest.raises(ValueError, match="not both"):
        await revocation.revoke(
            jti="k", subject="s", now=T0, expires_at=T0 + timedelta(1), revoked_by="test"
        )


async def test_purge_keeps_entries_until_their_expiry(db: str) -> None:
    for name, days in (("expired", -1), ("expires-now", 0), ("later", 1)):
        await models.RevokedToken.create(
            jti=name, expires_at=T0 + timedelta(days=days), revoked_by="test"
        )
    assert await revocation.purge(T0) == 2
    assert await models.RevokedToken.all().values_list("jti", flat=True) == ["later"]


def _verifier() -> Callable[[str], Principal]:
    from api.auth import TokenVerifier

    verifier = TokenVerifier(settings("sqlite://:memory:", Path(".")), clock=T0.timestamp)
    return verifier.verify

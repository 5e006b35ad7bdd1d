"""The deny-list of internal tokens, for a lost device or a person who left.

An entry revokes one token by its `jti`, or every token of a subject issued at or before a
moment (for tokens minted without a `jti`, or when the token's id is not known). It lives in
the database (`revoked_token`), so it holds across restarts and for every replica at once, and
it is read on every internal request after the signature has been verified: one indexed
lookup, no cache, so the request right after `gongkai revoke` is refused. An entry is kept
until `expires_at` — make it no earlier than the last expiry of the tokens it names — after
which `gongkai revoke --purge` deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from api.auth import Principal
from storage import models


async def is_revoked(principal: Principal) -> bool:
    """Whether the deny-list names this token: its `jti`, or its subject with a cut-off at or
    after the token's `iat`."""
    by_subject = Q(subject=principal.subject, issued_before__gte=int(principal.issued_at))
    found = Q(jti=principal.token_id) | by_subject if principal.token_id else by_subject
    return await models.RevokedToken.filter(found).exists()


@dataclass(frozen=True)
class Revocation:
    jti: str | None
    subject: str | None
    issued_before: int | None
    expires_at: datetime


async def revoke(
    *,
    jti: str | None = None,
    subject: str | None = None,
    now: datetime,
    expires_at: datetime,
    revoked_by: str,
    reason: str = "",
) -> Revocation:
    """Add an entry: one token (`jti`) or every token of `subject` issued up to `now`.
    Revoking a `jti` again keeps the later of the two expiries."""
    if (jti is None) == (subject is None):
        raise ValueError("revoke one token (jti) or a subject's tokens (subject), not both")
    if expires_at <= now:
        raise ValueError("the entry must be kept past now")
    if jti is not None:
        existing = await models.RevokedToken.get_or_none(jti=jti)
        if existing is not None:
            existing.expires_at = max(existing.expires_at, expires_at)
            await existing.save(update_fields=["expires_at"])
            return Revocation(jti, None, None, existing.expires_at)
        await models.RevokedToken.create(
            jti=jti, expires_at=expires_at, revoked_by=revoked_by, reason=reason
        )
        return Revocation(jti, None, None, expires_at)
    cutoff = int(now.timestamp())
    await models.RevokedToken.create(
        subject=subject,
        issued_before=cutoff,
        expires_at=expires_at,
        revoked_by=revoked_by,
        reason=reason,
    )
    return Revocation(None, subject, cutoff, expires_at)


async def purge(now: datetime) -> int:
    """Delete the entries past their expiry; how many went."""
    return await models.RevokedToken.filter(expires_at__lte=now).delete()

"""The console's local accounts: argon2id password hashes, the roles, department and clearance a
JWT's claims would carry, and the rate limit on failed sign-ins.

A password is hashed here and nowhere else; it is never stored, logged or echoed. Sign-in
attempts are audited (`AuditEntry`, record type ``ConsoleUser``) with the account's name when it
exists, never with what was typed into the password field.

The rate limit counts consecutive failures per user name in the database (so every worker sees
them): after `FREE_FAILURES` failures, each next attempt is refused — without checking the
password — until `delay_after(failures)` seconds have passed since the last failure. A success
clears the count.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.auth import Role
from schema.internal.permissions import Caller
from storage import models
from storage.identities import ConsoleIdentity

#: Failures that cost nothing; the next attempt after this many waits (issue 17: "ten failed
#: sign-ins slow the next").
FREE_FAILURES = 10
#: The first wait, doubled with each further failure, up to MAX_DELAY_SECONDS.
FIRST_DELAY_SECONDS = 60
MAX_DELAY_SECONDS = 3600
MAX_USERNAME = 100
MIN_PASSWORD = 12
MAX_PASSWORD = 1024

#: argon2id with the library's parameters (RFC 9106's low-memory choice: 64 MiB, 3 passes)
DEFAULT_HASHER = PasswordHasher()
_hasher = DEFAULT_HASHER
#: verified when the user name is unknown, so that both answers take as long; made when the
#: console is set up (`dummy_hash`), not at import: a hash costs a third of a second, and every
#: CLI command imports this module
_dummy_hash: str | None = None


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash with `hasher` from now on (the tests' cheaper parameters); returns the one before.
    A stored hash names its own parameters, so it verifies whichever hasher is in use."""
    global _hasher, _dummy_hash
    before, _hasher, _dummy_hash = _hasher, hasher, None
    return before


def dummy_hash() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not a password of anyone")
    return _dummy_hash


class AccountError(ValueError):
    """An account command or sign-in input is not acceptable; the message says why."""


@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: the user, or why not; `retry_after` when throttled."""

    user: models.ConsoleUser | None
    message: str = ""
    retry_after: int = 0


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password has {MIN_PASSWORD}–{MAX_PASSWORD} characters")


def check_roles(roles: list[str], department: str | None) -> list[str]:
    known = {role.value for role in Role}
    unknown = sorted(set(roles) - known)
    if not roles or unknown:
        raise AccountError(f"roles must be some of {sorted(known)}; unknown: {unknown}")
    if Role.DEPARTMENT_EDITOR.value in roles and not department:
        raise AccountError("a department_editor needs --dept (its 主管部门 code)")
    return sorted(set(roles))


def caller(user: models.ConsoleUser) -> Caller:
    """The user as the internal API's caller: the same as a JWT with these claims."""
    return Caller(
        subject=user.username,
        roles=tuple(sorted(str(r) for r in user.roles)),
        department=user.department,
        classified=user.classified,
    )


async def exists(username: str) -> bool:
    return await models.ConsoleUser.exists(username=username.strip())


async def add_user(
    username: str,
    password: str,
    roles: list[str],
    department: str | None = None,
    *,
    classified: bool = False,
    display_name: str = "",
) -> models.ConsoleUser:
    username = username.strip()
    if not 0 < len(username) <= MAX_USERNAME or any(c.isspace() for c in username):
        raise AccountError(f"a user name has 1–{MAX_USERNAME} characters and no spaces")
    if await exists(username):
        raise AccountError(f"user {username!r} exists already")
    return await models.ConsoleUser.create(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        roles=check_roles(roles, department),
        department=department,
        classified=classified,
    )


async def _named(username: str) -> models.ConsoleUser:
    user = await models.ConsoleUser.get_or_none(username=username)
    if user is None:
        raise AccountError(f"there is no user {username!r}")
    return user


async def disable_user(username: str) -> models.ConsoleUser:
    """Disabled: no sign-in, and every open session ends at its next request."""
    user = await _named(username)
    user.disabled = True
    user.session_epoch += 1
    await user.save(update_fields=["disabled", "session_epoch", "updated_at"])
    return user


async def reset_password(username: str, password: str) -> models.ConsoleUser:
    """A new password (the account enabled again); every open session ends."""
    user = await _named(username)
    user.password_hash = hash_password(password)
    user.disabled = False
    user.session_epoch += 1
    await user.save(update_fields=["password_hash", "disabled", "session_epoch", "updated_at"])
    await models.ConsoleSignInFailures.filter(name_hash=_name_hash(username)).delete()
    return user


def delay_after(failures: int) -> int:
    """Seconds the next attempt waits after `failures` consecutive failures."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_DELAY_SECONDS * 2 ** (failures - FREE_FAILURES), MAX_DELAY_SECONDS)


def _name_hash(username: str) -> str:
    return hashlib.sha256(username.strip().casefold().encode()).hexdigest()


async def _audit(action: str, user: models.ConsoleUser | None, detail: dict[str, object]) -> None:
    await models.AuditEntry.create(
        actor=user.username if user else "unknown",
        roles=list(user.roles) if user else [],
        department_code=user.department if user else None,
        action=action,
        record_type="ConsoleUser",
        record_id=str(user.pk) if user else None,
        before=None,
        after=detail,
        classified=False,
    )


async def sign_in(username: str, password: str, now: float) -> SignIn:
    """Check one attempt at `now` (seconds since the epoch) and audit it."""
    username = username.strip()[:MAX_USERNAME]
    key = _name_hash(username)
    counter = await models.ConsoleSignInFailures.get_or_none(name_hash=key)
    user = await models.ConsoleUser.get_or_none(username=username) if username else None
    if counter is not None:
        wait = counter.last_failure_at + delay_after(counter.failures) - now
        if wait > 0:
            await _audit("console.sign_in_throttled", user, {"failures": counter.failures})
            return SignIn(None, "登录失败次数过多，请稍后再试", retry_after=int(-(-wait // 1)))
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else dummy_hash(), password[:MAX_PASSWORD])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if ok and user is not None and not user.disabled:
        if counter is not None:
            await counter.delete()
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
            await user.save(update_fields=["password_hash"])
        await _audit("console.sign_in", user, {})
        return SignIn(user)
    failures = (counter.failures if counter else 0) + 1
    if counter is None:
        await models.ConsoleSignInFailures.create(
            name_hash=key, failures=failures, last_failure_at=now
        )
    else:
        counter.failures, counter.last_failure_at = failures, now
        await counter.save(update_fields=["failures", "last_failure_at"])
    reason = "disabled" if ok and user is not None else "wrong name or password"
    await _audit("console.sign_in_failed", user, {"reason": reason, "failures": failures})
    return SignIn(None, "用户名或密码不正确，或账户已停用")


#: An OpenID Connect subject (`sub`): at most 255 characters (OpenID Connect Core §2).
MAX_SUBJECT = 255


async def link_identity(username: str, issuer: str, subject: str) -> models.ConsoleUser:
    """Link the provider's user (`issuer`, `subject`) to the account: that user then signs in
    as it (api/console/oidc.py). A user already linked to another account is refused."""
    if not subject or len(subject) > MAX_SUBJECT or not subject.isprintable():
        raise AccountError(f"a subject has 1 to {MAX_SUBJECT} printable characters")
    user = await _named(username)
    held = await ConsoleIdentity.get_or_none(issuer=issuer, subject=subject).select_related("user")
    if held is not None and held.user.pk != user.pk:
        raise AccountError(f"{subject!r} of {issuer} is linked to {held.user.username} already")
    if held is None:
        await ConsoleIdentity.create(issuer=issuer, subject=subject, user=user)
    return user


async def sign_in_identity(issuer: str, subject: str) -> SignIn:
    """The account a provider's verified user signs in as, audited either way."""
    held = await ConsoleIdentity.get_or_none(issuer=issuer, subject=subject).select_related("user")
    user = held.user if held is not None else None
    if user is None or user.disabled:
        reason = "no account is linked" if user is None else "disabled"
        detail: dict[str, object] = {
            "reason": reason,
            "via": "oidc",
            "issuer": issuer,
            "subject": subject,
        }
        await _audit("console.sign_in_failed", user, detail)
        return SignIn(None, "此统一身份认证账户未关联控制台账户，或账户已停用")
    await _audit("console.sign_in", user, {"via": "oidc"})
    return SignIn(user)


async def audit_refused_identity(reason: str) -> None:
    """A sign-in through the provider that failed before any user was verified (a forged or
    stale state, a refused code, a bad ID token): audited with its reason, for no account."""
    await _audit("console.sign_in_failed", None, {"reason": reason, "via": "oidc"})

"""The console's session: a cookie signed with itsdangerous (HMAC-SHA1 over a key derived from
`GONGKAI_CONSOLE_SECRET`), holding the user's id, the account's session epoch, when it was last
used and the session's CSRF token. HttpOnly, Secure, SameSite=Strict, path /console.

It is short-lived: `IDLE_SECONDS` after its last use it is refused (each answer to a signed-in
request renews it), and `MAX_SECONDS` after sign-in in any case. Every request looks the account
up, so a disabled account, or one whose password was reset (its epoch raised), has its session
ended at the next request.

CSRF: every form carries the session's token (a synchronizer token bound to the session); a
POST without it, or with another, is refused with 403 before anything runs. A visitor who is not
signed in gets a session without a user, so that the sign-in form is protected too; signing in
starts a new session with a new token (no fixation).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.responses import Response

COOKIE = "gk_console"
PATH = "/console"
IDLE_SECONDS = 30 * 60
MAX_SECONDS = 10 * 3600
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Session:
    csrf: str
    #: when it began and when it was last used, seconds since the epoch
    started: float
    used: float
    user_id: int | None = None
    epoch: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "c": self.csrf,
            "s": self.started,
            "t": self.used,
            "u": self.user_id,
            "e": self.epoch,
        }

    def csrf_matches(self, sent: object) -> bool:
        return isinstance(sent, str) and hmac.compare_digest(sent.encode(), self.csrf.encode())


def new_session(now: float, user_id: int | None = None, epoch: int = 0) -> Session:
    return Session(secrets.token_urlsafe(32), now, now, user_id, epoch)


class SessionCodec:
    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeSerializer(secret, salt="gongkai-console-session")

    def load(self, cookie: str | None, now: float) -> Session | None:
        """The session the cookie holds, or None when it is missing, forged or expired."""
        if not cookie or len(cookie) > 1024:
            return None
        try:
            data = self.serializer.loads(cookie)
            session = Session(
                csrf=str(data["c"]),
                started=float(data["s"]),
                used=float(data["t"]),
                user_id=None if data["u"] is None else int(data["u"]),
                epoch=int(data["e"]),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if now - session.used >= IDLE_SECONDS or now - session.started >= MAX_SECONDS:
            return None
        return session

    def store(self, response: Response, session: Session, now: float) -> None:
        value = self.serializer.dumps(replace(session, used=now).as_json())
        response.set_cookie(
            COOKIE,
            str(value),
            max_age=IDLE_SECONDS,
            path=PATH,
            secure=True,
            httponly=True,
            samesite="strict",
        )

    @staticmethod
    def clear(response: Response) -> None:
        response.delete_cookie(COOKIE, path=PATH, secure=True, httponly=True, samesite="strict")

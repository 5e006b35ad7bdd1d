"""JWT authentication of internal clients, following RFC 8725 (JWT Best Current Practices).

- Algorithms come from an allow-list (`GONGKAI_JWT_ALGORITHMS`); ``none`` never is on it, and
  HMAC and public-key algorithms are never mixed, so a public key cannot be used as an HMAC
  secret (key confusion).
- The key is an HS secret, a PEM public key, or a JWKS file whose keys carry a `kid` (rotation:
  the token's `kid` picks the key; an unknown `kid` is refused).
- `exp`, `iat`, `iss`, `aud` and `sub` are required; `iss` and `aud` must match the settings;
  `nbf` is honoured; a small leeway absorbs clock skew; `typ`, when present, must say JWT.

Claims: `roles` (a list), `dept` (department code), `clearance` (``classified`` when held),
`jti` (the token's id, for the deny-list of api/revocation.py; tokens without one are accepted
and can be revoked only with every token of their subject).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from math import isfinite
from typing import Any

import jwt
from jwt import PyJWK

from api.settings import Settings

LEEWAY_SECONDS = 30
#: The largest token accepted: ours are a few hundred bytes; a far larger one is no token of an
#: identity provider we trust, and parsing and verifying it costs the server memory and time.
MAX_TOKEN_BYTES = 8 * 1024
#: the deny-list's column (storage.models.RevokedToken.jti)
MAX_JTI_CHARACTERS = 200
ACCEPTED_TYPES = frozenset({"jwt", "at+jwt", "application/jwt", "application/at+jwt"})


class Role(str, Enum):
    DEPARTMENT_EDITOR = "department_editor"
    FINANCE_OFFICER = "finance_officer"
    PUBLISHER = "publisher"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the verified token says."""

    subject: str
    roles: frozenset[Role]
    department: str | None
    classified: bool
    #: the token's `iat`, seconds since the epoch
    issued_at: float
    #: the token's `jti`, if it has one
    token_id: str | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))


class AuthenticationError(Exception):
    """The request carries no usable token; the message says why (never echoing the token)."""


class TokenVerifier:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.algorithms = list(settings.jwt_algorithms)
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.key: Any = settings.jwt_key
        self.keys: dict[str, PyJWK] = {}
        if settings.jwt_jwks_file is not None:
            document = json.loads(settings.jwt_jwks_file.read_text(encoding="utf-8"))
            self.keys = {entry["kid"]: PyJWK(entry) for entry in document["keys"]}
        #: Seconds since the epoch. PyJWT reads the wall clock itself, so `exp`, `nbf` and
        #: `iat` are checked here instead, against this clock (tests set it).
        self.clock = clock

    @property
    def configured(self) -> bool:
        return self.key is not None or bool(self.keys)

    def verify(self, token: str) -> Principal:
        if not self.configured:
            raise AuthenticationError("this server has no key to verify tokens with")
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthenticationError(f"the token is longer than {MAX_TOKEN_BYTES} bytes")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise AuthenticationError("the token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise AuthenticationError(f"algorithm {algorithm!r} is not allowed")
        kind = header.get("typ")
        if kind is not None and str(kind).lower() not in ACCEPTED_TYPES:
            raise AuthenticationError(f"token type {kind!r} is not a JWT")
        key = self._key_for(header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.MissingRequiredClaimError as error:
            raise AuthenticationError(f"the token lacks the {error.claim!r} claim") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationError("the token's issuer is not accepted") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError("the token is not meant for this service") from None
        except jwt.InvalidTokenError:
            raise AuthenticationError("the token's signature or claims are invalid") from None
        check_times(claims, self.clock())
        return _principal(claims)

    def _key_for(self, header: dict[str, Any]) -> Any:
        if not self.keys:
            return self.key
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self.keys:
            raise AuthenticationError("the token's key id (kid) is unknown")
        jwk = self.keys[kid]
        if jwk.algorithm_name and jwk.algorithm_name != header.get("alg"):
            raise AuthenticationError("the token's algorithm does not match its key")
        return jwk.key


def check_times(claims: dict[str, Any], now: float) -> None:
    """RFC 7519 §4.1.4–6 as PyJWT checks them: expired when `exp` ≤ now − leeway, not valid yet
    when `nbf` or `iat` > now + leeway. (`exp` and `iat` are required, so present.)"""
    times: dict[str, float] = {}
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is None:
            continue
        # Python's JSON reader takes NaN and Infinity: a token that never expires is refused.
        if isinstance(value, bool) or not isinstance(value, int | float) or not isfinite(value):
            raise AuthenticationError(f"the {name!r} claim must be a number of seconds")
        times[name] = value
    if times["exp"] <= now - LEEWAY_SECONDS:
        raise AuthenticationError("the token has expired")
    if times.get("nbf", now) > now + LEEWAY_SECONDS or times["iat"] > now + LEEWAY_SECONDS:
        raise AuthenticationError("the token is not valid yet")


def _principal(claims: dict[str, Any]) -> Principal:
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
        raise AuthenticationError("the `roles` claim must be a list of role names")
    known = {role.value for role in Role}
    unknown = sorted(set(raw_roles) - known)
    if unknown:
        raise AuthenticationError(f"unknown roles {unknown}; known: {sorted(known)}")
    department = claims.get("dept")
    if department is not None and not isinstance(department, str):
        raise AuthenticationError("the `dept` claim must be a department code")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError("the `sub` claim must be a non-empty string")
    token_id = claims.get("jti")
    if token_id is not None and (
        not isinstance(token_id, str) or not 0 < len(token_id) <= MAX_JTI_CHARACTERS
    ):
        raise AuthenticationError(
            f"the `jti` claim must be a string of 1–{MAX_JTI_CHARACTERS} characters"
        )
    return Principal(
        subject=subject,
        roles=frozenset(Role(r) for r in raw_roles),
        department=department,
        classified=claims.get("clearance") == "classified",
        token_id=token_id,
        issued_at=float(claims["iat"]),
    )


def mint(
    settings: Settings,
    *,
    subject: str,
    roles: list[Role],
    department: str | None = None,
    classified: bool = False,
    ttl_seconds: int = 8 * 3600,
    now: float | None = None,
) -> str:
    """A development token, signed with the configured HS secret. Refuses public-key setups:
    their private keys belong to the identity provider, not to this service."""
    algorithm = settings.jwt_algorithms[0]
    if not algorithm.startswith("HS") or settings.jwt_key is None:
        raise AuthenticationError(
            "minting needs an HS algorithm and GONGKAI_JWT_KEY holding its secret"
        )
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "roles": [role.value for role in roles],
        # so that this one token can be revoked (`gongkai revoke --jti`)
        "jti": uuid.uuid4().hex,
    }
    if department is not None:
        claims["dept"] = department
    if classified:
        claims["clearance"] = "classified"
    return jwt.encode(claims, settings.jwt_key, algorithm=algorithm, headers={"typ": "JWT"})

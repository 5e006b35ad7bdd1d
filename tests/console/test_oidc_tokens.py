"""The console's OpenID Connect client against ID tokens no real provider would issue: signed by
another key, for another audience or issuer, expired, without or with another nonce, with an
algorithm outside the allow-list. A real provider (tests/console/test_oidc.py) only ever signs
good tokens, so here the provider's three endpoints — discovery, key set, token — are served by
an httpx transport that hands out tokens signed with keys of this test. Each forged token is
refused with its reason; the good one passes, so every refusal is the token's fault."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from api.auth import LEEWAY_SECONDS
from api.console.oidc import OidcClient, OidcError
from api.settings import OidcSettings

ISSUER = "https://id.example.gov.cn"
CLIENT = "gongkai-console"
NOW = 1_800_000_000.0
SETTINGS = OidcSettings(ISSUER, CLIENT, "client-secret", "https://console.example.gov.cn/console")
PROVIDER_KEY = generate_private_key(SECP256R1())
STRANGER_KEY = generate_private_key(SECP256R1())
KID = "provider-1"


def jwks() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(PROVIDER_KEY.public_key()))
    return {"keys": [public | {"kid": KID, "use": "sig", "alg": "ES256"}]}


def provider(token: Callable[[str], str]) -> httpx.MockTransport:
    """The provider's endpoints; the token endpoint answers `token(nonce)`, the nonce being the
    one the sign-in sent (remembered from the authorization URL)."""
    sent: dict[str, str] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/auth",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                },
            )
        if path == "/jwks":
            return httpx.Response(200, json=jwks())
        if path == "/token":
            return httpx.Response(200, json={"id_token": token(sent["nonce"])})
        return httpx.Response(404)

    transport = httpx.MockTransport(handle)
    transport.sent = sent  # type: ignore[attr-defined]
    return transport


def claims(sent: str, /, **changes: Any) -> dict[str, Any]:
    base = {
        "iss": ISSUER,
        "sub": "staff-0042",
        "aud": CLIENT,
        "iat": int(NOW) - 10,
        "exp": int(NOW) + 300,
        "nonce": sent,
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def signed(payload: dict[str, Any], key: Any = PROVIDER_KEY, alg: str = "ES256") -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": KID})


async def sign_in(token: Callable[[str], str]) -> str:
    """A whole sign-in with the provider's token: the subject, or the refusal's reason."""
    transport = provider(token)
    client = OidcClient(SETTINGS, "s" * 40, transport=transport)
    url, cookie = await client.start(NOW)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    transport.sent["nonce"] = query["nonce"]  # type: ignore[attr-defined]
    try:
        verified = await client.finish({"state": query["state"], "code": "c"}, cookie, NOW)
    except OidcError as refused:
        return f"refused: {refused.reason}"
    return verified.subject


async def test_the_good_token_signs_in() -> None:
    assert await sign_in(lambda nonce: signed(claims(nonce))) == "staff-0042"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda n: signed(claims(n), STRANGER_KEY), "Signature verification failed"),
        (lambda n: signed(claims(n, aud="another-client")), "Audience doesn't match"),
        (lambda n: signed(claims(n, iss="https://evil.example")), "Invalid issuer"),
        (lambda n: signed(claims(n, exp=int(NOW) - LEEWAY_SECONDS)), "expired"),
        (lambda n: signed(claims(n, iat=int(NOW) + LEEWAY_SECONDS + 1)), "not valid yet"),
        (lambda n: signed(claims(n, nonce=None)), 'missing the "nonce" claim'),
        (lambda n: signed(claims("another-nonce")), "nonce differs"),
        # outside the public-key allow-list: no algorithm is accepted for it
        (lambda n: signed(claims(n), "h" * 40, "HS256"), '"algorithms"'),
        (lambda n: signed(claims(n), None, "none"), '"algorithms"'),
    ],
    ids=[
        "another key",
        "another audience",
        "another issuer",
        "expired",
        "issued in the future",
        "no nonce",
        "another nonce",
        "an HMAC algorithm",
        "alg none",
    ],
)
async def test_a_forged_token_is_refused_with_its_reason(
    token: Callable[[str], str], reason: str
) -> None:
    answer = await sign_in(token)
    assert answer.startswith("refused:") and reason in answer, answer


async def test_the_time_limits_hold_on_both_sides_of_the_leeway() -> None:
    # the other side of the refusals above: just inside the leeway (api/auth.py) passes
    late = int(NOW) - LEEWAY_SECONDS + 1
    assert await sign_in(lambda n: signed(claims(n, exp=late))) == "staff-0042"
    early = int(NOW) + LEEWAY_SECONDS
    assert await sign_in(lambda n: signed(claims(n, iat=early))) == "staff-0042"

"""Console sign-in through the organisation's OpenID Connect provider (issue #17): the
authorization code flow with PKCE (RFC 7636, S256), as OpenID Connect Core §3.1 sets it out.

1. `start`: a fresh `state`, `nonce` and code verifier go into a short-lived signed cookie (the
   flow cookie: SameSite=Lax, so that the provider's redirect back, a cross-site navigation,
   carries it), and the browser is sent to the provider's authorization endpoint (authlib builds
   the request and the code challenge).
2. `finish`, at the callback: the `state` must be the cookie's; the code is exchanged at the
   token endpoint (client_secret_basic, with the verifier); the ID token's signature is checked
   against the provider's published keys, then its `iss`, `aud`, `exp`, `iat` and `nonce`
   (PyJWT, as for the API's own tokens, with the times against the console's clock).

The verified (`iss`, `sub`) pair signs in as the local account linked to it
(`accounts.sign_in_identity`); the account's roles, department and clearance apply, never
claims from the provider, which the finance bureau does not control.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from itsdangerous import BadSignature, URLSafeSerializer

from api.auth import AuthenticationError, check_times
from api.settings import OidcSettings

FLOW_COOKIE = "gk_console_oidc"
FLOW_PATH = "/console/sign-in/oidc"
#: How long a sign-in at the provider may take, from leaving the console to coming back.
FLOW_SECONDS = 600
#: ID token signatures accepted: public-key algorithms only (RFC 8725 §2.1, §3.1).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
TIMEOUT = httpx.Timeout(10.0)


class OidcError(Exception):
    """The sign-in cannot be completed: `message` is for the person (in Chinese), `reason` for
    the audit log."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Verified:
    issuer: str
    subject: str


class OidcClient:
    def __init__(
        self,
        settings: OidcSettings,
        secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.flows = URLSafeSerializer(secret, salt="gongkai-console-oidc")
        self.transport = transport
        self._document: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.console_url}/sign-in/oidc/callback"

    async def _get(self, url: str) -> dict[str, Any]:
        async with httpx.AsyncClient(transport=self.transport, timeout=TIMEOUT) as client:
            response = await client.get(url)
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    async def document(self) -> dict[str, Any]:
        """The provider's discovery document, read once; its `issuer` must be the configured
        one exactly (OpenID Connect Discovery §4.3)."""
        if self._document is None:
            try:
                found = await self._get(f"{self.settings.issuer}/.well-known/openid-configuration")
            except (httpx.HTTPError, ValueError) as error:
                raise OidcError("暂时无法连接统一身份认证服务", f"discovery: {error}") from None
            if found.get("issuer") != self.settings.issuer:
                raise OidcError("统一身份认证服务配置有误", "discovery: another issuer")
            self._document = found
        return self._document

    async def start(self, now: float) -> tuple[str, str]:
        """The provider's authorization URL for a new sign-in, and the flow cookie's value."""
        document = await self.document()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(
            document["authorization_endpoint"],
            self.settings.client_id,
            "code",
            redirect_uri=self.redirect_uri,
            scope="openid",
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        cookie = self.flows.dumps({"state": state, "nonce": nonce, "verifier": verifier, "at": now})
        return url, cookie

    async def finish(self, params: Mapping[str, str], cookie: str | None, now: float) -> Verified:
        """The provider's verified user, from the callback's query and the flow cookie."""
        flow = self._flow(cookie, now)
        if "error" in params:
            error = str(params["error"])[:100]
            raise OidcError("统一身份认证服务未完成登录", f"provider: {error}")
        if not hmac.compare_digest(str(params.get("state", "")), flow["state"]):
            raise OidcError("登录请求已失效，请重新登录", "state differs")
        code = str(params.get("code", ""))
        if not code:
            raise OidcError("登录请求已失效，请重新登录", "no code")
        id_token = await self._exchange(code, flow["verifier"])
        claims = await self._verify(id_token, now)
        if not hmac.compare_digest(str(claims.get("nonce", "")), flow["nonce"]):
            raise OidcError("登录请求已失效，请重新登录", "nonce differs")
        return Verified(self.settings.issuer, str(claims["sub"]))

    def _flow(self, cookie: str | None, now: float) -> dict[str, Any]:
        try:
            flow: dict[str, Any] = self.flows.loads(cookie or "")
        except BadSignature:
            raise OidcError("登录请求已失效，请重新登录", "no flow cookie") from None
        if not 0 <= now - float(flow["at"]) <= FLOW_SECONDS:
            raise OidcError("登录请求已超时，请重新登录", "flow expired")
        return flow

    async def _exchange(self, code: str, verifier: str) -> str:
        document = await self.document()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
        }
        auth = (self.settings.client_id, self.settings.client_secret)
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=TIMEOUT) as client:
                response = await client.post(document["token_endpoint"], data=data, auth=auth)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise OidcError("暂时无法连接统一身份认证服务", f"token: {error}") from None
        if response.status_code != 200 or not isinstance(body.get("id_token"), str):
            refused = str(body.get("error", response.status_code))[:100]
            raise OidcError("统一身份认证服务未完成登录", f"token: {refused}")
        return str(body["id_token"])

    async def _verify(self, id_token: str, now: float) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
            key = await self._key(str(header.get("kid", "")))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=[header["alg"]] if header.get("alg") in ALGORITHMS else [],
                audience=self.settings.client_id,
                issuer=self.settings.issuer,
                options={
                    "require": ["iss", "sub", "aud", "exp", "iat", "nonce"],
                    # PyJWT reads the wall clock: the times are checked against the console's
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
            check_times(claims, now)
        except (jwt.PyJWTError, AuthenticationError, KeyError) as error:
            raise OidcError("统一身份认证服务的凭证无效", f"id_token: {error}") from None
        return claims

    async def _key(self, kid: str) -> jwt.PyJWK:
        """The provider's signing key `kid`; its key set is read again once for a key it did
        not have (the provider rotated its keys)."""
        for fresh in (False, True):
            if self._keys is None or fresh:
                document = await self.document()
                try:
                    self._keys = jwt.PyJWKSet.from_dict(await self._get(document["jwks_uri"]))
                except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
                    raise OidcError("暂时无法连接统一身份认证服务", f"jwks: {error}") from None
            for key in self._keys.keys:
                if key.key_id == kid:
                    return key
        raise OidcError("统一身份认证服务的凭证无效", f"id_token: unknown key {kid!r}")

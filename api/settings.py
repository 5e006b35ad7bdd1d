"""Settings, read once from the environment at start-up (decisions.md D17).

`load()` checks every value and raises `SettingsError` naming the variable and what is wrong,
so a malformed setting stops the process before it serves anything. Libraries never read the
environment: they receive these values as arguments.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from storage.objects import open_store

PREFIX = "GONGKAI_"
#: Hosts where a plain-http OpenID Connect provider or console address is accepted.
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
DEFAULT_DATABASE_URL = "sqlite://var/gongkai.sqlite3"
DEFAULT_STORE_URL = "file://var/store"
#: RFC 8725 §3.1: an allow-list; "none" is never accepted.
KNOWN_ALGORITHMS = frozenset(
    {
        "HS256",
        "HS384",
        "HS512",
        "RS256",
        "RS384",
        "RS512",
        "ES256",
        "ES384",
        "ES512",
        "PS256",
        "PS384",
        "PS512",
        "EdDSA",
    }
)
#: RFC 7518 §3.2: an HMAC key at least as long as the hash.
MIN_HS_KEY_BYTES = 32


class SettingsError(ValueError):
    """A setting is malformed; the message names the environment variable."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{PREFIX}{name}: {message}")
        self.name = PREFIX + name


@dataclass(frozen=True)
class OidcSettings:
    """The console's OpenID Connect client: the provider's issuer URL (its discovery document is
    `<issuer>/.well-known/openid-configuration`), this client's id and secret, and the console's
    public address, where the provider sends the browser back (`<console_url>/sign-in/oidc/
    callback`)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    console_url: str


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    #: streaming replicas of a PostgreSQL primary, for the public API only (api/replicas.py)
    database_read_urls: tuple[str, ...] = ()
    store_url: str = DEFAULT_STORE_URL
    s3_access_key: str | None = None
    s3_secret_key: str | None = field(default=None, repr=False)
    public_base_url: str = "http://127.0.0.1:8000/open"
    cors_origins: tuple[str, ...] = ()
    max_upload_bytes: int = 20 * 1024 * 1024
    data_license: str = "CC-BY-4.0"
    jwt_algorithms: tuple[str, ...] = ("HS256",)
    jwt_key: str | None = field(default=None, repr=False)
    jwt_jwks_file: Path | None = None
    jwt_issuer: str = "gongkai"
    jwt_audience: str = "gongkai-internal"
    #: ``json`` or ``console`` (api/logs.py)
    log_format: str = "json"
    #: (host, port) of the separate /metrics listener of `gongkai serve`; None: no metrics
    metrics_address: tuple[str, int] | None = None
    #: ``off``, ``otlp`` or ``console`` (api/tracing.py; needs `gongkai[tracing]`)
    tracing: str = "off"
    #: signs the web console's session cookies (api/console/); None: a random one per process
    #: in development, and no console in production
    console_secret: str | None = field(default=None, repr=False)
    #: the organisation's OpenID Connect provider for console sign-in (api/console/oidc.py);
    #: None: local accounts only
    oidc: OidcSettings | None = None
    #: the Ed25519 private key (PEM) that signs manifests and catalogs (publishers/signing.py);
    #: None: a development key in var/, and no publishing in production
    signing_key_file: Path | None = None

    @property
    def production(self) -> bool:
        return self.env == "production"


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SettingsError(name, f"must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _database_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("sqlite", "postgres", "asyncpg"):
        raise SettingsError(
            "DATABASE_URL", f"scheme must be sqlite:// or postgres://, not {parts.scheme or '?'}"
        )
    if parts.scheme == "sqlite" and not (parts.netloc + parts.path):
        raise SettingsError("DATABASE_URL", "sqlite:// needs a file path")
    if parts.scheme != "sqlite" and not parts.path.strip("/"):
        raise SettingsError("DATABASE_URL", "a PostgreSQL URL needs a database name")
    return value


def _read_urls(value: str | None, primary: str) -> tuple[str, ...]:
    """``GONGKAI_DATABASE_READ_URL``: one PostgreSQL URL, or several separated by commas."""
    if value is None:
        return ()
    urls = tuple(u.strip() for u in value.split(",") if u.strip())
    if not urls:
        raise SettingsError("DATABASE_READ_URL", "name at least one PostgreSQL URL")
    if urlsplit(primary).scheme == "sqlite":
        raise SettingsError(
            "DATABASE_READ_URL", "read replicas need GONGKAI_DATABASE_URL on PostgreSQL"
        )
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql", "asyncpg") or not parts.netloc:
            raise SettingsError(
                "DATABASE_READ_URL", f"must be postgres:// URLs, not {parts.scheme or '?'}://"
            )
        if not parts.path.strip("/"):
            raise SettingsError("DATABASE_READ_URL", f"{url!r} needs a database name")
    if len(set(urls)) != len(urls):
        raise SettingsError("DATABASE_READ_URL", "names a replica twice")
    return urls


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(name, f"must be a whole number, not {value!r}") from None
    if number <= 0:
        raise SettingsError(name, "must be greater than 0")
    return number


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(name, f"must be an absolute http(s) URL, not {value!r}")
    return value.rstrip("/")


def _algorithms(value: str) -> tuple[str, ...]:
    names = tuple(a.strip() for a in value.split(",") if a.strip())
    if not names:
        raise SettingsError("JWT_ALGORITHMS", "name at least one algorithm")
    for name in names:
        if name not in KNOWN_ALGORITHMS:
            raise SettingsError(
                "JWT_ALGORITHMS", f"{name!r} is not allowed; use some of {sorted(KNOWN_ALGORITHMS)}"
            )
    hs = {n for n in names if n.startswith("HS")}
    if hs and hs != set(names):
        # RFC 8725 §2.1: mixing HMAC and public-key algorithms invites key confusion.
        raise SettingsError("JWT_ALGORITHMS", "do not mix HS* with public-key algorithms")
    return names


def _jwt_key(value: str | None, algorithms: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    is_pem = value.lstrip().startswith("-----BEGIN")
    if algorithms[0].startswith("HS"):
        if is_pem:
            raise SettingsError("JWT_KEY", "HS algorithms take a shared secret, not a PEM key")
        if len(value.encode()) < MIN_HS_KEY_BYTES:
            raise SettingsError("JWT_KEY", f"an HS secret needs at least {MIN_HS_KEY_BYTES} bytes")
    elif not is_pem:
        raise SettingsError("JWT_KEY", f"{algorithms[0]} needs a PEM public key")
    return value


def _jwks_file(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    try:
        keys = json.loads(path.read_text(encoding="utf-8")).get("keys")
    except (OSError, ValueError, AttributeError) as error:
        raise SettingsError(
            "JWT_JWKS_FILE", f"cannot read a JSON key set from {path}: {error}"
        ) from None
    if not isinstance(keys, list) or not all(isinstance(k, dict) and k.get("kid") for k in keys):
        raise SettingsError("JWT_JWKS_FILE", "needs {'keys': [...]} where every key has a 'kid'")
    return path


def _address(name: str, value: str | None) -> tuple[str, int] | None:
    """``HOST:PORT`` (``[::1]:9100`` for IPv6) of a listener."""
    if value is None:
        return None
    host, separator, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(name, f"must be HOST:PORT, e.g. 127.0.0.1:9100, not {value!r}")
    return host, int(port)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def _tracing(value: str) -> str:
    choice = _choice("TRACING", value, ("off", "otlp", "console"))
    if choice != "off" and not _installed("opentelemetry.sdk"):
        raise SettingsError(
            "TRACING", f"{choice!r} needs OpenTelemetry: pip install 'gongkai[tracing]'"
        )
    return choice


def is_set(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``GONGKAI_<name>`` is given (not empty). `gongkai serve` lets the default of
    `GONGKAI_PUBLIC_BASE_URL` follow its --host and --port, but never an explicit value."""
    source = os.environ if environ is None else environ
    return bool(source.get(PREFIX + name))


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise `SettingsError` on the first malformed one."""
    source = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = source.get(PREFIX + name)
        return value if value not in (None, "") else None

    env = _choice("ENV", get("ENV") or "development", ("development", "production"))
    store_url = get("STORE_URL") or DEFAULT_STORE_URL
    access_key, secret_key = get("S3_ACCESS_KEY"), get("S3_SECRET_KEY")
    try:
        open_store(store_url, access_key, secret_key)
    except ValueError as error:
        raise SettingsError("STORE_URL", str(error)) from None
    algorithms = _algorithms(get("JWT_ALGORITHMS") or "HS256")
    cors = tuple(o.strip().rstrip("/") for o in (get("CORS_ORIGINS") or "").split(",") if o.strip())
    for origin in cors:
        if origin != "*":
            _http_url("CORS_ORIGINS", origin)
    database_url = _database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    return Settings(
        env=env,
        database_url=database_url,
        database_read_urls=_read_urls(get("DATABASE_READ_URL"), database_url),
        store_url=store_url,
        s3_access_key=access_key,
        s3_secret_key=secret_key,
        public_base_url=_http_url(
            "PUBLIC_BASE_URL", get("PUBLIC_BASE_URL") or Settings.public_base_url
        ),
        cors_origins=cors,
        max_upload_bytes=_positive_int(
            "MAX_UPLOAD_BYTES", get("MAX_UPLOAD_BYTES") or str(Settings.max_upload_bytes)
        ),
        data_license=get("DATA_LICENSE") or Settings.data_license,
        jwt_algorithms=algorithms,
        jwt_key=_jwt_key(get("JWT_KEY"), algorithms),
        jwt_jwks_file=_jwks_file(get("JWT_JWKS_FILE")),
        jwt_issuer=get("JWT_ISSUER") or Settings.jwt_issuer,
        jwt_audience=get("JWT_AUDIENCE") or Settings.jwt_audience,
        log_format=_choice("LOG_FORMAT", get("LOG_FORMAT") or "json", ("json", "console")),
        metrics_address=_address("METRICS_ADDRESS", get("METRICS_ADDRESS")),
        tracing=_tracing(get("TRACING") or "off"),
        console_secret=_console_secret(get("CONSOLE_SECRET")),
        oidc=_oidc(get),
        signing_key_file=_signing_key_file(get("SIGNING_KEY_FILE")),
    )


def _signing_key_file(value: str | None) -> Path | None:
    """Only that the file is there: it is read (and its key checked) when a publisher starts,
    and its content never appears in an error."""
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise SettingsError("SIGNING_KEY_FILE", f"{path} is not a file")
    return path


def _oidc(get: Callable[[str], str | None]) -> OidcSettings | None:
    """All four settings or none. The issuer and the console's address are https, except on
    this machine's loopback (a provider run beside the console in development and tests)."""
    names = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "CONSOLE_URL")
    values = {name: get(name) for name in names}
    given = [name for name in names if values[name] is not None]
    if not given:
        return None
    missing = [PREFIX + name for name in names if values[name] is None]
    if missing:
        raise SettingsError(given[0], f"OpenID Connect sign-in also needs {', '.join(missing)}")
    issuer = _secure_url("OIDC_ISSUER", str(values["OIDC_ISSUER"]))
    console_url = _secure_url("CONSOLE_URL", str(values["CONSOLE_URL"]))
    return OidcSettings(
        issuer=issuer,
        client_id=str(values["OIDC_CLIENT_ID"]),
        client_secret=str(values["OIDC_CLIENT_SECRET"]),
        console_url=console_url,
    )


def _secure_url(name: str, value: str) -> str:
    url = _http_url(name, value)
    if urlsplit(url).scheme != "https" and urlsplit(url).hostname not in LOOPBACK:
        raise SettingsError(
            name, f"must be an https URL (http only on the loopback), not {value!r}"
        )
    return url


def _console_secret(value: str | None) -> str | None:
    if value is not None and len(value.encode()) < MIN_HS_KEY_BYTES:
        raise SettingsError("CONSOLE_SECRET", f"needs at least {MIN_HS_KEY_BYTES} bytes")
    return value

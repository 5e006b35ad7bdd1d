"""Settings: defaults, and a malformed setting stops the start with a message naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api import settings
from api.cli import main
from api.settings import SettingsError

SECRET = "s" * 32


def test_defaults() -> None:
    loaded = settings.load({})
    assert loaded.env == "development"
    assert loaded.database_url == "sqlite://var/gongkai.sqlite3"
    assert loaded.store_url == "file://var/store"
    assert loaded.jwt_algorithms == ("HS256",)
    assert loaded.jwt_key is None
    assert loaded.max_upload_bytes == 20 * 1024 * 1024
    assert not loaded.production


def test_values_are_read() -> None:
    loaded = settings.load(
        {
            "GONGKAI_ENV": "production",
            "GONGKAI_DATABASE_URL": "postgres://gongkai@db:5432/gongkai",
            "GONGKAI_STORE_URL": "s3+http://minio:9000/gongkai",
            "GONGKAI_S3_ACCESS_KEY": "ak",
            "GONGKAI_S3_SECRET_KEY": "sk",
            "GONGKAI_JWT_KEY": SECRET,
            "GONGKAI_CORS_ORIGINS": "https://portal.example.gov.cn, https://b.example",
            "GONGKAI_MAX_UPLOAD_BYTES": "1000",
        }
    )
    assert loaded.production
    assert loaded.cors_origins == ("https://portal.example.gov.cn", "https://b.example")
    assert loaded.max_upload_bytes == 1000
    assert "sk" not in repr(loaded) and SECRET not in repr(loaded)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("ENV", "prod", "must be one of development, production"),
        ("DATABASE_URL", "mysql://x/y", "scheme must be sqlite:// or postgres://"),
        ("DATABASE_URL", "postgres://127.0.0.1:5432", "needs a database name"),
        ("STORE_URL", "ftp://host/bucket", ""),
        ("MAX_UPLOAD_BYTES", "10MB", "whole number"),
        ("MAX_UPLOAD_BYTES", "0", "greater than 0"),
        ("PUBLIC_BASE_URL", "example.org", "absolute http(s) URL"),
        ("CORS_ORIGINS", "portal.gov.cn", "absolute http(s) URL"),
        ("JWT_ALGORITHMS", "none", "not allowed"),
        ("JWT_ALGORITHMS", "HS256,RS256", "do not mix"),
        ("JWT_KEY", "short", "at least 32 bytes"),
        ("JWT_JWKS_FILE", "/nonexistent/jwks.json", "cannot read"),
    ],
)
def test_malformed_settings_name_the_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings.load({f"GONGKAI_{name}": value})
    assert caught.value.name == f"GONGKAI_{name}"
    assert str(caught.value).startswith(f"GONGKAI_{name}: ")
    assert says in str(caught.value)


def test_public_key_algorithms_need_a_pem_key() -> None:
    with pytest.raises(SettingsError, match="PEM public key"):
        settings.load({"GONGKAI_JWT_ALGORITHMS": "RS256", "GONGKAI_JWT_KEY": SECRET})


def test_jwks_file_needs_kids(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "RSA"}]}))
    with pytest.raises(SettingsError, match="'kid'"):
        settings.load({"GONGKAI_JWT_JWKS_FILE": str(path)})
    path.write_text(json.dumps({"keys": [{"kty": "RSA", "kid": "2026-11"}]}))
    assert settings.load({"GONGKAI_JWT_JWKS_FILE": str(path)}).jwt_jwks_file == path


def test_cli_stops_on_a_malformed_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GONGKAI_DATABASE_URL", "oracle://x")
    assert main(["migrate"]) == 2
    assert "GONGKAI_DATABASE_URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:9100", ("127.0.0.1", 9100)),
        ("[::1]:9100", ("::1", 9100)),
        ("monitor.internal:1", ("monitor.internal", 1)),
        ("0.0.0.0:65535", ("0.0.0.0", 65535)),  # noqa: S104 - a value, not a bind
    ],
)
def test_metrics_address(value: str, expected: tuple[str, int]) -> None:
    assert settings.load({"GONGKAI_METRICS_ADDRESS": value}).metrics_address == expected


@pytest.mark.parametrize("value", ["9100", ":9100", "host:0", "host:65536", "host:port", "host:"])
def test_a_malformed_metrics_address_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="GONGKAI_METRICS_ADDRESS: must be HOST:PORT"):
        settings.load({"GONGKAI_METRICS_ADDRESS": value})


def test_metrics_are_off_unless_an_address_is_given() -> None:
    assert settings.load({}).metrics_address is None


def test_log_format_and_tracing_choices() -> None:
    assert settings.load({"GONGKAI_LOG_FORMAT": "console"}).log_format == "console"
    with pytest.raises(SettingsError, match="GONGKAI_LOG_FORMAT: must be one of json, console"):
        settings.load({"GONGKAI_LOG_FORMAT": "xml"})
    with pytest.raises(SettingsError, match="GONGKAI_TRACING: must be one of off, otlp, console"):
        settings.load({"GONGKAI_TRACING": "jaeger"})
    assert settings.load({}).tracing == "off"


def test_tracing_needs_the_extra_installed() -> None:
    import importlib.util

    try:
        installed = importlib.util.find_spec("opentelemetry.sdk") is not None
    except ModuleNotFoundError:
        installed = False
    if installed:
        assert settings.load({"GONGKAI_TRACING": "console"}).tracing == "console"
    else:
        with pytest.raises(SettingsError, match=r"pip install 'gongkai\[tracing\]'"):
            settings.load({"GONGKAI_TRACING": "otlp"})


PRIMARY = {"GONGKAI_DATABASE_URL": "postgres://gongkai@db-1:5432/gongkai"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgres://reader@db-2:5432/gongkai", ("postgres://reader@db-2:5432/gongkai",)),
        (
            "postgres://r@db-2/gongkai, postgresql://r@db-3/gongkai",
            ("postgres://r@db-2/gongkai", "postgresql://r@db-3/gongkai"),
        ),
    ],
)
def test_read_replicas_are_one_or_more_postgres_urls(value: str, expected: tuple[str, ...]) -> None:
    loaded = settings.load({**PRIMARY, "GONGKAI_DATABASE_READ_URL": value})
    assert loaded.database_read_urls == expected
    assert settings.load(PRIMARY).database_read_urls == ()  # none: the primary answers


@pytest.mark.parametrize(
    ("primary", "value", "says"),
    [
        (PRIMARY, "sqlite://var/r.sqlite3", "postgres://"),
        (PRIMARY, "postgres://r@db-2", "needs a database name"),
        (PRIMARY, " , ", "at least one"),
        (PRIMARY, "postgres://r@db-2/g,postgres://r@db-2/g", "twice"),
        ({}, "postgres://r@db-2/gongkai", "GONGKAI_DATABASE_URL on PostgreSQL"),
    ],
)
def test_a_bad_read_replica_setting_names_the_variable(
    primary: dict[str, str], value: str, says: str
) -> None:
    with pytest.raises(settings.SettingsError, match="GONGKAI_DATABASE_READ_URL") as caught:
        settings.load({**primary, "GONGKAI_DATABASE_READ_URL": value})
    assert says in str(caught.value)

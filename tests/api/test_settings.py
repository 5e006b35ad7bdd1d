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

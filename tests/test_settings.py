"""Settings from environment variables: defaults, validation messages, secrets never shown."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from app.settings import DEFAULT_GATEWAY_URL, DEFAULT_V1_GATEWAY_URL, RedactSecrets, Secret, load_settings


def test_defaults_without_any_variable() -> None:
    settings, errors = load_settings({})
    assert errors == []
    assert settings.gateway_url == DEFAULT_GATEWAY_URL
    assert settings.api_version == "v2"
    assert settings.port == 8080
    assert settings.data_dir == Path("/data")
    assert not settings.has_credentials


def test_environment_variables_are_read_and_command_line_wins() -> None:
    env = {
        "CLIENT_ID": "cli_" + "a" * 43,
        "CLIENT_SECRET": "s" * 86,
        "GATEWAY_URL": "http://127.0.0.1:8800/",
        "USAGE_POINTS": "09111111111111, 09222222222222",
        "PORT": "8099",
        "DATA_DIR": "/tmp/x",
        "MYELECTRICALDATA_NOW": "2026-11-28T10:00:00+00:00",
    }
    settings, errors = load_settings(env, overrides={"port": 9000, "host": None})
    assert errors == []
    assert settings.has_credentials
    assert settings.gateway_url == "http://127.0.0.1:8800"
    assert settings.usage_points == ("09111111111111", "09222222222222")
    assert settings.port == 9000
    assert settings.fixed_now == dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)


def test_each_bad_field_is_named_once_and_keeps_its_default() -> None:
    settings, errors = load_settings(
        {"GATEWAY_URL": "ftp://x", "USAGE_POINTS": "123", "API_VERSION": "v3", "CORRECTION_DAYS": "0"}
    )
    assert errors == [
        "GATEWAY_URL: expected an http:// or https:// URL",
        "API_VERSION: expected v1 or v2",
        "USAGE_POINTS: a usage point (PDL) is 14 digits",
        "CORRECTION_DAYS: expected a number of days from 2 to 60",
    ]
    assert settings.gateway_url == DEFAULT_GATEWAY_URL
    assert settings.correction_days == 7


def test_legacy_tokens_per_usage_point() -> None:
    settings, errors = load_settings(
        {"API_VERSION": "V1", "V1_TOKENS": "09111111111111:tok-a,09222222222222:tok-b"}
    )
    assert errors == []
    assert settings.api_version == "v1"
    assert settings.gateway_url == DEFAULT_V1_GATEWAY_URL
    assert {pdl: t.reveal() for pdl, t in settings.v1_tokens.items()} == {
        "09111111111111": "tok-a",
        "09222222222222": "tok-b",
    }
    assert settings.has_credentials
    _, errors = load_settings({"V1_TOKENS": "nocolon"})
    assert errors == ["V1_TOKENS: expected PDL:token pairs separated by commas"]


@given(st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=90))
def test_a_secret_never_shows_itself(value: str) -> None:
    secret = Secret(value)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}"):
        assert value not in text or value in "Secret('**********')"
    assert secret.reveal() == value


def test_log_redaction_filter_replaces_known_secrets(caplog: object) -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token is %s", (secret,), None)
    assert RedactSecrets([secret]).filter(record)
    assert secret not in record.getMessage()
    assert "**********" in record.getMessage()

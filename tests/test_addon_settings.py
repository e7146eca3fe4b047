"""Settings as an add-on: /data/options.json over environment variables, each bad option named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.settings import Secret, load_settings
from tests.fake_supervisor import addon_config

CLIENT_ID = "cli_" + "o" * 43
CLIENT_SECRET = "options-secret-" + "s" * 40


def _options(tmp_path: Path, **values: Any) -> dict[str, str]:
    options = dict(addon_config()["options"]) | values
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    return {"OPTIONS_FILE": str(path)}


def test_the_supervisor_defaults_give_an_unconfigured_add_on(tmp_path: Path) -> None:
    settings, errors = load_settings(_options(tmp_path))
    assert errors == []
    assert settings.addon
    assert not settings.has_credentials
    assert settings.discovery_prefix == "homeassistant"
    assert settings.ingress_port == 8099 and settings.ingress_proxy == "172.30.32.2"


def test_options_win_over_environment_and_the_command_line_wins_over_both(tmp_path: Path) -> None:
    env = _options(
        tmp_path,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        mqtt_host="broker.lan",
        mqtt_username="med",
        mqtt_password="mqtt-password",
        mqtt_tls=True,
        log_level="debug",
        web_password="",
    ) | {
        "CLIENT_ID": "cli_env",
        "MQTT_HOST": "env-broker",
        "LOG_LEVEL": "error",
        "WEB_PASSWORD": "from-env-password",
        "DATABASE_URL": "postgresql://u@db/med",
        "SUPERVISOR_TOKEN": "tok",
    }
    settings, errors = load_settings(env, overrides={"log_level": "warning"})
    assert errors == []
    assert settings.client_id == Secret(CLIENT_ID)  # option over CLIENT_ID
    assert settings.mqtt_host == "broker.lan"
    assert settings.mqtt_port == 8883  # TLS without a port
    assert settings.mqtt_tls
    assert settings.log_level == "warning"  # command line
    assert settings.web_password == Secret("from-env-password")  # an empty option does not erase it
    assert settings.database_url == "postgresql://u@db/med"  # not an option: env only
    assert settings.supervisor_token == Secret("tok")
    assert CLIENT_SECRET not in repr(settings) and "mqtt-password" not in repr(settings)
    assert {CLIENT_SECRET, "mqtt-password", "from-env-password", "tok"} <= set(settings.secrets())


def test_each_bad_option_is_named_by_its_option_name(tmp_path: Path) -> None:
    env = _options(
        tmp_path,
        gateway_url="ftp://nope",
        mqtt_port=70000,
        discovery_prefix="home/#",
        v1_tokens=[{"usage_point_id": "123", "token": "x"}],
        unknown_key="dropped",
    )
    settings, errors = load_settings(env)
    assert sorted(errors) == [
        "discovery_prefix: expected an MQTT topic prefix without spaces, # or +",
        "gateway_url: expected an http:// or https:// URL",
        "mqtt_port: expected a port 1-65535",
        "v1_tokens: a usage point (PDL) is 14 digits",
    ]
    assert settings.mqtt_port == 1883 and settings.discovery_prefix == "homeassistant"


def test_legacy_tokens_from_the_options_form(tmp_path: Path) -> None:
    env = _options(
        tmp_path,
        api_version="v1",
        v1_tokens=[
            {"usage_point_id": "09111111111111", "token": "tok-a"},
            {"usage_point_id": "09222222222222", "token": "tok-b"},
        ],
    )
    settings, errors = load_settings(env)
    assert errors == []
    assert {p: t.reveal() for p, t in settings.v1_tokens.items()} == {
        "09111111111111": "tok-a",
        "09222222222222": "tok-b",
    }


def test_an_unreadable_options_file_is_reported_and_env_still_applies(tmp_path: Path) -> None:
    path = tmp_path / "options.json"
    path.write_text("{not json", encoding="utf-8")
    settings, errors = load_settings({"OPTIONS_FILE": str(path), "CLIENT_ID": "cli_x", "CLIENT_SECRET": "y"})
    assert errors == [f"{path}: cannot be read (JSONDecodeError); the add-on options are ignored"]
    assert settings.addon and settings.has_credentials


def test_without_options_file_nor_supervisor_token_it_is_standalone(tmp_path: Path) -> None:
    env = {
        "OPTIONS_FILE": str(tmp_path / "absent.json"),
        "MQTT_HOST": "10.0.0.2",
        "MQTT_PORT": "1884",
        "MQTT_TLS": "no",
        "HA_URL": "http://homeassistant.local:8123/",
        "HA_TOKEN": "long-lived",
    }
    settings, errors = load_settings(env)
    assert errors == []
    assert not settings.addon
    assert (settings.mqtt_host, settings.mqtt_port, settings.mqtt_tls) == ("10.0.0.2", 1884, False)
    assert settings.ha_url == "http://homeassistant.local:8123"


@given(st.integers(min_value=-100_000, max_value=100_000), st.booleans())
def test_ports_from_env_text_or_option_numbers_agree(port: int, as_option: bool) -> None:
    env: dict[str, str] = {"OPTIONS_FILE": "/nonexistent/options.json", "MQTT_PORT": str(port)}
    overrides = {"mqtt_port": port} if as_option else None
    settings, errors = load_settings({"OPTIONS_FILE": "/nonexistent"} if as_option else env, overrides)
    if 1 <= port <= 65535:
        assert errors == [] and settings.mqtt_port == port
    else:
        assert errors == [("mqtt_port" if as_option else "MQTT_PORT") + ": expected a port 1-65535"]
        assert settings.mqtt_port == 1883


@given(st.text(max_size=30))
def test_discovery_prefix_is_accepted_only_when_it_is_a_plain_topic(prefix: str) -> None:
    settings, errors = load_settings({"OPTIONS_FILE": "/nonexistent", "DISCOVERY_PREFIX": prefix})
    cleaned = prefix.strip().strip("/")
    if prefix == "":
        assert errors == [] and settings.discovery_prefix == "homeassistant"
    elif cleaned and not any(c in cleaned for c in "#+") and not any(c.isspace() for c in cleaned):
        assert errors == [] and settings.discovery_prefix == cleaned
    else:
        assert errors == ["DISCOVERY_PREFIX: expected an MQTT topic prefix without spaces, # or +"]


async def test_a_bad_option_is_named_on_the_dashboard_and_the_server_stays_up(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    from app.service import Service
    from app.web.app import create_app

    env = _options(tmp_path, mqtt_port=0, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    settings, errors = load_settings(env | {"DATA_DIR": str(tmp_path / "data")})
    service = Service(settings, config_errors=errors)
    await service.start(schedule=False)
    client = await aiohttp_client(create_app(service))
    page = await (await client.get("/")).text()
    assert "mqtt_port: expected a port 1-65535" in page
    status = await (await client.get("/api/status")).json()
    assert status["state"] == "config_error"
    assert CLIENT_SECRET not in page and CLIENT_SECRET not in str(status)
    await service.stop()

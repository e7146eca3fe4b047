"""Settings from the add-on options (/data/options.json) or environment variables, validated with
voluptuous.

Precedence, lowest first: defaults < environment variables < add-on options < command line.
The add-on options are read when the program runs as a Home Assistant add-on: SUPERVISOR_TOKEN is
set or the options file (OPTIONS_FILE, default /data/options.json) exists. Options left empty
count as not set, so an environment variable still applies.

Invalid values never stop the program: `load_settings` returns the errors, one readable line per
bad field, which the log and the web UI show; the server stays up and nothing stored is touched.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import voluptuous as vol

from app import redaction
from app.redaction import RedactFilter

DEFAULT_GATEWAY_URL = "https://www.v2.myelectricaldata.fr/api"
DEFAULT_V1_GATEWAY_URL = "https://myelectricaldata.fr"
LOG_LEVELS = ("trace", "debug", "info", "notice", "warning", "error", "fatal")
DEFAULT_OPTIONS_FILE = "/data/options.json"
DEFAULT_SUPERVISOR_URL = "http://supervisor"
INGRESS_PORT = 8099  # the add-on ingress port (config.yaml default, so not written there)
INGRESS_PROXY = "172.30.32.2"  # the supervisor's address: the only peer allowed on the ingress port


class Secret:
    """A string that never shows itself in repr/str/f-strings (logs, pages, API answers)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    client_id: Secret = field(default_factory=lambda: Secret(""))
    client_secret: Secret = field(default_factory=lambda: Secret(""))
    gateway_url: str = DEFAULT_GATEWAY_URL
    api_version: str = "v2"
    v1_tokens: Mapping[str, Secret] = field(default_factory=dict)
    usage_points: tuple[str, ...] = ()
    database_url: str = ""
    data_dir: Path = Path("/data")
    log_level: str = "info"
    host: str = "0.0.0.0"
    port: int = 8080
    correction_days: int = 7
    demo: bool = False
    fixed_now: dt.datetime | None = None
    # MQTT: an explicit broker here wins over the one the supervisor offers (services/mqtt).
    mqtt_host: str = ""
    mqtt_port: int = 1883
    mqtt_username: str = ""
    mqtt_password: Secret = field(default_factory=lambda: Secret(""))
    mqtt_tls: bool = False
    discovery_prefix: str = "homeassistant"
    # Home Assistant Core for standalone installs (the add-on goes through the supervisor).
    ha_url: str = ""
    ha_token: Secret = field(default_factory=lambda: Secret(""))
    # Protects the direct port (add-on: 8080/tcp, off unless set; standalone: PORT).
    web_password: Secret = field(default_factory=lambda: Secret(""))
    # Add-on runtime (set when SUPERVISOR_TOKEN or the options file is there).
    addon: bool = False
    supervisor_url: str = DEFAULT_SUPERVISOR_URL
    supervisor_token: Secret = field(default_factory=lambda: Secret(""))
    ingress_port: int = INGRESS_PORT
    ingress_proxy: str = INGRESS_PROXY

    @property
    def has_credentials(self) -> bool:
        if self.api_version == "v1":
            return bool(self.v1_tokens)
        return bool(self.client_id) and bool(self.client_secret)

    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        values = [self.client_id.reveal(), self.client_secret.reveal()]
        values += [token.reveal() for token in self.v1_tokens.values()]
        values += [
            secret.reveal()
            for secret in (self.mqtt_password, self.ha_token, self.web_password, self.supervisor_token)
        ]
        return [value for value in values if value]


_PDL = re.compile(r"^\d{14}$")


def _pdl(value: Any) -> str:
    text = str(value).strip()
    if not _PDL.match(text):
        raise vol.Invalid("a usage point (PDL) is 14 digits")
    return text


def _pdl_list(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    items = value if isinstance(value, list | tuple) else re.split(r"[,;\s]+", str(value))
    return tuple(_pdl(item) for item in items if str(item).strip())


def _v1_tokens(value: Any) -> dict[str, Secret]:
    """`PDL:token,PDL:token` (env), a mapping, or the add-on's list of {usage_point_id, token}."""
    if value in (None, "", []):
        return {}
    pairs: list[tuple[Any, Any]]
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = []
        for item in value:
            if not isinstance(item, Mapping) or not item.get("usage_point_id") or not item.get("token"):
                raise vol.Invalid("each entry needs a usage_point_id and a token")
            pairs.append((item["usage_point_id"], item["token"]))
    else:
        pairs = []
        for item in re.split(r"[,;\s]+", str(value).strip()):
            if not item:
                continue
            if ":" not in item:
                raise vol.Invalid("expected PDL:token pairs separated by commas")
            pdl, token = item.split(":", 1)
            pairs.append((pdl, token))
    return {_pdl(pdl): Secret(str(token).strip()) for pdl, token in pairs}


def _url(value: Any) -> str:
    text = str(value or "").strip().rstrip("/")
    if not text:
        return ""
    if not re.match(r"^https?://[^\s/]+", text):
        raise vol.Invalid("expected an http:// or https:// URL")
    return text


def _host(value: Any) -> str:
    text = str(value or "").strip()
    if text and not re.match(r"^[A-Za-z0-9_.:\[\]-]+$", text):
        raise vol.Invalid("expected a host name or an IP address")
    return text


def _topic_prefix(value: Any) -> str:
    text = str(value or "").strip().strip("/")
    if not text or re.search(r"[#+\s]", text):
        raise vol.Invalid("expected an MQTT topic prefix without spaces, # or +")
    return text


def _ip(value: Any) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError as exc:
        raise vol.Invalid("expected an IP address") from exc


_PORT = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535), msg="expected a port 1-65535")


def _instant(value: Any) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise vol.Invalid("expected an ISO 8601 instant with its offset") from exc
    if instant.tzinfo is None:
        raise vol.Invalid("expected an ISO 8601 instant with its offset")
    return instant.astimezone(dt.UTC)


_SCHEMA = vol.Schema(
    {
        vol.Optional("client_id"): vol.All(str, vol.Strip),
        vol.Optional("client_secret"): vol.All(str, vol.Strip),
        vol.Optional("gateway_url"): _url,
        vol.Optional("api_version"): vol.All(vol.Lower, vol.In(["v1", "v2"]), msg="expected v1 or v2"),
        vol.Optional("v1_tokens"): _v1_tokens,
        vol.Optional("usage_points"): _pdl_list,
        vol.Optional("database_url"): vol.All(str, vol.Strip),
        vol.Optional("data_dir"): vol.All(str, vol.Length(min=1)),
        vol.Optional("log_level"): vol.All(
            vol.Lower, vol.In(LOG_LEVELS), msg="expected one of " + ", ".join(LOG_LEVELS)
        ),
        vol.Optional("host"): vol.All(str, vol.Length(min=1)),
        vol.Optional("port"): _PORT,
        vol.Optional("correction_days"): vol.All(
            vol.Coerce(int), vol.Range(min=2, max=60), msg="expected a number of days from 2 to 60"
        ),
        vol.Optional("fixed_now"): _instant,
        vol.Optional("mqtt_host"): _host,
        vol.Optional("mqtt_port"): _PORT,
        vol.Optional("mqtt_username"): vol.All(str, vol.Strip),
        vol.Optional("mqtt_password"): str,
        vol.Optional("mqtt_tls"): vol.All(vol.Boolean(), msg="expected true or false"),
        vol.Optional("discovery_prefix"): _topic_prefix,
        vol.Optional("ha_url"): _url,
        vol.Optional("ha_token"): vol.All(str, vol.Strip),
        vol.Optional("web_password"): vol.All(str, vol.Strip),
        vol.Optional("supervisor_url"): _url,
        vol.Optional("supervisor_token"): vol.All(str, vol.Strip),
        vol.Optional("ingress_port"): _PORT,
        vol.Optional("ingress_proxy"): _ip,
    },
    extra=vol.REMOVE_EXTRA,
)

ENV_VARIABLES = {
    "CLIENT_ID": "client_id",
    "CLIENT_SECRET": "client_secret",
    "GATEWAY_URL": "gateway_url",
    "API_VERSION": "api_version",
    "V1_TOKENS": "v1_tokens",
    "USAGE_POINTS": "usage_points",
    "DATABASE_URL": "database_url",
    "DATA_DIR": "data_dir",
    "LOG_LEVEL": "log_level",
    "HOST": "host",
    "PORT": "port",
    "CORRECTION_DAYS": "correction_days",
    "MYELECTRICALDATA_NOW": "fixed_now",
    "MQTT_HOST": "mqtt_host",
    "MQTT_PORT": "mqtt_port",
    "MQTT_USERNAME": "mqtt_username",
    "MQTT_PASSWORD": "mqtt_password",
    "MQTT_TLS": "mqtt_tls",
    "DISCOVERY_PREFIX": "discovery_prefix",
    "HA_URL": "ha_url",
    "HA_TOKEN": "ha_token",
    "WEB_PASSWORD": "web_password",
    "SUPERVISOR_URL": "supervisor_url",
    "SUPERVISOR_TOKEN": "supervisor_token",
    "INGRESS_PORT": "ingress_port",
    "INGRESS_PROXY": "ingress_proxy",
}

# What the add-on options form (config.yaml `schema`) may set; other keys are ignored.
ADDON_OPTIONS = (
    "client_id",
    "client_secret",
    "gateway_url",
    "api_version",
    "v1_tokens",
    "log_level",
    "mqtt_host",
    "mqtt_port",
    "mqtt_username",
    "mqtt_password",
    "mqtt_tls",
    "discovery_prefix",
    "web_password",
)
_SECRET_KEYS = (
    "client_id",
    "client_secret",
    "mqtt_password",
    "ha_token",
    "web_password",
    "supervisor_token",
)


def load_settings(
    env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> tuple[Settings, list[str]]:
    """Settings from environment variables, then the add-on options (when running as an add-on), then
    `overrides` (command line). Returns (settings, errors): a bad field keeps its default and is
    reported as `NAME: what is wrong` (the variable's or the option's name)."""
    env = os.environ if env is None else env
    raw: dict[str, tuple[str, Any]] = {
        key: (name, env[name]) for name, key in ENV_VARIABLES.items() if env.get(name, "") != ""
    }
    errors: list[str] = []
    options_file = Path(env.get("OPTIONS_FILE") or DEFAULT_OPTIONS_FILE)
    addon = bool(env.get("SUPERVISOR_TOKEN")) or options_file.is_file()
    if addon:
        options, problem = read_options(options_file)
        if problem:
            errors.append(problem)
        for key in ADDON_OPTIONS:
            if options.get(key) not in (None, "", []):
                raw[key] = (key, options[key])
    raw.update({key: (key, value) for key, value in (overrides or {}).items() if value is not None})
    values: dict[str, Any] = {}
    for key, (name, value) in raw.items():
        try:
            values.update(_SCHEMA({key: value}))
        except vol.MultipleInvalid as exc:
            errors.append(f"{name}: {exc.errors[0].msg}")
    settings = _build(values)
    return (replace(settings, addon=True) if addon else settings), errors


def read_options(path: Path) -> tuple[dict[str, Any], str | None]:
    """The supervisor's options file as a dict, or ({}, a readable problem)."""
    try:
        options = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, f"{path}: cannot be read ({type(exc).__name__}); the add-on options are ignored"
    if not isinstance(options, dict):
        return {}, f"{path}: expected a JSON object; the add-on options are ignored"
    return options, None


def _build(values: Mapping[str, Any]) -> Settings:
    kwargs: dict[str, Any] = {}
    for key in (
        "gateway_url",
        "api_version",
        "usage_points",
        "database_url",
        "log_level",
        "host",
        "port",
        "mqtt_host",
        "mqtt_username",
        "discovery_prefix",
        "ha_url",
        "supervisor_url",
    ):
        if values.get(key) not in (None, ""):
            kwargs[key] = values[key]
    for key in ("correction_days", "fixed_now", "mqtt_port", "mqtt_tls", "ingress_port", "ingress_proxy"):
        if key in values:
            kwargs[key] = values[key]
    for key in _SECRET_KEYS:
        if key in values:
            kwargs[key] = Secret(values[key])
    if "v1_tokens" in values:
        kwargs["v1_tokens"] = values["v1_tokens"]
    if "data_dir" in values:
        kwargs["data_dir"] = Path(values["data_dir"])
    if kwargs.get("api_version") == "v1" and "gateway_url" not in kwargs:
        kwargs["gateway_url"] = DEFAULT_V1_GATEWAY_URL
    if kwargs.get("mqtt_tls") and "mqtt_port" not in kwargs:
        kwargs["mqtt_port"] = 8883
    return Settings(**kwargs)


class RedactSecrets(RedactFilter):
    """Defence in depth: replaces any known secret that slipped into a log record (the settings' own
    secrets, and every secret registered later in app.redaction)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(secrets)
        redaction.register(*secrets)

    def add(self, secret: str) -> None:
        redaction.register(secret)


def configure_logging(settings: Settings) -> RedactSecrets:
    from app.logformat import formatter_for

    level = {"trace": logging.DEBUG, "notice": logging.INFO, "fatal": logging.CRITICAL}.get(
        settings.log_level, getattr(logging, settings.log_level.upper(), logging.INFO)
    )
    root = logging.getLogger()
    redactor = RedactSecrets(settings.secrets())
    if not root.handlers:
        console = logging.StreamHandler()
        console.setFormatter(formatter_for(addon=settings.addon, log_level=settings.log_level))
        root.addHandler(console)
    for handler in root.handlers:
        handler.addFilter(redactor)
    root.setLevel(level)
    redaction.quiet_sql_loggers()
    return redactor

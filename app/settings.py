"""Settings from environment variables (standalone / Docker), validated with voluptuous.

Invalid values never stop the program: `load_settings` returns the errors, one readable line per
bad field, which the log and the web UI show; the server stays up and nothing stored is touched.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

DEFAULT_GATEWAY_URL = "https://www.v2.myelectricaldata.fr/api"
DEFAULT_V1_GATEWAY_URL = "https://myelectricaldata.fr"
LOG_LEVELS = ("trace", "debug", "info", "notice", "warning", "error", "fatal")


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

    @property
    def has_credentials(self) -> bool:
        if self.api_version == "v1":
            return bool(self.v1_tokens)
        return bool(self.client_id) and bool(self.client_secret)

    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        values = [self.client_id.reveal(), self.client_secret.reveal()]
        values += [token.reveal() for token in self.v1_tokens.values()]
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
    """`PDL:token,PDL:token` (env) or a mapping."""
    if value in (None, ""):
        return {}
    pairs: list[tuple[Any, Any]]
    if isinstance(value, Mapping):
        pairs = list(value.items())
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
        vol.Optional("port"): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=65535), msg="expected a port 1-65535"
        ),
        vol.Optional("correction_days"): vol.All(
            vol.Coerce(int), vol.Range(min=2, max=60), msg="expected a number of days from 2 to 60"
        ),
        vol.Optional("fixed_now"): _instant,
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
}


def load_settings(
    env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> tuple[Settings, list[str]]:
    """Settings from environment variables, then `overrides` (command line). Returns (settings, errors):
    a bad field keeps its default and is reported as `NAME: what is wrong`."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {key: env[name] for name, key in ENV_VARIABLES.items() if env.get(name, "") != ""}
    raw.update({key: value for key, value in (overrides or {}).items() if value is not None})
    errors: list[str] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            values.update(_SCHEMA({key: value}))
        except vol.MultipleInvalid as exc:
            name = next((n for n, k in ENV_VARIABLES.items() if k == key), key)
            errors.append(f"{name}: {exc.errors[0].msg}")
    return _build(values), errors


def _build(values: Mapping[str, Any]) -> Settings:
    kwargs: dict[str, Any] = {}
    for key in ("gateway_url", "api_version", "usage_points", "database_url", "log_level", "host", "port"):
        if values.get(key) not in (None, ""):
            kwargs[key] = values[key]
    for key in ("correction_days", "fixed_now"):
        if key in values:
            kwargs[key] = values[key]
    if "client_id" in values:
        kwargs["client_id"] = Secret(values["client_id"])
    if "client_secret" in values:
        kwargs["client_secret"] = Secret(values["client_secret"])
    if "v1_tokens" in values:
        kwargs["v1_tokens"] = values["v1_tokens"]
    if "data_dir" in values:
        kwargs["data_dir"] = Path(values["data_dir"])
    if kwargs.get("api_version") == "v1" and "gateway_url" not in kwargs:
        kwargs["gateway_url"] = DEFAULT_V1_GATEWAY_URL
    return Settings(**kwargs)


class RedactSecrets(logging.Filter):
    """Defence in depth: replaces any known secret that slipped into a log record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 6]

    def add(self, secret: str) -> None:
        if len(secret) >= 6 and secret not in self._secrets:
            self._secrets.append(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "**********")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(settings: Settings) -> RedactSecrets:
    level = {"trace": logging.DEBUG, "notice": logging.INFO, "fatal": logging.CRITICAL}.get(
        settings.log_level, getattr(logging, settings.log_level.upper(), logging.INFO)
    )
    root = logging.getLogger()
    redactor = RedactSecrets(settings.secrets())
    if not root.handlers:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(console)
    for handler in root.handlers:
        handler.addFilter(redactor)
    root.setLevel(level)
    return redactor

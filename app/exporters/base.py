"""The interface every exporter implements (DESIGN.md: a new target is one new file).

An exporter reads the store (never the gateway), is configured by a voluptuous schema whose
values are stored in the store and edited on the /exporters page, and reports its status.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import voluptuous as vol
import voluptuous_openapi

from app.pricing.source import CostSource
from app.store import Store


class ExporterError(Exception):
    """A failure with a message the user can act on (shown as the exporter's last error)."""


@dataclass(frozen=True, slots=True)
class MqttBroker:
    """A broker found by the supervisor (services/mqtt) or given by the MQTT_* settings."""

    host: str
    port: int = 1883
    username: str = ""
    password: str = ""
    ssl: bool = False


@dataclass(frozen=True, slots=True)
class CoreApi:
    """Where Home Assistant Core's websocket is and the token it takes: the supervisor's proxy with
    SUPERVISOR_TOKEN (add-on) or HA_URL + HA_TOKEN (plain Docker). Found by app/addon.py."""

    websocket_url: str
    token: str = field(repr=False)
    via_supervisor: bool = False


@dataclass
class ExportContext:
    """What an exporter may use. `costs` is None until the pricing engine provides costs.

    The connections come from the add-on runtime (app/addon.py), the one source of truth: the broker
    (MQTT_* settings or the supervisor's MQTT service), the Core API and the discovery prefix. An
    exporter's own host/url/token fields only override them when the user fills them in."""

    store: Store
    clock: Callable[[], dt.datetime]
    version: str
    costs: CostSource | None = None
    mqtt_broker: MqttBroker | None = None
    core_api: CoreApi | None = None
    discovery_prefix: str = "homeassistant"
    # Where HA's device page links to (the add-on's ingress panel), "" when unknown.
    configuration_url: str = ""
    request_sync: Callable[[], bool] | None = None
    # How the price clock sleeps until an instant (tests move a hand clock); None: real time.
    wait_until: Callable[[dt.datetime], Awaitable[None]] | None = None


@dataclass
class ExporterStatus:
    enabled: bool = False
    connected: bool = False
    last_run: dt.datetime | None = None
    last_success: dt.datetime | None = None
    last_error: str | None = None
    last_exported: str | None = None  # a human description of the newest point sent
    next_retry: dt.datetime | None = None  # when a failed exporter is tried again

    def as_dict(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "enabled": self.enabled,
            "connected": self.connected,
            "last_run": iso(self.last_run),
            "last_success": iso(self.last_success),
            "last_error": self.last_error,
            "last_exported": self.last_exported,
            "next_retry": iso(self.next_retry),
        }


@dataclass(frozen=True, slots=True)
class ExportResult:
    items: int
    detail: str = ""


class BaseExporter(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    config_schema: ClassVar[vol.Schema]
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    # Where the secrets go: a stored secret is only reused while these fields keep their saved values.
    target_fields: ClassVar[frozenset[str]] = frozenset(
        {"url", "host", "port", "mode", "tls", "ssl", "mqtt_host", "mqtt_port"}
    )
    multiline_fields: ClassVar[frozenset[str]] = frozenset()  # shown as a text area
    # UI texts per language: "description", "<field>" (label) and "<field>.help"; English falls back
    # to the class description, the field name and the schema's description.
    texts: ClassVar[Mapping[str, Mapping[str, str]]] = {}

    @classmethod
    def written_texts(cls, lang: str) -> dict[str, str]:
        """The texts written for `lang`: the built-in table, then the exporter's own non-empty ones."""
        from app.exporters._field_texts import FIELD_TEXTS

        own = {k: v for k, v in cls.texts.get(lang, {}).items() if v}
        return {**FIELD_TEXTS.get(cls.name, {}).get(lang, {}), **own}

    @classmethod
    def ui_texts(cls, lang: str) -> dict[str, Any]:
        """Description, field labels and help texts in `lang` (for the web form)."""
        own = cls.written_texts(lang)
        props = cls.json_schema().get("properties", {})
        return {
            "description": own.get("description", cls.description),
            "labels": {k: own.get(k, k.replace("_", " ").capitalize()) for k in props},
            "helps": {k: own.get(f"{k}.help", p.get("description", "")) for k, p in props.items()},
        }

    @classmethod
    def enabled_by_default(cls, context: ExportContext) -> bool:
        """Whether the exporter runs before the user ever saved its settings (their choice is kept)."""
        return False

    def __init__(self, config: Mapping[str, Any], context: ExportContext) -> None:
        self.config: dict[str, Any] = dict(self.config_schema(dict(config)))
        self.context = context
        self.status = ExporterStatus(enabled=bool(self.config.get("enabled", False)))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The config schema as JSON Schema (for the web form); secret fields are write-only."""
        schema: dict[str, Any] = voluptuous_openapi.convert(cls.config_schema)
        for name, prop in schema.get("properties", {}).items():
            if name in cls.secret_fields:
                prop["format"] = "password"
                prop["writeOnly"] = True
                prop.pop("default", None)
            if name in cls.multiline_fields:
                prop["format"] = "multiline"
        return schema

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """The configuration an exporter has before the user saves anything."""
        return dict(cls.config_schema({}))

    def secrets(self) -> list[str]:
        """The non-empty secret values, so that error texts can be scrubbed of them."""
        return [str(self.config[f]) for f in self.secret_fields if self.config.get(f)]

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    async def export(self) -> ExportResult:
        """Send what is new since the last export (and the correction window) to the target."""

    @abstractmethod
    async def test_connection(self) -> str:
        """Reach the target with the current settings; return what was reached or raise ExporterError."""


AfterSync = Callable[[], Awaitable[None]]

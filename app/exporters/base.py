"""The interface every exporter implements (DESIGN.md: a new target is one new file).

An exporter reads the store (never the gateway), is configured by a voluptuous schema whose
values are stored in the store and edited on the /exporters page, and reports its status.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import voluptuous as vol
import voluptuous_openapi

from app.connections import CoreApi, MqttBroker
from app.pricing.source import CostSource
from app.store import Store


class ExporterError(Exception):
    """A failure with a message the user can act on (shown as the exporter's last error)."""


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


@dataclass(frozen=True, slots=True)
class DaysToSend:
    """The Paris days one export sends for one usage point: `first`..`last` (the newest complete day).
    The days up to `sent_until` (the cursor) went out before and go again: the correction window,
    as Enedis corrects recent days. The later ones are new. `sent_until` is None on a first run."""

    first: dt.date
    last: dt.date
    sent_until: dt.date | None = None

    @property
    def first_run(self) -> bool:
        return self.sent_until is None

    def is_new(self, day: dt.date) -> bool:
        return self.sent_until is None or day > self.sent_until

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def days_to_send(
    sent_until: dt.date | None, correction_days: int, newest: dt.date, first_run_from: dt.date
) -> DaysToSend:
    """Everything from `first_run_from` on a first run; then the correction window (the
    `correction_days` days up to the cursor) and every day after it, up to `newest`."""
    if correction_days < 1:
        raise ValueError(f"correction_days must be at least 1, not {correction_days}")
    if sent_until is None:
        return DaysToSend(first_run_from, newest)
    return DaysToSend(sent_until - dt.timedelta(days=correction_days - 1), newest, sent_until)


class ExportCursor:
    """A history exporter's memory between runs, one store setting: per usage point the last day
    sent and what the exporter notes beside it, plus its shared notes. A new target (another URL,
    bucket or prefix) starts over with a first run.

    Stored as `{"target": ..., "points": {pdl: {"last_day": "YYYY-MM-DD", ...}}, ...}`; the layout
    InfluxDB and Jeedom used before, `{"last_day": {pdl: "YYYY-MM-DD"}}`, is read and carried over."""

    def __init__(
        self, store: Store, exporter: str, state: dict[str, Any], *, newest: dt.date, correction_days: int
    ) -> None:
        self._store = store
        self._exporter = exporter
        self._state = state
        self.newest = newest
        self.correction_days = correction_days

    @classmethod
    async def load(
        cls, store: Store, exporter: str, *, target: Any, newest: dt.date, correction_days: int
    ) -> ExportCursor:
        state = await store.settings.exporter_state(exporter)
        if not isinstance(state, dict) or state.get("target") != target:
            state = {"target": target}
        points = state.setdefault("points", {})
        for pdl, day in state.pop("last_day", {}).items():
            points.setdefault(pdl, {})["last_day"] = day
        return cls(store, exporter, state, newest=newest, correction_days=correction_days)

    def last_sent(self, usage_point_id: str) -> dt.date | None:
        day = self._state["points"].get(usage_point_id, {}).get("last_day")
        return dt.date.fromisoformat(day) if isinstance(day, str) else None

    def days_to_send(self, usage_point_id: str, first_run_from: dt.date) -> DaysToSend:
        return days_to_send(self.last_sent(usage_point_id), self.correction_days, self.newest, first_run_from)

    @property
    def next_window_start(self) -> dt.date:
        """The first day the next run sends again, once this run has advanced the cursor."""
        return self.newest - dt.timedelta(days=self.correction_days - 1)

    def notes(self, usage_point_id: str) -> dict[str, Any]:
        """What the exporter keeps about a usage point beside its cursor (saved with it)."""
        record: dict[str, Any] = self._state["points"].setdefault(usage_point_id, {})
        return record

    def shared(self, name: str) -> dict[str, Any]:
        """What the exporter keeps for all usage points under `name` (saved with the cursors)."""
        part: dict[str, Any] = self._state.setdefault(name, {})
        return part

    async def advance(self, usage_point_id: str) -> None:
        """Records that everything up to the newest day was sent for this usage point, and saves."""
        self.notes(usage_point_id)["last_day"] = self.newest.isoformat()
        await self.save()

    async def save(self) -> None:
        await self._store.settings.set_exporter_state(self._exporter, self._state)


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

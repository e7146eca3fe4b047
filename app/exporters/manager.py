"""Finds the exporters, builds them from their stored settings and runs them, each in isolation.

Discovery: every module of the `app.exporters` package (except `base`, `manager` and modules whose
name starts with `_`) and every entry point of the `myelectricaldata.exporters` group; each gives
BaseExporter subclasses. Settings live in the store under `exporter.<name>`; secret fields are kept
there and never returned by `public_config`.

Isolation: after a sync the exporters run in background tasks (the sync never waits for them), each
with its own lock and timeout; a failure becomes that exporter's `last_error` and a retry later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import inspect
import logging
import pkgutil
from collections.abc import Callable, Coroutine, Iterable, Mapping
from importlib import metadata
from typing import Any

import voluptuous as vol
from voluptuous.humanize import humanize_error

from app import redaction
from app.exporters.base import BaseExporter, ExportContext, ExporterError, ExporterStatus, ExportResult

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "myelectricaldata.exporters"
CLEAR_PREFIX = "clear_"  # a form field `clear_<secret>` empties a stored secret
_NOT_PLUGINS = {"base", "manager"}
DISCONNECT_TIMEOUT = 10.0  # seconds a stop waits for each exporter to disconnect


def discover() -> tuple[dict[str, type[BaseExporter]], list[str]]:
    """All exporter classes by name, and the problems met while looking for them."""
    found: dict[str, type[BaseExporter]] = {}
    errors: list[str] = []
    package = importlib.import_module("app.exporters")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name in _NOT_PLUGINS or info.name.startswith("_"):
            continue
        module_name = f"{package.__name__}.{info.name}"
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            errors.append(f"exporter module {module_name} cannot be loaded: {describe(exc)}")
            continue
        for cls in _exporter_classes(vars(module).values(), module_name):
            found.setdefault(cls.name, cls)
    for entry in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            loaded = entry.load()
        except Exception as exc:
            errors.append(f"exporter plugin {entry.name} ({entry.value}) cannot be loaded: {describe(exc)}")
            continue
        candidates = list(_exporter_classes(vars(loaded).values(), loaded.__name__))
        if inspect.isclass(loaded):
            candidates = [loaded] if _is_exporter(loaded) else []  # type: ignore[list-item]
        if not candidates:
            errors.append(f"exporter plugin {entry.name} ({entry.value}) holds no BaseExporter subclass")
        for cls in candidates:
            if cls.name in found:
                errors.append(f"exporter plugin {entry.name}: the name {cls.name!r} is already taken")
                continue
            found[cls.name] = cls
    return found, errors


def _is_exporter(obj: object) -> bool:
    return inspect.isclass(obj) and issubclass(obj, BaseExporter) and not inspect.isabstract(obj)


def _exporter_classes(objects: Iterable[object], module_name: str) -> Iterable[type[BaseExporter]]:
    for obj in objects:
        defined_in = str(getattr(obj, "__module__", ""))
        # A module's own classes, or those of a subpackage's modules (re-exported by its __init__).
        if _is_exporter(obj) and (defined_in == module_name or defined_in.startswith(module_name + ".")):
            assert isinstance(obj, type)
            yield obj


def describe(exc: BaseException) -> str:
    """A one-line, user-facing text for an exception."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    return text.splitlines()[0][:400]


def _target(cls: type[BaseExporter], values: Mapping[str, Any]) -> dict[str, Any] | None:
    """Where `values` send the secrets (the class' target fields after validation); None if invalid."""
    plain = {k: v for k, v in values.items() if k not in cls.secret_fields}
    try:
        config = cls.config_schema(plain)
    except vol.Invalid:
        return None
    return {f: config.get(f) for f in sorted(cls.target_fields)}


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


class ExporterManager:
    def __init__(
        self,
        context: ExportContext,
        *,
        run_timeout: float = 600.0,
        test_timeout: float = 20.0,
        retry_delay: float = 300.0,
    ) -> None:
        self.context = context
        self.run_timeout = run_timeout
        self.test_timeout = test_timeout
        self.retry_delay = retry_delay
        self.classes: dict[str, type[BaseExporter]] = {}
        self.discovery_errors: list[str] = []
        self.exporters: dict[str, BaseExporter] = {}
        self._statuses: dict[str, ExporterStatus] = {}  # exporters whose stored config is invalid
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._retries: dict[str, asyncio.TimerHandle] = {}
        self._stopped = False
        self._changed = asyncio.Condition()  # notified whenever a run ends (statuses changed)

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        self.classes, self.discovery_errors = discover()
        for error in self.discovery_errors:
            log.error("%s", error)
        for name in self.classes:
            self._locks[name] = asyncio.Lock()
            await self._load(name)

    async def stop(self) -> None:
        self._stopped = True
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for exporter in self.exporters.values():
            await self._disconnect(exporter)

    async def wait_idle(self) -> None:
        """Wait until no export, connection or test started by the manager is running."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ settings

    async def stored_config(self, name: str) -> dict[str, Any]:
        return await self.context.store.settings.exporter_config(name)

    def by_default(self, name: str, stored: Mapping[str, Any]) -> bool:
        """True when the user never chose: nothing stored yet, so the exporter's default applies."""
        return "enabled" not in stored

    def effective_config(self, name: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The stored settings; the on/off default of the running environment while the user never chose.
        The default is not stored, so that a broker installed later still turns discovery on."""
        if not self.by_default(name, stored):
            return dict(stored)
        return {**stored, "enabled": self.classes[name].enabled_by_default(self.context)}

    async def _load(self, name: str) -> None:
        cls = self.classes[name]
        stored = self.effective_config(name, await self.stored_config(name))
        redaction.register(*(stored.get(secret) for secret in cls.secret_fields))
        try:
            exporter = cls(stored, self.context)
        except vol.Invalid as exc:
            status = ExporterStatus(enabled=bool(stored.get("enabled")))
            status.last_error = f"stored settings are invalid: {humanize_error(stored, exc)}"
            self._statuses[name] = status
            self.exporters.pop(name, None)
            log.error("exporter %s: %s", name, status.last_error)
            return
        except Exception as exc:
            self._statuses[name] = ExporterStatus(last_error=f"cannot be built: {describe(exc)}")
            self.exporters.pop(name, None)
            log.error("exporter %s cannot be built: %s", name, describe(exc))
            return
        self._statuses.pop(name, None)
        self.exporters[name] = exporter
        if exporter.status.enabled and not self._stopped:
            self._spawn(self._connect_then_export(name))

    def validate(self, name: str, values: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
        """Merge submitted values with the stored secrets and validate; raise ExporterError.

        A stored secret is only merged while the target (url, host, port, mode...) is the one it was
        saved with: otherwise a changed address would receive it without the user typing it again."""
        cls = self._class(name)
        merged: dict[str, Any] = {}
        for key, value in values.items():
            if key.startswith(CLEAR_PREFIX) or key in cls.secret_fields:
                continue
            merged[key] = value
        kept = set(cls.secret_fields) - set(self.dropped_secrets(name, values, stored))
        for secret in cls.secret_fields:
            submitted = values.get(secret)
            if values.get(CLEAR_PREFIX + secret):
                merged[secret] = ""
            elif submitted not in (None, ""):
                merged[secret] = submitted
            elif secret in stored and secret in kept:
                merged[secret] = stored[secret]
        redaction.register(*(merged.get(secret) for secret in cls.secret_fields))
        try:
            return dict(cls.config_schema(merged))
        except vol.Invalid as exc:
            raise ExporterError(humanize_error(merged, exc)) from None

    def dropped_secrets(self, name: str, values: Mapping[str, Any], stored: Mapping[str, Any]) -> list[str]:
        """The stored secrets that `values` would not reuse: not retyped, and the target changed."""
        cls = self._class(name)
        waiting = [
            s
            for s in sorted(cls.secret_fields)
            if stored.get(s) and values.get(s) in (None, "") and not values.get(CLEAR_PREFIX + s)
        ]
        if not waiting:
            return []
        plain = {
            k: v for k, v in values.items() if not k.startswith(CLEAR_PREFIX) and k not in cls.secret_fields
        }
        before, after = _target(cls, stored), _target(cls, plain)
        return [] if before is not None and before == after else waiting

    async def save(self, name: str, values: Mapping[str, Any]) -> None:
        """Validate, store and reload one exporter (its old instance is disconnected)."""
        stored = await self.stored_config(name)
        config = self.validate(name, values, stored)
        await self.context.store.settings.set_exporter_config(name, config)
        async with self._locks[name]:
            old = self.exporters.pop(name, None)
            if old is not None:
                await self._disconnect(old)
            self._cancel_retry(name)
            await self._load(name)
        log.info("exporter %s: settings saved (%s)", name, "enabled" if config.get("enabled") else "disabled")

    def public_config(self, name: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The settings as the browser may see them: secrets replaced by whether they are set."""
        cls = self._class(name)
        try:
            config = {**cls.defaults(), **self.effective_config(name, stored)}
        except vol.Invalid:
            config = dict(stored)
        for secret in cls.secret_fields:
            config.pop(secret, None)
        return {"values": config, "secrets_set": {s: bool(stored.get(s)) for s in sorted(cls.secret_fields)}}

    def _class(self, name: str) -> type[BaseExporter]:
        try:
            return self.classes[name]
        except KeyError:
            raise ExporterError(f"unknown exporter {name!r}") from None

    # ------------------------------------------------------------------ status

    def status(self, name: str) -> ExporterStatus:
        exporter = self.exporters.get(name)
        if exporter is not None:
            return exporter.status
        return self._statuses.setdefault(name, ExporterStatus())

    def describe_all(self) -> list[dict[str, Any]]:
        """Every discovered exporter with its status (for /api/exporters and /api/status). No secrets."""
        out = []
        for name, cls in self.classes.items():
            out.append(
                {
                    "name": name,
                    "title": cls.title,
                    "description": cls.description,
                    "module": cls.__module__,
                    **self.status(name).as_dict(),
                }
            )
        return out

    # ------------------------------------------------------------------ running

    async def on_sync(self, _outcome: object = None) -> None:
        """The Service.after_sync hook: start every enabled exporter in the background, return at once."""
        if not self._stopped:
            self._spawn(self.run_all())

    async def run_all(self) -> None:
        names = [name for name, exp in self.exporters.items() if exp.status.enabled]
        await asyncio.gather(*(self.run(name) for name in names), return_exceptions=True)

    def run_soon(self, name: str) -> None:
        self._spawn(self.run(name))

    async def run(self, name: str) -> ExportResult | None:
        """Export now. Failures are recorded in the status (and a retry scheduled), never raised."""
        exporter = self.exporters.get(name)
        if exporter is None:
            return None
        async with self._locks[name]:
            if self.exporters.get(name) is not exporter:  # reloaded meanwhile
                return None
            status = exporter.status
            status.last_run = self.context.clock()
            try:
                if not status.connected:
                    await asyncio.wait_for(exporter.connect(), self.test_timeout)
                    status.connected = True
                result = await asyncio.wait_for(exporter.export(), self.run_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(name, exporter, exc)
                await self._notify()
                return None
            status.last_success = self.context.clock()
            status.last_error = None
            status.next_retry = None
            if result.detail:
                status.last_exported = result.detail
            log.info("exporter %s: %d items exported", name, result.items)
            await self._notify()
            return result

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, re-checking each time a run ends."""
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _connect_then_export(self, name: str) -> None:
        await self.run(name)

    def _failed(self, name: str, exporter: BaseExporter, exc: BaseException) -> None:
        status = exporter.status
        status.connected = False
        status.last_error = scrub(describe(exc), exporter.secrets())
        log.warning("exporter %s failed: %s (retry in %.0f s)", name, status.last_error, self.retry_delay)
        self._spawn(self._disconnect(exporter))
        if status.enabled and not self._stopped:
            self._cancel_retry(name)
            status.next_retry = self.context.clock() + dt.timedelta(seconds=self.retry_delay)
            loop = asyncio.get_running_loop()
            self._retries[name] = loop.call_later(self.retry_delay, self._retry_now, name)

    def _retry_now(self, name: str) -> None:
        self._retries.pop(name, None)
        if not self._stopped:
            self._spawn(self.run(name))

    def _cancel_retry(self, name: str) -> None:
        handle = self._retries.pop(name, None)
        if handle is not None:
            handle.cancel()

    async def test(self, name: str, values: Mapping[str, Any] | None = None) -> str:
        """Reach the target with the given (unsaved) or stored settings; raise ExporterError."""
        cls = self._class(name)
        stored = await self.stored_config(name)
        config = (
            self.validate(name, values, stored) if values is not None else self.validate(name, stored, {})
        )
        exporter = cls(config, self.context)
        try:
            return await asyncio.wait_for(exporter.test_connection(), self.test_timeout)
        except ExporterError as exc:
            raise ExporterError(scrub(str(exc), exporter.secrets())) from None
        except Exception as exc:
            raise ExporterError(scrub(describe(exc), exporter.secrets())) from None
        finally:
            await self._disconnect(exporter)

    async def _disconnect(self, exporter: BaseExporter) -> None:
        try:
            await asyncio.wait_for(exporter.disconnect(), DISCONNECT_TIMEOUT)
        except Exception as exc:
            log.debug("exporter %s: disconnect failed: %s", exporter.name, describe(exc))
        exporter.status.connected = False


__all__ = ["ENTRY_POINT_GROUP", "ExporterManager", "describe", "discover"]

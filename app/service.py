"""The running client: store + gateway + sync runner + scheduler, built from Settings.

Nothing here raises on bad configuration: problems become `problems` the web UI and the log show.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app import __version__, timeline
from app.addon import Integrations
from app.backup import BackupControl
from app.domain import CallRecord, SyncPhase
from app.exporters.base import CoreApi, ExportContext, MqttBroker
from app.exporters.homeassistant.defaults import announce_defaults
from app.exporters.homeassistant.notifications import HealthNotifier
from app.exporters.manager import ExporterManager
from app.gateway.base import Gateway
from app.gateway.client import GatewayClient
from app.gateway.errors import GatewayError
from app.gateway.retry import RetryPolicy
from app.gateway.v1 import LegacyGatewayClient
from app.pricing.costs import StoreCostSource
from app.settings import Settings
from app.store import Store
from app.sync.forecast import TempoForecastPoller
from app.sync.runner import SyncOutcome, SyncRunner
from app.sync.scheduler import SyncScheduler

log = logging.getLogger(__name__)


@dataclass
class Problem:
    """A configuration or environment problem shown on every page until fixed."""

    code: str
    detail: str


@dataclass
class Service:
    settings: Settings
    config_errors: list[str] = field(default_factory=list)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    gateway_timeout: float = 60.0
    clock: Callable[[], dt.datetime] | None = None
    store: Store | None = None
    scheduler: SyncScheduler | None = None
    problems: list[Problem] = field(default_factory=list)
    # Run after every sync (exporters); a failing hook is logged and never fails the sync.
    after_sync: list[Callable[[SyncOutcome], Awaitable[None]]] = field(default_factory=list)
    # MQTT broker (settings or supervisor), Core websocket, add-on info (app/addon.py).
    integrations: Integrations | None = None
    exporters: ExporterManager | None = None
    backup: BackupControl | None = None  # holds writes during a supervisor backup (app/backup.py)
    tempo_forecast: TempoForecastPoller | None = None
    # Persistent notifications in Home Assistant for problems the user must fix.
    notifier: HealthNotifier | None = None

    def __post_init__(self) -> None:
        if self.clock is None:
            fixed = self.settings.fixed_now
            self.clock = timeline.now_utc if fixed is None else (lambda: fixed)

    def now(self) -> dt.datetime:
        assert self.clock is not None
        return self.clock()

    @property
    def mqtt_broker(self) -> MqttBroker | None:
        """The MQTT broker the exporters use: MQTT_* settings, else the supervisor's MQTT service."""
        return self.integrations.mqtt.broker if self.integrations else None

    @property
    def core_api(self) -> CoreApi | None:
        """The Home Assistant Core websocket (through the supervisor, or HA_URL + HA_TOKEN)."""
        return self.integrations.core_api if self.integrations else None

    @property
    def configured(self) -> bool:
        return self.settings.has_credentials and not self.config_errors

    async def start(self, *, schedule: bool = True) -> None:
        for error in self.config_errors:
            log.error("configuration: %s", error)
            self.problems.append(Problem("config_error", error))
        if self.integrations is None:
            self.integrations = Integrations(self.settings)
            await self.integrations.start()
        try:
            self.store = await Store.open(self.settings.database_url, data_dir=self.settings.data_dir)
        except Exception as exc:  # the server must stay up to show what is wrong
            log.error("storage: cannot open the database: %s", _describe(exc))
            self.problems.append(Problem("storage_error", _describe(exc)))
            return
        await self._start_backup_control(self.store)
        if not self.settings.has_credentials:
            log.warning("no gateway credentials yet: set CLIENT_ID and CLIENT_SECRET (or V1_TOKENS)")
            self.problems.append(Problem("not_configured", ""))
        install_minute = await self.store.settings.install_minute()
        if install_minute is None:
            install_minute = SyncScheduler.draw_install_minute()
            await self.store.settings.set_install_minute(install_minute)
        self.scheduler = SyncScheduler(self.sync, install_minute=install_minute, clock=self.now)
        if schedule and self.configured:
            self.scheduler.start()
        await self.start_exporters()
        self.tempo_forecast = TempoForecastPoller(
            self.fetch_tempo_forecast, self.store, self.now, on_saved=self.exporters_after_forecast
        )
        if schedule and self.settings.api_version == "v2":
            self.tempo_forecast.start()

    async def fetch_tempo_forecast(self) -> object:
        gateway = self.make_gateway(lambda _call: None)
        try:
            if not isinstance(gateway, GatewayClient):
                raise GatewayError("the Tempo forecast needs the v2 gateway")
            return await gateway.tempo_forecast()
        finally:
            await gateway.close()

    async def exporters_after_forecast(self) -> None:
        if self.exporters is not None:
            await self.exporters.on_sync()

    async def _start_backup_control(self, store: Store) -> None:
        control = BackupControl(store, self.settings.data_dir)
        try:
            await control.start()
        except OSError as exc:  # e.g. a read-only data folder with an external database
            log.warning("backup hooks unavailable: cannot listen on %s: %s", control.path, exc.strerror)
            return
        self.backup = control

    async def start_exporters(self) -> None:
        """Build the exporters from their stored settings; they run after each sync, in the background."""
        assert self.store is not None
        context = ExportContext(
            self.store,
            clock=self.now,
            version=__version__,
            request_sync=self.request_sync,
            mqtt_broker=self.mqtt_broker,
            core_api=self.core_api,
            discovery_prefix=self.settings.discovery_prefix,
            configuration_url=self.integrations.configuration_url if self.integrations else "",
            costs=StoreCostSource(self.store),
        )
        self.exporters = ExporterManager(context)
        await self.exporters.start()
        await announce_defaults(self.exporters, self.store, self.now())
        self.after_sync.append(self._run_exporters)
        self.notifier = HealthNotifier(self.store, self.core_api)
        self.after_sync.append(self._notify_health)

    async def _notify_health(self, _outcome: SyncOutcome) -> None:
        if self.notifier is not None:
            await self.notifier.update(self.now())

    async def _run_exporters(self, outcome: SyncOutcome) -> None:
        assert self.exporters is not None
        # The supervisor's broker is found in the background after start: give the newest one.
        self.exporters.context.mqtt_broker = self.mqtt_broker
        await self.exporters.on_sync(outcome)

    def request_sync(self) -> bool:
        """Start a sync now (MQTT command); False when one is running or the client is not configured."""
        return self.scheduler.trigger() if self.scheduler is not None and self.configured else False

    async def stop(self) -> None:
        if self.backup is not None:
            await self.backup.stop()
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.tempo_forecast is not None:
            await self.tempo_forecast.stop()
        if self.integrations is not None:
            await self.integrations.stop()
        if self.exporters is not None:
            await self.exporters.stop()
        if self.store is not None:
            await self.store.close()

    def make_gateway(self, on_call: Callable[[CallRecord], None]) -> Gateway:
        settings = self.settings
        if settings.api_version == "v1":
            return LegacyGatewayClient(
                settings.gateway_url,
                {pdl: token.reveal() for pdl, token in settings.v1_tokens.items()},
                retry=self.retry,
                timeout=self.gateway_timeout,
                on_call=on_call,
                clock=self.now,
            )
        return GatewayClient(
            settings.gateway_url,
            settings.client_id.reveal(),
            settings.client_secret.reveal(),
            retry=self.retry,
            timeout=self.gateway_timeout,
            on_call=on_call,
            clock=self.now,
        )

    async def sync(self, shared_only: bool = False) -> SyncOutcome:
        if self.store is None or not self.configured:
            return SyncOutcome(SyncPhase.ERROR, error=GatewayError("the client is not configured"))
        calls: list[CallRecord] = []
        gateway = self.make_gateway(calls.append)
        runner = SyncRunner(
            self.store,
            gateway,
            call_log=calls,
            clock=self.now,
            correction_days=self.settings.correction_days,
            only_usage_points=self.settings.usage_points
            if self.settings.api_version == "v2"
            else tuple(self.settings.v1_tokens),
        )
        try:
            outcome = await runner.run(shared_only=shared_only)
        finally:
            await gateway.close()
        _log_outcome(outcome)
        for hook in self.after_sync:
            try:
                await hook(outcome)
            except Exception as exc:
                hook_name = getattr(hook, "__qualname__", repr(hook))
                log.error("after-sync hook %s failed: %s", hook_name, _describe(exc))
        return outcome


def _log_outcome(outcome: SyncOutcome) -> None:
    if outcome.phase is SyncPhase.DONE:
        log.info("sync done: %d gateway requests", outcome.requests)
    elif outcome.phase is SyncPhase.QUOTA:
        log.warning("sync stopped: gateway quota reached; resumes after %s", outcome.resumes_at)
    else:
        error = outcome.error
        log.error("sync failed: %s", f"{error.message} ({error.code})" if error else "unexpected error")
    for pdl, error in outcome.usage_point_errors.items():
        log.warning("usage point %s: %s (%s)", pdl, error.message, error.code)


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]

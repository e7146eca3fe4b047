"""Home Assistant add-on runtime: the supervisor API (MQTT service, own info and options), the Core
websocket, and the MQTT broker the exporters use.

The broker comes from the MQTT_* settings when `mqtt_host` is set, else from the supervisor's
`GET /services/mqtt` (a 400 there means "no MQTT broker installed": a state shown in the UI, never
an error loop). Nothing here raises into the caller: problems become states the web UI shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from app import redaction
from app.connections import CoreApi, MqttBroker
from app.settings import Secret, Settings

log = logging.getLogger(__name__)

SUPERVISOR_TIMEOUT = 10.0
MQTT_TIMEOUT = 10.0
RETRY_FIRST_DELAY = 30.0
RETRY_MAX_DELAY = 600.0


class SupervisorError(Exception):
    """The supervisor could not be reached or refused a request."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CoreAuthError(Exception):
    """Home Assistant Core refused the token on its websocket."""


class SupervisorClient:
    """The few supervisor calls an add-on needs (`http://supervisor`, Bearer SUPERVISOR_TOKEN)."""

    def __init__(
        self, url: str, token: Secret, session: aiohttp.ClientSession, timeout: float = SUPERVISOR_TIMEOUT
    ) -> None:
        self._url = url.rstrip("/")
        self._token = token
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self._token.reveal()}"}
        try:
            async with self._session.request(
                method, self._url + path, json=payload, headers=headers, timeout=self._timeout
            ) as response:
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    status = response.status
                    raise SupervisorError(f"{method} {path}: HTTP {status}, not JSON", status)
                if response.status >= 400 or body.get("result") != "ok":
                    message = str(body.get("message") or f"HTTP {response.status}")[:200]
                    raise SupervisorError(f"{method} {path}: {message}", response.status)
                return body.get("data")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SupervisorError(f"{method} {path}: supervisor unreachable ({type(exc).__name__})") from exc

    async def mqtt_service(self) -> MqttBroker | None:
        """The broker the supervisor offers, or None when no MQTT broker is installed (HTTP 400)."""
        try:
            data = await self._request("GET", "/services/mqtt")
        except SupervisorError as exc:
            if exc.status == 400:
                return None
            raise
        if not isinstance(data, dict) or not data.get("host"):
            raise SupervisorError("GET /services/mqtt: the answer has no host")
        try:
            port = int(data.get("port") or (8883 if data.get("ssl") else 1883))
        except (TypeError, ValueError) as exc:
            raise SupervisorError("GET /services/mqtt: the port is not a number") from exc
        password = str(data.get("password") or "")
        redaction.register(password)
        return MqttBroker(
            host=str(data["host"]),
            port=port,
            username=str(data.get("username") or ""),
            password=Secret(password),
            tls=bool(data.get("ssl")),
        )

    async def addon_info(self) -> dict[str, Any]:
        data = await self._request("GET", "/addons/self/info")
        if not isinstance(data, dict):
            raise SupervisorError("GET /addons/self/info: unexpected answer")
        return data

    async def set_options(self, options: dict[str, Any]) -> None:
        """Replaces the add-on's options (the whole dict; applied at the next start)."""
        await self._request("POST", "/addons/self/options", {"options": options})


def core_api(settings: Settings) -> CoreApi | None:
    """The Core websocket: through the supervisor as an add-on, else HA_URL + HA_TOKEN, else None."""
    if settings.addon and settings.supervisor_token:
        base = settings.supervisor_url.rstrip("/")
        url = _websocket_base(base) + "/core/websocket"
        return CoreApi(url, settings.supervisor_token.reveal(), via_supervisor=True)
    if settings.ha_url and settings.ha_token:
        url = _websocket_base(settings.ha_url.rstrip("/")) + "/api/websocket"
        return CoreApi(url, settings.ha_token.reveal(), via_supervisor=False)
    return None


def _websocket_base(url: str) -> str:
    if url.startswith("https://"):
        return "wss://" + url.removeprefix("https://")
    return "ws://" + url.removeprefix("http://")


async def connect_core(
    core: CoreApi, session: aiohttp.ClientSession
) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    """Opens and authenticates the Core websocket; returns it with Home Assistant's version.
    Raises CoreAuthError for a refused token, aiohttp.ClientError/TimeoutError when unreachable."""
    timeout = SUPERVISOR_TIMEOUT
    ws = await session.ws_connect(core.websocket_url, timeout=aiohttp.ClientWSTimeout(ws_close=timeout))
    try:
        async with asyncio.timeout(timeout):
            hello = await ws.receive_json()
            if hello.get("type") != "auth_required":
                raise CoreAuthError(f"unexpected first message {hello.get('type')!r}")
            await ws.send_json({"type": "auth", "access_token": core.token})
            answer = await ws.receive_json()
        if answer.get("type") != "auth_ok":
            raise CoreAuthError(str(answer.get("message") or "the token was refused"))
        return ws, str(answer.get("ha_version") or hello.get("ha_version") or "")
    except BaseException:
        await ws.close()
        raise


class MqttState(enum.StrEnum):
    NOT_CONFIGURED = "not_configured"  # standalone without MQTT_HOST
    NO_BROKER = "no_broker"  # the supervisor has no MQTT service (no broker add-on installed)
    SUPERVISOR_ERROR = "supervisor_error"
    CHECKING = "checking"
    CONNECTED = "connected"
    AUTH_FAILED = "auth_failed"
    UNREACHABLE = "unreachable"


# States worth retrying later (the supervisor or the broker may come up after us).
_TRANSIENT = (MqttState.SUPERVISOR_ERROR, MqttState.UNREACHABLE)


@dataclass
class MqttStatus:
    state: MqttState = MqttState.NOT_CONFIGURED
    broker: MqttBroker | None = None
    source: str | None = None  # "settings" or "supervisor"
    detail: str = ""
    checked_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """For /api/status and the dashboard: where the broker is, never its password."""
        broker = self.broker
        return {
            "state": self.state.value,
            "source": self.source,
            "host": broker.host if broker else None,
            "port": broker.port if broker else None,
            "tls": broker.tls if broker else None,
            "username": (broker.username or None) if broker else None,
            "detail": self.detail,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
        }


async def check_broker(broker: MqttBroker) -> tuple[MqttState, str]:
    """Connects to the broker with its credentials and disconnects: CONNECTED, AUTH_FAILED or
    UNREACHABLE with a short reason (no secret in it)."""
    import aiomqtt

    timeout = MQTT_TIMEOUT
    client = broker.client("check", timeout=timeout)
    try:
        async with asyncio.timeout(timeout + 1), client:
            return MqttState.CONNECTED, ""
    except aiomqtt.MqttCodeError as exc:
        code = getattr(exc.rc, "value", exc.rc)
        reason = str(exc).lower()
        if code in (4, 5, 134, 135) or "not authori" in reason or "bad user" in reason:
            return MqttState.AUTH_FAILED, "the broker refused the user name or password"
        return MqttState.UNREACHABLE, str(exc)[:200]
    except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
        return MqttState.UNREACHABLE, (str(exc) or type(exc).__name__)[:200]


@dataclass
class Integrations:
    """What the program found around it: the MQTT broker, the Core websocket, its own add-on info."""

    settings: Settings
    mqtt: MqttStatus = field(default_factory=MqttStatus)
    core_api: CoreApi | None = None
    addon_info: dict[str, Any] | None = None
    retry_first_delay: float = RETRY_FIRST_DELAY
    _session: aiohttp.ClientSession | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def configuration_url(self) -> str:
        """The add-on's ingress panel as HA links it from a device page, "" outside an add-on."""
        slug = (self.addon_info or {}).get("slug")
        return f"homeassistant://hassio/ingress/{slug}" if isinstance(slug, str) and slug else ""

    @property
    def supervisor(self) -> SupervisorClient | None:
        if not (self.settings.addon and self.settings.supervisor_token and self._session):
            return None
        return SupervisorClient(self.settings.supervisor_url, self.settings.supervisor_token, self._session)

    async def start(self) -> None:
        """Finds the broker (quick: the supervisor is local), then checks it in the background."""
        self._session = aiohttp.ClientSession()
        self.core_api = core_api(self.settings)
        supervisor = self.supervisor
        if supervisor is not None:
            try:
                self.addon_info = await supervisor.addon_info()
            except SupervisorError as exc:
                log.warning("supervisor: cannot read the add-on info: %s", exc)
        await self.find_broker()
        self._task = asyncio.create_task(self._watch(), name="mqtt-broker-check")

    async def wait_settled(self) -> MqttStatus:
        """Waits until the broker check has settled (connected, refused, absent...)."""
        if self._task is not None:
            await asyncio.shield(self._task)
        return self.mqtt

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def find_broker(self) -> MqttStatus:
        settings = self.settings
        if settings.mqtt_host:
            broker = MqttBroker(
                settings.mqtt_host,
                settings.mqtt_port,
                settings.mqtt_username,
                settings.mqtt_password,
                settings.mqtt_tls,
            )
            self.mqtt = MqttStatus(MqttState.CHECKING, broker, "settings")
            return self.mqtt
        supervisor = self.supervisor
        if supervisor is None:
            self.mqtt = MqttStatus(MqttState.NOT_CONFIGURED)
            return self.mqtt
        try:
            found = await supervisor.mqtt_service()
        except SupervisorError as exc:
            self.mqtt = MqttStatus(MqttState.SUPERVISOR_ERROR, source="supervisor", detail=str(exc))
            return self.mqtt
        if found is None:
            log.info("MQTT: no broker installed in Home Assistant (install the Mosquitto broker add-on)")
            self.mqtt = MqttStatus(MqttState.NO_BROKER, source="supervisor")
        else:
            self.mqtt = MqttStatus(MqttState.CHECKING, found, "supervisor")
        return self.mqtt

    async def check(self) -> MqttStatus:
        status = self.mqtt
        if status.broker is not None:
            state, detail = await check_broker(status.broker)
            self.mqtt = MqttStatus(state, status.broker, status.source, detail, dt.datetime.now(dt.UTC))
        return self.mqtt

    async def _watch(self) -> None:
        """Checks the broker; retries transient failures with a growing delay, logging each change once."""
        delay = self.retry_first_delay
        previous: MqttState | None = None
        while True:
            if self.mqtt.state is MqttState.SUPERVISOR_ERROR:
                await self.find_broker()
            status = await self.check()
            if status.state is not previous:
                _log_mqtt(status)
                previous = status.state
            if status.state not in _TRANSIENT:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY)


def _log_mqtt(status: MqttStatus) -> None:
    broker = status.broker
    where = broker.address if broker else "-"
    if status.state is MqttState.CONNECTED:
        log.info("MQTT: connected to %s (%s)", where, status.source)
    elif status.state is MqttState.AUTH_FAILED:
        log.error("MQTT: %s refused the credentials (%s)", where, status.source)
    elif status.state is MqttState.UNREACHABLE:
        log.warning("MQTT: cannot reach %s: %s; retrying later", where, status.detail)
    elif status.state is MqttState.SUPERVISOR_ERROR:
        log.warning("MQTT: %s; retrying later", status.detail)

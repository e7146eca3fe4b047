"""A small client for the Home Assistant Core websocket API (auth, then id-numbered commands).

Add-on: `ws://supervisor/core/websocket` with `SUPERVISOR_TOKEN`; standalone: `<url>/api/websocket` with a
long-lived access token. Protocol: developers.home-assistant.io/docs/api/websocket (auth_required ->
auth -> auth_ok | auth_invalid, then `{"id": n, "type": ...}` answered by `{"id": n, "type": "result",
"success": ..., "result" | "error"}`).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import aiohttp

from app.connections import CoreApi
from app.exporters.base import ExporterError

MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def websocket_url(base_url: str) -> str:
    """'http://host:8123' -> 'ws://host:8123/api/websocket'; a ws:// URL is kept as given."""
    url = base_url.strip().rstrip("/")
    if url.startswith(("ws://", "wss://")):
        return url
    if url.startswith("https://"):
        url = "wss://" + url[len("https://") :]
    elif url.startswith("http://"):
        url = "ws://" + url[len("http://") :]
    else:
        raise ExporterError(f"Home Assistant URL must start with http:// or https://, got {base_url!r}")
    return url + "/api/websocket"


def core_endpoint(url: str, token: str, core: CoreApi | None) -> tuple[str, str]:
    """The websocket URL and token to use: the exporter's own URL and token (an override), else the
    Core API the add-on runtime found (supervisor proxy, or HA_URL + HA_TOKEN)."""
    if url and token:
        return websocket_url(url), token
    if url:
        raise ExporterError("set a long-lived access token for Home Assistant (profile page > security)")
    if core is not None:
        return core.websocket_url, core.token
    raise ExporterError(
        "no Home Assistant found: set HA_URL and HA_TOKEN (plain Docker), or the URL and a long-lived "
        "access token in these settings"
    )


class HomeAssistantError(ExporterError):
    """A command Home Assistant answered with an error."""


class HomeAssistantWebSocket:
    def __init__(self, url: str, token: str, *, timeout: float = 60.0) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self.ha_version = ""

    async def __aenter__(self) -> HomeAssistantWebSocket:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(
                self._url, max_msg_size=MAX_MESSAGE_BYTES, timeout=aiohttp.ClientWSTimeout(ws_close=10)
            )
            hello = await self._receive()
            if hello.get("type") != "auth_required":
                raise ExporterError(
                    f"{self._url} is not a Home Assistant websocket (got {hello.get('type')!r})"
                )
            self.ha_version = str(hello.get("ha_version", ""))
            await self._ws.send_json({"type": "auth", "access_token": self._token})
            answer = await self._receive()
            if answer.get("type") != "auth_ok":
                raise ExporterError(
                    "Home Assistant refused the access token: create a new long-lived token "
                    "(profile page > security) and paste it in the settings"
                )
            self.ha_version = str(answer.get("ha_version", self.ha_version))
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self.close()
            raise ExporterError(f"cannot reach Home Assistant at {self._url}: {_describe(exc)}") from exc
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _receive(self) -> dict[str, Any]:
        assert self._ws is not None
        message = await asyncio.wait_for(self._ws.receive(), self._timeout)
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ExporterError(f"Home Assistant closed the websocket ({message.type.name})")
        data = message.json()
        if not isinstance(data, dict):
            raise ExporterError("unexpected websocket message from Home Assistant")
        return data

    async def command(self, command_type: str, **fields: Any) -> Any:
        """Send one command and return its `result`; raise HomeAssistantError when it fails."""
        if self._ws is None:
            raise ExporterError("not connected to Home Assistant")
        async with self._lock:
            message_id = next(self._ids)
            try:
                await self._ws.send_json({"id": message_id, "type": command_type, **fields})
                while True:
                    answer = await self._receive()
                    if answer.get("id") == message_id and answer.get("type") == "result":
                        break
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise ExporterError(f"Home Assistant websocket failed: {_describe(exc)}") from exc
        if not answer.get("success"):
            error = answer.get("error") or {}
            raise HomeAssistantError(
                f"Home Assistant refused {command_type}: {error.get('message', 'unknown error')}"
                f" ({error.get('code', '?')})"
            )
        return answer.get("result")


def version_tuple(version: str) -> tuple[int, int] | None:
    """'2025.4.4' -> (2025, 4), '2026.12.0.dev20261120' -> (2026, 12); None when it names no release
    ('', 'dev', 'unknown'): the caller must not guess what such a core accepts."""
    parts = version.strip().split(".")
    try:
        year, month = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None
    return (year, month) if year >= 2000 and 1 <= month <= 12 else None


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]

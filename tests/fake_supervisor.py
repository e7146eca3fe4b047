"""A fake Home Assistant supervisor for tests (the real one cannot run here).

It follows ../shared/integrations.md section 1: Bearer SUPERVISOR_TOKEN on every call, answers
`{"result": "ok", "data": ...}` or `{"result": "error", "message": ...}`;
- `GET /services/mqtt`: the broker it was given, or 400 when there is none;
- `GET /addons/self/info`: name, slug, version, options, ingress facts (from config.yaml);
- `POST /addons/self/options`: the full options dict, validated against config.yaml's `schema`
  (unknown keys dropped, required keys checked), kept for the next start;
- `POST /auth`: checks a Home Assistant user's name and password (JSON or form) for an add-on whose
  config.yaml says `auth_api: true` (else 403): 200 when right, 401 when wrong;
- `GET /core/websocket`: relays to a Core websocket peer the test gives (`core_url`): it checks
  the add-on's token, authenticates to the peer with its own token and then copies messages both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
HA_VERSION = "2026.11.3"


def addon_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    return config


@dataclass
class FakeSupervisorState:
    token: str = "fake-supervisor-token-0123456789"
    mqtt: dict[str, Any] | None = None  # None: no broker installed (400)
    options: dict[str, Any] = field(default_factory=dict)
    next_options: dict[str, Any] | None = None  # set by POST /addons/self/options
    core_url: str | None = None  # the Core websocket peer the relay connects to
    core_token: str = "core-token-held-by-the-supervisor"
    fail_next: int = 0  # answer this many next calls with HTTP 500
    requests: list[str] = field(default_factory=list)
    relayed: list[dict[str, Any]] = field(default_factory=list)  # messages add-on -> Core
    users: dict[str, str] = field(default_factory=dict)  # Home Assistant users for POST /auth

    def __post_init__(self) -> None:
        if not self.options:
            self.options = dict(addon_config()["options"])


FAKE_SUPERVISOR: web.AppKey[FakeSupervisorState] = web.AppKey("fake_supervisor", FakeSupervisorState)


def create_fake_supervisor(state: FakeSupervisorState) -> web.Application:
    app = web.Application(middlewares=[_auth_middleware])
    app[FAKE_SUPERVISOR] = state
    app.router.add_get("/services/mqtt", _services_mqtt)
    app.router.add_get("/addons/self/info", _addon_info)
    app.router.add_post("/addons/self/options", _addon_options)
    app.router.add_get("/core/websocket", _core_websocket)
    app.router.add_post("/auth", _auth)
    return app


async def _auth(request: web.Request) -> web.Response:
    state = request.app[FAKE_SUPERVISOR]
    if not addon_config().get("auth_api"):
        return _error("the add-on has no access to the auth API (auth_api)", 403)
    body = await request.json() if request.content_type == "application/json" else dict(await request.post())
    user, password = str(body.get("username", "")), str(body.get("password", ""))
    if user and state.users.get(user) == password:
        return web.json_response({"result": "ok", "data": {}})
    return _error("Username or password is wrong", 401)


def _ok(data: Any) -> web.Response:
    return web.json_response({"result": "ok", "data": data})


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"result": "error", "message": message}, status=status)


@web.middleware
async def _auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    state = request.app[FAKE_SUPERVISOR]
    state.requests.append(f"{request.method} {request.path}")
    if request.path == "/core/websocket":  # the token travels in the websocket auth message
        response: web.StreamResponse = await handler(request)
        return response
    if request.headers.get("Authorization") != f"Bearer {state.token}":
        return _error("Unauthorized", 401)
    if state.fail_next > 0:
        state.fail_next -= 1
        return _error("Supervisor is starting", 500)
    response = await handler(request)
    return response


async def _services_mqtt(request: web.Request) -> web.Response:
    state = request.app[FAKE_SUPERVISOR]
    if state.mqtt is None:
        return _error("No mqtt service available")
    return _ok(state.mqtt)


async def _addon_info(request: web.Request) -> web.Response:
    state = request.app[FAKE_SUPERVISOR]
    config = addon_config()
    return _ok(
        {
            "name": config["name"],
            "slug": config["slug"],
            "version": config["version"],
            "version_latest": config["version"],
            "state": "started",
            "options": state.options,
            "schema": [],
            "ingress": bool(config.get("ingress")),
            "ingress_port": config.get("ingress_port", 8099),
            "ingress_entry": "/api/hassio_ingress/fake-ingress-token",
            "ingress_url": "/api/hassio_ingress/fake-ingress-token/",
            "ingress_panel": True,
            "network": dict.fromkeys(config.get("ports", {}), None),
            "ip_address": "172.30.33.5",
            "hostname": "local-" + config["slug"],
        }
    )


async def _addon_options(request: web.Request) -> web.Response:
    state = request.app[FAKE_SUPERVISOR]
    try:
        body = await request.json()
    except ValueError:
        return _error("Invalid JSON")
    if not isinstance(body, dict) or not isinstance(body.get("options"), dict):
        return _error("Missing options")
    try:
        state.next_options = validate_options(body["options"], addon_config()["schema"])
    except ValueError as exc:
        return _error(str(exc))
    return _ok({})


def validate_options(options: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The supervisor's option check, for the types this add-on uses: unknown keys are dropped,
    a key without `?` is required, each value must match its type."""
    result: dict[str, Any] = {}
    for key, kind in schema.items():
        value = options.get(key)
        if isinstance(kind, list):  # a list of dicts or of a scalar type
            if value is None:
                continue
            if not isinstance(value, list):
                raise ValueError(f"Invalid list for option '{key}'")
            item_kind = kind[0]
            if isinstance(item_kind, dict):
                result[key] = [validate_options(item, item_kind) for item in value]
            else:
                result[key] = [_check(key, item, str(item_kind)) for item in value]
            continue
        text = str(kind)
        if value is None:
            if not text.endswith("?"):
                raise ValueError(f"Missing option '{key}' in root")
            continue
        result[key] = _check(key, value, text.removesuffix("?"))
    return result


def _check(key: str, value: Any, kind: str) -> Any:
    ok: bool
    if kind in ("str", "password", "email"):
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "port":
        ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535
    elif kind.startswith("int"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "url":
        ok = isinstance(value, str) and re.match(r"^https?://\S+$", value) is not None
    elif kind.startswith("list("):
        ok = isinstance(value, str) and value in kind[5:-1].split("|")
    elif kind.startswith("match("):
        ok = isinstance(value, str) and re.fullmatch(kind[6:-1], value) is not None
    else:
        raise ValueError(f"Unknown type {kind} for option '{key}'")
    if not ok:
        raise ValueError(f"Invalid value for option '{key}'")
    return value


async def _core_websocket(request: web.Request) -> web.WebSocketResponse:
    state = request.app[FAKE_SUPERVISOR]
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"type": "auth_required", "ha_version": HA_VERSION})
    auth = await ws.receive_json()
    if auth.get("type") != "auth" or auth.get("access_token") != state.token:
        await ws.send_json({"type": "auth_invalid", "message": "Invalid access token or password"})
        await ws.close()
        return ws
    if state.core_url is None:
        await ws.close(code=aiohttp.WSCloseCode.TRY_AGAIN_LATER, message=b"Core is not running")
        return ws
    async with aiohttp.ClientSession() as session, session.ws_connect(state.core_url) as core:
        hello = await core.receive_json()
        await core.send_json({"type": "auth", "access_token": state.core_token})
        answer = await core.receive_json()
        if answer.get("type") != "auth_ok":
            await ws.send_json({"type": "auth_invalid", "message": "Core refused the supervisor"})
            await ws.close()
            return ws
        version = answer.get("ha_version", hello.get("ha_version"))
        await ws.send_json({"type": "auth_ok", "ha_version": version})

        async def to_core() -> None:
            async for message in ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    state.relayed.append(message.json())
                    await core.send_str(message.data)
            await core.close()

        async def from_core() -> None:
            async for message in core:
                if message.type is aiohttp.WSMsgType.TEXT:
                    await ws.send_str(message.data)
            await ws.close()

        tasks = [asyncio.create_task(to_core()), asyncio.create_task(from_core())]
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return ws

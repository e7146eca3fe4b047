"""Who may talk to the web server, per listening port ("door").

- Add-on: the ingress port (8099) answers only the supervisor's proxy (172.30.32.2), which strips
  the `/api/hassio_ingress/<token>` prefix and sends it in `X-Ingress-Path`; every other peer gets
  403. `/health` also answers the container itself (Docker HEALTHCHECK).
- The direct port (add-on: 8080/tcp, opened when `web_password` has at least 8 characters or the
  supervisor's auth API can check Home Assistant users; standalone: PORT) serves the same UI; it asks
  for HTTP Basic auth (any user name with the password, or a Home Assistant user) or a
  `Authorization: Bearer <password>` header (app/web/auth.py).

Pages use relative URLs only; `ingress_url()` builds an absolute one from X-Ingress-Path when a
page really needs it.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from app.settings import Secret, Settings
from app.web.auth import MIN_PASSWORD_LENGTH, Gate, password_usable

log = logging.getLogger(__name__)

INGRESS = "ingress"
DIRECT = "direct"
OPEN_PATHS = frozenset({"/health"})
_INGRESS_PATH = re.compile(r"^/api/hassio_ingress/[A-Za-z0-9_\-]+$")


@dataclass(frozen=True, slots=True)
class Listener:
    host: str
    port: int
    door: str  # INGRESS or DIRECT


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    ingress_port: int | None  # None: not an add-on, no ingress door
    ingress_proxy: str
    password: Secret
    gate: Gate = field(default_factory=lambda: Gate(Secret("")))


ACCESS: web.AppKey[AccessPolicy] = web.AppKey("access_policy", AccessPolicy)


def listeners(settings: Settings) -> list[Listener]:
    """The ports to open: ingress (+ direct when protected) as an add-on, else the direct port."""
    if not settings.addon:
        return [Listener(settings.host, settings.port, DIRECT)]
    doors = [Listener(settings.host, settings.ingress_port, INGRESS)]
    if settings.web_password and not password_usable(settings.web_password):
        log.error(
            "web_password is shorter than %d characters: the direct port stays closed until it is longer",
            MIN_PASSWORD_LENGTH,
        )
    if _gate(settings).open and settings.port != settings.ingress_port:
        doors.append(Listener(settings.host, settings.port, DIRECT))
    return doors


def _gate(settings: Settings) -> Gate:
    if settings.addon and settings.supervisor_token:  # Home Assistant users, checked by the supervisor
        return Gate(settings.web_password, settings.supervisor_url, settings.supervisor_token)
    return Gate(settings.web_password)


def policy_for(settings: Settings) -> AccessPolicy:
    return AccessPolicy(
        ingress_port=settings.ingress_port if settings.addon else None,
        ingress_proxy=settings.ingress_proxy,
        password=settings.web_password,
        gate=_gate(settings),
    )


def setup_ingress(app: web.Application, settings: Settings) -> None:
    """Registers the access middleware (outermost) with the policy drawn from the settings."""
    app[ACCESS] = policy_for(settings)
    app.middlewares.insert(0, access_middleware)


def door_of(request: web.Request) -> str:
    policy = request.app[ACCESS]
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    local_port = sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else None
    return INGRESS if policy.ingress_port is not None and local_port == policy.ingress_port else DIRECT


@web.middleware
async def access_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    policy = request.app[ACCESS]
    if door_of(request) == INGRESS:
        remote = request.remote or ""
        if remote != policy.ingress_proxy and not (request.path in OPEN_PATHS and _loopback(remote)):
            log.debug("ingress port: refused %s (only %s may use it)", remote, policy.ingress_proxy)
            raise web.HTTPForbidden(text="Forbidden: this port only answers Home Assistant ingress.\n")
    elif request.path not in OPEN_PATHS:
        if policy.password and not policy.gate.open:
            raise web.HTTPServiceUnavailable(
                text=f"web_password is shorter than {MIN_PASSWORD_LENGTH} characters: this port stays closed "
                "until a longer one is set.\n"
            )
        if policy.gate.open and not await policy.gate.check(request):
            raise web.HTTPUnauthorized(
                text="Password required.\n",
                headers={"WWW-Authenticate": 'Basic realm="MyElectricalData", charset="UTF-8"'},
            )
    response: web.StreamResponse = await handler(request)
    return response


def _loopback(remote: str) -> bool:
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def ingress_path(request: web.Request) -> str:
    """The ingress prefix (`/api/hassio_ingress/<token>`) on the ingress door, else ''."""
    value = request.headers.get("X-Ingress-Path", "").rstrip("/")
    if door_of(request) == INGRESS and _INGRESS_PATH.match(value):
        return value
    return ""


def ingress_url(request: web.Request, path: str) -> str:
    """An absolute path for `path` (relative to the UI root) that stays under the ingress prefix."""
    return ingress_path(request) + "/" + path.lstrip("/")

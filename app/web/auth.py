"""Who may use the direct port: the `web_password` (any user name, HTTP Basic or Bearer) or, in the
add-on, any Home Assistant user checked by the supervisor's auth API (`auth_api: true`,
`POST http://supervisor/auth` with the add-on's SUPERVISOR_TOKEN). Wrong passwords are slowed down
by a growing delay per client address (awaited, never blocking the loop).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from app.settings import Secret

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
FIRST_DELAY = 0.5  # seconds after the first wrong password; doubles with each one, up to MAX_DELAY
MAX_DELAY = 8.0
ACCEPTED_FOR = 300.0  # a Home Assistant login the supervisor accepted is trusted this long
_TRACKED = 1024  # client addresses / accepted logins remembered (least recent out first)


def password_usable(password: Secret) -> bool:
    return len(password.reveal().strip()) >= MIN_PASSWORD_LENGTH


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str


def credentials(request: web.Request) -> Credentials | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return Credentials("", value.strip())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return Credentials(user, password) if password else None
    return None


class Gate:
    """Checks credentials; remembers failures per address (for the delay) and supervisor successes."""

    def __init__(
        self, password: Secret, supervisor_url: str = "", supervisor_token: Secret | None = None
    ) -> None:
        self.password = password if password_usable(password) else Secret("")
        self.supervisor_url = supervisor_url.rstrip("/")
        self.supervisor_token = supervisor_token or Secret("")
        self._failures: OrderedDict[str, int] = OrderedDict()
        self._accepted: OrderedDict[str, float] = OrderedDict()

    @property
    def open(self) -> bool:
        """Whether any way in exists (a usable password or the supervisor's auth API)."""
        return bool(self.password) or self.uses_home_assistant

    @property
    def uses_home_assistant(self) -> bool:
        return bool(self.supervisor_url and self.supervisor_token)

    def delay_for(self, address: str) -> float:
        failures = self._failures.get(address, 0)
        return 0.0 if failures == 0 else min(MAX_DELAY, FIRST_DELAY * 2 ** (failures - 1))

    async def check(self, request: web.Request) -> bool:
        given = credentials(request)
        if given is None:
            return False
        address = request.remote or ""
        ok = await self._valid(given)
        if ok:
            self._failures.pop(address, None)
            return True
        self._failures[address] = self._failures.get(address, 0) + 1
        self._failures.move_to_end(address)
        while len(self._failures) > _TRACKED:
            self._failures.popitem(last=False)
        delay = self.delay_for(address)
        log.warning("direct port: wrong password from %s (answer delayed %.1f s)", address, delay)
        await asyncio.sleep(delay)
        return False

    async def _valid(self, given: Credentials) -> bool:
        if self.password and hmac.compare_digest(given.password.encode(), self.password.reveal().encode()):
            return True
        if not self.uses_home_assistant or not given.username:
            return False
        key = hashlib.sha256(f"{given.username}\0{given.password}".encode()).hexdigest()
        accepted_at = self._accepted.get(key)
        if accepted_at is not None and time.monotonic() - accepted_at < ACCEPTED_FOR:
            return True
        if not await self._supervisor_accepts(given):
            self._accepted.pop(key, None)
            return False
        self._accepted[key] = time.monotonic()
        while len(self._accepted) > _TRACKED:
            self._accepted.popitem(last=False)
        return True

    async def _supervisor_accepts(self, given: Credentials) -> bool:
        headers = {"Authorization": f"Bearer {self.supervisor_token.reveal()}"}
        body = {"username": given.username, "password": given.password}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.post(f"{self.supervisor_url}/auth", json=body, headers=headers) as answer,
            ):
                return answer.status == 200
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("direct port: the supervisor's auth API cannot be reached: %s", exc)
            return False

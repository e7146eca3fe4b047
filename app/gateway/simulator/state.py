"""The simulator's configuration, its state (clock, quota, tokens, faults) and the envelope answers
that both the v2 routes (`app`) and the legacy v1 routes (`legacy`) send."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from app.gateway.simulator import faults as fk
from app.gateway.simulator.faults import ALL_FAULTS, FaultInjector
from app.gateway.simulator.model import (
    SimulatedData,
    SimulatedUsagePoint,
    default_usage_points,
    utc_now,
)
from app.timeline import PARIS, UTC, paris_today

DEMO_CLIENT_ID = "cli_tJQk2IumjZwZhgM6gciox342XuoqRv3LNd87ECUT0QM"
DEMO_CLIENT_SECRET = "9u67mtoJH1iv1tIDf5gHHqYXzm5pH7N4zLw_sJhcyJT21Na13HXKYKiypI5T2al2Y10pzS8SDr9CpM6Am5s0XA"
DEMO_V1_TOKENS: dict[str, str] = {
    "09111111111111": "jjFMT_ATH7msgd9AN3ZptrZvmJgcvvU1WX2b4BCOJRg",
    "09222222222222": "cUukUedZ8TMueJzcWrJoYLyAaelZ3cl-qo7Gxpnti0s",
    "09333333333333": "38Ei54M51d58JE0RIW1ICEPmt4Qxjmna8EGb_NrMD1U",
}

TOKEN_LIFETIME = dt.timedelta(days=30)
BLACKLIST_DURATION = dt.timedelta(hours=24)
PUBLICATION_TIME = dt.time(8, 0)  # day D is published at 08:00 Paris on D+1
TEMPO_PUBLICATION_TIME = dt.time(10, 40)  # tomorrow's Tempo colour
DAILY_MAX_DAYS = 365
POWER_MAX_DAYS = 365
BATCH_MAX_DAYS = 729
BEFORE_ACTIVATION = "The requested period cannot be anterior to the meter's last activation date"


@dataclass
class SimulatorConfig:
    usage_points: list[SimulatedUsagePoint] = field(default_factory=default_usage_points)
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    seed: int = 42
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    v1_tokens: dict[str, str] = field(default_factory=lambda: dict(DEMO_V1_TOKENS))
    quota_cached: int = 1000
    quota_no_cache: int = 50
    fault_rate: float = 0.0
    fault_seed: int = 0
    faults: frozenset[str] = ALL_FAULTS
    timeout_delay: float = 2.0
    v1_quota: int = 50
    account_active: bool = True
    ecowatt_envelope: bool = False
    # The real gateway's habits (../shared/gateway-api.md sections 8 and 10), each switchable:
    # the daily consumption route refuses a start before today - N years (Paris date), naming the bound;
    daily_consumption_years: int | None = None
    # ... counted from a "today" this many days later than the client's (the gateway's clock and ours
    # may disagree: only the date it names is the truth)
    daily_consumption_bound_lag_days: int = 0
    # the daily routes treat `end` as exclusive on every window (False: inclusive, a lenient gateway);
    daily_end_exclusive: bool = True
    # a daily or max-power window starting before the meter's activation comes back empty as a whole.
    empty_before_activation: bool = False

    @classmethod
    def real_habits(cls, **overrides: Any) -> SimulatorConfig:
        """Every habit of the real gateway switched on (what the client must survive)."""
        values: dict[str, Any] = {
            "daily_consumption_years": 3,
            "daily_end_exclusive": True,
            "empty_before_activation": True,
        }
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class RequestLogEntry:
    route: str
    usage_point_id: str | None
    direction: str | None
    params: dict[str, str]
    status: int
    outcome: str
    counted: bool
    at: dt.datetime


@dataclass
class RequestInfo:
    """What a handler tells the logging middleware about the request it served."""

    route: str = "unknown"
    usage_point_id: str | None = None
    direction: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    outcome: str = "ok"
    counted: bool = False


class SimulatorState:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.data = SimulatedData(config.usage_points, config.seed)
        self.requests: list[RequestLogEntry] = []
        self.faults = FaultInjector(config.fault_rate, config.fault_seed, config.faults)
        self._tokens: dict[str, dt.datetime] = {}
        self.issued_tokens: list[str] = []  # every token ever issued, for tests that hunt leaks
        self._token_serial = 0
        self._quota: dict[dt.date, list[int]] = {}
        self._v1_calls: dict[tuple[str, dt.date], int] = {}
        self._v1_last_call: dict[str, dt.datetime] = {}
        self._blacklist: dict[tuple[str, dt.date], dt.datetime] = {}

    # ---- time ----
    def now(self) -> dt.datetime:
        now = self.config.clock()
        if now.tzinfo is None:
            raise ValueError("the simulator clock must return aware datetimes")
        return now.astimezone(UTC)

    def today(self) -> dt.date:
        return paris_today(self.now())

    def last_published_day(self) -> dt.date:
        """Yesterday from 08:00 Paris, the day before yesterday earlier."""
        local = self.now().astimezone(PARIS)
        back = 1 if local.time() >= PUBLICATION_TIME else 2
        return local.date() - dt.timedelta(days=back)

    def last_tempo_day(self) -> dt.date:
        local = self.now().astimezone(PARIS)
        ahead = 1 if local.time() >= TEMPO_PUBLICATION_TIME else 0
        return local.date() + dt.timedelta(days=ahead)

    def timestamp(self) -> str:
        return self.now().replace(tzinfo=None).isoformat()

    # ---- quota ----
    def quota_used(self, utc_day: dt.date | None = None) -> tuple[int, int]:
        day = utc_day or self.now().date()
        cached, no_cache = self._quota.get(day, [0, 0])
        return cached, no_cache

    def quota_limit(self, use_cache: bool) -> int:
        return self.config.quota_cached if use_cache else self.config.quota_no_cache

    def quota_exhausted(self, use_cache: bool) -> bool:
        return self.quota_used()[0 if use_cache else 1] >= self.quota_limit(use_cache)

    def count(self, use_cache: bool) -> None:
        counters = self._quota.setdefault(self.now().date(), [0, 0])
        counters[0 if use_cache else 1] += 1

    def reset_quota(self) -> None:
        self._quota.clear()
        self._v1_calls.clear()

    def v1_calls(self, usage_point_id: str) -> int:
        return self._v1_calls.get((usage_point_id, self.now().date()), 0)

    def v1_count(self, usage_point_id: str) -> None:
        key = (usage_point_id, self.now().date())
        self._v1_calls[key] = self._v1_calls.get(key, 0) + 1
        self._v1_last_call[usage_point_id] = self.now()

    def v1_last_call(self, usage_point_id: str) -> dt.datetime | None:
        return self._v1_last_call.get(usage_point_id)

    # ---- tokens ----
    def issue_token(self) -> str:
        self._token_serial += 1
        now = self.now()
        expires = now + TOKEN_LIFETIME
        header = _b64(b'{"alg":"HS256","typ":"JWT"}')
        claims = {"sub": "simulated-account", "iat": int(now.timestamp()), "exp": int(expires.timestamp())}
        claims["jti"] = self._token_serial
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        key = self.config.client_secret.encode()
        signature = _b64(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        token = f"{header}.{payload}.{signature}"
        self._tokens[token] = expires
        self.issued_tokens.append(token)
        return token

    def token_valid(self, token: str) -> bool:
        expires = self._tokens.get(token)
        return expires is not None and self.now() < expires

    def expire_tokens(self) -> None:
        self._tokens.clear()

    # ---- faults ----
    def force_fault(self, *kinds: str) -> None:
        """The next requests a fault applies to get these faults, in order."""
        self.faults.force(*kinds)

    # ---- batch blacklist (gateway-api.md section 10) ----
    def blacklist(self, usage_point_id: str, day: dt.date) -> None:
        self._blacklist[(usage_point_id, day)] = self.now() + BLACKLIST_DURATION

    def is_blacklisted(self, usage_point_id: str, day: dt.date) -> bool:
        until = self._blacklist.get((usage_point_id, day))
        return until is not None and self.now() < until

    def blacklisted_days(self, usage_point_id: str) -> list[dt.date]:
        return sorted(d for (p, d) in self._blacklist if p == usage_point_id and self.is_blacklisted(p, d))


SIMULATOR_STATE = web.AppKey("simulator_state", SimulatorState)
REQUEST_INFO = web.RequestKey("simulator_request_info", RequestInfo)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def state_of(request: web.Request) -> SimulatorState:
    return request.config_dict[SIMULATOR_STATE]


def info_of(request: web.Request) -> RequestInfo:
    return request[REQUEST_INFO]


# ---- responses ------------------------------------------------------------------------------------


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body), status=status, content_type="application/json", headers=headers
    )


def envelope(
    state: SimulatorState,
    data: object,
    *,
    success: bool = True,
    error: dict[str, object] | None = None,
    status: int = 200,
) -> web.Response:
    body = {"success": success, "data": data, "error": error, "timestamp": state.timestamp()}
    return json_response(body, status)


def error_detail(code: str, message: str, field_name: str | None = None) -> dict[str, object]:
    return {"code": code, "message": message, "field": field_name}


def failure(state: SimulatorState, info: RequestInfo, code: str, message: str) -> web.Response:
    info.outcome = f"error:{code}"
    return envelope(state, None, success=False, error=error_detail(code, message))


def detail(status: int, message: object, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"detail": message}, status, headers)


def validation_error(location: str, name: str, message: str, value: object = None) -> web.Response:
    """A FastAPI-style 422."""
    kind = "missing" if value is None else "value_error"
    item = {"type": kind, "loc": [location, name], "msg": message, "input": value}
    return detail(422, [item])


def transport_fault(state: SimulatorState, kind: str, *, enveloped: bool = True) -> web.Response:
    """The answer of a fault that replaces the whole response."""
    if kind == fk.HTTP_500:
        if not enveloped:
            return web.Response(text="Internal Server Error", status=500, content_type="text/plain")
        error = error_detail("INTERNAL_ERROR", "An unexpected error occurred")
        return envelope(state, None, success=False, error=error, status=500)
    if kind == fk.HTTP_502:
        html = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
        return web.Response(text=html, status=502, content_type="text/html")
    if kind == fk.HTTP_429:
        return detail(429, "Too Many Requests", {"Retry-After": "1"})
    if kind == fk.MALFORMED_JSON:
        text = '{"success": true, "data": {"meter_reading": {"interval_reading": [{"value": "12'
        return web.Response(text=text, status=200, content_type="application/json")
    if kind == fk.RATE_LIMIT_EXCEEDED:
        message = "Daily rate limit exceeded. Try again later."
        return envelope(state, None, success=False, error=error_detail("RATE_LIMIT_EXCEEDED", message))
    if kind == fk.ENEDIS_UNAVAILABLE:
        message = "Enedis API is temporarily unavailable, please retry later"
        return envelope(state, None, success=False, error=error_detail("ENEDIS_UNAVAILABLE", message))
    raise ValueError(f"{kind} does not replace the response")

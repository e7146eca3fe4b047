"""Legacy v1 gateway routes (gateway-api.md section 6): raw Enedis JSON, one token per usage point,
load-curve stamps at interval END, HTTP 409 over quota."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from app.domain import Direction
from app.gateway.simulator import faults as fk
from app.gateway.simulator.model import SimulatedUsagePoint, address_json, contract_json, day_layout
from app.gateway.simulator.state import RequestInfo, SimulatorState, info_of, transport_fault

LOAD_CURVE_MAX_DAYS = 7
_ENDPOINTS = {
    "daily_consumption": ("daily", Direction.CONSUMPTION),
    "consumption_load_curve": ("curve", Direction.CONSUMPTION),
    "daily_consumption_max_power": ("max_power", Direction.CONSUMPTION),
    "daily_production": ("daily", Direction.PRODUCTION),
    "production_load_curve": ("curve", Direction.PRODUCTION),
}
_TAIL = "{tail:(/cache)?/?}"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _EnedisError(Exception):
    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description


def _raw(body: object, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


def _detail(status: int, message: str) -> web.Response:
    return _raw({"detail": message}, status)


def register_legacy_routes(app: web.Application, state: SimulatorState, prefix: str = "/v1") -> None:
    def authenticate(request: web.Request, info: RequestInfo, pdl: str) -> web.Response | None:
        token = request.headers.get("Authorization", "").strip()
        if not token:
            info.outcome = "auth_failed"
            return _detail(401, "Missing Authorization header")
        expected = state.config.v1_tokens.get(pdl)
        if expected is None or not hmac.compare_digest(token, expected):
            info.outcome = "auth_failed"
            return _detail(403, "Access denied: invalid token for this usage point")
        return None

    def over_quota(info: RequestInfo, pdl: str) -> web.Response | None:
        calls = state.v1_calls(pdl)
        limit = state.config.v1_quota
        if calls >= limit:
            info.outcome = "rate_limited"
            return _detail(409, f"Quota journalier atteint ({calls}/{limit} appels). Réessayez demain.")
        return None

    async def counted(info: RequestInfo, pdl: str, produce: Callable[[], web.Response]) -> web.Response:
        """Quota, faults and Enedis errors shared by every counted v1 route."""
        refused = over_quota(info, pdl)
        if refused is not None:
            return refused
        kind = state.faults.draw(fk.TRANSPORT_FAULTS)
        info.counted = kind not in fk.UNCOUNTED_FAULTS
        if info.counted:
            state.v1_count(pdl)
        if kind is not None:
            info.outcome = f"fault:{kind}"
            if kind != fk.TIMEOUT:
                return transport_fault(state, kind, enveloped=False)
        try:
            response = produce()
        except _EnedisError as error:
            if kind is None:
                info.outcome = f"error:{error.code}"
            response = _raw({"error": error.code, "error_description": error.description}, error.status)
        if kind == fk.TIMEOUT:
            info.status = response.status
            await asyncio.sleep(state.config.timeout_delay)
        return response

    def metering(point: SimulatedUsagePoint, endpoint: str, start: dt.date, end: dt.date) -> web.Response:
        kind, direction = _ENDPOINTS[endpoint]
        if not point.consent:
            raise _EnedisError(
                403, "ADAM-DC-0008", "No consent can be found for this customer and this usage point"
            )
        if start >= end:
            raise _EnedisError(400, "ADAM-ERR0125", "The start date must be before the end date")
        if direction is Direction.PRODUCTION and not point.has_production:
            raise _EnedisError(400, "ADAM-ERR0069", "This usage point does not have a production contract")
        if kind == "curve":
            if (end - start).days > LOAD_CURVE_MAX_DAYS:
                raise _EnedisError(400, "ADAM-ERR0125", "The requested period cannot exceed 7 days")
            if not point.load_curve_enabled:
                raise _EnedisError(
                    404, "no_data_found", "STM-ERR-0000014: no measure found for this usage point"
                )
        if end <= point.activation_date:
            raise _EnedisError(
                400,
                "ADAM-ERR0123",
                "The requested period cannot be anterior to the meter's last activation date",
            )
        stop = min(end, state.last_published_day() + dt.timedelta(days=1))
        first = max(start, point.activation_date)
        days = [first + dt.timedelta(days=i) for i in range(max(0, (stop - first).days))]
        pdl = point.usage_point_id
        readings: list[dict[str, Any]] = []
        if kind == "daily":
            reading_type = {
                "unit": "Wh",
                "measurement_kind": "energy",
                "aggregate": "sum",
                "measuring_period": "P1D",
            }
            readings = [
                {"value": str(state.data.daily_wh(pdl, direction, d)), "date": d.isoformat()} for d in days
            ]
        elif kind == "max_power":
            reading_type = {
                "unit": "VA",
                "measurement_kind": "power",
                "aggregate": "maximum",
                "measuring_period": "P1D",
            }
            for day in days:
                va, moment = state.data.max_power(pdl, day)
                readings.append({"value": str(va), "date": moment.isoformat(" ")})
        else:
            reading_type = {"unit": "W", "measurement_kind": "power", "aggregate": "average"}
            length = f"PT{point.interval_minutes}M"
            for day in days:
                # raw Enedis order (UTC order) and interval-END stamps
                layout = day_layout(day, point.interval_minutes)
                values = state.data.curve_values(pdl, direction, day)
                readings.extend(
                    {
                        "value": None if v is None else str(v),
                        "date": s,
                        "interval_length": length,
                        "measure_type": "B",
                    }
                    for s, v in zip(layout.end_strings, values, strict=True)
                )
        meter = {
            "usage_point_id": pdl,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "quality": "BRUT",
            "reading_type": reading_type,
            "interval_reading": readings,
        }
        return _raw({"meter_reading": meter})

    def begin(request: web.Request, route: str) -> tuple[RequestInfo, str]:
        info = info_of(request)
        info.route = route
        pdl = request.match_info["pdl"]
        info.usage_point_id = pdl
        return info, pdl

    async def metering_route(request: web.Request) -> web.StreamResponse:
        endpoint = request.match_info["endpoint"]
        info, pdl = begin(request, f"v1_{endpoint}")
        info.direction = _ENDPOINTS[endpoint][1].value
        info.params = {"start": request.match_info["start"], "end": request.match_info["end"]}
        if request.match_info["tail"].startswith("/cache"):
            info.params["cache"] = "true"
        denied = authenticate(request, info, pdl)
        if denied is not None:
            return denied
        try:
            start = dt.date.fromisoformat(request.match_info["start"])
            end = dt.date.fromisoformat(request.match_info["end"])
        except ValueError:
            info.outcome = "error:validation"
            return _detail(422, "Invalid date, expected YYYY-MM-DD")
        point = state.data.point(pdl) if state.data.has_point(pdl) else None
        if point is None:
            info.outcome = "auth_failed"
            return _detail(403, "Access denied: invalid token for this usage point")
        return await counted(info, pdl, lambda: metering(point, endpoint, start, end))

    def static_route(route: str, build: Callable[[SimulatedUsagePoint], dict[str, object]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            info, pdl = begin(request, route)
            denied = authenticate(request, info, pdl)
            if denied is not None:
                return denied
            if not state.data.has_point(pdl):
                info.outcome = "auth_failed"
                return _detail(403, "Access denied: invalid token for this usage point")
            point = state.data.point(pdl)

            def produce() -> web.Response:
                if not point.consent:
                    raise _EnedisError(
                        403, "ADAM-DC-0008", "No consent can be found for this customer and this usage point"
                    )
                return _raw(build(point))

            return await counted(info, pdl, produce)

        return handler

    async def valid_access_route(request: web.Request) -> web.StreamResponse:
        info, pdl = begin(request, "v1_valid_access")
        denied = authenticate(request, info, pdl)
        if denied is not None:
            return denied
        now = state.now()
        calls = state.v1_calls(pdl)
        limit = state.config.v1_quota
        last_call = state.v1_last_call(pdl)
        consent = state.data.has_point(pdl) and state.data.point(pdl).consent
        expiration = (now + dt.timedelta(days=300)).replace(tzinfo=None, microsecond=0)
        body = {
            "valid": consent,
            "consent_expiration_date": expiration.isoformat(),
            "call_number": calls,
            "quota_reached": calls >= limit,
            "quota_limit": limit,
            "quota_reset_at": f"{now.date().isoformat()}T23:59:59.999999",
            "last_call": last_call.replace(tzinfo=None).isoformat() if last_call else None,
            "ban": False,
        }
        return _raw(body)

    async def tempo_route(request: web.Request) -> web.StreamResponse:
        info = info_of(request)
        info.route = "v1_tempo"
        info.params = {"start": request.match_info["start"], "end": request.match_info["end"]}
        try:
            start = dt.date.fromisoformat(request.match_info["start"])
            end = dt.date.fromisoformat(request.match_info["end"])
        except ValueError:
            info.outcome = "error:validation"
            return _detail(422, "Invalid date, expected YYYY-MM-DD")
        # Enedis-style [start, end), limited to the colours already published
        stop = min(end, state.last_tempo_day() + dt.timedelta(days=1))
        days = [start + dt.timedelta(days=i) for i in range(max(0, (stop - start).days))]
        return _raw({d.isoformat(): state.data.tempo_color(d).lower() for d in days})

    endpoints = "|".join(_ENDPOINTS)
    router = app.router
    router.add_get(
        f"{prefix}/{{endpoint:({endpoints})}}/{{pdl}}/start/{{start}}/end/{{end}}{_TAIL}", metering_route
    )
    router.add_get(f"{prefix}/valid_access/{{pdl}}{_TAIL}", valid_access_route)
    router.add_get(f"{prefix}/contracts/{{pdl}}{_TAIL}", static_route("v1_contracts", contract_json))
    router.add_get(f"{prefix}/addresses/{{pdl}}{_TAIL}", static_route("v1_addresses", address_json))
    router.add_get(f"{prefix}/rte/tempo/{{start}}/{{end}}{{tail:/?}}", tempo_route)

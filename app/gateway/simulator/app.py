"""The simulated MyElectricalData v2 gateway (aiohttp), with the legacy v1 routes under /v1.

It follows ../shared/gateway-api.md: the envelope, authentication, per-UTC-day quota buckets, the
route traps of section 10, and seeded faults. "Now" is always `config.clock()`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from app.domain import Direction
from app.gateway.simulator import faults as fk
from app.gateway.simulator.legacy import register_legacy_routes
from app.gateway.simulator.model import (
    TEMPO_RED_DAYS,
    TEMPO_WHITE_DAYS,
    SimulatedUsagePoint,
    address_json,
    contract_json,
    day_layout,
)
from app.gateway.simulator.state import (
    BATCH_MAX_DAYS,
    BEFORE_ACTIVATION,
    DAILY_MAX_DAYS,
    POWER_MAX_DAYS,
    REQUEST_INFO,
    SIMULATOR_STATE,
    RequestInfo,
    RequestLogEntry,
    SimulatorConfig,
    SimulatorState,
    detail,
    envelope,
    error_detail,
    failure,
    info_of,
    json_response,
    state_of,
    transport_fault,
    validation_error,
)
from app.timeline import PARIS, add_months

logger = logging.getLogger(__name__)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SENSITIVE_PARAMS = frozenset({"client_id", "client_secret", "access_token", "token", "password"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def parse_bool(value: str | None, default: bool) -> bool | None:
    """FastAPI's bool parsing; None when the value is not a boolean."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on", "t", "y"):
        return True
    if lowered in ("false", "0", "no", "off", "f", "n"):
        return False
    return None


def parse_strict_date(value: str) -> dt.date | None:
    if not _DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def public_params(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.query.items() if k.lower() not in _SENSITIVE_PARAMS}


def check_bearer(request: web.Request, state: SimulatorState) -> web.Response | None:
    header = request.headers.get("Authorization")
    if not header:
        return detail(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    valid = scheme.lower() == "bearer" and bool(value)
    if valid and not (hmac.compare_digest(value, state.config.client_secret) or state.token_valid(value)):
        valid = False
    if not valid:
        return detail(401, "Invalid authentication credentials", {"WWW-Authenticate": "Bearer"})
    if not state.config.account_active:
        return detail(403, "Inactive account")
    return None


# ---- middleware: request log ----------------------------------------------------------------------


@web.middleware
async def _log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = state_of(request)
    info = RequestInfo(params=public_params(request))
    request[REQUEST_INFO] = info
    response: web.StreamResponse | None = None
    try:
        response = await handler(request)
        return response
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
        info.outcome = f"http:{exc.status}"
        response = detail(exc.status, exc.reason)
        return response
    except web.HTTPException as exc:
        info.status = exc.status
        info.outcome = f"http:{exc.status}"
        raise
    finally:
        status = response.status if response is not None else (info.status or 0)
        state.requests.append(
            RequestLogEntry(
                route=info.route,
                usage_point_id=info.usage_point_id,
                direction=info.direction,
                params=info.params,
                status=status,
                outcome=info.outcome,
                counted=info.counted,
                at=state.now(),
            )
        )
        logger.debug("%s %s -> %s (%s)", request.method, request.path, status, info.outcome)


# ---- accounts -------------------------------------------------------------------------------------


async def token_route(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    info = info_of(request)
    info.route = "token"
    info.params = {}
    form = await request.post()
    client_id = form.get("client_id")
    client_secret = form.get("client_secret")
    basic = request.headers.get("Authorization", "")
    if basic.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(basic[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if ":" in decoded:
            client_id, _, client_secret = decoded.partition(":")
    grant_type = form.get("grant_type")
    if grant_type is not None and grant_type != "client_credentials":
        info.outcome = "error:unsupported_grant_type"
        return detail(400, "unsupported_grant_type")
    if (
        not isinstance(client_id, str)
        or not client_id
        or not isinstance(client_secret, str)
        or not client_secret
    ):
        info.outcome = "auth_failed"
        missing = "client_id" if not isinstance(client_id, str) or not client_id else "client_secret"
        return validation_error("body", missing, "Field required")
    config = state.config
    if not (
        hmac.compare_digest(client_id, config.client_id)
        and hmac.compare_digest(client_secret, config.client_secret)
    ):
        info.outcome = "auth_failed"
        return detail(401, "Invalid client credentials")
    if not config.account_active:
        info.outcome = "auth_failed"
        return detail(403, "Inactive account")
    return json_response({"access_token": state.issue_token(), "token_type": "bearer"})


async def usage_stats_route(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    info = info_of(request)
    info.route = "usage_stats"
    denied = check_bearer(request, state)
    if denied is not None:
        info.outcome = "auth_failed"
        return denied
    day = state.now().date()
    cached, no_cache = state.quota_used(day)
    data = {
        "cached_requests": cached,
        "no_cache_requests": no_cache,
        "cached_limit": state.config.quota_cached,
        "no_cache_limit": state.config.quota_no_cache,
        "date": day.isoformat(),
    }
    return envelope(state, data)


# ---- /pdl -----------------------------------------------------------------------------------------


def pdl_json(point: SimulatedUsagePoint, index: int) -> dict[str, object]:
    offpeak: object = None
    if point.offpeak_hours:
        # both forms the real gateway serves: a list of strings, or the legacy {"default": ...}
        offpeak = [point.offpeak_hours] if index % 2 == 0 else {"default": point.offpeak_hours}
    activation = point.announced_activation.isoformat()
    return {
        "id": f"pdl-{point.usage_point_id}",
        "usage_point_id": point.usage_point_id,
        "name": point.name,
        "subscribed_power": point.subscribed_power_kva,
        "offpeak_hours": offpeak,
        "pricing_option": point.pricing_option,
        "has_consumption": True,
        "has_production": point.has_production,
        "is_active": True,
        "oldest_available_data_date": activation,
        "activation_date": activation,
        "linked_production_pdl_id": None,
        "display_order": index,
    }


async def pdl_route(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    info = info_of(request)
    info.route = "pdl"
    denied = check_bearer(request, state)
    if denied is not None:
        info.outcome = "auth_failed"
        return denied
    return envelope(state, [pdl_json(p, i) for i, p in enumerate(state.data.points)])


# ---- /enedis routes -------------------------------------------------------------------------------


@dataclass
class Answer:
    """What an /enedis route produced before faults are applied."""

    data: object = None
    success: bool = True
    error: dict[str, object] | None = None
    status: int = 200
    # batch routes: readings per day, assembled into `data` after faults
    days: list[tuple[dt.date, list[dict[str, Any]]]] | None = None
    meter: dict[str, object] | None = None


class _FailError(Exception):
    def __init__(self, code: str, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


Producer = Callable[[SimulatorState, SimulatedUsagePoint, web.Request], Answer]


def _dates(request: web.Request) -> tuple[dt.date, dt.date]:
    """start/end query params; a malformed date is an HTTP 500 (the quota unit is already spent)."""
    start = parse_strict_date(request.query["start"])
    end = parse_strict_date(request.query["end"])
    if start is None or end is None:
        raise _FailError("INTERNAL_ERROR", "An unexpected error occurred: invalid date format", status=500)
    return start, end


def _history_limit(state: SimulatorState, months: int) -> dt.date:
    return add_months(state.today(), -months) - dt.timedelta(days=15)


def _check_too_old(state: SimulatorState, start: dt.date, months: int) -> None:
    limit = _history_limit(state, months)
    if start < limit:
        raise _FailError(
            "DATE_TOO_OLD",
            f"Start date is too old. Only {months} months and 15 days of history are available. "
            f"Oldest allowed date: {limit.isoformat()}",
        )


def _check_daily_years(state: SimulatorState, start: dt.date, direction: Direction) -> None:
    """The gateway's own daily consumption bound: today - N years, stricter than Enedis' (section 8)."""
    years = state.config.daily_consumption_years
    if years is None or direction is not Direction.CONSUMPTION:
        return
    limit = add_months(state.today(), -12 * years) + dt.timedelta(
        days=state.config.daily_consumption_bound_lag_days
    )
    if start < limit:
        raise _FailError(
            "DATE_TOO_OLD",
            f"Start date is too old. Only {years} years of history are available. "
            f"Oldest allowed date: {limit.isoformat()}",
        )


def _check_consent(point: SimulatedUsagePoint) -> None:
    if not point.consent:
        raise _FailError(
            "ENEDIS_ERROR", "ADAM-DC-0008: No consent can be found for this customer and this usage point"
        )


def _check_production(point: SimulatedUsagePoint, direction: Direction) -> None:
    if direction is Direction.PRODUCTION and not point.has_production:
        raise _FailError("ENEDIS_ERROR", "ADAM-ERR0069: This usage point does not have a production contract")


def _days(first: dt.date, stop: dt.date) -> list[dt.date]:
    """Days of [first, stop)."""
    return [first + dt.timedelta(days=i) for i in range((stop - first).days)]


def _meter(
    point: SimulatedUsagePoint, start: dt.date, end: dt.date, reading_type: dict[str, str]
) -> dict[str, Any]:
    return {
        "usage_point_id": point.usage_point_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "quality": "BRUT",
        "reading_type": reading_type,
    }


def _daily_producer(direction: Direction) -> Producer:
    def produce(state: SimulatorState, point: SimulatedUsagePoint, request: web.Request) -> Answer:
        start, end = _dates(request)
        if start >= end:
            raise _FailError("INVALID_DATE_RANGE", "Start date must be before end date")
        if (end - start).days > DAILY_MAX_DAYS:
            raise _FailError("INVALID_DATE_RANGE", f"Date range cannot exceed {DAILY_MAX_DAYS} days")
        _check_too_old(state, start, 36)
        _check_daily_years(state, start, direction)
        _check_consent(point)
        _check_production(point, direction)
        # the trap: end is capped at yesterday and kept exclusive, so yesterday never comes back
        yesterday = state.today() - dt.timedelta(days=1)
        stop = min(end if state.config.daily_end_exclusive else end + dt.timedelta(days=1), yesterday)
        first = max(start, point.activation_date)
        if state.config.empty_before_activation and start < point.activation_date:
            first = stop  # the whole window comes back empty
        wh = state.data.daily_wh
        pdl = point.usage_point_id
        readings = [{"value": str(wh(pdl, direction, d)), "date": d.isoformat()} for d in _days(first, stop)]
        reading_type = {
            "unit": "Wh",
            "measurement_kind": "energy",
            "aggregate": "sum",
            "measuring_period": "P1D",
        }
        meter = _meter(point, start, end, reading_type)
        meter["interval_reading"] = readings
        return Answer(data={"meter_reading": meter})

    return produce


def batch_day_readings(
    state: SimulatorState, point: SimulatedUsagePoint, direction: Direction, day: dt.date
) -> list[dict[str, Any]]:
    layout = day_layout(day, point.interval_minutes)
    values = state.data.curve_values_sorted(point.usage_point_id, direction, day)
    length = f"PT{point.interval_minutes}M"
    return [
        {"value": None if v is None else str(v), "date": s, "interval_length": length, "measure_type": "B"}
        for s, v in zip(layout.start_strings_sorted, values, strict=True)
    ]


def _batch_producer(direction: Direction) -> Producer:
    def produce(state: SimulatorState, point: SimulatedUsagePoint, request: web.Request) -> Answer:
        start, end = _dates(request)
        if start > end:
            raise _FailError("INVALID_DATE_RANGE", "Start date must be before or equal to end date")
        if (end - start).days + 1 > BATCH_MAX_DAYS:
            raise _FailError("INVALID_DATE_RANGE", f"Date range cannot exceed {BATCH_MAX_DAYS} days")
        _check_too_old(state, start, 24)
        _check_consent(point)
        _check_production(point, direction)
        if not point.load_curve_enabled:
            raise _FailError(
                "ENEDIS_ERROR",
                "STM-ERR-0000014: no_data_found - load curve collection is not enabled for this usage point",
            )
        pdl = point.usage_point_id
        yesterday = state.today() - dt.timedelta(days=1)
        last = min(end, yesterday)
        if start <= yesterday <= end and state.last_published_day() < yesterday:
            # asked for a day Enedis has not published yet: hidden for 24 h, every direction
            state.blacklist(pdl, yesterday)
        reading_type = {"unit": "W", "measurement_kind": "power", "aggregate": "average"}
        meter = _meter(point, start, end, reading_type)
        activation = point.activation_date
        if start < activation and last < activation:
            raise _FailError(
                "ADAM-ERR0123",
                BEFORE_ACTIVATION,
            )
        days = [
            (d, batch_day_readings(state, point, direction, d))
            for d in _days(max(start, activation), last + dt.timedelta(days=1))
            if not state.is_blacklisted(pdl, d)
        ]
        answer = Answer(days=days, meter=meter)
        if start < activation:
            answer.error = error_detail(
                "PARTIAL_DATA",
                f"Failed to fetch {start.isoformat()} to {activation.isoformat()}: "
                f"ADAM-ERR0123: {BEFORE_ACTIVATION}",
            )
        return answer

    return produce


def _power_producer(state: SimulatorState, point: SimulatedUsagePoint, request: web.Request) -> Answer:
    start, end = _dates(request)
    if start >= end:
        raise _FailError("INVALID_DATE_RANGE", "Start date must be before end date")
    if (end - start).days > POWER_MAX_DAYS:
        raise _FailError("INVALID_DATE_RANGE", f"Date range cannot exceed {POWER_MAX_DAYS} days")
    _check_too_old(state, start, 36)
    _check_consent(point)
    activation = point.activation_date
    if end <= activation:
        return Answer(
            data={
                "error": "ADAM-ERR0123",
                "error_description": BEFORE_ACTIVATION,
            }
        )
    stop = min(end, state.last_published_day() + dt.timedelta(days=1))
    if state.config.empty_before_activation and start < activation:
        stop = start  # the whole window comes back empty
    readings = []
    for day in _days(max(start, activation), stop):
        va, moment = state.data.max_power(point.usage_point_id, day)
        readings.append({"value": str(va), "date": moment.isoformat(" ")})
    reading_type = {
        "unit": "VA",
        "measurement_kind": "power",
        "aggregate": "maximum",
        "measuring_period": "P1D",
    }
    meter = _meter(point, start, end, reading_type)
    meter["interval_reading"] = readings
    return Answer(data={"meter_reading": meter})


def _contract_producer(state: SimulatorState, point: SimulatedUsagePoint, request: web.Request) -> Answer:
    _check_consent(point)
    return Answer(data=contract_json(point))


def _address_producer(state: SimulatorState, point: SimulatedUsagePoint, request: web.Request) -> Answer:
    _check_consent(point)
    return Answer(data=address_json(point))


def _apply_batch_fault(state: SimulatorState, kind: str | None, answer: Answer) -> None:
    if answer.days is None or not answer.success:
        return
    rng = state.faults.rng
    if kind == fk.PARTIAL_DATA:
        days = answer.days
        if days:
            count = rng.randint(1, max(1, len(days) // 3))
            first = rng.randrange(len(days) - count + 1)
            dropped = days[first : first + count]
            del days[first : first + count]
            message = (
                f"Failed to fetch {dropped[0][0].isoformat()} to {dropped[-1][0].isoformat()}: "
                "Enedis API error (chunk failed)"
            )
        else:
            message = "Some chunks could not be fetched from Enedis"
        answer.error = error_detail("PARTIAL_DATA", message)
    elif kind == fk.DUPLICATE_DAYS and answer.days:
        index = rng.randrange(len(answer.days))
        day, readings = answer.days[index]
        # the gateway concatenates cached and fresh chunks, then sorts by stamp (a stable sort)
        answer.days[index] = (day, sorted(readings + readings, key=lambda r: str(r["date"])))


def _finish_batch(answer: Answer) -> None:
    if answer.days is None or answer.meter is None:
        return
    readings: list[dict[str, Any]] = []
    for _, day_readings in answer.days:
        readings.extend(day_readings)
    meter = dict(answer.meter)
    meter["interval_reading"] = readings
    answer.data = {"meter_reading": meter}


def enedis_route(
    route: str, direction: Direction | None, producer: Producer, *, batch: bool = False
) -> Handler:
    applicable = fk.BATCH_FAULTS if batch else fk.ENVELOPE_FAULTS
    required = ("start", "end") if route in ("daily", "detail_batch", "power") else ()

    async def handler(request: web.Request) -> web.StreamResponse:
        state = state_of(request)
        info = info_of(request)
        info.route = route
        info.direction = direction.value if direction is not None else None
        pdl = request.match_info["pdl"]
        info.usage_point_id = pdl
        denied = check_bearer(request, state)
        if denied is not None:
            info.outcome = "auth_failed"
            return denied
        for name in required:
            if name not in request.query:
                info.outcome = "error:validation"
                return validation_error("query", name, "Field required")
        use_cache = parse_bool(request.query.get("use_cache"), default=batch)
        if use_cache is None:
            info.outcome = "error:validation"
            return validation_error(
                "query", "use_cache", "Input should be a valid boolean", request.query["use_cache"]
            )
        if not state.data.has_point(pdl):
            return failure(state, info, "ACCESS_DENIED", "Access denied: PDL not found or not owned by user")
        if state.quota_exhausted(use_cache):
            info.outcome = "rate_limited"
            used = state.quota_used()[0 if use_cache else 1]
            limit = state.quota_limit(use_cache)
            hint = "Try again tomorrow." if use_cache else "Use cache to increase limit."
            message = f"Daily rate limit exceeded ({used}/{limit}). {hint}"
            return envelope(state, None, success=False, error=error_detail("RATE_LIMIT_EXCEEDED", message))
        kind = state.faults.draw(applicable)
        info.counted = kind not in fk.UNCOUNTED_FAULTS
        if info.counted:
            state.count(use_cache)
        if kind is not None:
            info.outcome = f"fault:{kind}"
            if kind not in (fk.TIMEOUT, fk.PARTIAL_DATA, fk.DUPLICATE_DAYS):
                return transport_fault(state, kind)
        point = state.data.point(pdl)
        try:
            answer = producer(state, point, request)
        except _FailError as fail:
            answer = Answer(success=False, error=error_detail(fail.code, fail.message), status=fail.status)
        _apply_batch_fault(state, kind, answer)
        _finish_batch(answer)
        if kind is None:
            if not answer.success:
                info.outcome = f"error:{answer.error['code'] if answer.error else 'UNKNOWN'}"
            elif answer.error is not None:
                info.outcome = "partial"
        response = envelope(
            state, answer.data, success=answer.success, error=answer.error, status=answer.status
        )
        if kind == fk.TIMEOUT:
            info.status = response.status
            await asyncio.sleep(state.config.timeout_delay)
        return response

    return handler


# ---- free and public routes -----------------------------------------------------------------------


async def tempo_route(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    info = info_of(request)
    info.route = "tempo"
    last_known = state.last_tempo_day()
    bounds: dict[str, dt.date] = {}
    for name in ("start_date", "end_date"):
        raw = request.query.get(name)
        if raw is None:
            continue
        parsed = parse_strict_date(raw)
        if parsed is None:
            info.outcome = "error:validation"
            return validation_error(
                "query", name, "Input should be a valid date in the format YYYY-MM-DD", raw
            )
        bounds[name] = parsed
    end = bounds.get("end_date", last_known)
    start = bounds.get("start_date", end - dt.timedelta(days=31))
    # start_date is exclusive, end_date inclusive; unknown future colours are simply absent
    days = _days(start + dt.timedelta(days=1), min(end, last_known) + dt.timedelta(days=1))
    data = [{"date": d.isoformat(), "color": state.data.tempo_color(d)} for d in days]
    return envelope(state, data)


TEMPO_FORECAST_COLOURS = ("BLUE", "WHITE", "RED")


def tempo_forecast_body(state: SimulatorState, days: int) -> dict[str, Any]:
    """The coming days with probabilities: the simulator's true colour is the most likely one, less
    surely the further the day; season counts up to the last published day (300/43/22 per season)."""
    today = state.now().astimezone(PARIS).date()
    last_known = state.last_tempo_day()
    season = today.year if today.month >= 9 else today.year - 1
    first = dt.date(season, 9, 1)
    used = {c: 0 for c in TEMPO_FORECAST_COLOURS}
    day = first
    while day <= last_known:
        used[state.data.tempo_color(day)] += 1
        day += dt.timedelta(days=1)
    quota = {"RED": TEMPO_RED_DAYS, "WHITE": TEMPO_WHITE_DAYS}
    quota["BLUE"] = (dt.date(season + 1, 9, 1) - first).days - quota["RED"] - quota["WHITE"]
    stats: dict[str, Any] = {}
    for colour in TEMPO_FORECAST_COLOURS:
        name = colour.lower()
        stats[f"{name}_used"] = used[colour]
        stats[f"{name}_remaining"] = max(0, quota[colour] - used[colour])
        stats[f"{name}_total"] = quota[colour]
    forecasts = []
    for offset in range(1, days + 1):
        day = today + dt.timedelta(days=offset)
        truth = state.data.tempo_color(day)
        top = 0.96 if day <= last_known else max(0.4, 0.86 - 0.09 * offset)
        others = [c for c in TEMPO_FORECAST_COLOURS if c != truth]
        probabilities = {truth: top, others[0]: (1 - top) * 0.6, others[1]: (1 - top) * 0.4}
        forecasts.append(
            {
                "date": day.isoformat(),
                **{f"probability_{c.lower()}": round(p, 3) for c, p in probabilities.items()},
                "most_likely": truth,
                "confidence": round(top, 3),
                "day_of_week": day.weekday(),
            }
        )
    return {
        "season": f"{season}-{season + 1}",
        "season_stats": stats,
        "forecasts": forecasts,
        "generated_at": state.now().astimezone(PARIS).replace(minute=0, second=0, microsecond=0).isoformat(),
    }


async def tempo_forecast_route(request: web.Request) -> web.StreamResponse:
    """`GET /tempo/forecast?days=1..6` (no auth, no quota)."""
    state = state_of(request)
    info = info_of(request)
    info.route = "tempo_forecast"
    raw = request.query.get("days", "6")
    if not raw.isdigit() or not 1 <= int(raw) <= 6:
        info.outcome = "error:validation"
        return validation_error("query", "days", "Input should be between 1 and 6", raw)
    return envelope(state, tempo_forecast_body(state, int(raw)))


async def ecowatt_route(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    info = info_of(request)
    info.route = "ecowatt"
    denied = check_bearer(request, state)
    if denied is not None:
        info.outcome = "auth_failed"
        return denied
    raw = request.query.get("days", "4")
    if not raw.isdigit() or not 1 <= int(raw) <= 7:
        info.outcome = "error:validation"
        return validation_error("query", "days", "Input should be between 1 and 7", raw)
    used = state.quota_used()[1]
    limit = state.config.quota_no_cache
    if used >= limit:
        info.outcome = "rate_limited"
        return detail(429, f"Rate limit exceeded: {used}/{limit} requests today")
    kind = state.faults.draw(fk.TRANSPORT_FAULTS)
    info.counted = kind not in fk.UNCOUNTED_FAULTS
    if info.counted:
        state.count(use_cache=False)
    if kind is not None:
        info.outcome = f"fault:{kind}"
        if kind != fk.TIMEOUT:
            return transport_fault(state, kind, enveloped=state.config.ecowatt_envelope)
    now_local = state.now().astimezone(PARIS)
    generated = now_local.replace(minute=0, second=0, microsecond=0).isoformat()
    today = now_local.date()
    forecast = []
    for offset in range(int(raw)):
        day = today + dt.timedelta(days=offset)
        dvalue, values, message = state.data.ecowatt_day(day)
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=PARIS)
        forecast.append(
            {
                "periode": midnight.isoformat(),
                "dvalue": dvalue,
                "message": message,
                "values": values,
                "hdebut": 0,
                "hfin": 23,
                "generation_datetime": generated,
            }
        )
    response = envelope(state, forecast) if state.config.ecowatt_envelope else json_response(forecast)
    if kind == fk.TIMEOUT:
        info.status = response.status
        await asyncio.sleep(state.config.timeout_delay)
    return response


async def offers_route(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    info = info_of(request)
    info.route = "offers"
    include_history = parse_bool(request.query.get("include_history"), default=False)
    if include_history is None:
        info.outcome = "error:validation"
        return validation_error("query", "include_history", "Input should be a valid boolean", "?")
    provider = request.query.get("provider_id")
    now = state.now()
    offers = []
    for offer in state.data.offers():
        if provider and provider not in (offer["provider_id"], offer["provider"]):
            continue
        valid_to = offer["valid_to"]
        if not include_history and isinstance(valid_to, str) and dt.datetime.fromisoformat(valid_to) < now:
            continue
        offers.append(offer)
    offers.sort(key=lambda o: str(o["valid_from"]), reverse=True)
    return envelope(state, offers)


# ---- application ----------------------------------------------------------------------------------


def create_simulator_app(config: SimulatorConfig | None = None) -> web.Application:
    state = SimulatorState(config or SimulatorConfig())
    app = web.Application(middlewares=[_log_requests])
    app[SIMULATOR_STATE] = state
    router = app.router
    router.add_post("/accounts/token", token_route)
    router.add_get("/accounts/usage-stats", usage_stats_route)
    router.add_get("/pdl", pdl_route)
    router.add_get("/pdl/", pdl_route)
    for direction in Direction:
        name = direction.value
        router.add_get(
            f"/enedis/{name}/daily/{{pdl}}", enedis_route("daily", direction, _daily_producer(direction))
        )
        router.add_get(
            f"/enedis/{name}/detail/batch/{{pdl}}",
            enedis_route("detail_batch", direction, _batch_producer(direction), batch=True),
        )
    router.add_get("/enedis/power/{pdl}", enedis_route("power", Direction.CONSUMPTION, _power_producer))
    router.add_get("/enedis/contract/{pdl}", enedis_route("contract", None, _contract_producer))
    router.add_get("/enedis/address/{pdl}", enedis_route("address", None, _address_producer))
    router.add_get("/tempo/days", tempo_route)
    router.add_get("/tempo/forecast", tempo_forecast_route)
    router.add_get("/ecowatt/forecast", ecowatt_route)
    router.add_get("/energy/offers", offers_route)
    register_legacy_routes(app, state, prefix="/v1")
    return app

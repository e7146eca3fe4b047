"""The JSON API behind every chart (`/api/...`), its CSV downloads (`format=csv`) and `/api/openapi.json`.

Bad parameters get a 400 with a readable message naming the parameter; an unknown usage point a 404.
The query parameter readers (`query_*`), `chart_answer` and `guarded` are shared with `cost_api`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from app import tariff_rules
from app.costing import contract_timeline, offpeak_hours
from app.domain import Direction, UsagePoint, subscribed_power
from app.store import Store
from app.tempo_forecast import stored_forecast
from app.web import charts
from app.web.cache import CACHE, Answer, keep_warm
from app.web.charts import VIEWS, Chart, Period, View
from app.web.context import (
    EARLIEST_DAY,
    LATEST_DAYS_AHEAD,
    SERVICE,
    lang_of,
    require_store,
    today,
    today_of,
)
from app.web.openapi import document


class BadParameterError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def query_date(request: web.Request, name: str, default: dt.date | None = None) -> dt.date:
    value = request.query.get(name)
    if not value:
        if default is None:
            raise BadParameterError(name, f"{name} is required (YYYY-MM-DD)")
        return default
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameterError(name, f"{name}={value[:40]!r} is not a date (YYYY-MM-DD)") from None
    latest = today(request) + dt.timedelta(days=LATEST_DAYS_AHEAD)
    if not EARLIEST_DAY <= day <= latest:
        raise BadParameterError(name, f"{name}={value} is out of range ({EARLIEST_DAY} to {latest})")
    return day


def query_choice(request: web.Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query.get(name, default)
    if value not in choices:
        raise BadParameterError(name, f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


async def query_point(request: web.Request, store: Store) -> UsagePoint:
    """The usage point named by `pdl` (required): a 400 without it, a 404 when the account has none such."""
    pdl = request.query.get("pdl", "")
    if not pdl:
        raise BadParameterError("pdl", "pdl is required (the 14-digit usage point number)")
    for point in await store.usage_points():
        if point.usage_point_id == pdl:
            return point
    raise web.HTTPNotFound(
        text=f'{{"error": "unknown_usage_point", "message": "no usage point {pdl[:14]!s} in this account"}}',
        content_type="application/json",
    )


def _period(request: web.Request) -> Period:
    yesterday = today(request) - dt.timedelta(days=1)
    view: View = query_choice(request, "view", VIEWS, "month")  # type: ignore[assignment]
    return Period.of(view, min(query_date(request, "end", yesterday), yesterday))


def _direction(request: web.Request) -> Direction:
    return Direction(query_choice(request, "direction", tuple(d.value for d in Direction), "consumption"))


async def _point_and_direction(request: web.Request) -> tuple[Store, UsagePoint, Direction]:
    """The store, the usage point (`?pdl=`) and the direction (`?direction=`) a chart answer is about."""
    store = require_store(request)
    return store, await query_point(request, store), _direction(request)


def _yesterday(request: web.Request) -> dt.date:
    return today(request) - dt.timedelta(days=1)


def chart_answer(request: web.Request, chart: Chart, name: str) -> web.Response:
    """The chart as JSON, or as the CSV file `name`.csv with `format=csv`."""
    if request.query.get("format") == "csv":
        return web.Response(
            text=charts.to_csv(chart),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return web.json_response(chart)


ApiHandler = Callable[[web.Request], Awaitable[web.Response]]


def guarded(handler: ApiHandler, *, cached: bool = True) -> ApiHandler:
    """Bad parameters as a 400 naming them; answers cached until the next sync unless `cached` is off
    (answers that change between syncs, like the Tempo forecast fetched every 4 hours)."""

    async def wrapped(request: web.Request) -> web.Response:
        answers = request.app[CACHE].answers
        key = f"{today(request)}|{lang_of(request)}|{request.path_qs}"
        if not cached:
            try:
                return await handler(request)
            except BadParameterError as exc:
                return _bad_parameter(exc)
        found = answers.get(key)
        if found is not None:
            return found.response()
        own: list[web.Response] = []

        async def compute() -> Answer | None:
            response = await handler(request)
            own.append(response)
            return Answer.of(response)

        try:
            # Concurrent identical requests: one computes, the others answer from what it kept.
            answer = await answers.run(key, compute)
            if own:
                return own[0]
            return answer.response() if answer is not None else await handler(request)
        except BadParameterError as exc:
            return _bad_parameter(exc)

    wrapped.__name__ = handler.__name__
    return wrapped


def _bad_parameter(exc: BadParameterError) -> web.Response:
    return web.json_response(
        {"error": "bad_parameter", "parameter": exc.name, "message": exc.message}, status=400
    )


async def usage_points(request: web.Request) -> web.Response:
    store = require_store(request)
    contracts = await store.contracts()
    out = []
    for point in await store.usage_points():
        contract = contracts.get(point.usage_point_id)
        out.append(
            {
                "usage_point_id": point.usage_point_id,
                "name": point.name,
                "subscribed_power_kva": subscribed_power(contract, point),
                "pricing_option": point.pricing_option.value,
                "offpeak_hours": [
                    str(r) for r in await offpeak_hours(store, point.usage_point_id, contract, point)
                ],
                "has_consumption": point.has_consumption,
                "has_production": point.has_production,
            }
        )
    return web.json_response(out)


async def energy(request: web.Request) -> web.Response:
    store, point, direction = await _point_and_direction(request)
    period = _period(request)
    compare = None
    if direction is Direction.PRODUCTION and point.has_consumption:
        compare = Direction.CONSUMPTION
    chart = await charts.energy_chart(
        store, point.usage_point_id, direction, period, lang_of(request), compare=compare
    )
    return chart_answer(request, chart, f"{direction.value}_{period.view}_{point.usage_point_id}")


async def split(request: web.Request) -> web.Response:
    store = require_store(request)
    point = await query_point(request, store)
    period = _period(request)
    periods = await contract_timeline(store, point.usage_point_id)
    if not any(tariff_rules.splits_peak_offpeak(p) for p in periods):
        raise BadParameterError("pdl", f"usage point {point.usage_point_id} has no off-peak hours")
    chart = await charts.split_chart(
        store, request.app[CACHE].splits, point.usage_point_id, periods, period, lang_of(request)
    )
    return chart_answer(request, chart, f"hp_hc_{period.view}_{point.usage_point_id}")


async def curve(request: web.Request) -> web.Response:
    store, point, direction = await _point_and_direction(request)
    last = query_date(request, "last", _yesterday(request))
    first = query_date(request, "first", last)
    if first > last:
        raise BadParameterError("first", "first must not be after last")
    if (last - first).days + 1 > charts.MAX_CURVE_DAYS:
        raise BadParameterError("first", f"at most {charts.MAX_CURVE_DAYS} days of load curve per request")
    chart = await charts.curve_chart(store, point.usage_point_id, direction, first, last, lang_of(request))
    return chart_answer(request, chart, f"curve_{direction.value}_{first}_{last}_{point.usage_point_id}")


async def compare(request: web.Request) -> web.Response:
    store, point, direction = await _point_and_direction(request)
    end = query_date(request, "end", _yesterday(request))
    chart = await charts.compare_years_chart(store, point.usage_point_id, direction, end, lang_of(request))
    name = f"{direction.value}_{end.year}_vs_{end.year - 1}_{point.usage_point_id}"
    return chart_answer(request, chart, name)


async def max_power(request: web.Request) -> web.Response:
    store = require_store(request)
    point = await query_point(request, store)
    period = _period(request)
    kva = subscribed_power(await store.contract(point.usage_point_id), point)
    chart = await charts.max_power_chart(store, point.usage_point_id, period, kva, lang_of(request))
    return chart_answer(request, chart, f"max_power_{period.view}_{point.usage_point_id}")


async def ecowatt(request: web.Request) -> web.Response:
    store = require_store(request)
    first = query_date(request, "first", today(request))
    last = query_date(request, "last", first + dt.timedelta(days=3))
    if first > last or (last - first).days > 31:
        raise BadParameterError("last", "last must be within 31 days after first")
    chart = await charts.ecowatt_chart(store, first, last, lang_of(request))
    return chart_answer(request, chart, f"ecowatt_{first}_{last}")


async def tempo(request: web.Request) -> web.Response:
    store = require_store(request)
    season_first, season_last = tariff_rules.tempo_season(today(request))
    first = query_date(request, "first", season_first)
    last = query_date(request, "last", season_last)
    if first > last:
        raise BadParameterError("first", "first must not be after last")
    days = await store.tempo(first, last)
    if request.query.get("format") == "csv":
        rows = "".join(f"{d.day.isoformat()};{d.color.value}\n" for d in days)
        return web.Response(
            text="day;color\n" + rows,
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="tempo_{first}_{last}.csv"'},
        )
    season_days = [d for d in days if season_first <= d.day <= season_last]
    return web.json_response(
        {
            "days": [{"day": d.day.isoformat(), "color": d.color.value} for d in days],
            "season": {"first": season_first.isoformat(), "last": season_last.isoformat()},
            "remaining": charts.tempo_remaining(season_days, season_first),
            "forecast": await tempo_forecast_json(store),
        }
    )


async def tempo_forecast_json(store: Any) -> dict[str, Any] | None:
    """The stored gateway forecast: coming days with probabilities (0..1) and the season's stock."""
    forecast = await stored_forecast(store)
    if forecast is None:
        return None
    return {
        "season": forecast.season,
        "fetched_at": forecast.fetched_at.isoformat() if forecast.fetched_at else None,
        "remaining": {c.value: n for c, n in forecast.remaining.items()},
        "used": {c.value: n for c, n in forecast.used.items()},
        "days": [
            {
                "day": d.day.isoformat(),
                "most_likely": d.most_likely.value,
                "probability": d.probability,
                "probabilities": {c.value: p for c, p in d.probabilities.items()},
                "confidence": d.confidence,
            }
            for d in forecast.days
        ],
    }


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())


def setup_api(app: web.Application) -> None:
    keep_warm(app, warm_split_cache)
    routes: dict[str, ApiHandler] = {
        "/api/usage_points": usage_points,
        "/api/energy": energy,
        "/api/split": split,
        "/api/curve": curve,
        "/api/compare": compare,
        "/api/max_power": max_power,
        "/api/ecowatt": ecowatt,
        "/api/tempo": tempo,
        "/api/openapi.json": openapi,
    }
    for path, handler in routes.items():
        app.router.add_get(path, guarded(handler, cached=handler is not tempo))


async def warm_split_cache(app: web.Application) -> None:
    """Classify the whole stored load curve of each point with off-peak hours once (after a sync and at
    start), so the peak / off-peak charts answer from memory."""
    service = app[SERVICE]
    store = service.store
    if store is None:
        return
    yesterday = today_of(service) - dt.timedelta(days=1)
    for point in await store.usage_points():
        periods = await contract_timeline(store, point.usage_point_id)
        if any(tariff_rules.splits_peak_offpeak(p) for p in periods) and point.has_consumption:
            first = Period.of("year", yesterday).first
            await app[CACHE].splits.split(store, point.usage_point_id, periods, first, yesterday)


def api_paths(app: web.Application) -> list[str]:
    """Every /api route of the app (the OpenAPI test checks each one is documented)."""
    paths: set[str] = set()
    for resource in app.router.resources():
        info: dict[str, Any] = dict(resource.get_info())
        path = info.get("path") or info.get("formatter")
        if isinstance(path, str) and path.startswith("/api/"):
            paths.add(path)
    return sorted(paths)

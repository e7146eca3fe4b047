"""The page registry, the navigation and the chart pages (/consumption_kwh, /production, /ecowatt, /tempo).

Adding a page: `register_page(app, Page(...), handler)` from any `setup_*(app)`; it gets a nav entry
(FR/EN label), the shared layout (templates extend `base.html`, which receives `nav`, `t`, `lang`,
`lang_switch`, `charts_ready` and `version` from `base_context`) and the browser tests (which walk
`all_pages(app)`). Pages that other modules route themselves (`/consumption_euro`, `/simulation`,
`/bilan`, `/exporters`) are listed in `KNOWN_PAGES` and appear in the nav only once their route exists.
Every URL stays relative: the UI is served under the Home Assistant ingress prefix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from app import __version__, timeline
from app.costing import offpeak_hours
from app.domain import Direction, OffpeakRange
from app.tariff_rules import tempo_season
from app.tempo_forecast import stored_forecast
from app.web import api, labels
from app.web.charts import CURVE_SPANS, VIEWS, Period, tempo_calendar, tempo_remaining
from app.web.context import (
    EARLIEST_DAY,
    LATEST_DAYS_AHEAD,
    Selection,
    lang_of,
    other_lang,
    selected_point,
    store_of,
    today,
)
from app.web.i18n import LANGUAGES, MONTHS, WEEKDAYS, ui_texts

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HERE = Path(__file__).parent
DIST = HERE / "static" / "dist"


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the UI: its route, its nav label in each language, its place in the nav."""

    route: str
    label: Mapping[str, str]
    order: int
    charts: bool = False  # loads the chart bundle
    # Query strings the browser tests also load (selector and period controls are tested apart).
    samples: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.route.strip("/") or "dashboard"


def _labels(key: str) -> dict[str, str]:
    return {lang: ui_texts(lang)[key] for lang in LANGUAGES}


DASHBOARD = Page("/", _labels("dashboard"), 0)
CONSUMPTION_KWH = Page("/consumption_kwh", _labels("nav_consumption_kwh"), 10, charts=True)
PRODUCTION = Page("/production", _labels("nav_production"), 30, charts=True)
ECOWATT = Page("/ecowatt", _labels("nav_ecowatt"), 50, charts=True)
TEMPO = Page("/tempo", _labels("nav_tempo"), 60)
# Routed by other modules (pricing pages, exporters page); shown once their route is registered.
KNOWN_PAGES = (
    Page("/consumption_euro", _labels("nav_consumption_euro"), 20),
    Page("/bilan", _labels("nav_bilan"), 40),
    Page("/simulation", _labels("nav_simulation"), 70),
    Page("/exporters", _labels("nav_exporters"), 80),
)

REGISTRY: web.AppKey[list[Page]] = web.AppKey("page_registry", list)
NAV_CACHE: web.AppKey[dict[str, list[Page]]] = web.AppKey("nav_cache", dict)


def register_page(app: web.Application, page: Page, handler: Handler | None = None) -> None:
    """Add a page to the nav (and route it when a handler is given)."""
    if REGISTRY not in app:
        app[REGISTRY] = []
    if handler is not None:
        app.router.add_get(page.route, handler, name=f"page_{page.name}")
    app[REGISTRY].append(page)


def all_pages(app: web.Application) -> list[Page]:
    """Every page of the app in nav order: registered ones and known ones whose route exists."""
    routed = {
        info.get("path") or info.get("formatter")
        for resource in app.router.resources()
        for info in [resource.get_info()]
    }
    found: list[Page] | None = app.get(REGISTRY)
    registered = list(found or [])
    names = {p.route for p in registered}
    registered += [p for p in KNOWN_PAGES if p.route in routed and p.route not in names]
    return sorted(registered, key=lambda p: p.order)


def charts_ready() -> bool:
    return (DIST / "charts.js").is_file() and (DIST / "charts.css").is_file()


async def base_context(request: web.Request) -> dict[str, Any]:
    """What `base.html` needs on every page (a Jinja context processor)."""
    lang = lang_of(request)
    cache = request.app[NAV_CACHE]
    pages = cache.get("pages")
    if pages is None:
        pages = cache["pages"] = all_pages(request.app)
    current = request.path
    query = dict(request.query)
    query["lang"] = other_lang(lang)
    keep = {k: v for k, v in request.query.items() if k == "pdl"}
    return {
        "lang": lang,
        "other_lang": query["lang"],
        "lang_switch": "?" + urlencode(query),
        "t": ui_texts(lang),
        "menu_label": ui_texts(lang)["menu"],  # pages that bring their own `t` keep the menu's name
        "nav": [
            {
                "href": "./" + page.route.lstrip("/") + "?" + urlencode({**keep, "lang": lang}),
                "label": page.label.get(lang, page.route),
                "current": page.route == current,
            }
            for page in pages
        ],
        "version": __version__,
        "charts_ready": charts_ready(),
    }


# ---------------------------------------------------------------------------------------------- helpers


def parse_day(value: str | None, default: dt.date) -> tuple[dt.date, bool]:
    """A YYYY-MM-DD date from the query, or the default (and False when the value was unreadable)."""
    if not value:
        return default, True
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return default, False
    if not EARLIEST_DAY <= day <= default + dt.timedelta(days=LATEST_DAYS_AHEAD):
        return default, False
    return day, True


def query(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v is not None})


# ---------------------------------------------------------------------------------------------- pages


def _energy_page_context(request: web.Request, selection: Selection, direction: str) -> dict[str, Any]:
    lang = lang_of(request)
    yesterday = today(request) - dt.timedelta(days=1)
    view = request.query.get("view", "month")
    bad: list[str] = []
    if view not in VIEWS:
        bad.append(f"view={view}")
        view = "month"
    end, ok = parse_day(request.query.get("end"), yesterday)
    if not ok:
        bad.append(f"end={request.query.get('end')}")
    end = min(end, yesterday)
    curve_span = request.query.get("curve", "day")
    if curve_span not in CURVE_SPANS:
        curve_span = "day"
    day, ok = parse_day(request.query.get("day"), end)
    if not ok:
        bad.append(f"day={request.query.get('day')}")
    day = min(day, yesterday)
    period = Period.of(view, end)  # type: ignore[arg-type]
    pdl = selection.point.usage_point_id if selection.point else None
    base = {"pdl": pdl, "lang": lang}
    curve_first = day - dt.timedelta(days=6) if curve_span == "week" else day
    here = {"pdl": pdl, "view": view, "curve": curve_span, "lang": lang}
    return {
        "energy": ENERGY_PAGES[direction],
        "selection": selection,
        "view": view,
        "views": VIEWS,
        "end": end.isoformat(),
        "max_day": yesterday.isoformat(),
        "day": day.isoformat(),
        "curve_span": curve_span,
        "curve_spans": CURVE_SPANS,
        "bad_input": bad,
        "period_first": period.first.isoformat(),
        "prev_href": "?" + query(**here, end=period.shifted(-1).isoformat(), day=day.isoformat()),
        "next_href": None
        if end >= yesterday
        else "?" + query(**here, end=min(period.shifted(1), yesterday).isoformat(), day=day.isoformat()),
        "api": {
            "energy": "api/energy?" + query(**base, direction=direction, view=view, end=end.isoformat()),
            "split": "api/split?" + query(**base, view=view, end=end.isoformat()),
            "curve": "api/curve?"
            + query(**base, direction=direction, first=curve_first.isoformat(), last=day.isoformat()),
            "compare": "api/compare?" + query(**base, direction=direction, end=end.isoformat()),
            "max_power": "api/max_power?" + query(**base, view=view, end=end.isoformat()),
        },
    }


# What differs between the two kWh pages (both drawn by energy.html): text keys and extra charts.
ENERGY_PAGES: Mapping[str, Mapping[str, Any]] = {
    "consumption": {
        "heading": "nav_consumption_kwh",
        "no_point": "no_usage_points",
        "per_period": "energy_per_period",
        "curve": "load_curve",
        "split": True,
        "max_power": True,
    },
    "production": {
        "heading": "nav_production",
        "no_point": "no_production",
        "per_period": "production_vs_consumption",
        "curve": "curve_production",
        "split": False,
        "max_power": False,
    },
}


@aiohttp_jinja2.template("energy.html")
async def consumption_kwh(request: web.Request) -> dict[str, Any]:
    selection = await selected_point(request, Direction.CONSUMPTION)
    context = _energy_page_context(request, selection, "consumption")
    offpeak: tuple[OffpeakRange, ...] = ()
    store = store_of(request)
    if store is not None and selection.point is not None:
        pdl = selection.point.usage_point_id
        offpeak = await offpeak_hours(store, pdl, await store.contract(pdl), selection.point)
    context["offpeak"] = [str(r) for r in offpeak]
    return context


@aiohttp_jinja2.template("energy.html")
async def production(request: web.Request) -> dict[str, Any]:
    selection = await selected_point(request, Direction.PRODUCTION)
    return _energy_page_context(request, selection, "production")


@aiohttp_jinja2.template("ecowatt.html")
async def ecowatt(request: web.Request) -> dict[str, Any]:
    lang = lang_of(request)
    first = today(request)
    last = first + dt.timedelta(days=3)
    store = store_of(request)
    days = await store.ecowatt(first, last) if store else []
    return {
        "days": [
            {"date": d.day, "label": f"{d.day:%d/%m}", "level": d.level, "message": d.message} for d in days
        ],
        "today": first,
        "tomorrow": first + dt.timedelta(days=1),
        "api_ecowatt": "api/ecowatt?" + query(first=first.isoformat(), last=last.isoformat(), lang=lang),
    }


@aiohttp_jinja2.template("tempo.html")
async def tempo(request: web.Request) -> dict[str, Any]:
    lang = lang_of(request)
    now_day = today(request)
    first, last = tempo_season(now_day)
    store = store_of(request)
    days = await store.tempo(first, last) if store else []
    colors = {d.day: d.color.value for d in days}
    return {
        "season": f"{first.year}-{last.year}",
        "months": tempo_calendar(days, first, last, lang),
        "weekdays": WEEKDAYS[lang],
        "remaining": tempo_remaining(days, first),
        "today_color": colors.get(now_day),
        "tomorrow_color": colors.get(now_day + dt.timedelta(days=1)),
        "today": now_day.isoformat(),
        "csv": "api/tempo?" + query(first=first.isoformat(), last=last.isoformat(), format="csv"),
        **await tempo_forecast_rows(store, now_day, lang),
    }


async def tempo_forecast_rows(store: Any, now_day: dt.date, lang: str) -> dict[str, Any]:
    """The coming days of the stored Tempo forecast as table rows (probabilities in %)."""
    forecast = await stored_forecast(store) if store else None
    if forecast is None:
        return {"forecast": [], "forecast_fetched": None}
    rows = [
        {
            "date": d.day.isoformat(),
            "label": f"{d.day.day} {MONTHS[lang][d.day.month - 1]}",
            "color": d.most_likely.value,
            "probability": round(d.probability * 100),
            "probabilities": {c.value: round(p * 100) for c, p in d.probabilities.items()},
        }
        for d in forecast.coming(now_day)
    ]
    fetched = forecast.fetched_at
    return {
        "forecast": rows,
        "forecast_fetched": timeline.to_paris(fetched).strftime("%Y-%m-%d %H:%M") if fetched else None,
    }


async def dashboard_extras(request: web.Request, status: dict[str, Any]) -> dict[str, Any]:
    """Contracts and links shown on the dashboard beside the sync status (cheap: one contracts query)."""
    store = store_of(request)
    contracts = await store.contracts() if store else {}
    lang = lang_of(request)
    running = status.get("state") == "running" or any(
        (up.get("progress") or {}).get("phase") == "running" for up in status.get("usage_points", [])
    )
    return {
        "contracts": {
            pdl: {
                "segment": c.segment,
                "distribution_tariff": c.distribution_tariff,
                "contract_status": c.contract_status,
                "meter_type": c.meter_type,
            }
            for pdl, c in contracts.items()
        },
        "page_links": [
            {"href": "./" + p.route.lstrip("/"), "label": p.label.get(lang, p.route), "route": p.route}
            for p in request.app[NAV_CACHE].get("pages") or all_pages(request.app)
            if p.route != "/"
        ],
        "auto_refresh": running,
    }


@web.middleware
async def compression_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Gzip pages and JSON (static files are pre-compressed at build time)."""
    response = await handler(request)
    if (
        type(response) is web.Response
        and response.body is not None
        and isinstance(response.body, bytes)
        and len(response.body) > 1024
        and "gzip" in request.headers.get("Accept-Encoding", "")
    ):
        response.enable_compression(web.ContentCoding.gzip)
    return response


def setup_pages(app: web.Application) -> None:
    """Register the layout's context, the chart pages and their JSON API on the app."""
    labels.setup_filters(app)
    app[NAV_CACHE] = {}
    app[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY] = [base_context]
    app.middlewares.append(aiohttp_jinja2.context_processors_middleware)
    app.middlewares.append(compression_middleware)
    register_page(app, DASHBOARD)  # routed by create_app
    register_page(app, CONSUMPTION_KWH, consumption_kwh)
    register_page(app, PRODUCTION, production)
    register_page(app, ECOWATT, ecowatt)
    register_page(app, TEMPO, tempo)
    api.setup_api(app)

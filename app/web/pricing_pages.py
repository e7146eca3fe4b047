"""Pages and JSON API for costs: /consumption_euro, /simulation, /bilan, /offers (selector and overrides).

Data builders return plain dicts so that pages, the JSON API and charts share them."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from app import costing
from app.contract_timeline import parse_timeline
from app.costing import StoreCostSource
from app.pricing.catalogue import CatalogueError, parse_offer
from app.pricing.costs import check_offpeak, parse_ejp_days
from app.pricing.figures import (
    bilan_figures_answer,
    consumption_euro_answer,
    offer_choice_answer,
    simulation_answer,
)
from app.store import contracts
from app.store.repository import Store
from app.web.cache import CACHE, keep_warm
from app.web.context import SERVICE, lang_of, other_lang, pick_point, require_store, selected_point, today_of
from app.web.i18n import pricing_texts

log = logging.getLogger(__name__)

COST_PAGES = ("consumption_euro", "simulation", "bilan")


async def cached_data(
    app: web.Application, store: Store, page: str, pdl: str, period: str, today: dt.date
) -> dict[str, Any]:
    """The figures of a cost page (`period` only matters to consumption_euro), computed once per day
    between two syncs."""

    async def compute() -> dict[str, Any]:
        if page == "consumption_euro":
            return await consumption_euro_data(store, pdl, period, today)
        if page == "simulation":
            return await simulation_data(store, pdl, today)
        return await bilan_data(store, pdl, today)

    if page not in COST_PAGES:
        raise ValueError(f"unknown cost page {page!r}")
    key = (page, pdl, period if page == "consumption_euro" else "", today.isoformat())
    return await app[CACHE].figures.run(key, compute)


async def warm_pricing_data(app: web.Application) -> None:
    """Compute each usage point's default cost figures once (after a sync and at start), so the cost
    pages and their charts answer from memory."""
    service = app[SERVICE]
    store = service.store
    if store is None:
        return
    try:
        today = today_of(service)
        for point in await store.usage_points():
            if point.has_consumption:
                for page in COST_PAGES:
                    await cached_data(app, store, page, point.usage_point_id, "month", today)
    except Exception as exc:  # a warm-up never takes the server down; requests compute on demand
        log.warning("cost figures warm-up failed: %s", exc)


async def consumption_euro_data(store: Store, pdl: str, period: str, today: dt.date) -> dict[str, Any]:
    return consumption_euro_answer(await costing.consumption_euro(store, pdl, period, today))


async def simulation_data(store: Store, pdl: str, today: dt.date) -> dict[str, Any]:
    return simulation_answer(await costing.simulation(store, pdl, today))


async def bilan_data(store: Store, pdl: str, today: dt.date) -> dict[str, Any]:
    """The bilan per year (`years`) and per month (`months`), from the daily totals and the curves."""
    return bilan_figures_answer(await costing.bilan(store, pdl, today))


async def offers_data(store: Store, pdl: str | None) -> dict[str, Any]:
    return offer_choice_answer(await costing.offer_choice(store, pdl))


async def _context(request: web.Request, page: str) -> dict[str, Any]:
    lang = lang_of(request)
    selection = await selected_point(request)
    return {
        "t": pricing_texts(lang),
        "lang": lang,
        "other_lang": other_lang(lang),
        "page": page,
        "pdl": selection.pdl,
        "points": [p.usage_point_id for p in selection.points],
        "point_names": {p.usage_point_id: p.name for p in selection.points},
        "notice": request.query.get("notice"),
        "error": None,
    }


async def _page(request: web.Request, page: str) -> web.Response:
    context = await _context(request, page)
    service = request.app[SERVICE]
    data: dict[str, Any] | None = None
    if service.store is not None and context["pdl"] is not None:
        data = await _data(service.store, page, context["pdl"], request, today_of(service))
    context["data"] = data
    context.update(_chart_context(request, page, context["pdl"], data or {}))
    return aiohttp_jinja2.render_template("pricing.html", request, context)


def _period(request: web.Request) -> str:
    period = request.query.get("period", "month")
    return period if period in ("day", "month", "year") else "month"


def _bilan_view(request: web.Request) -> str:
    view = request.query.get("view", "year")
    return view if view in ("month", "year") else "year"


def _chart_context(
    request: web.Request, page: str, pdl: str | None, data: Mapping[str, Any]
) -> dict[str, Any]:
    """The charts a cost page shows: (id, title text key, relative API URL), and its period links."""
    if pdl is None or page not in COST_PAGES:
        return {"charts": []}
    base = {"pdl": pdl, "lang": lang_of(request)}
    if page == "consumption_euro":
        period = _period(request)
        return {
            "period": period,
            "charts": [("cost", "cost_per_period", "api/cost?" + urlencode({**base, "period": period}))],
        }
    if page == "simulation":
        return {
            "charts": [
                ("ranking", "offers_ranking", "api/simulation/ranking?" + urlencode(base)),
                ("months", "current_vs_best", "api/simulation/months?" + urlencode(base)),
            ]
        }
    view = _bilan_view(request)
    query = urlencode({**base, "view": view})
    charts = [("bilan-energy", "bilan_energy", "api/bilan/energy?" + query)]
    if data.get("has_production") or any(y["hc_share"] is not None for y in data.get("years", [])):
        charts.append(("bilan-shares", "bilan_shares", "api/bilan/shares?" + query))
    charts.append(("bilan-years", "bilan_years", "api/bilan/years?" + urlencode(base)))
    return {"view": view, "charts": charts}


async def _data(store: Store, page: str, pdl: str, request: web.Request, today: dt.date) -> dict[str, Any]:
    if page in COST_PAGES:
        return await cached_data(request.app, store, page, pdl, _period(request), today)
    return await offers_data(store, pdl)


def _handler(page: str) -> Any:
    async def html(request: web.Request) -> web.Response:
        return await _page(request, page)

    async def api(request: web.Request) -> web.Response:
        store = require_store(request)
        pdl = (await selected_point(request)).pdl
        if pdl is None and page != "offers":
            return web.json_response({"error": "no_usage_point"}, status=404)
        return web.json_response(await _data(store, page, pdl or "", request, today_of(request.app[SERVICE])))

    return html, api


async def save_choice(request: web.Request) -> web.StreamResponse:
    """Form/JSON: chosen offer, off-peak override, user offer (JSON). Bad input: 400 with a clear message."""
    service = request.app[SERVICE]
    store = require_store(request)
    form: Mapping[str, Any]
    if request.content_type == "application/json":
        try:
            form = await request.json()
        except ValueError:
            return web.json_response({"error": "the body is not valid JSON"}, status=400)
        if not isinstance(form, dict):
            return web.json_response(
                {"error": "the body must be a JSON object", "field": "(body)"}, status=400
            )
    else:
        form = dict(await request.post())
    point = pick_point(await store.usage_points(), str(form.get("pdl", "")))
    pdl = point.usage_point_id if point else None
    try:
        new_timeline = parse_timeline(form["timeline"]) if "timeline" in form else None
        if new_timeline is not None and not pdl:
            raise ValueError("pdl: a contract timeline needs a usage point")
        offers = {o.id for o in await StoreCostSource(store).offers()}
        if form.get("user_offer"):
            try:
                raw = (
                    json.loads(str(form["user_offer"]))
                    if isinstance(form["user_offer"], str)
                    else form["user_offer"]
                )
            except ValueError:
                raise CatalogueError("user_offer: not valid JSON") from None
            if not isinstance(raw, dict):
                raise CatalogueError("user_offer: must be a JSON object")
            parse_offer(raw, where="user_offer")
            user = [o for o in await store.settings.user_offers() if o.get("id") != raw.get("id")]
            await store.settings.set_user_offers([*user, raw])
            offers.add(raw["id"])
        if pdl and form.get("offer"):
            if form["offer"] not in offers:
                raise CatalogueError(f"unknown offer {form['offer']!r}")
            await store.settings.set_chosen_offer(pdl, str(form["offer"]))
        if pdl and "offpeak" in form:
            text = str(form["offpeak"]).strip()
            if text:
                check_offpeak(text)
            await store.settings.set_offpeak_override(pdl, text)
        if pdl and "ejp_days" in form:
            days = parse_ejp_days(str(form["ejp_days"]))
            await store.settings.set_ejp_days(pdl, days)
        resplit = False
        if pdl and new_timeline is not None:
            resplit, _ = await contracts.save_user_timeline(store, pdl, new_timeline)
    except (CatalogueError, ValueError) as exc:
        message = str(exc)
        if request.content_type == "application/json":
            return web.json_response({"error": message}, status=400)
        context = await _context(request, "offers")
        context["error"] = message
        context["data"] = await offers_data(store, pdl)
        return aiohttp_jinja2.render_template("pricing.html", request, context, status=400)
    forget_figures(request.app)
    if resplit and service.exporters is not None:  # re-split days go out again (HA statistics, ...)
        await service.exporters.on_sync()
    if request.content_type == "application/json":
        return web.json_response({"saved": True})
    raise web.HTTPSeeOther(f"offers?pdl={pdl or ''}&notice=saved&lang={lang_of(request)}")


def forget_figures(app: web.Application) -> None:
    """Drop every computed figure and chart answer (the chosen offer or the off-peak hours changed)."""
    app[CACHE].clear()


def setup_pricing_pages(app: web.Application) -> None:
    """The cost pages and their JSON figures (their charts' API: `cost_api.setup_cost_api`)."""
    keep_warm(app, warm_pricing_data)
    for page in ("consumption_euro", "simulation", "bilan", "offers"):
        html, api = _handler(page)
        app.router.add_get(f"/{page}", html)
        app.router.add_get(f"/api/pricing/{page}", api)
    app.router.add_post("/offers", save_choice)
    app.router.add_post("/api/pricing/offers", save_choice)

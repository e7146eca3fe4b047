"""Pages and JSON API for costs: /consumption_euro, /simulation, /bilan, /offers (selector and overrides).

Data builders return plain dicts so that pages, the JSON API and charts share them."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import ChainMap, OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from app import costing
from app.contract_timeline import parse_timeline
from app.costing import StoreCostSource
from app.pricing.catalogue import CatalogueError, parse_offer
from app.pricing.costs import check_offpeak, parse_ejp_days
from app.pricing.engine import PARIS
from app.pricing.figures import (
    bilan_figures_answer,
    consumption_euro_answer,
    offer_choice_answer,
    simulation_answer,
)
from app.service import Service
from app.store import contracts
from app.store.repository import Store
from app.web.cache import SingleFlight
from app.web.cost_charts import COST_TEXTS
from app.web.texts import ui_texts

log = logging.getLogger(__name__)

TEXTS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "consumption_euro": "Consommation en euros",
        "simulation": "Simulation d'offres",
        "bilan": "Bilan",
        "offers": "Offres et tarifs",
        "period": "Période",
        "energy": "Énergie",
        "total": "Total",
        "bucket": "Poste",
        "rank": "Rang",
        "offer": "Offre",
        "saving": "Économie vs offre actuelle",
        "next_power": "Et à la puissance supérieure",
        "gaps": "Courbe de charge incomplète : {curve} jours sur {expected}. Résultats partiels.",
        "estimated": "{n} jour(s) sans courbe : prix exact seulement en offre à prix unique.",
        "no_data": "Pas encore de données pour ce point de livraison.",
        "choose": "Offre choisie",
        "save": "Enregistrer",
        "offpeak_override": "Heures creuses (ex. 22:00-06:00, 12:00-14:00)",
        "user_offer": "Ajouter ou remplacer une offre (JSON)",
        "saved": "Enregistré.",
        "year": "Année",
        "consumption": "Consommation",
        "production": "Production",
        "yoy": "Évolution (mêmes jours qu’un an plus tôt)",
        "sources": "Sources des prix",
        "low_confidence": "à confirmer : transcription douteuse (voir la source)",
        "day": "jour",
        "month": "mois",
        "ejp_days": "Jours EJP (jours de pointe mobile, AAAA-MM-JJ, séparés par des virgules)",
        "timeline": "Historique du contrat",
        "timeline_help": "Une période par ligne : date de début (AAAA-MM-JJ, « - » pour la première), "
        "option (BASE, HC_HP, HC_WEEKEND, TEMPO, EJP), puissance (kVA), heures creuses. "
        "Ex. : 2025-03-01 TEMPO 9",
        "ejp_days_unknown": "Jours EJP inconnus (hiver {seasons}) : les heures de pointe mobile sont "
        "comptées au prix normal. Saisissez les jours EJP dans « Offres et tarifs ».",
    },
    "en": {
        "consumption_euro": "Consumption in euros",
        "simulation": "Offer simulation",
        "bilan": "Summary",
        "offers": "Offers and prices",
        "period": "Period",
        "energy": "Energy",
        "total": "Total",
        "bucket": "Bucket",
        "rank": "Rank",
        "offer": "Offer",
        "saving": "Saving vs current offer",
        "next_power": "And at the next power up",
        "gaps": "The load curve has gaps: {curve} days out of {expected}. Results are incomplete.",
        "estimated": "{n} day(s) without curve: exact price only under a single-price offer.",
        "no_data": "No data yet for this usage point.",
        "choose": "Chosen offer",
        "save": "Save",
        "offpeak_override": "Off-peak hours (e.g. 22:00-06:00, 12:00-14:00)",
        "user_offer": "Add or override an offer (JSON)",
        "saved": "Saved.",
        "year": "Year",
        "consumption": "Consumption",
        "production": "Production",
        "yoy": "Change (same days a year before)",
        "sources": "Price sources",
        "low_confidence": "to be confirmed: doubtful transcription (see the source)",
        "day": "day",
        "month": "month",
        "ejp_days": "EJP days (peak days, YYYY-MM-DD, comma separated)",
        "timeline": "Contract history",
        "timeline_help": "One period a line: start date (YYYY-MM-DD, '-' for the first one), option "
        "(BASE, HC_HP, HC_WEEKEND, TEMPO, EJP), power (kVA), off-peak hours. E.g. 2025-03-01 TEMPO 9",
        "ejp_days_unknown": "EJP days unknown (winter {seasons}): peak hours are priced at the normal price. "
        "Enter the EJP days under “Offers and prices”.",
    },
}


class DataCache:
    """The pages' pricing figures by (page, usage point, period, day): pricing a year of curve under
    every offer takes a tenth of a second, and the figures only change with a sync or a new choice
    of offer (both clear it). Bounded: least recently used out first."""

    def __init__(self, size: int = 32, concurrency: int = 2) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, ...], dict[str, Any]] = OrderedDict()
        # one computation per key at a time, at most `concurrency` different ones (memory and CPU)
        self.flights: SingleFlight[tuple[str, ...], dict[str, Any]] = SingleFlight(concurrency)
        self._generation = 0  # bumped by clear(): a computation started before it is not kept

    def clear(self) -> None:
        self._data.clear()
        self._generation += 1
        self.flights.forget()

    async def get(
        self, key: tuple[str, ...], compute: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        found = self._data.get(key)
        if found is not None:
            self._data.move_to_end(key)
            return found
        generation = self._generation

        async def fill() -> dict[str, Any]:
            value = await compute()
            if generation == self._generation:
                self._data[key] = value
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
            return value

        return await self.flights.run(key, fill)


PRICING_DATA: web.AppKey[DataCache] = web.AppKey("pricing_data", DataCache)
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
    return await app[PRICING_DATA].get(key, compute)


async def warm_pricing_data(app: web.Application) -> None:
    """Compute each usage point's default cost figures once (after a sync and at start), so the cost
    pages and their charts answer from memory."""
    from app.web.app import SERVICE

    service = app[SERVICE]
    store = service.store
    if store is None:
        return
    try:
        today = _today(service)
        for point in await store.usage_points():
            if point.has_consumption:
                for page in COST_PAGES:
                    await cached_data(app, store, page, point.usage_point_id, "month", today)
    except Exception as exc:  # a warm-up never takes the server down; requests compute on demand
        log.warning("cost figures warm-up failed: %s", exc)


def _today(service: Service) -> dt.date:
    return service.now().astimezone(PARIS).date()


async def _pdl(store: Store, requested: str | None) -> str | None:
    points = [p.usage_point_id for p in await store.usage_points()]
    if requested in points:
        return requested
    return points[0] if points else None


async def consumption_euro_data(store: Store, pdl: str, period: str, today: dt.date) -> dict[str, Any]:
    return consumption_euro_answer(await costing.consumption_euro(store, pdl, period, today))


async def simulation_data(store: Store, pdl: str, today: dt.date) -> dict[str, Any]:
    return simulation_answer(await costing.simulation(store, pdl, today))


async def bilan_data(store: Store, pdl: str, today: dt.date) -> dict[str, Any]:
    """The bilan per year (`years`) and per month (`months`), from the daily totals and the curves."""
    return bilan_figures_answer(await costing.bilan(store, pdl, today))


async def offers_data(store: Store, pdl: str | None) -> dict[str, Any]:
    return offer_choice_answer(await costing.offer_choice(store, pdl))


def _service(request: web.Request) -> Service:
    from app.web.app import SERVICE

    return request.app[SERVICE]


def _lang(request: web.Request) -> str:
    from app.web.app import LANG

    return str(request[LANG])


async def _context(request: web.Request, page: str) -> dict[str, Any]:
    lang = _lang(request)
    store = _service(request).store
    known = await store.usage_points() if store is not None else []
    points = [p.usage_point_id for p in known]
    requested = request.query.get("pdl")
    pdl = requested if requested in points else (points[0] if points else None)
    return {
        "t": ChainMap(dict(TEXTS[lang]), dict(COST_TEXTS[lang]), dict(ui_texts(lang))),
        "lang": lang,
        "other_lang": "en" if lang == "fr" else "fr",
        "page": page,
        "pdl": pdl,
        "points": points,
        "point_names": {p.usage_point_id: p.name for p in known},
        "notice": request.query.get("notice"),
        "error": None,
    }


async def _page(request: web.Request, page: str) -> web.Response:
    context = await _context(request, page)
    store = _service(request).store
    data: dict[str, Any] | None = None
    if store is not None and context["pdl"] is not None:
        data = await _data(store, page, context["pdl"], request, _today(_service(request)))
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
    base = {"pdl": pdl, "lang": _lang(request)}
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
        service = _service(request)
        if service.store is None:
            return web.json_response({"error": "store_unavailable"}, status=503)
        pdl = await _pdl(service.store, request.query.get("pdl"))
        if pdl is None and page != "offers":
            return web.json_response({"error": "no_usage_point"}, status=404)
        return web.json_response(await _data(service.store, page, pdl or "", request, _today(service)))

    return html, api


async def save_choice(request: web.Request) -> web.StreamResponse:
    """Form/JSON: chosen offer, off-peak override, user offer (JSON). Bad input: 400 with a clear message."""
    service = _service(request)
    store = service.store
    if store is None:
        return web.json_response({"error": "store_unavailable"}, status=503)
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
    pdl = await _pdl(store, str(form.get("pdl", "")))
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
    raise web.HTTPSeeOther(f"offers?pdl={pdl or ''}&notice=saved&lang={_lang(request)}")


def forget_figures(app: web.Application) -> None:
    """Drop every computed figure and chart answer (the chosen offer or the off-peak hours changed)."""
    from app.web.api import ANSWER_CACHE

    app[PRICING_DATA].clear()
    app[ANSWER_CACHE].clear()


def setup_pricing_pages(app: web.Application) -> None:
    from app.web.api import keep_warm
    from app.web.cost_api import setup_cost_api

    app[PRICING_DATA] = DataCache()
    keep_warm(app, app[PRICING_DATA].clear, warm_pricing_data)
    setup_cost_api(app)
    for page in ("consumption_euro", "simulation", "bilan", "offers"):
        html, api = _handler(page)
        app.router.add_get(f"/{page}", html)
        app.router.add_get(f"/api/pricing/{page}", api)
    app.router.add_post("/offers", save_choice)
    app.router.add_post("/api/pricing/offers", save_choice)

"""The chart API of the cost pages: /api/cost, /api/simulation/{ranking,months}, /api/bilan/{energy,
shares,years}. Same parameters, errors, answer cache and CSV downloads as the other charts (`api.py`);
the figures are the pages' own (`pricing_pages.cached_data`, from the pricing engine)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.web import api, cost_charts
from app.web.api import chart_answer
from app.web.charts import Chart, View
from app.web.context import lang_of, require_store, today
from app.web.cost_charts import BILAN_VIEWS, COST_PERIODS
from app.web.pricing_pages import cached_data


async def _figures(request: web.Request, page: str, period: str = "month") -> tuple[str, dict[str, Any]]:
    store = require_store(request)
    point = await api.query_point(request, store)
    pdl = point.usage_point_id
    return pdl, await cached_data(request.app, store, page, pdl, period, today(request))


def _view(request: web.Request, name: str, choices: tuple[View, ...], default: View) -> View:
    return api.query_choice(request, name, choices, default)  # type: ignore[return-value]


async def cost(request: web.Request) -> web.Response:
    period = _view(request, "period", COST_PERIODS, "month")
    pdl, data = await _figures(request, "consumption_euro", period)
    chart = cost_charts.cost_chart(data, period, lang_of(request))
    return chart_answer(request, chart, f"cost_{period}_{pdl}")


async def simulation_ranking(request: web.Request) -> web.Response:
    pdl, data = await _figures(request, "simulation")
    chart = cost_charts.ranking_chart(data, lang_of(request))
    return chart_answer(request, chart, f"offers_{data['first']}_{data['last']}_{pdl}")


async def simulation_months(request: web.Request) -> web.Response:
    pdl, data = await _figures(request, "simulation")
    chart = cost_charts.months_chart(data, lang_of(request))
    return chart_answer(request, chart, f"current_vs_best_{data['first']}_{data['last']}_{pdl}")


async def _bilan(request: web.Request, name: str) -> web.Response:
    view = _view(request, "view", BILAN_VIEWS, "year")
    pdl, data = await _figures(request, "bilan")
    lang = lang_of(request)
    chart: Chart
    if name == "energy":
        chart = cost_charts.bilan_energy_chart(data, view, lang)
    else:
        chart = cost_charts.bilan_shares_chart(data, view, lang)
    return chart_answer(request, chart, f"bilan_{name}_{view}_{pdl}")


async def bilan_energy(request: web.Request) -> web.Response:
    return await _bilan(request, "energy")


async def bilan_shares(request: web.Request) -> web.Response:
    return await _bilan(request, "shares")


async def bilan_years(request: web.Request) -> web.Response:
    pdl, data = await _figures(request, "bilan")
    chart = cost_charts.bilan_years_chart(data, lang_of(request))
    return chart_answer(request, chart, f"bilan_years_{pdl}")


ROUTES: dict[str, api.ApiHandler] = {
    "/api/cost": cost,
    "/api/simulation/ranking": simulation_ranking,
    "/api/simulation/months": simulation_months,
    "/api/bilan/energy": bilan_energy,
    "/api/bilan/shares": bilan_shares,
    "/api/bilan/years": bilan_years,
}


def setup_cost_api(app: web.Application) -> None:
    for path, handler in ROUTES.items():
        app.router.add_get(path, api.guarded(handler))

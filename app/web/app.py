"""aiohttp application factory: dashboard, /api/status, /api/sync, /health; the other pages and APIs come
from their modules' `setup_*` (app keys and request helpers they share: `context`).

Every URL the pages emit is relative, so the UI works at `/`, behind Home Assistant ingress
(`/api/hassio_ingress/<token>/`) or any reverse-proxy prefix.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from app import __version__, timeline
from app.addon import MqttState
from app.costing import offpeak_hours
from app.domain import DataKind, DateRange, SyncPhase, SyncProgress, UsagePoint, subscribed_power
from app.health import health_of
from app.memory import IdleTrimmer
from app.service import Service
from app.web import cost_api, homeassistant_card, i18n, pages
from app.web.cache import setup_cache
from app.web.context import LANG, SERVICE, TRIM_TASKS, TRIMMER, lang_of
from app.web.exporters_page import setup_exporters_page
from app.web.ingress import setup_ingress
from app.web.pricing_pages import setup_pricing_pages
from app.web.security import setup_security

HERE = Path(__file__).parent


def create_app(service: Service) -> web.Application:
    app = web.Application(middlewares=[_language_middleware, _trim_middleware])
    app[SERVICE] = service
    app[TRIMMER] = trimmer = IdleTrimmer()

    async def trim_after_sync(_: object) -> None:
        async def when_exporters_are_done() -> None:
            if service.exporters is not None:
                await service.exporters.wait_idle()
            trimmer.touch()

        app[TRIM_TASKS].add(task := asyncio.create_task(when_exporters_are_done()))
        task.add_done_callback(app[TRIM_TASKS].discard)

    async def trim_after_start(_: web.Application) -> None:
        trimmer.touch()

    app[TRIM_TASKS] = set()
    service.after_sync.append(trim_after_sync)
    app.on_startup.append(trim_after_start)
    setup_cache(app)
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    env.filters["local_time"] = _local_time
    app.router.add_get("/", dashboard, name="dashboard")
    app.router.add_post("/sync", sync_form)
    app.router.add_get("/api/status", api_status)
    app.router.add_post("/api/sync", api_sync)
    app.router.add_get("/health", health)
    app.router.add_static("/static/", HERE / "static", name="static")
    setup_ingress(app, service.settings)
    setup_security(app)
    setup_exporters_page(app)
    homeassistant_card.setup_homeassistant_card(app)
    pages.setup_pages(app)
    setup_pricing_pages(app)
    cost_api.setup_cost_api(app)
    return app


@web.middleware
async def _trim_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    finally:
        request.app[TRIMMER].touch()  # memory back to the system once the pages go quiet
    return response


@web.middleware
async def _language_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    request[LANG] = i18n.pick_language(request.query.get("lang"), request.headers.get("Accept-Language"))
    response: web.StreamResponse = await handler(request)
    return response


async def health(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    healthy = service.store is not None
    return web.json_response({"status": "ok" if healthy else "degraded"}, status=200 if healthy else 503)


async def api_status(request: web.Request) -> web.Response:
    return web.json_response(await build_status(request.app[SERVICE], lang_of(request)))


async def api_sync(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    if service.scheduler is None or not service.configured:
        return web.json_response({"started": False, "reason": "not_configured"}, status=409)
    started = service.scheduler.trigger()
    return web.json_response({"started": started}, status=202 if started else 409)


async def sync_form(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    started = service.scheduler.trigger() if service.scheduler and service.configured else False
    # Relative redirect: the browser resolves it under the ingress prefix.
    raise web.HTTPSeeOther(location=f"./?lang={lang_of(request)}&sync={'started' if started else 'busy'}")


@aiohttp_jinja2.template("dashboard.html")
async def dashboard(request: web.Request) -> dict[str, Any]:
    lang = lang_of(request)
    status = await build_status(request.app[SERVICE], lang)
    return {
        "status": status,
        "lang": lang,
        "sync_notice": request.query.get("sync"),
        "ha": await homeassistant_card.card(request.app[SERVICE]),
        **await pages.dashboard_extras(request, status),
    }


async def build_status(service: Service, lang: str) -> dict[str, Any]:
    """The state of the client as /api/status returns it and the dashboard shows it. No secrets."""
    problems = [{"code": p.code, "detail": p.detail, **_error_fields(p.code, lang)} for p in service.problems]
    status: dict[str, Any] = {
        "version": __version__,
        "demo": service.settings.demo,
        "configured": service.configured,
        "problems": problems,
        "state": "config_error"
        if service.config_errors
        else "not_configured"
        if not service.configured
        else "idle",
        "account": None,
        "quota": None,
        "next_run_at": None,
        "last_run_at": None,
        "usage_points": [],
        "mqtt": _mqtt_fields(service, lang),
        "exporters": [] if service.exporters is None else service.exporters.describe_all(),
    }
    scheduler = service.scheduler
    if scheduler is not None:
        status["next_run_at"] = _iso(scheduler.state.next_run_at) if service.configured else None
        status["last_run_at"] = _iso(scheduler.state.last_run_at)
    store = service.store
    if store is None:
        status["state"] = "storage_error"
        return status
    now = service.now()
    progress = {p.usage_point_id: p for p in await store.progress()}
    account = progress.pop("", None)
    if account is not None:
        status["account"] = _progress_fields(account, lang, now)
        if service.configured:
            status["state"] = account.phase.value
    if scheduler is not None and scheduler.state.running:
        status["state"] = SyncPhase.RUNNING.value
    status["quota"] = {"used_today": await store.quota_calls_on(now.astimezone(dt.UTC).date())}
    coverage = await store.all_coverage()
    contracts = await store.contracts()
    for point in await store.usage_points():
        pdl = point.usage_point_id
        contract = contracts.get(pdl)
        address = await store.address(pdl)
        entry: dict[str, Any] = {
            "usage_point_id": pdl,
            "name": point.name,
            "subscribed_power_kva": subscribed_power(contract, point),
            "pricing_option": point.pricing_option.value,
            "offpeak_hours": [str(r) for r in await offpeak_hours(store, pdl, contract, point)],
            "has_production": point.has_production,
            "address": None
            if address is None
            else " ".join(x for x in (address.street, address.postal_code, address.city) if x),
            "coverage": {
                kind.value: _coverage_fields(coverage.get((pdl, kind), [])) for kind in _shown_kinds(point)
            },
            "progress": _progress_fields(progress[pdl], lang, now) if pdl in progress else None,
        }
        status["usage_points"].append(entry)
    known = {entry["usage_point_id"] for entry in status["usage_points"]}
    for pdl, point_progress in progress.items():
        if pdl not in known:  # asked for but not in the account: show why
            status["usage_points"].append(
                {
                    "usage_point_id": pdl,
                    "name": "",
                    "unknown": True,
                    "coverage": {},
                    "progress": _progress_fields(point_progress, lang),
                }
            )
    return status


def _shown_kinds(point: UsagePoint) -> list[DataKind]:
    kinds: list[DataKind] = []
    if point.has_consumption:
        kinds += [DataKind.DAILY_CONSUMPTION, DataKind.CURVE_CONSUMPTION, DataKind.MAX_POWER]
    if point.has_production:
        kinds += [DataKind.DAILY_PRODUCTION, DataKind.CURVE_PRODUCTION]
    return kinds


def _progress_fields(progress: SyncProgress, lang: str, now: dt.datetime | None = None) -> dict[str, Any]:
    health = health_of(progress, now or progress.updated_at or dt.datetime.now(dt.UTC))
    return {
        "health": {
            "state": health.state.value,
            "needs_user": health.needs_user,
            "code": health.code,
            **(
                _error_fields(health.code, lang)
                if health.code
                else {"message": health.cause, "fix": health.fix}
            ),
        },
        "phase": progress.phase.value,
        "step": progress.step,
        "done": progress.done,
        "total": progress.total,
        "percent": round(100 * progress.done / progress.total) if progress.total else None,
        "last_success": _iso(progress.last_success),
        "updated_at": _iso(progress.updated_at),
        "last_error": None
        if progress.last_error_code is None
        else {
            "code": progress.last_error_code,
            "detail": progress.last_error_message,
            **_error_fields(progress.last_error_code, lang),
        },
    }


def _mqtt_fields(service: Service, lang: str) -> dict[str, Any]:
    """The MQTT broker's state (app/addon.py) with what it means and what to do; no password."""
    if service.integrations is None:
        return {"state": MqttState.NOT_CONFIGURED.value}
    fields = service.integrations.mqtt.as_dict()
    text = i18n.mqtt_text(fields["state"], lang)
    if text is not None:
        fields["message"], fields["fix"] = text
    return fields


def _error_fields(code: str, lang: str) -> dict[str, str]:
    text = i18n.error_text(code, lang)
    return {} if text is None else {"message": text[0], "fix": text[1]}


def _coverage_fields(ranges: list[DateRange]) -> dict[str, Any] | None:
    if not ranges:
        return None
    return {
        "first": ranges[0].first.isoformat(),
        "last": ranges[-1].last.isoformat(),
        "gaps": len(ranges) - 1,
    }


def _iso(instant: dt.datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(dt.UTC).isoformat()


def _local_time(value: str | None) -> str:
    if not value:
        return ""
    return timeline.to_paris(dt.datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M")

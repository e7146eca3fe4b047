"""The /exporters page, the exporters JSON API and Prometheus' /metrics.

Forms are generated from each exporter's JSON Schema (voluptuous-openapi). Secret fields are
write-only: the page says whether one is set; an empty submission keeps it, `clear_<field>` empties it.
All actions post to `exporters` (a relative URL) so the page works under any ingress prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from app.exporters.base import ExporterError
from app.exporters.manager import CLEAR_PREFIX, ExporterManager
from app.exporters.prometheus import CONTENT_TYPE, PrometheusExporter
from app.web.context import SERVICE, lang_of, other_lang
from app.web.homeassistant_card import card
from app.web.i18n import exporter_texts as texts


def setup_exporters_page(app: web.Application) -> None:
    app.router.add_get("/exporters", exporters_page, name="exporters")
    app.router.add_post("/exporters", exporters_action)
    app.router.add_get("/api/exporters", api_exporters)
    app.router.add_post("/api/exporters/{name}", api_save)
    app.router.add_post("/api/exporters/{name}/test", api_test)
    app.router.add_post("/api/exporters/{name}/export", api_export)
    app.router.add_get("/metrics", metrics)


def _manager(request: web.Request) -> ExporterManager:
    manager = request.app[SERVICE].exporters
    if manager is None:
        raise web.HTTPServiceUnavailable(text="exporters are not available (the store could not be opened)")
    return manager


# ---------------------------------------------------------------------- JSON API


async def describe(manager: ExporterManager, lang: str = "en") -> list[dict[str, Any]]:
    out = []
    for entry in manager.describe_all():
        cls = manager.classes[entry["name"]]
        stored = await manager.stored_config(entry["name"])
        config = manager.public_config(cls.name, stored)
        out.append({**entry, "schema": cls.json_schema(), "config": config, "ui": cls.ui_texts(lang)})
    return out


async def api_exporters(request: web.Request) -> web.Response:
    manager = _manager(request)
    return web.json_response(
        {"exporters": await describe(manager, lang_of(request)), "discovery_errors": manager.discovery_errors}
    )


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


def _known(manager: ExporterManager, request: web.Request) -> str:
    name = request.match_info["name"]
    if name not in manager.classes:
        raise web.HTTPNotFound(text=f"unknown exporter {name!r}")
    return name


async def api_save(request: web.Request) -> web.Response:
    manager = _manager(request)
    name = _known(manager, request)
    body = await _json_body(request)
    dropped = manager.dropped_secrets(name, body, await manager.stored_config(name))
    try:
        await manager.save(name, body)
    except ExporterError as exc:
        return web.json_response({"saved": False, "error": str(exc), "dropped_secrets": dropped}, status=400)
    return web.json_response({"saved": True, "dropped_secrets": dropped, **manager.status(name).as_dict()})


async def api_test(request: web.Request) -> web.Response:
    manager = _manager(request)
    name = _known(manager, request)
    body = await _json_body(request)
    dropped = manager.dropped_secrets(name, body, await manager.stored_config(name)) if body else []
    try:
        message = await manager.test(name, body or None)
    except ExporterError as exc:
        return web.json_response({"ok": False, "error": str(exc), "dropped_secrets": dropped})
    return web.json_response({"ok": True, "message": message, "dropped_secrets": dropped})


async def api_export(request: web.Request) -> web.Response:
    manager = _manager(request)
    name = _known(manager, request)
    result = await manager.run(name)
    status = manager.status(name).as_dict()
    if result is None:
        return web.json_response({"ok": False, "error": status["last_error"], **status}, status=502)
    return web.json_response({"ok": True, "items": result.items, "detail": result.detail, **status})


# ---------------------------------------------------------------------- page


def form_values(schema: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Typed values from an HTML form, guided by the JSON Schema (checkboxes, numbers)."""
    values: dict[str, Any] = {}
    for key, prop in schema.get("properties", {}).items():
        kind = prop.get("type")
        raw = form.get(key)
        if kind == "boolean":
            values[key] = raw is not None
        elif raw is None or (raw.strip() == "" and kind in ("integer", "number")):
            continue
        elif kind == "integer":
            try:
                values[key] = int(raw.strip())
            except ValueError:
                raise ExporterError(f"{key}: {raw!r} is not a whole number") from None
        elif kind == "number":
            try:
                values[key] = float(raw.strip().replace(",", "."))
            except ValueError:
                raise ExporterError(f"{key}: {raw!r} is not a number") from None
        else:
            values[key] = raw
        if prop.get("writeOnly") and form.get(CLEAR_PREFIX + key):
            values[CLEAR_PREFIX + key] = True
    return values


async def _render(request: web.Request, tab: str | None, notice: dict[str, Any] | None) -> web.Response:
    manager = _manager(request)
    lang = lang_of(request)
    exporters = await describe(manager, lang)
    names = [e["name"] for e in exporters]
    current = tab if tab in names else (names[0] if names else None)
    context = {
        "t": texts(lang),
        "lang": lang,
        "other_lang": other_lang(lang),
        "exporters": exporters,
        "current": current,
        "notice": notice,
        "discovery_errors": manager.discovery_errors,
    }
    if current == "homeassistant_statistics":  # the Energy dashboard action, as on the dashboard
        context["ha"] = await card(request.app[SERVICE])
    return aiohttp_jinja2.render_template("exporters.html", request, context)


async def exporters_page(request: web.Request) -> web.Response:
    return await _render(request, request.query.get("tab"), None)


async def exporters_action(request: web.Request) -> web.Response:
    manager = _manager(request)
    t = texts(lang_of(request))
    form = await request.post()
    name = str(form.get("exporter", ""))
    action = str(form.get("action", ""))
    if not name:
        raise web.HTTPBadRequest(text="the form names no exporter: send the page's own form")
    if name not in manager.classes:
        raise web.HTTPNotFound(text=f"unknown exporter {name!r}")
    schema = manager.classes[name].json_schema()
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    notice: dict[str, Any]
    dropped: list[str] = []
    try:
        if action in ("save", "test"):
            values = form_values(schema, fields)
            dropped = manager.dropped_secrets(name, values, await manager.stored_config(name))
        if action == "save":
            await manager.save(name, values)
            notice = {"ok": True, "title": t["saved"], "text": ""}
        elif action == "test":
            message = await manager.test(name, values)
            notice = {"ok": True, "title": t["test_ok"], "text": message}
        elif action == "export":
            result = await manager.run(name)
            status = manager.status(name)
            if result is None:
                notice = {"ok": False, "title": t["export_failed"], "text": status.last_error or ""}
            else:
                notice = {"ok": True, "title": t["export_done"], "text": result.detail}
        else:
            raise web.HTTPBadRequest(text=f"unknown action {action!r}")
    except ExporterError as exc:
        title = t["test_failed"] if action == "test" else t["invalid_settings"]
        notice = {"ok": False, "title": title, "text": str(exc)}
    if dropped:
        notice["dropped"] = t["secret_dropped"].format(fields=", ".join(dropped))
    return await _render(request, name, notice)


# ---------------------------------------------------------------------- Prometheus


async def metrics(request: web.Request) -> web.Response:
    manager = _manager(request)
    exporter = manager.exporters.get(PrometheusExporter.name)
    if not isinstance(exporter, PrometheusExporter) or not exporter.status.enabled:
        return web.Response(status=404, text=texts(lang_of(request))["metrics_disabled"])
    body = await exporter.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

"""The "In Home Assistant" card of the dashboard and the Energy dashboard action.

The card says what Home Assistant got from us and, for anything missing, the one action that fixes
it: the broker used and where it came from, entities published and when, statistics imported up to
which hour, whether the Energy dashboard uses them. The action `POST api/homeassistant/energy` (JSON
`{"action": "add" | "remove"}`, sent by static/ha_card.js) runs only on that click.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.exporters.base import ExporterError
from app.exporters.homeassistant.defaults import defaults_notice
from app.exporters.homeassistant.discovery import HomeAssistantDiscoveryExporter
from app.exporters.homeassistant.energy import EnergyChange, EnergyDashboard
from app.exporters.homeassistant.statistics import HomeAssistantStatisticsExporter
from app.exporters.homeassistant.websocket import HomeAssistantWebSocket
from app.service import Service
from app.web import openapi
from app.web.context import SERVICE

DISCOVERY = HomeAssistantDiscoveryExporter.name
STATISTICS = HomeAssistantStatisticsExporter.name


def setup_homeassistant_card(app: web.Application) -> None:
    app.router.add_post("/api/homeassistant/energy", api_energy)
    answers = {
        "200": "what was added or removed (ok: true)",
        "400": "the action field is not add or remove",
        "415": "the body is not JSON",
        "502": "Home Assistant refused or cannot be reached: nothing was changed (ok: false, error)",
    }
    openapi.document_path(
        "/api/homeassistant/energy",
        {
            "post": {
                "summary": "Add our statistics to the Energy dashboard, or remove exactly what we added",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["action"],
                                "properties": {"action": {"type": "string", "enum": ["add", "remove"]}},
                            }
                        }
                    },
                },
                "responses": {
                    code: {"description": text, "content": {"application/json": {}}}
                    for code, text in answers.items()
                },
            }
        },
    )


def _broker_source(service: Service) -> str | None:
    """supervisor, options or environment: where the broker the exporters use was given."""
    mqtt = service.integrations.mqtt if service.integrations else None
    if mqtt is None or mqtt.source is None:
        return None
    if mqtt.source == "supervisor":
        return "supervisor"
    return "options" if service.settings.addon else "environment"


async def card(service: Service) -> dict[str, Any]:
    """What the card shows; fix codes name the one action for anything missing. No secrets."""
    manager, store = service.exporters, service.store
    mqtt = service.integrations.mqtt.as_dict() if service.integrations else {"state": "not_configured"}
    out: dict[str, Any] = {
        "addon": service.settings.addon,
        "broker": {**{k: mqtt.get(k) for k in ("state", "host", "port")}, "source": _broker_source(service)},
        "core_api": None
        if service.core_api is None
        else ("supervisor" if service.core_api.via_supervisor else "environment"),
        "discovery": None,
        "statistics": None,
        "energy_added": False,
        "defaults_notice": None,
        "fixes": [],
    }
    if manager is None or store is None:
        return out
    for name, key in ((DISCOVERY, "discovery"), (STATISTICS, "statistics")):
        status = manager.status(name)
        out[key] = {
            "enabled": status.enabled,
            "last_success": status.last_success.isoformat() if status.last_success else None,
            "last_exported": status.last_exported,
            "last_error": status.last_error,
        }
    published = await store.settings.discovery_published()
    out["discovery"]["entities"] = len(published.get("states", [])) if isinstance(published, dict) else 0
    added = await store.settings.energy_added()
    out["energy_added"] = bool(isinstance(added, dict) and (added.get("flow_from") or added.get("flow_to")))
    out["defaults_notice"] = await defaults_notice(manager, store)
    fixes: list[str] = []
    if mqtt.get("state") == "no_broker":
        fixes.append("install_mosquitto")
    elif mqtt.get("state") == "not_configured" and not service.settings.addon:
        fixes.append("set_mqtt_host")
    elif not out["discovery"]["enabled"]:
        fixes.append("enable_discovery")
    if service.core_api is None and not service.settings.addon:
        fixes.append("set_ha_url")
    elif not out["statistics"]["enabled"]:
        fixes.append("enable_statistics")
    elif not out["energy_added"]:
        fixes.append("add_to_energy")
    out["fixes"] = fixes
    return out


async def _json_action(request: web.Request) -> str:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send JSON (Content-Type: application/json)")
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="action: the body must be a JSON object") from None
    action = body.get("action") if isinstance(body, dict) else None
    if action not in ("add", "remove"):
        raise web.HTTPBadRequest(text='action: expected "add" or "remove"')
    return str(action)


async def api_energy(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    action = await _json_action(request)
    manager, store = service.exporters, service.store
    exporter = manager.exporters.get(STATISTICS) if manager else None
    if store is None or not isinstance(exporter, HomeAssistantStatisticsExporter):
        unavailable = {"ok": False, "error": "the store or the exporters are not available"}
        return web.json_response(unavailable, status=503)
    try:
        url, token = exporter.endpoint()
        async with HomeAssistantWebSocket(url, token) as ws:
            dashboard = EnergyDashboard(store, ws)
            change: EnergyChange = await (dashboard.add() if action == "add" else dashboard.remove())
    except ExporterError as exc:  # HA refused or cannot be reached: nothing was changed
        return web.json_response({"ok": False, "error": str(exc)}, status=502)
    return web.json_response({"ok": True, **change.as_dict()})

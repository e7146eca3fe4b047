"""The OpenAPI 3.1 document of the JSON API, served at `/api/openapi.json`.

Other modules document their own routes with `document_path(path, item)` from their `setup_*(app)`.
"""

from __future__ import annotations

import copy
from typing import Any

from app import __version__

PDL = {
    "name": "pdl",
    "in": "query",
    "required": True,
    "description": "usage point number (PDL, 14 digits)",
    "schema": {"type": "string", "pattern": "^[0-9]{14}$"},
}
DIRECTION = {
    "name": "direction",
    "in": "query",
    "schema": {"type": "string", "enum": ["consumption", "production"], "default": "consumption"},
}
VIEW = {
    "name": "view",
    "in": "query",
    "description": "day: 31 days, week: 26 weeks, month: 24 months, year: up to 4 years, ending on `end`",
    "schema": {"type": "string", "enum": ["day", "week", "month", "year"], "default": "month"},
}
COST_PERIOD = {
    "name": "period",
    "in": "query",
    "description": "day: the last 31 days, month: the last 12 months, year: the last 3 years",
    "schema": {"type": "string", "enum": ["day", "month", "year"], "default": "month"},
}
BILAN_VIEW = {
    "name": "view",
    "in": "query",
    "schema": {"type": "string", "enum": ["month", "year"], "default": "year"},
}
LANG = {"name": "lang", "in": "query", "description": "labels language", "schema": {"enum": ["fr", "en"]}}
FORMAT = {
    "name": "format",
    "in": "query",
    "description": "csv: the same table as a CSV download",
    "schema": {"enum": ["json", "csv"], "default": "json"},
}


def _day(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": "string", "format": "date"},
    }


END = _day("end", "last Paris day shown (default: yesterday)")
FIRST = _day("first", "first Paris day")
LAST = _day("last", "last Paris day")

ERROR = {
    "description": "bad parameter",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
NOT_FOUND = {
    "description": "unknown usage point",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _chart_get(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": [*parameters, LANG, FORMAT],
            "responses": {
                "200": {
                    "description": "chart data (or CSV with format=csv)",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Chart"}},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                "400": ERROR,
                "404": NOT_FOUND,
            },
        }
    }


_PATHS: dict[str, Any] = {
    "/api/status": {
        "get": {
            "summary": "Client state: sync progress, quota, usage points, coverage, errors with the fix",
            "responses": {"200": {"description": "status", "content": {"application/json": {}}}},
        }
    },
    "/api/sync": {
        "post": {
            "summary": "Start a sync now",
            "responses": {
                "202": {"description": "started"},
                "409": {"description": "already running, or not configured"},
            },
        }
    },
    "/api/usage_points": {
        "get": {
            "summary": "Usage points with contract details",
            "responses": {
                "200": {"description": "list of usage points", "content": {"application/json": {}}}
            },
        }
    },
    "/api/energy": _chart_get(
        "Energy (kWh) per day, week, month or year from the daily totals", [PDL, DIRECTION, VIEW, END]
    ),
    "/api/split": _chart_get(
        "Peak / off-peak energy (kWh) per bucket, from the load curve", [PDL, VIEW, END]
    ),
    "/api/curve": _chart_get(
        "Load curve (average W per 30-minute slot) on a regular grid: start + step + values, "
        "at most 366 days",
        [PDL, DIRECTION, FIRST, LAST],
    ),
    "/api/compare": _chart_get(
        "Monthly energy of the year of `end` against the year before", [PDL, DIRECTION, END]
    ),
    "/api/max_power": _chart_get(
        "Highest power (kVA) per bucket against the subscribed power", [PDL, VIEW, END]
    ),
    "/api/cost": _chart_get(
        "Cost (€) per day (31 days), month (12 months) or year (3 years) of the chosen offer, stacked per "
        "tariff bucket, the subscription as its own series; `total` is the priced period's total",
        [PDL, COST_PERIOD],
    ),
    "/api/simulation/ranking": _chart_get(
        "12-month cost (€) of every offer at the subscribed power, cheapest first (the current offer "
        "as its own series)",
        [PDL],
    ),
    "/api/simulation/months": _chart_get(
        "Month by month cost (€) of the current offer and of the cheapest offer", [PDL]
    ),
    "/api/bilan/energy": _chart_get(
        "Consumption against production (kWh) per month or year, production split into self-consumed "
        "and surplus",
        [PDL, BILAN_VIEW],
    ),
    "/api/bilan/shares": _chart_get(
        "Off-peak share of consumption and self-consumption rate (%) per month or year", [PDL, BILAN_VIEW]
    ),
    "/api/bilan/years": _chart_get("Monthly consumption (kWh), one series per year (up to four)", [PDL]),
    "/api/ecowatt": _chart_get("EcoWatt hourly signal (default: today and the next 3 days)", [FIRST, LAST]),
    "/api/tempo": {
        "get": {
            "summary": "Tempo colours (default: the current season) and remaining days per colour",
            "parameters": [FIRST, LAST, FORMAT],
            "responses": {"200": {"description": "days and remaining", "content": {"application/json": {}}}},
        }
    },
    "/api/openapi.json": {
        "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1 document"}}}
    },
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string"},
            "parameter": {"type": "string"},
            "message": {"type": "string"},
        },
    },
    "Chart": {
        "type": "object",
        "required": ["x", "unit", "series"],
        "properties": {
            "x": {"enum": ["time", "category"]},
            "labels": {"type": "array", "items": {"type": "string"}, "description": "category labels"},
            "axis_labels": {
                "type": "array",
                "items": {"type": "string"},
                "description": "shorter category labels for the axis (the tooltip shows `labels`)",
            },
            "keys": {"type": "array", "items": {"type": "string"}, "description": "first day of each bucket"},
            "t": {"type": "array", "items": {"type": "integer"}, "description": "epoch seconds (UTC)"},
            "start": {"type": "integer", "description": "epoch seconds of the first slot (regular grid)"},
            "step": {"type": "integer", "description": "seconds between slots (regular grid)"},
            "unit": {"type": "string"},
            "total": {"type": ["number", "null"]},
            "total_unit": {"type": "string", "description": "unit of `total` when it differs from `unit`"},
            "horizontal": {"type": "boolean", "description": "category bars laid out sideways"},
            "series": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["label", "kind", "values"],
                    "properties": {
                        "label": {"type": "string"},
                        "kind": {"enum": ["bars", "line", "step"]},
                        "color": {"type": "string"},
                        "stack": {"type": "string", "description": "bars of one stack are piled up"},
                        "unit": {"type": "string", "description": "when it differs from the chart's"},
                        "values": {"type": "array", "items": {"type": ["number", "null"]}},
                    },
                },
            },
        },
    },
}


def _json(summary: str, method: str = "get", codes: dict[str, str] | None = None) -> dict[str, Any]:
    answers = codes or {"200": "JSON answer"}
    return {
        method: {
            "summary": summary,
            "responses": {
                code: {"description": text, "content": {"application/json": {}}}
                for code, text in answers.items()
            },
        }
    }


_NAME = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
_PATHS.update(
    {
        "/api/exporters": _json("Every discovered exporter with its settings schema and status"),
        "/api/exporters/{name}": {
            **_json(
                "Save an exporter's settings (secrets left empty are kept)",
                "post",
                {"200": "saved", "400": "invalid settings, each bad field named", "404": "unknown exporter"},
            ),
            "parameters": _NAME,
        },
        "/api/exporters/{name}/test": {
            **_json(
                "Test the connection with the given settings",
                "post",
                {"200": "the real outcome or the real error text", "404": "unknown exporter"},
            ),
            "parameters": _NAME,
        },
        "/api/exporters/{name}/export": {
            **_json("Run one export now", "post", {"200": "result", "404": "unknown exporter"}),
            "parameters": _NAME,
        },
        "/api/pricing/consumption_euro": _json("Costs per day, month or year and per tariff bucket"),
        "/api/pricing/simulation": _json("Every offer at the user's power priced on the last 12 months"),
        "/api/pricing/bilan": _json("Consumption against production, self-consumption, HP/HC share"),
        "/api/pricing/offers": {
            **_json("The offer catalogue, the chosen offer, off-peak overrides and EJP days"),
            **_json(
                "Choose an offer, override off-peak hours, set the EJP days (ejp_days) or add an offer",
                "post",
                {"200": "saved", "400": "invalid input, named"},
            ),
        },
    }
)


def document_path(path: str, item: dict[str, Any]) -> None:
    """Add (or replace) the description of one API path."""
    _PATHS[path] = item


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MyElectricalData local client API",
            "version": __version__,
            "description": "JSON API behind the web UI charts. Energy in kWh, power in W or kVA, days are "
            "Paris dates, instants are UTC epoch seconds. URLs are relative to the UI root "
            "(Home Assistant ingress prefix included).",
        },
        "servers": [{"url": ".."}],
        "paths": copy.deepcopy(_PATHS),
        "components": {"schemas": copy.deepcopy(_SCHEMAS)},
    }

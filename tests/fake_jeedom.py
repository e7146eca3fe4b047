"""A fake Jeedom (it cannot run here) that checks every request against integrations.md section 4.

- JSON-RPC 2.0 POST `core/api/jeeApi.php`: `cmd::event` with params exactly apikey, id, value,
  datetime ("YYYY-MM-DD HH:MM:SS"); `eqLogic::save` (eqType_name "virtual") and `cmd::save` create
  equipment and commands and answer them with their new id; `ping` answers "pong" (Jeedom's API test).
- Virtual plugin event URL: GET `core/api/jeeApi.php?plugin=virtual&type=event&apikey=..&id=..&value=..`.
Each accepted request is recorded; each request that breaks the contract is recorded in `violations`
(and answered with an error), so tests assert both the exact calls and that nothing was malformed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
API_KEY = "jeedom-api-key-123456"


@dataclass
class FakeJeedom:
    apikey: str = API_KEY
    fail_status: int | None = None  # answer every request with this HTTP status
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    equipments: dict[int, dict[str, Any]] = field(default_factory=dict)
    commands: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 100

    def add_command(self, name: str) -> int:
        self.next_id += 1
        self.commands[self.next_id] = {"name": name, "type": "info", "subType": "numeric"}
        return self.next_id

    def events(self) -> list[dict[str, Any]]:
        return [params for method, params in self.calls if method == "cmd::event"]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/core/api/jeeApi.php", self.jsonrpc)
        app.router.add_get("/core/api/jeeApi.php", self.http_get)
        return app

    def _bad(self, text: str) -> None:
        self.violations.append(text)

    async def jsonrpc(self, request: web.Request) -> web.Response:
        if self.fail_status is not None:
            return web.Response(status=self.fail_status, text="Internal Server Error")
        try:
            body = await request.json()
        except ValueError:
            self._bad("body is not JSON")
            return web.json_response(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse"}}
            )
        if not isinstance(body, dict) or body.get("jsonrpc") != "2.0" or "id" not in body:
            self._bad(f"not a JSON-RPC 2.0 request: {body}")
        method, params, rid = body.get("method"), body.get("params"), body.get("id")
        if not isinstance(params, dict):
            self._bad(f"{method}: params must be an object")
            return self._error(rid, -32602, "params")
        if params.get("apikey") != self.apikey:
            return self._error(rid, -32001, "Vous n'êtes pas autorisé à effectuer cette action")
        public = {k: v for k, v in params.items() if k != "apikey"}
        if method == "ping":
            self.calls.append(("ping", public))
            return self._result(rid, "pong")
        if method == "cmd::event":
            problems = []
            if set(params) != {"apikey", "id", "value", "datetime"}:
                problems.append(f"params {sorted(params)} != apikey, id, value, datetime")
            if not isinstance(params.get("id"), int) or params.get("id") not in self.commands:
                problems.append(f"unknown command id {params.get('id')!r}")
            value = params.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"value {value!r} is not a number")
            stamp = params.get("datetime")
            if not isinstance(stamp, str) or not STAMP.match(stamp):
                problems.append(f"datetime {stamp!r} is not YYYY-MM-DD HH:MM:SS")
            else:
                dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
            if problems:
                self._bad("cmd::event: " + "; ".join(problems))
                return self._error(rid, -32602, "; ".join(problems))
            self.calls.append(("cmd::event", public))
            return self._result(rid, None)
        if method == "eqLogic::save":
            if params.get("eqType_name") != "virtual" or not params.get("name"):
                self._bad(f"eqLogic::save needs eqType_name 'virtual' and a name: {public}")
                return self._error(rid, -32602, "eqLogic")
            self.calls.append(("eqLogic::save", public))
            self.next_id += 1
            self.equipments[self.next_id] = public
            return self._result(rid, {**public, "id": str(self.next_id)})
        if method == "cmd::save":
            eq = params.get("eqLogic_id")
            if eq not in self.equipments or params.get("type") != "info" or not params.get("name"):
                self._bad(f"cmd::save needs an existing eqLogic_id, type info and a name: {public}")
                return self._error(rid, -32602, "cmd")
            self.calls.append(("cmd::save", public))
            self.next_id += 1
            self.commands[self.next_id] = public
            return self._result(rid, {**public, "id": str(self.next_id)})
        self._bad(f"method {method!r} is not one section 4 allows")
        return self._error(rid, -32601, "Method not found")

    async def http_get(self, request: web.Request) -> web.Response:
        if self.fail_status is not None:
            return web.Response(status=self.fail_status, text="Internal Server Error")
        query = dict(request.query)
        if set(query) != {"plugin", "type", "apikey", "id", "value"} or query.get("plugin") != "virtual":
            self._bad(f"event URL needs plugin=virtual&type=event&apikey&id&value: {query}")
            return web.Response(status=400)
        if query["type"] != "event" or query["apikey"] != self.apikey:
            self._bad(f"event URL: bad type or key: {query}")
            return web.Response(status=403)
        if not query["id"].isdigit() or int(query["id"]) not in self.commands:
            self._bad(f"event URL: unknown command {query['id']}")
            return web.Response(status=404)
        self.calls.append(("event_url", {"id": int(query["id"]), "value": query["value"]}))
        return web.Response(text="")

    @staticmethod
    def _result(rid: Any, result: Any) -> web.Response:
        return web.json_response({"jsonrpc": "2.0", "id": rid, "result": result})

    @staticmethod
    def _error(rid: Any, code: int, message: str) -> web.Response:
        return web.json_response({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}})

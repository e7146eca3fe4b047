"""The plugin system: discovery (package modules and entry points), the /exporters page and API,
write-only secrets, and failing exporters that never hold up a sync."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app import timeline
from app.domain import Direction
from app.exporters.manager import ENTRY_POINT_GROUP, ExporterManager, discover
from app.service import Service
from app.web.app import create_app
from tests.exporter_support import free_port, synced_service
from tests.fake_jeedom import API_KEY, FakeJeedom
from tests.support import AiohttpServer, same_origin
from tests.test_exporter_victoriametrics import read_series, victoria_metrics

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
URL_ATTRIBUTE = re.compile(r'(href|src|action)="([^"]*)"')
BUILT_IN = {
    "mqtt",
    "prometheus",
    "victoriametrics",
    "jeedom",
    "influxdb",
    "homeassistant_discovery",  # a subpackage: its __init__ re-exports the classes
    "homeassistant_statistics",
}

TINY_MODULE = """
from typing import Any, ClassVar
import voluptuous as vol
from app.exporters.base import BaseExporter, ExportResult

class TinyExporter(BaseExporter):
    name: ClassVar[str] = "tiny"
    title: ClassVar[str] = "Tiny"
    description: ClassVar[str] = "A third-party exporter installed as its own distribution."
    config_schema: ClassVar[vol.Schema] = vol.Schema({vol.Optional("enabled", default=False): bool,
                                                      vol.Optional("greeting", default="hello"): str})

    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def export(self) -> ExportResult:
        points = await self.context.store.usage_points()
        return ExportResult(len(points), f"{self.config['greeting']} {len(points)} usage points")
    async def test_connection(self) -> str:
        return "tiny is fine"
"""


@pytest.fixture
def tiny_distribution(tmp_path: Path) -> Iterator[Path]:
    """An installed distribution `myelectricaldata-tiny` (its dist-info and module on sys.path)."""
    site = tmp_path / "site"
    dist = site / "myelectricaldata_tiny-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "med_tiny_exporter.py").write_text(TINY_MODULE)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myelectricaldata-tiny\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ntiny = med_tiny_exporter\nbroken = med_missing_module:Nothing\n"
    )
    (dist / "RECORD").write_text("")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("med_tiny_exporter", None)
        importlib.invalidate_caches()


def manager_of(service: Service) -> ExporterManager:
    assert service.exporters is not None
    return service.exporters


def test_built_in_exporters_are_discovered_from_their_modules() -> None:
    found, errors = discover()
    assert set(found) >= BUILT_IN and errors == []
    for cls in found.values():
        schema = cls.json_schema()
        assert schema["type"] == "object" and "enabled" in schema["properties"]
        for secret in cls.secret_fields:
            assert schema["properties"][secret]["writeOnly"] is True


async def test_entry_point_plugin_is_discovered_and_runs(
    tiny_distribution: Path, aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    assert manager.classes["tiny"].__module__ == "med_tiny_exporter"
    assert any("broken" in e and "med_missing_module" in e for e in manager.discovery_errors)
    client = await aiohttp_client(create_app(service))
    same_origin(client)
    listed = await (await client.get("/api/exporters")).json()
    tiny = next(e for e in listed["exporters"] if e["name"] == "tiny")
    assert tiny["schema"]["properties"]["greeting"] == {"type": "string", "default": "hello"}
    page = await (await client.get("/exporters?tab=tiny&lang=en")).text()
    assert "A third-party exporter installed as its own distribution." in page
    assert "Exporter cannot be loaded" in page  # the broken entry point is shown, not hidden
    form = {"exporter": "tiny", "action": "save", "enabled": "on", "greeting": "bonjour"}
    assert "Settings saved." in await (await client.post("/exporters?lang=en", data=form)).text()
    await manager.wait_idle()
    assert manager.status("tiny").last_exported == "bonjour 3 usage points"
    await service.stop()


async def test_page_forms_tabs_secrets_and_languages(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    client = await aiohttp_client(create_app(service))
    same_origin(client)
    page = await (await client.get("/exporters")).text()
    assert '<html lang="fr">' in page and "Tester la connexion" in page and "Exporter maintenant" in page
    for name in BUILT_IN:
        assert f'data-exporter="{name}"' in page
    for _, url in URL_ATTRIBUTE.findall(page):
        assert not url.startswith(("/", "http:", "https:", "//")), url
    french = await (await client.get("/exporters?tab=victoriametrics")).text()
    assert "Adresse de VictoriaMetrics" in french and "Jeton (bearer)" in french
    english = await (await client.get("/exporters?tab=victoriametrics&lang=en")).text()
    assert "Test connection" in english and 'name="bearer_token"' in english and 'type="password"' in english

    # Invalid input: a clear message, nothing stored.
    bad = {"exporter": "victoriametrics", "action": "save", "url": "not a url", "correction_days": "7"}
    answer = await (await client.post("/exporters?lang=en", data=bad)).text()
    assert "Invalid settings" in answer and "http://host:8428" in answer
    assert await manager_of(service).stored_config("victoriametrics") == {}
    bad_number = {**bad, "url": "http://127.0.0.1:1", "correction_days": "seven"}
    assert "is not a whole number" in await (await client.post("/exporters?lang=en", data=bad_number)).text()

    # A secret is write-only: saved, shown as set, never sent back, kept when left empty, clearable.
    token = "tok-SECRET-4242"
    good = {
        "exporter": "victoriametrics",
        "action": "save",
        "url": "http://127.0.0.1:1",
        "bearer_token": token,
    }
    saved = await (await client.post("/exporters?lang=en", data=good)).text()
    assert "Settings saved." in saved and token not in saved and "already set" in saved
    api = await (await client.get("/api/exporters")).text()
    assert token not in api
    await client.post("/exporters", data={**good, "bearer_token": ""})
    assert (await manager_of(service).stored_config("victoriametrics"))["bearer_token"] == token
    await client.post("/exporters", data={**good, "bearer_token": "", "clear_bearer_token": "on"})
    assert (await manager_of(service).stored_config("victoriametrics"))["bearer_token"] == ""
    await service.stop()


async def _hanging_server() -> tuple[asyncio.Server, int, list[int]]:
    """Accepts connections and never answers (a target that hangs)."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await reader.read(-1)
        writer.close()

    port = free_port()
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    return server, port, connections


async def wait_until(manager: ExporterManager, condition: Callable[[], bool]) -> None:
    await asyncio.wait_for(manager.wait_for(condition), 20)


async def test_failing_exporters_show_errors_retry_and_never_delay_the_sync(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    manager.retry_delay = 0.5
    manager.run_timeout = 3.0
    fake = FakeJeedom(fail_status=500)
    jeedom_url = str((await aiohttp_server(fake.app())).make_url("")).rstrip("/")
    cmd = fake.add_command("daily_consumption")
    hanging, hang_port, connections = await _hanging_server()
    await manager.save(
        "jeedom",
        {
            "enabled": True,
            "url": jeedom_url,
            "apikey": API_KEY,
            "commands": f"09111111111111.daily_consumption={cmd}",
        },
    )
    await manager.save(
        "mqtt", {"enabled": True, "host": "127.0.0.1", "port": free_port(), "password": "pw-XYZ-1"}
    )
    await manager.save("victoriametrics", {"enabled": True, "url": f"http://127.0.0.1:{hang_port}"})
    await manager.wait_idle()  # the connect-and-export runs after saving; the VM one hangs until its timeout

    # A sync returns at once although an exporter hangs: exporters run in the background.
    t0 = time.monotonic()
    await service.sync()
    assert time.monotonic() - t0 < manager.run_timeout
    assert manager._tasks, "the exporters are still running after the sync returned"
    await wait_until(manager, lambda: manager.status("victoriametrics").last_error == "timed out")

    client = await aiohttp_client(create_app(service))

    same_origin(client)
    status = await (await client.get("/api/status")).json()
    errors = {e["name"]: e["last_error"] for e in status["exporters"]}
    assert "HTTP 500" in errors["jeedom"]
    assert "refused" in errors["mqtt"].lower() or "connect" in errors["mqtt"].lower()
    assert errors["victoriametrics"] == "timed out"
    assert "pw-XYZ-1" not in json.dumps(status)
    page = await (await client.get("/exporters?tab=jeedom&lang=en")).text()
    assert "Last error" in page and "HTTP 500" in page and "Next attempt" in page
    assert manager.status("jeedom").next_retry is not None

    # Jeedom comes back: the scheduled retry succeeds without any user action.
    fake.fail_status = None
    await wait_until(manager, lambda: manager.status("jeedom").last_error is None)
    assert fake.events() and manager.status("jeedom").last_success is not None
    seen = len(connections)
    await wait_until(manager, lambda: len(connections) > seen)  # the hanging one is retried too
    hanging.close()
    await service.stop()


async def test_influxdb_line_protocol_lands_in_a_real_server(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """VictoriaMetrics speaks the InfluxDB 2 write API (/api/v2/write), so it receives the line protocol."""
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    store = service.store
    assert store is not None
    async with victoria_metrics(tmp_path / "vm") as url:
        await manager.save("influxdb", {"enabled": True, "url": url, "token": "t0ken", "history_days": 3})
        await manager.wait_idle()
        assert manager.status("influxdb").last_error is None
        got = await read_series(url, "consumption_daily_energy_wh", "09111111111111")
        daily = await store.daily(
            "09111111111111", Direction.CONSUMPTION, dt.date(2026, 11, 25), dt.date(2026, 11, 27)
        )
        assert got == [(int(timeline.day_start_utc(d.day).timestamp()) * 1000, float(d.wh)) for d in daily]
    await service.stop()

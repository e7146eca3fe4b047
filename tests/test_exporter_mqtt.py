"""MQTT exporter on real private Mosquitto brokers: password auth, TLS with a test CA, commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from aiohttp.test_utils import TestClient

from app.domain import Direction
from app.exporters.base import ExporterError
from app.exporters.manager import ExporterManager
from app.service import Service
from app.web.app import create_app
from tests.exporter_support import Broker, mosquitto, synced_service
from tests.support import AiohttpServer, same_origin

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
PDL = "09111111111111"
PASSWORD = "s3cret-Pa55"


def manager_of(service: Service) -> ExporterManager:
    assert service.exporters is not None
    return service.exporters


async def retained(
    broker: Broker, prefix: str, wanted: set[str], *, tls: ssl.SSLContext | None = None
) -> dict[str, str]:
    """Subscribe to `prefix/#` and collect retained messages until every wanted topic arrived."""
    got: dict[str, str] = {}
    async with aiomqtt.Client(
        "127.0.0.1",
        broker.port,
        username=broker.username or None,
        password=broker.password or None,
        tls_context=tls,
    ) as client:
        await client.subscribe(f"{prefix}/#")
        async with asyncio.timeout(15):
            async for message in client.messages:
                got[str(message.topic)] = bytes(message.payload).decode()
                if wanted <= set(got):
                    break
    return got


async def test_password_broker_wrong_then_right_password_and_exact_payloads(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    prefix = f"med-{uuid.uuid4().hex[:8]}"
    async with mosquitto(tmp_path / "mq", username="linky", password=PASSWORD) as broker:
        settings = {"host": "127.0.0.1", "port": broker.port, "username": "linky", "prefix": prefix}
        with pytest.raises(ExporterError, match=r"[Nn]ot authori[sz]ed|[Bb]ad user name or password"):
            await manager.test("mqtt", {**settings, "password": "wrong-one"})
        assert "connected to 127.0.0.1" in await manager.test("mqtt", {**settings, "password": PASSWORD})

        # Saved through the page like a user would; the password is never shown back.
        client = await aiohttp_client(create_app(service))
        same_origin(client)
        form = {
            "exporter": "mqtt",
            "action": "save",
            "enabled": "on",
            "retain": "on",
            "qos": "1",
            "payload_format": "json",
            **{k: str(v) for k, v in settings.items()},
            "password": PASSWORD,
        }
        page = await (await client.post("/exporters?lang=en", data=form)).text()
        assert "Settings saved." in page and PASSWORD not in page
        await manager.wait_idle()
        status = manager.status("mqtt")
        assert status.last_error is None and status.connected, status
        api = await (await client.get("/api/exporters")).text()
        assert PASSWORD not in api and '"password": true' in api

        # Saving again with an empty password keeps it (write-only field).
        form["password"] = ""
        await client.post("/exporters", data=form)
        await manager.wait_idle()
        assert manager.status("mqtt").last_error is None
        assert (await manager.stored_config("mqtt"))["password"] == PASSWORD

        topics = {
            f"{prefix}/{PDL}/consumption/daily",
            f"{prefix}/{PDL}/consumption/month",
            f"{prefix}/{PDL}/consumption/year",
            f"{prefix}/{PDL}/max_power",
            f"{prefix}/09333333333333/production/daily",
            f"{prefix}/tempo/today",
            f"{prefix}/ecowatt/today",
            f"{prefix}/status",
        }
        got = await retained(broker, prefix, topics)
        store = service.store
        assert store is not None
        today = dt.date(2026, 11, 28)
        last = (await store.daily(PDL, Direction.CONSUMPTION, today - dt.timedelta(days=30), today))[-1]
        daily = json.loads(got[f"{prefix}/{PDL}/consumption/daily"])
        assert daily["date"] == last.day.isoformat() == "2026-11-27"
        assert (
            daily["wh"] == last.wh and daily["value"] == round(last.wh / 1000, 3) and daily["unit"] == "kWh"
        )
        month = await store.daily_energy(PDL, Direction.CONSUMPTION, "month", dt.date(2026, 11, 1), today)
        assert json.loads(got[f"{prefix}/{PDL}/consumption/month"]) == {
            "value": round(month[0][1] / 1000, 3),
            "unit": "kWh",
            "month": "2026-11",
        }
        hphc = json.loads(got[f"{prefix}/09222222222222/consumption/daily"])
        assert hphc["hp"] + hphc["hc"] == pytest.approx(hphc["value"], abs=0.002)
        tempo = await store.tempo(today, today)
        assert json.loads(got[f"{prefix}/tempo/today"])["value"] == tempo[0].color.value
        assert json.loads(got[f"{prefix}/status"])["state"] == "online"

        # The command topic starts a real sync (through the scheduler).
        scheduler = service.scheduler
        assert scheduler is not None
        first_run = scheduler.next_run_finished()
        scheduler.start()  # its first run happens at start
        assert (await first_run).ok
        commanded = scheduler.next_run_finished()
        async with aiomqtt.Client("127.0.0.1", broker.port, username="linky", password=PASSWORD) as pub:
            await pub.publish(f"{prefix}/command/sync", "1", qos=1)
        assert (await asyncio.wait_for(commanded, 30)).ok
    await service.stop()


async def test_tls_broker_needs_the_ca_and_plain_values(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    prefix = f"med-{uuid.uuid4().hex[:8]}"
    async with mosquitto(tmp_path / "mq", tls=True) as broker:
        settings: dict[str, Any] = {"host": "127.0.0.1", "port": broker.port, "tls": True, "prefix": prefix}
        with pytest.raises(ExporterError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            await manager.test("mqtt", settings)
        settings |= {"ca_certificate": broker.ca_pem, "payload_format": "plain", "enabled": True}
        assert "(TLS, anonymous)" in await manager.test("mqtt", settings)
        await manager.save("mqtt", settings)
        await manager.wait_idle()
        assert manager.status("mqtt").last_error is None
        tls = ssl.create_default_context(cadata=broker.ca_pem)
        got = await retained(
            broker, prefix, {f"{prefix}/{PDL}/consumption/daily", f"{prefix}/status"}, tls=tls
        )
        assert got[f"{prefix}/status"] == "online"
        value = float(got[f"{prefix}/{PDL}/consumption/daily"])
        store = service.store
        assert store is not None
        last = (await store.daily(PDL, Direction.CONSUMPTION, dt.date(2026, 11, 27), dt.date(2026, 11, 27)))[
            0
        ]
        assert value == round(last.wh / 1000, 3)
    await service.stop()


async def test_supervisor_broker_is_the_default(aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    from app.connections import MqttBroker

    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    async with mosquitto(tmp_path / "mq", username="addons", password=PASSWORD) as broker:
        manager.context.mqtt_broker = MqttBroker("127.0.0.1", broker.port, "addons", PASSWORD)
        assert "user addons" in await manager.test("mqtt", {"host": ""})
    manager.context.mqtt_broker = None
    with pytest.raises(ExporterError, match="no MQTT broker"):
        await manager.test("mqtt", {"host": ""})
    await service.stop()

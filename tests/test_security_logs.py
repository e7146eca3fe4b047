"""A debug-level log of a full sync with every exporter configured holds none of the configured
secrets (settings and exporter secrets; SQL-echoing library loggers stay at WARNING)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from app.gateway.simulator.state import DEMO_CLIENT_SECRET
from app.settings import Secret, configure_logging
from app.web.app import create_app
from tests.exporter_support import mosquitto
from tests.support import AiohttpServer, Clock, make_service, start_simulator
from tests.test_security_secrets import http_catcher

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
JSON = {"Content-Type": "application/json"}


async def test_debug_log_of_a_full_sync_holds_no_secret(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    simulator, _ = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(simulator.make_url("/")), clock)
    settings = dataclasses.replace(
        service.settings,
        log_level="debug",
        mqtt_password=Secret("settings-mqtt-pw-1"),
        web_password=Secret("settings-web-pw-2"),
        ha_token=Secret("settings-ha-token-3"),
    )
    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    try:
        configure_logging(settings)
        await service.start(schedule=False)
        assert service.exporters is not None
        client = await aiohttp_client(create_app(service))
        catchers = {name: await http_catcher(aiohttp_server) for name in ("influx", "vm", "jeedom", "ha")}
        secrets = {
            "influxdb": {"token": "influx-token-A1"},
            "victoriametrics": {"password": "vm-password-B2", "bearer_token": "vm-bearer-C3"},
            "jeedom": {"apikey": "jeedom-apikey-D4"},
            "homeassistant_statistics": {"token": "ha-stat-token-E5"},
        }
        async with mosquitto(tmp_path / "mq", username="linky", password="mqtt-password-F6") as broker:
            configs: dict[str, dict[str, Any]] = {
                "influxdb": {"url": catchers["influx"].url, "org": "o", "bucket": "b"},
                "victoriametrics": {"url": catchers["vm"].url, "username": "vm"},
                "jeedom": {
                    "url": catchers["jeedom"].url,
                    "commands": f"{'09111111111111'}.daily_consumption=1",
                },
                "homeassistant_statistics": {"url": catchers["ha"].url},
                "mqtt": {"host": "127.0.0.1", "port": broker.port, "username": "linky"},
                "homeassistant_discovery": {"host": "127.0.0.1", "port": broker.port, "username": "linky"},
                "prometheus": {},
            }
            secrets["mqtt"] = {"password": "mqtt-password-F6"}
            secrets["homeassistant_discovery"] = {"password": "mqtt-password-F6"}
            for name, config in configs.items():
                body = {**config, **secrets.get(name, {}), "enabled": True}
                answer = await client.post(f"/api/exporters/{name}", json=body, headers=JSON)
                assert answer.status == 200, (name, await answer.text())
            await service.exporters.wait_idle()
            await service.sync()
            await service.exporters.wait_idle()
        await service.stop()
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)
    text = log_file.read_text()
    assert "DEBUG" in text and "exporter" in text  # the log is at debug level and covers the exports
    assert not [n for n, c in catchers.items() if not c.seen]  # every exporter reached its target
    configured = [s for values in secrets.values() for s in values.values()]
    configured += [DEMO_CLIENT_SECRET, "settings-mqtt-pw-1", "settings-web-pw-2", "settings-ha-token-3"]
    leaked = [secret for secret in configured if secret in text]
    assert not leaked, f"secrets in the debug log: {leaked}"

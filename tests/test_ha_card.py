"""The "In Home Assistant" card and the Energy action endpoint, without Home Assistant around:
the card names the one action that fixes each missing part, in French and English; the endpoint takes
JSON only and names the bad field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from app.web.app import create_app
from tests.support import AiohttpServer, Clock, make_service, start_simulator

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


async def _client(aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path) -> Any:
    gateway, _ = await start_simulator(aiohttp_server, Clock())
    service = make_service(tmp_path, str(gateway.make_url("")), Clock())
    await service.start(schedule=False)
    return service, await aiohttp_client(create_app(service))


async def test_the_card_says_what_is_missing_and_how_to_fix_it_in_both_languages(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service, client = await _client(aiohttp_server, aiohttp_client, tmp_path)
    try:
        french = await (await client.get("/?lang=fr")).text()
        english = await (await client.get("/?lang=en")).text()
    finally:
        await service.stop()
    assert 'id="homeassistant"' in french
    assert "Dans Home Assistant" in french and "In Home Assistant" in english
    # Plain Docker without MQTT_HOST nor HA_URL: the two fixes, each in the page's language.
    assert 'data-fix="set_mqtt_host"' in french and 'data-fix="set_ha_url"' in french
    assert "donnez HA_URL et HA_TOKEN" in french
    assert "give the container HA_URL and HA_TOKEN" in english
    assert '<script src="static/ha_card.js" defer></script>' in french
    assert "onclick" not in french


async def test_the_energy_action_takes_json_only_and_names_a_bad_field(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service, client = await _client(aiohttp_server, aiohttp_client, tmp_path)
    try:
        form = await client.post("/api/homeassistant/energy", data={"action": "add"})
        bad = await client.post("/api/homeassistant/energy", json={"action": "delete-everything"})
        nothing = await client.post("/api/homeassistant/energy", json={"action": "add"})
    finally:
        await service.stop()
    assert form.status == 415
    assert bad.status == 400 and "action" in await bad.text()
    # No Home Assistant known: a clear error, nothing done.
    assert nothing.status == 502
    answer = await nothing.json()
    assert answer["ok"] is False and "HA_URL and HA_TOKEN" in answer["error"]


async def test_the_statistics_tab_carries_the_same_card(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service, client = await _client(aiohttp_server, aiohttp_client, tmp_path)
    try:
        tab = await (await client.get("/exporters?tab=homeassistant_statistics&lang=en")).text()
        other = await (await client.get("/exporters?tab=prometheus&lang=en")).text()
    finally:
        await service.stop()
    assert 'id="homeassistant"' in tab and "In Home Assistant" in tab
    assert 'id="homeassistant"' not in other
    # The form's labels are written ones, not generated from field names.
    assert "Long-lived access token" in tab and ">Token<" not in tab

"""Hostile or extreme input gets a 4xx that names the field, never a 500, and nothing is stored:
dates out of range, non-object JSON, too many or too short off-peak ranges, offers with odd dates or
names; CSV cells that a spreadsheet would run as formulas are escaped."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st

from app.web.app import create_app
from app.web.charts import csv_cell, to_csv
from tests.support import AiohttpServer, same_origin, synced_service

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
HPHC, BASE = "09222222222222", "09111111111111"


def _offer(**changes: Any) -> dict[str, Any]:
    offer: dict[str, Any] = {
        "id": "mine",
        "provider": "Moi",
        "name": "Mon offre",
        "option": "BASE",
        "power_kva": 6,
        "periods": [
            {
                "valid_from": "2020-01-01",
                "valid_to": None,
                "subscription_eur_month": "10",
                "prices_eur_kwh": {"base": "0.2"},
                "source": "me",
            }
        ],
    }
    period = changes.pop("period", {})
    offer["periods"][0].update(period)
    return {**offer, **changes}


async def test_bad_inputs_answer_4xx_naming_the_field(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    assert service.store is not None
    client = await aiohttp_client(create_app(service))
    same_origin(client)

    for url, field in [
        (f"/api/energy?pdl={HPHC}&end=0001-01-01", "end"),
        (f"/api/energy?pdl={HPHC}&end=9999-12-31", "end"),
        (f"/api/curve?pdl={HPHC}&first=0001-01-01&last=2026-11-01", "first"),
        (f"/api/curve?pdl={HPHC}&first=2026-11-01&last=9999-12-31", "last"),
        (f"/api/split?pdl={HPHC}&view=day&end=0001-01-01", "end"),
        ("/api/tempo?first=0001-01-01", "first"),
        ("/api/tempo?last=9999-12-31", "last"),
    ]:
        answer = await client.get(url)
        assert answer.status == 400, (url, await answer.text())
        assert (await answer.json())["parameter"] == field, url
    assert (
        await client.get(f"/consumption_kwh?pdl={HPHC}&end=9999-12-31")
    ).status == 200  # a page falls back

    many = ", ".join(f"{h:02d}:00-{h:02d}:30" for h in range(11))
    thousands = ", ".join("00:00-00:01" for _ in range(2000))
    post_cases: list[tuple[Any, str]] = [
        ([1, 2], "JSON object"),
        ("offpeak", "JSON object"),
        ({"pdl": HPHC, "offpeak": thousands}, "offpeak"),
        ({"pdl": HPHC, "offpeak": many}, "offpeak: at most 10"),
        ({"pdl": HPHC, "offpeak": "01:00-01:10"}, "offpeak"),
        ({"pdl": HPHC, "offpeak": "soon"}, "offpeak"),
        ({"pdl": HPHC, "ejp_days": "9999-12-31"}, "ejp_days"),
        ({"pdl": HPHC, "user_offer": [1]}, "user_offer"),
        ({"pdl": HPHC, "user_offer": _offer(period={"valid_from": "0001-01-01"})}, "periods.0.valid_from"),
        ({"pdl": HPHC, "user_offer": _offer(period={"valid_to": "9999-12-31"})}, "periods.0.valid_to"),
        ({"pdl": HPHC, "user_offer": _offer(name="x" * 101)}, "field name"),
        ({"pdl": HPHC, "user_offer": _offer(name="bad\x00name")}, "field name"),
        ({"pdl": HPHC, "user_offer": _offer(provider="\u202eevil")}, "field provider"),
    ]
    before = await service.store.get_setting(f"pricing.offpeak.{HPHC}")
    for body, field in post_cases:
        answer = await client.post("/api/pricing/offers", json=body)
        text = await answer.text()
        assert answer.status == 400, (body if len(str(body)) < 200 else field, text)
        assert field in text, (field, text)
    bad_json = await client.post(
        "/api/pricing/offers", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status == 400
    assert await service.store.get_setting(f"pricing.offpeak.{HPHC}") == before
    assert (await client.get(f"/api/split?pdl={HPHC}&view=day")).status == 200

    ok = await client.post("/api/pricing/offers", json={"pdl": HPHC, "offpeak": "22:00-06:00, 12:00-14:00"})
    assert ok.status == 200
    await service.stop()


async def test_csv_cells_are_not_formulas(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    client = await aiohttp_client(create_app(service))
    same_origin(client)
    status = await (await client.get("/api/status")).json()
    power = next(p["subscribed_power_kva"] for p in status["usage_points"] if p["usage_point_id"] == BASE)
    offer = _offer(id='=HYPERLINK("http://evil.example","x")', provider="+1", name="@SUM(1)", power_kva=power)
    assert (await client.post("/api/pricing/offers", json={"pdl": BASE, "user_offer": offer})).status == 200
    answer = await client.get(f"/api/simulation/ranking?pdl={BASE}&format=csv")
    assert answer.status == 200
    rows = list(csv.reader(io.StringIO(await answer.text()), delimiter=";"))
    labels = [row[0] for row in rows[1:]]
    assert any("HYPERLINK" in label for label in labels)
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row if not _number(cell))
    await service.stop()


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@given(st.text(max_size=30))
def test_csv_cell_never_starts_a_formula(text: str) -> None:
    cell = csv_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    one_line = text.replace("\r", " ").replace("\n", " ")
    assert cell in (one_line, "'" + one_line)
    assert "\r" not in cell and "\n" not in cell
    chart: dict[str, Any] = {"x": "category", "labels": [text], "series": [{"label": text, "values": [-1.5]}]}
    row = list(csv.reader(io.StringIO(to_csv(chart), newline=""), delimiter=";"))
    assert row[1][-1] == "-1.5"  # numbers stay numbers

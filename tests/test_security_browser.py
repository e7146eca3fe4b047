"""An offer whose name and provider are HTML (stored XSS attempt) is shown as text on every page, in
the chart legends and tooltips, and no script from it runs (real program, system Chromium)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from app.service import Service
from app.settings import Settings
from app.web.app import create_app
from app.web.pages import all_pages, charts_ready
from tests.test_web_browser import BASE_PDL, CHROMIUM, CHROMIUM_FLAGS, FIXED_NOW, ROOT, WAIT_MS, _free_port
from tests.test_web_browser import _wait_http as wait_http

pytestmark = pytest.mark.e2e

NAME = '<img src=x onerror="window.__xss=1;document.title=`pwned`">'
PROVIDER = "<script>window.__xss=2</script>"


def _post_json(url: str, origin: str, body: object) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Origin": origin},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        status: int = answer.status
        return status


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo program, synced, with a hostile user offer chosen for the Base usage point."""
    assert charts_ready(), "chart assets missing: run `npm run build --prefix frontend`"
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("xss-data")
    env = {**os.environ, "MYELECTRICALDATA_NOW": FIXED_NOW, "DATA_DIR": str(data_dir), "LOG_LEVEL": "warning"}
    base = f"http://127.0.0.1:{port}"
    with (data_dir / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "--demo", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
    try:
        wait_http(f"{base}/api/status", lambda body: json.loads(body)["state"] == "done", "demo server")
        with urllib.request.urlopen(f"{base}/api/status") as answer:
            points = {p["usage_point_id"]: p for p in json.loads(answer.read())["usage_points"]}
        offer = {
            "id": "hostile",
            "provider": PROVIDER,
            "name": NAME,
            "option": "BASE",
            "power_kva": points[BASE_PDL]["subscribed_power_kva"],
            "periods": [
                {
                    "valid_from": "2015-01-01",
                    "valid_to": None,
                    "subscription_eur_month": "1",
                    "prices_eur_kwh": {"base": "0.01"},
                    "source": "<b>test</b>",
                }
            ],
        }
        body = {"pdl": BASE_PDL, "user_offer": offer, "offer": "hostile"}
        assert _post_json(f"{base}/api/pricing/offers", base, body) == 200
        yield base + "/"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def _open(browser: Browser, url: str, dialogs: list[str]) -> Page:
    page = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(WAIT_MS)

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="networkidle")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.dataset.drawn)", timeout=WAIT_MS
    )
    return page


def _assert_no_script_ran(page: Page, dialogs: list[str]) -> None:
    assert page.evaluate("() => window.__xss") is None, page.url
    assert page.title() != "pwned" and not dialogs
    assert page.locator('img[src="x"], body script:not([src])').count() == 0, page.url


def _tooltips(page: Page) -> list[str]:
    """The tooltip text of every chart, hovering across its width."""
    texts = []
    for chart in page.locator(".chart .u-over").all():
        box = chart.bounding_box()
        assert box is not None
        for step in range(1, 20):
            page.mouse.move(box["x"] + box["width"] * step / 20, box["y"] + box["height"] / 2)
            tip = chart.locator(".chart-tip")
            if tip.is_visible():
                assert tip.locator("img, script").count() == 0
                texts.append(tip.inner_text())
    return texts


def _routes() -> list[str]:
    return [page.route.lstrip("/") for page in all_pages(create_app(Service(Settings())))]


@pytest.mark.parametrize("route", _routes())
def test_hostile_offer_name_is_text_on_every_page(browser: Browser, planted: str, route: str) -> None:
    dialogs: list[str] = []
    page = _open(browser, f"{planted}{route}?pdl={BASE_PDL}", dialogs)
    _tooltips(page)
    _assert_no_script_ran(page, dialogs)


@pytest.mark.parametrize("route", ["offers", "simulation"])
def test_hostile_offer_name_shows_literally_in_pages_legends_and_tooltips(
    browser: Browser, planted: str, route: str
) -> None:
    dialogs: list[str] = []
    page = _open(browser, f"{planted}{route}?pdl={BASE_PDL}", dialogs)
    assert NAME in page.evaluate("() => document.body.textContent")
    if route == "simulation":
        assert any(NAME in text and PROVIDER in text for text in _tooltips(page))
        legends = page.locator(".u-legend").all_inner_texts()
        assert any(NAME in legend for legend in legends)
    _assert_no_script_ran(page, dialogs)


def test_the_store_kept_the_name_as_typed(planted: str, tmp_path: Path) -> None:
    with urllib.request.urlopen(f"{planted}api/pricing/offers?pdl={BASE_PDL}") as answer:
        offers = json.loads(answer.read())["offers"]
    assert any(o["name"] == NAME and o["provider"] == PROVIDER for o in offers)

"""Every page in a real browser (the system Chromium driven by Playwright) through an nginx proxy that
mimics Home Assistant ingress (`/api/hassio_ingress/<token>/` prefix, `X-Ingress-Path` header; anything
outside the prefix is a 404, so an absolute URL in a page fails the test).

The program runs as users run it (`python -m app --demo`, fixed clock), so the data and the screenshots
written to test-artifacts/screenshots/ are the same on every run. The page list comes from the page
registry: pages added by other modules are covered without touching this file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright

from app.service import Service
from app.settings import Settings
from app.web.app import create_app
from app.web.pages import all_pages, charts_ready

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "e2etoken0123456789abcdef"
PREFIX = f"/api/hassio_ingress/{TOKEN}"
FIXED_NOW = "2026-11-28T10:00:00Z"
BASE_PDL, HPHC_PDL, TEMPO_PDL = "09111111111111", "09222222222222", "09333333333333"
WAIT_MS = 20_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_http(url: str, done: Any, what: str, deadline_s: float = 120.0) -> None:
    """Poll a child process's URL until `done(body)`; the child gives no other signal."""
    end = time.monotonic() + deadline_s
    last: object = None
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                body = answer.read()
                if done(body):
                    return
                last = body[:300]
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(f"{what} not ready at {url}: {last!r}", pytrace=False)


@contextlib.contextmanager
def running_program(args: list[str], env: dict[str, str], data_dir: Path, what: str) -> Iterator[int]:
    """`python -m app` with `args` on a free port, as users run it, once its first sync is done."""
    assert charts_ready(), (
        "chart assets missing: run `npm ci --prefix frontend && npm run build --prefix frontend`"
    )
    port = _free_port()
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *args, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
        cwd=ROOT,
    )
    try:
        _wait_http(
            f"http://127.0.0.1:{port}/api/status",
            lambda body: json.loads(body)["state"] == "done",
            f"{what} (first sync)",
        )
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The real program in demo mode (simulator + store + sync + web UI), fully synced."""
    data_dir = tmp_path_factory.mktemp("demo-data")
    env = {**os.environ, "MYELECTRICALDATA_NOW": FIXED_NOW, "DATA_DIR": str(data_dir), "LOG_LEVEL": "warning"}
    with running_program(["--demo"], env, data_dir, "demo server") as port:
        yield port


@pytest.fixture(scope="module")
def ingress(demo_app: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private nginx that serves the app only under the ingress prefix, like the HA supervisor."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: scripts/test.sh installs it (apt-get install nginx)"
    root = tmp_path_factory.mktemp("nginx")
    port = _free_port()
    temp_paths = "\n".join(
        f"  {name}_temp_path {root}/{name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log {root}/access.log;
{temp_paths}
  server {{
    listen 127.0.0.1:{port};
    location {PREFIX}/ {{
      proxy_pass http://127.0.0.1:{demo_app}/;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Ingress-Path {PREFIX};
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
    location / {{ return 404; }}
  }}
}}
"""
    )
    process = subprocess.Popen(
        [nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(root / "stderr.log").open("wb"),
    )
    try:
        _wait_http(
            f"http://127.0.0.1:{port}{PREFIX}/health", lambda body: b"ok" in body, "nginx ingress proxy"
        )
        yield f"http://127.0.0.1:{port}{PREFIX}/"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), (
        "chromium is missing: scripts/test.sh installs it (apt-get install chromium)"
    )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


class Watch:
    """Console errors, page errors, failed requests and HTTP errors seen by a page."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _failed(self, request: Request) -> None:
        self.problems.append(f"request failed: {request.url} {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")


def _page(browser: Browser, **context: Any) -> tuple[Page, Watch]:
    ctx = browser.new_context(locale=context.pop("locale", "fr-FR"), **context)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    return page, Watch(page)


def _wait_charts(page: Page) -> list[dict[str, Any]]:
    """Wait until every chart of the page is settled; return what each drew."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.dataset.drawn)", timeout=WAIT_MS
    )
    result: list[dict[str, Any]] = page.evaluate(
        """() => [...document.querySelectorAll('.chart')].map(el => {
            const canvas = el.querySelector('canvas');
            let inked = 0;
            if (canvas && canvas.width && canvas.height) {
              const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
              for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) inked++;
            }
            return {id: el.id, drawn: el.dataset.drawn, points: Number(el.dataset.points || 0),
                    series: Number(el.dataset.series || 0),
                    total: el.dataset.total ?? null, inked,
                    svg: el.querySelectorAll('svg *').length};
        })"""
    )
    return result


def _pages() -> list[str]:
    app = create_app(Service(Settings()))
    return [page.route.lstrip("/") for page in all_pages(app)]


@pytest.mark.parametrize("route", _pages())
def test_every_page_loads_draws_and_is_captured(browser: Browser, ingress: str, route: str) -> None:
    page, watch = _page(browser, viewport={"width": 1280, "height": 900})
    page.goto(ingress + route, wait_until="networkidle")
    charts = _wait_charts(page)
    for chart in charts:
        assert chart["drawn"] == "1", f"{route}: chart {chart['id']} did not draw: {chart}"
        assert chart["inked"] > 500 or chart["svg"] > 0, f"{route}: chart {chart['id']} is blank: {chart}"
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.locator("header nav a").count() >= 5
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{route or 'dashboard'}.png"), full_page=True)
    # The same page on a phone (the Home Assistant app): nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload(wait_until="networkidle")
    _wait_charts(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{route}: {overflow}px wider than a phone screen"
    page.screenshot(path=str(SCREENSHOTS / f"{route or 'dashboard'}-phone.png"), full_page=True)
    assert watch.problems == []
    page.context.close()


def test_dashboard_shows_points_contracts_coverage_and_links(browser: Browser, ingress: str) -> None:
    page, watch = _page(browser)
    page.goto(ingress, wait_until="networkidle")
    cards = page.locator("section.usage-point")
    assert cards.count() == 3
    hphc = page.locator(f"#pdl-{HPHC_PDL}")
    assert "Maison chauffage électrique" in hphc.inner_text()
    assert "9 kVA" in hphc.inner_text()
    assert hphc.locator(".pricing-option").inner_text() == "Heures pleines / Heures creuses"
    assert hphc.locator(".coverage").count() == 3
    assert "→" in hphc.locator(".coverage").first.inner_text()
    # Links lead to the chart pages under the ingress prefix, for that usage point.
    hphc.get_by_role("link", name="Consommation (kWh)").click()
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(ingress + "consumption_kwh?pdl=" + HPHC_PDL)
    _wait_charts(page)
    assert watch.problems == []
    page.context.close()


def test_english_from_the_browser_and_the_switch(browser: Browser, ingress: str) -> None:
    page, watch = _page(browser, locale="en-GB")
    page.goto(ingress + "consumption_kwh", wait_until="networkidle")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.get_by_role("heading", name="Consumption (kWh)").count() == 1
    _wait_charts(page)
    page.screenshot(path=str(SCREENSHOTS / "consumption_kwh-en.png"), full_page=True)
    page.locator("a.lang").click()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.get_by_role("heading", name="Consommation (kWh)").count() == 1
    _wait_charts(page)
    assert watch.problems == []
    page.context.close()


def _chart(charts: list[dict[str, Any]], chart_id: str) -> dict[str, Any]:
    return next(c for c in charts if c["id"] == chart_id)


def test_usage_point_selector_and_period_controls_change_the_charts(browser: Browser, ingress: str) -> None:
    page, watch = _page(browser)
    page.goto(ingress + f"consumption_kwh?pdl={BASE_PDL}", wait_until="networkidle")
    base = _wait_charts(page)
    assert _chart(base, "chart-energy")["points"] == 24  # month view: 24 months
    assert page.locator("#card-split").count() == 0  # Base contract: no peak/off-peak split

    with page.expect_navigation():
        page.select_option("#pdl", HPHC_PDL)
    page.wait_for_load_state("networkidle")
    hphc = _wait_charts(page)
    assert f"pdl={HPHC_PDL}" in page.url
    assert _chart(hphc, "chart-energy")["total"] != _chart(base, "chart-energy")["total"]
    assert _chart(hphc, "chart-split")["drawn"] == "1"

    with page.expect_navigation():
        page.locator("#controls input[type=radio][value=day]").click()
    page.wait_for_load_state("networkidle")
    days = _wait_charts(page)
    assert _chart(days, "chart-energy")["points"] == 31
    assert page.input_value("#end") == "2026-11-27"

    with page.expect_navigation():
        page.locator("#prev").click()
    page.wait_for_load_state("networkidle")
    earlier = _wait_charts(page)
    assert page.input_value("#end") == "2026-10-27"
    assert _chart(earlier, "chart-energy")["total"] != _chart(days, "chart-energy")["total"]

    # The load curve: one day (48 half-hours) then a week (336).
    assert _chart(earlier, "chart-curve")["points"] == 48
    with page.expect_navigation():
        page.locator("#curve-controls input[type=radio][value=week]").click()
    page.wait_for_load_state("networkidle")
    week = _wait_charts(page)
    assert _chart(week, "chart-curve")["points"] == 7 * 48

    # Zoom: dragging over the curve narrows the x scale (uPlot's drag-to-zoom).
    before = page.get_attribute("#chart-curve", "data-xrange")
    page.locator("#chart-curve .u-over").scroll_into_view_if_needed()
    box = page.locator("#chart-curve .u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "before => document.querySelector('#chart-curve').dataset.xrange !== before", arg=before
    )
    page.locator("#chart-curve .chart-tip").wait_for(state="visible")
    assert watch.problems == []
    page.context.close()


def test_dark_theme_follows_the_browser(browser: Browser, ingress: str) -> None:
    page, watch = _page(browser, color_scheme="dark", viewport={"width": 1280, "height": 900})
    page.goto(ingress + "consumption_kwh", wait_until="networkidle")
    _wait_charts(page)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 24, 31)"
    page.screenshot(path=str(SCREENSHOTS / "consumption_kwh-dark.png"), full_page=True)
    assert watch.problems == []
    page.context.close()


def _go(page: Page, action: Any) -> list[dict[str, Any]]:
    """Follow a control (link click, selector change) to the next page; return what its charts drew."""
    with page.expect_navigation():
        action()
    page.wait_for_load_state("networkidle")
    return _wait_charts(page)


def _drawn(charts: list[dict[str, Any]], chart_id: str) -> dict[str, Any]:
    chart = _chart(charts, chart_id)
    assert chart["drawn"] == "1" and chart["inked"] > 500, chart
    return chart


def test_cost_pages_charts_follow_the_selector_and_the_period(browser: Browser, ingress: str) -> None:
    page, watch = _page(browser, viewport={"width": 1280, "height": 900})
    page.goto(ingress + f"consumption_euro?pdl={BASE_PDL}", wait_until="networkidle")
    base = _drawn(_wait_charts(page), "chart-cost")
    assert base["points"] == 13 and base["series"] == 2  # 12 months and today's; Base + subscription
    assert page.locator("table.costs tbody tr").count() == 13  # the table stays under the chart

    hphc = _drawn(_go(page, lambda: page.select_option("#pdl", HPHC_PDL)), "chart-cost")
    assert f"pdl={HPHC_PDL}" in page.url and "period=month" in page.url
    assert hphc["series"] == 3 and hphc["total"] != base["total"]  # peak, off-peak, subscription
    days = _drawn(_go(page, lambda: page.click("#period-day")), "chart-cost")
    assert days["points"] == 31 and days["total"] != hphc["total"]
    tempo = _drawn(_go(page, lambda: page.select_option("#pdl", TEMPO_PDL)), "chart-cost")
    assert "period=day" in page.url and tempo["series"] > 3  # Tempo: a stack of colours and hours
    page.locator("#chart-cost .u-over").hover()
    page.locator("#chart-cost .chart-tip").wait_for(state="visible")
    assert "€" in page.locator("#chart-cost .chart-tip").inner_text()

    page.goto(ingress + f"simulation?pdl={BASE_PDL}", wait_until="networkidle")
    charts = _wait_charts(page)
    ranking, months = _drawn(charts, "chart-ranking"), _drawn(charts, "chart-months")
    assert ranking["points"] == page.locator("table.simulation").first.locator("tbody tr").count() > 3
    assert months["points"] == 13
    other = _go(page, lambda: page.select_option("#pdl", HPHC_PDL))
    assert _drawn(other, "chart-months")["total"] != months["total"]
    assert _drawn(other, "chart-ranking")["points"] > 0

    page.goto(ingress + f"bilan?pdl={TEMPO_PDL}", wait_until="networkidle")
    charts = _wait_charts(page)
    years = _drawn(charts, "chart-bilan-energy")
    assert years["series"] == 4  # consumption; self-consumed + surplus + production without curve stacked
    assert _drawn(charts, "chart-bilan-shares")["series"] == 2
    assert _drawn(charts, "chart-bilan-years")["series"] >= 2
    monthly = _drawn(_go(page, lambda: page.click("#view-month")), "chart-bilan-energy")
    assert monthly["points"] > 12 * years["points"] - 12 and monthly["total"] == years["total"]
    base_bilan = _go(page, lambda: page.select_option("#pdl", BASE_PDL))
    assert "view=month" in page.url
    assert _drawn(base_bilan, "chart-bilan-energy")["series"] == 1  # no production at this point
    page.screenshot(path=str(SCREENSHOTS / "bilan-month.png"), full_page=True)
    assert watch.problems == []
    page.context.close()

"""What a person notices in the web UI, checked in a real browser (the system Chromium through the
nginx ingress proxy of tests/test_web_browser.py): every page at 390 px (a phone, the Home Assistant
companion app) and 1280 px, in French and English, light and dark — nothing wider than the screen, no
internal id where a word belongs, the right units — and a screenshot of each combination in
test-artifacts/screenshots/layout/ for review.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests import test_web_browser as shared
from tests.test_web_browser import BASE_PDL, HPHC_PDL, SCREENSHOTS, TEMPO_PDL, _page, _pages, _wait_charts

# The demo program, the ingress proxy and Chromium of the page tests (module-scoped: one set here).
demo_app, ingress, browser = shared.demo_app, shared.ingress, shared.browser

pytestmark = pytest.mark.e2e

LAYOUT_SHOTS = SCREENSHOTS / "layout"
# What an internal key looks like: an offer id ("edf-tarif-bleu---base-6-kva-base-6"), a slug.
ID_PATTERN = re.compile(r"[a-z]+(-[a-z0-9]+){3,}")
SNAKE_KEY = re.compile(r"\b[a-z]+(_[a-z0-9]+)+\b")  # tempo_blue_hc, hc_share...
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
LOCALES = {"fr": "fr-FR", "en": "en-GB"}
# The cost page of the Tempo point too: its many tariff buckets are the longest table.
MORE_PAGES = [f"consumption_euro?pdl={TEMPO_PDL}"]
COMBINATIONS = [(w, lang, theme) for w in WIDTHS for lang in LOCALES for theme in ("light", "dark")]

# Every string a person reads: the page's rendered text, the choices of its selects and the labels
# drawn on the chart axes (canvas, kept by the chart code in data-axis-labels).
VISIBLE_STRINGS = """() => {
  const out = document.body.innerText.split(/\\n+/);
  for (const option of document.querySelectorAll('select option')) out.push(option.textContent);
  for (const chart of document.querySelectorAll('.chart[data-axis-labels]')) {
    for (const label of JSON.parse(chart.dataset.axisLabels)) out.push(...String(label).split('\\n'));
  }
  return out.map(s => s.trim()).filter(Boolean);
}"""

WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .map(el => ({el, box: el.getBoundingClientRect()}))
    .filter(({el, box}) => box.width > 0 && box.right > width + 1 && !el.closest('.chart'))
    .slice(0, 5)
    .map(({el, box}) => `${el.tagName.toLowerCase()}#${el.id}.${el.className} right=${box.right}`);
}"""


def _open(browser: Browser, width: str, lang: str, theme: str) -> tuple[Page, Any]:
    return _page(browser, viewport=WIDTHS[width], locale=LOCALES[lang], color_scheme=theme)


def _load(page: Page, url: str) -> list[dict[str, Any]]:
    page.goto(url, wait_until="networkidle")
    return _wait_charts(page)


def _id_like(strings: list[str]) -> list[str]:
    return sorted({s for s in strings if ID_PATTERN.search(s) or SNAKE_KEY.search(s)})


@pytest.mark.parametrize(("width", "lang", "theme"), COMBINATIONS)
def test_every_page_fits_the_screen_and_reads_as_words(
    browser: Browser, ingress: str, width: str, lang: str, theme: str
) -> None:
    page, watch = _open(browser, width, lang, theme)
    LAYOUT_SHOTS.mkdir(parents=True, exist_ok=True)
    too_wide: dict[str, Any] = {}
    ids: dict[str, list[str]] = {}
    checked: dict[str, int] = {}
    for route in [*_pages(), *MORE_PAGES]:
        name = route.replace("?pdl=", "-") or "dashboard"
        charts = _load(page, ingress + route)
        for chart in charts:
            assert chart["drawn"] in ("1", "empty"), f"{name}: chart {chart['id']} failed: {chart}"
        assert page.evaluate("document.documentElement.lang") == lang
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(20, 24, 31)") == (theme == "dark"), f"{name}: {background}"
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            too_wide[name] = {"scrollWidth": scroll, "clientWidth": client, "widest": page.evaluate(WIDEST)}
        strings = page.evaluate(VISIBLE_STRINGS)
        checked[name] = len(strings)
        found = _id_like(strings)
        if found:
            ids[name] = found
        page.screenshot(path=str(LAYOUT_SHOTS / f"{name}-{width}-{lang}-{theme}.png"), full_page=True)
    report = LAYOUT_SHOTS / f"report-{width}-{lang}-{theme}.json"
    found_all = {"too_wide": too_wide, "id_like_strings": ids, "strings_checked": checked}
    report.write_text(json.dumps(found_all, indent=1, ensure_ascii=False))
    assert too_wide == {}, f"pages wider than the screen: {too_wide}"
    assert ids == {}, f"visible strings that look like internal ids: {ids}"
    assert watch.problems == []
    page.context.close()


def test_phone_navigation_is_a_menu_that_opens_without_script(browser: Browser, ingress: str) -> None:
    page, watch = _page(browser, viewport=WIDTHS["phone"], java_script_enabled=False)
    page.goto(ingress + "consumption_kwh", wait_until="networkidle")
    links = page.locator("header nav a")
    assert links.count() >= 5 and not links.first.is_visible()  # folded away
    page.locator("label.menu-button").click()
    assert all(links.nth(i).is_visible() for i in range(links.count()))
    with page.expect_navigation():
        page.locator("header nav a", has_text="Bilan").click()
    assert "/bilan" in page.url
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.context.close()
    # On a wide screen the links are simply there, no menu button.
    page, _ = _page(browser, viewport=WIDTHS["desktop"])
    page.goto(ingress + "consumption_kwh", wait_until="networkidle")
    assert page.locator("header nav a").first.is_visible()
    assert not page.locator("label.menu-button").is_visible()
    assert watch.problems == []
    page.context.close()


def test_cost_pages_name_the_offer_the_buckets_and_write_euros_the_local_way(
    browser: Browser, ingress: str
) -> None:
    page, watch = _open(browser, "phone", "fr", "light")
    _load(page, ingress + f"consumption_euro?pdl={TEMPO_PDL}")
    offer = page.locator(".offer-name").inner_text()
    assert "EDF" in offer and "Tempo" in offer and "kVA" in offer and "-kva-" not in offer, offer
    table = page.locator("table.costs")
    text = table.inner_text()
    assert "Tempo bleu HC" in text and "tempo_blue_hc" not in text
    grand_total = page.locator("table.costs .grand-total").inner_text()
    assert re.fullmatch(r"\d{1,3}(\u202f\d{3})*,\d\d", grand_total), grand_total
    # Stacked rows: the subscription column is readable inside the screen, its name beside it.
    cell = page.locator("table.costs tbody tr").first.locator("td").nth(3)
    box = cell.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box
    assert cell.evaluate("el => getComputedStyle(el, '::before').content") == '"Abonnement (€)"'
    # The chart's total: euros with two decimals and a decimal comma.
    total = page.locator("#card-cost .chart-total").inner_text()
    assert re.fullmatch(r"Total \d{1,3}(\s\d{3})*,\d\d\s€", total), total
    page.context.close()

    page, _ = _open(browser, "desktop", "en", "light")
    _load(page, ingress + f"consumption_euro?pdl={TEMPO_PDL}&period=year")
    assert "Tempo blue off-peak" in page.locator("table.costs").inner_text()
    grand_total = page.locator("table.costs .grand-total").inner_text()
    assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d", grand_total), grand_total
    assert watch.problems == []
    page.context.close()


def test_every_selector_shows_names_with_the_pdl(browser: Browser, ingress: str) -> None:
    page, watch = _open(browser, "desktop", "fr", "light")
    for route in ("consumption_kwh", "consumption_euro", "simulation", "bilan"):
        _load(page, ingress + route)
        options = page.locator("#pdl option").all_inner_texts()
        assert options == [
            f"Maison Base · {BASE_PDL}",
            f"Maison chauffage électrique · {HPHC_PDL}",
            f"Maison Tempo solaire · {TEMPO_PDL}",
        ], (route, options)
    _load(page, ingress)
    option = page.locator(f"#pdl-{HPHC_PDL} .pricing-option").inner_text()
    assert option == "Heures pleines / Heures creuses"
    assert watch.problems == []
    page.context.close()


def test_units_of_totals_and_axes(browser: Browser, ingress: str) -> None:
    page, watch = _open(browser, "desktop", "en", "light")
    _load(page, ingress + f"consumption_kwh?pdl={HPHC_PDL}")
    curve_total = page.locator("#card-curve .chart-total").inner_text()
    assert re.fullmatch(r"Total [\d,.]+ kWh", curve_total), curve_total  # energy over the day, not "W"
    assert re.fullmatch(r"Total [\d,.]+ kWh", page.locator("#card-energy .chart-total").inner_text())
    _load(page, ingress + f"simulation?pdl={BASE_PDL}")
    assert re.fullmatch(r"Total [\d,]+\.\d\d €", page.locator("#card-months .chart-total").inner_text())
    assert watch.problems == []
    page.context.close()


def _axis_labels(page: Page, chart: str) -> list[str]:
    labels: list[str] = json.loads(page.get_attribute(f"#{chart}", "data-axis-labels") or "[]")
    return [label.replace("\n", " ") for label in labels]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_axes_keep_every_year_and_name_the_offers(browser: Browser, ingress: str, width: str) -> None:
    page, watch = _open(browser, width, "fr", "light")
    _load(page, ingress + f"bilan?pdl={TEMPO_PDL}")
    years = page.locator("table.bilan tbody .row-head").all_inner_texts()
    assert len(years) >= 4
    assert _axis_labels(page, "chart-bilan-energy") == years  # no year dropped

    _load(page, ingress + f"simulation?pdl={BASE_PDL}")
    names = page.locator("table.simulation").first.locator("tbody .row-head").all_inner_texts()
    offers = [n.split("\n")[0].strip() for n in names]
    shown = _axis_labels(page, "chart-ranking")
    assert shown == offers, (shown, offers)  # every bar named after its offer, in the table's order
    assert not any(re.match(r"\d+\. ", label) for label in shown)

    # Month axes: a label is never dropped so far that a year goes missing.
    _load(page, ingress + f"consumption_kwh?pdl={BASE_PDL}")
    months = _axis_labels(page, "chart-energy")
    assert {"2025", "2026"} <= {label.split()[-1] for label in months}, months
    assert watch.problems == []
    page.context.close()

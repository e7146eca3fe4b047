"""The peak / off-peak chart marks the days whose hours were completed from the meter's daily total, in a
real browser (the system Chromium driven by Playwright).

The program runs as users run it (`python -m app`) against the simulator in its own process, made to send
one day whose load curve misses slots while the meter's daily value counts them (issue 14).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tests.test_web_browser import (
    FIXED_NOW,
    HPHC_PDL,
    SCREENSHOTS,
    _free_port,
    _page,
    _wait_charts,
    browser,
    running_program,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
NULL_SLOT_DAY = "2026-11-20"
__all__ = ["browser"]  # the fixture, shared with the other browser tests


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The program, fully synced from a simulator whose curve of NULL_SLOT_DAY has null slots."""
    data_dir = tmp_path_factory.mktemp("estimated-data")
    sim_port = _free_port()
    simulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.gateway.simulator",
            "--port",
            str(sim_port),
            "--now",
            FIXED_NOW.replace("Z", "+00:00"),
            "--null-slot-day",
            NULL_SLOT_DAY,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIENT_", "GATEWAY_", "SUPERVISOR_"))}
    env |= {
        "MYELECTRICALDATA_NOW": FIXED_NOW,
        "DATA_DIR": str(data_dir),
        "OPTIONS_FILE": str(data_dir / "absent.json"),
        "LOG_LEVEL": "warning",
        "CLIENT_ID": DEMO_CLIENT_ID,
        "CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "GATEWAY_URL": f"http://127.0.0.1:{sim_port}",
    }
    try:
        with running_program([], env, data_dir, "program") as port:
            yield f"http://127.0.0.1:{port}/"
    finally:
        simulator.terminate()
        simulator.wait(timeout=20)


def _hatched_pixels(page: Page, key: str | None) -> int:
    """Painted pixels along a row near the top of the plot, across the category of `key` (None: the
    category next to the first estimated one), where the bars of a normal day do not reach."""
    count: int = page.evaluate(
        """key => {
            const el = document.querySelector('#chart-split');
            const label = el.querySelector('.chart-estimated');
            const over = el.querySelector('.u-over');
            const canvas = el.querySelector('canvas');
            const ratio = canvas.width / canvas.getBoundingClientRect().width;
            const box = label.getBoundingClientRect(), frame = canvas.getBoundingClientRect();
            const shift = key === null ? box.width : 0;
            const left = Math.round((box.left - frame.left + shift + 2) * ratio);
            const width = Math.round((box.width - 4) * ratio);
            const y = Math.round((over.getBoundingClientRect().top - frame.top + 4) * ratio);
            const row = canvas.getContext('2d').getImageData(left, y, width, 1).data;
            let painted = 0;
            for (let i = 3; i < row.length; i += 4) if (row[i] !== 0) painted++;
            return painted;
        }""",
        key,
    )
    return count


def _split(page: Page, url: str) -> dict[str, Any]:
    page.goto(url, wait_until="networkidle")
    charts = _wait_charts(page)
    return next(c for c in charts if c["id"] == "chart-split")


def test_the_estimated_day_is_marked_on_the_split_chart_and_no_other(browser: Browser, program: str) -> None:
    page, watch = _page(browser, viewport={"width": 1280, "height": 900})
    days = program + f"consumption_kwh?pdl={HPHC_PDL}&view=day&end=2026-11-27"
    assert _split(page, days)["drawn"] == "1"
    assert json.loads(page.get_attribute("#chart-split", "data-estimated") or "") == [NULL_SLOT_DAY]
    labels = page.locator("#chart-split .chart-estimated")
    assert labels.count() == 1
    assert labels.first.get_attribute("data-key") == NULL_SLOT_DAY
    assert labels.first.text_content() == "estimé"
    note = page.locator("#card-split .chart-note")
    assert "complétées depuis le total journalier du compteur" in (note.text_content() or "")
    # the band is painted behind the day, not behind its neighbour
    band, neighbour = _hatched_pixels(page, NULL_SLOT_DAY), _hatched_pixels(page, None)
    assert band > 10 and neighbour <= 2, (band, neighbour)  # a grid line may cross the neighbour

    # hovering the day says why in the tooltip
    page.locator("#chart-split .u-over").scroll_into_view_if_needed()
    box = labels.first.bounding_box()
    over = page.locator("#chart-split .u-over").bounding_box()
    assert box is not None and over is not None
    page.mouse.move(over["x"] + 5, over["y"] + over["height"] / 2)
    page.mouse.move(box["x"] + box["width"] / 2, over["y"] + over["height"] / 2, steps=5)
    tip = page.locator("#chart-split .chart-tip")
    tip.wait_for(state="visible")
    assert "total journalier du compteur" in (tip.text_content() or "")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#card-split").screenshot(path=str(SCREENSHOTS / "split-estimated-day.png"))

    # the month that holds the day is marked in the month view; the load curve and energy charts are not
    _split(page, program + f"consumption_kwh?pdl={HPHC_PDL}&view=month&end=2026-11-27")
    assert json.loads(page.get_attribute("#chart-split", "data-estimated") or "") == ["2026-11-01"]
    assert page.locator(".chart-estimated").count() == 1

    # a month of complete days: nothing marked, no note
    _split(page, program + f"consumption_kwh?pdl={HPHC_PDL}&view=day&end=2026-10-27")
    assert json.loads(page.get_attribute("#chart-split", "data-estimated") or "") == []
    assert page.locator(".chart-estimated, .chart-note").count() == 0
    # Chromium's hint about this test's own pixel readbacks is not the page's problem
    assert [p for p in watch.problems if "willReadFrequently" not in p] == []
    page.context.close()


def test_the_marker_speaks_english_in_english(browser: Browser, program: str) -> None:
    page, watch = _page(browser, locale="en-GB", viewport={"width": 1280, "height": 900})
    _split(page, program + f"consumption_kwh?pdl={HPHC_PDL}&view=day&end=2026-11-27&lang=en")
    assert page.locator("#chart-split .chart-estimated").text_content() == "estimated"
    note = page.locator("#card-split .chart-note").text_content() or ""
    assert "completed from the meter's daily total" in note
    assert watch.problems == []
    page.context.close()

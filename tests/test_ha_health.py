"""What the Home Assistant notifications are about: read from the sync's bookkeeping, nothing for a
healthy meter."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from app.domain import SyncPhase, SyncProgress
from app.exporters.homeassistant.notifications import health_problems
from app.store import Store
from tests.support import NOW


async def test_a_healthy_meter_has_no_problem_then_stale_data_and_expired_consent_are_named(
    ha_demo_data: Path, tmp_path: Path
) -> None:
    shutil.copytree(ha_demo_data, tmp_path / "data")
    store = await Store.open("", data_dir=tmp_path / "data")
    try:
        assert await health_problems(store, NOW) == []
        # J+1: two days without the next day is still normal; the fourth day without data is not.
        assert await health_problems(store, NOW + dt.timedelta(days=2)) == []
        stale = await health_problems(store, NOW + dt.timedelta(days=4))
        assert [p.notification_id for p in stale] == ["myelectricaldata_stale_data"]
        assert "27/11/2026" in stale[0].message and "2026-11-27" in stale[0].message

        await store.save_progress(
            SyncProgress(
                "09222222222222", SyncPhase.ERROR, last_error_code="no_consent", last_error_message="x"
            )
        )
        problems = await health_problems(store, NOW)
        assert [p.key for p in problems] == ["consent"]
        assert "09222222222222" in problems[0].message
    finally:
        await store.close()

"""Health states a person can trust (app/health.py): "error" only when the user must act."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.domain import SyncPhase, SyncProgress, UsagePoint
from app.exporters.homeassistant.sensors import Entity, compute_sensors
from app.health import HealthState, health_of
from app.store import Store

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
PDL = "09111111111111"


def progress(
    phase: SyncPhase, code: str | None = None, *, synced_ago: dt.timedelta | None = None
) -> SyncProgress:
    return SyncProgress(
        PDL,
        phase,
        last_success=None if synced_ago is None else NOW - synced_ago,
        last_error_code=code,
        last_error_message=None if code is None else f"the gateway said something ({code})",
    )


HOUR = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("phase", "code", "state"),
    [
        (SyncPhase.DONE, None, HealthState.OK),
        (SyncPhase.RUNNING, None, HealthState.SYNCING),
        (SyncPhase.QUOTA, "quota_reached", HealthState.WAITING),
        (SyncPhase.DONE, "date_too_old", HealthState.OK),
        (SyncPhase.DONE, "no_data", HealthState.OK),
        (SyncPhase.ERROR, "gateway_unreachable", HealthState.RETRYING),
        (SyncPhase.ERROR, "enedis_unavailable", HealthState.RETRYING),
        (SyncPhase.ERROR, "malformed_response", HealthState.RETRYING),
        (SyncPhase.ERROR, "rate_limit_transient", HealthState.RETRYING),
        (SyncPhase.DONE, "load_curve_disabled", HealthState.OK),
    ],
)
def test_what_the_client_handles_is_never_an_error(
    phase: SyncPhase, code: str | None, state: HealthState
) -> None:
    health = health_of(progress(phase, code, synced_ago=HOUR), NOW)
    assert health.state is state
    assert not health.needs_user
    assert health.cause and health.fix


@pytest.mark.parametrize(
    ("code", "state", "fix_word"),
    [
        ("invalid_credentials", HealthState.CREDENTIALS_INVALID, "client_secret"),
        ("account_inactive", HealthState.CREDENTIALS_INVALID, "Reactivate"),
        ("no_consent", HealthState.CONSENT_MISSING, "consent"),
        ("access_denied", HealthState.ACCESS_DENIED, "usage point number"),
    ],
)
def test_what_needs_the_user_names_its_fix(code: str, state: HealthState, fix_word: str) -> None:
    health = health_of(progress(SyncPhase.ERROR, code, synced_ago=HOUR), NOW)
    assert health.state is state and health.needs_user
    assert fix_word in health.fix
    assert health.detail == f"the gateway said something ({code})"


def test_a_passing_fault_that_lasts_becomes_the_users_business() -> None:
    recent = health_of(progress(SyncPhase.ERROR, "gateway_unreachable", synced_ago=dt.timedelta(days=2)), NOW)
    assert not recent.needs_user
    lasting = health_of(
        progress(SyncPhase.ERROR, "gateway_unreachable", synced_ago=dt.timedelta(days=3)), NOW
    )
    assert lasting.state is HealthState.ERROR and lasting.needs_user
    assert "3 days" in lasting.cause and "Internet" in lasting.fix
    # the quota never becomes an error: it resets every night
    quota = health_of(progress(SyncPhase.QUOTA, "quota_reached", synced_ago=dt.timedelta(days=5)), NOW)
    assert not quota.needs_user


def test_an_unknown_refusal_is_an_error_to_report() -> None:
    health = health_of(progress(SyncPhase.ERROR, "invalid_request", synced_ago=dt.timedelta(days=4)), NOW)
    assert health.state is HealthState.ERROR and health.needs_user
    assert "log" in health.fix
    assert health_of(None, NOW).state is HealthState.OK


async def test_home_assistant_diagnostics_show_error_only_when_the_user_must_act(tmp_path: Path) -> None:
    store = await Store.open("", data_dir=tmp_path / "data")
    try:
        await store.save_usage_points([UsagePoint(PDL, name="Maison")])

        async def diagnostics() -> dict[str, Entity]:
            _, entities = await compute_sensors(store, NOW, None)
            return {e.key: e for e in entities if e.device == PDL}

        await store.save_progress(progress(SyncPhase.ERROR, "enedis_unavailable", synced_ago=HOUR))
        shown = await diagnostics()
        assert shown["access_state"].value == "ok"
        assert shown["last_error"].value == ""
        attributes = shown["access_state"].attributes or {}
        assert attributes["sync_state"] == "retrying" and attributes["needs_user"] is False
        assert "Enedis" in attributes["cause"] and "next sync" in attributes["fix"]

        await store.save_progress(progress(SyncPhase.ERROR, "no_consent", synced_ago=HOUR))
        shown = await diagnostics()
        assert shown["access_state"].value == "consent_missing"
        assert "Renew your consent" in shown["last_error"].value
    finally:
        await store.close()

"""The health of one usage point's sync, as a person should read it (pure: no I/O, no clock reads).

"error" only when the user must act (credentials, consent, a usage point not in the account, a fault
that lasts). Everything the client handles by itself (the gateway's history bound, the quota that
resets at 00:00 UTC, a passing gateway or Enedis fault, a day not published yet) is not an error: it
gets a calm state that still names its cause and what happens next. The web UI, the Home Assistant
entities and the HA notifications all read :func:`health_of`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from app.domain import SyncPhase, SyncProgress

__all__ = ["STALE_AFTER", "Health", "HealthState", "health_of"]

# A passing fault becomes the user's business when nothing has synced for this long.
STALE_AFTER = dt.timedelta(days=3)


class HealthState(StrEnum):
    OK = "ok"
    SYNCING = "syncing"
    WAITING = "waiting"  # quota used up: resumes after 00:00 UTC
    RETRYING = "retrying"  # a passing fault: the next sync asks again
    CONSENT_MISSING = "consent_missing"
    CREDENTIALS_INVALID = "credentials_invalid"
    ACCESS_DENIED = "access_denied"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Health:
    """`cause` and `fix` are plain English sentences (the web UI translates by `code`)."""

    state: HealthState
    needs_user: bool
    cause: str
    fix: str
    code: str | None = None  # the error code behind the state, if any
    detail: str | None = None  # the gateway's own message, if any

    @property
    def is_error(self) -> bool:
        return self.needs_user


_USER_STATES: dict[str, tuple[HealthState, str, str]] = {
    "invalid_credentials": (
        HealthState.CREDENTIALS_INVALID,
        "The MyElectricalData gateway refuses the client_id / client_secret.",
        "Copy client_id and client_secret again from your MyElectricalData account into the "
        "configuration, then restart.",
    ),
    "account_inactive": (
        HealthState.CREDENTIALS_INVALID,
        "The MyElectricalData account is inactive.",
        "Reactivate it on the MyElectricalData site; the next sync picks it up.",
    ),
    "no_consent": (
        HealthState.CONSENT_MISSING,
        "Enedis finds no consent for this usage point.",
        "Renew your consent on the MyElectricalData site; the next sync picks it up.",
    ),
    "access_denied": (
        HealthState.ACCESS_DENIED,
        "This usage point is not in your MyElectricalData account.",
        "Check the usage point number (14 digits) in the configuration, or add it to your account.",
    ),
}

# Handled by the client itself: never an error on their own.
_PASSING: dict[str, tuple[str, str]] = {
    "gateway_unreachable": (
        "The MyElectricalData gateway did not answer.",
        "Nothing to do: the next sync asks again.",
    ),
    "enedis_unavailable": ("Enedis was unavailable.", "Nothing to do: the next sync asks again."),
    "malformed_response": (
        "The gateway sent an unreadable answer.",
        "Nothing to do: nothing was lost, the next sync asks again.",
    ),
    "rate_limit_transient": (
        "The gateway's limiter refused requests although the daily quota was not used up.",
        "Nothing to do: the next sync asks again.",
    ),
    "quota_reached": (
        "The gateway's daily quota is used up.",
        "Nothing to do: the sync resumes by itself after 00:00 UTC.",
    ),
    "date_too_old": (
        "The gateway serves no older history.",
        "Nothing to do: the oldest day it serves was learned.",
    ),
    "no_data": ("The gateway had no data for some days yet.", "Nothing to do: they are asked again."),
    "before_activation": (
        "No data before the meter's activation.",
        "Nothing to do: only days from the activation are asked.",
    ),
    "no_production": (
        "This usage point has no production.",
        "Nothing to do: production is no longer asked for this point.",
    ),
    "load_curve_disabled": (
        "Load-curve collection is not enabled at Enedis.",
        "Enable hourly consumption recording in your Enedis customer space for hourly data; daily data "
        "keeps syncing.",
    ),
}


def health_of(
    progress: SyncProgress | None, now: dt.datetime, *, stale_after: dt.timedelta = STALE_AFTER
) -> Health:
    """The health of one usage point from its recorded sync progress at ``now`` (aware)."""
    if progress is None:
        return Health(HealthState.OK, False, "Not synced yet.", "Nothing to do: the first sync runs soon.")
    code = (progress.last_error_code or "").lower() or None
    detail = progress.last_error_message
    if code in _USER_STATES:
        state, cause, fix = _USER_STATES[code]
        return Health(state, True, cause, fix, code, detail)
    if progress.phase is SyncPhase.RUNNING:
        return Health(HealthState.SYNCING, False, "A sync is running.", "Nothing to do.", code, detail)
    if progress.phase is SyncPhase.QUOTA:
        cause, fix = _PASSING["quota_reached"]
        return Health(HealthState.WAITING, False, detail or cause, fix, code, detail)
    last_success = progress.last_success
    # never synced yet: a passing fault on the first try is not a lasting one
    stale = last_success is not None and now - last_success >= stale_after
    if code is None:
        if progress.phase is SyncPhase.ERROR and stale:
            return _lasting(None, detail, last_success)
        return Health(HealthState.OK, False, "Up to date.", "Nothing to do.")
    if code in _PASSING:
        cause, fix = _PASSING[code]
        if progress.phase is SyncPhase.ERROR and stale and code not in ("quota_reached", "date_too_old"):
            return _lasting(code, detail, last_success)
        state = HealthState.OK if progress.phase is SyncPhase.DONE else HealthState.RETRYING
        return Health(state, False, cause, fix, code, detail)
    if progress.phase is SyncPhase.DONE and not stale:
        # a request failed in an otherwise good sync: shown, not alarming until it lasts
        return Health(
            HealthState.RETRYING,
            False,
            "The gateway refused one request.",
            "Nothing to do: it is asked again.",
            code,
            detail,
        )
    return Health(
        HealthState.ERROR,
        True,
        "The gateway keeps refusing a request.",
        "Look at the add-on log for the gateway's message and report it if it lasts.",
        code,
        detail,
    )


def _lasting(code: str | None, detail: str | None, last_success: dt.datetime | None) -> Health:
    since = "never" if last_success is None else last_success.date().isoformat()
    return Health(
        HealthState.ERROR,
        True,
        f"No successful sync for {STALE_AFTER.days} days (last: {since}).",
        "Check the Internet connection and the gateway status; the add-on log names the failing request.",
        code,
        detail,
    )

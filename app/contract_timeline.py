"""The contract timeline of a usage point (pure): dated periods of (option, subscribed power, off-peak
hours) as stored entries {"valid_from": "YYYY-MM-DD" | null, "option", "power_kva", "offpeak_hours" (text),
"origin": "gateway" | "user"}, oldest first; each period ends where the next one starts. The store side
(reading and saving them, re-split requests) is `app.store.contracts`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from app.domain import Contract, UsagePoint, contract_offpeak, subscribed_power
from app.tariff_rules import ContractPeriod, format_offpeak, parse_offpeak_text, period_in_force

OPTIONS = ("BASE", "HC_HP", "HC_WEEKEND", "TEMPO", "EJP")
POWERS = (3, 6, 9, 12, 15, 18, 24, 30, 36)


def gateway_entry(point: UsagePoint | None, contract: Contract | None) -> dict[str, Any]:
    """The contract as the gateway describes it now (contract, else /pdl values), as a timeline entry."""
    option = point.pricing_option.value if point is not None else "BASE"
    return {
        "option": option if option in OPTIONS else "BASE",
        "power_kva": subscribed_power(contract, point),
        "offpeak_hours": format_offpeak(contract_offpeak(contract, point)),
        "origin": "gateway",
    }


def _same_contract(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in ("option", "power_kva", "offpeak_hours"))


def new_period_start(
    entries: Sequence[dict[str, Any]], seen: dict[str, Any], changed: dt.date | None, today: dt.date
) -> dt.date | None:
    """The start of the new period a contract seen at a sync opens (None: same contract as the latest
    period): the contract's last tariff change date when that is newer than the latest period's start,
    else `today`; never on or before the latest period's start."""
    if _same_contract(entries[-1], seen):
        return None
    start = today
    latest = entries[-1]["valid_from"]
    if changed is not None and changed <= today and (latest is None or changed.isoformat() > latest):
        start = changed
    if latest is not None and start.isoformat() <= latest:
        start = dt.date.fromisoformat(latest) + dt.timedelta(days=1)
    return start


def to_periods(entries: Sequence[dict[str, Any]]) -> tuple[ContractPeriod, ...]:
    """Stored entries -> contract periods (each ends where the next starts; the last one is open)."""
    out = []
    for index, entry in enumerate(entries):
        following = entries[index + 1]["valid_from"] if index + 1 < len(entries) else None
        out.append(
            ContractPeriod(
                valid_from=dt.date.fromisoformat(entry["valid_from"]) if entry["valid_from"] else None,
                valid_to=dt.date.fromisoformat(following) if following else None,
                option=entry["option"],
                power_kva=entry["power_kva"],
                offpeak_hours=parse_offpeak_text(entry["offpeak_hours"] or ""),
                source=entry.get("origin", "gateway"),
            )
        )
    return tuple(out)


class TimelineError(ValueError):
    """A timeline typed by the user is not valid; the message names the field (line) and the problem."""


def parse_timeline(value: Any) -> list[dict[str, Any]]:
    """The user's timeline: text, one period a line "YYYY-MM-DD OPTION KVA [off-peak hours]" (the first
    date may be "-" for "since always"), or a JSON list of {"valid_from", "option", "power_kva",
    "offpeak_hours"}. Dates must increase. Raises TimelineError naming the line and field."""
    rows: list[tuple[str, dict[str, Any]]] = []
    if isinstance(value, str):
        for number, line in enumerate(value.splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split(None, 3)
            if len(parts) < 3:
                raise TimelineError(
                    f"timeline line {number}: expected 'YYYY-MM-DD OPTION KVA [off-peak hours]'"
                )
            rows.append(
                (
                    f"timeline line {number}",
                    {
                        "valid_from": parts[0],
                        "option": parts[1],
                        "power_kva": parts[2],
                        "offpeak_hours": parts[3] if len(parts) > 3 else "",
                    },
                )
            )
    elif isinstance(value, list):
        for number, item in enumerate(value):
            if not isinstance(item, dict):
                raise TimelineError(f"timeline.{number}: expected an object")
            rows.append((f"timeline.{number}", item))
    else:
        raise TimelineError("timeline: expected text or a list of periods")
    if not rows:
        raise TimelineError("timeline: at least one period")
    out: list[dict[str, Any]] = []
    for where, raw in rows:
        start = raw.get("valid_from")
        if start in (None, "", "-"):
            if out:
                raise TimelineError(f"{where}: field valid_from: only the first period may have no date")
            day = None
        else:
            try:
                day = dt.date.fromisoformat(str(start)).isoformat()
            except ValueError:
                raise TimelineError(
                    f"{where}: field valid_from: {start!r} is not a date (YYYY-MM-DD)"
                ) from None
            if out and out[-1]["valid_from"] is not None and day <= out[-1]["valid_from"]:
                raise TimelineError(f"{where}: field valid_from: {day} is not after the previous period")
        option = str(raw.get("option", "")).upper()
        if option not in OPTIONS:
            raise TimelineError(
                f"{where}: field option: {raw.get('option')!r} is not one of {', '.join(OPTIONS)}"
            )
        try:
            power = int(str(raw.get("power_kva", "")).lower().removesuffix("kva").strip())
        except ValueError:
            power = -1
        if power not in POWERS:
            raise TimelineError(
                f"{where}: field power_kva: {raw.get('power_kva')!r} is not a subscribed power (kVA)"
            )
        try:
            hours = format_offpeak(parse_offpeak_text(str(raw.get("offpeak_hours") or "")))
        except ValueError as exc:
            raise TimelineError(f"{where}: field offpeak_hours: {exc}") from None
        out.append(
            {
                "valid_from": day,
                "option": option,
                "power_kva": power,
                "offpeak_hours": hours,
                "origin": "user",
            }
        )
    return out


def first_difference(
    old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]
) -> tuple[bool, dt.date | None]:
    """Whether two timelines split some day differently, and the first such day (None: from the start)."""
    old_periods, new_periods = to_periods(old), to_periods(new)
    starts = sorted({p.valid_from for p in (*old_periods, *new_periods) if p.valid_from is not None})
    for day in [None, *starts]:  # the rules are constant between two period starts
        probe = day or dt.date.min
        if _rules(old_periods, probe) != _rules(new_periods, probe):
            return True, day
    return False, None


def _rules(periods: Sequence[ContractPeriod], day: dt.date) -> tuple[object, ...] | None:
    period = period_in_force(periods, day)
    return None if period is None else (period.option, period.power_kva, period.offpeak_hours)


def timeline_text(entries: Sequence[dict[str, Any]]) -> str:
    """The timeline as the /offers form shows it (one period a line)."""
    return "\n".join(
        f"{e['valid_from'] or '-'} {e['option']} {e['power_kva'] or ''} {e['offpeak_hours']}".rstrip()
        for e in entries
    )

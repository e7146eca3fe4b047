"""The one home of the tariff rules (pure): off-peak hours text, the bucket of an instant under a contract
period, the week-end rule, the Tempo day (06:00 -> 06:00) and season, EJP peaks, the contract period in
force on a day. Pricing, the store's SQL aggregate, charts and every exporter call these functions.

Buckets: "base"; "hp" / "hc"; "tempo_<blue|white|red>_<hp|hc>"; "winter" / "summer" (seasonal prices);
"ejp_normal" / "ejp_peak".

    period = ContractPeriod(option="HC_WEEKEND", offpeak_hours=parse_offpeak_text("22:00-06:00"))
    bucket_of(instant_utc, period)                      # "hc" on a Saturday
    bucket_of(instant_utc, tempo_period, TempoColor.RED)  # colour of tempo_day_of(instant_utc)
    period_in_force(timeline, day)                      # the ContractPeriod of that Paris day
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from app import timeline
from app.domain import OffpeakRange, TempoColor

# ---------------------------------------------------------------------------------------------------
# off-peak hours as text

_RANGE = re.compile(
    r"(\d{1,2})(?:\s*[hH:]\s*(\d{1,2})?)?\s*[-\u2013\u2014>/]+\s*(\d{1,2})(?:\s*[hH:]\s*(\d{1,2})?)?"
)
_LABEL = re.compile(r"^\s*H[CP]\b\s*", re.IGNORECASE)
_SEPARATORS = re.compile(r"[;,|]|\s{2,}|\s+(?:et|and)\s+", re.IGNORECASE)
OFFPEAK_EXAMPLE = "'HC (22H00-6H00)' or '22:00-06:00; 12:30-14:00'"


def _clock(hours: str, minutes: str | None) -> dt.time:
    hour, minute = int(hours), int(minutes) if minutes else 0
    if hour == 24 and minute == 0:
        return dt.time(0, 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{hours}:{minutes or '00'} is not a time within 00:00-24:00")
    return dt.time(hour, minute)


def parse_offpeak_text(text: str) -> tuple[OffpeakRange, ...]:
    """Off-peak hours as Enedis, the gateway, the store and users write them -> distinct ranges in order:
    "HC (22H00-6H00)", "HC (1H30-8H00;12H30-14H00)", "22h30-06h30", "22:00-06:00, 12:00-14:00", "".
    Raises ValueError naming the part that is not a range."""
    body = _LABEL.sub("", text.strip())
    if "(" in body:
        opening, closing = body.find("("), body.rfind(")")
        if closing < opening:
            raise ValueError(f"unbalanced parenthesis in {text!r}: expected {OFFPEAK_EXAMPLE}")
        body = body[opening + 1 : closing]
    seen: dict[OffpeakRange, None] = {}
    for part in _SEPARATORS.split(body):
        part = part.strip()
        if not part:
            continue
        match = _RANGE.fullmatch(part)
        if match is None:
            raise ValueError(f"{part!r} is not a time range: expected {OFFPEAK_EXAMPLE}")
        start = _clock(match.group(1), match.group(2))
        end = _clock(match.group(3), match.group(4))
        seen.setdefault(OffpeakRange(start, end), None)
    return tuple(seen)


def format_offpeak(ranges: Iterable[OffpeakRange]) -> str:
    """The canonical text of off-peak hours ("22:00-06:00;12:30-14:00"), read back by parse_offpeak_text."""
    return ";".join(str(r) for r in ranges)


@functools.lru_cache(maxsize=256)
def offpeak_mask(ranges: tuple[OffpeakRange, ...]) -> tuple[bool, ...]:
    """Whether each minute of a local day is off-peak (windows may cross midnight)."""
    mask = [False] * 1440
    for window in ranges:
        start = window.start.hour * 60 + window.start.minute
        end = window.end.hour * 60 + window.end.minute
        minutes = range(start, end) if end > start else [*range(start, 1440), *range(0, end)]
        for minute in minutes:
            mask[minute] = True
    return tuple(mask)


def is_offpeak_minute(minute: int, ranges: tuple[OffpeakRange, ...]) -> bool:
    """Whether the local minute of the day (0-1439) is in one of the windows."""
    return offpeak_mask(ranges)[minute]


def offpeak_windows_seconds(ranges: Sequence[OffpeakRange]) -> list[tuple[int, int]]:
    """Windows as [start, end) seconds since local midnight (end <= start crosses midnight), for SQL."""
    return [
        (r.start.hour * 3600 + r.start.minute * 60, r.end.hour * 3600 + r.end.minute * 60) for r in ranges
    ]


# ---------------------------------------------------------------------------------------------------
# Tempo and EJP calendars

TEMPO_DAY_START_MINUTE = 6 * 60  # a Tempo day runs 06:00 -> 06:00 local
TEMPO_HC_START_MINUTE = 22 * 60  # off-peak 22:00 -> 06:00
TEMPO_QUOTAS: Mapping[TempoColor, int] = {TempoColor.BLUE: 300, TempoColor.WHITE: 43, TempoColor.RED: 22}
EJP_PEAK_START_MINUTE = 7 * 60  # EJP peak: 07:00 on an EJP day to 01:00 the next day
EJP_PEAK_END_NEXT_DAY_MINUTE = 1 * 60
EJP_SEASON_MONTHS = frozenset({11, 12, 1, 2, 3})


def tempo_day(day: dt.date, minute: int) -> dt.date:
    """The Tempo day (whose colour applies) of local minute `minute` of Paris day `day`."""
    return day - dt.timedelta(days=1) if minute < TEMPO_DAY_START_MINUTE else day


def tempo_day_of(instant: dt.datetime) -> dt.date:
    """The Tempo day of an aware instant: its Paris date, the day before until 06:00."""
    local = timeline.to_paris(instant)
    return tempo_day(local.date(), local.hour * 60 + local.minute)


def tempo_season(day: dt.date) -> tuple[dt.date, dt.date]:
    """The Tempo season (1 September to 31 August) that holds `day`."""
    year = day.year if day.month >= 9 else day.year - 1
    return dt.date(year, 9, 1), dt.date(year + 1, 8, 31)


def tempo_quotas(season_first: dt.date) -> dict[TempoColor, int]:
    """Days of each colour in a season: one more blue day when the season holds a 29 February."""
    leap = (season_first.year + 1) % 4 == 0
    return {c: q + (1 if leap and c is TempoColor.BLUE else 0) for c, q in TEMPO_QUOTAS.items()}


def is_ejp_peak(day: dt.date, minute: int, ejp_days: frozenset[dt.date]) -> bool:
    """Whether local minute `minute` of `day` is in an EJP peak period (07:00 to 01:00 the next day)."""
    if minute >= EJP_PEAK_START_MINUTE:
        return day in ejp_days
    return minute < EJP_PEAK_END_NEXT_DAY_MINUTE and day - dt.timedelta(days=1) in ejp_days


def ejp_season(day: dt.date) -> int | None:
    """The EJP winter (1 November to 31 March) a day belongs to, keyed by its November's year."""
    if day.month not in EJP_SEASON_MONTHS:
        return None
    return day.year if day.month >= 11 else day.year - 1


# ---------------------------------------------------------------------------------------------------
# contract periods and buckets

HP_HC_OPTIONS = frozenset({"HC_HP", "HC_WEEKEND"})
SUMMER_MONTHS = frozenset({4, 5, 6, 7, 8, 9, 10})  # Enedis' "summer" off-peak season (1 April - 31 Oct)


@dataclass(frozen=True, slots=True)
class ContractPeriod:
    """How a usage point's energy is split over [valid_from, valid_to) (Paris days; None = open).

    option: BASE, HC_HP, HC_WEEKEND, TEMPO, EJP or SEASONAL (prices by season, `winter_months`).
    offpeak_hours: the weekday off-peak windows; `summer_offpeak_hours`, when set, replace them in the
    `summer_months` (seasonal off-peak hours). weekend_offpeak: whole Saturdays and Sundays off-peak
    (HC_WEEKEND, Zen Week-End + HC; with no windows, "Zen Week-End": week-days all peak)."""

    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    option: str = "BASE"
    power_kva: int | None = None
    offpeak_hours: tuple[OffpeakRange, ...] = ()
    weekend_offpeak: bool = False
    summer_offpeak_hours: tuple[OffpeakRange, ...] = ()
    summer_months: frozenset[int] = SUMMER_MONTHS
    winter_months: frozenset[int] = frozenset()
    offer_id: str | None = None
    source: str = ""

    @property
    def splits_hp_hc(self) -> bool:
        return self.option in HP_HC_OPTIONS

    @property
    def weekend_rule(self) -> bool:
        return self.splits_hp_hc and (self.weekend_offpeak or self.option == "HC_WEEKEND")

    def covers(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


def period_in_force(periods: Sequence[ContractPeriod], day: dt.date) -> ContractPeriod | None:
    """The contract period in force on a Paris day (the latest-starting one when several cover it)."""
    found = None
    for period in periods:
        if period.covers(day) and (
            found is None or (period.valid_from or dt.date.min) >= (found.valid_from or dt.date.min)
        ):
            found = period
    return found


def period_at(periods: Sequence[ContractPeriod], instant: dt.datetime) -> ContractPeriod | None:
    """The contract period in force at an aware instant (by its Paris day)."""
    return period_in_force(periods, timeline.paris_date(instant))


def offpeak_ranges_on(period: ContractPeriod, day: dt.date) -> tuple[OffpeakRange, ...]:
    """The off-peak windows of that day (the summer ones in the summer months, when the period has them)."""
    if period.summer_offpeak_hours and day.month in period.summer_months:
        return period.summer_offpeak_hours
    return period.offpeak_hours


def whole_day_offpeak(period: ContractPeriod, day: dt.date) -> bool:
    """The week-end rule: under it, every minute of a Saturday or Sunday is off-peak."""
    return period.weekend_rule and day.weekday() >= 5


def buckets_of(period: ContractPeriod) -> tuple[str, ...]:
    """Every bucket the period's rules can produce."""
    if period.option == "TEMPO":
        return tuple(f"tempo_{c}_{h}" for c in ("blue", "white", "red") for h in ("hp", "hc"))
    if period.splits_hp_hc:
        return ("hp", "hc")
    if period.option == "SEASONAL":
        return ("winter", "summer")
    if period.option == "EJP":
        return ("ejp_normal", "ejp_peak")
    return ("base",)


def bucket_of_minute(
    period: ContractPeriod,
    day: dt.date,
    minute: int,
    tempo_color: TempoColor | None = None,
    ejp_days: frozenset[dt.date] = frozenset(),
) -> str | None:
    """The bucket of local minute `minute` (0-1439) of Paris day `day`. For Tempo, `tempo_color` is the
    colour of `tempo_day(day, minute)`; None when it is unknown (the result is then None)."""
    option = period.option
    if period.splits_hp_hc:
        if whole_day_offpeak(period, day):
            return "hc"
        return "hc" if offpeak_mask(offpeak_ranges_on(period, day))[minute] else "hp"
    if option == "TEMPO":
        if tempo_color is None:
            return None
        offpeak = minute < TEMPO_DAY_START_MINUTE or minute >= TEMPO_HC_START_MINUTE
        return f"tempo_{tempo_color.value.lower()}_{'hc' if offpeak else 'hp'}"
    if option == "SEASONAL":
        return "winter" if day.month in period.winter_months else "summer"
    if option == "EJP":
        return "ejp_peak" if is_ejp_peak(day, minute, ejp_days) else "ejp_normal"
    return "base"


def bucket_of(
    instant: dt.datetime,
    period: ContractPeriod,
    tempo_color: TempoColor | None = None,
    ejp_days: frozenset[dt.date] = frozenset(),
) -> str | None:
    """The bucket of the slot starting at an aware instant under `period`. For Tempo pass the colour of
    `tempo_day_of(instant)` (None when unknown: the result is None)."""
    local = timeline.to_paris(instant)
    return bucket_of_minute(period, local.date(), local.hour * 60 + local.minute, tempo_color, ejp_days)


def whole_day_bucket(period: ContractPeriod, day: dt.date, ejp_days: frozenset[dt.date]) -> str | None:
    """The one bucket every Wh of that day falls in, when the rules give one (a daily total is then exact)."""
    if period.option == "BASE":
        return "base"
    if period.option == "SEASONAL":
        return "winter" if day.month in period.winter_months else "summer"
    if whole_day_offpeak(period, day):
        return "hc"
    if period.option == "EJP" and day not in ejp_days and day - dt.timedelta(days=1) not in ejp_days:
        return "ejp_normal"
    return None


def split_day(
    period: ContractPeriod,
    day: dt.date,
    slots: Iterable[tuple[int, int]],
    tempo: Callable[[dt.date], TempoColor | None] = lambda _day: None,
    ejp_days: frozenset[dt.date] = frozenset(),
) -> dict[str, int]:
    """Wh per bucket of one Paris day given as (local minute of day, Wh) slots. `tempo` gives the colour
    of a Tempo day (None: unknown, the slot is left out)."""
    out: dict[str, int] = defaultdict(int)
    whole = whole_day_bucket(period, day, ejp_days)
    if whole is not None:
        out[whole] = sum(wh for _, wh in slots)
        return dict(out)
    if period.splits_hp_hc:
        mask = offpeak_mask(offpeak_ranges_on(period, day))
        for minute, wh in slots:
            out["hc" if mask[minute] else "hp"] += wh
        return dict(out)
    if period.option == "TEMPO":
        today, before = tempo(day), tempo(day - dt.timedelta(days=1))
        for minute, wh in slots:
            color = before if minute < TEMPO_DAY_START_MINUTE else today
            if color is None:
                continue
            hc = minute < TEMPO_DAY_START_MINUTE or minute >= TEMPO_HC_START_MINUTE
            out[f"tempo_{color.value.lower()}_{'hc' if hc else 'hp'}"] += wh
        return dict(out)
    for minute, wh in slots:
        bucket = bucket_of_minute(period, day, minute, None, ejp_days)
        if bucket is not None:
            out[bucket] += wh
    return dict(out)


def peak_or_offpeak(bucket: str) -> str | None:
    """ "hp" or "hc" of a bucket ("tempo_red_hc" -> "hc"); None for buckets with no such split."""
    if bucket == "hp" or bucket.endswith("_hp"):
        return "hp"
    if bucket == "hc" or bucket.endswith("_hc"):
        return "hc"
    return None


def splits_peak_offpeak(period: ContractPeriod) -> bool:
    """Whether the period's energy has an HP/HC split without Tempo colours: off-peak hours (any
    contract that has them) or the week-end rule."""
    return period.option != "TEMPO" and bool(
        period.offpeak_hours or period.summer_offpeak_hours or period.weekend_rule
    )


def peak_offpeak_by_day(
    periods: Sequence[ContractPeriod], slots: Iterable[tuple[dt.datetime, int]]
) -> dict[dt.date, tuple[int, int]]:
    """(peak, off-peak) energy per Paris day of (aware slot start, energy) pairs, under the contract
    period in force each day; days whose period has no HP/HC split are left out."""
    out: dict[dt.date, list[int]] = {}
    for start, energy in slots:
        local = timeline.to_paris(start)
        day = local.date()
        period = period_in_force(periods, day)
        if period is None or not splits_peak_offpeak(period):
            continue
        hc = (
            whole_day_offpeak(period, day)
            or offpeak_mask(offpeak_ranges_on(period, day))[local.hour * 60 + local.minute]
        )
        out.setdefault(day, [0, 0])[1 if hc else 0] += energy
    return {day: (v[0], v[1]) for day, v in sorted(out.items())}

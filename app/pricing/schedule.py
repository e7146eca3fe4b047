"""The price schedule (pure): which EUR/kWh is in force at each instant, as slots [start, end).

The rules live elsewhere: `bucket_of(instant)` names the tariff bucket of a UTC instant ("hp", "hc",
"tempo_red_hp", ...; None while unknown, e.g. tomorrow's Tempo colour before RTE publishes it) and
`prices_on(local day)` gives the bucket prices in force on that Paris calendar day (so a new grid starts
at 00:00 local, even in the middle of a Tempo night). A bucket can only change at a few wall-clock
minutes (`change_minutes`: midnight, 06:00, 22:00, the off-peak edges...) or at a DST jump: the schedule
evaluates the rules at exactly those instants, so a day costs a few dozen calls, not 1440.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain import OffpeakRange

PARIS = ZoneInfo("Europe/Paris")
#: midnight, 01:00 (end of an EJP peak), 06:00 (Tempo day), 07:00 (EJP peak), 22:00 (Tempo off-peak)
FIXED_CHANGE_MINUTES = frozenset({0, 60, 360, 420, 1320})

BucketOf = Callable[[dt.datetime], str | None]
PricesOn = Callable[[dt.date], Mapping[str, Decimal] | None]


@dataclass(frozen=True, slots=True)
class PriceSlot:
    start: dt.datetime  # UTC, inclusive
    end: dt.datetime  # UTC, exclusive
    bucket: str
    price: Decimal  # EUR/kWh

    @property
    def offpeak(self) -> bool:
        return is_offpeak(self.bucket)

    def as_local(self) -> dict[str, object]:
        """The {start, end, value} item Target Timeframes and evcc read (local ISO times)."""
        return {
            "start": self.start.astimezone(PARIS).isoformat(),
            "end": self.end.astimezone(PARIS).isoformat(),
            "value": float(self.price),
        }


def is_offpeak(bucket: str) -> bool:
    return bucket == "hc" or bucket.endswith("_hc")


def change_minutes(offpeak: Iterable[OffpeakRange]) -> frozenset[int]:
    """Local minutes of the day at which a bucket may change under any offer with these off-peak hours."""
    edges = {t.hour * 60 + t.minute for r in offpeak for t in (r.start, r.end)}
    return FIXED_CHANGE_MINUTES | edges


def _offset_changes(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """UTC instants in (start, end) where the Paris UTC offset changes (DST jumps, on whole hours)."""
    out = []
    hour = start.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    previous = start.astimezone(PARIS).utcoffset()
    while hour < end:
        offset = hour.astimezone(PARIS).utcoffset()
        if offset != previous:
            out.append(hour)
            previous = offset
        hour += dt.timedelta(hours=1)
    return out


def candidate_instants(start: dt.datetime, end: dt.datetime, minutes: Iterable[int]) -> list[dt.datetime]:
    """Sorted UTC instants in [start, end) where the price may change, `start` included."""
    wanted = sorted(set(minutes))
    found = {start, *_offset_changes(start, end)}
    day = start.astimezone(PARIS).date() - dt.timedelta(days=1)
    last = end.astimezone(PARIS).date()
    while day <= last:
        for minute in wanted:
            naive = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
            for fold in (0, 1):  # both readings of an hour that happens twice (October)
                instant = naive.replace(tzinfo=PARIS, fold=fold).astimezone(dt.UTC)
                if start <= instant < end:
                    found.add(instant)
        day += dt.timedelta(days=1)
    return sorted(found)


def price_schedule(
    start: dt.datetime,
    end: dt.datetime,
    *,
    bucket_of: BucketOf,
    prices_on: PricesOn,
    minutes: Iterable[int] = FIXED_CHANGE_MINUTES,
) -> list[PriceSlot]:
    """Contiguous slots from `start` on, merged while bucket and price stay equal; the list stops early
    at the first instant whose bucket or price is not known (it then ends before `end`)."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    points = candidate_instants(start, end, minutes)
    out: list[PriceSlot] = []
    for index, point in enumerate(points):
        stop = points[index + 1] if index + 1 < len(points) else end
        bucket = bucket_of(point)
        prices = prices_on(point.astimezone(PARIS).date())
        if bucket is None or prices is None or bucket not in prices:
            break
        price = prices[bucket]
        if out and out[-1].bucket == bucket and out[-1].price == price:
            last = out[-1]
            out[-1] = PriceSlot(last.start, stop, bucket, price)
        else:
            out.append(PriceSlot(point, stop, bucket, price))
    return out


def slot_at(schedule: list[PriceSlot], instant: dt.datetime) -> PriceSlot | None:
    for slot in schedule:
        if slot.start <= instant < slot.end:
            return slot
    return None


def next_slot(schedule: list[PriceSlot], instant: dt.datetime) -> PriceSlot | None:
    """The slot that follows the one in force at `instant` (None when not known yet)."""
    for slot in schedule:
        if slot.start > instant:
            return slot
    return None


def day_slots(schedule: list[PriceSlot], day: dt.date) -> list[PriceSlot]:
    """The slots of a Paris day, clipped to it; empty unless the whole day is known."""
    first = dt.datetime.combine(day, dt.time(), PARIS).astimezone(dt.UTC)
    after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)
    if not schedule or schedule[0].start > first or schedule[-1].end < after:
        return []
    return [
        PriceSlot(max(s.start, first), min(s.end, after), s.bucket, s.price)
        for s in schedule
        if s.end > first and s.start < after
    ]

"""The live price schedule: one price per instant, Tempo nights, off-peak windows over midnight, grid
changes at 00:00 local, DST days."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import OffpeakRange, TempoColor
from app.pricing.catalogue import load_shipped
from app.pricing.live import bucket_of, live_price, offer_schedule
from app.pricing.schedule import PARIS, PriceSlot, day_slots, price_schedule

OFFERS = {o.id: o for o in load_shipped()}
TEMPO, HPHC, BASE = OFFERS["edf-tempo-6"], OFFERS["edf-hc_hp-6"], OFFERS["edf-base-6"]
NIGHT = (OffpeakRange(dt.time(22), dt.time(6)),)
SPLIT = (OffpeakRange(dt.time(1, 30), dt.time(7, 30)), OffpeakRange(dt.time(23, 15), dt.time(0, 45)))


def at(day: str, hour: int, minute: int = 0, fold: int = 0) -> dt.datetime:
    naive = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute))
    return naive.replace(tzinfo=PARIS, fold=fold).astimezone(dt.UTC)


def colours(first: dt.date, last: dt.date) -> dict[dt.date, TempoColor]:
    cycle = itertools.cycle([TempoColor.BLUE, TempoColor.WHITE, TempoColor.RED, TempoColor.BLUE])
    out = {}
    day = first
    while day <= last:
        out[day] = next(cycle)
        day += dt.timedelta(days=1)
    return out


YEAR_COLOURS = colours(dt.date(2025, 8, 30), dt.date(2026, 9, 2))


@functools.cache
def year_schedule(offer_id: str, split: bool) -> tuple[PriceSlot, ...]:
    offer = OFFERS[offer_id]
    return tuple(
        offer_schedule(
            offer,
            at("2025-09-01", 0),
            at("2026-09-01", 0),
            offpeak=SPLIT if split else NIGHT,
            tempo=YEAR_COLOURS,
        )
    )


def price_by_minute_scan(offer_id: str, split: bool, instant: dt.datetime) -> tuple[str, Decimal]:
    """The rules asked directly, minute by minute, without the schedule's change points."""
    offer = OFFERS[offer_id]
    bucket = bucket_of(instant, offer, offpeak=SPLIT if split else NIGHT, tempo=YEAR_COLOURS)
    assert bucket is not None
    period = offer.period_on(instant.astimezone(PARIS).date())
    assert period is not None
    return bucket, period.prices_eur_kwh[bucket]


def test_a_year_is_tiled_without_gap_or_overlap_dst_days_included() -> None:
    for offer_id, split in (("edf-tempo-6", False), ("edf-hc_hp-6", True), ("edf-base-6", False)):
        slots = year_schedule(offer_id, split)
        assert slots[0].start == at("2025-09-01", 0)
        assert slots[-1].end == at("2026-09-01", 0)
        for before, after in itertools.pairwise(slots):
            assert before.end == after.start
            assert (before.bucket, before.price) != (after.bucket, after.price)
        for day in ("2025-10-26", "2026-03-29"):  # 25- and 23-hour days
            first = dt.date.fromisoformat(day)
            covered = sum(((s.end - s.start) for s in day_slots(list(slots), first)), dt.timedelta())
            assert covered == dt.timedelta(hours=25 if day.startswith("2025-10") else 23)


@settings(max_examples=400, deadline=None)
@given(
    offer=st.sampled_from([("edf-tempo-6", False), ("edf-hc_hp-6", True), ("edf-hc_hp-6", False)]),
    seconds=st.integers(0, 365 * 86400 - 1),
)
def test_every_instant_of_a_year_gets_exactly_the_price_of_its_rules(
    offer: tuple[str, bool], seconds: int
) -> None:
    instant = at("2025-09-01", 0) + dt.timedelta(seconds=seconds)
    slots = year_schedule(*offer)
    holding = [s for s in slots if s.start <= instant < s.end]
    assert len(holding) == 1
    assert (holding[0].bucket, holding[0].price) == price_by_minute_scan(*offer, instant)


@settings(max_examples=60, deadline=None)
@given(day=st.sampled_from(["2025-10-26", "2026-03-29"]), minute=st.integers(0, 25 * 60 - 1))
def test_dst_days_minute_by_minute(day: str, minute: int) -> None:
    instant = at(day, 0) + dt.timedelta(minutes=minute)
    if instant >= at((dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat(), 0):
        return
    for offer in (("edf-tempo-6", False), ("edf-hc_hp-6", True)):
        (slot,) = [s for s in year_schedule(*offer) if s.start <= instant < s.end]
        assert (slot.bucket, slot.price) == price_by_minute_scan(*offer, instant)


def test_the_tempo_colour_of_00_06_is_the_previous_days() -> None:
    tempo = {dt.date(2026, 1, 14): TempoColor.RED, dt.date(2026, 1, 15): TempoColor.BLUE}
    slots = offer_schedule(TEMPO, at("2026-01-15", 0), at("2026-01-16", 0), offpeak=NIGHT, tempo=tempo)
    assert [(s.start, s.bucket) for s in slots] == [
        (at("2026-01-15", 0), "tempo_red_hc"),
        (at("2026-01-15", 6), "tempo_blue_hp"),
        (at("2026-01-15", 22), "tempo_blue_hc"),
    ]
    assert slots[0].price == Decimal("0.1460")  # red off-peak of the 2025-08-01 grid


def test_tomorrow_waits_for_its_tempo_colour() -> None:
    now = at("2026-01-15", 10)
    known = {dt.date(2026, 1, 14): TempoColor.BLUE, dt.date(2026, 1, 15): TempoColor.WHITE}
    price = live_price(TEMPO, now, offpeak=NIGHT, tempo=known)
    assert price.current is not None and price.current.bucket == "tempo_white_hp"
    assert price.next_change == at("2026-01-15", 22)
    assert price.next is not None and price.next.bucket == "tempo_white_hc"
    assert [s["start"] for s in (s.as_local() for s in price.today)] == [
        "2026-01-15T00:00:00+01:00",
        "2026-01-15T06:00:00+01:00",
        "2026-01-15T22:00:00+01:00",
    ]
    assert price.tomorrow == []  # 06:00 tomorrow onwards is not known
    late = live_price(TEMPO, at("2026-01-15", 23), offpeak=NIGHT, tempo=known)
    assert late.next is None and late.next_change == at("2026-01-16", 6)

    red = live_price(TEMPO, now, offpeak=NIGHT, tempo={**known, dt.date(2026, 1, 16): TempoColor.RED})
    assert [(s.as_local()["start"], s.bucket) for s in red.tomorrow] == [
        ("2026-01-16T00:00:00+01:00", "tempo_white_hc"),
        ("2026-01-16T06:00:00+01:00", "tempo_red_hp"),
        ("2026-01-16T22:00:00+01:00", "tempo_red_hc"),
    ]
    assert red.tomorrow[1].price == Decimal("0.6468")


def test_off_peak_windows_over_midnight() -> None:
    slots = offer_schedule(HPHC, at("2025-11-12", 0), at("2025-11-13", 0), offpeak=SPLIT, tempo={})
    assert [(s.as_local()["start"], s.bucket) for s in slots] == [
        ("2025-11-12T00:00:00+01:00", "hc"),  # the 23:15-00:45 window of the night before
        ("2025-11-12T00:45:00+01:00", "hp"),
        ("2025-11-12T01:30:00+01:00", "hc"),
        ("2025-11-12T07:30:00+01:00", "hp"),
        ("2025-11-12T23:15:00+01:00", "hc"),
    ]
    price = live_price(HPHC, at("2025-11-12", 23, 30), offpeak=SPLIT, tempo={})
    assert price.offpeak is True
    assert price.next_change == at("2025-11-13", 0, 45)  # the window runs on past midnight


def test_a_grid_change_at_1_february_00_00_local() -> None:
    tempo = {dt.date(2026, 1, 31): TempoColor.RED, dt.date(2026, 2, 1): TempoColor.WHITE}
    slots = offer_schedule(TEMPO, at("2026-01-31", 20), at("2026-02-01", 8), offpeak=NIGHT, tempo=tempo)
    assert [(s.as_local()["start"], s.bucket, s.price) for s in slots] == [
        ("2026-01-31T20:00:00+01:00", "tempo_red_hp", Decimal("0.6468")),
        ("2026-01-31T22:00:00+01:00", "tempo_red_hc", Decimal("0.1460")),
        ("2026-02-01T00:00:00+01:00", "tempo_red_hc", Decimal("0.1575")),  # same bucket, new grid
        ("2026-02-01T06:00:00+01:00", "tempo_white_hp", Decimal("0.1871")),
    ]
    base = live_price(BASE, at("2026-01-31", 12), offpeak=(), tempo={})
    assert base.next_change == at("2026-02-01", 0)
    assert base.next is not None and base.next.price != base.current.price  # type: ignore[union-attr]


def test_an_off_peak_edge_inside_the_missing_spring_hour() -> None:
    odd = (OffpeakRange(dt.time(2, 30), dt.time(8)),)
    slots = offer_schedule(HPHC, at("2026-03-29", 0), at("2026-03-30", 0), offpeak=odd, tempo={})
    # 02:30 does not exist that day: off-peak starts at the jump (02:00 CET = 03:00 CEST).
    assert [(s.start, s.bucket) for s in slots] == [
        (at("2026-03-29", 0), "hp"),
        (dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC), "hc"),
        (at("2026-03-29", 8), "hp"),
    ]


def test_an_unknown_bucket_ends_the_schedule() -> None:
    def bucket(instant: dt.datetime) -> str | None:
        return "base" if instant < at("2026-05-02", 6) else None

    slots = price_schedule(
        at("2026-05-01", 0),
        at("2026-05-03", 0),
        bucket_of=bucket,
        prices_on=lambda day: {"base": Decimal("0.2")},
    )
    assert [(s.start, s.end) for s in slots] == [(at("2026-05-01", 0), at("2026-05-02", 6))]

"""Properties of the pure pricing results: typed figures whose parts add up exactly, in Decimal euros
and integer Wh, whatever the offer, the curve and the contract timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import OffpeakRange, TempoColor
from app.pricing.balance import peak_offpeak_per_day
from app.pricing.catalogue import PricedOffer, load_shipped
from app.pricing.costs import daily_bucket_costs, hourly_costs, offer_plan, plan_day_costs, plan_subscription
from app.pricing.engine import PARIS, DaySlots, bucket_energy, group_by_local_day, price_day, totals
from app.pricing.figures import summary_answer
from app.pricing.simulation import simulate, summarize_costs
from app.tariff_rules import ContractPeriod

OFFERS = load_shipped()
NIGHT = (OffpeakRange(dt.time(22), dt.time(6)),)
NOON = (OffpeakRange(dt.time(12), dt.time(14)), OffpeakRange(dt.time(1), dt.time(7)))
FIRST_PRICED = dt.date(2024, 2, 1)

offers = st.sampled_from(OFFERS)
days = st.dates(FIRST_PRICED, dt.date(2026, 12, 31))
offpeaks = st.sampled_from([(), NIGHT, NOON])
colours = st.sampled_from(list(TempoColor))


def _curve(day: dt.date, watts: list[int | None]) -> list[tuple[dt.datetime, int, int | None]]:
    """Half-hour readings from the Paris midnight of `day` (46, 48 or 50 slots on DST days)."""
    start = dt.datetime.combine(day, dt.time(), PARIS).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)
    slots = int((end - start).total_seconds() // 1800)
    return [(start + dt.timedelta(minutes=30 * i), 30, watts[i % len(watts)]) for i in range(slots)]


watt_lists = st.lists(st.one_of(st.none(), st.integers(0, 12_000)), min_size=1, max_size=50)


@settings(max_examples=150, deadline=None)
@given(offers, days, watt_lists, offpeaks, colours, st.booleans())
def test_a_day_split_into_buckets_sums_to_the_day(
    offer: PricedOffer,
    day: dt.date,
    watts: list[int | None],
    offpeak: tuple[OffpeakRange, ...],
    colour: TempoColor,
    ejp: bool,
) -> None:
    slots = group_by_local_day(_curve(day, watts)).get(day, DaySlots(day))
    energy = bucket_energy(
        offer, slots, offpeak=offpeak, tempo={day: colour}, ejp_days=frozenset({day}) if ejp else frozenset()
    )
    assert sum(energy.values()) == sum(wh for _, wh in slots.slots)
    assert all(wh >= 0 for wh in energy.values())
    split = peak_offpeak_per_day({day: slots}, offpeak)
    if offpeak:
        hp, hc = split[day]
        assert hp + hc == sum(wh for _, wh in slots.slots)
    else:
        assert split == {}


@settings(max_examples=60, deadline=None)
@given(offers, days, st.integers(1, 70), watt_lists, offpeaks, st.sampled_from(["day", "month", "year"]))
def test_bucket_euros_add_up_to_the_totals_exactly(
    offer: PricedOffer,
    first: dt.date,
    length: int,
    watts: list[int | None],
    offpeak: tuple[OffpeakRange, ...],
    period: str,
) -> None:
    readings = [r for n in range(length) for r in _curve(first + dt.timedelta(days=n), watts)]
    priced = (price_day(offer, slots, offpeak=offpeak) for slots in group_by_local_day(readings).values())
    costs = [c for c in priced if c is not None]
    whole = totals(costs)
    assert sum((eur for _, eur in whole.buckets.values()), Decimal(0)) == whole.energy_eur
    assert sum(wh for wh, _ in whole.buckets.values()) == whole.wh
    assert whole.total_eur == whole.energy_eur + whole.subscription_eur
    summary = summarize_costs(costs, period)
    assert sum((t.energy_eur for t in summary.rows.values()), Decimal(0)) == summary.total.energy_eur
    subscriptions = sum((t.subscription_eur for t in summary.rows.values()), Decimal(0))
    assert subscriptions == summary.total.subscription_eur
    assert sum(t.wh for t in summary.rows.values()) == summary.total.wh
    assert sum(t.days for t in summary.rows.values()) == len(costs)
    answer = summary_answer(summary)  # the JSON edge: cents as strings, Wh as integers
    assert answer["total"]["wh"] == whole.wh
    assert Decimal(answer["total"]["energy_eur"]) == whole.energy_eur.quantize(Decimal("0.01"))


@settings(max_examples=40, deadline=None)
@given(days, st.integers(1, 40), st.integers(0, 40), watt_lists, st.sampled_from([3, 6, 9, 12]))
def test_hourly_and_daily_costs_of_a_contract_timeline_agree(
    first: dt.date, length: int, change_after: int, watts: list[int | None], power: int
) -> None:
    change = first + dt.timedelta(days=change_after)
    periods = (
        ContractPeriod(valid_to=change, option="BASE", power_kva=power),
        ContractPeriod(valid_from=change, option="HC_HP", power_kva=max(power, 6), offpeak_hours=NIGHT),
    )
    plan = offer_plan(periods, OFFERS, None)
    last = first + dt.timedelta(days=length - 1)
    readings = [r for n in range(length) for r in _curve(first + dt.timedelta(days=n), watts)]
    curve = group_by_local_day(readings)
    by_day = plan_day_costs(plan, curve, {}, tempo={}, ejp_days=frozenset())
    daily = daily_bucket_costs("pdl", by_day)
    hourly = hourly_costs("pdl", plan, readings, tempo={}, ejp_days=frozenset())
    assert sum(c.wh for c in hourly) == sum(c.wh for c in daily) == sum(c.wh for c in by_day)
    assert sum((c.euros for c in hourly), Decimal(0)) == sum((c.euros for c in daily), Decimal(0))
    assert {c.bucket for c in hourly} == {c.bucket for c in daily}
    for cost in daily:  # the regulated offer of the contract period in force that day
        before = cost.start.astimezone(PARIS).date() < change
        assert cost.offer_id == (f"edf-base-{power}" if before else f"edf-hc_hp-{max(power, 6)}")
    subscription = plan_subscription(plan, first, last)
    if len(by_day) == length:
        assert subscription == sum((c.subscription for c in by_day), Decimal(0))


@settings(max_examples=25, deadline=None)
@given(days, st.integers(7, 60), watt_lists, st.sampled_from([6, 9]))
def test_simulation_ranks_offers_by_total_and_savings_follow(
    first: dt.date, length: int, watts: list[int | None], power: int
) -> None:
    last = first + dt.timedelta(days=length - 1)
    readings = [r for n in range(length) for r in _curve(first + dt.timedelta(days=n), watts)]
    current = f"edf-base-{power}"
    result = simulate(
        OFFERS,
        group_by_local_day(readings),
        {},
        power_kva=power,
        current_offer_id=current,
        offpeak=NIGHT,
        tempo={},
        first=first,
        last=last,
    )
    ranked = [*result.offers, *result.next_power]
    assert sorted(r.rank for r in ranked) == list(range(1, len(ranked) + 1))
    by_rank = sorted(ranked, key=lambda r: r.rank)
    assert [r.total_eur for r in by_rank] == sorted(r.total_eur for r in ranked)
    mine = next((r for r in ranked if r.offer_id == current), None)
    if mine is None:  # no day priced (an empty curve)
        assert ranked == []
        return
    for row in ranked:
        assert row.saving_eur == mine.total_eur - row.total_eur
        assert sum(row.months.values(), Decimal(0)) == row.total_eur
    assert all(r.power_kva == power for r in result.offers)

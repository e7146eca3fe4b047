"""Costs and cost figures read from the store: the one place pages and exporters get euros from.

Reads the settings (chosen offer, off-peak override, user offers, EJP days, contract timeline), the
offers, readings and Tempo days, and hands them to the pure `app.pricing` modules. Re-pricing only reads
the store: never a gateway call."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app import tariff_rules, timeline
from app.contract_timeline import timeline_text, to_periods
from app.domain import (
    Contract,
    Direction,
    OffpeakRange,
    TempoColor,
    UsagePoint,
    contract_offpeak,
    subscribed_power,
)
from app.pricing.balance import peak_offpeak_per_day, production_point_of, self_consumed_per_day
from app.pricing.catalogue import PricedOffer, from_gateway, load_shipped, merge, parse_offer
from app.pricing.costs import (
    daily_bucket_costs,
    ejp_warnings,
    hourly_costs,
    offer_plan,
    plan_day_costs,
    plan_subscription,
    point_period,
    with_offpeak_override,
)
from app.pricing.engine import PARIS, DayCost, DaySlots, group_epochs_by_local_day
from app.pricing.figures import BilanFigures, ConsumptionEuro, OfferChoice
from app.pricing.live import LivePrice, live_price
from app.pricing.simulation import Simulation, balance_sheet, simulate, summarize_costs
from app.pricing.source import BucketCost, CostSource
from app.store import Store, contracts
from app.tariff_rules import ContractPeriod

DAY_COSTS_CHUNK_DAYS = 92
BILAN_CHUNK_DAYS = 92


async def catalogue(store: Store) -> list[PricedOffer]:
    """Shipped catalogue, merged with the gateway's offers and the user's offers/overrides."""
    user_raw = await store.settings.user_offers()
    user = [parse_offer(raw, where=f"user offer {i}", origin="user") for i, raw in enumerate(user_raw)]
    return merge(load_shipped(), from_gateway(await store.offers()), user)


async def offpeak_hours(
    store: Store, usage_point_id: str, contract: Contract | None, point: UsagePoint | None
) -> tuple[OffpeakRange, ...]:
    """The off-peak hours in force for a usage point, the one rule every page, chart, price and
    exporter follows: the user's override (offers page) if set, else the contract's, else /pdl's."""
    override = await store.settings.offpeak_override(usage_point_id)
    if override:
        return tariff_rules.parse_offpeak_text(str(override))
    return contract_offpeak(contract, point)


async def contract_timeline(store: Store, usage_point_id: str) -> tuple[ContractPeriod, ...]:
    """The dated contract periods of a usage point, oldest first (`app.store.contracts`); without a stored
    timeline, one open period: the contract the gateway describes now. The user's off-peak override
    replaces the hours of the periods the gateway described. `app.tariff_rules.period_in_force` picks
    the period of a day."""
    points = {p.usage_point_id: p for p in await store.usage_points()}
    point = points.get(usage_point_id)
    contract = await store.contract(usage_point_id)
    entries = await contracts.load_entries(store, usage_point_id)
    if not entries:
        return (point_period(point, contract, await offpeak_hours(store, usage_point_id, contract, point)),)
    override = await store.settings.offpeak_override(usage_point_id)
    periods = to_periods(entries)
    return (
        with_offpeak_override(periods, tariff_rules.parse_offpeak_text(str(override)))
        if override
        else periods
    )


class StoreCostSource:
    """Implements app.pricing.source.CostSource from the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def offers(self) -> list[PricedOffer]:
        return await catalogue(self.store)

    async def chosen_offer(self, usage_point_id: str) -> PricedOffer | None:
        """The offer of the contract period in force today: the user's choice, else the regulated one."""
        plan = await self.offer_plan(usage_point_id)
        return plan[-1][1] if plan else None

    async def offer_plan(
        self, usage_point_id: str, offers: list[PricedOffer] | None = None
    ) -> list[tuple[ContractPeriod, PricedOffer | None]]:
        """Each contract period with the offer that prices it (`app.pricing.costs.offer_plan`)."""
        known = offers if offers is not None else await self.offers()
        periods = await contract_timeline(self.store, usage_point_id)
        chosen = await self.store.settings.chosen_offer(usage_point_id)
        return offer_plan(periods, known, chosen)

    async def offpeak(self, usage_point_id: str) -> tuple[OffpeakRange, ...]:
        points = {p.usage_point_id: p for p in await self.store.usage_points()}
        return await offpeak_hours(
            self.store, usage_point_id, await self.store.contract(usage_point_id), points.get(usage_point_id)
        )

    async def ejp_days(self, usage_point_id: str) -> frozenset[dt.date]:
        return await self.store.settings.ejp_days(usage_point_id)

    async def tempo_map(self, first: dt.date, last: dt.date) -> dict[dt.date, TempoColor]:
        return {d.day: d.color for d in await self.store.tempo(first - dt.timedelta(days=1), last)}

    async def curve_days(self, usage_point_id: str, first: dt.date, last: dt.date) -> dict[dt.date, DaySlots]:
        start = dt.datetime.combine(first, dt.time(), PARIS).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)
        rows, _ = await self.store.completed_interval_values(
            usage_point_id, Direction.CONSUMPTION, start, end
        )
        return group_epochs_by_local_day(rows)

    async def day_costs(
        self, usage_point_id: str, first: dt.date, last: dt.date, offer: PricedOffer | None = None
    ) -> list[DayCost]:
        """Cost per Paris day under the contract period in force that day (`plan_day_costs`), a quarter
        of curve at a time: a lower memory peak, same figures."""
        plan = await self.offer_plan(usage_point_id)
        if not plan:
            return []
        tempo = await self.tempo_map(first, last)
        ejp = await self.ejp_days(usage_point_id)
        out: list[DayCost] = []
        daily = await self.store.daily(usage_point_id, Direction.CONSUMPTION, first, last)
        daily_by_day = {d.day: d.wh for d in daily}
        chunk_first = first
        while chunk_first <= last:
            chunk_last = min(last, chunk_first + dt.timedelta(days=DAY_COSTS_CHUNK_DAYS - 1))
            days = await self.curve_days(usage_point_id, chunk_first, chunk_last)
            wanted = {d: wh for d, wh in daily_by_day.items() if chunk_first <= d <= chunk_last}
            out.extend(plan_day_costs(plan, days, wanted, tempo=tempo, ejp_days=ejp, offer=offer))
            del days
            chunk_first = chunk_last + dt.timedelta(days=1)
        return out

    async def hourly(self, usage_point_id: str, start: dt.datetime, end: dt.datetime) -> list[BucketCost]:
        plan = await self.offer_plan(usage_point_id)
        if not plan:
            return []
        readings = await self.store.completed_intervals(usage_point_id, Direction.CONSUMPTION, start, end)
        tempo = await self.tempo_map(start.astimezone(PARIS).date(), end.astimezone(PARIS).date())
        return hourly_costs(
            usage_point_id,
            plan,
            ((r.start, r.minutes, r.average_w) for r in readings),
            tempo=tempo,
            ejp_days=await self.ejp_days(usage_point_id),
        )

    async def daily(self, usage_point_id: str, first: dt.date, last: dt.date) -> list[BucketCost]:
        return daily_bucket_costs(usage_point_id, await self.day_costs(usage_point_id, first, last))

    async def subscription(self, usage_point_id: str, first: dt.date, last: dt.date) -> Decimal:
        return plan_subscription(await self.offer_plan(usage_point_id), first, last)


class OneReadCostSource(StoreCostSource):
    """Reads the offer catalogue once for all usage points of one computation."""

    _offers: list[PricedOffer] | None = None

    async def offers(self) -> list[PricedOffer]:
        if self._offers is None:
            self._offers = await super().offers()
        return self._offers


# --- The figures of the cost pages -------------------------------------------------------------------


async def consumption_euro(store: Store, pdl: str, period: str, today: dt.date) -> ConsumptionEuro:
    """The history of a usage point under the offers in force, per day (31 days), month (a year) or year
    (three years)."""
    source = StoreCostSource(store)
    span = {"day": 31, "month": 366, "year": 3 * 366}[period]
    offer = await source.chosen_offer(pdl)
    first = today - dt.timedelta(days=span)
    costs = await source.day_costs(pdl, first, today, offer)
    warnings = ejp_warnings(offer, first, today, await source.ejp_days(pdl)) if offer else []
    return ConsumptionEuro(pdl, offer, summarize_costs(costs, period), tuple(warnings))


async def simulation(store: Store, pdl: str, today: dt.date) -> Simulation:
    """Every offer priced on the last 365 days of a usage point, ranked."""
    source = StoreCostSource(store)
    last = today - dt.timedelta(days=1)
    first = last - dt.timedelta(days=364)
    offers = await source.offers()
    current = await source.chosen_offer(pdl)
    if current is not None and current.id not in {o.id for o in offers}:  # e.g. under the week-end rule
        offers.append(current)
    points = {p.usage_point_id: p for p in await store.usage_points()}
    power = subscribed_power(await store.contract(pdl), points.get(pdl)) or (
        current.power_kva if current else 6
    )
    days = await source.curve_days(pdl, first, last)
    daily = {d.day: d.wh for d in await store.daily(pdl, Direction.CONSUMPTION, first, last)}
    return simulate(
        offers,
        days,
        daily,
        power_kva=power,
        current_offer_id=current.id if current else None,
        offpeak=await source.offpeak(pdl),
        tempo=await source.tempo_map(first, last),
        first=first,
        last=last,
        ejp_days=await source.ejp_days(pdl),
    )


async def bilan(store: Store, pdl: str, today: dt.date) -> BilanFigures:
    """The bilan per year and per month, from the daily totals and the curves."""
    source = StoreCostSource(store)
    first = today.replace(year=today.year - 3, month=1, day=1)
    consumption = {d.day: d.wh for d in await store.daily(pdl, Direction.CONSUMPTION, first, today)}
    points = {p.usage_point_id: p for p in await store.usage_points()}
    production_pdl = production_point_of(points.get(pdl), pdl)
    production = {d.day: d.wh for d in await store.daily(production_pdl, Direction.PRODUCTION, first, today)}
    offpeak = await source.offpeak(pdl)
    self_consumed: dict[dt.date, int] = {}
    hp_hc: dict[dt.date, tuple[int, int]] = {}
    chunk_first = first
    while chunk_first <= today:  # a quarter at a time: the curves of 4 years at once peak at ~20 MB
        chunk_last = min(today, chunk_first + dt.timedelta(days=BILAN_CHUNK_DAYS - 1))
        start = dt.datetime.combine(chunk_first, dt.time(), PARIS).astimezone(dt.UTC)
        end = dt.datetime.combine(chunk_last + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)
        cons_curve, _ = await store.completed_interval_values(pdl, Direction.CONSUMPTION, start, end)
        self_consumed.update(
            self_consumed_per_day(
                cons_curve, await store.interval_values(production_pdl, Direction.PRODUCTION, start, end)
            )
        )
        if offpeak:
            hp_hc.update(peak_offpeak_per_day(group_epochs_by_local_day(cons_curve), offpeak))
        del cons_curve
        chunk_first = chunk_last + dt.timedelta(days=1)
    inputs = (consumption, production, self_consumed, hp_hc)
    return BilanFigures(pdl, balance_sheet(*inputs), balance_sheet(*inputs, period="month"))


async def offer_choice(store: Store, pdl: str | None) -> OfferChoice:
    """The offers catalogue and what the user chose for a usage point."""
    source = StoreCostSource(store)
    if not pdl:
        return OfferChoice(pdl, None, (), (), "", tuple(await source.offers()))
    return OfferChoice(
        pdl,
        await source.chosen_offer(pdl),
        await source.offpeak(pdl),
        tuple(sorted(await source.ejp_days(pdl))),
        timeline_text(await contracts.load_entries(store, pdl)),
        tuple(await source.offers()),
    )


# --- The figures the exporters send ------------------------------------------------------------------


async def self_consumed_by_day(
    store: Store, usage_point_id: str, production_point_id: str, first: dt.date, last: dt.date
) -> dict[dt.date, int]:
    """`self_consumed_per_day` over the Paris days [first, last], read from the store."""
    start = timeline.day_start_utc(first)
    end = timeline.day_start_utc(last + dt.timedelta(days=1))
    production = await store.interval_values(production_point_id, Direction.PRODUCTION, start, end)
    if not production:
        return {}
    consumption = await store.interval_values(usage_point_id, Direction.CONSUMPTION, start, end)
    return self_consumed_per_day(consumption, production)


def split_buckets(costs: Sequence[BucketCost]) -> tuple[int | None, int | None, Decimal | None]:
    """HP and HC Wh (None when the offer has no such buckets) and the total cost of the buckets."""
    hp = [c.wh for c in costs if tariff_rules.peak_or_offpeak(c.bucket) == "hp"]
    hc = [c.wh for c in costs if tariff_rules.peak_or_offpeak(c.bucket) == "hc"]
    total = sum((c.euros for c in costs), Decimal(0)) if costs else None
    return (sum(hp) if hp or hc else None), (sum(hc) if hp or hc else None), total


async def day_split(
    costs: CostSource, usage_point_id: str, day: dt.date
) -> tuple[int | None, int | None, Decimal | None]:
    """HP and HC Wh and the energy cost of one Paris day (`split_buckets`)."""
    return split_buckets(await costs.daily(usage_point_id, day, day))


@dataclass(frozen=True, slots=True)
class DailyCostSplit:
    """Priced days of a usage point: HP and HC Wh per Paris day (days with such buckets only) and the
    energy euros per (Paris day, offer id)."""

    peak_wh: Mapping[dt.date, int]
    offpeak_wh: Mapping[dt.date, int]
    euros: Mapping[tuple[dt.date, str], Decimal]


async def daily_cost_split(
    costs: CostSource, usage_point_id: str, first: dt.date, last: dt.date
) -> DailyCostSplit:
    """HP/HC Wh and energy euros per Paris day of [first, last] (the time series exporters send)."""
    peak: dict[dt.date, int] = defaultdict(int)
    offpeak: dict[dt.date, int] = defaultdict(int)
    euros: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    for cost in await costs.daily(usage_point_id, first, last):
        day = timeline.paris_date(cost.start)
        side = tariff_rules.peak_or_offpeak(cost.bucket)
        if side == "hp":
            peak[day] += cost.wh
        elif side == "hc":
            offpeak[day] += cost.wh
        euros[(day, cost.offer_id)] += cost.euros
    return DailyCostSplit(dict(peak), dict(offpeak), dict(euros))


async def peak_offpeak_from_curve(
    store: Store, usage_point_id: str, periods: Sequence[ContractPeriod], day: dt.date
) -> tuple[int | None, int | None]:
    """HP/HC Wh of one Paris day from the stored load curve, under the contract period of that day."""
    period = tariff_rules.period_in_force(periods, day)
    if period is None or not tariff_rules.splits_peak_offpeak(period):
        return None, None
    start, end = timeline.day_bounds_utc(day)
    readings = await store.completed_intervals(usage_point_id, Direction.CONSUMPTION, start, end)
    slots = [(r.start, r.average_w * r.minutes) for r in readings if r.average_w is not None]
    split = tariff_rules.peak_offpeak_by_day(periods, slots).get(day)
    if split is None:
        return None, None
    return round(split[0] / 60), round(split[1] / 60)


async def cost_over(costs: CostSource, usage_point_id: str, first: dt.date, last: dt.date) -> Decimal | None:
    """Energy and subscription over the Paris days [first, last] (0 for an empty span, None when no
    day of it is priced)."""
    if first > last:
        return Decimal(0)
    items = await costs.daily(usage_point_id, first, last)
    if not items:
        return None
    return sum((i.euros for i in items), Decimal(0)) + await costs.subscription(usage_point_id, first, last)


async def energy_cost_by_day(
    costs: CostSource, usage_point_id: str, first: dt.date, last: dt.date
) -> dict[dt.date, Decimal]:
    """Energy cost of each priced Paris day of [first, last]."""
    out: dict[dt.date, Decimal] = {}
    for item in await costs.daily(usage_point_id, first, last):
        day = timeline.paris_date(item.start)
        out[day] = out.get(day, Decimal(0)) + item.euros
    return out


async def tempo_colours(store: Store, now: dt.datetime) -> dict[dt.date, TempoColor]:
    """The stored Tempo colours around today (the live prices' window)."""
    today = timeline.paris_today(now)
    return {
        d.day: d.color for d in await store.tempo(today - dt.timedelta(days=2), today + dt.timedelta(days=2))
    }


async def live_prices(store: Store, now: dt.datetime) -> dict[str, LivePrice]:
    """usage point id -> its live price (the offer in force, its off-peak hours, the stored Tempo and
    EJP days); points without a known offer are left out."""
    costs = OneReadCostSource(store)
    tempo = await tempo_colours(store, now)
    out: dict[str, LivePrice] = {}
    for point in await store.usage_points():
        if not point.has_consumption:
            continue
        pdl = point.usage_point_id
        offer = await costs.chosen_offer(pdl)
        if offer is None:
            continue
        out[pdl] = live_price(
            offer, now, offpeak=await costs.offpeak(pdl), tempo=tempo, ejp_days=await costs.ejp_days(pdl)
        )
    return out

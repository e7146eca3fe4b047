"""The sensors published by MQTT discovery, with their current values, computed from the store.

Devices: one "Linky <name>" per usage point, one "Tempo" and one "EcoWatt". Every entity belongs to a
group the user can switch off on the exporters page. Values: energy in kWh, money in EUR, power in kVA.
The `linky` sensor of each usage point carries the attributes of the `content-card-linky` Lovelace card.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app import tariff_rules, timeline
from app.costing import cost_over, energy_cost_by_day, self_consumed_by_day
from app.domain import DailyEnergy, Direction, PricingOption, TempoColor, UsagePoint, subscribed_power
from app.exporters.homeassistant.hourly import WM_PER_KWH, classifier_for, hourly_energy
from app.health import Health, HealthState, health_of
from app.pricing.balance import production_point_of, self_consumption_rate
from app.pricing.source import CostSource
from app.store import Store

GROUPS = (
    "consumption",
    "cost",
    "power",
    "production",
    "tempo",
    "ecowatt",
    "diagnostics",
    "lovelace",
    "price",
)
TEMPO_OPTIONS = ("blue", "white", "red", "unknown")
ECOWATT_OPTIONS = ("green", "orange", "red", "unknown")
ECOWATT_LEVELS = {0: "green", 1: "green", 2: "orange", 3: "red"}
TEMPO_QUOTA = {TempoColor.RED: 22, TempoColor.WHITE: 43}  # per season (1 Sept - 31 Aug); blue: the rest


@dataclass(frozen=True, slots=True)
class Device:
    key: str  # "09111111111111", "tempo", "ecowatt"
    name: str
    model: str


@dataclass(frozen=True, slots=True)
class Entity:
    device: str
    key: str
    name: str
    group: str
    value: Any
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    last_reset: dt.datetime | None = None
    options: tuple[str, ...] | None = None
    entity_category: str | None = None
    icon: str | None = None
    attributes: dict[str, Any] | None = field(default=None, hash=False)
    platform: str = "sensor"  # or "binary_sensor" (value "ON"/"OFF")

    @property
    def object_id(self) -> str:
        return f"myelectricaldata_{self.device}_{self.key}"


def _kwh(wh: float | None) -> float | None:
    return None if wh is None else round(wh / 1000, 3)


def _euros(value: Decimal | None) -> float | None:
    return None if value is None else float(round(value, 2))


def _evolution(current: float | None, previous: float | None) -> float | None:
    if current is None or not previous:
        return None
    return round((current - previous) / previous * 100, 1)


def _sum(days: dict[dt.date, int], first: dt.date, last: dt.date) -> int | None:
    values = [wh for day, wh in days.items() if first <= day <= last]
    return sum(values) if values else None


def _energy(
    device: str, key: str, name: str, group: str, wh: float | None, since: dt.date, **extra: Any
) -> Entity:
    return Entity(
        device,
        key,
        name,
        group,
        _kwh(wh),
        "kWh",
        "energy",
        "total",
        last_reset=timeline.day_start_utc(since),
        icon=extra.pop("icon", None),
        **extra,
    )


def _local_stamp(instant: dt.datetime | None) -> str:
    return "" if instant is None else timeline.utc_to_paris_naive(instant).isoformat(sep=" ")


def tempo_season_start(day: dt.date) -> dt.date:
    return tariff_rules.tempo_season(day)[0]


async def compute_sensors(
    store: Store, now: dt.datetime, costs: CostSource | None
) -> tuple[list[Device], list[Entity]]:
    today = timeline.paris_today(now)
    yesterday = today - dt.timedelta(days=1)
    devices: list[Device] = []
    entities: list[Entity] = []
    tempo_days = {
        d.day: d.color
        for d in await store.tempo(
            tempo_season_start(today) - dt.timedelta(days=7), today + dt.timedelta(days=1)
        )
    }
    progress = {p.usage_point_id: p for p in await store.progress()}
    quota = await store.quota_calls_on(now.astimezone(dt.UTC).date())
    for point in await store.usage_points():
        devices.append(Device(point.usage_point_id, f"Linky {point.name or point.usage_point_id}", "Linky"))
        entities.extend(await _point_entities(store, point, today, costs, tempo_days))
        entities.extend(
            _diagnostics(
                point,
                health_of(progress.get(point.usage_point_id), now),
                progress.get(point.usage_point_id),
                quota,
                await store.daily(
                    point.usage_point_id,
                    Direction.CONSUMPTION if point.has_consumption else Direction.PRODUCTION,
                    yesterday - dt.timedelta(days=40),
                    today,
                ),
            )
        )
    devices.append(Device("tempo", "Tempo", "Tempo (RTE)"))
    entities.extend(_tempo_entities(today, tempo_days))
    devices.append(Device("ecowatt", "EcoWatt", "EcoWatt (RTE)"))
    entities.extend(await _ecowatt_entities(store, now, today))
    return devices, entities


async def _point_entities(
    store: Store,
    point: UsagePoint,
    today: dt.date,
    costs: CostSource | None,
    tempo_days: dict[dt.date, TempoColor],
) -> list[Entity]:
    pdl = point.usage_point_id
    yesterday = today - dt.timedelta(days=1)
    out: list[Entity] = []
    month = timeline.month_start(today)
    last_month = timeline.add_months(month, -1)
    year = dt.date(today.year, 1, 1)
    last_year = dt.date(today.year - 1, 1, 1)
    week = today - dt.timedelta(days=today.weekday())
    if point.has_consumption:
        rows = await store.daily(pdl, Direction.CONSUMPTION, last_year, yesterday)
        days = {r.day: r.wh for r in rows}
        out.append(
            _energy(
                pdl,
                "consumption_yesterday",
                "Consumption yesterday",
                "consumption",
                days.get(yesterday),
                yesterday,
                icon="mdi:flash",
            )
        )
        classifier = await classifier_for(store, pdl, yesterday, yesterday)
        if classifier.buckets:
            per_bucket = (
                await hourly_energy(
                    store, pdl, Direction.CONSUMPTION, yesterday, yesterday, classifier=classifier
                )
            ).energy
            curve_known = bool(per_bucket.get(""))
            for bucket in classifier.buckets:
                wm = sum(per_bucket.get(bucket, {}).values()) if curve_known else None
                label = (
                    bucket.replace("tempo_", "Tempo ").replace("_", " ").upper()
                    if bucket.startswith("tempo")
                    else bucket.upper()
                )
                out.append(
                    _energy(
                        pdl,
                        f"consumption_yesterday_{bucket}",
                        f"Consumption yesterday {label}",
                        "consumption",
                        None if wm is None else wm * 1000 / WM_PER_KWH,
                        yesterday,
                    )
                )
        for key, name, first, last in (
            ("consumption_this_week", "Consumption this week", week, yesterday),
            ("consumption_this_month", "Consumption this month", month, yesterday),
            ("consumption_last_month", "Consumption last month", last_month, month - dt.timedelta(days=1)),
            ("consumption_this_year", "Consumption this year", year, yesterday),
            ("consumption_last_year", "Consumption last year", last_year, year - dt.timedelta(days=1)),
        ):
            total = _sum(days, first, last)
            out.append(
                _energy(
                    pdl, key, name, "consumption", total if total is not None or first > last else None, first
                )
            )
        if costs is not None:
            for key, name, first in (
                ("cost_yesterday", "Cost yesterday", yesterday),
                ("cost_this_month", "Cost this month", month),
            ):
                value = await cost_over(costs, pdl, first, yesterday)
                out.append(
                    Entity(
                        pdl,
                        key,
                        name,
                        "cost",
                        _euros(value),
                        "EUR",
                        "monetary",
                        "total",
                        last_reset=timeline.day_start_utc(first),
                        icon="mdi:currency-eur",
                    )
                )
        peaks = await store.max_power(pdl, yesterday, yesterday)
        contract = await store.contract(pdl)
        subscribed = subscribed_power(contract, point)
        peak = peaks[0] if peaks else None
        out.append(
            Entity(
                pdl,
                "max_power_yesterday",
                "Max power yesterday",
                "power",
                None if peak is None else round(peak.va / 1000, 3),
                "kVA",
                "apparent_power",
                "measurement",
                attributes={"at": peak.at.isoformat() if peak and peak.at else None},
            )
        )
        out.append(
            Entity(
                pdl,
                "subscribed_power",
                "Subscribed power",
                "power",
                subscribed,
                "kVA",
                "apparent_power",
                entity_category="diagnostic",
            )
        )
        ratio = round(peak.va / 10 / subscribed, 1) if peak is not None and subscribed else None
        out.append(
            Entity(
                pdl,
                "max_power_ratio",
                "Peak vs subscribed power",
                "power",
                ratio,
                "%",
                None,
                "measurement",
                icon="mdi:gauge",
            )
        )
        out.append(await _linky_card(store, point, today, days, tempo_days, costs))
    if point.has_production:
        rows = await store.daily(pdl, Direction.PRODUCTION, year, yesterday)
        produced = {r.day: r.wh for r in rows}
        for key, name, first in (
            ("production_yesterday", "Production yesterday", yesterday),
            ("production_this_month", "Production this month", month),
            ("production_this_year", "Production this year", year),
        ):
            total = _sum(produced, first, yesterday)
            out.append(
                _energy(
                    pdl,
                    key,
                    name,
                    "production",
                    total if total is not None or first > yesterday else None,
                    first,
                    icon="mdi:solar-power",
                )
            )
        if point.has_consumption:
            out.extend(await _self_consumption(store, point, produced, year, month, yesterday))
    return out


async def _self_consumption(
    store: Store,
    point: UsagePoint,
    produced: dict[dt.date, int],
    year: dt.date,
    month: dt.date,
    yesterday: dt.date,
) -> list[Entity]:
    """Share of the production consumed on site this month and this year (see app.pricing.balance)."""
    pdl = point.usage_point_id
    own = await self_consumed_by_day(store, pdl, production_point_of(point, pdl), year, yesterday)
    out: list[Entity] = []
    for key, name, first in (
        ("self_consumption_rate_this_month", "Self-consumption rate this month", month),
        ("self_consumption_rate_this_year", "Self-consumption rate this year", year),
    ):
        days = [day for day in own if first <= day <= yesterday]
        rate = self_consumption_rate(sum(own[d] for d in days), sum(produced.get(d, 0) for d in days))
        out.append(
            Entity(
                pdl, key, name, "production", rate, "%", None, "measurement", icon="mdi:home-lightning-bolt"
            )
        )
    return out


_ACCESS_STATES = {
    HealthState.CONSENT_MISSING: "consent_missing",
    HealthState.CREDENTIALS_INVALID: "credentials_invalid",
}


def _diagnostics(
    point: UsagePoint, health: Health, progress: Any, quota: int, recent: list[DailyEnergy]
) -> list[Entity]:
    """Diagnostic entities; "error" and a last error only when the user must act (app/health.py)."""
    pdl = point.usage_point_id
    last_success = None
    if progress is not None:
        last_success = progress.last_success.isoformat() if progress.last_success else None
    state = _ACCESS_STATES.get(health.state, "error") if health.needs_user else "ok"
    error = f"{health.cause} {health.fix}" if health.needs_user else None
    health_attributes = {
        "sync_state": health.state.value,
        "needs_user": health.needs_user,
        "cause": health.cause,
        "fix": health.fix,
        "code": health.code,
    }
    until = max((r.day for r in recent), default=None)
    diag = "diagnostics"
    return [
        Entity(
            pdl,
            "last_sync",
            "Last successful sync",
            diag,
            last_success,
            None,
            "timestamp",
            entity_category="diagnostic",
        ),
        Entity(
            pdl,
            "data_until",
            "Data available up to",
            diag,
            until.isoformat() if until else None,
            None,
            "date",
            entity_category="diagnostic",
        ),
        Entity(
            pdl,
            "gateway_quota_today",
            "Gateway requests today",
            diag,
            quota,
            "requests",
            None,
            "measurement",
            entity_category="diagnostic",
            icon="mdi:counter",
        ),
        Entity(
            pdl,
            "access_state",
            "Credentials and consent",
            diag,
            state,
            None,
            "enum",
            options=("ok", "consent_missing", "credentials_invalid", "error"),
            entity_category="diagnostic",
            attributes=health_attributes,
        ),
        Entity(
            pdl, "last_error", "Last error", diag, error or "", entity_category="diagnostic", icon="mdi:alert"
        ),
    ]


def _tempo_entities(today: dt.date, tempo_days: dict[dt.date, TempoColor]) -> list[Entity]:
    def color(day: dt.date) -> str:
        found = tempo_days.get(day)
        return found.value.lower() if found else "unknown"

    out = [
        Entity(
            "tempo",
            "today",
            "Tempo today",
            "tempo",
            color(today),
            None,
            "enum",
            options=TEMPO_OPTIONS,
            icon="mdi:palette",
        ),
        Entity(
            "tempo",
            "tomorrow",
            "Tempo tomorrow",
            "tempo",
            color(today + dt.timedelta(days=1)),
            None,
            "enum",
            options=TEMPO_OPTIONS,
            icon="mdi:palette",
        ),
    ]
    season = tempo_season_start(today)
    season_end = dt.date(season.year + 1, 9, 1)
    quota = {**TEMPO_QUOTA, TempoColor.BLUE: (season_end - season).days - sum(TEMPO_QUOTA.values())}
    for tempo_color in TempoColor:
        used = sum(1 for day, c in tempo_days.items() if c is tempo_color and season <= day < season_end)
        out.append(
            Entity(
                "tempo",
                f"remaining_{tempo_color.value.lower()}",
                f"Tempo {tempo_color.value.lower()} days left",
                "tempo",
                max(0, quota[tempo_color] - used),
                "days",
                None,
                "measurement",
                icon="mdi:calendar",
            )
        )
    return out


async def _ecowatt_entities(store: Store, now: dt.datetime, today: dt.date) -> list[Entity]:
    days = {d.day: d for d in await store.ecowatt(today, today + dt.timedelta(days=1))}

    def level(day: dt.date) -> str:
        found = days.get(day)
        return ECOWATT_LEVELS.get(found.level, "unknown") if found else "unknown"

    hour = timeline.to_paris(now).hour
    current = days.get(today)
    now_level = (
        ECOWATT_LEVELS.get(current.hourly[hour], "unknown")
        if current and len(current.hourly) > hour
        else "unknown"
    )
    return [
        Entity(
            "ecowatt",
            "today",
            "EcoWatt today",
            "ecowatt",
            level(today),
            None,
            "enum",
            options=ECOWATT_OPTIONS,
            icon="mdi:transmission-tower",
            attributes={"message": current.message if current else ""},
        ),
        Entity(
            "ecowatt",
            "tomorrow",
            "EcoWatt tomorrow",
            "ecowatt",
            level(today + dt.timedelta(days=1)),
            None,
            "enum",
            options=ECOWATT_OPTIONS,
            icon="mdi:transmission-tower",
        ),
        Entity(
            "ecowatt",
            "current_hour",
            "EcoWatt now",
            "ecowatt",
            now_level,
            None,
            "enum",
            options=ECOWATT_OPTIONS,
            icon="mdi:transmission-tower",
        ),
    ]


async def _linky_card(
    store: Store,
    point: UsagePoint,
    today: dt.date,
    days: dict[dt.date, int],
    tempo_days: dict[dt.date, TempoColor],
    costs: CostSource | None,
) -> Entity:
    """The sensor read by the `content-card-linky` card (attribute names are that card's)."""
    pdl = point.usage_point_id
    yesterday = today - dt.timedelta(days=1)
    week_days = [yesterday - dt.timedelta(days=i) for i in range(7)]  # newest first, like the card expects
    classifier = await classifier_for(store, pdl, week_days[-1], yesterday)
    split = await hourly_energy(
        store, pdl, Direction.CONSUMPTION, week_days[-1], yesterday, classifier=classifier
    )

    def part(day: dt.date, suffix: str) -> float:
        start, end = timeline.day_bounds_utc(day)
        total = 0
        for bucket, series in split.energy.items():
            if bucket and bucket.endswith(suffix):
                total += sum(v for h, v in series.items() if start <= h < end)
        return round(total / WM_PER_KWH, 2)

    hp = [part(d, "hp") for d in week_days]
    hc = [part(d, "hc") for d in week_days]
    peaks = {p.day: p for p in await store.max_power(pdl, week_days[-1], yesterday)}
    subscribed = point.subscribed_power_kva or 0
    mp = [round(peaks[d].va / 1000, 2) if d in peaks else -1 for d in week_days]
    cost_by_day: dict[dt.date, Decimal] = {}
    if costs is not None:
        cost_by_day = await energy_cost_by_day(costs, pdl, week_days[-1], yesterday)
    month = timeline.month_start(today)
    last_month = timeline.add_months(month, -1)
    this_week = today - dt.timedelta(days=today.weekday())

    def kwh(first: dt.date, last: dt.date) -> float | None:
        return _kwh(_sum(days, first, last))

    year_ago = timeline.add_months(today, -12)
    current_month = kwh(month, yesterday)
    current_month_ly = kwh(timeline.add_months(month, -12), timeline.add_months(yesterday, -12))
    current_year = kwh(dt.date(today.year, 1, 1), yesterday)
    current_year_ly = kwh(dt.date(today.year - 1, 1, 1), timeline.add_months(yesterday, -12))
    current_week = kwh(this_week, yesterday)
    last_week = kwh(this_week - dt.timedelta(days=7), yesterday - dt.timedelta(days=7))
    y_value = kwh(yesterday, yesterday)
    day_2 = kwh(yesterday - dt.timedelta(days=1), yesterday - dt.timedelta(days=1))
    total_hp, total_hc = sum(hp), sum(hc)
    attributes: dict[str, Any] = {
        "serviceEnedis": "myElectricalData",
        "typeCompteur": "consommation",
        "unit_of_measurement": "kWh",
        "yesterdayDate": yesterday.isoformat(),
        "yesterday": y_value,
        "day_2": day_2,
        "yesterday_evolution": _evolution(y_value, day_2),
        "yesterdayLastYear": kwh(year_ago - dt.timedelta(days=1), year_ago - dt.timedelta(days=1)),
        "current_week": current_week,
        "last_week": last_week,
        "current_week_evolution": _evolution(current_week, last_week),
        "current_month": current_month,
        "current_month_last_year": current_month_ly,
        "monthly_evolution": _evolution(current_month, current_month_ly),
        "last_month": kwh(last_month, month - dt.timedelta(days=1)),
        "last_month_last_year": kwh(
            timeline.add_months(last_month, -12), timeline.add_months(month, -12) - dt.timedelta(days=1)
        ),
        "current_year": current_year,
        "current_year_last_year": current_year_ly,
        "yearly_evolution": _evolution(current_year, current_year_ly),
        "last_year": kwh(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)),
        "daily": [kwh(d, d) if d in days else -1 for d in week_days],
        "dailyweek": ",".join(d.isoformat() for d in week_days),
        "dailyweek_HP": ",".join(str(v) for v in hp),
        "dailyweek_HC": ",".join(str(v) for v in hc),
        "dailyweek_cost": ",".join(str(_euros(cost_by_day.get(d)) or 0) for d in week_days),
        "dailyweek_MP": ",".join(str(v) for v in mp),
        "dailyweek_MP_over": ",".join(str(bool(subscribed) and v > subscribed).lower() for v in mp),
        "dailyweek_MP_time": ",".join(_local_stamp(peaks[d].at if d in peaks else None) for d in week_days),
        "dailyweek_Tempo": ",".join(tempo_days[d].value if d in tempo_days else "UNKNOWN" for d in week_days),
        "yesterday_HP": hp[0],
        "yesterday_HC": hc[0],
        "peak_offpeak_percent": round(total_hp / (total_hp + total_hc) * 100, 1)
        if total_hp + total_hc
        else None,
        "subscribed_power": f"{subscribed} kVA" if subscribed else None,
        "offpeak_hours": [str(r) for r in point.offpeak_hours],
        "tariff": point.pricing_option.value if point.pricing_option is not PricingOption.UNKNOWN else None,
        "errorLastCall": "",
        "versionUpdateAvailable": False,
        "versionGit": "",
    }
    return Entity(
        pdl,
        "linky",
        "Linky",
        "lovelace",
        y_value,
        "kWh",
        "energy",
        "total",
        last_reset=timeline.day_start_utc(yesterday),
        icon="mdi:flash",
        attributes=attributes,
    )

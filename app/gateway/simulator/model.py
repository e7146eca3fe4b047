"""Deterministic simulated Linky data: the "truth" the simulator serves and tests compare against.

Everything is a pure function of (seed, usage point, direction, day): each day gets its own
`random.Random` seeded with a string (seeded through SHA-512, so stable across processes, unlike the
salted built-in `hash()`). Slots are generated on the UTC timeline, so the spring-forward day has 46
half-hours and the fall-back day 50, then labelled with naive Paris wall-clock stamps.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from app.domain import Direction
from app.timeline import PARIS, UTC, day_bounds_utc, utc_to_paris_naive

DEFAULT_ACTIVATION_DATE = dt.date(2015, 3, 12)
NULL_SLOT_FIRST, NULL_SLOT_COUNT = 16, 6  # UTC-order slot indexes nulled on a point's null_slot_days
PROFILES = ("base", "electric_heating", "tempo_solar")
TEMPO_RED_DAYS = 22
TEMPO_WHITE_DAYS = 43

_OFFPEAK_RANGE = re.compile(r"(\d{1,2})\s*[hH:]\s*(\d{2})?\s*-\s*(\d{1,2})\s*[hH:]\s*(\d{2})?")
_TWO_PI = 2 * math.pi


@dataclass(frozen=True)
class SimulatedUsagePoint:
    usage_point_id: str
    name: str
    subscribed_power_kva: int
    pricing_option: str
    offpeak_hours: str | None
    profile: str
    has_production: bool = False
    activation_date: dt.date = DEFAULT_ACTIVATION_DATE
    load_curve_enabled: bool = True
    consent: bool = True
    interval_minutes: int = 30
    null_slot_rate: float = 0.0
    # Days whose curve misses NULL_SLOT_COUNT slots (null values) while the meter's daily value still
    # counts their energy: the daily value exceeds the curve's sum, as on the real gateway.
    null_slot_days: frozenset[dt.date] = frozenset()
    # What /pdl and the contract announce as the activation day, when it differs from the day the
    # meter's data really starts (the gateway then answers an empty window for the days between).
    announced_activation_date: dt.date | None = None

    @property
    def announced_activation(self) -> dt.date:
        return self.announced_activation_date or self.activation_date

    def __post_init__(self) -> None:
        if len(self.usage_point_id) != 14 or not self.usage_point_id.isdigit():
            raise ValueError(f"usage_point_id must be 14 digits: {self.usage_point_id!r}")
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}")
        if self.interval_minutes not in (10, 15, 30, 60):
            raise ValueError(f"unsupported interval {self.interval_minutes}")


def default_usage_points() -> list[SimulatedUsagePoint]:
    return [
        SimulatedUsagePoint(
            usage_point_id="09111111111111",
            name="Maison Base",
            subscribed_power_kva=6,
            pricing_option="BASE",
            offpeak_hours=None,
            profile="base",
        ),
        SimulatedUsagePoint(
            usage_point_id="09222222222222",
            name="Maison chauffage électrique",
            subscribed_power_kva=9,
            pricing_option="HC_HP",
            offpeak_hours="HC (22H00-6H00)",
            profile="electric_heating",
        ),
        SimulatedUsagePoint(
            usage_point_id="09333333333333",
            name="Maison Tempo solaire",
            subscribed_power_kva=9,
            pricing_option="TEMPO",
            offpeak_hours="HC (22h00-6H00)",
            profile="tempo_solar",
            has_production=True,
        ),
    ]


def parse_offpeak_minutes(text: str | None) -> list[tuple[int, int]]:
    """'HC (22H00-6H00;12h30-14h00)' -> [(1320, 360), (750, 840)] in minutes of the local day."""
    if not text:
        return []
    ranges = []
    for match in _OFFPEAK_RANGE.finditer(text):
        h1, m1, h2, m2 = match.groups()
        ranges.append((int(h1) * 60 + int(m1 or 0), int(h2) * 60 + int(m2 or 0)))
    return ranges


def _in_ranges(minute: int, ranges: Sequence[tuple[int, int]]) -> bool:
    for start, end in ranges:
        if start < end:
            if start <= minute < end:
                return True
        elif minute >= start or minute < end:
            return True
    return False


@dataclass(frozen=True)
class DayLayout:
    """Slot stamps of one Paris day for one interval length, shared by every point."""

    utc_starts: tuple[dt.datetime, ...]
    local_starts: tuple[dt.datetime, ...]  # naive Paris, UTC order
    local_minutes: tuple[int, ...]  # minute of the local day at each slot start, UTC order
    sorted_order: tuple[int, ...] | None  # permutation to the sorted-batch order; None = identity
    start_strings_sorted: tuple[str, ...]  # "YYYY-MM-DD HH:MM:SS", sorted-batch order
    end_strings: tuple[str, ...]  # interval END stamps (v1 / raw Enedis), UTC order


@lru_cache(maxsize=4096)
def day_layout(day: dt.date, interval_minutes: int) -> DayLayout:
    start, end = day_bounds_utc(day)
    step = dt.timedelta(minutes=interval_minutes)
    count = int((end - start) / step)
    utc_starts = tuple(start + i * step for i in range(count))
    if count * interval_minutes == 1440:
        midnight = dt.datetime(day.year, day.month, day.day)
        local = tuple(midnight + i * step for i in range(count))
        ends = [*local[1:], midnight + dt.timedelta(days=1)]
    else:
        local = tuple(utc_to_paris_naive(s) for s in utc_starts)
        ends = [utc_to_paris_naive(s + step) for s in utc_starts]
    order = sorted(range(count), key=lambda i: local[i])  # stable: summer time first
    sorted_order = None if order == list(range(count)) else tuple(order)
    starts_sorted = [local[i] for i in order]
    return DayLayout(
        utc_starts=utc_starts,
        local_starts=local,
        local_minutes=tuple(s.hour * 60 + s.minute for s in local),
        sorted_order=sorted_order,
        start_strings_sorted=tuple(s.isoformat(" ") for s in starts_sorted),
        end_strings=tuple(s.isoformat(" ") for s in ends),
    )


@dataclass(frozen=True)
class _Day:
    values: tuple[int | None, ...]  # UTC order, nulls applied
    raw_max_index: int
    raw_max: int
    wh: int


# Half-hourly activity shapes (index = local half-hour), relative to the profile's amplitude.
def _shape(points: dict[float, float]) -> tuple[float, ...]:
    keys = sorted(points)
    out = []
    for i in range(48):
        h = i / 2
        value = points[keys[0]]
        for k in keys:
            if k <= h:
                value = points[k]
        out.append(value)
    return tuple(out)


_WEEKDAY = _shape(
    {0: 0.12, 6.5: 0.7, 7: 1.0, 9: 0.3, 12: 0.5, 14: 0.25, 17.5: 0.8, 18.5: 1.4, 21.5: 0.9, 23: 0.3}
)
_WEEKEND = _shape({0: 0.15, 8: 0.6, 9: 0.95, 12: 1.25, 14: 0.7, 18: 1.1, 19: 1.45, 22: 0.8, 23: 0.35})
# heating demand over the day: setback at night, boost at wake-up and in the evening
_HEATING = _shape({0: 0.75, 6: 1.35, 9: 0.95, 17: 1.2, 22: 0.9, 23: 0.8})


@dataclass(frozen=True)
class _Profile:
    base_w: float
    activity_w: float
    heating_w_per_degree: float
    water_heater_w: float
    water_heater_slots_30: tuple[int, int]  # min/max half-hours per night
    solar_kwc: float = 0.0


_PROFILES = {
    "base": _Profile(
        base_w=135, activity_w=370, heating_w_per_degree=0, water_heater_w=0, water_heater_slots_30=(0, 0)
    ),
    "electric_heating": _Profile(
        base_w=190,
        activity_w=520,
        heating_w_per_degree=118,
        water_heater_w=2400,
        water_heater_slots_30=(3, 6),
    ),
    "tempo_solar": _Profile(
        base_w=140,
        activity_w=380,
        heating_w_per_degree=36,
        water_heater_w=1600,
        water_heater_slots_30=(3, 5),
        solar_kwc=3.8,
    ),
}


class SimulatedData:
    """Pure, deterministic, cached generator of every figure the simulator serves."""

    _MAX_CACHED_DAYS = 40_000

    def __init__(self, points: Sequence[SimulatedUsagePoint], seed: int) -> None:
        self._points = {p.usage_point_id: p for p in points}
        self.seed = seed
        self._days: dict[tuple[str, Direction, dt.date], _Day] = {}
        self._temperatures: dict[dt.date, float] = {}
        self._week_anomalies: dict[int, float] = {}
        self._tempo_seasons: dict[int, dict[dt.date, str]] = {}
        self._offpeak = {p.usage_point_id: parse_offpeak_minutes(p.offpeak_hours) for p in points}

    @property
    def points(self) -> list[SimulatedUsagePoint]:
        return list(self._points.values())

    def point(self, usage_point_id: str) -> SimulatedUsagePoint:
        return self._points[usage_point_id]

    def has_point(self, usage_point_id: str) -> bool:
        return usage_point_id in self._points

    # ---- curve -------------------------------------------------------------------------------

    def curve_day(
        self, usage_point_id: str, direction: Direction, day: dt.date
    ) -> list[tuple[dt.datetime, int | None]]:
        """Naive Paris interval-START stamps and average W, in sorted-batch order."""
        point = self._points[usage_point_id]
        layout = day_layout(day, point.interval_minutes)
        values = self.curve_values(usage_point_id, direction, day)
        if layout.sorted_order is None:
            return list(zip(layout.local_starts, values, strict=True))
        return [(layout.local_starts[i], values[i]) for i in layout.sorted_order]

    def curve_values(self, usage_point_id: str, direction: Direction, day: dt.date) -> tuple[int | None, ...]:
        """Average W per slot in UTC order (see `day_layout` for the stamps)."""
        return self._day(usage_point_id, direction, day).values

    def curve_values_sorted(
        self, usage_point_id: str, direction: Direction, day: dt.date
    ) -> tuple[int | None, ...]:
        layout = day_layout(day, self._points[usage_point_id].interval_minutes)
        values = self._day(usage_point_id, direction, day).values
        if layout.sorted_order is None:
            return values
        return tuple(values[i] for i in layout.sorted_order)

    def daily_wh(self, usage_point_id: str, direction: Direction, day: dt.date) -> int:
        return self._day(usage_point_id, direction, day).wh

    def max_power(self, usage_point_id: str, day: dt.date) -> tuple[int, dt.datetime]:
        point = self._points[usage_point_id]
        record = self._day(usage_point_id, Direction.CONSUMPTION, day)
        rng = random.Random(f"{self.seed}|{usage_point_id}|max|{day.isoformat()}")
        cap = point.subscribed_power_kva * 1100
        va = max(record.raw_max, min(cap, round(record.raw_max * rng.uniform(1.1, 1.6))))
        layout = day_layout(day, point.interval_minutes)
        seconds = rng.randrange(point.interval_minutes * 60)
        moment = layout.utc_starts[record.raw_max_index] + dt.timedelta(seconds=seconds)
        return va, utc_to_paris_naive(moment)

    def _day(self, usage_point_id: str, direction: Direction, day: dt.date) -> _Day:
        key = (usage_point_id, direction, day)
        cached = self._days.get(key)
        if cached is not None:
            return cached
        point = self._points[usage_point_id]
        if direction is Direction.PRODUCTION:
            raw = self._production(point, day)
        else:
            raw = self._consumption(point, day)
        values: tuple[int | None, ...]
        if point.null_slot_rate > 0:
            nulls = random.Random(f"{self.seed}|{usage_point_id}|{direction.value}|null|{day.isoformat()}")
            rate = point.null_slot_rate
            values = tuple(None if nulls.random() < rate else v for v in raw)
        else:
            values = tuple(raw)
        meter_values: Sequence[int | None] = values
        if day in point.null_slot_days:
            meter_values = raw
            values = tuple(
                None if NULL_SLOT_FIRST <= i < NULL_SLOT_FIRST + NULL_SLOT_COUNT else v
                for i, v in enumerate(values)
            )
        raw_max = max(raw)
        minutes = point.interval_minutes
        wh = sum(v for v in meter_values if v is not None) * minutes // 60
        record = _Day(values=values, raw_max_index=raw.index(raw_max), raw_max=raw_max, wh=wh)
        if len(self._days) >= self._MAX_CACHED_DAYS:
            del self._days[next(iter(self._days))]
        self._days[key] = record
        return record

    def _consumption(self, point: SimulatedUsagePoint, day: dt.date) -> list[int]:
        profile = _PROFILES[point.profile]
        rng = random.Random(f"{self.seed}|{point.usage_point_id}|consumption|{day.isoformat()}")
        layout = day_layout(day, point.interval_minutes)
        minutes = point.interval_minutes
        quantum = 60 // math.gcd(minutes, 60)
        cap = point.subscribed_power_kva * 850
        weekend = day.weekday() >= 5
        shape = _WEEKEND if weekend else _WEEKDAY
        doy = day.timetuple().tm_yday
        winter = 0.5 + 0.5 * math.cos(_TWO_PI * (doy - 15) / 365.25)  # 1 mid-January, 0 mid-July
        activity = profile.activity_w * (0.8 + 0.4 * winter) * rng.uniform(0.8, 1.2)
        away = rng.random() < 0.03  # a day away from home: only the base load runs
        if away:
            activity *= 0.15
        temperature = self.temperature(day)
        heating = profile.heating_w_per_degree * max(0.0, 16.5 - temperature)
        peak_factor = 1.0
        if point.profile == "tempo_solar" and heating:
            peak_factor = {"BLUE": 1.0, "WHITE": 0.8, "RED": 0.45}[self.tempo_color(day)]
        offpeak = self._offpeak.get(point.usage_point_id, [])
        heater_slots: set[int] = set()
        if profile.water_heater_w and offpeak and not away:
            low, high = profile.water_heater_slots_30
            half_hours = rng.randint(low, high) + (1 if winter > 0.6 else 0)
            first_minute = offpeak[0][0]
            heater_start = first_minute
            heater_end = first_minute + half_hours * 30
            for i, m in enumerate(layout.local_minutes):
                rel = m if m >= heater_start else m + 1440
                if heater_start <= rel < heater_end:
                    heater_slots.add(i)
        # appliance runs (washing machine, dishwasher, oven): a few bursts at random times of the day
        bursts: dict[int, float] = {}
        count = len(layout.local_minutes)
        for _ in range(rng.randint(0, 3 if weekend else 2)):
            start = rng.randrange(count)
            length = max(1, rng.randint(30, 120) // minutes)
            watts = rng.uniform(900, 2000)
            for j in range(start, min(count, start + length)):
                bursts[j] = bursts.get(j, 0.0) + watts
        result = []
        uniform = rng.random
        for i, m in enumerate(layout.local_minutes):
            half_hour = m // 30
            w = profile.base_w * (0.85 + 0.3 * uniform())
            w += activity * shape[half_hour] * (0.6 + 0.8 * uniform())
            if heating:
                factor = peak_factor if not _in_ranges(m, offpeak) else 1.0
                w += heating * _HEATING[half_hour] * factor * (0.75 + 0.5 * uniform())
            if i in heater_slots:
                w += profile.water_heater_w
            w += bursts.get(i, 0.0)
            w = min(w, cap)
            result.append(max(quantum, quantum * round(w / quantum)))
        return result

    def _production(self, point: SimulatedUsagePoint, day: dt.date) -> list[int]:
        layout = day_layout(day, point.interval_minutes)
        if not point.has_production:
            return [0] * len(layout.utc_starts)
        kwc = _PROFILES[point.profile].solar_kwc or 3.0
        rng = random.Random(f"{self.seed}|{point.usage_point_id}|production|{day.isoformat()}")
        minutes = point.interval_minutes
        quantum = 60 // math.gcd(minutes, 60)
        doy = day.timetuple().tm_yday
        season = math.sin(_TWO_PI * (doy - 81) / 365.25)  # +1 at the June solstice
        day_length = 12.2 + 3.95 * season
        solar_noon = 11.85 - _equation_of_time_minutes(doy) / 60  # Paris, hours UTC
        sunrise = solar_noon - day_length / 2
        peak = kwc * 1000 * (0.62 + 0.2 * season)  # clear-sky output at noon, W
        summer = 0.5 + 0.5 * season
        draw = rng.random()
        clear_p = 0.2 + 0.35 * summer
        partly_p = clear_p + 0.4
        if draw < clear_p:
            cloud, jitter = rng.uniform(0.9, 1.0), 0.05
        elif draw < partly_p:
            cloud, jitter = rng.uniform(0.5, 0.85), 0.45
        else:
            cloud, jitter = rng.uniform(0.08, 0.35), 0.3
        result = []
        half = minutes / 120
        for start in layout.utc_starts:
            hour = start.hour + start.minute / 60 + half
            x = (hour - sunrise) / day_length
            if not 0 < x < 1:
                result.append(0)
                continue
            w = peak * math.sin(math.pi * x) ** 1.3 * cloud * (1 - jitter * rng.random())
            result.append(quantum * int(w / quantum))
        return result

    # ---- weather, Tempo, EcoWatt --------------------------------------------------------------

    def temperature(self, day: dt.date) -> float:
        """Daily mean temperature (°C), Paris-like, with multi-day cold and warm spells."""
        cached = self._temperatures.get(day)
        if cached is not None:
            return cached
        doy = day.timetuple().tm_yday
        seasonal = 12.3 - 7.8 * math.cos(_TWO_PI * (doy - 18) / 365.25)
        ordinal = day.toordinal()
        position = (ordinal - 3.5) / 7
        block = math.floor(position)
        frac = position - block
        anomaly = self._week_anomaly(block) * (1 - frac) + self._week_anomaly(block + 1) * frac
        noise = random.Random(f"{self.seed}|temp-day|{ordinal}").gauss(0, 1.3)
        value = seasonal + anomaly + noise
        self._temperatures[day] = value
        return value

    def _week_anomaly(self, block: int) -> float:
        cached = self._week_anomalies.get(block)
        if cached is None:
            cached = random.Random(f"{self.seed}|temp-week|{block}").gauss(0, 2.8)
            self._week_anomalies[block] = cached
        return cached

    def tempo_color(self, day: dt.date) -> str:
        season = day.year if day.month >= 9 else day.year - 1
        calendar = self._tempo_seasons.get(season)
        if calendar is None:
            calendar = self._tempo_season(season)
            self._tempo_seasons[season] = calendar
        return calendar[day]

    def _tempo_season(self, season: int) -> dict[dt.date, str]:
        first = dt.date(season, 9, 1)
        last = dt.date(season + 1, 8, 31)
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        rng = random.Random(f"{self.seed}|tempo|{season}")
        score = {d: self.temperature(d) + rng.gauss(0, 1.0) for d in days}
        red_ok = [d for d in days if d.month in (11, 12, 1, 2, 3) and d.weekday() < 5]
        red = set(sorted(red_ok, key=lambda d: (score[d], d))[:TEMPO_RED_DAYS])
        white_ok = [d for d in days if d.weekday() != 6 and d not in red]
        white = set(sorted(white_ok, key=lambda d: (score[d], d))[:TEMPO_WHITE_DAYS])
        return {d: "RED" if d in red else "WHITE" if d in white else "BLUE" for d in days}

    def ecowatt_day(self, day: dt.date) -> tuple[int, list[int], str]:
        rng = random.Random(f"{self.seed}|ecowatt|{day.isoformat()}")
        temperature = self.temperature(day)
        weekday = day.weekday() < 5
        dvalue = 1
        if weekday and temperature < 1.5 and rng.random() < 0.5:
            dvalue = 2
            if temperature < -2.5 and rng.random() < 0.4:
                dvalue = 3
        values = []
        green_night = rng.random() < 0.8
        for hour in range(24):
            value = 0 if hour < 6 and green_night else 1
            if dvalue > 1 and (8 <= hour < 13 or 18 <= hour < 20):
                value = dvalue if hour in (8, 9, 18, 19) else 2
            values.append(value)
        return dvalue, values, _ECOWATT_MESSAGES[dvalue]

    # ---- offers -------------------------------------------------------------------------------

    def offers(self) -> list[dict[str, object]]:
        return [dict(offer) for offer in _OFFERS]


_ECOWATT_MESSAGES = {
    1: "Pas d'alerte.",
    2: "Risque de coupures d'électricité.",
    3: "Coupures d'électricité programmées.",
}


def _equation_of_time_minutes(doy: int) -> float:
    b = _TWO_PI * (doy - 81) / 364
    return 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)


# ---- EDF Tarif Bleu grids (integrations.md section 6), TTC ----------------------------------------

_GRIDS: list[tuple[str, str | None, dict[str, dict[str, object]]]] = [
    (
        "2025-02-01",
        "2025-08-01",
        {
            "BASE": {"sub": {6: "13.72", 9: "17.27"}, "base": {6: "0.2016", 9: "0.2016"}},
            "HC_HP": {"sub": {6: "14.04", 9: "18.01"}, "hp": "0.2146", "hc": "0.1696"},
            "TEMPO": {
                "sub": {6: "13.97", 9: "17.45"},
                "tempo": ("0.1288", "0.1552", "0.1447", "0.1792", "0.1518", "0.6586"),
            },
        },
    ),
    (
        "2025-08-01",
        "2026-02-01",
        {
            "BASE": {"sub": {6: "15.47", 9: "19.39"}, "base": {6: "0.1952", 9: "0.1952"}},
            "HC_HP": {"sub": {6: "15.74", 9: "19.81"}, "hp": "0.2081", "hc": "0.1635"},
            "TEMPO": {
                "sub": {6: "15.50", 9: "19.49"},
                "tempo": ("0.1232", "0.1494", "0.1391", "0.1730", "0.1460", "0.6468"),
            },
        },
    ),
    (
        "2026-02-01",
        None,
        {
            "BASE": {"sub": {6: "15.65", 9: "19.56"}, "base": {6: "0.1940", 9: "0.1927"}},
            "HC_HP": {"sub": {6: "15.65", 9: "19.56"}, "hp": "0.2065", "hc": "0.1579"},
            "TEMPO": {
                "sub": {6: "15.59", 9: "19.38"},
                "tempo": ("0.1325", "0.1612", "0.1499", "0.1871", "0.1575", "0.7060"),
            },
        },
    ),
]

EDF_PROVIDER_ID = "6f1c3e2a-5b0d-4c1e-9a7f-2d3b4c5e6f70"
_DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_OPTION_LABEL = {"BASE": "Base", "HC_HP": "Heures Creuses", "TEMPO": "Tempo"}


def _price(value: str) -> str:
    """Prices come as Numeric(10, 5) strings from the gateway: '0.20160'."""
    return f"{float(value):.5f}"


def _build_offers() -> list[dict[str, object]]:
    offers: list[dict[str, object]] = []
    serial = 0
    for valid_from, valid_to, options in _GRIDS:
        for option, grid in options.items():
            for kva in (6, 9):
                serial += 1
                subs = grid["sub"]
                assert isinstance(subs, dict)
                offer: dict[str, object] = {
                    "id": f"00000000-0000-4000-8000-{serial:012d}",
                    "provider_id": EDF_PROVIDER_ID,
                    "provider": "EDF",
                    "name": f"Tarif Bleu - {_OPTION_LABEL[option]} {kva} kVA",
                    "offer_type": option,
                    "description": f"Tarif réglementé EDF - option {_OPTION_LABEL[option]} - {kva} kVA",
                    "subscription_price": float(subs[kva]),
                    "base_price": None,
                    "hc_price": None,
                    "hp_price": None,
                    "tempo_blue_hc": None,
                    "tempo_blue_hp": None,
                    "tempo_white_hc": None,
                    "tempo_white_hp": None,
                    "tempo_red_hc": None,
                    "tempo_red_hp": None,
                    "ejp_normal": None,
                    "ejp_peak": None,
                    "hc_schedules": None,
                    "power_kva": kva,
                    "valid_from": f"{valid_from}T00:00:00+00:00",
                    "valid_to": f"{valid_to}T00:00:00+00:00" if valid_to else None,
                    "is_active": True,
                }
                if option == "BASE":
                    base = grid["base"]
                    assert isinstance(base, dict)
                    offer["base_price"] = _price(base[kva])
                elif option == "HC_HP":
                    offer["hc_price"] = _price(str(grid["hc"]))
                    offer["hp_price"] = _price(str(grid["hp"]))
                    offer["hc_schedules"] = {d: "22:00-06:00" for d in _DAYS_FR}
                else:
                    tempo = grid["tempo"]
                    assert isinstance(tempo, tuple)
                    keys = ("blue_hc", "blue_hp", "white_hc", "white_hp", "red_hc", "red_hp")
                    for key, value in zip(keys, tempo, strict=True):
                        offer[f"tempo_{key}"] = _price(value)
                    offer["hc_schedules"] = {d: "22:00-06:00" for d in _DAYS_FR}
                offers.append(offer)
    return offers


_OFFERS = _build_offers()


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


# ---- raw Enedis contract and address payloads (gateway-api.md sections 5 and 7) -------------------

_DISTRIBUTION_TARIFFS = {"BASE": "BTINFCUST", "HC_HP": "BTINFMUDT", "TEMPO": "BTINFCU4"}
_ADDRESSES = (
    ("12 RUE DE LA PAIX", None, "75002", "75102", "PARIS", "48.8692", "2.3316", "35"),
    ("4 CHEMIN DES VIGNES", "LE HAMEAU", "69480", "69009", "ANSE", "45.9349", "4.7217", "178"),
    ("27 AVENUE DU SOLEIL", None, "13100", "13001", "AIX-EN-PROVENCE", "43.5283", "5.4497", "173"),
)


def _dated_with_offset(day: dt.date) -> str:
    """'2015-03-12+01:00': Enedis dates carry the Paris offset of that day."""
    offset = dt.datetime(day.year, day.month, day.day, 12, tzinfo=PARIS).utcoffset()
    assert offset is not None
    hours = int(offset.total_seconds() // 3600)
    return f"{day.isoformat()}+{hours:02d}:00"


def customer_id(point: SimulatedUsagePoint) -> str:
    return f"-{int(point.usage_point_id) % 2_000_000_000 + 100_000_000}"


def contract_json(point: SimulatedUsagePoint) -> dict[str, object]:
    tariff_change = max(point.activation_date, dt.date(2019, 9, 13))
    contracts: dict[str, object] = {
        "segment": "C5",
        "subscribed_power": f"{point.subscribed_power_kva} kVA",
        "last_activation_date": _dated_with_offset(point.announced_activation),
        "distribution_tariff": _DISTRIBUTION_TARIFFS.get(point.pricing_option, "BTINFCUST"),
        "contract_status": "SERVC",
        "contract_type": "CRAE",
        "last_distribution_tariff_change_date": _dated_with_offset(tariff_change),
    }
    if point.offpeak_hours:
        contracts["offpeak_hours"] = point.offpeak_hours
    return {
        "customer": {
            "customer_id": customer_id(point),
            "usage_points": [
                {
                    "usage_point": {
                        "usage_point_id": point.usage_point_id,
                        "usage_point_status": "com",
                        "meter_type": "AMM",
                    },
                    "contracts": contracts,
                }
            ],
        }
    }


def address_json(point: SimulatedUsagePoint) -> dict[str, object]:
    street, locality, postal, insee, city, lat, lon, alt = _ADDRESSES[int(point.usage_point_id[-4:]) % 3]
    return {
        "customer": {
            "customer_id": customer_id(point),
            "usage_points": [
                {
                    "usage_point": {
                        "usage_point_id": point.usage_point_id,
                        "usage_point_status": "com",
                        "meter_type": "AMM",
                        "usage_point_addresses": {
                            "street": street,
                            "locality": locality,
                            "postal_code": postal,
                            "insee_code": insee,
                            "city": city,
                            "country": "France",
                            "geo_points": {"latitude": lat, "longitude": lon, "altitude": alt},
                        },
                    }
                }
            ],
        }
    }

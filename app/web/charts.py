"""Chart data builders: periods, buckets and the compact JSON every chart of the UI draws.

A chart is a dict: `x` ("time" or "category"), either `labels` (category) or `start` + `step` (a regular
UTC grid, the compact form of a load curve) or `t` (epoch seconds), a `unit`, `series` (label, kind,
CSS colour variable, values) and `total` when a sum makes sense. Energy is Wh inside, kWh here (display).
The same dicts become CSV files (`to_csv`), so a download holds exactly what the chart shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app import tariff_rules, timeline
from app.domain import Direction, OffpeakRange, TempoColor, TempoDay
from app.store import Store
from app.tariff_rules import ContractPeriod
from app.web.i18n import MONTHS, text

View = Literal["day", "week", "month", "year"]
VIEWS: tuple[View, ...] = ("day", "week", "month", "year")
CURVE_SPANS = ("day", "week")
MAX_CURVE_DAYS = 366
SLOT_SECONDS = 1800

Chart = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Period:
    """The days a chart covers for a view, ending on `end` (a Paris date)."""

    view: View
    end: dt.date
    first: dt.date

    @property
    def last(self) -> dt.date:
        return self.end

    @staticmethod
    def of(view: View, end: dt.date) -> Period:
        if view == "day":
            first = end - dt.timedelta(days=30)
        elif view == "week":
            first = week_start(end) - dt.timedelta(weeks=25)
        elif view == "month":
            first = timeline.add_months(timeline.month_start(end), -23)
        else:
            first = dt.date(end.year - 3, 1, 1)
        return Period(view, end, first)

    def shifted(self, steps: int) -> dt.date:
        """The end date `steps` periods later (negative: earlier)."""
        if self.view == "day":
            return self.end + dt.timedelta(days=31 * steps)
        if self.view == "week":
            return self.end + dt.timedelta(weeks=26 * steps)
        if self.view == "month":
            return timeline.add_months(self.end, 12 * steps)
        return dt.date(self.end.year + steps, 12, 31) if steps > 0 else dt.date(self.end.year - 1, 12, 31)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def bucket_of(view: View, day: dt.date) -> dt.date:
    if view == "day":
        return day
    if view == "week":
        return week_start(day)
    if view == "month":
        return day.replace(day=1)
    return dt.date(day.year, 1, 1)


def bucket_keys(period: Period) -> list[dt.date]:
    keys: list[dt.date] = []
    day = bucket_of(period.view, period.first)
    while day <= period.end:
        keys.append(day)
        if period.view == "day":
            day += dt.timedelta(days=1)
        elif period.view == "week":
            day += dt.timedelta(weeks=1)
        elif period.view == "month":
            day = timeline.add_months(day, 1)
        else:
            day = dt.date(day.year + 1, 1, 1)
    return keys


def bucket_label(view: View, key: dt.date, lang: str) -> str:
    if view == "day":
        return f"{key:%d/%m}"
    if view == "week":
        iso_year, week, _ = key.isocalendar()
        return f"{'S' if lang == 'fr' else 'W'}{week:02d} {iso_year}"
    if view == "month":
        return f"{MONTHS[lang][key.month - 1]} {key.year}"
    return str(key.year)


def _kwh(wh: float | None) -> float | None:
    return None if wh is None else round(wh / 1000, 3)


def _sum_by_bucket(view: View, values: Iterable[tuple[dt.date, float]]) -> dict[dt.date, float]:
    out: dict[dt.date, float] = {}
    for day, wh in values:
        key = bucket_of(view, day)
        out[key] = out.get(key, 0.0) + wh
    return out


def _category_chart(
    period: Period, lang: str, unit: str, series: Sequence[tuple[str, str, str, Mapping[dt.date, float]]]
) -> Chart:
    keys = bucket_keys(period)
    chart: Chart = {
        "x": "category",
        "labels": [bucket_label(period.view, k, lang) for k in keys],
        "keys": [k.isoformat() for k in keys],
        "unit": unit,
        "series": [
            {"label": label, "kind": kind, "color": color, "values": [_kwh(values.get(k)) for k in keys]}
            for label, kind, color, values in series
        ],
    }
    return chart


async def _energy_totals(
    store: Store, pdl: str, direction: Direction, period: Period
) -> dict[dt.date, float]:
    """Wh per bucket of the period: summed in SQL for months and years, in Python for days and weeks."""
    if period.view in ("month", "year"):
        bucket: Literal["month", "year"] = "month" if period.view == "month" else "year"
        rows = await store.daily_energy(pdl, direction, bucket, period.first, period.last)
        return {key: float(wh) for key, wh in rows}
    days = await store.daily(pdl, direction, period.first, period.last)
    return _sum_by_bucket(period.view, ((d.day, d.wh) for d in days))


async def energy_chart(
    store: Store,
    pdl: str,
    direction: Direction,
    period: Period,
    lang: str,
    *,
    compare: Direction | None = None,
) -> Chart:
    """Energy per day, week, month or year from the stored daily totals (kWh)."""
    totals = await _energy_totals(store, pdl, direction, period)
    color = "--c-cons" if direction is Direction.CONSUMPTION else "--c-prod"
    series: list[tuple[str, str, str, Mapping[dt.date, float]]] = [
        (text(lang, direction.value), "bars", color, totals)
    ]
    if compare is not None:
        other_color = "--c-cons" if compare is Direction.CONSUMPTION else "--c-prod"
        other = await _energy_totals(store, pdl, compare, period)
        series.append((text(lang, compare.value), "bars", other_color, other))
    chart = _category_chart(period, lang, "kWh", series)
    chart["total"] = _kwh(sum(totals.values()))
    return chart


class SplitCache:
    """Per-day peak / off-peak energy (Wh) computed from the load curve, kept until the next sync."""

    def __init__(self) -> None:
        self._days: dict[tuple[str, tuple[ContractPeriod, ...]], dict[dt.date, tuple[float, float]]] = {}
        self._done: dict[tuple[str, tuple[ContractPeriod, ...]], set[dt.date]] = {}
        self.estimated: dict[str, set[dt.date]] = {}  # days completed from the meter's value, per point

    def clear(self) -> None:
        self._days.clear()
        self._done.clear()
        self.estimated.clear()

    async def split(
        self, store: Store, pdl: str, periods: Sequence[ContractPeriod], first: dt.date, last: dt.date
    ) -> dict[dt.date, tuple[float, float]]:
        """The SQL aggregate splits by the off-peak windows of each day's contract period (one query per
        run of days under the same windows); the week-end rule then puts whole days off-peak."""
        key = (pdl, tuple(periods))
        days = self._days.setdefault(key, {})
        done = self._done.setdefault(key, set())
        wanted = list(timeline.iter_days(first, last))
        runs: list[tuple[tuple[OffpeakRange, ...], list[dt.date]]] = []
        for day in wanted:
            period = tariff_rules.period_in_force(periods, day)
            if day in done or period is None or not tariff_rules.splits_peak_offpeak(period):
                done.add(day)
                continue
            ranges = tariff_rules.offpeak_ranges_on(period, day)
            if runs and runs[-1][0] == ranges and runs[-1][1][-1] == day - dt.timedelta(days=1):
                runs[-1][1].append(day)
            else:
                runs.append((ranges, [day]))
        for ranges, run in runs:
            fresh = await store.offpeak_energy(
                pdl, Direction.CONSUMPTION, tariff_rules.offpeak_windows_seconds(ranges), run[0], run[-1]
            )
            # the meter's daily total wins: days whose curve misses slots are split from completed hours
            estimated = await store.estimated_days(pdl, Direction.CONSUMPTION, run[0], run[-1])
            for day in run:
                done.add(day)
                if day in estimated:
                    completed = await _completed_split(store, pdl, periods, day)
                    if completed is not None:
                        days[day] = completed
                        self.estimated.setdefault(pdl, set()).add(day)
                elif day in fresh:
                    outside, inside = fresh[day]
                    period = tariff_rules.period_in_force(periods, day)
                    if period is not None and tariff_rules.whole_day_offpeak(period, day):
                        outside, inside = 0.0, outside + inside
                    days[day] = (outside, inside)
        return {d: days[d] for d in wanted if d in days}


async def _completed_split(
    store: Store, pdl: str, periods: Sequence[ContractPeriod], day: dt.date
) -> tuple[float, float] | None:
    """Peak / off-peak Wh of a day from its hours completed to the meter's value (app/hourly_energy.py)."""
    readings = await store.completed_intervals(pdl, Direction.CONSUMPTION, *timeline.day_bounds_utc(day))
    slots = [(r.start, r.average_w * r.minutes) for r in readings if r.average_w is not None]
    split = tariff_rules.peak_offpeak_by_day(periods, slots).get(day)
    return None if split is None else (split[0] / 60, split[1] / 60)


async def split_chart(
    store: Store,
    cache: SplitCache,
    pdl: str,
    periods: Sequence[ContractPeriod],
    period: Period,
    lang: str,
) -> Chart:
    """Peak / off-peak energy per bucket, from the load curve classified by the contract period of
    each day (its off-peak hours and week-end rule)."""
    per_day = await cache.split(store, pdl, periods, period.first, period.last)
    peak = _sum_by_bucket(period.view, ((d, v[0]) for d, v in per_day.items()))
    offpeak = _sum_by_bucket(period.view, ((d, v[1]) for d, v in per_day.items()))
    chart = _category_chart(
        period,
        lang,
        "kWh",
        [(text(lang, "hp"), "bars", "--c-hp", peak), (text(lang, "hc"), "bars", "--c-hc", offpeak)],
    )
    total_peak, total_off = sum(peak.values()), sum(offpeak.values())
    chart["total"] = _kwh(total_peak + total_off)
    chart["estimated_days"] = sorted(
        d.isoformat() for d in cache.estimated.get(pdl, ()) if period.first <= d <= period.last
    )
    chart["offpeak_share"] = (
        round(total_off / (total_peak + total_off), 3) if total_peak + total_off else None
    )
    return chart


async def curve_chart(
    store: Store, pdl: str, direction: Direction, first: dt.date, last: dt.date, lang: str
) -> Chart:
    """The load curve (average W per slot) over Paris days [first, last] on a regular UTC grid: `start`,
    `step` and one value per slot (null where the meter sent nothing), the compact form."""
    start = timeline.day_start_utc(first)
    end = timeline.day_start_utc(last + dt.timedelta(days=1))
    epochs, minutes_column, watts_column = await store.interval_columns(pdl, direction, start, end)
    start_epoch = int(start.timestamp())
    step = SLOT_SECONDS
    slots = (int(end.timestamp()) - start_epoch) // step
    values: list[int | None]
    complete = (
        len(epochs) == slots
        and minutes_column.count(step // 60) == slots
        and epochs[0] == start_epoch
        and epochs[-1] == start_epoch + (slots - 1) * step
        and None not in watts_column
    )
    if complete:
        # Complete half-hour grid (the usual case): the values column is the answer as it is.
        values = watts_column
        watt_minutes = sum(map(operator.mul, watts_column, minutes_column))
    else:
        values = [None] * slots
        watt_minutes = 0
        for epoch, minutes, watts in zip(epochs, minutes_column, watts_column, strict=True):
            if watts is None:
                continue
            index = (epoch - start_epoch) // step
            if 0 <= index < slots:
                values[index] = watts
                watt_minutes += watts * minutes
    total_wh = watt_minutes / 60
    if values.count(None) == len(values):
        values = []
    color = "--c-cons" if direction is Direction.CONSUMPTION else "--c-prod"
    return {
        "x": "time",
        "start": start_epoch,
        "step": step,
        "unit": "W",
        "total_unit": "kWh",  # the curve is power; its total over the span is energy
        "series": [{"label": text(lang, "average_power"), "kind": "line", "color": color, "values": values}],
        "total": _kwh(total_wh),
    }


async def compare_years_chart(store: Store, pdl: str, direction: Direction, end: dt.date, lang: str) -> Chart:
    """Monthly energy of the year of `end` against the year before (kWh)."""
    this_year, last_year = end.year, end.year - 1
    rows = await store.daily_energy(pdl, direction, "month", dt.date(last_year, 1, 1), end)
    by_month = {(d.year, d.month): wh for d, wh in rows}
    last_values = [_kwh(by_month.get((last_year, m))) for m in range(1, 13)]
    this_values = [_kwh(by_month.get((this_year, m))) for m in range(1, 13)]
    return {
        "x": "category",
        "labels": list(MONTHS[lang]),
        "unit": "kWh",
        "series": [
            {"label": str(last_year), "kind": "bars", "color": "--c-prev", "values": last_values},
            {"label": str(this_year), "kind": "bars", "color": "--c-cons", "values": this_values},
        ],
        "total": _kwh(sum(wh for (y, _), wh in by_month.items() if y == this_year)),
    }


async def max_power_chart(
    store: Store, pdl: str, period: Period, subscribed_kva: int | None, lang: str
) -> Chart:
    """Highest power reached per bucket (kVA) against the subscribed power."""
    rows = await store.max_power(pdl, period.first, period.last)
    highest: dict[dt.date, float] = {}
    for row in rows:
        key = bucket_of(period.view, row.day)
        highest[key] = max(highest.get(key, 0.0), float(row.va))
    keys = bucket_keys(period)
    series: list[dict[str, Any]] = [
        {
            "label": text(lang, "max_power"),
            "kind": "bars",
            "color": "--c-max",
            "values": [_kwh(highest.get(k)) for k in keys],  # VA / 1000 = kVA
        }
    ]
    if subscribed_kva:
        series.append(
            {
                "label": text(lang, "subscribed_power"),
                "kind": "line",
                "color": "--c-limit",
                "dash": True,
                "align": 0,
                "values": [subscribed_kva for _ in keys],
            }
        )
    return {
        "x": "category",
        "labels": [bucket_label(period.view, k, lang) for k in keys],
        "keys": [k.isoformat() for k in keys],
        "unit": "kVA",
        "series": series,
        "y_min": 0,
        "y_max": (subscribed_kva or 0) * 1.1,
    }


async def ecowatt_chart(store: Store, first: dt.date, last: dt.date, lang: str) -> Chart:
    """EcoWatt hourly signal as one bar series per level (0 low-carbon, 1 green, 2 orange, 3 red) on a
    time axis; the bar height is the level (low-carbon hours drawn at 1, like green ones)."""
    days = await store.ecowatt(first, last)
    t: list[int] = []
    levels: dict[int, list[int | None]] = {0: [], 1: [], 2: [], 3: []}
    for day in days:
        start = timeline.day_start_utc(day.day)
        hours = day.hourly or tuple(day.level for _ in range(24))
        for hour, level in enumerate(hours):
            t.append(int((start + dt.timedelta(hours=hour)).timestamp()))
            for key, values in levels.items():
                values.append(max(level, 1) if level == key else None)
    series = [
        {
            "label": text(lang, f"ecowatt_{key}"),
            "kind": "bars",
            "color": f"--c-eco{key}",
            "align": 0,
            "values": values,
        }
        for key, values in levels.items()
        if key > 0 or any(v is not None for v in values)
    ]
    return {"x": "time", "t": t, "unit": "", "series": series, "y_min": 0, "y_max": 3}


def tempo_remaining(days: Sequence[TempoDay], season_first: dt.date) -> dict[str, int]:
    used = {color: 0 for color in TempoColor}
    for day in days:
        used[day.color] += 1
    return {
        color.value: quota - used[color] for color, quota in tariff_rules.tempo_quotas(season_first).items()
    }


def tempo_calendar(
    days: Sequence[TempoDay], first: dt.date, last: dt.date, lang: str
) -> list[dict[str, Any]]:
    """Months of the season, each with its weeks (Monday first) of day cells (None = padding)."""
    colors = {d.day: d.color.value for d in days}
    months: list[dict[str, Any]] = []
    month = first
    while month <= last:
        following = timeline.add_months(month, 1)
        cells: list[dict[str, Any] | None] = [None] * month.weekday()
        for day in timeline.iter_days(month, following - dt.timedelta(days=1)):
            cells.append({"day": day.day, "date": day.isoformat(), "color": colors.get(day)})
        cells += [None] * (-len(cells) % 7)
        weeks = [cells[i : i + 7] for i in range(0, len(cells), 7)]
        months.append({"label": f"{MONTHS[lang][month.month - 1]} {month.year}", "weeks": weeks})
        month = following
    return months


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (numbers are written as numbers), on one line."""
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text.replace("\r", " ").replace("\n", " ")


def to_csv(chart: Chart) -> str:
    """The chart's table: one row per x value, one column per series."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    unit = chart.get("unit", "")
    header = [
        s["label"] + (f" ({s.get('unit', unit)})" if s.get("unit", unit) else "") for s in chart["series"]
    ]
    if chart["x"] == "category":
        writer.writerow(["period", *map(csv_cell, header)])
        xs: list[str] = chart.get("keys") or chart["labels"]
    else:
        writer.writerow(["time_utc", *map(csv_cell, header)])
        if "t" in chart:
            stamps = chart["t"]
        else:
            count = len(chart["series"][0]["values"]) if chart["series"] else 0
            stamps = [chart["start"] + i * chart["step"] for i in range(count)]
        xs = [dt.datetime.fromtimestamp(s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for s in stamps]
    for i, x in enumerate(xs):
        row: list[Any] = [csv_cell(x)]
        for series in chart["series"]:
            values = series["values"]
            value = values[i] if i < len(values) else None
            row.append("" if value is None else value)
        writer.writerow(row)
    return out.getvalue()

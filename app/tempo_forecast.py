"""The gateway's Tempo forecast (`GET /tempo/forecast`): the coming days with the probability of each
colour, and the season's stock of days. Kept as the gateway's raw JSON in the settings store (one key,
no migration) and parsed tolerantly on read: unknown fields are ignored, a bad day is skipped."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from app.domain import TempoColor

if TYPE_CHECKING:
    from app.store.settings import StoredSettings

log = logging.getLogger(__name__)


class SettingsStore(Protocol):
    @property
    def settings(self) -> StoredSettings: ...


@dataclass(frozen=True, slots=True)
class ForecastDay:
    day: dt.date
    probabilities: Mapping[TempoColor, float]  # 0..1
    most_likely: TempoColor
    confidence: float | None = None

    @property
    def probability(self) -> float:
        """The probability of the most likely colour."""
        return self.probabilities.get(self.most_likely, 0.0)


@dataclass(frozen=True, slots=True)
class TempoForecast:
    season: str
    remaining: Mapping[TempoColor, int] = field(default_factory=dict)
    used: Mapping[TempoColor, int] = field(default_factory=dict)
    days: tuple[ForecastDay, ...] = ()
    fetched_at: dt.datetime | None = None

    def coming(self, today: dt.date) -> list[ForecastDay]:
        return [d for d in self.days if d.day > today]


def _probability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} is not a number: {value!r}")
    number = float(value)
    if number > 1:  # some feeds give percentages
        number /= 100
    if not 0 <= number <= 1:
        raise ValueError(f"{name} is out of range: {value!r}")
    return number


def _day(raw: Mapping[str, Any]) -> ForecastDay:
    day = dt.date.fromisoformat(str(raw["date"])[:10])
    probabilities = {
        colour: _probability(raw[key], key)
        for colour in TempoColor
        if (key := f"probability_{colour.value.lower()}") in raw and raw[key] is not None
    }
    likely = raw.get("most_likely")
    if likely is not None and str(likely).upper() in TempoColor.__members__:
        most_likely = TempoColor(str(likely).upper())
    elif probabilities:
        most_likely = max(probabilities, key=lambda c: probabilities[c])
    else:
        raise ValueError(f"forecast of {day} has neither most_likely nor probabilities")
    confidence = raw.get("confidence")
    return ForecastDay(
        day,
        probabilities,
        most_likely,
        _probability(confidence, "confidence") if isinstance(confidence, int | float) else None,
    )


def parse_tempo_forecast(data: Any, fetched_at: dt.datetime | None = None) -> TempoForecast:
    """The gateway's `data`; raises ValueError naming the field when the shape is not a forecast."""
    if not isinstance(data, Mapping):
        raise ValueError("the Tempo forecast is not an object")
    raw_days = data.get("forecasts")
    if not isinstance(raw_days, list):
        raise ValueError("the Tempo forecast has no 'forecasts' list")
    days: list[ForecastDay] = []
    for index, raw in enumerate(raw_days):
        try:
            if not isinstance(raw, Mapping):
                raise ValueError("not an object")
            days.append(_day(raw))
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("Tempo forecast: day %d skipped: %s", index, exc)
    stats = data.get("season_stats")
    remaining: dict[TempoColor, int] = {}
    used: dict[TempoColor, int] = {}
    if isinstance(stats, Mapping):
        for colour in TempoColor:
            name = colour.value.lower()
            for target, key in ((remaining, f"{name}_remaining"), (used, f"{name}_used")):
                value = stats.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    target[colour] = value
    return TempoForecast(
        str(data.get("season") or ""),
        remaining,
        used,
        tuple(sorted(days, key=lambda d: d.day)),
        fetched_at,
    )


async def save_forecast(store: SettingsStore, data: Any, fetched_at: dt.datetime) -> TempoForecast:
    """Check and keep the gateway's answer (raises ValueError, keeping the previous one, if bad)."""
    forecast = parse_tempo_forecast(data, fetched_at)
    await store.settings.set_tempo_forecast(data, fetched_at)
    return forecast


async def stored_forecast(store: SettingsStore) -> TempoForecast | None:
    saved = await store.settings.tempo_forecast()
    if saved is None:
        return None
    try:
        fetched = dt.datetime.fromisoformat(str(saved.get("fetched_at")))
        return parse_tempo_forecast(saved.get("data"), fetched)
    except ValueError as exc:
        log.warning("stored Tempo forecast ignored: %s", exc)
        return None

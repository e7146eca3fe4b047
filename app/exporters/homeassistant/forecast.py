"""Tempo forecast entities of the "Tempo" device: the most likely colour of each coming day (D+1..D+6)
with its probability, and the season's stock of days left taken from the gateway's count when known."""

from __future__ import annotations

import dataclasses
import datetime as dt

from app.exporters.homeassistant.sensors import TEMPO_OPTIONS, Entity
from app.tempo_forecast import TempoForecast

FORECAST_DAYS = 6


def _percent(value: float) -> float:
    return round(value * 100, 1)


def forecast_entities(forecast: TempoForecast | None, today: dt.date) -> list[Entity]:
    by_day = {d.day: d for d in forecast.days} if forecast is not None else {}
    out: list[Entity] = []
    for offset in range(1, FORECAST_DAYS + 1):
        day = today + dt.timedelta(days=offset)
        found = by_day.get(day)
        out.append(
            Entity(
                "tempo",
                f"forecast_day_{offset}",
                f"Tempo forecast D+{offset}",
                "tempo",
                found.most_likely.value.lower() if found else "unknown",
                None,
                "enum",
                options=TEMPO_OPTIONS,
                icon="mdi:crystal-ball",
                attributes={
                    "date": day.isoformat(),
                    "probability": _percent(found.probability) if found else None,
                    **{
                        f"probability_{c.value.lower()}": _percent(p)
                        for c, p in (found.probabilities.items() if found else ())
                    },
                    "confidence": found.confidence if found else None,
                    "fetched_at": forecast.fetched_at.isoformat()
                    if forecast and forecast.fetched_at
                    else None,
                },
            )
        )
        out.append(
            Entity(
                "tempo",
                f"forecast_day_{offset}_probability",
                f"Tempo forecast D+{offset} probability",
                "tempo",
                _percent(found.probability) if found else None,
                "%",
                None,
                "measurement",
                icon="mdi:percent",
            )
        )
    return out


def with_season_stock(entities: list[Entity], forecast: TempoForecast | None) -> list[Entity]:
    """The "Tempo <colour> days left" entities, set to the gateway's season count when it gives one."""
    if forecast is None or not forecast.remaining:
        return entities
    out = []
    for entity in entities:
        colour = entity.key.removeprefix("remaining_") if entity.device == "tempo" else ""
        left = {c.value.lower(): n for c, n in forecast.remaining.items()}.get(colour)
        if entity.key.startswith("remaining_") and left is not None:
            entity = dataclasses.replace(
                entity, value=left, attributes={"source": "gateway", "season": forecast.season}
            )
        out.append(entity)
    return out

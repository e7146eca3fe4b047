"""Price entities of each "Linky <name>" device: current price (EUR/kWh, the entity the Energy dashboard
accepts as "entity with current price"), off-peak now, next change, next price, and the schedules of
today and tomorrow as `{start, end, value}` lists (the shape Target Timeframes and evcc read).
"""

from __future__ import annotations

import datetime as dt

from app.exporters.homeassistant.sensors import Entity
from app.pricing.live import LivePrice

PRICE_GROUP = "price"
PRICE_UNIT = "EUR/kWh"
BINARY_SENSOR_KEYS = frozenset({"offpeak_now"})  # components removed later must name their platform


def _iso(instant: dt.datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(dt.UTC).isoformat()


def price_entities(prices: dict[str, LivePrice]) -> list[Entity]:
    out: list[Entity] = []
    for pdl, live in prices.items():
        current, following = live.current, live.next
        out += [
            Entity(
                pdl,
                "price_current",
                "Current price",
                PRICE_GROUP,
                None if current is None else float(current.price),
                PRICE_UNIT,
                state_class="measurement",
                icon="mdi:cash-clock",
                attributes={
                    "bucket": current.bucket if current else None,
                    "offer": live.offer.name,
                    "offer_id": live.offer.id,
                    "provider": live.offer.provider,
                    "valid_until": None if live.next_change is None else live.next_change.isoformat(),
                    "today": [s.as_local() for s in live.today],
                    "tomorrow": [s.as_local() for s in live.tomorrow],
                },
            ),
            Entity(
                pdl,
                "offpeak_now",
                "Off-peak now",
                PRICE_GROUP,
                None if live.offpeak is None else ("ON" if live.offpeak else "OFF"),
                icon="mdi:clock-star-four-points",
                platform="binary_sensor",
            ),
            Entity(
                pdl,
                "price_next_change",
                "Next price change",
                PRICE_GROUP,
                _iso(live.next_change),
                None,
                "timestamp",
                icon="mdi:clock-end",
            ),
            Entity(
                pdl,
                "price_next",
                "Next price",
                PRICE_GROUP,
                None if following is None else float(following.price),
                PRICE_UNIT,
                icon="mdi:cash-fast",
                attributes={"bucket": following.bucket if following else None},
            ),
        ]
    return out

"""MQTT device triggers (HA "device automation" triggers) on the Linky, Tempo and EcoWatt devices.

Each trigger has a retained discovery config `<prefix>/device_automation/<node>/<type>/config`; an
event is a non-retained message `<type>` on `<base>/<device>/trigger`, sent once per occurrence (the
last occurrence of each trigger is kept in the store, so a restart does not fire it again).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.exporters.homeassistant.sensors import Device, Entity

LATE_AFTER_DAYS = 2  # "data is late": the newest day is older than J-1 by this many days
PEAK_RATIO = 90.0


@dataclass(frozen=True, slots=True)
class Trigger:
    device: str
    type: str
    subtype: str
    group: str  # the entity group it is computed from: no trigger when the user switched it off


def triggers_of(device: Device) -> list[Trigger]:
    if device.key == "tempo":
        return [
            Trigger("tempo", "tomorrow_red", "tempo", "tempo"),
            Trigger("tempo", "tomorrow_white", "tempo", "tempo"),
        ]
    if device.key == "ecowatt":
        return [
            Trigger("ecowatt", "tomorrow_orange", "ecowatt", "ecowatt"),
            Trigger("ecowatt", "tomorrow_red", "ecowatt", "ecowatt"),
        ]
    return [
        Trigger(device.key, "data_late", "linky", "diagnostics"),
        Trigger(device.key, "peak_90_percent", "linky", "power"),
    ]


def trigger_config(
    trigger: Trigger, base: str, device: dict[str, Any], origin: dict[str, Any]
) -> dict[str, Any]:
    return {
        "automation_type": "trigger",
        "topic": f"{base}/{trigger.device}/trigger",
        "type": trigger.type,
        "subtype": trigger.subtype,
        "payload": trigger.type,
        "qos": 1,
        "device": device,
        "origin": origin,
    }


def occurrences(entities: list[Entity], today: dt.date) -> dict[tuple[str, str], str]:
    """(device, trigger type) -> a marker of the occurrence in force now (a date), from the entities
    about to be published; a trigger fires when its marker is new."""
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    out: dict[tuple[str, str], str] = {}
    for entity in entities:
        where = (entity.device, entity.key)
        if where == ("tempo", "tomorrow") and entity.value in ("red", "white"):
            out[("tempo", f"tomorrow_{entity.value}")] = tomorrow
        elif where == ("ecowatt", "tomorrow") and entity.value in ("orange", "red"):
            out[("ecowatt", f"tomorrow_{entity.value}")] = tomorrow
        elif entity.key == "data_until" and entity.value:
            newest = dt.date.fromisoformat(str(entity.value))
            if newest < today - dt.timedelta(days=1 + LATE_AFTER_DAYS):
                out[(entity.device, "data_late")] = newest.isoformat()
        elif (
            entity.key == "max_power_ratio"
            and isinstance(entity.value, int | float)
            and entity.value >= PEAK_RATIO
        ):
            out[(entity.device, "peak_90_percent")] = yesterday
    return out


def due(current: dict[tuple[str, str], str], fired: dict[str, str]) -> list[tuple[str, str]]:
    """The occurrences not sent yet."""
    return [key for key, marker in sorted(current.items()) if fired.get(f"{key[0]}/{key[1]}") != marker]

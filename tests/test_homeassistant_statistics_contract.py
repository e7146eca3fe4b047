"""The statistics import as current Home Assistant cores enforce it (HA Core 2026.11 on).

Written from Home Assistant's own recorder source (home-assistant/core; release 2026.2.3 as installed
by scripts/test.sh in .ha-venv-2026, and the same text read with the search tool in the stored
home-assistant/core `homeassistant/components/recorder/websocket_api.py`):

- `homeassistant/components/recorder/websocket_api.py`, `ws_import_statistics`: the metadata keys are
  `has_mean` (optional), `mean_type` (a `StatisticMeanType` value), `has_sum`, `name`, `source`,
  `statistic_id`, `unit_class`, `unit_of_measurement`; a call without `mean_type` or `unit_class` "is
  deprecated and will stop working in HA Core 2026.11".
- `homeassistant/components/recorder/models/statistics.py`: `StatisticMetaData` requires `mean_type`
  and `unit_class` ("has_mean is deprecated, use mean_type instead. has_mean will be removed in
  2026.4"); `StatisticMeanType` is NONE = 0, ARITHMETIC = 1, CIRCULAR = 2.
- `homeassistant/components/recorder/statistics.py`, `async_add_external_statistics` and
  `_async_import_statistics`: the id matches `VALID_STATISTIC_ID` (`<domain>:<slug>`), `source` is the
  id's domain, a non-null `unit_class` names a unit converter whose `VALID_UNITS` hold the unit
  (`EnergyConverter.UNIT_CLASS` is "energy", kWh among its units; no converter for EUR, so None), and
  every `start` has a time zone and sits at the top of an hour.

So from 2026.11 the metadata is exactly those keys with `mean_type` and `unit_class`, and no `has_mean`.
The program picks that shape from the core's version (2025.11 on) and refuses to guess when the core
reports no usable version.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import voluptuous as vol
from hypothesis import given
from hypothesis import strategies as st

from app.domain import Direction, PricingOption, UsagePoint
from app.exporters.base import ExporterError
from app.exporters.homeassistant.hourly import TOTAL, HourlyEnergy
from app.exporters.homeassistant.statistics import (
    Resume,
    build_rows,
    core_release,
    metadata,
    statistic_specs,
)
from app.exporters.homeassistant.websocket import version_tuple

# recorder/statistics.py VALID_STATISTIC_ID
VALID_STATISTIC_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_):(?!_)[\da-z_]+(?<!_)$")
STATISTIC_MEAN_TYPES = (0, 1, 2)  # recorder/models/statistics.py StatisticMeanType
ENERGY_UNITS = {"mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "mJ", "J", "kJ", "MJ", "GJ", "cal", "kcal"}
UNIT_CLASS_UNITS = {"energy": ENERGY_UNITS}  # the one converter class our statistics use


def _top_of_an_hour_with_zone(value: Any) -> str:
    start = dt.datetime.fromisoformat(str(value))
    if start.tzinfo is None or start.utcoffset() is None:
        raise vol.Invalid("Naive timestamp: no or invalid timezone info provided")
    if (start.minute, start.second, start.microsecond) != (0, 0, 0):
        raise vol.Invalid("timestamps must be from the top of the hour")
    return str(value)


METADATA_2026_11 = vol.Schema(
    {
        vol.Required("mean_type"): vol.In(STATISTIC_MEAN_TYPES),
        vol.Required("has_sum"): bool,
        vol.Required("name"): vol.Any(str, None),
        vol.Required("source"): str,
        vol.Required("statistic_id"): vol.Match(VALID_STATISTIC_ID),
        vol.Required("unit_class"): vol.Any(vol.In(sorted(UNIT_CLASS_UNITS)), None),
        vol.Required("unit_of_measurement"): vol.Any(str, None),
    }  # no has_mean: extra keys are refused
)
ROW = vol.Schema(
    {
        vol.Required("start"): _top_of_an_hour_with_zone,
        vol.Optional("state"): vol.Any(float, int),
        vol.Optional("sum"): vol.Any(float, int),
    }
)


def check_import_2026_11(meta: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Raise vol.Invalid / AssertionError where a 2026.11 core would refuse this import."""
    METADATA_2026_11(meta)
    assert meta["source"] == meta["statistic_id"].split(":")[0], "source must be the id's domain"
    if meta["unit_class"] is not None:
        assert meta["unit_of_measurement"] in UNIT_CLASS_UNITS[meta["unit_class"]]
    for row in rows:
        ROW(row)


POINT = UsagePoint(
    "09222222222222",
    name="Maison",
    pricing_option=PricingOption.HC_HP,
    has_consumption=True,
    has_production=True,
)


def _sample_rows() -> HourlyEnergy:
    data = HourlyEnergy()
    fall_back = dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC)  # 2026-10-25 00:00 in Paris, a 25-hour day
    hours = [fall_back + dt.timedelta(hours=h) for h in range(25)]
    for bucket in (TOTAL, "hp", "hc"):
        data.energy[bucket] = {hour: 30_000 for hour in hours}
    return data


@pytest.mark.parametrize("version", ["2026.11.0", "2026.11.3", "2027.1.0", "2026.12.0.dev20261120"])
def test_metadata_and_rows_pass_the_2026_11_import_contract(version: str) -> None:
    data = _sample_rows()
    specs = statistic_specs(POINT, ["hp", "hc"], with_costs=True)
    assert {s.unit for s in specs} == {"kWh", "EUR"}
    for spec in specs:
        meta = metadata(spec, version)
        assert "has_mean" not in meta
        assert meta["mean_type"] == 0  # NONE: a sum-only statistic
        assert meta["unit_class"] == (None if spec.cost else "energy")
        check_import_2026_11(meta, build_rows(spec, data, Resume(None, 0.0)))


def test_the_contract_refuses_the_old_shape() -> None:
    """The check itself: the pre-2025.11 metadata (has_mean, no mean_type/unit_class) fails it."""
    spec = statistic_specs(POINT, [], with_costs=False)[0]
    with pytest.raises(vol.Invalid):
        check_import_2026_11(metadata(spec, "2025.4.4"), [])
    with pytest.raises(vol.Invalid):
        check_import_2026_11({**metadata(spec, "2026.11.0"), "has_mean": False}, [])
    with pytest.raises(vol.Invalid):
        ROW({"start": "2026-10-25T02:30:00+02:00", "state": 1.0})


@pytest.mark.parametrize("version", ["", "dev", "unknown", "2026", "x.y.z", "0.118.5", "2026.13.0"])
def test_an_unknown_core_version_is_refused_not_guessed(version: str) -> None:
    spec = statistic_specs(POINT, [], with_costs=False)[0]
    with pytest.raises(ExporterError, match="did not report a usable version") as raised:
        metadata(spec, version)
    assert "mean_type" in str(raised.value)
    with pytest.raises(ExporterError):
        core_release(version)


@given(
    year=st.integers(2000, 2100),
    month=st.integers(1, 12),
    rest=st.sampled_from(["", ".0", ".4", ".0b3", ".1.dev20261120"]),
)
def test_every_release_number_is_read_and_picks_one_shape(year: int, month: int, rest: str) -> None:
    version = f"{year}.{month}{rest}"
    assert version_tuple(version) == (year, month)
    meta = metadata(statistic_specs(POINT, [], with_costs=False)[0], version)
    if (year, month) >= (2025, 11):
        assert "has_mean" not in meta and meta["mean_type"] == 0 and meta["unit_class"] == "energy"
    else:
        assert meta["has_mean"] is False and "mean_type" not in meta and "unit_class" not in meta


def test_production_statistics_follow_the_same_contract() -> None:
    data = HourlyEnergy()
    data.energy[TOTAL] = {dt.datetime(2026, 6, 1, h, tzinfo=dt.UTC): 60_000 for h in range(24)}
    spec = next(s for s in statistic_specs(POINT, [], False) if s.direction is Direction.PRODUCTION)
    check_import_2026_11(metadata(spec, "2026.11.0"), build_rows(spec, data, Resume(None, 0.0)))

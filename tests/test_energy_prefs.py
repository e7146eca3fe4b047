"""The Energy dashboard merge, without Home Assistant: whatever the user's prefs (legacy single grid
source or the newer unified grid sources), adding ours keeps every one of the user's entries, a second
add changes nothing, and removing gives back the prefs exactly as they were."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.exporters.homeassistant.energy import (
    _empty_record,
    add_flows,
    grid_format,
    parse_statistics,
    remove_flows,
    uses_ours,
    wanted_flows,
)

PDLS = ("09111111111111", "09222222222222")
user_ids = st.text("abcdefgh_", min_size=1, max_size=8).map(lambda s: "sensor." + s)
buckets = st.sampled_from(["", "hp", "hc", "tempo_blue_hp", "tempo_red_hc"])


@st.composite
def our_listing(draw: st.DrawFn) -> list[dict[str, Any]]:
    listed = []
    for pdl in PDLS:
        for bucket in draw(st.sets(buckets, max_size=4)):
            sid = f"myelectricaldata:consumption_{pdl}" + (f"_{bucket}" if bucket else "")
            listed.append({"statistic_id": sid, "name": sid})
            if draw(st.booleans()):
                listed.append({"statistic_id": sid + "_cost", "name": sid})
        if draw(st.booleans()):
            listed.append({"statistic_id": f"myelectricaldata:production_{pdl}", "name": "p"})
    listed += [{"statistic_id": "sensor.other", "name": "not ours"}]
    return listed


@st.composite
def user_prefs(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    unified = draw(st.booleans())
    froms = draw(st.lists(user_ids, unique=True, max_size=3))
    with_empty_grid: bool = draw(st.booleans())
    sources: list[dict[str, Any]] = []
    if unified:
        sources += [
            {"type": "grid", "stat_energy_from": f, "stat_energy_to": None, "cost_adjustment_day": 0.0}
            for f in froms
        ]
    elif froms or with_empty_grid:
        flows = [{"stat_energy_from": f, "stat_cost": None, "number_energy_price": 0.2} for f in froms]
        sources.append({"type": "grid", "flow_from": flows, "flow_to": [], "cost_adjustment_day": 1.5})
    if draw(st.booleans()):
        sources.append(
            {"type": "solar", "stat_energy_from": "sensor.panels", "config_entry_solar_forecast": None}
        )
    return {"energy_sources": sources, "device_consumption": [{"stat_consumption": "sensor.fridge"}]}, unified


@given(user_prefs(), our_listing())
def test_add_keeps_the_users_entries_adds_once_and_remove_restores_exactly(
    prefs_and_format: tuple[dict[str, Any], bool], listing: list[dict[str, Any]]
) -> None:
    prefs, unified = prefs_and_format
    flow_from, flow_to = wanted_flows(parse_statistics(listing))
    fmt = grid_format(prefs)
    use_unified = unified if fmt is None else fmt

    added_prefs, record, added = add_flows(prefs, flow_from, flow_to, _empty_record(), unified=use_unified)

    assert sorted(added) == sorted(
        [f["stat_energy_from"] for f in flow_from] + [f["stat_energy_to"] for f in flow_to]
    )
    assert uses_ours(added_prefs) == bool(added)
    for source in prefs["energy_sources"]:  # every user source is still there (legacy grid: its flows)
        if "flow_from" in source:
            grid = next(s for s in added_prefs["energy_sources"] if s.get("type") == "grid")
            assert grid["flow_from"][: len(source["flow_from"])] == source["flow_from"]
            assert grid["cost_adjustment_day"] == source["cost_adjustment_day"]
        else:
            assert source in added_prefs["energy_sources"]
    assert added_prefs["device_consumption"] == prefs["device_consumption"]

    again, record_again, nothing = add_flows(added_prefs, flow_from, flow_to, record, unified=use_unified)
    assert nothing == [] and again == added_prefs and record_again == record

    restored, removed = remove_flows(added_prefs, record)
    assert restored == prefs
    assert sorted(removed) == sorted(added)


def test_buckets_replace_the_total_and_costs_go_with_their_energy() -> None:
    pdl = PDLS[0]
    listing = [
        {"statistic_id": f"myelectricaldata:consumption_{pdl}", "name": "total"},
        {"statistic_id": f"myelectricaldata:consumption_{pdl}_cost", "name": "total cost"},
        {"statistic_id": f"myelectricaldata:consumption_{pdl}_hp", "name": "HP"},
        {"statistic_id": f"myelectricaldata:consumption_{pdl}_hp_cost", "name": "HP cost"},
        {"statistic_id": f"myelectricaldata:consumption_{pdl}_hc", "name": "HC"},
    ]
    flow_from, flow_to = wanted_flows(parse_statistics(listing))
    assert [(f["stat_energy_from"], f["stat_cost"]) for f in flow_from] == [
        (f"myelectricaldata:consumption_{pdl}_hc", None),
        (f"myelectricaldata:consumption_{pdl}_hp", f"myelectricaldata:consumption_{pdl}_hp_cost"),
    ]
    assert flow_to == []

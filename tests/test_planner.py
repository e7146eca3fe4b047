"""The sync planner: fewest requests, nothing that cannot exist yet, never a lost day."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import timeline
from app.domain import Contract, DataKind, DateRange, UsagePoint
from app.sync.planner import (
    POINT_RANGED_KINDS,
    HistoryLimits,
    PlanInputs,
    PlannedRequest,
    RouteLimits,
    chunk,
    history_start,
    last_available_day,
    last_tempo_day,
    minimum_requests,
    missing_days,
    plan,
    route_limit,
    wanted_range,
)
from app.timeline import PARIS, UTC

PDL = "01234567890123"
PDL2 = "98765432109876"
D = dt.date
LIMITS = HistoryLimits()
ROUTES = RouteLimits()
# 2026-11-28 10:00 UTC = 11:00 Paris (winter time)
NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
OLD = D(2016, 11, 28)
CONSUMPTION = (DataKind.DAILY_CONSUMPTION, DataKind.CURVE_CONSUMPTION, DataKind.MAX_POWER)
PRODUCTION = (DataKind.DAILY_PRODUCTION, DataKind.CURVE_PRODUCTION)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def point(pdl: str = PDL, **changes: object) -> UsagePoint:
    values: dict[str, object] = {"activation_date": OLD}
    values.update(changes)
    return UsagePoint(pdl, **values)  # type: ignore[arg-type]


def days_of(ranges: Iterable[DateRange]) -> set[dt.date]:
    return {day for r in ranges for day in r.iter_days()}


def request_days(requests: Iterable[PlannedRequest]) -> set[dt.date]:
    days: set[dt.date] = set()
    for r in requests:
        assert r.first is not None and r.last is not None
        days |= days_of([DateRange(r.first, r.last)])
    return days


def greedy_count(days: set[dt.date], max_days: int) -> int:
    """Fewest windows of max_days covering `days`, computed day by day (independent of `chunk`)."""
    ordered = sorted(days, reverse=True)
    count = i = 0
    while i < len(ordered):
        count += 1
        floor = ordered[i] - dt.timedelta(days=max_days - 1)
        while i < len(ordered) and ordered[i] >= floor:
            i += 1
    return count


def point_requests(requests: Sequence[PlannedRequest], pdl: str) -> list[PlannedRequest]:
    return [r for r in requests if r.usage_point_id == pdl]


def full_state(points: Sequence[UsagePoint], now: dt.datetime) -> PlanInputs:
    """Everything stored up to last_available_day(now), metadata and shared kinds fetched at `now`."""
    coverage: dict[tuple[str, DataKind], list[DateRange]] = {}
    last_fetched: dict[tuple[str, DataKind], dt.datetime] = {}
    for p in points:
        for kind in POINT_RANGED_KINDS:
            wanted = wanted_range(p, None, kind, now, LIMITS)
            if wanted is not None:
                coverage[(p.usage_point_id, kind)] = [wanted]
        last_fetched[(p.usage_point_id, DataKind.CONTRACT)] = now
        last_fetched[(p.usage_point_id, DataKind.ADDRESS)] = now
    coverage[("", DataKind.TEMPO)] = [DateRange(D(2000, 1, 1), last_tempo_day(now))]
    last_fetched[("", DataKind.ECOWATT)] = now
    last_fetched[("", DataKind.OFFERS)] = now
    return PlanInputs(now=now, usage_points=points, coverage=coverage, last_fetched=last_fetched)


# ------------------------------------------------------------------------------- strategies


def _last_sunday(year: int, month: int) -> dt.date:
    day = D(year, month, 31)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


SPECIAL_DAYS = sorted(
    {_last_sunday(y, m) for y in range(2023, 2034) for m in (3, 10)}
    | {
        _last_sunday(y, m) + dt.timedelta(days=k)
        for y in (2025, 2026, 2027)
        for m in (3, 10)
        for k in (-1, 1)
    }
    | {D(y, 2, 29) for y in (2024, 2028, 2032)}
    | {D(y, 3, 1) for y in (2024, 2025, 2028, 2032)}
    | {D(y, 2, 28) for y in (2025, 2027, 2028)}
    | {D(y, 1, 1) for y in (2025, 2027)}
    | {D(y, 12, 31) for y in (2024, 2026)}
    | {D(y, 11, 13 + k) for y in (2026,) for k in range(4)}
)


@st.composite
def instants(draw: st.DrawFn) -> dt.datetime:
    """Aware UTC instants over several years, biased to DST days, leap days and the 08:00 / 11:00 /
    midnight Paris edges."""
    how = draw(st.integers(0, 3))
    if how == 0:
        naive = draw(st.datetimes(min_value=dt.datetime(2023, 1, 1), max_value=dt.datetime(2034, 12, 31)))
        return naive.replace(tzinfo=UTC)
    day = draw(st.sampled_from(SPECIAL_DAYS))
    if how == 1:
        hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(UTC)
    hour = draw(st.sampled_from((0, 8, 11)))
    return timeline.at_paris(day, hour) + dt.timedelta(seconds=draw(st.integers(-90, 90)))


@st.composite
def usage_points(draw: st.DrawFn, pdl: str = PDL) -> UsagePoint:
    has_consumption = draw(st.booleans())
    has_production = draw(st.booleans()) if has_consumption else True
    activation = draw(st.one_of(st.none(), st.dates(D(2010, 1, 1), D(2035, 1, 1))))
    oldest = draw(st.one_of(st.none(), st.dates(D(2010, 1, 1), D(2035, 1, 1))))
    return UsagePoint(
        pdl,
        has_consumption=has_consumption,
        has_production=has_production,
        activation_date=activation,
        oldest_available_data_date=oldest,
    )


@st.composite
def coverages(draw: st.DrawFn, around: DateRange) -> list[DateRange]:
    """Random stored coverage around (and spilling out of) a wanted range."""
    result = []
    for _ in range(draw(st.integers(0, 6))):
        offset = draw(st.integers(-40, around.days + 40))
        length = draw(st.integers(1, 500))
        first = around.first + dt.timedelta(days=offset)
        result.append(DateRange(first, first + dt.timedelta(days=length - 1)))
    return result


# ------------------------------------------------------------------------------------ examples


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (paris(2026, 1, 15, 7, 59), D(2026, 1, 13)),
        (paris(2026, 1, 15, 8, 0), D(2026, 1, 14)),
        (paris(2026, 7, 15, 7, 59), D(2026, 7, 13)),
        (paris(2026, 7, 15, 8, 0), D(2026, 7, 14)),
        (paris(2026, 1, 15, 0, 30), D(2026, 1, 13)),  # 23:30 UTC on the 14th
        (paris(2026, 3, 29, 8, 30), D(2026, 3, 28)),  # spring-forward day: 06:30 UTC
        (paris(2026, 10, 25, 7, 30), D(2026, 10, 23)),  # fall-back day: 06:30 UTC
        (paris(2028, 3, 1, 9), D(2028, 2, 29)),
    ],
)
def test_last_available_day(now: dt.datetime, expected: dt.date) -> None:
    assert last_available_day(now) == expected


def test_last_available_day_uses_paris_time_not_utc() -> None:
    # 07:30 UTC is 08:30 Paris in winter, 09:30 in summer; 06:30 UTC is 07:30 Paris in winter.
    assert last_available_day(dt.datetime(2026, 1, 15, 7, 30, tzinfo=UTC)) == D(2026, 1, 14)
    assert last_available_day(dt.datetime(2026, 1, 15, 6, 30, tzinfo=UTC)) == D(2026, 1, 13)
    assert last_available_day(dt.datetime(2026, 7, 15, 6, 30, tzinfo=UTC)) == D(2026, 7, 14)
    assert last_available_day(dt.datetime(2026, 7, 15, 5, 59, tzinfo=UTC)) == D(2026, 7, 13)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        last_available_day(dt.datetime(2026, 1, 15, 9))
    with pytest.raises(ValueError, match="aware"):
        plan(PlanInputs(now=dt.datetime(2026, 1, 15, 9), usage_points=[point()]))


def test_history_start() -> None:
    assert history_start(D(2026, 11, 28), 36, LIMITS) == D(2023, 11, 14)
    assert history_start(D(2026, 11, 28), 24, LIMITS) == D(2024, 11, 14)
    # month clamping on leap years: 2028-02-29 - 36 months = 2025-02-28
    assert history_start(D(2028, 2, 29), 36, LIMITS) == D(2025, 2, 14)
    assert history_start(D(2027, 2, 28), 36, LIMITS) == D(2024, 2, 14)
    assert history_start(D(2026, 11, 28), 36, HistoryLimits(extra_days=0, margin_days=0)) == D(2023, 11, 28)


def test_minimum_requests_ten_year_old_point_today() -> None:
    p = point()
    # daily consumption: the gateway's today - 3 years, 2023-11-28..2026-11-27 = 1096 days -> 4;
    # max power: 2023-11-14.. = 1110 days -> 4; curve 2024-11-14.. = 744 -> 2
    assert wanted_range(p, None, DataKind.DAILY_CONSUMPTION, NOW, LIMITS) == DateRange(
        D(2023, 11, 28), D(2026, 11, 27)
    )
    assert wanted_range(p, None, DataKind.MAX_POWER, NOW, LIMITS) == DateRange(
        D(2023, 11, 14), D(2026, 11, 27)
    )
    assert wanted_range(p, None, DataKind.CURVE_CONSUMPTION, NOW, LIMITS) == DateRange(
        D(2024, 11, 14), D(2026, 11, 27)
    )
    assert minimum_requests(p, None, NOW) == 12
    requests = plan(PlanInputs(now=NOW, usage_points=[p], include_shared=False))
    assert len(requests) == 12
    assert Counter(r.kind for r in requests) == {
        DataKind.CONTRACT: 1,
        DataKind.ADDRESS: 1,
        DataKind.DAILY_CONSUMPTION: 4,
        DataKind.CURVE_CONSUMPTION: 2,
        DataKind.MAX_POWER: 4,
    }
    assert minimum_requests(point(has_production=True), None, NOW) == 18
    assert minimum_requests(p, None, NOW, disabled=frozenset({DataKind.CURVE_CONSUMPTION})) == 10


def test_first_sync_plans_minimum_now() -> None:
    now = timeline.now_utc()
    p = point()
    requests = plan(PlanInputs(now=now, usage_points=[p]))
    assert len(point_requests(requests, PDL)) == minimum_requests(p, None, now)


def test_first_sync_order_and_windows() -> None:
    requests = plan(PlanInputs(now=NOW, usage_points=[point(has_production=True)]))
    kinds = [r.kind for r in requests]
    order = [
        DataKind.CONTRACT,
        DataKind.ADDRESS,
        DataKind.DAILY_CONSUMPTION,
        DataKind.CURVE_CONSUMPTION,
        DataKind.MAX_POWER,
        DataKind.DAILY_PRODUCTION,
        DataKind.CURVE_PRODUCTION,
        DataKind.TEMPO,
        DataKind.ECOWATT,
        DataKind.OFFERS,
    ]
    assert sorted(set(kinds), key=kinds.index) == order
    assert kinds == sorted(kinds, key=order.index)
    daily = [r for r in requests if r.kind is DataKind.DAILY_CONSUMPTION]
    assert [(r.first, r.last) for r in daily] == [
        (D(2025, 11, 28), D(2026, 11, 27)),
        (D(2024, 11, 28), D(2025, 11, 27)),
        (D(2023, 11, 29), D(2024, 11, 27)),
        (D(2023, 11, 28), D(2023, 11, 28)),
    ]
    production = [r for r in requests if r.kind is DataKind.DAILY_PRODUCTION]
    assert production[-1].first == D(2023, 11, 14)  # production follows Enedis' 36 months + 15 days
    curve = [r for r in requests if r.kind is DataKind.CURVE_PRODUCTION]
    assert [(r.first, r.last) for r in curve] == [
        (D(2024, 11, 29), D(2026, 11, 27)),
        (D(2024, 11, 14), D(2024, 11, 28)),
    ]
    assert all(r.usage_point_id is None for r in requests[-3:])


def test_next_day_plan_is_one_request_per_kind() -> None:
    points = [point(), point(PDL2, has_production=True)]
    state = full_state(points, NOW)
    tomorrow = NOW + dt.timedelta(days=1)
    requests = plan(
        PlanInputs(
            now=tomorrow,
            usage_points=points,
            coverage=state.coverage,
            last_fetched=state.last_fetched,
        )
    )
    assert [(r.kind, r.first, r.last) for r in point_requests(requests, PDL)] == [
        (kind, D(2026, 11, 22), D(2026, 11, 28)) for kind in CONSUMPTION
    ]
    assert len(point_requests(requests, PDL2)) == 5
    # Shared: tomorrow's Tempo colour (re-reading the last covered day) and the day's EcoWatt.
    assert [(r.kind, r.first, r.last) for r in requests if r.usage_point_id is None] == [
        (DataKind.TEMPO, D(2026, 11, 29), D(2026, 11, 30)),
        (DataKind.ECOWATT, None, None),
    ]


def test_correction_window() -> None:
    state = full_state([point()], NOW)
    for days in (1, 3, 30):
        requests = plan(
            PlanInputs(
                now=NOW,
                usage_points=[point()],
                coverage=state.coverage,
                last_fetched=state.last_fetched,
                correction_days=days,
                include_shared=False,
            )
        )
        assert [(r.kind, r.first, r.last) for r in requests] == [
            (kind, D(2026, 11, 27) - dt.timedelta(days=days - 1), D(2026, 11, 27)) for kind in CONSUMPTION
        ]


@pytest.mark.parametrize("days", [0, -1])
def test_correction_days_below_one_is_an_error(days: int) -> None:
    with pytest.raises(ValueError, match="correction_days"):
        plan(PlanInputs(now=NOW, usage_points=[point()], correction_days=days))


def test_correction_window_stays_inside_the_wanted_range() -> None:
    # activated 2026-11-24: wanted from the activation day to the 27th, even with 7 correction days
    p = point(activation_date=D(2026, 11, 24))
    requests = plan(PlanInputs(now=NOW, usage_points=[p], include_shared=False))
    ranged = [r for r in requests if r.kind.is_ranged]
    assert {(r.first, r.last) for r in ranged} == {(D(2026, 11, 24), D(2026, 11, 27))}


def test_nothing_before_0800_for_yesterday() -> None:
    now = paris(2026, 11, 28, 7, 59)
    requests = plan(PlanInputs(now=now, usage_points=[point(has_production=True)]))
    ranged = [r for r in requests if r.kind in POINT_RANGED_KINDS]
    assert max(r.last for r in ranged if r.last is not None) == D(2026, 11, 26)
    later = plan(PlanInputs(now=now + dt.timedelta(minutes=1), usage_points=[point()]))
    assert max(r.last for r in later if r.kind in POINT_RANGED_KINDS and r.last is not None) == D(
        2026, 11, 27
    )


def test_activation_day_is_the_first_wanted_day() -> None:
    for kind in (DataKind.DAILY_CONSUMPTION, DataKind.CURVE_CONSUMPTION, DataKind.MAX_POWER):
        assert wanted_range(point(activation_date=D(2026, 3, 10)), None, kind, NOW, LIMITS) == DateRange(
            D(2026, 3, 10), D(2026, 11, 27)
        )
    # the latest known activation wins, wherever it comes from
    p = point(activation_date=D(2025, 1, 1), oldest_available_data_date=D(2025, 6, 1))
    assert wanted_range(p, None, DataKind.DAILY_CONSUMPTION, NOW, LIMITS) == DateRange(
        D(2025, 6, 1), D(2026, 11, 27)
    )
    contract = Contract(PDL, last_activation_date=D(2026, 2, 1))
    assert wanted_range(p, contract, DataKind.DAILY_CONSUMPTION, NOW, LIMITS) == DateRange(
        D(2026, 2, 1), D(2026, 11, 27)
    )
    # an activation older than the history limit does not move it
    old = point(activation_date=D(2023, 11, 12))
    assert wanted_range(old, None, DataKind.MAX_POWER, NOW, LIMITS) == DateRange(
        D(2023, 11, 14), D(2026, 11, 27)
    )
    assert wanted_range(old, None, DataKind.DAILY_CONSUMPTION, NOW, LIMITS) == DateRange(
        D(2023, 11, 28), D(2026, 11, 27)
    )
    # the contract from the plan inputs is used
    requests = plan(
        PlanInputs(now=NOW, usage_points=[point()], contracts={PDL: contract}, include_shared=False)
    )
    assert min(r.first for r in requests if r.first is not None) == D(2026, 2, 1)
    # activated yesterday: that one day; activated today: nothing to ask yet, metadata only
    assert wanted_range(
        point(activation_date=D(2026, 11, 27)), None, DataKind.DAILY_CONSUMPTION, NOW, LIMITS
    ) == DateRange(D(2026, 11, 27), D(2026, 11, 27))
    fresh = plan(
        PlanInputs(now=NOW, usage_points=[point(activation_date=D(2026, 11, 28))], include_shared=False)
    )
    assert [r.kind for r in fresh] == [DataKind.CONTRACT, DataKind.ADDRESS]


def test_a_bound_the_gateway_named_moves_the_start_of_that_route_only() -> None:
    bound = D(2023, 12, 1)
    requests = plan(
        PlanInputs(
            now=NOW,
            usage_points=[point(), point(PDL2)],
            bounds={(PDL, DataKind.DAILY_CONSUMPTION): bound},
            include_shared=False,
        )
    )

    def oldest(pdl: str, kind: DataKind) -> dt.date:
        return min(r.first for r in requests if r.usage_point_id == pdl and r.kind is kind and r.first)

    assert oldest(PDL, DataKind.DAILY_CONSUMPTION) == bound
    assert oldest(PDL2, DataKind.DAILY_CONSUMPTION) == D(2023, 11, 28)
    assert oldest(PDL, DataKind.MAX_POWER) == D(2023, 11, 14)
    # an older bound than our own computation does not move the start back
    assert wanted_range(point(), None, DataKind.DAILY_CONSUMPTION, NOW, LIMITS, D(2023, 1, 1)) == DateRange(
        D(2023, 11, 28), D(2026, 11, 27)
    )


def test_disabled_kinds_are_skipped() -> None:
    disabled = frozenset(
        {
            (PDL, DataKind.CURVE_CONSUMPTION),
            (PDL, DataKind.ADDRESS),
            ("", DataKind.ECOWATT),
            (PDL2, DataKind.MAX_POWER),  # another point's kind does not matter here
        }
    )
    requests = plan(PlanInputs(now=NOW, usage_points=[point()], disabled=disabled))
    kinds = {r.kind for r in requests}
    assert DataKind.CURVE_CONSUMPTION not in kinds
    assert DataKind.ADDRESS not in kinds
    assert DataKind.ECOWATT not in kinds
    assert {DataKind.CONTRACT, DataKind.DAILY_CONSUMPTION, DataKind.MAX_POWER, DataKind.TEMPO} <= kinds
    assert len(point_requests(requests, PDL)) == minimum_requests(
        point(), None, NOW, disabled=frozenset({DataKind.CURVE_CONSUMPTION, DataKind.ADDRESS})
    )


def test_production_only_where_present() -> None:
    consumer, producer = point(), point(PDL2, has_consumption=False, has_production=True)
    requests = plan(PlanInputs(now=NOW, usage_points=[consumer, producer], include_shared=False))
    assert {r.kind for r in point_requests(requests, PDL)} == {
        DataKind.CONTRACT,
        DataKind.ADDRESS,
        *CONSUMPTION,
    }
    assert {r.kind for r in point_requests(requests, PDL2)} == {
        DataKind.CONTRACT,
        DataKind.ADDRESS,
        *PRODUCTION,
    }
    for kind in PRODUCTION:
        assert wanted_range(consumer, None, kind, NOW, LIMITS) is None
    for kind in CONSUMPTION:
        assert wanted_range(producer, None, kind, NOW, LIMITS) is None
    for kind in (DataKind.TEMPO, DataKind.CONTRACT, DataKind.ECOWATT):
        assert wanted_range(consumer, None, kind, NOW, LIMITS) is None


def test_metadata_refresh() -> None:
    def metadata(age: dt.timedelta) -> list[DataKind]:
        fetched = {(PDL, DataKind.CONTRACT): NOW - age, (PDL, DataKind.ADDRESS): NOW - age}
        requests = plan(PlanInputs(now=NOW, usage_points=[point()], last_fetched=fetched))
        return [r.kind for r in requests if r.kind in (DataKind.CONTRACT, DataKind.ADDRESS)]

    assert metadata(dt.timedelta(days=1)) == []
    assert metadata(dt.timedelta(days=6, hours=23)) == []
    # refreshes: one a day (a daily sync stays within 6 requests per point), the oldest first
    assert metadata(dt.timedelta(days=7)) == [DataKind.CONTRACT]
    assert metadata(dt.timedelta(days=30)) == [DataKind.CONTRACT]
    fetched = {
        (PDL, DataKind.CONTRACT): NOW - dt.timedelta(days=1),
        (PDL, DataKind.ADDRESS): NOW - dt.timedelta(days=8),
    }
    requests = plan(PlanInputs(now=NOW, usage_points=[point()], last_fetched=fetched))
    assert [r.kind for r in requests if r.kind in (DataKind.CONTRACT, DataKind.ADDRESS)] == [DataKind.ADDRESS]
    # never fetched: both at once (the first sync needs the activation date and the address)
    assert [r.kind for r in plan(PlanInputs(now=NOW, usage_points=[point()]))][:2] == [
        DataKind.CONTRACT,
        DataKind.ADDRESS,
    ]


def _tempo(now: dt.datetime, covered_to: dt.date | None) -> list[PlannedRequest]:
    coverage = {} if covered_to is None else {("", DataKind.TEMPO): [DateRange(D(2020, 1, 1), covered_to)]}
    requests = plan(PlanInputs(now=now, usage_points=[point()], coverage=coverage))
    return [r for r in requests if r.kind is DataKind.TEMPO]


def test_tempo_before_and_after_1100() -> None:
    before, after = paris(2026, 11, 28, 10, 59), paris(2026, 11, 28, 11, 0)
    assert last_tempo_day(before) == D(2026, 11, 28)
    assert last_tempo_day(after) == D(2026, 11, 29)
    # first sync: from the daily history start to the last knowable day, one request
    assert _tempo(after, None) == [PlannedRequest(DataKind.TEMPO, None, D(2023, 11, 14), D(2026, 11, 29))]
    assert _tempo(before, None) == [PlannedRequest(DataKind.TEMPO, None, D(2023, 11, 14), D(2026, 11, 28))]
    # today known: nothing to ask before 11:00; after, tomorrow (re-reading today)
    assert _tempo(before, D(2026, 11, 28)) == []
    assert _tempo(after, D(2026, 11, 28)) == [
        PlannedRequest(DataKind.TEMPO, None, D(2026, 11, 28), D(2026, 11, 29))
    ]
    assert _tempo(after, D(2026, 11, 29)) == []
    # a gap of several days, re-reading the last covered one
    assert _tempo(after, D(2026, 11, 20)) == [
        PlannedRequest(DataKind.TEMPO, None, D(2026, 11, 20), D(2026, 11, 29))
    ]
    # summer time: 11:00 Paris is 09:00 UTC
    assert last_tempo_day(dt.datetime(2026, 7, 1, 8, 59, tzinfo=UTC)) == D(2026, 7, 1)
    assert last_tempo_day(dt.datetime(2026, 7, 1, 9, 0, tzinfo=UTC)) == D(2026, 7, 2)


def test_tempo_old_gap_and_no_points() -> None:
    coverage = {
        ("", DataKind.TEMPO): [
            DateRange(D(2020, 1, 1), D(2025, 1, 9)),
            DateRange(D(2025, 1, 20), D(2026, 11, 29)),
        ]
    }
    requests = plan(PlanInputs(now=NOW, usage_points=[point()], coverage=coverage))
    assert [r for r in requests if r.kind is DataKind.TEMPO] == [
        PlannedRequest(DataKind.TEMPO, None, D(2025, 1, 10), D(2025, 1, 19))
    ]
    shared = plan(PlanInputs(now=NOW, usage_points=[]))
    assert [r.kind for r in shared] == [DataKind.ECOWATT, DataKind.OFFERS]
    assert (
        plan(PlanInputs(now=NOW, usage_points=[point()], include_shared=False))[-1].kind is DataKind.MAX_POWER
    )


def test_tempo_starts_at_the_earliest_point() -> None:
    recent = point(PDL2, activation_date=D(2026, 1, 1))
    requests = plan(PlanInputs(now=NOW, usage_points=[recent]))
    assert [(r.first, r.last) for r in requests if r.kind is DataKind.TEMPO] == [
        (D(2026, 1, 1), D(2026, 11, 29))
    ]
    requests = plan(PlanInputs(now=NOW, usage_points=[recent, point()]))
    assert [(r.first, r.last) for r in requests if r.kind is DataKind.TEMPO] == [
        (D(2023, 11, 14), D(2026, 11, 29))
    ]


def test_ecowatt_once_a_paris_day() -> None:
    def ecowatt(now: dt.datetime, fetched: dt.datetime | None) -> bool:
        last = {} if fetched is None else {("", DataKind.ECOWATT): fetched}
        requests = plan(PlanInputs(now=now, usage_points=[], last_fetched=last))
        return DataKind.ECOWATT in {r.kind for r in requests}

    now = paris(2026, 11, 28, 9)
    assert ecowatt(now, None)
    assert not ecowatt(now, paris(2026, 11, 28, 0, 5))  # 23:05 UTC the day before, same Paris day
    assert ecowatt(now, paris(2026, 11, 27, 23, 55))
    assert not ecowatt(paris(2026, 11, 28, 23, 59), paris(2026, 11, 28, 0, 1))
    assert ecowatt(paris(2026, 11, 29, 0, 1), paris(2026, 11, 28, 23, 59))


def test_offers_refresh() -> None:
    def offers(age: dt.timedelta | None) -> bool:
        last = {} if age is None else {("", DataKind.OFFERS): NOW - age}
        return DataKind.OFFERS in {
            r.kind for r in plan(PlanInputs(now=NOW, usage_points=[], last_fetched=last))
        }

    assert offers(None)
    assert not offers(dt.timedelta(days=3))
    assert offers(dt.timedelta(days=7))


def test_duplicate_usage_points_are_planned_once() -> None:
    requests = plan(PlanInputs(now=NOW, usage_points=[point(), point()], include_shared=False))
    assert len(requests) == minimum_requests(point(), None, NOW)


def test_missing_days_examples() -> None:
    wanted = DateRange(D(2026, 1, 1), D(2026, 1, 31))
    covered = [DateRange(D(2025, 12, 1), D(2026, 1, 10)), DateRange(D(2026, 1, 15), D(2026, 1, 31))]
    assert missing_days(wanted, covered, None) == [DateRange(D(2026, 1, 11), D(2026, 1, 14))]
    assert missing_days(wanted, covered, DateRange(D(2026, 1, 25), D(2026, 2, 5))) == [
        DateRange(D(2026, 1, 11), D(2026, 1, 14)),
        DateRange(D(2026, 1, 25), D(2026, 1, 31)),
    ]
    assert missing_days(wanted, covered, DateRange(D(2026, 1, 15), D(2026, 1, 31))) == [
        DateRange(D(2026, 1, 11), D(2026, 1, 31))
    ]
    assert missing_days(wanted, [], None) == [wanted]
    assert missing_days(wanted, [DateRange(D(2020, 1, 1), D(2030, 1, 1))], None) == []
    assert (
        missing_days(
            wanted, [DateRange(D(2020, 1, 1), D(2030, 1, 1))], DateRange(D(2027, 1, 1), D(2027, 1, 7))
        )
        == []
    )


def test_chunk_examples() -> None:
    r = DateRange
    assert chunk([], 365) == []
    assert chunk([r(D(2026, 1, 1), D(2026, 1, 1))], 1) == [r(D(2026, 1, 1), D(2026, 1, 1))]
    # two holes far apart but within one window: one request spanning the covered days between them
    assert chunk([r(D(2025, 3, 1), D(2025, 3, 2)), r(D(2026, 1, 1), D(2026, 1, 3))], 365) == [
        r(D(2025, 3, 1), D(2026, 1, 3))
    ]
    # too far apart: two requests, each trimmed to its missing days
    assert chunk([r(D(2024, 3, 1), D(2024, 3, 2)), r(D(2026, 1, 1), D(2026, 1, 3))], 365) == [
        r(D(2026, 1, 1), D(2026, 1, 3)),
        r(D(2024, 3, 1), D(2024, 3, 2)),
    ]
    assert chunk([r(D(2026, 1, 1), D(2026, 1, 10))], 4) == [
        r(D(2026, 1, 7), D(2026, 1, 10)),
        r(D(2026, 1, 3), D(2026, 1, 6)),
        r(D(2026, 1, 1), D(2026, 1, 2)),
    ]
    with pytest.raises(ValueError, match="max_days"):
        chunk([r(D(2026, 1, 1), D(2026, 1, 10))], 0)


def test_route_limits() -> None:
    assert route_limit(DataKind.DAILY_CONSUMPTION, ROUTES) == 365
    assert route_limit(DataKind.DAILY_PRODUCTION, ROUTES) == 365
    assert route_limit(DataKind.MAX_POWER, ROUTES) == 365
    assert route_limit(DataKind.CURVE_CONSUMPTION, ROUTES) == 729
    assert route_limit(DataKind.CURVE_PRODUCTION, ROUTES) == 729
    with pytest.raises(ValueError, match="tempo"):
        route_limit(DataKind.TEMPO, ROUTES)
    custom = RouteLimits(daily_days=100, max_power_days=50, curve_days=7)
    requests = plan(PlanInputs(now=NOW, usage_points=[point()], routes=custom, include_shared=False))
    assert max(r.days for r in requests if r.kind is DataKind.CURVE_CONSUMPTION) == 7
    assert max(r.days for r in requests if r.kind is DataKind.MAX_POWER) == 50
    assert len(requests) == minimum_requests(point(), None, NOW, routes=custom)


# ------------------------------------------------------------------------------------ properties


@settings(max_examples=150, deadline=None)
@given(now=instants(), activation=st.one_of(st.none(), st.dates(D(2000, 1, 1), D(2035, 12, 31))))
def test_first_sync_of_a_consumption_point_plans_the_minimum(
    now: dt.datetime, activation: dt.date | None
) -> None:
    p = UsagePoint(PDL, activation_date=activation)
    requests = plan(PlanInputs(now=now, usage_points=[p]))
    assert len(point_requests(requests, PDL)) == minimum_requests(p, None, now)
    assert len(plan(PlanInputs(now=now, usage_points=[p], include_shared=False))) == minimum_requests(
        p, None, now
    )


@settings(max_examples=100, deadline=None)
@given(now=instants(), p=usage_points())
def test_first_sync_of_any_point_plans_the_minimum(now: dt.datetime, p: UsagePoint) -> None:
    requests = plan(PlanInputs(now=now, usage_points=[p], include_shared=False))
    assert len(requests) == minimum_requests(p, None, now)


@settings(max_examples=100, deadline=None)
@given(
    now=instants(),
    points=st.tuples(usage_points(PDL), usage_points(PDL2)),
    hours=st.integers(20, 28),
)
def test_next_day_plan_is_small(now: dt.datetime, points: tuple[UsagePoint, UsagePoint], hours: int) -> None:
    state = full_state(points, now)
    later = now + dt.timedelta(hours=hours)
    requests = plan(
        PlanInputs(now=later, usage_points=points, coverage=state.coverage, last_fetched=state.last_fetched)
    )
    for p in points:
        mine = point_requests(requests, p.usage_point_id)
        assert len(mine) <= (6 if p.has_production else 3)
        assert all(r.kind in POINT_RANGED_KINDS for r in mine)
        assert len(mine) == len({r.kind for r in mine})  # one window per kind
    shared = [r for r in requests if r.usage_point_id is None]
    assert len(shared) <= 2  # tempo, ecowatt (offers are a week old at most)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), now=instants(), p=usage_points(), correction_days=st.integers(1, 40))
def test_plan_covers_every_missing_day_and_nothing_outside(
    data: st.DataObject, now: dt.datetime, p: UsagePoint, correction_days: int
) -> None:
    lad = last_available_day(now)
    correction = DateRange(lad - dt.timedelta(days=correction_days - 1), lad)
    coverage: dict[tuple[str, DataKind], list[DateRange]] = {}
    wanted: dict[DataKind, DateRange] = {}
    for kind in POINT_RANGED_KINDS:
        w = wanted_range(p, None, kind, now, LIMITS)
        if w is not None:
            wanted[kind] = w
            coverage[(PDL, kind)] = data.draw(coverages(w))
    disabled = frozenset(
        (PDL, kind) for kind in data.draw(st.sets(st.sampled_from(POINT_RANGED_KINDS), max_size=2))
    )
    requests = plan(
        PlanInputs(
            now=now,
            usage_points=[p],
            coverage=coverage,
            disabled=disabled,
            correction_days=correction_days,
            include_shared=False,
        )
    )
    ranged = [r for r in requests if r.kind in POINT_RANGED_KINDS]
    for r in ranged:
        assert (PDL, r.kind) not in disabled
        assert r.kind in wanted, "a kind that does not apply was planned"
        assert r.first is not None and r.last is not None
        assert wanted[r.kind].first <= r.first <= r.last <= lad
        assert r.days <= route_limit(r.kind, ROUTES)
    for kind, w in wanted.items():
        mine = [r for r in ranged if r.kind is kind]
        if (PDL, kind) in disabled:
            assert not mine
            continue
        expected = (set(w.iter_days()) - days_of(coverage[(PDL, kind)])) | (
            set(w.iter_days()) & set(correction.iter_days())
        )
        assert expected <= request_days(mine)
        assert len(mine) == greedy_count(expected, route_limit(kind, ROUTES))
        lasts = [r.last for r in mine if r.last is not None]
        assert lasts == sorted(lasts, reverse=True)  # newest first
        for r in mine:  # windows start and end on days that are really missing
            assert r.first in expected
            assert r.last in expected


@settings(max_examples=100, deadline=None)
@given(data=st.data(), now=instants(), p=usage_points())
def test_tempo_covers_every_missing_day(data: st.DataObject, now: dt.datetime, p: UsagePoint) -> None:
    today = timeline.paris_today(now)
    start = history_start(today, LIMITS.daily_months, LIMITS)
    if p.earliest_known_data_day is not None:
        start = max(start, p.earliest_known_data_day)
    end = last_tempo_day(now)
    assert end - today in (dt.timedelta(0), dt.timedelta(days=1))
    if start > end:
        assert not [r for r in plan(PlanInputs(now=now, usage_points=[p])) if r.kind is DataKind.TEMPO]
        return
    wanted = DateRange(start, end)
    covered = data.draw(coverages(wanted))
    requests = plan(PlanInputs(now=now, usage_points=[p], coverage={("", DataKind.TEMPO): covered}))
    tempo = [r for r in requests if r.kind is DataKind.TEMPO]
    expected = set(wanted.iter_days()) - days_of(covered)
    assert len(tempo) == (1 if expected else 0)
    if tempo:
        (r,) = tempo
        assert r.first is not None and r.last is not None
        assert start <= r.first <= r.last <= end
        assert expected <= request_days(tempo)


@settings(max_examples=200, deadline=None)
@given(
    ranges=st.lists(
        st.tuples(st.integers(0, 200), st.integers(1, 40)).map(
            lambda t: DateRange(
                D(2026, 1, 1) + dt.timedelta(days=t[0]), D(2026, 1, 1) + dt.timedelta(days=t[0] + t[1] - 1)
            )
        ),
        max_size=8,
    ),
    max_days=st.integers(1, 60),
)
def test_chunk_is_minimal_and_complete(ranges: list[DateRange], max_days: int) -> None:
    windows = chunk(ranges, max_days)
    wanted = days_of(ranges)
    assert days_of(windows) >= wanted
    assert len(windows) == greedy_count(wanted, max_days)
    for window in windows:
        assert window.days <= max_days
        assert window.first in wanted
        assert window.last in wanted
    for newer, older in itertools.pairwise(windows):
        assert older.last < newer.first  # newest first, disjoint


@settings(max_examples=100, deadline=None)
@given(
    wanted=st.tuples(st.integers(0, 300), st.integers(1, 300)).map(
        lambda t: DateRange(
            D(2026, 1, 1) + dt.timedelta(days=t[0]), D(2026, 1, 1) + dt.timedelta(days=t[0] + t[1] - 1)
        )
    ),
    data=st.data(),
)
def test_missing_days_is_set_arithmetic(wanted: DateRange, data: st.DataObject) -> None:
    covered = data.draw(coverages(wanted))
    correction = data.draw(st.one_of(st.none(), coverages(wanted).filter(bool).map(lambda c: c[0])))
    result = missing_days(wanted, covered, correction)
    expected = set(wanted.iter_days()) - days_of(covered)
    if correction is not None:
        expected |= set(wanted.iter_days()) & set(correction.iter_days())
    assert days_of(result) == expected
    assert sum(r.days for r in result) == len(expected)  # disjoint
    for a, b in itertools.pairwise(result):
        assert a.last + dt.timedelta(days=1) < b.first  # sorted and merged


@settings(max_examples=100, deadline=None)
@given(now=instants(), p=usage_points())
def test_wanted_range_bounds(now: dt.datetime, p: UsagePoint) -> None:
    today = timeline.paris_today(now)
    for kind in POINT_RANGED_KINDS:
        w = wanted_range(p, None, kind, now, LIMITS)
        if w is None:
            continue
        months = (
            LIMITS.curve_months if kind in (DataKind.CURVE_CONSUMPTION, DataKind.CURVE_PRODUCTION) else 36
        )
        oldest_served = timeline.add_months(today, -months) - dt.timedelta(days=15)
        if kind is DataKind.DAILY_CONSUMPTION:
            assert w.first >= timeline.add_months(today, -36)  # the gateway's own 3-year bound
        else:
            assert w.first > oldest_served  # at least one day of margin
        if p.earliest_known_data_day is not None:
            assert w.first >= p.earliest_known_data_day  # the activation day has data
        assert w.last == last_available_day(now) < today

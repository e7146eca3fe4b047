"""The sync planner: which gateway requests to send, and no more (pure: no I/O, no clock reads).

Goals, in order: never lose a day, never ask for a day that cannot exist yet (the batch routes hide a
day for 24 hours when asked too early), never ask before what the gateway still serves (a window that
starts one day too early fails as a whole), and send the fewest requests (users have a daily quota).

Rules (see ../shared/gateway-api.md, sections 4, 5, 8, 9 and 10):

- Day D is published around 08:00 Paris on D+1: :func:`last_available_day`.
- History: daily production and max power 36 months + 15 days, load curve 24 months + 15 days, counted
  back from the Paris date of today, plus one day of margin: :func:`history_start`. The gateway's own
  daily consumption route is stricter: today - 3 years exactly. A bound the gateway named
  (``DATE_TOO_OLD`` "Oldest allowed date") overrides the computed one: ``PlanInputs.bounds``. Nothing
  before the meter's activation day (latest of the known activation dates), which has data itself:
  :func:`wanted_range`.
- What is missing is the wanted range minus the stored coverage, plus a correction window of the last
  ``correction_days`` available days, always re-read (Enedis corrects recent days, and the non-batch
  daily route never returns yesterday): :func:`missing_days`.
- The missing days are covered by the minimum number of windows the route accepts (daily and max power
  365 days, load-curve batch 729 days), newest first: :func:`chunk`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from app.domain import Contract, DataKind, DateRange, UsagePoint, merge_date_ranges
from app.timeline import PARIS, add_months, paris_today

__all__ = [
    "POINT_RANGED_KINDS",
    "HistoryLimits",
    "PlanInputs",
    "PlannedRequest",
    "RouteLimits",
    "chunk",
    "history_start",
    "last_available_day",
    "last_tempo_day",
    "latest_activation",
    "minimum_requests",
    "missing_days",
    "plan",
    "route_limit",
    "wanted_range",
]

PUBLICATION_HOUR = 8  # Paris: day D is published from about 08:00 on D+1
TEMPO_PUBLICATION_HOUR = 11  # Paris: tomorrow's Tempo colour is known from about 10:40-11:00
SHARED = ""  # usage point key of shared kinds in coverage / last_fetched / disabled

_ONE_DAY = dt.timedelta(days=1)

# Ranged kinds of one usage point, in the order a plan asks them.
POINT_RANGED_KINDS: tuple[DataKind, ...] = (
    DataKind.DAILY_CONSUMPTION,
    DataKind.CURVE_CONSUMPTION,
    DataKind.MAX_POWER,
    DataKind.DAILY_PRODUCTION,
    DataKind.CURVE_PRODUCTION,
)
_METADATA_KINDS: tuple[DataKind, ...] = (DataKind.CONTRACT, DataKind.ADDRESS)
_CURVE_KINDS = frozenset({DataKind.CURVE_CONSUMPTION, DataKind.CURVE_PRODUCTION})
_CONSUMPTION_KINDS = frozenset({DataKind.DAILY_CONSUMPTION, DataKind.CURVE_CONSUMPTION, DataKind.MAX_POWER})
_PRODUCTION_KINDS = frozenset({DataKind.DAILY_PRODUCTION, DataKind.CURVE_PRODUCTION})


@dataclass(frozen=True)
class HistoryLimits:
    """How far back the gateway serves: ``months`` + ``extra_days`` before today, plus our own margin."""

    daily_months: int = 36  # daily production and max power
    curve_months: int = 24  # load curves
    extra_days: int = 15
    margin_days: int = 1
    # The gateway's daily consumption route: start >= today - N years (Paris date), no extra days.
    daily_consumption_years: int | None = 3

    def months_for(self, kind: DataKind) -> int:
        return self.curve_months if kind in _CURVE_KINDS else self.daily_months

    def oldest_day(self, kind: DataKind, today: dt.date) -> dt.date:
        """The first day the gateway serves for ``kind`` at ``today`` (Paris), as far as we know."""
        if kind is DataKind.DAILY_CONSUMPTION and self.daily_consumption_years is not None:
            return add_months(today, -12 * self.daily_consumption_years)
        return history_start(today, self.months_for(kind), self)


@dataclass(frozen=True)
class RouteLimits:
    """The most days one request of a route may span."""

    daily_days: int = 365
    max_power_days: int = 365
    curve_days: int = 729


@dataclass(frozen=True)
class PlanInputs:
    now: dt.datetime  # aware
    usage_points: Sequence[UsagePoint]
    contracts: Mapping[str, Contract] = field(default_factory=dict)  # by usage_point_id
    # Stored coverage per (usage_point_id, kind); shared kinds (TEMPO) under "".
    coverage: Mapping[tuple[str, DataKind], Sequence[DateRange]] = field(default_factory=dict)
    # Last successful fetch: CONTRACT, ADDRESS per usage point; ECOWATT, OFFERS under "".
    last_fetched: Mapping[tuple[str, DataKind], dt.datetime] = field(default_factory=dict)
    # Kinds not to ask, e.g. (pdl, CURVE_CONSUMPTION) when load-curve collection is off; ("", kind) for
    # shared kinds.
    disabled: AbstractSet[tuple[str, DataKind]] = frozenset()
    # Oldest day the gateway said it allows (DATE_TOO_OLD), per (usage_point_id, kind).
    bounds: Mapping[tuple[str, DataKind], dt.date] = field(default_factory=dict)
    correction_days: int = 7
    history: HistoryLimits = HistoryLimits()
    routes: RouteLimits = RouteLimits()
    metadata_max_age: dt.timedelta = dt.timedelta(days=7)  # contract, address
    offers_max_age: dt.timedelta = dt.timedelta(days=7)
    include_shared: bool = True  # tempo / ecowatt / offers


@dataclass(frozen=True, order=True)
class PlannedRequest:
    kind: DataKind
    usage_point_id: str | None = None  # None for shared kinds
    first: dt.date | None = None  # inclusive Paris days; None for non-ranged kinds
    last: dt.date | None = None

    @property
    def days(self) -> int:
        if self.first is None or self.last is None:
            return 0
        return (self.last - self.first).days + 1


# --------------------------------------------------------------------------------------------- days


def _paris_now(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(PARIS)


def last_available_day(now: dt.datetime) -> dt.date:
    """The newest Paris day the gateway can serve: yesterday from 08:00 Paris, else the day before."""
    local = _paris_now(now)
    back = 1 if local.hour >= PUBLICATION_HOUR else 2
    return local.date() - dt.timedelta(days=back)


def last_tempo_day(now: dt.datetime) -> dt.date:
    """The newest Tempo day whose colour is knowable: tomorrow from 11:00 Paris, else today."""
    local = _paris_now(now)
    return local.date() + (_ONE_DAY if local.hour >= TEMPO_PUBLICATION_HOUR else dt.timedelta(0))


def history_start(today: dt.date, months: int, limits: HistoryLimits) -> dt.date:
    """The first day still served ``months`` months + ``extra_days`` before ``today`` (Paris), plus the
    margin (a window starting one day beyond the limit fails as a whole with DATE_TOO_OLD)."""
    oldest = add_months(today, -months) - dt.timedelta(days=limits.extra_days)
    return oldest + dt.timedelta(days=limits.margin_days)


def latest_activation(point: UsagePoint, contract: Contract | None) -> dt.date | None:
    known = [
        day
        for day in (
            point.activation_date,
            point.oldest_available_data_date,
            contract.last_activation_date if contract is not None else None,
        )
        if day is not None
    ]
    return max(known) if known else None


def _applies(point: UsagePoint, kind: DataKind) -> bool:
    if kind in _CONSUMPTION_KINDS:
        return point.has_consumption
    if kind in _PRODUCTION_KINDS:
        return point.has_production
    return False


def _wanted_start(
    point: UsagePoint,
    contract: Contract | None,
    kind: DataKind,
    today: dt.date,
    limits: HistoryLimits,
    bound: dt.date | None = None,
) -> dt.date:
    start = limits.oldest_day(kind, today)
    if bound is not None:
        start = max(start, bound)
    activation = latest_activation(point, contract)
    if activation is not None:
        start = max(start, activation)  # the activation day has data: start at it, not after it
    return start


def wanted_range(
    point: UsagePoint,
    contract: Contract | None,
    kind: DataKind,
    now: dt.datetime,
    limits: HistoryLimits,
    bound: dt.date | None = None,
) -> DateRange | None:
    """The days of ``kind`` a complete store holds for ``point`` at ``now``.

    Start: the latest of the history start for the kind (:meth:`HistoryLimits.oldest_day`), the
    ``bound`` the gateway named, and the latest known activation day (``/pdl`` activation_date and
    oldest_available_data_date, contract last_activation_date). End: :func:`last_available_day`. None
    when empty or when the kind does not apply to the point (production kinds without production,
    consumption kinds without consumption, non-ranged or shared kinds).
    """
    if kind not in POINT_RANGED_KINDS or not _applies(point, kind):
        return None
    start = _wanted_start(point, contract, kind, paris_today(now), limits, bound)
    end = last_available_day(now)
    if start > end:
        return None
    return DateRange(start, end)


def route_limit(kind: DataKind, routes: RouteLimits) -> int:
    """The most days one request of ``kind`` may span."""
    if kind in _CURVE_KINDS:
        return routes.curve_days
    if kind is DataKind.MAX_POWER:
        return routes.max_power_days
    if kind in (DataKind.DAILY_CONSUMPTION, DataKind.DAILY_PRODUCTION):
        return routes.daily_days
    raise ValueError(f"{kind} is not fetched by usage point and date range")


# ------------------------------------------------------------------------------------ range algebra


def _intersect(a: DateRange, b: DateRange) -> DateRange | None:
    first, last = max(a.first, b.first), min(a.last, b.last)
    return DateRange(first, last) if first <= last else None


def _subtract(wanted: DateRange, covered: Sequence[DateRange]) -> list[DateRange]:
    holes: list[DateRange] = []
    cursor = wanted.first
    for block in merge_date_ranges(covered):
        if block.last < cursor:
            continue
        if block.first > wanted.last:
            break
        if block.first > cursor:
            holes.append(DateRange(cursor, block.first - _ONE_DAY))
        cursor = block.last + _ONE_DAY
        if cursor > wanted.last:
            return holes
    holes.append(DateRange(cursor, wanted.last))
    return holes


def missing_days(
    wanted: DateRange, covered: Sequence[DateRange], correction: DateRange | None
) -> list[DateRange]:
    """The days of ``wanted`` not in ``covered``, plus the days of ``correction`` inside ``wanted``
    (always re-read). Sorted oldest first, disjoint and merged."""
    missing = _subtract(wanted, covered)
    if correction is not None:
        window = _intersect(wanted, correction)
        if window is not None:
            missing.append(window)
    return merge_date_ranges(missing)


def chunk(ranges: Sequence[DateRange], max_days: int) -> list[DateRange]:
    """The fewest windows of at most ``max_days`` days holding every day of ``ranges``, newest first.

    Greedy from the newest missing day backwards (optimal for covering points on a line with fixed-length
    windows). A window may span covered days between missing ones when that saves a request; each window
    starts at its oldest missing day and ends at its newest, so it never reaches outside ``ranges``' span.
    """
    if max_days < 1:
        raise ValueError(f"max_days must be at least 1, not {max_days}")
    pending = merge_date_ranges(ranges)  # oldest first; consumed from the end
    windows: list[DateRange] = []
    span = dt.timedelta(days=max_days - 1)
    while pending:
        last = pending[-1].last
        floor = last - span
        first = last
        while pending and pending[-1].last >= floor:
            block = pending.pop()
            if block.first >= floor:
                first = block.first
            else:
                first = floor
                pending.append(DateRange(block.first, floor - _ONE_DAY))
                break
        windows.append(DateRange(first, last))
    return windows


# ------------------------------------------------------------------------------------------ planning


def _stale(fetched_at: dt.datetime | None, now: dt.datetime, max_age: dt.timedelta) -> bool:
    return fetched_at is None or now - fetched_at >= max_age


def _correction_window(now: dt.datetime, correction_days: int) -> DateRange:
    if correction_days < 1:
        raise ValueError(f"correction_days must be at least 1, not {correction_days}")
    end = last_available_day(now)
    return DateRange(end - dt.timedelta(days=correction_days - 1), end)


def _point_requests(inputs: PlanInputs, point: UsagePoint, correction: DateRange) -> Iterable[PlannedRequest]:
    pdl = point.usage_point_id
    stale = [
        kind
        for kind in _METADATA_KINDS
        if (pdl, kind) not in inputs.disabled
        and _stale(inputs.last_fetched.get((pdl, kind)), inputs.now, inputs.metadata_max_age)
    ]
    if stale and all((pdl, kind) in inputs.last_fetched for kind in stale):
        # refreshes only: one a day, the oldest first, so a daily sync stays within a few requests
        stale = [min(stale, key=lambda kind: inputs.last_fetched[(pdl, kind)])]
    for kind in stale:
        yield PlannedRequest(kind, pdl)
    contract = inputs.contracts.get(pdl)
    for kind in POINT_RANGED_KINDS:
        if (pdl, kind) in inputs.disabled:
            continue
        wanted = wanted_range(
            point, contract, kind, inputs.now, inputs.history, inputs.bounds.get((pdl, kind))
        )
        if wanted is None:
            continue
        missing = missing_days(wanted, inputs.coverage.get((pdl, kind), ()), correction)
        for window in chunk(missing, route_limit(kind, inputs.routes)):
            yield PlannedRequest(kind, pdl, window.first, window.last)


def _tempo_request(inputs: PlanInputs, points: Sequence[UsagePoint]) -> PlannedRequest | None:
    """One request (the Tempo route has no range limit) for the missing Tempo days between the earliest
    daily history start of all usage points and the last knowable colour; when that last day is missing,
    the window also re-reads the newest covered day before it."""
    if not points:
        return None
    today = paris_today(inputs.now)
    start = min(
        _wanted_start(p, inputs.contracts.get(p.usage_point_id), DataKind.MAX_POWER, today, inputs.history)
        for p in points
    )
    end = last_tempo_day(inputs.now)
    if start > end:
        return None
    wanted = DateRange(start, end)
    missing = missing_days(wanted, inputs.coverage.get((SHARED, DataKind.TEMPO), ()), None)
    if not missing:
        return None
    first, last = missing[0].first, missing[-1].last
    if last == end and missing[-1].first > start:
        # missing[-1] starts right after a covered day (ranges are merged): re-read that day too.
        first = min(first, missing[-1].first - _ONE_DAY)
    return PlannedRequest(DataKind.TEMPO, None, first, last)


def _shared_requests(inputs: PlanInputs, points: Sequence[UsagePoint]) -> Iterable[PlannedRequest]:
    if (SHARED, DataKind.TEMPO) not in inputs.disabled:
        tempo = _tempo_request(inputs, points)
        if tempo is not None:
            yield tempo
    if (SHARED, DataKind.ECOWATT) not in inputs.disabled:
        fetched = inputs.last_fetched.get((SHARED, DataKind.ECOWATT))
        if fetched is None or _paris_now(fetched).date() < paris_today(inputs.now):
            yield PlannedRequest(DataKind.ECOWATT)
    if (SHARED, DataKind.OFFERS) not in inputs.disabled and _stale(
        inputs.last_fetched.get((SHARED, DataKind.OFFERS)), inputs.now, inputs.offers_max_age
    ):
        yield PlannedRequest(DataKind.OFFERS)


def plan(inputs: PlanInputs) -> list[PlannedRequest]:
    """The requests of one sync, in the order to send them.

    Per usage point: CONTRACT then ADDRESS when never fetched or at least ``metadata_max_age`` old;
    then DAILY_CONSUMPTION, CURVE_CONSUMPTION, MAX_POWER (when the point has consumption), then
    DAILY_PRODUCTION, CURVE_PRODUCTION (when it has production), each kind's windows newest first;
    ``disabled`` kinds are skipped. Then, when ``include_shared``: TEMPO, ECOWATT (once a Paris day),
    OFFERS (when at least ``offers_max_age`` old). Raises ValueError on ``correction_days`` < 1 or a
    naive ``now``.
    """
    correction = _correction_window(inputs.now, inputs.correction_days)
    points: list[UsagePoint] = []
    seen: set[str] = set()
    for point in inputs.usage_points:
        if point.usage_point_id not in seen:
            seen.add(point.usage_point_id)
            points.append(point)
    requests: list[PlannedRequest] = []
    for point in points:
        requests.extend(_point_requests(inputs, point, correction))
    if inputs.include_shared:
        requests.extend(_shared_requests(inputs, points))
    return requests


def minimum_requests(
    point: UsagePoint,
    contract: Contract | None,
    now: dt.datetime,
    *,
    history: HistoryLimits = HistoryLimits(),
    routes: RouteLimits = RouteLimits(),
    disabled: AbstractSet[DataKind] = frozenset(),
) -> int:
    """The theoretical minimum number of requests of a first sync of ``point`` (shared kinds aside):
    ceil(wanted days / route limit) per ranged kind that applies, plus CONTRACT and ADDRESS. Computed
    without :func:`chunk`, so the benchmark and the tests can hold the planner to it."""
    total = sum(1 for kind in _METADATA_KINDS if kind not in disabled)
    for kind in POINT_RANGED_KINDS:
        if kind in disabled:
            continue
        wanted = wanted_range(point, contract, kind, now, history)
        if wanted is not None:
            limit = route_limit(kind, routes)
            total += -(-wanted.days // limit)
    return total

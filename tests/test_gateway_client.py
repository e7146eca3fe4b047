"""The v2 client and the v1 adapter against the REAL simulator app on a local server."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from pytest_aiohttp import AiohttpServer

from app import timeline
from app.domain import CallRecord, Direction, OffpeakRange, PricingOption, TempoColor
from app.gateway.client import GatewayClient
from app.gateway.errors import (
    AccessDeniedError,
    AccountInactiveError,
    AuthenticationError,
    GatewayError,
    GatewayUnavailableError,
    LoadCurveDisabledError,
    MalformedResponseError,
    NoConsentError,
    NoProductionError,
    NotActivatedError,
    RateLimitError,
    RequestValidationError,
)
from app.gateway.retry import RetryPolicy, TooManyRequestsError
from app.gateway.simulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_V1_TOKENS,
    SIMULATOR_STATE,
    SimulatedUsagePoint,
    SimulatorConfig,
    SimulatorState,
    create_simulator_app,
    default_usage_points,
)
from app.gateway.v1 import LegacyGatewayClient

UTC = dt.UTC
C, P = Direction.CONSUMPTION, Direction.PRODUCTION
NOW = dt.datetime(2024, 11, 20, 12, 0, tzinfo=UTC)  # 13:00 Paris: yesterday published, tomorrow's Tempo known
BASE_PDL, HCHP_PDL, SOLAR_PDL = "09111111111111", "09222222222222", "09333333333333"
NO_CURVE_PDL, NO_CONSENT_PDL, RECENT_PDL = "09444444444444", "09555555555555", "09666666666666"
RECENT_ACTIVATION = dt.date(2024, 11, 1)
FALL = dt.date(2024, 10, 27)
EXTRA_TOKENS = {
    NO_CURVE_PDL: "v1-token-no-curve-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    NO_CONSENT_PDL: "v1-token-no-consent-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    RECENT_PDL: "v1-token-recent-ccccccccccccccccccccccccccccccccccccccc",
}
ALL_V1_TOKENS = {**DEMO_V1_TOKENS, **EXTRA_TOKENS}


def usage_points() -> list[SimulatedUsagePoint]:
    def extra(pdl: str, **changes: Any) -> SimulatedUsagePoint:
        return SimulatedUsagePoint(
            usage_point_id=pdl,
            name=f"extra {pdl}",
            subscribed_power_kva=6,
            pricing_option="BASE",
            offpeak_hours=None,
            profile="base",
            **changes,
        )

    return [
        *default_usage_points(),
        extra(NO_CURVE_PDL, load_curve_enabled=False),
        extra(NO_CONSENT_PDL, consent=False),
        extra(RECENT_PDL, activation_date=RECENT_ACTIVATION),
    ]


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Sim:
    url: str
    state: SimulatorState
    clock: Clock
    calls: list[CallRecord] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def requests(self, route: str | None = None) -> list[Any]:
        return [r for r in self.state.requests if route is None or r.route == route]

    def retry(self, attempts: int = 4, max_delay: float = 0.01) -> RetryPolicy:
        async def sleep(seconds: float) -> None:  # records the wait instead of waiting
            self.sleeps.append(seconds)

        return RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=max_delay, jitter=0.5, sleep=sleep)

    def client(
        self, client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET, **kwargs: Any
    ) -> GatewayClient:
        kwargs.setdefault("retry", self.retry())
        kwargs.setdefault("on_call", self.calls.append)
        kwargs.setdefault("clock", self.clock)
        return GatewayClient(self.url, client_id, client_secret, **kwargs)

    def v1(self, tokens: dict[str, str] | None = None, **kwargs: Any) -> LegacyGatewayClient:
        kwargs.setdefault("retry", self.retry())
        kwargs.setdefault("on_call", self.calls.append)
        kwargs.setdefault("clock", self.clock)
        return LegacyGatewayClient(self.url + "/v1", ALL_V1_TOKENS if tokens is None else tokens, **kwargs)


@pytest.fixture
def sim_factory(aiohttp_server: AiohttpServer) -> Callable[..., Any]:
    async def start(**config: Any) -> Sim:
        clock = Clock()
        config.setdefault("usage_points", usage_points())
        config.setdefault("v1_tokens", dict(ALL_V1_TOKENS))
        app = create_simulator_app(SimulatorConfig(clock=clock, **config))
        server = await aiohttp_server(app)
        return Sim(str(server.make_url("/")).rstrip("/"), app[SIMULATOR_STATE], clock)

    return start


@pytest.fixture
async def sim(sim_factory: Callable[..., Any]) -> Sim:
    result: Sim = await sim_factory()
    return result


@pytest.fixture
async def client(sim: Sim) -> AsyncIterator[GatewayClient]:
    async with sim.client() as gateway:
        yield gateway


def truth_curve(
    sim: Sim, pdl: str, direction: Direction, days: list[dt.date]
) -> list[tuple[dt.datetime, int | None]]:
    rows = [row for day in days for row in sim.state.data.curve_day(pdl, direction, day)]
    instants = timeline.paris_stamps_to_utc([naive for naive, _ in rows])
    return sorted(zip(instants, [value for _, value in rows], strict=True))


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return list(timeline.iter_days(first, last))


# --------------------------------------------------------------------------------------------------
# token


async def test_token_is_fetched_once_and_cached(sim: Sim, client: GatewayClient) -> None:
    await client.usage_points()
    await client.contract(BASE_PDL)
    await asyncio.gather(*(client.address(pdl) for pdl in (BASE_PDL, HCHP_PDL, SOLAR_PDL)))
    assert len(sim.requests("token")) == 1
    assert [c.route for c in sim.calls].count("token") == 1


async def test_concurrent_first_calls_share_one_token(sim: Sim, client: GatewayClient) -> None:
    await asyncio.gather(*(client.contract(pdl) for pdl in (BASE_PDL, HCHP_PDL, SOLAR_PDL)))
    assert len(sim.requests("token")) == 1


async def test_token_renewed_once_on_401(sim: Sim, client: GatewayClient) -> None:
    await client.usage_points()
    sim.state.expire_tokens()
    points = await client.usage_points()
    assert len(points) == 6
    assert [r.route for r in sim.requests()] == ["token", "pdl", "pdl", "token", "pdl"]
    assert [r.status for r in sim.requests("pdl")] == [200, 401, 200]
    assert [(c.route, c.status) for c in sim.calls] == [
        ("token", 200),
        ("usage_points", 200),
        ("usage_points", 401),
        ("token", 200),
        ("usage_points", 200),
    ]


async def test_401_after_renewal_is_an_authentication_error(sim: Sim, client: GatewayClient) -> None:
    await client.usage_points()
    sim.state.token_valid = lambda token: False  # type: ignore[method-assign]
    with pytest.raises(AuthenticationError) as caught:
        await client.usage_points()
    assert DEMO_CLIENT_SECRET not in caught.value.message
    assert [r.route for r in sim.requests()] == ["token", "pdl", "pdl", "token", "pdl"]


async def test_invalid_credentials_fail_at_once_without_retry(sim: Sim) -> None:
    wrong_secret = "W" * 86
    async with sim.client(client_secret=wrong_secret) as bad:
        with pytest.raises(AuthenticationError) as caught:
            await bad.daily(BASE_PDL, C, dt.date(2024, 11, 1), dt.date(2024, 11, 2))
    assert type(caught.value) is AuthenticationError
    assert "client_secret" in caught.value.message  # says what to check...
    assert wrong_secret not in caught.value.message  # ...never the value
    assert DEMO_CLIENT_ID not in caught.value.message
    assert [r.route for r in sim.requests()] == ["token"]
    assert sim.sleeps == []
    assert [(c.route, c.status, c.outcome) for c in sim.calls] == [("token", 401, "invalid_credentials")]


async def test_missing_credentials_never_reach_the_gateway() -> None:
    with pytest.raises(AuthenticationError):
        GatewayClient("http://127.0.0.1:9", "", "secret")


async def test_inactive_account(sim_factory: Callable[..., Any]) -> None:
    sim: Sim = await sim_factory(account_active=False)
    async with sim.client() as gateway:
        with pytest.raises(AccountInactiveError, match="inactive"):
            await gateway.usage_points()
    assert len(sim.requests()) == 1


# --------------------------------------------------------------------------------------------------
# every route returns the simulator's truth


async def test_usage_points(client: GatewayClient) -> None:
    points = {p.usage_point_id: p for p in await client.usage_points()}
    assert set(points) == {BASE_PDL, HCHP_PDL, SOLAR_PDL, NO_CURVE_PDL, NO_CONSENT_PDL, RECENT_PDL}
    night = (OffpeakRange(dt.time(22), dt.time(6)),)
    # the simulator serves offpeak hours as a list for one point and as {"default": ...} for the other
    assert points[HCHP_PDL].offpeak_hours == night
    assert points[SOLAR_PDL].offpeak_hours == night
    assert points[SOLAR_PDL].has_production and not points[BASE_PDL].has_production
    assert points[SOLAR_PDL].pricing_option is PricingOption.TEMPO
    assert points[HCHP_PDL].subscribed_power_kva == 9
    assert points[RECENT_PDL].activation_date == RECENT_ACTIVATION


@pytest.mark.parametrize(("pdl", "direction"), [(HCHP_PDL, C), (SOLAR_PDL, C), (SOLAR_PDL, P)])
async def test_daily_matches_the_truth(
    sim: Sim, client: GatewayClient, pdl: str, direction: Direction
) -> None:
    first, last = dt.date(2024, 9, 1), dt.date(2024, 11, 10)
    fetched = await client.daily(pdl, direction, first, last)
    assert fetched.partial is None
    truth = [(d, sim.state.data.daily_wh(pdl, direction, d)) for d in days_between(first, last)]
    assert [(d.day, d.wh) for d in fetched.items] == truth
    (request,) = sim.requests("daily")
    assert request.params["start"] == "2024-09-01"
    assert request.params["end"] == "2024-11-11"  # inclusive last day -> exclusive end


async def test_daily_route_trap_missing_last_day_is_accepted(sim: Sim, client: GatewayClient) -> None:
    yesterday = dt.date(2024, 11, 19)
    fetched = await client.daily(HCHP_PDL, C, dt.date(2024, 11, 10), yesterday)
    # the gateway caps end at yesterday and keeps it exclusive: yesterday does not come, no error
    assert [d.day for d in fetched.items] == days_between(dt.date(2024, 11, 10), dt.date(2024, 11, 18))
    assert fetched.partial is None


async def test_long_daily_ranges_are_split(sim: Sim, client: GatewayClient) -> None:
    first, last = dt.date(2022, 1, 1), dt.date(2024, 11, 10)
    fetched = await client.daily(BASE_PDL, C, first, last)
    assert len(fetched.items) == (last - first).days + 1
    assert len(sim.requests("daily")) == 3
    assert all(r.outcome == "ok" for r in sim.requests("daily"))


async def test_curve_matches_the_truth_to_the_wh(sim: Sim, client: GatewayClient) -> None:
    first, last = dt.date(2024, 10, 20), dt.date(2024, 11, 2)
    fetched = await client.curve(HCHP_PDL, C, first, last)
    assert fetched.partial is None
    assert [(r.start, r.average_w) for r in fetched.items] == truth_curve(
        sim, HCHP_PDL, C, days_between(first, last)
    )
    per_day: dict[dt.date, float] = {}
    for reading in fetched.items:
        assert reading.minutes == 30
        per_day[timeline.paris_date(reading.start)] = per_day.get(timeline.paris_date(reading.start), 0) + (
            reading.energy_wh or 0
        )
    for day, wh in per_day.items():
        assert int(wh) == sim.state.data.daily_wh(HCHP_PDL, C, day)
    assert sum(1 for r in fetched.items if timeline.paris_date(r.start) == FALL) == 50
    (request,) = sim.requests("detail_batch")
    assert (request.params["start"], request.params["end"]) == ("2024-10-20", "2024-11-02")  # inclusive


async def test_production_curve_and_duplicate_days(sim: Sim, client: GatewayClient) -> None:
    sim.state.force_fault("duplicate_days")
    first, last = dt.date(2024, 10, 25), dt.date(2024, 10, 29)
    fetched = await client.curve(SOLAR_PDL, P, first, last)
    assert [(r.start, r.average_w) for r in fetched.items] == truth_curve(
        sim, SOLAR_PDL, P, days_between(first, last)
    )


async def test_max_power_matches_the_truth(sim: Sim, client: GatewayClient) -> None:
    first, last = dt.date(2024, 10, 1), dt.date(2024, 11, 18)
    fetched = await client.max_power(HCHP_PDL, first, last)
    expected = []
    for day in days_between(first, last):
        va, moment = sim.state.data.max_power(HCHP_PDL, day)
        expected.append((day, va, timeline.paris_stamps_to_utc([moment])[0]))
    assert [(m.day, m.va, m.at) for m in fetched.items] == expected
    (request,) = sim.requests("power")
    assert (request.params["start"], request.params["end"]) == ("2024-10-01", "2024-11-19")  # exclusive end


async def test_contract_and_address(client: GatewayClient) -> None:
    contract = await client.contract(HCHP_PDL)
    assert contract.subscribed_power_kva == 9
    assert contract.offpeak_hours == (OffpeakRange(dt.time(22), dt.time(6)),)
    assert contract.distribution_tariff == "BTINFMUDT"
    assert contract.last_activation_date == dt.date(2015, 3, 12)
    address = await client.address(HCHP_PDL)
    assert address.usage_point_id == HCHP_PDL
    assert address.city and address.postal_code and address.country == "France"


async def test_tempo_bounds_and_colours(sim: Sim, client: GatewayClient) -> None:
    first, last = dt.date(2024, 11, 1), dt.date(2024, 11, 21)
    days = await client.tempo_days(first, last)
    assert [(d.day, d.color) for d in days] == [
        (day, TempoColor(sim.state.data.tempo_color(day))) for day in days_between(first, last)
    ]
    (request,) = sim.requests("tempo")
    assert (request.params["start_date"], request.params["end_date"]) == ("2024-10-31", "2024-11-21")
    sim.clock.now = dt.datetime(2024, 11, 20, 8, 0, tzinfo=UTC)  # 09:00 Paris: tomorrow not known yet
    assert [d.day for d in await client.tempo_days(first, last)][-1] == dt.date(2024, 11, 20)


async def test_ecowatt_offers_and_usage_stats(sim: Sim, client: GatewayClient) -> None:
    days = await client.ecowatt(4)
    assert [d.day for d in days] == days_between(dt.date(2024, 11, 20), dt.date(2024, 11, 23))
    for day in days:
        level, hourly, message = sim.state.data.ecowatt_day(day.day)
        assert (day.level, list(day.hourly), day.message) == (level, hourly, message)
    offers = await client.offers()
    assert len(offers) == len(sim.state.data.offers())
    tempo = [o for o in offers if o.option is PricingOption.TEMPO and o.power_kva == 9]
    assert {o.valid_from for o in tempo} == {dt.date(2025, 2, 1), dt.date(2025, 8, 1), dt.date(2026, 2, 1)}
    stats = await client.usage_stats()
    assert stats is not None
    assert (stats.cached_requests, stats.no_cache_requests) == sim.state.quota_used()
    assert stats.cached_limit == 1000
    with pytest.raises(RequestValidationError):
        await client.ecowatt(9)


async def test_call_records_and_quota_flags(sim: Sim, client: GatewayClient) -> None:
    await client.usage_points()
    await client.daily(BASE_PDL, C, dt.date(2024, 11, 1), dt.date(2024, 11, 2))
    await client.curve(BASE_PDL, C, dt.date(2024, 11, 1), dt.date(2024, 11, 2))
    await client.tempo_days(dt.date(2024, 11, 1), dt.date(2024, 11, 2))
    await client.ecowatt(2)
    await client.offers()
    await client.usage_stats()
    assert [(c.route, c.usage_point_id, c.counts_against_quota) for c in sim.calls] == [
        ("token", None, False),
        ("usage_points", None, False),
        ("daily_consumption", BASE_PDL, True),
        ("curve_consumption", BASE_PDL, True),
        ("tempo", None, False),
        ("ecowatt", None, True),
        ("offers", None, False),
        ("usage_stats", None, False),
    ]
    assert all(c.status == 200 and c.outcome == "ok" and c.at == NOW for c in sim.calls)


async def test_use_cache_true_on_every_request(sim: Sim, client: GatewayClient) -> None:
    await client.usage_points()
    for pdl in (BASE_PDL, SOLAR_PDL):
        await client.daily(pdl, C, dt.date(2024, 11, 1), dt.date(2024, 11, 5))
        await client.curve(pdl, C, dt.date(2024, 11, 1), dt.date(2024, 11, 5))
        await client.max_power(pdl, dt.date(2024, 11, 1), dt.date(2024, 11, 5))
        await client.contract(pdl)
        await client.address(pdl)
    await client.tempo_days(dt.date(2024, 11, 1), dt.date(2024, 11, 5))
    await client.ecowatt()
    await client.offers()
    await client.usage_stats()
    data_requests = [r for r in sim.requests() if r.route != "token"]
    assert len(data_requests) >= 15
    assert all(r.params.get("use_cache") == "true" for r in data_requests), [
        (r.route, r.params) for r in data_requests
    ]
    assert all(r.counted for r in sim.requests() if r.route in ("daily", "detail_batch", "power"))
    assert sim.state.quota_used()[1] == 1  # only EcoWatt used the small bucket


async def test_dates_and_ids_are_validated_before_sending(sim: Sim, client: GatewayClient) -> None:
    bad_calls = [
        client.daily("0911111111111", C, dt.date(2024, 11, 1), dt.date(2024, 11, 2)),
        client.daily(BASE_PDL, C, dt.date(2024, 11, 3), dt.date(2024, 11, 2)),
        client.curve(BASE_PDL, C, dt.datetime(2024, 11, 1, tzinfo=UTC), dt.date(2024, 11, 2)),
        client.max_power(BASE_PDL, "2024-11-01", dt.date(2024, 11, 2)),  # type: ignore[arg-type]
        client.contract("../pdl"),
        client.tempo_days(dt.date(2024, 11, 3), dt.date(2024, 11, 2)),
    ]
    for call in bad_calls:
        with pytest.raises(RequestValidationError):
            await call
    assert sim.requests() == []


# --------------------------------------------------------------------------------------------------
# retries


@pytest.mark.parametrize("fault", ["http_500", "http_502", "malformed_json", "enedis_unavailable"])
async def test_transient_faults_are_retried(sim: Sim, client: GatewayClient, fault: str) -> None:
    sim.state.force_fault(fault)
    fetched = await client.daily(HCHP_PDL, C, dt.date(2024, 11, 1), dt.date(2024, 11, 5))
    assert len(fetched.items) == 5
    outcomes = [r.outcome for r in sim.requests("daily")]
    assert outcomes == [f"fault:{fault}", "ok"]
    assert len(sim.sleeps) == 1 and 0 <= sim.sleeps[0] <= 0.01
    assert next(c.outcome for c in sim.calls if c.route == "daily_consumption") != "ok"


async def test_timeout_is_retried(sim_factory: Callable[..., Any]) -> None:
    sim: Sim = await sim_factory(timeout_delay=3.0)
    sim.state.force_fault("timeout")
    async with sim.client(timeout=0.3) as gateway:
        fetched = await gateway.curve(HCHP_PDL, C, dt.date(2024, 11, 1), dt.date(2024, 11, 2))
    assert len(fetched.items) == 96
    assert [c.outcome for c in sim.calls if c.route == "curve_consumption"] == ["gateway_unreachable", "ok"]


async def test_429_honours_retry_after(sim: Sim) -> None:
    sim.state.force_fault("http_429")
    async with sim.client(retry=sim.retry(max_delay=60.0)) as gateway:
        fetched = await gateway.max_power(HCHP_PDL, dt.date(2024, 11, 1), dt.date(2024, 11, 3))
    assert len(fetched.items) == 3
    assert len(sim.sleeps) == 1 and sim.sleeps[0] >= 1.0  # Retry-After: 1
    assert [r.status for r in sim.requests("power")] == [429, 200]


async def test_persistent_5xx_gives_up_after_the_attempts(sim: Sim, client: GatewayClient) -> None:
    sim.state.force_fault("http_500", "http_500", "http_502", "http_500")
    with pytest.raises(GatewayUnavailableError) as caught:
        await client.contract(BASE_PDL)
    assert caught.value.retryable
    assert len(sim.requests("contract")) == 4
    assert len(sim.sleeps) == 3


async def test_malformed_json_exhausted_is_malformed_response(sim: Sim) -> None:
    sim.state.force_fault("malformed_json", "malformed_json")
    async with sim.client(retry=sim.retry(attempts=2)) as gateway:
        with pytest.raises(MalformedResponseError, match="invalid JSON"):
            await gateway.address(BASE_PDL)


async def test_rate_limit_exceeded_is_not_retried(sim: Sim, client: GatewayClient) -> None:
    sim.state.force_fault("rate_limit_exceeded")
    with pytest.raises(RateLimitError) as caught:
        await client.curve(HCHP_PDL, C, dt.date(2024, 11, 1), dt.date(2024, 11, 2))
    assert caught.value.resets_at == dt.datetime(2024, 11, 21, tzinfo=UTC)
    assert caught.value.stops_run
    assert len(sim.requests("detail_batch")) == 1
    assert sim.sleeps == []


async def test_quota_exhausted(sim_factory: Callable[..., Any]) -> None:
    sim: Sim = await sim_factory(quota_cached=2)
    async with sim.client() as gateway:
        await gateway.contract(BASE_PDL)
        await gateway.address(BASE_PDL)
        with pytest.raises(RateLimitError, match="RATE_LIMIT_EXCEEDED"):
            await gateway.daily(BASE_PDL, C, dt.date(2024, 11, 1), dt.date(2024, 11, 2))
        stats = await gateway.usage_stats()
    assert stats is not None and stats.cached_remaining == 0
    assert sim.calls[-2].outcome == "quota_reached"


async def test_ecowatt_quota_429_does_not_stop_the_run(sim_factory: Callable[..., Any]) -> None:
    sim: Sim = await sim_factory(quota_no_cache=0)
    async with sim.client(retry=sim.retry(attempts=2)) as gateway:
        with pytest.raises(TooManyRequestsError) as caught:
            await gateway.ecowatt()
    assert not caught.value.stops_run and caught.value.retryable
    assert len(sim.requests("ecowatt")) == 2


async def test_retry_policy_backoff_jitter_and_limits() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(
        attempts=5, base_delay=1.0, max_delay=5.0, jitter=0.5, random=lambda: 1.0, sleep=sleep
    )
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1.5, 3.0, 5.0, 5.0]  # +50 %, capped
    low = RetryPolicy(base_delay=1.0, jitter=0.5, random=lambda: 0.0)
    assert [low.delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]  # -50 %
    assert policy.delay(1, TooManyRequestsError("429", retry_after=2)) >= 2.0
    assert policy.delay(1, TooManyRequestsError("429", retry_after=3600)) == 5.0  # capped at max_delay
    assert policy.should_retry(TooManyRequestsError("429", retry_after=3600), 1)
    for error in (
        AuthenticationError("x"),
        RequestValidationError("x"),
        RateLimitError("x"),
        AccessDeniedError("x"),
        ValueError("x"),
    ):
        assert not policy.should_retry(error, 1)
    assert policy.should_retry(GatewayUnavailableError("x"), 4)
    assert not policy.should_retry(GatewayUnavailableError("x"), 5)

    attempts: list[int] = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise GatewayUnavailableError("down")
        return "up"

    assert await policy.run(flaky) == "up"
    assert waits == [1.5, 3.0]

    async def refused() -> str:
        attempts.append(1)
        raise AuthenticationError("no")

    attempts.clear()
    with pytest.raises(AuthenticationError):
        await policy.run(refused)
    assert len(attempts) == 1
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)


async def test_a_failing_listener_does_not_break_the_client(sim: Sim) -> None:
    def listener(record: CallRecord) -> None:
        raise RuntimeError("listener bug")

    async with sim.client(on_call=listener) as gateway:
        assert len(await gateway.usage_points()) == 6


# --------------------------------------------------------------------------------------------------
# typed errors and partial answers


async def test_partial_data_keeps_what_came(sim: Sim, client: GatewayClient) -> None:
    sim.state.force_fault("partial_data")
    first, last = dt.date(2024, 10, 1), dt.date(2024, 10, 31)
    fetched = await client.curve(SOLAR_PDL, C, first, last)
    assert fetched.partial is not None and "Failed to fetch" in fetched.partial
    days = {timeline.paris_date(r.start) for r in fetched.items}
    assert 0 < len(days) < 31
    truth = dict(truth_curve(sim, SOLAR_PDL, C, sorted(days)))
    assert {r.start: r.average_w for r in fetched.items} == truth
    assert sim.calls[-1].outcome == "partial"


async def test_curve_partly_before_activation_is_partial(client: GatewayClient) -> None:
    fetched = await client.curve(RECENT_PDL, C, dt.date(2024, 10, 25), dt.date(2024, 11, 5))
    assert fetched.partial is not None and "ADAM-ERR0123" in fetched.partial
    assert min(timeline.paris_date(r.start) for r in fetched.items) == RECENT_ACTIVATION


async def test_before_activation(client: GatewayClient) -> None:
    with pytest.raises(NotActivatedError) as caught:  # raw Enedis error inside success:true
        await client.max_power(RECENT_PDL, dt.date(2024, 10, 1), dt.date(2024, 10, 20))
    assert caught.value.enedis_code == "ADAM-ERR0123"
    with pytest.raises(NotActivatedError):
        await client.curve(RECENT_PDL, C, dt.date(2024, 10, 1), dt.date(2024, 10, 20))
    assert (await client.daily(RECENT_PDL, C, dt.date(2024, 10, 1), dt.date(2024, 10, 20))).items == []


async def test_typed_enedis_errors(client: GatewayClient) -> None:
    first, last = dt.date(2024, 11, 1), dt.date(2024, 11, 5)
    with pytest.raises(LoadCurveDisabledError) as disabled:
        await client.curve(NO_CURVE_PDL, C, first, last)
    assert disabled.value.usage_point_id == NO_CURVE_PDL
    with pytest.raises(NoConsentError):
        await client.daily(NO_CONSENT_PDL, C, first, last)
    with pytest.raises(NoProductionError):
        await client.daily(BASE_PDL, P, first, last)
    with pytest.raises(AccessDeniedError):
        await client.contract("09999999999999")


async def test_usage_stats_is_none_when_the_route_fails(sim: Sim) -> None:
    async with GatewayClient(
        sim.url + "/nowhere", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, retry=sim.retry()
    ) as gateway:
        assert await gateway.usage_stats() is None
    async with sim.client(client_secret="x" * 86) as bad:
        with pytest.raises(AuthenticationError):
            await bad.usage_stats()


async def test_unreachable_gateway(sim: Sim) -> None:
    async with GatewayClient(
        "http://127.0.0.1:9", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, retry=sim.retry(2)
    ) as gateway:
        with pytest.raises(GatewayUnavailableError, match="cannot reach"):
            await gateway.usage_points()


async def test_session_ownership(sim: Sim) -> None:
    async with aiohttp.ClientSession() as session:
        async with sim.client(session=session) as gateway:
            await gateway.usage_points()
        assert not session.closed  # a session passed in stays open
    gateway = sim.client()
    await gateway.usage_points()
    own = gateway._session
    assert own is not None
    await gateway.close()
    assert own.closed
    await gateway.close()  # idempotent


# --------------------------------------------------------------------------------------------------
# v1 adapter


async def test_v1_usage_points_from_contracts(sim: Sim) -> None:
    async with sim.v1(dict(DEMO_V1_TOKENS)) as gateway:
        points = await gateway.usage_points()
    assert [p.usage_point_id for p in points] == list(DEMO_V1_TOKENS)
    by_id = {p.usage_point_id: p for p in points}
    assert by_id[BASE_PDL].pricing_option is PricingOption.BASE
    assert by_id[HCHP_PDL].pricing_option is PricingOption.HC_HP
    assert by_id[HCHP_PDL].offpeak_hours == (OffpeakRange(dt.time(22), dt.time(6)),)
    assert by_id[HCHP_PDL].subscribed_power_kva == 9
    assert {r.route for r in sim.requests()} == {"v1_contracts"}


async def test_v1_usage_point_without_consent_is_kept(sim: Sim) -> None:
    async with sim.v1(
        {BASE_PDL: DEMO_V1_TOKENS[BASE_PDL], NO_CONSENT_PDL: EXTRA_TOKENS[NO_CONSENT_PDL]}
    ) as gateway:
        points = await gateway.usage_points()
        assert [p.usage_point_id for p in points] == [BASE_PDL, NO_CONSENT_PDL]
        assert points[1].subscribed_power_kva is None
        with pytest.raises(NoConsentError):
            await gateway.contract(NO_CONSENT_PDL)


async def test_v1_curve_fall_back_day_with_end_stamps(sim: Sim) -> None:
    first, last = dt.date(2024, 10, 20), dt.date(2024, 11, 5)
    async with sim.v1() as gateway:
        fetched = await gateway.curve(HCHP_PDL, C, first, last)
    assert [(r.start, r.average_w) for r in fetched.items] == truth_curve(
        sim, HCHP_PDL, C, days_between(first, last)
    )
    assert sum(1 for r in fetched.items if timeline.paris_date(r.start) == FALL) == 50
    requests = sim.requests("v1_consumption_load_curve")
    assert len(requests) == 3  # 17 days in windows of at most 7
    for request in requests:
        span = dt.date.fromisoformat(request.params["end"]) - dt.date.fromisoformat(request.params["start"])
        assert 1 <= span.days <= 7
        assert request.params["cache"] == "true"


async def test_v1_daily_max_power_tempo_and_stats(sim: Sim) -> None:
    first, last = dt.date(2024, 10, 1), dt.date(2024, 11, 19)
    async with sim.v1() as gateway:
        daily = await gateway.daily(SOLAR_PDL, P, first, last)
        power = await gateway.max_power(SOLAR_PDL, first, last)
        tempo = await gateway.tempo_days(dt.date(2024, 11, 1), dt.date(2024, 11, 21))
        stats = await gateway.usage_stats()
        assert await gateway.ecowatt() == []
        assert await gateway.offers() == []
        address = await gateway.address(SOLAR_PDL)
    assert [(d.day, d.wh) for d in daily.items] == [
        (d, sim.state.data.daily_wh(SOLAR_PDL, P, d)) for d in days_between(first, last)
    ]
    assert [(m.day, m.va) for m in power.items] == [
        (d, sim.state.data.max_power(SOLAR_PDL, d)[0]) for d in days_between(first, last)
    ]
    assert [t.day for t in tempo] == days_between(dt.date(2024, 11, 1), dt.date(2024, 11, 21))
    assert stats is not None
    assert stats.cached_limit == 50 * len(ALL_V1_TOKENS)
    assert stats.cached_requests == 2  # the two metering calls, all on one usage point
    assert address.usage_point_id == SOLAR_PDL


async def test_v1_quota_409(sim_factory: Callable[..., Any]) -> None:
    sim: Sim = await sim_factory(v1_quota=1)
    async with sim.v1() as gateway:
        await gateway.contract(BASE_PDL)
        with pytest.raises(RateLimitError) as caught:
            await gateway.contract(BASE_PDL)
    assert caught.value.resets_at == dt.datetime(2024, 11, 21, tzinfo=UTC)
    assert [r.status for r in sim.requests("v1_contracts")] == [200, 409]


async def test_v1_quota_reached_midway_keeps_the_windows_that_came(sim_factory: Callable[..., Any]) -> None:
    sim: Sim = await sim_factory(v1_quota=2)
    async with sim.v1() as gateway:
        fetched = await gateway.curve(BASE_PDL, C, dt.date(2024, 10, 1), dt.date(2024, 10, 31))
    assert fetched.partial is not None and "Quota" in fetched.partial
    assert {timeline.paris_date(r.start) for r in fetched.items} == set(
        days_between(dt.date(2024, 10, 1), dt.date(2024, 10, 14))
    )


async def test_v1_token_errors_name_the_usage_point(sim: Sim) -> None:
    async with sim.v1({BASE_PDL: "not-the-right-token"}) as gateway:
        with pytest.raises(AccessDeniedError) as denied:
            await gateway.usage_points()
        assert BASE_PDL in denied.value.message
        assert "not-the-right-token" not in denied.value.message
        with pytest.raises(AccessDeniedError, match=HCHP_PDL):
            await gateway.contract(HCHP_PDL)  # no token configured: nothing is sent
    assert [r.route for r in sim.requests()] == ["v1_contracts"]


async def test_v1_enedis_errors_and_retries(sim: Sim) -> None:
    first, last = dt.date(2024, 11, 1), dt.date(2024, 11, 5)
    async with sim.v1() as gateway:
        with pytest.raises(NoConsentError):
            await gateway.daily(NO_CONSENT_PDL, C, first, last)
        with pytest.raises(LoadCurveDisabledError):
            await gateway.curve(NO_CURVE_PDL, C, first, last)
        with pytest.raises(NoProductionError):
            await gateway.curve(BASE_PDL, P, dt.date(2024, 10, 1), dt.date(2024, 10, 31))
        with pytest.raises(NotActivatedError):
            await gateway.max_power(RECENT_PDL, dt.date(2024, 10, 1), dt.date(2024, 10, 20))
        sim.state.force_fault("http_500", "http_502")
        fetched = await gateway.daily(HCHP_PDL, C, first, last)
    assert len(fetched.items) == 5
    assert len(sim.requests("v1_production_load_curve")) == 1  # a whole-range refusal stops the windows
    assert [r.status for r in sim.requests("v1_daily_consumption")][-3:] == [500, 502, 200]


# --------------------------------------------------------------------------------------------------
# secrets never reach the logs


async def test_no_secret_in_any_log_record(sim: Sim, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in (
        "aiohttp.access",
        "aiohttp.client",
        "aiohttp.server",
        "aiohttp.internal",
        "aiohttp.web",
        "app",
    ):
        caplog.set_level(logging.DEBUG, logger=name)
    wrong_id, wrong_secret = "cli_" + "Z" * 43, "Y" * 86
    errors: list[GatewayError] = []
    async with sim.client(retry=sim.retry(max_delay=60.0)) as gateway:
        await gateway.usage_points()
        for pdl in (BASE_PDL, HCHP_PDL, SOLAR_PDL):
            await gateway.daily(pdl, C, dt.date(2024, 10, 1), dt.date(2024, 11, 19))
            await gateway.curve(pdl, C, dt.date(2024, 10, 25), dt.date(2024, 10, 30))
            await gateway.max_power(pdl, dt.date(2024, 10, 1), dt.date(2024, 11, 19))
            await gateway.contract(pdl)
        sim.state.expire_tokens()
        sim.state.force_fault("http_500", "malformed_json", "http_429")
        await gateway.address(HCHP_PDL)
        await gateway.tempo_days(dt.date(2024, 11, 1), dt.date(2024, 11, 21))
        await gateway.ecowatt()
        await gateway.offers()
        await gateway.usage_stats()
        for call in (gateway.curve(NO_CURVE_PDL, C, dt.date(2024, 11, 1), dt.date(2024, 11, 2)),):
            try:
                await call
            except GatewayError as exc:
                errors.append(exc)
    async with sim.client(client_id=wrong_id, client_secret=wrong_secret) as bad:
        try:
            await bad.usage_points()
        except GatewayError as exc:
            errors.append(exc)
    async with sim.v1() as legacy:
        await legacy.usage_points()
        await legacy.curve(SOLAR_PDL, C, dt.date(2024, 10, 25), dt.date(2024, 10, 30))
        await legacy.usage_stats()
    async with sim.v1({BASE_PDL: "bad-v1-token-dddddddddddddddddddddddddddddddddd"}) as legacy:
        try:
            await legacy.contract(BASE_PDL)
        except GatewayError as exc:
            errors.append(exc)

    secrets = [
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        wrong_id,
        wrong_secret,
        "bad-v1-token-dddddddddddddddddddddddddddddddddd",
        *ALL_V1_TOKENS.values(),
        *sim.state.issued_tokens,
    ]
    assert len(sim.state.issued_tokens) == 2
    assert len(errors) == 3
    texts = []
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    texts += [repr(call) for call in sim.calls]
    texts += [repr(sim.client()), repr(sim.v1()), repr(sim.retry())]
    texts += [f"{error!r} {error.message}" for error in errors]
    assert len(caplog.records) > 50
    assert any("aiohttp" in record.name for record in caplog.records)
    blob = "\n".join(texts)
    for secret in secrets:
        assert secret not in blob
    assert "Bearer" not in blob

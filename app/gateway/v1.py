"""The legacy MyElectricalData v1 gateway behind the same `Gateway` protocol as the v2 client.

v1 differs (gateway-api.md section 6): one token per usage point sent as `Authorization: <token>`
(no "Bearer"), path routes with `/cache/`, raw Enedis JSON, load-curve stamps at interval END, 7 days
at most per load-curve request (no batch route), HTTP 409 over quota, no EcoWatt nor offers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from app import timeline
from app.domain import (
    Address,
    Contract,
    DailyEnergy,
    DataKind,
    Direction,
    EcoWattDay,
    Fetched,
    IntervalReading,
    MaxPower,
    Offer,
    PricingOption,
    TempoDay,
    UsagePoint,
    UsageStats,
)
from app.gateway import parsing
from app.gateway.base import CallListener
from app.gateway.client import (
    MAX_DAYS_PER_REQUEST,
    HttpGatewayBase,
    check_range,
    check_usage_point_id,
    curve_in_days,
    decode_json,
    detail_text,
    split_range,
)
from app.gateway.errors import (
    AccessDeniedError,
    AuthenticationError,
    GatewayError,
)
from app.gateway.retry import RetryPolicy

__all__ = ["DEFAULT_V1_BASE_URL", "LOAD_CURVE_MAX_DAYS", "LegacyGatewayClient", "pricing_option_from_tariff"]

log = logging.getLogger(__name__)

DEFAULT_V1_BASE_URL = "https://myelectricaldata.fr"
LOAD_CURVE_MAX_DAYS = 7
_ONE_DAY = dt.timedelta(days=1)
_ENDPOINTS = {
    DataKind.DAILY_CONSUMPTION: "daily_consumption",
    DataKind.DAILY_PRODUCTION: "daily_production",
    DataKind.CURVE_CONSUMPTION: "consumption_load_curve",
    DataKind.CURVE_PRODUCTION: "production_load_curve",
    DataKind.MAX_POWER: "daily_consumption_max_power",
}


def pricing_option_from_tariff(distribution_tariff: str | None) -> PricingOption:
    """Enedis distribution tariff -> the closest pricing option: `..ST` (one time slot) -> BASE,
    `..DT` (peak/off-peak) -> HC_HP; the 4-slot tariffs (`..U4`) do not tell the supplier option."""
    if not distribution_tariff:
        return PricingOption.UNKNOWN
    code = distribution_tariff.strip().upper()
    if code.endswith("ST"):
        return PricingOption.BASE
    if code.endswith("DT"):
        return PricingOption.HC_HP
    return PricingOption.UNKNOWN


class LegacyGatewayClient(HttpGatewayBase):
    """The v1 gateway: `tokens` maps each usage point id to its own token."""

    _api = "gateway v1"

    def __init__(
        self,
        base_url: str,
        tokens: Mapping[str, str],
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        on_call: CallListener | None = None,
        clock: Callable[[], dt.datetime] = timeline.now_utc,
    ) -> None:
        super().__init__(
            base_url, session=session, timeout=timeout, retry=retry, on_call=on_call, clock=clock
        )
        self._tokens: dict[str, str] = {}
        for pdl, token in tokens.items():
            check_usage_point_id(pdl)
            if not token:
                raise AuthenticationError(
                    f"no MyElectricalData v1 token configured for usage point {pdl}", usage_point_id=pdl
                )
            self._tokens[pdl] = token
            self._remember_secret(token)

    # ---- one request ----

    def _token_for(self, pdl: str) -> str:
        token = self._tokens.get(pdl)
        if token is None:
            raise AccessDeniedError(
                f"usage point {pdl} has no v1 token in the configuration: add its token", usage_point_id=pdl
            )
        return token

    def _interpreter(self, route: str, pdl: str | None) -> Callable[[int, bytes, CIMultiDictProxy[str]], Any]:
        def interpret(status: int, body: bytes, headers: CIMultiDictProxy[str]) -> Any:
            if status == 200:
                payload = decode_json(body, route)
                parsing.raise_for_enedis_error(payload, usage_point_id=pdl)
                return payload
            # an Enedis refusal keeps its raw shape whatever the status (403 no consent, 404 no data, ...)
            payload = None
            try:
                payload = decode_json(body, route)
            except GatewayError:
                payload = None
            if status < 500 and status not in (401, 409, 429):
                parsing.raise_for_enedis_error(payload, usage_point_id=pdl)
            where = f" for usage point {pdl}" if pdl else ""
            if status == 401:
                raise AuthenticationError(
                    f"{route}: the v1 gateway refused the token{where} (HTTP 401): check the token "
                    "configured for this usage point",
                    usage_point_id=pdl,
                )
            if status == 403:
                reason = self._scrub(detail_text(body))
                raise AccessDeniedError(
                    f"{route}: access denied{where} (HTTP 403): check the token configured for this "
                    f"usage point{': ' + reason if reason else ''}",
                    usage_point_id=pdl,
                )
            raise self._status_error(status, body, headers, route, pdl)

        return interpret

    async def _get(self, route: str, path: str, *, pdl: str | None, counts: bool, what: str = "") -> Any:
        headers = {"Authorization": self._token_for(pdl)} if pdl is not None else {}
        interpret = self._interpreter(route, pdl)

        async def attempt() -> Any:
            return await self._exchange(
                "GET", route, path, interpret, usage_point_id=pdl, counts=counts, headers=headers, what=what
            )

        return await self._retry.run(attempt, what=route)

    async def _metering(self, kind: DataKind, pdl: str, start: dt.date, end: dt.date) -> Any:
        """One metering route over Enedis' [start, end[."""
        endpoint = _ENDPOINTS[kind]
        path = f"/{endpoint}/{pdl}/start/{start.isoformat()}/end/{end.isoformat()}/cache/"
        what = f"start={start.isoformat()} end={end.isoformat()}"
        return await self._get(kind.value, path, pdl=pdl, counts=True, what=what)

    # ---- the Gateway protocol ----

    async def usage_points(self) -> list[UsagePoint]:
        """One `/contracts/{pdl}` per configured usage point.

        A token refused for its usage point (or an unknown usage point) raises AccessDeniedError or
        AuthenticationError naming it: the configuration must be fixed. An Enedis refusal for one point
        (e.g. no consent) keeps that point with what is known (its id), so that the others still sync
        and the refusal is recorded on that point by its own requests. v1 does not say whether a point
        produces: production is assumed possible and the first ADAM-ERR0069 answer disables it."""
        points = []
        for pdl in self._tokens:
            try:
                contract = await self.contract(pdl)
            except (AccessDeniedError, AuthenticationError):
                raise
            except GatewayError as exc:
                if exc.stops_run:
                    raise
                log.warning("v1 contract of usage point %s unavailable: %s (%s)", pdl, exc.message, exc.code)
                points.append(UsagePoint(usage_point_id=pdl, has_production=True))
                continue
            points.append(
                UsagePoint(
                    usage_point_id=pdl,
                    subscribed_power_kva=contract.subscribed_power_kva,
                    pricing_option=pricing_option_from_tariff(contract.distribution_tariff),
                    offpeak_hours=contract.offpeak_hours,
                    has_consumption=True,
                    has_production=True,
                    is_active=True,
                    activation_date=contract.last_activation_date,
                )
            )
        return points

    async def daily(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> Fetched[DailyEnergy]:
        pdl = check_usage_point_id(usage_point_id)
        first, last = check_range(first, last, pdl)
        direction = Direction(direction)
        kind = DataKind.daily(direction)

        async def fetch(start: dt.date, stop: dt.date) -> Fetched[DailyEnergy]:
            payload = await self._metering(kind, pdl, start, stop + _ONE_DAY)
            items = parsing.parse_daily(payload, pdl, direction)
            return Fetched([d for d in items if start <= d.day <= stop])

        return await self._chunked(split_range(first, last, MAX_DAYS_PER_REQUEST), fetch)

    async def curve(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> Fetched[IntervalReading]:
        pdl = check_usage_point_id(usage_point_id)
        first, last = check_range(first, last, pdl)
        direction = Direction(direction)
        kind = DataKind.curve(direction)

        async def fetch(start: dt.date, stop: dt.date) -> Fetched[IntervalReading]:
            payload = await self._metering(kind, pdl, start, stop + _ONE_DAY)
            readings = parsing.parse_curve(payload, pdl, direction, stamps_at_end=True)
            return Fetched(curve_in_days(readings, start, stop))

        fetched = await self._chunked(split_range(first, last, LOAD_CURVE_MAX_DAYS), fetch)
        # windows are disjoint days, but keep the contract of the v2 client: one reading per instant
        latest = {reading.start: reading for reading in fetched.items}
        return Fetched([latest[start] for start in sorted(latest)], fetched.partial)

    async def max_power(self, usage_point_id: str, first: dt.date, last: dt.date) -> Fetched[MaxPower]:
        pdl = check_usage_point_id(usage_point_id)
        first, last = check_range(first, last, pdl)

        async def fetch(start: dt.date, stop: dt.date) -> Fetched[MaxPower]:
            payload = await self._metering(DataKind.MAX_POWER, pdl, start, stop + _ONE_DAY)
            items = parsing.parse_max_power(payload, pdl)
            return Fetched([m for m in items if start <= m.day <= stop])

        return await self._chunked(split_range(first, last, MAX_DAYS_PER_REQUEST), fetch)

    async def contract(self, usage_point_id: str) -> Contract:
        pdl = check_usage_point_id(usage_point_id)
        payload = await self._get(DataKind.CONTRACT.value, f"/contracts/{pdl}/cache/", pdl=pdl, counts=True)
        return parsing.parse_contract(payload, pdl)

    async def address(self, usage_point_id: str) -> Address:
        pdl = check_usage_point_id(usage_point_id)
        payload = await self._get(DataKind.ADDRESS.value, f"/addresses/{pdl}/cache/", pdl=pdl, counts=True)
        return parsing.parse_address(payload, pdl)

    async def tempo_days(self, first: dt.date, last: dt.date) -> list[TempoDay]:
        first, last = check_range(first, last)
        # asked as [first, last + 1[; the answer is filtered, so an inclusive end is harmless too
        path = f"/rte/tempo/{first.isoformat()}/{(last + _ONE_DAY).isoformat()}"
        payload = await self._get(DataKind.TEMPO.value, path, pdl=None, counts=False)
        return [day for day in parsing.parse_tempo(payload) if first <= day.day <= last]

    async def ecowatt(self, days: int = 4) -> list[EcoWattDay]:
        return []

    async def offers(self) -> list[Offer]:
        return []

    async def usage_stats(self) -> UsageStats | None:
        """The sum over the configured usage points of `/valid_access/{pdl}/cache/` (v1 counts per usage
        point); None when any of them cannot tell. Authentication errors propagate."""
        today = self._clock().astimezone(timeline.UTC).date()
        total: UsageStats | None = None
        for pdl in self._tokens:
            try:
                payload = await self._get(
                    DataKind.USAGE_STATS.value, f"/valid_access/{pdl}/cache/", pdl=pdl, counts=False
                )
                stats = parsing.parse_valid_access(payload, today)
            except AuthenticationError:
                raise
            except GatewayError as exc:
                log.debug("v1 usage stats unavailable for %s: %s", pdl, exc.code)
                return None
            if total is None:
                total = stats
            else:
                total = UsageStats(
                    cached_requests=total.cached_requests + stats.cached_requests,
                    no_cache_requests=total.no_cache_requests + stats.no_cache_requests,
                    cached_limit=total.cached_limit + stats.cached_limit,
                    no_cache_limit=total.no_cache_limit + stats.no_cache_limit,
                    date=today,
                )
        return total

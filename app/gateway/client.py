"""Async client for the MyElectricalData v2 gateway (the `Gateway` protocol).

One `aiohttp` session, one cached access token, every request retried by a `RetryPolicy` when the
failure may be transient, reported once per HTTP request to an `on_call` listener (quota accounting),
and logged at DEBUG with the route, the usage point and the dates only: never the client_id, the
client_secret, a token, an Authorization header or a full URL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import aiohttp
from multidict import CIMultiDictProxy

from app import timeline
from app.domain import (
    Address,
    CallRecord,
    Contract,
    DailyEnergy,
    DataKind,
    Direction,
    EcoWattDay,
    Fetched,
    IntervalReading,
    MaxPower,
    Offer,
    TempoDay,
    UsagePoint,
    UsageStats,
)
from app.gateway import parsing
from app.gateway.base import CallListener
from app.gateway.errors import (
    AccessDeniedError,
    AccountInactiveError,
    AuthenticationError,
    DateTooOldError,
    GatewayError,
    GatewayUnavailableError,
    MalformedResponseError,
    NoDataError,
    NotActivatedError,
    RateLimitError,
    RequestValidationError,
)
from app.gateway.retry import RetryPolicy, TooManyRequestsError

__all__ = ["DEFAULT_BASE_URL", "MAX_CURVE_DAYS_PER_REQUEST", "MAX_DAYS_PER_REQUEST", "GatewayClient"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_R = TypeVar("_R")

DEFAULT_BASE_URL = "https://www.v2.myelectricaldata.fr/api"
#: longest ranges asked in one request, per route (the gateway refuses longer ones); the planner plans
#: windows within these, longer ranges are split here (one request per part)
MAX_DAYS_PER_REQUEST = 365  # daily and max power
MAX_CURVE_DAYS_PER_REQUEST = 729  # load-curve batch route
_ONE_DAY = dt.timedelta(days=1)
_OLDEST_YEAR = 1990
_EnvelopeMode = Literal["required", "optional"]

#: chunk errors that concern only that window of dates: the next windows are still asked
_WINDOW_ERRORS = (NotActivatedError, NoDataError, DateTooOldError)


class _TokenRejectedError(AuthenticationError):
    """A data route answered 401: the cached token is renewed once, then AuthenticationError."""


# --------------------------------------------------------------------------------------------------
# shared plumbing (also used by the legacy v1 adapter)


def check_usage_point_id(usage_point_id: str) -> str:
    if not (
        isinstance(usage_point_id, str)
        and len(usage_point_id) == 14
        and usage_point_id.isdigit()
        and usage_point_id.isascii()
    ):
        raise RequestValidationError(
            f"invalid usage point id {usage_point_id!r}: a PDL is 14 digits", usage_point_id=None
        )
    return usage_point_id


def check_day(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise RequestValidationError(f"{name} must be a date, not {type(value).__name__}")
    if not _OLDEST_YEAR <= value.year <= 2999:
        raise RequestValidationError(f"{name} {value.isoformat()} is out of range")
    return value


def check_range(first: object, last: object, usage_point_id: str | None = None) -> tuple[dt.date, dt.date]:
    """Validated inclusive range (malformed dates cost a quota unit on the gateway: never send one)."""
    first_day, last_day = check_day(first, "first day"), check_day(last, "last day")
    if last_day < first_day:
        raise RequestValidationError(
            f"empty date range {first_day.isoformat()}..{last_day.isoformat()}", usage_point_id=usage_point_id
        )
    return first_day, last_day


def split_range(first: dt.date, last: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """[first, last] -> consecutive inclusive windows of at most `days` days."""
    windows = []
    start = first
    while start <= last:
        end = min(last, start + dt.timedelta(days=days - 1))
        windows.append((start, end))
        start = end + _ONE_DAY
    return windows


def decode_json(body: bytes, route: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(
            f"{route}: the gateway answered invalid JSON ({exc.__class__.__name__})"
        ) from None


def detail_text(body: bytes, limit: int = 300) -> str:
    """A short readable reason from an error body: FastAPI `detail`, envelope `error.message`, Enedis
    `error_description`; empty for HTML and other noise."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    text = ""
    if isinstance(payload, Mapping):
        detail = payload.get("detail")
        error = payload.get("error")
        if isinstance(detail, str):
            text = detail
        elif isinstance(detail, list):
            parts = []
            for item in detail:
                if isinstance(item, Mapping):
                    loc = item.get("loc")
                    where = ".".join(str(p) for p in loc) if isinstance(loc, list) else ""
                    parts.append(f"{where}: {item.get('msg', '')}".strip(": "))
            text = "; ".join(parts)
        elif isinstance(error, Mapping):
            text = f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
        elif isinstance(error, str):
            description = payload.get("error_description")
            text = f"{error}: {description}" if isinstance(description, str) else error
    return text[:limit]


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        seconds = float(raw.strip())
    except ValueError:
        return None  # an HTTP date: treat as unknown
    return seconds if seconds >= 0 else None


def merge_partial(messages: Iterable[str | None]) -> str | None:
    texts = [m for m in messages if m]
    return "; ".join(dict.fromkeys(texts)) if texts else None


class HttpGatewayBase:
    """Session ownership, one recorded/logged HTTP exchange, retries, chunked ranges, secret scrubbing."""

    _api = "gateway"

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None,
        timeout: float,
        retry: RetryPolicy | None,
        on_call: CallListener | None,
        clock: Callable[[], dt.datetime],
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError("the gateway URL must start with http:// or https://")
        self._base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retry = retry or RetryPolicy()
        self._on_call = on_call
        self._clock = clock
        self._secrets: set[str] = set()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it (a session passed in stays open)."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns_session:
            self._session = None

    # ---- helpers ----

    def _remember_secret(self, value: str | None) -> None:
        if value:
            self._secrets.add(value)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session and self._session is not None:
                raise GatewayError("the HTTP session given to the gateway client is closed")
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._owns_session = True
        return self._session

    def _record(
        self, route: str, usage_point_id: str | None, status: int | None, outcome: str, counts: bool
    ) -> None:
        if self._on_call is None:
            return
        record = CallRecord(
            route=route,
            usage_point_id=usage_point_id,
            status=status,
            outcome=outcome,
            at=self._clock(),
            counts_against_quota=counts,
        )
        try:
            self._on_call(record)
        except Exception:  # a broken listener must not break the sync
            log.exception("%s call listener failed", self._api)

    async def _exchange(
        self,
        method: str,
        route: str,
        path: str,
        interpret: Callable[[int, bytes, CIMultiDictProxy[str]], _R],
        *,
        usage_point_id: str | None = None,
        counts: bool = False,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        what: str = "",
    ) -> _R:
        """Send ONE HTTP request, interpret its answer, report it to the listener and the log."""
        session = self._get_session()
        status: int | None = None
        outcome = "ok"
        log.debug(
            "%s %s %s%s%s",
            self._api,
            method,
            route,
            f" pdl={usage_point_id}" if usage_point_id else "",
            f" {what}" if what else "",
        )
        try:
            try:
                async with session.request(
                    method,
                    self._base_url + path,
                    params=params,
                    headers=headers,
                    data=form,
                    timeout=self._timeout,
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    body = await response.read()
                    answer_headers = response.headers
            except TimeoutError:
                raise GatewayUnavailableError(
                    f"{route}: the gateway did not answer within {self._timeout.total:g} s",
                    usage_point_id=usage_point_id,
                ) from None
            except aiohttp.ClientError as exc:
                reason = self._scrub(str(exc)) or exc.__class__.__name__
                raise GatewayUnavailableError(
                    f"{route}: cannot reach the gateway ({reason})", usage_point_id=usage_point_id
                ) from None
            result = interpret(status, body, answer_headers)
            if isinstance(result, parsing.Envelope) and result.partial:
                outcome = "partial"
            return result
        except GatewayError as exc:
            outcome = exc.code
            exc.message = self._scrub(exc.message)
            exc.args = (exc.message,)
            raise
        except BaseException:
            outcome = "aborted"
            raise
        finally:
            log.debug("%s %s -> %s (%s)", self._api, route, status if status is not None else "-", outcome)
            self._record(route, usage_point_id, status, outcome, counts)

    def _status_error(
        self, status: int, body: bytes, headers: Mapping[str, str], route: str, usage_point_id: str | None
    ) -> GatewayError:
        """The error of a non-2xx answer that is not an authentication matter."""
        reason = self._scrub(detail_text(body))
        suffix = f": {reason}" if reason else ""
        pdl = usage_point_id
        if status == 409:
            return RateLimitError(
                f"{route}: daily gateway quota reached{suffix}",
                resets_at=timeline.next_utc_midnight(self._clock()),
                usage_point_id=pdl,
            )
        if status in (400, 422):
            return RequestValidationError(
                f"{route}: the gateway refused the request{suffix}", usage_point_id=pdl
            )
        if status == 429:
            return TooManyRequestsError(
                f"{route}: too many requests (HTTP 429){suffix}",
                retry_after=retry_after_seconds(headers),
                usage_point_id=pdl,
            )
        if status == 404:
            return GatewayError(
                f"{route}: not found on the gateway (HTTP 404): check the gateway URL{suffix}",
                usage_point_id=pdl,
            )
        if status >= 500:
            return GatewayUnavailableError(
                f"{route}: gateway error HTTP {status}{suffix}", usage_point_id=pdl
            )
        return GatewayError(f"{route}: unexpected HTTP {status}{suffix}", usage_point_id=pdl)

    async def _chunked(
        self,
        windows: Sequence[tuple[dt.date, dt.date]],
        fetch: Callable[[dt.date, dt.date], Awaitable[Fetched[_T]]],
    ) -> Fetched[_T]:
        """Fetch each window in turn. A window refused for its own dates (before activation, no data,
        too old) does not stop the others; any other error stops there. If nothing came, the first
        error is raised; otherwise what came is returned with a `partial` message."""
        if len(windows) == 1:
            return await fetch(*windows[0])
        items: list[_T] = []
        partials: list[str | None] = []
        errors: list[GatewayError] = []
        succeeded = 0
        for first, last in windows:
            try:
                fetched = await fetch(first, last)
            except _WINDOW_ERRORS as exc:
                errors.append(exc)
                partials.append(f"{first.isoformat()}..{last.isoformat()}: {exc.message}")
                continue
            except GatewayError as exc:
                if not succeeded:
                    raise
                errors.append(exc)
                partials.append(f"stopped at {first.isoformat()}: {exc.message}")
                break
            succeeded += 1
            items.extend(fetched.items)
            partials.append(fetched.partial)
        if not succeeded:
            raise errors[0]
        return Fetched(items, merge_partial(partials))


def _in_days(items: Iterable[_T], key: Callable[[_T], dt.date], first: dt.date, last: dt.date) -> list[_T]:
    return [item for item in items if first <= key(item) <= last]


def curve_in_days(
    readings: Iterable[IntervalReading], first: dt.date, last: dt.date
) -> list[IntervalReading]:
    """Readings whose start falls on a Paris day of [first, last]."""
    low, high = timeline.day_start_utc(first), timeline.day_start_utc(last + _ONE_DAY)
    return [r for r in readings if low <= r.start < high]


# --------------------------------------------------------------------------------------------------
# v2 client


class GatewayClient(HttpGatewayBase):
    """The MyElectricalData v2 gateway (`client_id` + `client_secret`, envelope answers)."""

    _api = "gateway v2"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
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
        if not client_id or not client_secret:
            raise AuthenticationError(
                "the MyElectricalData client_id and client_secret are required: copy them from your "
                "account page on myelectricaldata.fr into the add-on configuration"
            )
        self._client_id = client_id
        self._client_secret = client_secret
        self._remember_secret(client_id)
        self._remember_secret(client_secret)
        self._token: str | None = None
        self._token_lock = asyncio.Lock()

    # ---- token ----

    def _interpret_token(self, status: int, body: bytes, headers: CIMultiDictProxy[str]) -> str:
        if status == 200:
            token = parsing.parse_token(decode_json(body, "token"))
            self._remember_secret(token)
            return token
        if status in (400, 401, 422):
            raise AuthenticationError(
                f"the gateway refused the client credentials (HTTP {status}): check the client_id and "
                "client_secret in the configuration (copy them again from your myelectricaldata.fr account)"
            )
        if status == 403:
            raise AccountInactiveError(
                "the MyElectricalData account is inactive (HTTP 403): check it on myelectricaldata.fr "
                "(consent, account activation)"
            )
        raise self._status_error(status, body, headers, "token", None)

    async def _access_token(self) -> str:
        if self._token is not None:
            return self._token
        async with self._token_lock:
            if self._token is None:
                form = {
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                }
                self._token = await self._exchange(
                    "POST", "token", "/accounts/token", self._interpret_token, form=form
                )
            return self._token

    def _forget_token(self, token: str | None) -> None:
        if token is not None and self._token == token:
            self._token = None

    # ---- one data request ----

    def _interpreter(
        self, route: str, usage_point_id: str | None, envelope: _EnvelopeMode
    ) -> Callable[[int, bytes, CIMultiDictProxy[str]], parsing.Envelope]:
        def interpret(status: int, body: bytes, headers: CIMultiDictProxy[str]) -> parsing.Envelope:
            if status == 401:
                raise _TokenRejectedError(f"{route}: the gateway refused the access token (HTTP 401)")
            if status == 403:
                reason = self._scrub(detail_text(body))
                if "inactive" in reason.lower():
                    raise AccountInactiveError(
                        "the MyElectricalData account is inactive (HTTP 403): check it on myelectricaldata.fr"
                    )
                raise AccessDeniedError(
                    f"{route}: access denied (HTTP 403){': ' + reason if reason else ''}",
                    usage_point_id=usage_point_id,
                )
            if status != 200:
                raise self._status_error(status, body, headers, route, usage_point_id)
            payload = decode_json(body, route)
            now = self._clock()
            if envelope == "required":
                return parsing.unwrap_envelope(payload, now=now, usage_point_id=usage_point_id)
            return parsing.unwrap_optional_envelope(payload, now=now, usage_point_id=usage_point_id)

        return interpret

    async def _get(
        self,
        route: str,
        path: str,
        *,
        usage_point_id: str | None = None,
        params: Mapping[str, str] | None = None,
        counts: bool = False,
        auth: bool = True,
        envelope: _EnvelopeMode = "required",
    ) -> parsing.Envelope:
        query = {**(params or {}), "use_cache": "true"}
        what = " ".join(f"{k}={v}" for k, v in query.items() if k != "use_cache")
        interpret = self._interpreter(route, usage_point_id, envelope)

        async def attempt() -> parsing.Envelope:
            renewed = False
            while True:
                headers: dict[str, str] = {}
                token = None
                if auth:
                    token = await self._access_token()
                    headers["Authorization"] = f"Bearer {token}"
                try:
                    return await self._exchange(
                        "GET",
                        route,
                        path,
                        interpret,
                        usage_point_id=usage_point_id,
                        counts=counts,
                        params=query,
                        headers=headers,
                        what=what,
                    )
                except _TokenRejectedError:
                    self._forget_token(token)
                    if renewed or not auth:
                        raise AuthenticationError(
                            "the gateway keeps refusing the access token (HTTP 401): check the client_id "
                            "and client_secret in the configuration",
                            usage_point_id=usage_point_id,
                        ) from None
                    renewed = True

        return await self._retry.run(attempt, what=route)

    # ---- the Gateway protocol ----

    async def usage_points(self) -> list[UsagePoint]:
        envelope = await self._get(DataKind.USAGE_POINTS.value, "/pdl")
        return parsing.parse_usage_points(envelope.data)

    async def daily(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> Fetched[DailyEnergy]:
        pdl = check_usage_point_id(usage_point_id)
        first, last = check_range(first, last, pdl)
        direction = Direction(direction)
        route = DataKind.daily(direction).value

        async def fetch(start: dt.date, stop: dt.date) -> Fetched[DailyEnergy]:
            # the route caps `end` at yesterday and treats it as exclusive: ask one day more
            params = {"start": start.isoformat(), "end": (stop + _ONE_DAY).isoformat()}
            envelope = await self._get(
                route,
                f"/enedis/{direction.value}/daily/{pdl}",
                usage_point_id=pdl,
                params=params,
                counts=True,
            )
            items = parsing.parse_daily(envelope.data, pdl, direction)
            return Fetched(_in_days(items, lambda d: d.day, start, stop), envelope.partial)

        return await self._chunked(split_range(first, last, MAX_DAYS_PER_REQUEST), fetch)

    async def curve(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> Fetched[IntervalReading]:
        pdl = check_usage_point_id(usage_point_id)
        first, last = check_range(first, last, pdl)
        direction = Direction(direction)
        route = DataKind.curve(direction).value

        async def fetch(start: dt.date, stop: dt.date) -> Fetched[IntervalReading]:
            params = {"start": start.isoformat(), "end": stop.isoformat()}  # batch route: end inclusive
            envelope = await self._get(
                route,
                f"/enedis/{direction.value}/detail/batch/{pdl}",
                usage_point_id=pdl,
                params=params,
                counts=True,
            )
            readings = parsing.parse_curve(envelope.data, pdl, direction)
            return Fetched(curve_in_days(readings, start, stop), envelope.partial)

        return await self._chunked(split_range(first, last, MAX_CURVE_DAYS_PER_REQUEST), fetch)

    async def max_power(self, usage_point_id: str, first: dt.date, last: dt.date) -> Fetched[MaxPower]:
        pdl = check_usage_point_id(usage_point_id)
        first, last = check_range(first, last, pdl)
        route = DataKind.MAX_POWER.value

        async def fetch(start: dt.date, stop: dt.date) -> Fetched[MaxPower]:
            params = {"start": start.isoformat(), "end": (stop + _ONE_DAY).isoformat()}  # end exclusive
            envelope = await self._get(
                route, f"/enedis/power/{pdl}", usage_point_id=pdl, params=params, counts=True
            )
            items = parsing.parse_max_power(envelope.data, pdl)
            return Fetched(_in_days(items, lambda m: m.day, start, stop), envelope.partial)

        return await self._chunked(split_range(first, last, MAX_DAYS_PER_REQUEST), fetch)

    async def contract(self, usage_point_id: str) -> Contract:
        pdl = check_usage_point_id(usage_point_id)
        envelope = await self._get(
            DataKind.CONTRACT.value, f"/enedis/contract/{pdl}", usage_point_id=pdl, counts=True
        )
        return parsing.parse_contract(envelope.data, pdl)

    async def address(self, usage_point_id: str) -> Address:
        pdl = check_usage_point_id(usage_point_id)
        envelope = await self._get(
            DataKind.ADDRESS.value, f"/enedis/address/{pdl}", usage_point_id=pdl, counts=True
        )
        return parsing.parse_address(envelope.data, pdl)

    async def tempo_days(self, first: dt.date, last: dt.date) -> list[TempoDay]:
        first, last = check_range(first, last)
        # start_date is exclusive, end_date inclusive
        params = {"start_date": (first - _ONE_DAY).isoformat(), "end_date": last.isoformat()}
        envelope = await self._get(
            DataKind.TEMPO.value, "/tempo/days", params=params, auth=False, envelope="optional"
        )
        return _in_days(parsing.parse_tempo(envelope.data), lambda t: t.day, first, last)

    async def tempo_forecast(self, days: int = 6) -> Any:
        """The raw `data` of `GET /tempo/forecast` (no auth, no quota); see app.tempo_forecast."""
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 6:
            raise RequestValidationError(f"Tempo forecast days must be 1..6, not {days!r}")
        envelope = await self._get(
            "tempo_forecast", "/tempo/forecast", params={"days": str(days)}, auth=False, envelope="optional"
        )
        return envelope.data

    async def ecowatt(self, days: int = 4) -> list[EcoWattDay]:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 7:
            raise RequestValidationError(f"EcoWatt forecast days must be 1..7, not {days!r}")
        envelope = await self._get(
            DataKind.ECOWATT.value,
            "/ecowatt/forecast",
            params={"days": str(days)},
            counts=True,
            envelope="optional",
        )
        return parsing.parse_ecowatt(envelope.data)

    async def offers(self) -> list[Offer]:
        envelope = await self._get(
            DataKind.OFFERS.value,
            "/energy/offers",
            params={"include_history": "true"},
            auth=False,
            envelope="optional",
        )
        return parsing.parse_offers(envelope.data)

    async def usage_stats(self) -> UsageStats | None:
        """Today's quota use, or None when the gateway cannot tell (authentication errors propagate)."""
        try:
            envelope = await self._get(DataKind.USAGE_STATS.value, "/accounts/usage-stats")
            return parsing.parse_usage_stats(envelope.data)
        except AuthenticationError:
            raise
        except GatewayError as exc:
            log.debug("usage stats unavailable: %s", exc.code)
            return None

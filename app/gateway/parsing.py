"""Pure functions from decoded gateway JSON to domain objects (no I/O).

Tolerant of every variant the gateway is known to send (see gateway-api.md), strict about the rest:
anything that cannot be understood raises `MalformedResponseError` naming the field and the value.
Error messages carry values from the answer only, never credentials.

The load-curve parser is on the hot path (two years of half-hours per usage point): it runs one
plain loop with cached interval lengths and no per-reading regex; a reading that fails the fast path
is re-examined by a slow path that only exists to produce a precise error message.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from app import timeline
from app.domain import (
    Address,
    Contract,
    DailyEnergy,
    Direction,
    EcoWattDay,
    IntervalReading,
    MaxPower,
    Offer,
    OffpeakRange,
    PricingOption,
    TempoColor,
    TempoDay,
    UsagePoint,
    UsageStats,
)
from app.gateway.errors import (
    AccessDeniedError,
    DateTooOldError,
    EnedisError,
    EnedisUnavailableError,
    GatewayError,
    GatewayUnavailableError,
    LoadCurveDisabledError,
    MalformedResponseError,
    NoConsentError,
    NoDataError,
    NoProductionError,
    NotActivatedError,
    RateLimitError,
    RequestValidationError,
)
from app.tariff_rules import parse_offpeak_text

__all__ = [
    "PRICE_BUCKETS",
    "Envelope",
    "enedis_error",
    "error_from_code",
    "parse_address",
    "parse_contract",
    "parse_curve",
    "parse_daily",
    "parse_date",
    "parse_ecowatt",
    "parse_envelope",
    "parse_max_power",
    "parse_offers",
    "parse_offpeak",
    "parse_price",
    "parse_pricing_option",
    "parse_subscribed_power",
    "parse_tempo",
    "parse_token",
    "parse_usage_points",
    "parse_usage_stats",
    "parse_valid_access",
    "raise_for_enedis_error",
    "unwrap_envelope",
    "unwrap_optional_envelope",
]

#: offer JSON field -> price bucket name used by the pricing engine
PRICE_BUCKETS: tuple[tuple[str, str], ...] = (
    ("base_price", "base"),
    ("hp_price", "hp"),
    ("hc_price", "hc"),
    ("tempo_blue_hp", "tempo_blue_hp"),
    ("tempo_blue_hc", "tempo_blue_hc"),
    ("tempo_white_hp", "tempo_white_hp"),
    ("tempo_white_hc", "tempo_white_hc"),
    ("tempo_red_hp", "tempo_red_hp"),
    ("tempo_red_hc", "tempo_red_hc"),
    ("ejp_normal", "ejp_normal"),
    ("ejp_peak", "ejp_peak"),
)

_UTC = dt.UTC


# --------------------------------------------------------------------------------------------------
# small helpers


def _show(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fail(what: str, value: object, expected: str = "") -> NoReturn:
    suffix = f" (expected {expected})" if expected else ""
    raise MalformedResponseError(f"{what}: unexpected value {_show(value)}{suffix}")


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        _fail(what, value, "an object")
    return value


def _sequence(value: object, what: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        _fail(what, value, "a list")
    return value


def _str_or_none(value: object, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    _fail(what, value, "a string")


def _int(value: object, what: str) -> int | None:
    """Integers, strings of integers (or of integral decimals) -> int; None -> None."""
    if value is None:
        return None
    if isinstance(value, bool):
        _fail(what, value, "a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return round(value)
        _fail(what, value, "a finite number")
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            _fail(what, value, "a number")
        if number.is_finite():
            return round(number)
    _fail(what, value, "a number")


def _required_int(value: object, what: str) -> int:
    number = _int(value, what)
    if number is None:
        _fail(what, value, "a number")
    return number


def _bool(value: object, what: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes", "oui"):
            return True
        if text in ("false", "0", "no", "non"):
            return False
        if not text:
            return default
    _fail(what, value, "a boolean")


def parse_date(value: object, what: str) -> dt.date | None:
    """'2022-03-08', '2006-05-24+02:00', '2022-03-08 00:00:00', '2025-02-01T00:00:00+00:00' -> the day.

    A date-time carrying an offset is converted to its Paris date first (a midnight-Paris instant
    written in UTC is 23:00 the day before); a bare date with an offset keeps its own day.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(timeline.PARIS).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        _fail(what, value, "a date")
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        if len(text) > 10 and text[10] in "T ":
            stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return stamp.astimezone(timeline.PARIS).date() if stamp.tzinfo else stamp.date()
        if len(text) > 10 and text[10] in "+-Z":
            return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    _fail(what, value, "a date YYYY-MM-DD")


def _required_date(value: object, what: str) -> dt.date:
    day = parse_date(value, what)
    if day is None:
        _fail(what, value, "a date YYYY-MM-DD")
    return day


def _aware_instant(value: object, what: str, *, naive_zone: dt.tzinfo = _UTC) -> dt.datetime | None:
    """An ISO date-time -> aware UTC; naive stamps are read in `naive_zone`."""
    if value is None:
        return None
    if not isinstance(value, str):
        _fail(what, value, "a date-time")
    text = value.strip()
    if not text:
        return None
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _fail(what, value, "an ISO date-time")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=naive_zone)
    return stamp.astimezone(_UTC)


def _usage_point_id(value: object, what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:014d}"
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 14 and text.isdigit() and text.isascii():
            return text
    _fail(what, value, "a 14-digit usage point id")


# --------------------------------------------------------------------------------------------------
# envelope and errors

_ENEDIS_CODE = re.compile(r"\b(ADAM-[A-Z]+-?\d+|STM-ERR-\d+|SGT[A-Z0-9]+|no_data_found)\b", re.IGNORECASE)
_LEADING_CODE = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*:")


@dataclass(frozen=True, slots=True)
class Envelope:
    """A successful v2 answer: its `data`, and the PARTIAL_DATA message when some chunks failed."""

    data: Any
    partial: str | None = None


def enedis_error(code: str | None, message: str, *, usage_point_id: str | None = None) -> EnedisError:
    """The typed error for an Enedis code ("ADAM-DC-0008", "STM-ERR-0000014", ...)."""
    normalized = (code or "").strip().upper()
    if normalized == "ADAM-DC-0008":
        return NoConsentError(message, enedis_code=code, usage_point_id=usage_point_id)
    if normalized in ("STM-ERR-0000014", "NO_DATA_FOUND"):
        return LoadCurveDisabledError(message, enedis_code=code, usage_point_id=usage_point_id)
    if normalized == "ADAM-ERR0069":
        return NoProductionError(message, enedis_code=code, usage_point_id=usage_point_id)
    if normalized == "ADAM-ERR0123":
        return NotActivatedError(message, enedis_code=code, usage_point_id=usage_point_id)
    return EnedisError(message, enedis_code=code, usage_point_id=usage_point_id)


def _enedis_code_in(text: str) -> str | None:
    match = _ENEDIS_CODE.search(text)
    if match:
        return match.group(1)
    match = _LEADING_CODE.match(text)
    return match.group(1) if match else None


_OLDEST_ALLOWED = re.compile(r"oldest allowed date\s*:?\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)


def oldest_allowed_date(message: str) -> dt.date | None:
    """The day a DATE_TOO_OLD message names ("... Oldest allowed date: 2023-12-05"), if any."""
    match = _OLDEST_ALLOWED.search(message or "")
    if match is None:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def error_from_code(
    code: str,
    message: str,
    *,
    now: dt.datetime | None = None,
    usage_point_id: str | None = None,
) -> GatewayError:
    """The typed error for a v2 `error.code` (and its message)."""
    text = f"{message} ({code})" if message else code
    pdl = usage_point_id
    upper = code.strip().upper()
    if upper == "RATE_LIMIT_EXCEEDED":
        resets_at = timeline.next_utc_midnight(now or timeline.now_utc())
        return RateLimitError(text, resets_at=resets_at, usage_point_id=pdl)
    if upper == "ACCESS_DENIED":
        return AccessDeniedError(text, usage_point_id=pdl)
    if upper == "ENEDIS_UNAVAILABLE":
        return EnedisUnavailableError(text, usage_point_id=pdl)
    if upper == "ENEDIS_ERROR":
        return enedis_error(_enedis_code_in(message), text, usage_point_id=pdl)
    if upper == "NO_DATA":
        return NoDataError(text, usage_point_id=pdl)
    if upper == "DATE_TOO_OLD":
        return DateTooOldError(text, oldest_allowed=oldest_allowed_date(message), usage_point_id=pdl)
    if upper in ("INVALID_DATE_RANGE", "INVALID_DATE_FORMAT", "VALIDATION_ERROR", "INVALID_REQUEST"):
        return RequestValidationError(text, usage_point_id=pdl)
    if upper == "INTERNAL_ERROR":
        return GatewayUnavailableError(text, usage_point_id=pdl)
    if _ENEDIS_CODE.fullmatch(code.strip()):
        return enedis_error(code.strip(), text, usage_point_id=pdl)
    return GatewayError(text, usage_point_id=pdl)


def raise_for_enedis_error(data: object, *, usage_point_id: str | None = None) -> None:
    """Raise the typed error when `data` is a raw Enedis error `{"error": code, "error_description": ..}`."""
    if not isinstance(data, Mapping):
        return
    code = data.get("error")
    if not isinstance(code, str) or not code.strip():
        return
    if "meter_reading" in data or "customer" in data:
        return
    description = data.get("error_description") or data.get("description") or data.get("message")
    text = f"{code}: {description}" if isinstance(description, str) and description else code
    raise enedis_error(code.strip(), text, usage_point_id=usage_point_id)


def unwrap_envelope(
    payload: object, *, now: dt.datetime | None = None, usage_point_id: str | None = None
) -> Envelope:
    """`{"success", "data", "error", "timestamp"}` -> Envelope, or the typed error of a failure."""
    body = _mapping(payload, "response")
    if "success" not in body:
        _fail("response.success", None, "the gateway envelope")
    success = body["success"]
    error = body.get("error")
    code: str | None = None
    message = ""
    if error is not None:
        if isinstance(error, Mapping):
            raw_code = error.get("code")
            code = raw_code if isinstance(raw_code, str) and raw_code else None
            raw_message = error.get("message")
            message = raw_message if isinstance(raw_message, str) else ""
        elif isinstance(error, str):
            code = error
        else:
            _fail("response.error", error, "an object")
    if success is True:
        data = body.get("data")
        raise_for_enedis_error(data, usage_point_id=usage_point_id)
        partial = None
        if code is not None or message:
            partial = message or code
        return Envelope(data, partial)
    if success is False:
        if code is None:
            raise GatewayError(message or "the gateway answered success:false", usage_point_id=usage_point_id)
        raise error_from_code(code, message, now=now, usage_point_id=usage_point_id)
    _fail("response.success", success, "true or false")


def parse_envelope(
    payload: object, *, now: dt.datetime | None = None, usage_point_id: str | None = None
) -> Any:
    """The `data` of a successful v2 answer; raises the typed error of a failure."""
    return unwrap_envelope(payload, now=now, usage_point_id=usage_point_id).data


def unwrap_optional_envelope(
    payload: object, *, now: dt.datetime | None = None, usage_point_id: str | None = None
) -> Envelope:
    """Routes that may come with or without the envelope (EcoWatt, offers, Tempo)."""
    if isinstance(payload, Mapping) and "success" in payload and ("data" in payload or "error" in payload):
        return unwrap_envelope(payload, now=now, usage_point_id=usage_point_id)
    return Envelope(payload)


def parse_token(payload: object) -> str:
    """`{"access_token": "...", "token_type": "bearer"}` -> the token (never shown in errors)."""
    if (
        isinstance(payload, Mapping)
        and "access_token" not in payload
        and isinstance(payload.get("data"), Mapping)
    ):
        payload = payload["data"]
    if isinstance(payload, Mapping):
        token = payload.get("access_token")
        if isinstance(token, str) and token.strip():
            return token.strip()
    raise MalformedResponseError("token answer: no access_token in the answer")


# --------------------------------------------------------------------------------------------------
# meter readings


def _interval_readings(data: object, what: str) -> tuple[list[Any], Mapping[str, Any]]:
    """`{"meter_reading": {"interval_reading": [...], "reading_type": {...}}}` -> (readings, reading_type)."""
    if isinstance(data, list):  # already the list of readings
        return data, {}
    body = _mapping(data, what)
    meter = body.get("meter_reading", body)
    meter = _mapping(meter, f"{what}.meter_reading")
    readings = meter.get("interval_reading")
    if readings is None:
        if "interval_reading" in meter or "meter_reading" in body:
            return [], {}
        _fail(f"{what}.meter_reading.interval_reading", readings, "a list")
    readings = _sequence(readings, f"{what}.meter_reading.interval_reading")
    reading_type = meter.get("reading_type")
    return list(readings), reading_type if isinstance(reading_type, Mapping) else {}


def parse_daily(data: object, usage_point_id: str, direction: Direction) -> list[DailyEnergy]:
    """Daily energy (Wh). A `null` value is a missing day (left out, never 0); duplicates keep the last."""
    readings, _ = _interval_readings(data, f"daily {direction.value}")
    by_day: dict[dt.date, int] = {}
    for index, item in enumerate(readings):
        what = f"daily {direction.value} interval_reading[{index}]"
        reading = _mapping(item, what)
        day = _required_date(reading.get("date"), f"{what}.date")
        wh = _int(reading.get("value"), f"{what}.value")
        if wh is None:
            by_day.pop(day, None)
            continue
        by_day[day] = wh
    return [DailyEnergy(usage_point_id, direction, day, by_day[day]) for day in sorted(by_day)]


def _curve_error(what: str, index: int, item: object, default_minutes: int | None) -> NoReturn:
    """Slow path: say precisely what is wrong with one load-curve reading."""
    where = f"{what} interval_reading[{index}]"
    reading = _mapping(item, where)
    raw_date = reading.get("date")
    if not isinstance(raw_date, str):
        _fail(f"{where}.date", raw_date, "a date-time 'YYYY-MM-DD HH:MM:SS'")
    try:
        timeline.parse_naive_stamp(raw_date)
    except ValueError:
        _fail(f"{where}.date", raw_date, "a date-time 'YYYY-MM-DD HH:MM:SS'")
    raw_length = reading.get("interval_length")
    if raw_length is None and default_minutes is None:
        _fail(f"{where}.interval_length", raw_length, "an ISO-8601 duration such as 'PT30M'")
    if raw_length is not None:
        try:
            timeline.parse_interval_minutes(raw_length)
        except (ValueError, AttributeError, TypeError):
            _fail(f"{where}.interval_length", raw_length, "an ISO-8601 duration such as 'PT30M'")
    _int(reading.get("value"), f"{where}.value")
    _fail(where, item)


def parse_curve(
    data: object, usage_point_id: str, direction: Direction, *, stamps_at_end: bool = False
) -> list[IntervalReading]:
    """Load-curve readings (average W) -> IntervalReadings; see `_parse_curve`.

    The cyclic garbage collector is paused meanwhile: tens of thousands of small acyclic objects are
    allocated next to the large decoded answer, and each collection would walk it again (about a third
    of the time). It is re-enabled before returning, also on errors; nothing here creates cycles.
    """
    if not gc.isenabled():
        return _parse_curve(data, usage_point_id, direction, stamps_at_end)
    gc.disable()
    try:
        return _parse_curve(data, usage_point_id, direction, stamps_at_end)
    finally:
        gc.enable()


def _parse_curve(
    data: object, usage_point_id: str, direction: Direction, stamps_at_end: bool
) -> list[IntervalReading]:
    """Load-curve readings (average W) -> IntervalReadings with UTC starts, sorted and de-duplicated.

    Stamps are naive Paris wall-clock times: interval STARTS for v2, interval ENDS for v1
    (`stamps_at_end`: the end stamps are converted to UTC by order, then the interval is subtracted).
    Each reading keeps its own `interval_length`. Repeated fall-back times are disambiguated by order
    (`timeline.paris_stamps_to_utc`); readings of the same UTC instant (a day sent twice) keep the
    last one. `null` values stay None.
    """
    what = f"{direction.value} load curve"
    readings, reading_type = _interval_readings(data, what)
    default_minutes: int | None = None
    default_length = reading_type.get("interval_length")
    if isinstance(default_length, str):
        try:
            default_minutes = timeline.parse_interval_minutes(default_length)
        except ValueError:
            default_minutes = None

    minutes_of: dict[object, int] = {}
    if default_minutes is not None:
        minutes_of[None] = default_minutes
    fromiso = dt.datetime.fromisoformat
    stamps: list[dt.datetime] = []
    lengths: list[int] = []
    values: list[int | None] = []
    add_stamp, add_length, add_value = stamps.append, lengths.append, values.append
    index = 0
    item: Any = None
    try:
        for index, item in enumerate(readings):
            stamp = fromiso(item["date"])
            if stamp.tzinfo is not None:
                stamp = timeline.parse_naive_stamp(item["date"])
            raw_length = item.get("interval_length")
            minutes = minutes_of.get(raw_length)
            if minutes is None:
                minutes = timeline.parse_interval_minutes(raw_length)
                minutes_of[raw_length] = minutes
            raw_value = item.get("value")
            if raw_value is None:
                add_value(None)
            elif raw_value.__class__ is str:
                try:
                    add_value(int(raw_value))
                except ValueError:
                    add_value(_int(raw_value, f"{what} interval_reading[{index}].value"))
            else:
                add_value(_int(raw_value, f"{what} interval_reading[{index}].value"))
            add_stamp(stamp)
            add_length(minutes)
    except MalformedResponseError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError):
        _curve_error(what, index, item, default_minutes)

    instants = timeline.paris_stamps_to_utc(stamps)
    if stamps_at_end:
        deltas = {minutes: dt.timedelta(minutes=minutes) for minutes in set(lengths)}
        starts = [end - deltas[minutes] for end, minutes in zip(instants, lengths, strict=True)]
    else:
        starts = instants
    if all(map(operator.lt, starts, itertools.islice(starts, 1, None))):
        # the usual case: already strictly increasing, nothing repeated
        return [
            IntervalReading(usage_point_id, direction, start, minutes, value)
            for start, minutes, value in zip(starts, lengths, values, strict=True)
        ]
    latest: dict[dt.datetime, tuple[int, int | None]] = {}
    for start, minutes, value in zip(starts, lengths, values, strict=True):
        latest[start] = (minutes, value)  # a repeated instant keeps the last reading
    return [
        IntervalReading(usage_point_id, direction, start, minutes, value)
        for start, (minutes, value) in sorted(latest.items())
    ]


def parse_max_power(data: object, usage_point_id: str) -> list[MaxPower]:
    """Daily maximum power (VA) and its moment (UTC) -> MaxPower per day, sorted; `null` is left out."""
    readings, _ = _interval_readings(data, "max power")
    days: list[dt.date] = []
    stamps: list[dt.datetime | None] = []
    vas: list[int] = []
    for index, item in enumerate(readings):
        what = f"max power interval_reading[{index}]"
        reading = _mapping(item, what)
        raw_date = reading.get("date")
        va = _int(reading.get("value"), f"{what}.value")
        if not isinstance(raw_date, str):
            _fail(f"{what}.date", raw_date, "a date-time")
        text = raw_date.strip()
        if len(text) <= 10 or text[10] in "+-Z":
            day = _required_date(text, f"{what}.date")
            stamp: dt.datetime | None = None
        else:
            try:
                stamp = timeline.parse_naive_stamp(text)
            except ValueError:
                _fail(f"{what}.date", raw_date, "a date-time 'YYYY-MM-DD HH:MM:SS'")
            day = stamp.date()
        if va is None:
            continue
        days.append(day)
        stamps.append(stamp)
        vas.append(va)
    known = [stamp for stamp in stamps if stamp is not None]
    converted = iter(timeline.paris_stamps_to_utc(known))
    by_day: dict[dt.date, MaxPower] = {}
    for day, stamp, va in zip(days, stamps, vas, strict=True):
        at = next(converted) if stamp is not None else None
        by_day[day] = MaxPower(usage_point_id, day, va, at)
    return [by_day[day] for day in sorted(by_day)]


# --------------------------------------------------------------------------------------------------
# usage points, contract, address

_OFFPEAK_DEFAULT_KEYS = ("default", "defaut", "défaut", "all", "everyday", "ranges")


def _offpeak_from_text(text: str, original: object) -> list[OffpeakRange]:
    try:
        return list(parse_offpeak_text(text))
    except ValueError:
        _fail("offpeak_hours", original, "'HC (22H00-6H00)' or '22:00-06:00'")


def _offpeak_items(value: object, original: object) -> list[OffpeakRange]:
    if value is None:
        return []
    if isinstance(value, OffpeakRange):
        return [value]
    if isinstance(value, str):
        return _offpeak_from_text(value, original)
    if isinstance(value, list | tuple):
        found: list[OffpeakRange] = []
        for item in value:
            found.extend(_offpeak_items(item, original))
        return found
    if isinstance(value, Mapping):
        start, end = value.get("start", value.get("debut")), value.get("end", value.get("fin"))
        if isinstance(start, str) and isinstance(end, str):
            return _offpeak_from_text(f"{start}-{end}", original)
        for key in _OFFPEAK_DEFAULT_KEYS:
            if value.get(key) is not None:
                return _offpeak_items(value[key], original)
        found = []
        for item in value.values():  # e.g. one entry per weekday: their union
            found.extend(_offpeak_items(item, original))
        return found
    _fail("offpeak_hours", original, "a string, a list or an object of ranges")


def parse_offpeak(value: object) -> tuple[OffpeakRange, ...]:
    """Every known shape of off-peak hours -> distinct ranges, in order of appearance.

    "HC (22H00-6H00)", "HC (1H30-8H00;12H30-14H00)", "22h30-06h30", ["22:00-06:00", ...],
    {"default": "HC (...)"}, {"monday": "22:30-06:30", ...} (union), {"start": .., "end": ..}, None.
    """
    seen: dict[OffpeakRange, None] = {}
    for item in _offpeak_items(value, value):
        seen.setdefault(item, None)
    return tuple(seen)


_POWER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(k?va)?\s*$", re.IGNORECASE)


def parse_subscribed_power(value: object) -> int | None:
    """`"9 kVA"`, `"9kVA"`, `"9"`, 9 -> 9 (kVA); None -> None."""
    if value is None:
        return None
    if isinstance(value, bool):
        _fail("subscribed_power", value, "kVA")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return round(value)
    if isinstance(value, str):
        if not value.strip():
            return None
        match = _POWER.match(value)
        if match:
            number = Decimal(match.group(1).replace(",", "."))
            unit = (match.group(2) or "kva").lower()
            if unit == "va":
                number /= 1000
            return round(number)
    _fail("subscribed_power", value, "a power such as '9 kVA'")


_PRICING_OPTIONS = {
    "BASE": PricingOption.BASE,
    "HC_HP": PricingOption.HC_HP,
    "HCHP": PricingOption.HC_HP,
    "HP_HC": PricingOption.HC_HP,
    "HPHC": PricingOption.HC_HP,
    "HC/HP": PricingOption.HC_HP,
    "HP/HC": PricingOption.HC_HP,
    "TEMPO": PricingOption.TEMPO,
    "EJP": PricingOption.EJP,
    "HC_WEEKEND": PricingOption.HC_WEEKEND,
    "WEEKEND": PricingOption.HC_WEEKEND,
    "HC_WE": PricingOption.HC_WEEKEND,
}


def parse_pricing_option(value: object) -> PricingOption:
    """Known option names (any case) -> PricingOption; anything else -> UNKNOWN."""
    if not isinstance(value, str):
        return PricingOption.UNKNOWN
    return _PRICING_OPTIONS.get(
        value.strip().upper().replace(" ", "_").replace("-", "_"), PricingOption.UNKNOWN
    )


def _list_payload(data: object, what: str, keys: Iterable[str]) -> Sequence[Any]:
    if isinstance(data, Mapping):
        for key in keys:
            if isinstance(data.get(key), list):
                return data[key]  # type: ignore[no-any-return]
    return _sequence(data, what)


def parse_usage_points(data: object) -> list[UsagePoint]:
    """`GET /pdl` data -> UsagePoints (offpeak hours in any known shape)."""
    points: list[UsagePoint] = []
    for index, item in enumerate(_list_payload(data, "usage points", ("usage_points", "pdls", "items"))):
        what = f"usage point [{index}]"
        body = _mapping(item, what)
        pdl = _usage_point_id(body.get("usage_point_id", body.get("pdl")), f"{what}.usage_point_id")
        what = f"usage point {pdl}"
        linked = body.get("linked_production_pdl_id")
        points.append(
            UsagePoint(
                usage_point_id=pdl,
                name=_str_or_none(body.get("name"), f"{what}.name") or "",
                subscribed_power_kva=parse_subscribed_power(body.get("subscribed_power")),
                pricing_option=parse_pricing_option(body.get("pricing_option")),
                offpeak_hours=parse_offpeak(body.get("offpeak_hours")),
                has_consumption=_bool(body.get("has_consumption"), f"{what}.has_consumption", True),
                has_production=_bool(body.get("has_production"), f"{what}.has_production", False),
                is_active=_bool(body.get("is_active"), f"{what}.is_active", True),
                activation_date=parse_date(body.get("activation_date"), f"{what}.activation_date"),
                oldest_available_data_date=parse_date(
                    body.get("oldest_available_data_date"), f"{what}.oldest_available_data_date"
                ),
                linked_production_pdl_id=(
                    None
                    if linked in (None, "")
                    else _usage_point_id(linked, f"{what}.linked_production_pdl_id")
                ),
            )
        )
    return points


def _customer_usage_point(data: object, usage_point_id: str, what: str) -> Mapping[str, Any]:
    """Raw Enedis `customer.usage_points[i]` for `usage_point_id` (or the only/first one)."""
    body = _mapping(data, what)
    customer = _mapping(body.get("customer", body), f"{what}.customer")
    entries = customer.get("usage_points")
    if isinstance(entries, Mapping):
        entries = [entries]
    entries = _sequence(entries, f"{what}.customer.usage_points")
    if not entries:
        _fail(f"{what}.customer.usage_points", entries, "at least one usage point")
    for entry in entries:
        if isinstance(entry, Mapping):
            point = entry.get("usage_point")
            if isinstance(point, Mapping) and point.get("usage_point_id") == usage_point_id:
                return entry
    return _mapping(entries[0], f"{what}.customer.usage_points[0]")


def parse_contract(data: object, usage_point_id: str) -> Contract:
    """Raw Enedis contract -> Contract ("9 kVA" -> 9, offpeak ranges, dates with offsets)."""
    what = "contract"
    entry = _customer_usage_point(data, usage_point_id, what)
    point = entry.get("usage_point") or {}
    point = _mapping(point, f"{what}.usage_point")
    contracts = entry.get("contracts") or {}
    if isinstance(contracts, list):
        contracts = contracts[0] if contracts else {}
    contracts = _mapping(contracts, f"{what}.contracts")
    return Contract(
        usage_point_id=usage_point_id,
        segment=_str_or_none(contracts.get("segment"), f"{what}.segment"),
        subscribed_power_kva=parse_subscribed_power(contracts.get("subscribed_power")),
        distribution_tariff=_str_or_none(contracts.get("distribution_tariff"), f"{what}.distribution_tariff"),
        offpeak_hours=parse_offpeak(contracts.get("offpeak_hours")),
        last_activation_date=parse_date(
            contracts.get("last_activation_date"), f"{what}.last_activation_date"
        ),
        last_distribution_tariff_change_date=parse_date(
            contracts.get("last_distribution_tariff_change_date"),
            f"{what}.last_distribution_tariff_change_date",
        ),
        contract_status=_str_or_none(contracts.get("contract_status"), f"{what}.contract_status"),
        meter_type=_str_or_none(point.get("meter_type"), f"{what}.meter_type"),
        usage_point_status=_str_or_none(point.get("usage_point_status"), f"{what}.usage_point_status"),
    )


def parse_address(data: object, usage_point_id: str) -> Address:
    """Raw Enedis address -> Address (`customer.usage_points[0].usage_point.usage_point_addresses`)."""
    what = "address"
    entry = _customer_usage_point(data, usage_point_id, what)
    point = _mapping(entry.get("usage_point", entry), f"{what}.usage_point")
    addresses = point.get("usage_point_addresses", point.get("usage_point_address"))
    if isinstance(addresses, list):
        addresses = addresses[0] if addresses else None
    if addresses is None:
        return Address(usage_point_id)
    fields = _mapping(addresses, f"{what}.usage_point_addresses")
    return Address(
        usage_point_id=usage_point_id,
        street=_str_or_none(fields.get("street"), f"{what}.street"),
        locality=_str_or_none(fields.get("locality"), f"{what}.locality"),
        postal_code=_str_or_none(fields.get("postal_code"), f"{what}.postal_code"),
        insee_code=_str_or_none(fields.get("insee_code"), f"{what}.insee_code"),
        city=_str_or_none(fields.get("city"), f"{what}.city"),
        country=_str_or_none(fields.get("country"), f"{what}.country"),
    )


# --------------------------------------------------------------------------------------------------
# Tempo, EcoWatt, offers, usage stats

_TEMPO_COLORS = {
    "BLUE": TempoColor.BLUE,
    "BLEU": TempoColor.BLUE,
    "TEMPO_BLEU": TempoColor.BLUE,
    "WHITE": TempoColor.WHITE,
    "BLANC": TempoColor.WHITE,
    "TEMPO_BLANC": TempoColor.WHITE,
    "RED": TempoColor.RED,
    "ROUGE": TempoColor.RED,
    "TEMPO_ROUGE": TempoColor.RED,
}
#: colours that mean "not published yet": the day is left out
_TEMPO_UNKNOWN = frozenset({"", "UNKNOWN", "NON_DEFINI", "ND", "UNDEFINED", "NONE", "NULL", "INCONNU"})


def _tempo_color(value: object, what: str) -> TempoColor | None:
    if value is None:
        return None
    if isinstance(value, str):
        key = value.strip().upper()
        if key in _TEMPO_COLORS:
            return _TEMPO_COLORS[key]
        if key in _TEMPO_UNKNOWN:
            return None
    _fail(what, value, "BLUE, WHITE or RED")


def parse_tempo(data: object) -> list[TempoDay]:
    """v2 `[{"date", "color"}, ...]` or v1 `{"2023-03-01": "blue", ...}` -> TempoDays sorted by day.

    Days whose colour is not published yet (null / "UNKNOWN") are left out.
    """
    by_day: dict[dt.date, TempoColor] = {}
    if isinstance(data, Mapping) and not any(key in data for key in ("date", "days", "items")):
        for raw_day, raw_color in data.items():
            day = _required_date(raw_day, "tempo date")
            color = _tempo_color(raw_color, f"tempo {raw_day}")
            if color is not None:
                by_day[day] = color
    else:
        for index, item in enumerate(_list_payload(data, "tempo", ("days", "items"))):
            what = f"tempo [{index}]"
            entry = _mapping(item, what)
            day = _required_date(entry.get("date", entry.get("day")), f"{what}.date")
            raw_color = entry.get("color", entry.get("couleur", entry.get("value")))
            color = _tempo_color(raw_color, f"{what}.color")
            if color is not None:
                by_day[day] = color
    return [TempoDay(day, by_day[day]) for day in sorted(by_day)]


def _ecowatt_level(value: object, what: str, low: int) -> int:
    level = _int(value, what)
    if level is None or not low <= level <= 3 or (isinstance(value, float) and not value.is_integer()):
        _fail(what, value, f"an integer {low}..3")
    return level


def _ecowatt_hours(value: object, what: str) -> tuple[int, ...]:
    if value is None:
        return ()
    items = _sequence(value, what)
    if items and all(isinstance(item, Mapping) for item in items):
        pairs = []
        for index, item in enumerate(items):
            pas = _required_int(item.get("pas"), f"{what}[{index}].pas")
            pairs.append((pas, _ecowatt_level(item.get("hvalue"), f"{what}[{index}].hvalue", 0)))
        return tuple(level for _, level in sorted(pairs))
    return tuple(_ecowatt_level(item, f"{what}[{index}]", 0) for index, item in enumerate(items))


def parse_ecowatt(data: object) -> list[EcoWattDay]:
    """EcoWatt forecast days -> EcoWattDay sorted by day (hourly values as 24 ints or {pas, hvalue})."""
    by_day: dict[dt.date, EcoWattDay] = {}
    for index, item in enumerate(_list_payload(data, "ecowatt", ("signals", "days", "items"))):
        what = f"ecowatt [{index}]"
        entry = _mapping(item, what)
        day = _required_date(entry.get("periode", entry.get("date")), f"{what}.periode")
        by_day[day] = EcoWattDay(
            day=day,
            level=_ecowatt_level(entry.get("dvalue"), f"{what}.dvalue", 1),
            message=_str_or_none(entry.get("message"), f"{what}.message") or "",
            hourly=_ecowatt_hours(entry.get("values"), f"{what}.values"),
            generated_at=_aware_instant(entry.get("generation_datetime"), f"{what}.generation_datetime"),
        )
    return [by_day[day] for day in sorted(by_day)]


def parse_price(value: object, what: str = "price") -> Decimal | None:
    """Prices as numbers or strings ("0.20160", "0,2016") -> Decimal; None/"" -> None."""
    if value is None:
        return None
    if isinstance(value, bool):
        _fail(what, value, "a price")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return Decimal(repr(value))
        _fail(what, value, "a finite price")
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not text:
            return None
        try:
            price = Decimal(text)
        except InvalidOperation:
            _fail(what, value, "a price")
        if price.is_finite():
            return price
    _fail(what, value, "a price")


def _offer_option(body: Mapping[str, Any], prices: Mapping[str, Decimal]) -> PricingOption:
    option = parse_pricing_option(body.get("offer_type", body.get("option")))
    if option is not PricingOption.UNKNOWN:
        return option
    if any(bucket.startswith("tempo_") for bucket in prices):
        return PricingOption.TEMPO
    if any(bucket.startswith("ejp_") for bucket in prices):
        return PricingOption.EJP
    if "hp" in prices or "hc" in prices:
        return PricingOption.HC_HP
    if "base" in prices:
        return PricingOption.BASE
    return PricingOption.UNKNOWN


def _provider_name(body: Mapping[str, Any], what: str) -> str:
    for key in ("provider_name", "provider", "provider_id"):
        value = body.get(key)
        if isinstance(value, Mapping):
            value = value.get("name", value.get("id"))
        text = _str_or_none(value, f"{what}.{key}")
        if text:
            return text
    return ""


def parse_offers(data: object) -> list[Offer]:
    """`GET /energy/offers` data -> Offers with Decimal prices per bucket (see PRICE_BUCKETS).

    Offers without a power, a start of validity, a subscription price or any energy price are left
    out (incomplete community data); a value that is present but unreadable raises.
    """
    offers: list[Offer] = []
    for index, item in enumerate(_list_payload(data, "offers", ("offers", "items"))):
        body = _mapping(item, f"offer [{index}]")
        name = _str_or_none(body.get("name", body.get("offer_name")), f"offer [{index}].name") or ""
        what = f"offer [{index}] {name!r}" if name else f"offer [{index}]"
        prices: dict[str, Decimal] = {}
        for field_name, bucket in PRICE_BUCKETS:
            price = parse_price(body.get(field_name), f"{what}.{field_name}")
            if price is not None:
                prices[bucket] = price
        subscription = parse_price(body.get("subscription_price"), f"{what}.subscription_price")
        raw_power = body.get("power_kva", body.get("subscribed_power"))
        try:
            power = parse_subscribed_power(raw_power)
        except MalformedResponseError:
            _fail(f"{what}.power_kva", raw_power, "kVA")
        valid_from = parse_date(body.get("valid_from"), f"{what}.valid_from")
        valid_to = parse_date(body.get("valid_to"), f"{what}.valid_to")
        offpeak = parse_offpeak(body.get("hc_schedules", body.get("offpeak_hours")))
        if power is None or valid_from is None or subscription is None or not prices:
            continue
        offers.append(
            Offer(
                provider=_provider_name(body, what),
                name=name,
                option=_offer_option(body, prices),
                power_kva=power,
                subscription_eur_month=subscription,
                prices_eur_kwh=tuple(prices.items()),
                valid_from=valid_from,
                valid_to=valid_to,
                offpeak_hours=offpeak,
                source="gateway",
            )
        )
    return offers


def parse_usage_stats(data: object) -> UsageStats:
    """`GET /accounts/usage-stats` data -> UsageStats."""
    body = _mapping(data, "usage stats")
    return UsageStats(
        cached_requests=_required_int(body.get("cached_requests"), "usage stats.cached_requests"),
        no_cache_requests=_required_int(body.get("no_cache_requests"), "usage stats.no_cache_requests"),
        cached_limit=_required_int(body.get("cached_limit"), "usage stats.cached_limit"),
        no_cache_limit=_required_int(body.get("no_cache_limit"), "usage stats.no_cache_limit"),
        date=_required_date(body.get("date"), "usage stats.date"),
    )


def parse_valid_access(data: object, today: dt.date) -> UsageStats:
    """v1 `/valid_access/{pdl}` -> UsageStats for that usage point (v1 has one quota per usage point).

    `call_number` counts in both buckets; a `quota_reached` flag makes the remaining count 0.
    """
    body = _mapping(data, "valid_access")
    limit = _required_int(body.get("quota_limit"), "valid_access.quota_limit")
    calls = _int(body.get("call_number"), "valid_access.call_number") or 0
    if _bool(body.get("quota_reached"), "valid_access.quota_reached", False) or _bool(
        body.get("ban"), "valid_access.ban", False
    ):
        calls = max(calls, limit)
    return UsageStats(
        cached_requests=calls,
        no_cache_requests=calls,
        cached_limit=limit,
        no_cache_limit=limit,
        date=today,
    )

"""The offer catalogue: dated price periods shipped as JSON data files, merged with the gateway's
offers and the user's overrides. Files are schema-checked at load (voluptuous)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import voluptuous as vol

from app.domain import Offer, OffpeakRange, PricingOption
from app.tariff_rules import HP_HC_OPTIONS, parse_offpeak_text

OFFERS_DIR = Path(__file__).parent / "offers"
BUCKETS_BY_OPTION: dict[str, frozenset[str]] = {
    "BASE": frozenset({"base"}),
    "HC_HP": frozenset({"hp", "hc"}),
    "HC_WEEKEND": frozenset({"hp", "hc"}),
    "TEMPO": frozenset(f"tempo_{c}_{h}" for c in ("blue", "white", "red") for h in ("hp", "hc")),
    "SEASONAL": frozenset({"winter", "summer"}),
    "EJP": frozenset({"ejp_normal", "ejp_peak"}),
}


class CatalogueError(ValueError):
    """A catalogue file or a user offer does not follow the schema; the message names file and field."""


@dataclass(frozen=True, slots=True)
class PricePeriod:
    valid_from: dt.date
    valid_to: dt.date | None  # exclusive
    subscription_eur_month: Decimal
    prices_eur_kwh: Mapping[str, Decimal]
    source: str
    #: one of the figures was read from a doubtful transcription (the source says why)
    low_confidence: bool = False

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True, slots=True)
class PricedOffer:
    id: str
    provider: str
    name: str
    option: str
    power_kva: int
    periods: tuple[PricePeriod, ...]
    offpeak_weekend: bool = False
    winter_months: frozenset[int] = frozenset()
    #: the offer's own weekday off-peak hours; None: the usage point's; (): none (Zen Week-End)
    offpeak_hours: tuple[OffpeakRange, ...] | None = None
    summer_offpeak_hours: tuple[OffpeakRange, ...] = ()  # seasonal off-peak hours (April to October)
    origin: str = "catalogue"
    _by_start: tuple[dt.date, ...] = field(default=(), compare=False, repr=False)

    @property
    def single_price(self) -> bool:
        """True when every Wh of a day costs the same: a daily total is then priced exactly."""
        return self.option == "BASE" and not self.winter_months

    @property
    def weekend_offpeak(self) -> bool:
        """Whole Saturdays and Sundays off-peak (plus the weekday off-peak windows)."""
        return self.option in HP_HC_OPTIONS and (self.offpeak_weekend or self.option == "HC_WEEKEND")

    def with_weekend_offpeak(self) -> PricedOffer:
        """The same offer under the week-end rule (a PDL whose contract is HC_WEEKEND)."""
        if self.option not in HP_HC_OPTIONS or self.weekend_offpeak:
            return self
        return replace(self, id=f"{self.id}+weekend", name=f"{self.name} (week-end)", offpeak_weekend=True)

    def period_on(self, day: dt.date) -> PricePeriod | None:
        for period in self.periods:
            if period.covers(day):
                return period
        return None


def _decimal(value: Any) -> Decimal:
    try:
        out = Decimal(str(value))
    except InvalidOperation as exc:
        raise vol.Invalid(f"not a number: {value!r}") from exc
    if out < 0:
        raise vol.Invalid(f"negative amount: {value}")
    return out


EARLIEST_DAY, LATEST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)  # prices outside make no sense


def _date(value: Any) -> dt.date:
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise vol.Invalid(f"not a date (YYYY-MM-DD): {str(value)[:40]!r}") from exc
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise vol.Invalid(f"{day} is out of range ({EARLIEST_DAY} to {LATEST_DAY})")
    return day


def printable(text: str, max_length: int) -> str:
    """`text` without control characters, cut to `max_length` (for names from the gateway)."""
    return "".join(c for c in text if c.isprintable())[:max_length].strip()


def _label(max_length: int) -> Any:
    """Printable text of bounded length: offer names end up in pages, charts and entity names."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise vol.Invalid("expected text")
        text = value.strip()
        if not text or len(text) > max_length:
            raise vol.Invalid(f"1 to {max_length} characters")
        if not text.isprintable():
            raise vol.Invalid("control characters are not allowed")
        return text

    return check


def _offpeak(value: str) -> tuple[OffpeakRange, ...]:
    try:
        return parse_offpeak_text(value)
    except ValueError as exc:
        raise vol.Invalid(str(exc)) from exc


_PERIOD = vol.Schema(
    {
        vol.Required("valid_from"): _date,
        vol.Required("valid_to"): vol.Any(None, _date),
        vol.Required("subscription_eur_month"): _decimal,
        vol.Required("prices_eur_kwh"): {vol.Extra: _decimal},
        vol.Required("source"): vol.All(str, vol.Length(min=1)),
        vol.Optional("low_confidence", default=False): bool,
    }
)
_OFFER = vol.Schema(
    {
        vol.Required("id"): _label(64),
        vol.Required("provider"): _label(60),
        vol.Required("name"): _label(100),
        vol.Required("option"): vol.In(["BASE", "HC_HP", "HC_WEEKEND", "TEMPO", "EJP"]),
        vol.Required("power_kva"): vol.All(int, vol.Range(min=1, max=36)),
        vol.Optional("offpeak_weekend", default=False): bool,
        vol.Optional("seasons"): {vol.Required("winter_months"): [vol.All(int, vol.Range(min=1, max=12))]},
        vol.Optional("offpeak_hours", default=None): vol.Any(None, vol.All(str, _offpeak)),
        vol.Optional("summer_offpeak_hours", default=""): vol.All(str, _offpeak),
        vol.Required("periods"): vol.All([_PERIOD], vol.Length(min=1)),
    }
)
_FILE = vol.Schema({vol.Required("offers"): [dict]})


def _path(error: vol.Invalid) -> str:
    return ".".join(str(p) for p in error.path) or "(top level)"


def parse_offer(raw: Mapping[str, Any], *, where: str, origin: str = "catalogue") -> PricedOffer:
    try:
        data = _OFFER(dict(raw))
    except vol.MultipleInvalid as exc:
        first = exc.errors[0]
        raise CatalogueError(f"{where}: field {_path(first)}: {first.msg}") from exc
    winter = frozenset(data.get("seasons", {}).get("winter_months", ()))
    option = "SEASONAL" if winter else data["option"]
    periods = tuple(
        PricePeriod(
            p["valid_from"],
            p["valid_to"],
            p["subscription_eur_month"],
            p["prices_eur_kwh"],
            p["source"],
            p["low_confidence"],
        )
        for p in sorted(data["periods"], key=lambda p: p["valid_from"])
    )
    for index, period in enumerate(periods):
        missing = BUCKETS_BY_OPTION[option] - set(period.prices_eur_kwh)
        if missing:
            raise CatalogueError(
                f"{where}: offer {data['id']}: field periods.{index}.prices_eur_kwh misses {sorted(missing)}"
            )
        if period.valid_to is not None and period.valid_to <= period.valid_from:
            raise CatalogueError(
                f"{where}: offer {data['id']}: field periods.{index}.valid_to: not after valid_from"
            )
        if index and periods[index - 1].valid_to != period.valid_from:
            raise CatalogueError(
                f"{where}: offer {data['id']}: field periods.{index}.valid_from: overlap or gap"
            )
    return PricedOffer(
        id=data["id"],
        provider=data["provider"],
        name=data["name"],
        option=option,
        power_kva=data["power_kva"],
        periods=periods,
        offpeak_weekend=data["offpeak_weekend"],
        winter_months=winter,
        offpeak_hours=data["offpeak_hours"],
        summer_offpeak_hours=data["summer_offpeak_hours"],
        origin=origin,
    )


def load_file(path: Path) -> list[PricedOffer]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        data = _FILE(raw)
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{path.name}: not valid JSON ({exc})") from exc
    except vol.MultipleInvalid as exc:
        raise CatalogueError(f"{path.name}: field {_path(exc.errors[0])}: {exc.errors[0].msg}") from exc
    return [parse_offer(item, where=f"{path.name} offers.{i}") for i, item in enumerate(data["offers"])]


def load_shipped(directory: Path = OFFERS_DIR) -> list[PricedOffer]:
    """Every offer of the shipped data files, checked once per process (the files ship with the code)."""
    return list(_load_directory(directory))


@functools.lru_cache(maxsize=4)
def _load_directory(directory: Path) -> tuple[PricedOffer, ...]:
    out: list[PricedOffer] = []
    for path in sorted(directory.glob("*.json")):
        out.extend(load_file(path))
    return tuple(out)


def _gateway_key(offer: Offer) -> tuple[str, str, int]:
    return (offer.provider.casefold(), offer.option.value, offer.power_kva)


_GATEWAY_BUCKETS = {"BASE": "base", "HP": "hp", "HC": "hc"}
_GATEWAY_OPTIONS = frozenset(PricingOption[name] for name in ("BASE", "HC_HP", "HC_WEEKEND", "TEMPO", "EJP"))


def from_gateway(offers: Sequence[Offer]) -> list[PricedOffer]:
    """Gateway offers grouped into dated offers (one per provider, name, option and power)."""
    groups: dict[tuple[str, str, str, int], list[Offer]] = {}
    for offer in offers:
        if offer.option not in _GATEWAY_OPTIONS:
            continue
        key = (printable(offer.provider, 60), printable(offer.name, 100), offer.option.value, offer.power_kva)
        groups.setdefault(key, []).append(offer)
    out: list[PricedOffer] = []
    for (provider, name, option, kva), items in groups.items():
        items.sort(key=lambda o: o.valid_from)
        periods = []
        for item in items:
            prices = {_GATEWAY_BUCKETS.get(k.upper(), k.lower()): v for k, v in item.prices_eur_kwh}
            if not BUCKETS_BY_OPTION[option] <= set(prices):
                continue
            periods.append(
                PricePeriod(
                    item.valid_from,
                    item.valid_to,
                    item.subscription_eur_month,
                    prices,
                    item.source or "gateway",
                )
            )
        if periods:
            slug = f"{provider}-{name}-{option}-{kva}".lower().replace(" ", "-")
            out.append(
                PricedOffer(
                    slug,
                    provider,
                    name,
                    option,
                    kva,
                    tuple(periods),
                    offpeak_weekend=option == "HC_WEEKEND",
                    origin="gateway",
                )
            )
    return out


def merge(
    shipped: Iterable[PricedOffer], gateway: Iterable[PricedOffer], user: Iterable[PricedOffer]
) -> list[PricedOffer]:
    """Gateway wins over the shipped catalogue for the same (provider, option, power); the user's
    offers and overrides (same id) win over both."""
    by_id: dict[str, PricedOffer] = {o.id: o for o in shipped}
    for offer in gateway:
        same = [
            k
            for k, o in by_id.items()
            if (o.provider.casefold(), o.option, o.power_kva)
            == (offer.provider.casefold(), offer.option, offer.power_kva)
            and o.origin == "catalogue"
        ]
        for key in same:
            del by_id[key]
        by_id[offer.id] = offer
    for offer in user:
        by_id[offer.id] = replace(offer, origin="user")
    return sorted(by_id.values(), key=lambda o: (o.power_kva, o.provider, o.name, o.id))

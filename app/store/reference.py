"""Reference data: usage points, contracts, addresses, offers, Tempo colours and EcoWatt signals."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select

from app.domain import (
    Address,
    Contract,
    DataKind,
    DateRange,
    EcoWattDay,
    Offer,
    PricingOption,
    TempoColor,
    TempoDay,
    UsagePoint,
)
from app.store.database import Database
from app.store.rows import SHARED, epoch, fit, instant, non_key, offpeak_text, parse_offpeak, pricing_option
from app.store.tables import address, contract, ecowatt_day, offer, tempo_day, usage_point


class ReferenceData:
    """What the gateway says about the usage points and the grid, as opposed to readings."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save_usage_points(self, points: Sequence[UsagePoint]) -> None:
        rows = {
            p.usage_point_id: fit(
                usage_point,
                {
                    "usage_point_id": p.usage_point_id,
                    "name": p.name,
                    "subscribed_power_kva": p.subscribed_power_kva,
                    "pricing_option": PricingOption(p.pricing_option).value,
                    "offpeak_hours": offpeak_text(p.offpeak_hours),
                    "has_consumption": p.has_consumption,
                    "has_production": p.has_production,
                    "is_active": p.is_active,
                    "activation_date": p.activation_date,
                    "oldest_available_data_date": p.oldest_available_data_date,
                    "linked_production_pdl_id": p.linked_production_pdl_id,
                },
            )
            for p in points
        }
        async with self._db.write() as conn:
            await self._db.upsert_rows(conn, usage_point, list(rows.values()), non_key(usage_point))

    async def usage_points(self) -> list[UsagePoint]:
        async with self._db.read() as conn:
            result = await conn.execute(select(usage_point).order_by(usage_point.c.usage_point_id))
            return [
                UsagePoint(
                    usage_point_id=row.usage_point_id,
                    name=row.name,
                    subscribed_power_kva=row.subscribed_power_kva,
                    pricing_option=pricing_option(row.pricing_option),
                    offpeak_hours=parse_offpeak(row.offpeak_hours),
                    has_consumption=bool(row.has_consumption),
                    has_production=bool(row.has_production),
                    is_active=bool(row.is_active),
                    activation_date=row.activation_date,
                    oldest_available_data_date=row.oldest_available_data_date,
                    linked_production_pdl_id=row.linked_production_pdl_id,
                )
                for row in result
            ]

    async def save_contract(self, contract: Contract) -> None:
        row = {
            "usage_point_id": contract.usage_point_id,
            "segment": contract.segment,
            "subscribed_power_kva": contract.subscribed_power_kva,
            "distribution_tariff": contract.distribution_tariff,
            "offpeak_hours": offpeak_text(contract.offpeak_hours),
            "last_activation_date": contract.last_activation_date,
            "last_distribution_tariff_change_date": contract.last_distribution_tariff_change_date,
            "contract_status": contract.contract_status,
            "meter_type": contract.meter_type,
            "usage_point_status": contract.usage_point_status,
        }
        async with self._db.write() as conn:
            await self._db.upsert_rows(
                conn, _contract_table, [fit(_contract_table, row)], non_key(_contract_table)
            )

    async def contract(self, usage_point_id: str) -> Contract | None:
        found = await self._contracts(_contract_table.c.usage_point_id == usage_point_id)
        return found.get(usage_point_id)

    async def contracts(self) -> dict[str, Contract]:
        return await self._contracts(None)

    async def _contracts(self, where: ColumnElement[bool] | None) -> dict[str, Contract]:
        query = select(_contract_table).order_by(_contract_table.c.usage_point_id)
        if where is not None:
            query = query.where(where)
        async with self._db.read() as conn:
            result = await conn.execute(query)
            return {
                row.usage_point_id: Contract(
                    usage_point_id=row.usage_point_id,
                    segment=row.segment,
                    subscribed_power_kva=row.subscribed_power_kva,
                    distribution_tariff=row.distribution_tariff,
                    offpeak_hours=parse_offpeak(row.offpeak_hours),
                    last_activation_date=row.last_activation_date,
                    last_distribution_tariff_change_date=row.last_distribution_tariff_change_date,
                    contract_status=row.contract_status,
                    meter_type=row.meter_type,
                    usage_point_status=row.usage_point_status,
                )
                for row in result
            }

    async def save_address(self, address: Address) -> None:
        row = {
            "usage_point_id": address.usage_point_id,
            "street": address.street,
            "locality": address.locality,
            "postal_code": address.postal_code,
            "insee_code": address.insee_code,
            "city": address.city,
            "country": address.country,
        }
        async with self._db.write() as conn:
            await self._db.upsert_rows(
                conn, _address_table, [fit(_address_table, row)], non_key(_address_table)
            )

    async def address(self, usage_point_id: str) -> Address | None:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(_address_table).where(_address_table.c.usage_point_id == usage_point_id)
            )
            row = result.first()
        if row is None:
            return None
        return Address(
            usage_point_id=row.usage_point_id,
            street=row.street,
            locality=row.locality,
            postal_code=row.postal_code,
            insee_code=row.insee_code,
            city=row.city,
            country=row.country,
        )

    async def save_tempo(self, days: Sequence[TempoDay], covered: Sequence[DateRange]) -> None:
        rows = {d.day: {"day": d.day, "color": TempoColor(d.color).value} for d in days}
        async with self._db.write() as conn:
            await self._db.upsert_rows(conn, tempo_day, list(rows.values()), ("color",))
            await self._db._merge_coverage(conn, SHARED, DataKind.TEMPO, covered)

    async def save_ecowatt(self, days: Sequence[EcoWattDay]) -> None:
        rows = {
            d.day: {
                "day": d.day,
                "level": int(d.level),
                "message": d.message,
                "hourly": json.dumps([int(v) for v in d.hourly]),
                "generated_at": None if d.generated_at is None else epoch(d.generated_at),
            }
            for d in days
        }
        async with self._db.write() as conn:
            await self._db.upsert_rows(conn, ecowatt_day, list(rows.values()), non_key(ecowatt_day))

    async def save_offers(self, offers: Sequence[Offer], *, source: str) -> None:
        """Replace the offers of `source` (the stored offers' `source` is this argument)."""
        wanted: dict[tuple[Any, ...], dict[str, Any]] = {}
        for item in offers:
            row = {
                "source": source,
                "provider": item.provider,
                "name": item.name,
                "option": PricingOption(item.option).value,
                "power_kva": int(item.power_kva),
                "valid_from": item.valid_from,
                "valid_to": item.valid_to,
                "subscription": _decimal_text(item.subscription_eur_month),
                "prices": json.dumps([[bucket, _decimal_text(p)] for bucket, p in item.prices_eur_kwh]),
                "offpeak": offpeak_text(item.offpeak_hours),
            }
            wanted[tuple(row[c.name] for c in offer.primary_key.columns)] = row
        columns = [c.name for c in offer.columns]
        async with self._db.write() as conn:
            result = await conn.execute(select(offer).where(offer.c.source == source))
            stored = {tuple(row._mapping[name] for name in columns) for row in result}
            if stored == {tuple(row[name] for name in columns) for row in wanted.values()}:
                return
            await conn.execute(delete(offer).where(offer.c.source == source))
            if wanted:
                await self._db.execute_many(conn, insert(offer), list(wanted.values()))

    async def tempo(self, first: dt.date, last: dt.date) -> list[TempoDay]:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(tempo_day.c.day, tempo_day.c.color)
                .where(tempo_day.c.day >= first, tempo_day.c.day <= last)
                .order_by(tempo_day.c.day)
            )
            return [TempoDay(day, TempoColor(color)) for day, color in result]

    async def ecowatt(self, first: dt.date, last: dt.date) -> list[EcoWattDay]:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(ecowatt_day)
                .where(ecowatt_day.c.day >= first, ecowatt_day.c.day <= last)
                .order_by(ecowatt_day.c.day)
            )
            return [
                EcoWattDay(
                    day=row.day,
                    level=int(row.level),
                    message=row.message,
                    hourly=tuple(int(v) for v in json.loads(row.hourly)),
                    generated_at=instant(row.generated_at),
                )
                for row in result
            ]

    async def offers(self) -> list[Offer]:
        async with self._db.read() as conn:
            result = await conn.execute(select(offer))
            found = [
                Offer(
                    provider=row.provider,
                    name=row.name,
                    option=pricing_option(row.option),
                    power_kva=int(row.power_kva),
                    subscription_eur_month=Decimal(row.subscription),
                    prices_eur_kwh=_parse_prices(row.prices),
                    valid_from=row.valid_from,
                    valid_to=row.valid_to,
                    offpeak_hours=parse_offpeak(row.offpeak),
                    source=row.source,
                )
                for row in result
            ]
        return sorted(
            found, key=lambda o: (o.provider, o.name, o.option.value, o.power_kva, o.valid_from, o.source)
        )


def _decimal_text(value: Decimal | int | str) -> str:
    number = Decimal(value) if not isinstance(value, Decimal) else value
    if not number.is_finite():
        raise ValueError(f"not a finite price: {value!r}")
    return str(number)


def _parse_prices(text: str) -> tuple[tuple[str, Decimal], ...]:
    return tuple((str(bucket), Decimal(price)) for bucket, price in json.loads(text))


# Aliases: the methods `contract` and `address` shadow the table names inside the class body.
_contract_table = contract
_address_table = address

"""SQLAlchemy Core tables, portable across SQLite, PostgreSQL and MariaDB/MySQL.

Conventions:
- instants are UTC epoch seconds (BIGINT columns named ``*_ts`` or ``*_at``), days are DATE (Paris days);
- energy in Wh (integers), power in W or VA;
- decimals (offer prices) are stored as their exact text, JSON payloads as TEXT;
- string key columns are short enough for MariaDB's index limits under utf8mb4;
- on MariaDB every table is InnoDB, utf8mb4 with a binary collation, so that string keys compare exactly
  as on SQLite and PostgreSQL (no case folding, no trailing-space padding).

Keep `migrations/versions/` in step with this file: a test compares the migrated schema with `metadata`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
)

# Identifier lengths shared with the migration.
PDL = 14  # a Linky usage point id ("PDL"/"PRM") has 14 digits; "" stands for the account as a whole
KIND = 32
DIRECTION = 16
ENUM = 16

MYSQL_TABLE: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

metadata = MetaData()

usage_point = Table(
    "usage_point",
    metadata,
    Column("usage_point_id", String(PDL), nullable=False),
    Column("name", String(255), nullable=False),
    Column("subscribed_power_kva", Integer, nullable=True),
    Column("pricing_option", String(ENUM), nullable=False),
    Column("offpeak_hours", String(255), nullable=False),  # "22:00-06:00;12:00-14:00"
    Column("has_consumption", Boolean, nullable=False),
    Column("has_production", Boolean, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("activation_date", Date, nullable=True),
    Column("oldest_available_data_date", Date, nullable=True),
    Column("linked_production_pdl_id", String(PDL), nullable=True),
    PrimaryKeyConstraint("usage_point_id", name="pk_usage_point"),
    **MYSQL_TABLE,
)

contract = Table(
    "contract",
    metadata,
    Column("usage_point_id", String(PDL), nullable=False),
    Column("segment", String(64), nullable=True),
    Column("subscribed_power_kva", Integer, nullable=True),
    Column("distribution_tariff", String(64), nullable=True),
    Column("offpeak_hours", String(255), nullable=False),
    Column("last_activation_date", Date, nullable=True),
    Column("last_distribution_tariff_change_date", Date, nullable=True),
    Column("contract_status", String(64), nullable=True),
    Column("meter_type", String(64), nullable=True),
    Column("usage_point_status", String(64), nullable=True),
    PrimaryKeyConstraint("usage_point_id", name="pk_contract"),
    **MYSQL_TABLE,
)

address = Table(
    "address",
    metadata,
    Column("usage_point_id", String(PDL), nullable=False),
    Column("street", String(255), nullable=True),
    Column("locality", String(255), nullable=True),
    Column("postal_code", String(16), nullable=True),
    Column("insee_code", String(16), nullable=True),
    Column("city", String(255), nullable=True),
    Column("country", String(64), nullable=True),
    PrimaryKeyConstraint("usage_point_id", name="pk_address"),
    **MYSQL_TABLE,
)

daily_energy = Table(
    "daily_energy",
    metadata,
    Column("usage_point_id", String(PDL), nullable=False),
    Column("direction", String(DIRECTION), nullable=False),
    Column("day", Date, nullable=False),
    Column("wh", BigInteger, nullable=False),
    Column("source", String(ENUM), nullable=False),  # DailySource: "meter" | "curve"
    Column("complete", Boolean, nullable=False),
    PrimaryKeyConstraint("usage_point_id", "direction", "day", name="pk_daily_energy"),
    **MYSQL_TABLE,
)

# The biggest table by far (17,520 rows per direction and year at 30 minutes). On SQLite it is a
# WITHOUT ROWID table: rows are stored in primary-key order, so a range read of one usage point is one
# b-tree walk and the table needs no separate rowid tree.
interval_reading = Table(
    "interval_reading",
    metadata,
    Column("usage_point_id", String(PDL), nullable=False),
    Column("direction", String(DIRECTION), nullable=False),
    Column("start_ts", BigInteger, nullable=False),  # UTC epoch seconds of the interval start
    Column("minutes", SmallInteger, nullable=False),
    Column("average_w", Integer, nullable=True),  # NULL = missing slot (not zero)
    Column("local_day", Date, nullable=False),  # Paris date of start_ts
    PrimaryKeyConstraint("usage_point_id", "direction", "start_ts", name="pk_interval_reading"),
    Index("ix_interval_reading_local_day", "usage_point_id", "direction", "local_day"),
    sqlite_with_rowid=False,
    **MYSQL_TABLE,
)

max_power = Table(
    "max_power",
    metadata,
    Column("usage_point_id", String(PDL), nullable=False),
    Column("day", Date, nullable=False),
    Column("va", Integer, nullable=False),
    Column("at_ts", BigInteger, nullable=True),
    PrimaryKeyConstraint("usage_point_id", "day", name="pk_max_power"),
    **MYSQL_TABLE,
)

tempo_day = Table(
    "tempo_day",
    metadata,
    Column("day", Date, nullable=False),
    Column("color", String(ENUM), nullable=False),
    PrimaryKeyConstraint("day", name="pk_tempo_day"),
    **MYSQL_TABLE,
)

ecowatt_day = Table(
    "ecowatt_day",
    metadata,
    Column("day", Date, nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("message", Text, nullable=False),
    Column("hourly", Text, nullable=False),  # JSON list of ints
    Column("generated_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("day", name="pk_ecowatt_day"),
    **MYSQL_TABLE,
)

offer = Table(
    "offer",
    metadata,
    Column("source", String(64), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("name", String(191), nullable=False),
    Column("option", String(ENUM), nullable=False),
    Column("power_kva", Integer, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("subscription", String(32), nullable=False),  # exact decimal text, EUR per month
    Column("prices", Text, nullable=False),  # JSON [[bucket, "decimal text"], ...], order kept
    Column("offpeak", String(255), nullable=False),  # "22:00-06:00;..."
    PrimaryKeyConstraint("source", "provider", "name", "option", "power_kva", "valid_from", name="pk_offer"),
    **MYSQL_TABLE,
)

sync_coverage = Table(
    "sync_coverage",
    metadata,
    Column("usage_point_id", String(PDL), nullable=False),  # "" for shared kinds (tempo)
    Column("kind", String(KIND), nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    PrimaryKeyConstraint("usage_point_id", "kind", "first_day", name="pk_sync_coverage"),
    **MYSQL_TABLE,
)

fetch_state = Table(
    "fetch_state",
    metadata,
    Column("usage_point_id", String(PDL), nullable=False),
    Column("kind", String(KIND), nullable=False),
    Column("last_fetched_at", BigInteger, nullable=True),
    Column("disabled", Boolean, nullable=False),
    Column("disabled_reason", String(255), nullable=True),
    PrimaryKeyConstraint("usage_point_id", "kind", name="pk_fetch_state"),
    **MYSQL_TABLE,
)

sync_progress = Table(
    "sync_progress",
    metadata,
    Column("usage_point_id", String(PDL), nullable=False),  # "" for the account as a whole
    Column("phase", String(ENUM), nullable=False),
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("step", String(255), nullable=False),
    Column("last_success", BigInteger, nullable=True),
    Column("last_error_code", String(64), nullable=True),
    Column("last_error_message", Text, nullable=True),
    Column("updated_at", BigInteger, nullable=True),
    PrimaryKeyConstraint("usage_point_id", name="pk_sync_progress"),
    **MYSQL_TABLE,
)

gateway_call = Table(
    "gateway_call",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("at_ts", BigInteger, nullable=False),
    Column("route", String(255), nullable=False),
    Column("usage_point_id", String(PDL), nullable=True),
    Column("status", Integer, nullable=True),
    Column("outcome", String(64), nullable=False),
    Column("counts_against_quota", Boolean, nullable=False),
    PrimaryKeyConstraint("id", name="pk_gateway_call"),
    Index("ix_gateway_call_at_ts", "at_ts"),
    **MYSQL_TABLE,
)

setting = Table(
    "setting",
    metadata,
    Column("key", String(191), nullable=False),
    Column("value", Text, nullable=False),  # JSON
    PrimaryKeyConstraint("key", name="pk_setting"),
    **MYSQL_TABLE,
)

# Tables holding data fetched from the gateway (what `Store.snapshot` compares), in a stable order.
DATA_TABLES: tuple[Table, ...] = (
    usage_point,
    contract,
    address,
    daily_energy,
    interval_reading,
    max_power,
    tempo_day,
    ecowatt_day,
    offer,
    sync_coverage,
)

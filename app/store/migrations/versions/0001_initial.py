"""Initial schema.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the sizes used in app/store/tables.py at this revision (never import them here:
# a migration must keep creating the schema it was written for).
PDL = 14
KIND = 32
DIRECTION = 16
ENUM = 16
MYSQL_TABLE: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def upgrade() -> None:
    op.create_table(
        "usage_point",
        sa.Column("usage_point_id", sa.String(PDL), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("subscribed_power_kva", sa.Integer(), nullable=True),
        sa.Column("pricing_option", sa.String(ENUM), nullable=False),
        sa.Column("offpeak_hours", sa.String(255), nullable=False),
        sa.Column("has_consumption", sa.Boolean(), nullable=False),
        sa.Column("has_production", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("activation_date", sa.Date(), nullable=True),
        sa.Column("oldest_available_data_date", sa.Date(), nullable=True),
        sa.Column("linked_production_pdl_id", sa.String(PDL), nullable=True),
        sa.PrimaryKeyConstraint("usage_point_id", name="pk_usage_point"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "contract",
        sa.Column("usage_point_id", sa.String(PDL), nullable=False),
        sa.Column("segment", sa.String(64), nullable=True),
        sa.Column("subscribed_power_kva", sa.Integer(), nullable=True),
        sa.Column("distribution_tariff", sa.String(64), nullable=True),
        sa.Column("offpeak_hours", sa.String(255), nullable=False),
        sa.Column("last_activation_date", sa.Date(), nullable=True),
        sa.Column("last_distribution_tariff_change_date", sa.Date(), nullable=True),
        sa.Column("contract_status", sa.String(64), nullable=True),
        sa.Column("meter_type", sa.String(64), nullable=True),
        sa.Column("usage_point_status", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("usage_point_id", name="pk_contract"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "address",
        sa.Column("usage_point_id", sa.String(PDL), nullable=False),
        sa.Column("street", sa.String(255), nullable=True),
        sa.Column("locality", sa.String(255), nullable=True),
        sa.Column("postal_code", sa.String(16), nullable=True),
        sa.Column("insee_code", sa.String(16), nullable=True),
        sa.Column("city", sa.String(255), nullable=True),
        sa.Column("country", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("usage_point_id", name="pk_address"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "daily_energy",
        sa.Column("usage_point_id", sa.String(PDL), nullable=False),
        sa.Column("direction", sa.String(DIRECTION), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("wh", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(ENUM), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("usage_point_id", "direction", "day", name="pk_daily_energy"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "interval_reading",
        sa.Column("usage_point_id", sa.String(PDL), nullable=False),
        sa.Column("direction", sa.String(DIRECTION), nullable=False),
        sa.Column("start_ts", sa.BigInteger(), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("average_w", sa.Integer(), nullable=True),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("usage_point_id", "direction", "start_ts", name="pk_interval_reading"),
        sqlite_with_rowid=False,
        **MYSQL_TABLE,
    )
    op.create_index(
        "ix_interval_reading_local_day",
        "interval_reading",
        ["usage_point_id", "direction", "local_day"],
    )
    op.create_table(
        "max_power",
        sa.Column("usage_point_id", sa.String(PDL), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("va", sa.Integer(), nullable=False),
        sa.Column("at_ts", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("usage_point_id", "day", name="pk_max_power"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "tempo_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("color", sa.String(ENUM), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_tempo_day"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "ecowatt_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("hourly", sa.Text(), nullable=False),
        sa.Column("generated_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("day", name="pk_ecowatt_day"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "offer",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("name", sa.String(191), nullable=False),
        sa.Column("option", sa.String(ENUM), nullable=False),
        sa.Column("power_kva", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("subscription", sa.String(32), nullable=False),
        sa.Column("prices", sa.Text(), nullable=False),
        sa.Column("offpeak", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint(
            "source", "provider", "name", "option", "power_kva", "valid_from", name="pk_offer"
        ),
        **MYSQL_TABLE,
    )
    op.create_table(
        "sync_coverage",
        sa.Column("usage_point_id", sa.String(PDL), nullable=False),
        sa.Column("kind", sa.String(KIND), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("usage_point_id", "kind", "first_day", name="pk_sync_coverage"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "fetch_state",
        sa.Column("usage_point_id", sa.String(PDL), nullable=False),
        sa.Column("kind", sa.String(KIND), nullable=False),
        sa.Column("last_fetched_at", sa.BigInteger(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("usage_point_id", "kind", name="pk_fetch_state"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "sync_progress",
        sa.Column("usage_point_id", sa.String(PDL), nullable=False),
        sa.Column("phase", sa.String(ENUM), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(255), nullable=False),
        sa.Column("last_success", sa.BigInteger(), nullable=True),
        sa.Column("last_error_code", sa.String(64), nullable=True),
        sa.Column("last_error_message", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("usage_point_id", name="pk_sync_progress"),
        **MYSQL_TABLE,
    )
    op.create_table(
        "gateway_call",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("at_ts", sa.BigInteger(), nullable=False),
        sa.Column("route", sa.String(255), nullable=False),
        sa.Column("usage_point_id", sa.String(PDL), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("counts_against_quota", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gateway_call"),
        **MYSQL_TABLE,
    )
    op.create_index("ix_gateway_call_at_ts", "gateway_call", ["at_ts"])
    op.create_table(
        "setting",
        sa.Column("key", sa.String(191), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_setting"),
        **MYSQL_TABLE,
    )


def downgrade() -> None:
    op.drop_table("setting")
    op.drop_index("ix_gateway_call_at_ts", table_name="gateway_call")
    op.drop_table("gateway_call")
    op.drop_table("sync_progress")
    op.drop_table("fetch_state")
    op.drop_table("sync_coverage")
    op.drop_table("offer")
    op.drop_table("ecowatt_day")
    op.drop_table("tempo_day")
    op.drop_table("max_power")
    op.drop_index("ix_interval_reading_local_day", table_name="interval_reading")
    op.drop_table("interval_reading")
    op.drop_table("daily_energy")
    op.drop_table("address")
    op.drop_table("contract")
    op.drop_table("usage_point")

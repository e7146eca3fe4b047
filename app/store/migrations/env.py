"""Alembic environment.

At run time the store runs migrations itself (`app.store.migrate`): it passes an open synchronous
connection in `config.attributes["connection"]`. From the command line (`alembic -c app/store/alembic.ini
...`), the URL comes from `DATABASE_URL` (normalised like the application does) or the ini file.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import context
from sqlalchemy.engine import Connection

from app.store.engine import create_engine, normalise_database_url
from app.store.tables import metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run_with(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    raw = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url") or ""
    return normalise_database_url(raw, Path(os.environ.get("DATA_DIR", "/data")))


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online_async() -> None:
    engine = create_engine(_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_with)
    finally:
        await engine.dispose()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
    else:
        asyncio.run(_run_online_async())


if context.is_offline_mode():
    run_offline()
else:
    run_online()

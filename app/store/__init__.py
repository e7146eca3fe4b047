"""The local store (SQLAlchemy Core + Alembic): imports only `app.domain` and `app.timeline`."""

from app.store.engine import normalise_database_url
from app.store.repository import Store

__all__ = ["Store", "normalise_database_url"]

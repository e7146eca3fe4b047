"""The local store (SQLAlchemy Core + Alembic): one `Store` facade over rooms (see repository.py).

Imports `app.domain`, and for derived values `app.timeline` (Paris days), `app.tariff_rules` (off-peak
text) and `app.hourly_energy` (curve completion from the meter's daily value)."""

from app.store.engine import normalise_database_url
from app.store.repository import Store

__all__ = ["Store", "normalise_database_url"]

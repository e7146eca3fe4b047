"""The one list of secrets the program knows (settings, exporter secrets, the supervisor's MQTT
credentials), and the log filter that replaces them in every record.

Stdlib only, so that any room (settings, exporters, addon, web) may register a secret the moment it
learns it: at load, at save, when a broker is discovered.
"""

from __future__ import annotations

import logging
import threading

MIN_LENGTH = 4  # shorter values would blank out ordinary words
MASK = "**********"
# Library loggers that echo SQL statements with their parameters (the settings table holds secrets).
SQL_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg", "aiomysql")

_lock = threading.Lock()
_secrets: list[str] = []


def register(*values: object) -> None:
    """Remember secret values (non-strings and short ones are ignored)."""
    with _lock:
        for value in values:
            text = value if isinstance(value, str) else ""
            if len(text) >= MIN_LENGTH and text not in _secrets:
                _secrets.append(text)
        _secrets.sort(key=len, reverse=True)  # longest first: a secret containing another is masked whole


def known() -> list[str]:
    with _lock:
        return list(_secrets)


def redact(text: str, extra: list[str] | None = None) -> str:
    for secret in [*known(), *(extra or [])]:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactFilter(logging.Filter):
    """Replaces every registered secret in a record's message and traceback."""

    def __init__(self, extra: list[str] | None = None) -> None:
        super().__init__()
        self.extra = [s for s in (extra or []) if len(s) >= MIN_LENGTH]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message, self.extra)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.extra)
        return True


def quiet_sql_loggers() -> None:
    """Hold the SQL-echoing library loggers at WARNING whatever the log level."""
    for name in SQL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)

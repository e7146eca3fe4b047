"""Log lines in the add-on's log the way bashio writes them: `[HH:MM:SS] LEVEL: message`.

One line per event: line breaks inside a message are folded, and an exception attached to a record
becomes `: Type: first line of its message` (its traceback only at the debug/trace log levels, where a
developer reads it). The plain program keeps the standard `date level logger: message` lines.
"""

from __future__ import annotations

import logging

BASHIO_LEVELS = {logging.CRITICAL: "FATAL"}
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class BashioFormatter(logging.Formatter):
    def __init__(self, *, tracebacks: bool = False) -> None:
        super().__init__("[%(asctime)s] %(message)s", datefmt="%H:%M:%S")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        level = BASHIO_LEVELS.get(record.levelno, record.levelname)
        message = " ".join(part.strip() for part in record.getMessage().splitlines() if part.strip())
        if record.exc_info and record.exc_info[1] is not None and not self.tracebacks:
            error = record.exc_info[1]
            first = str(error).splitlines()[0] if str(error) else ""
            message += f": {type(error).__name__}" + (f": {first}" if first else "")
        line = f"[{self.formatTime(record, self.datefmt)}] {level}: {message}"
        if self.tracebacks and record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter_for(*, addon: bool, log_level: str) -> logging.Formatter:
    if addon:
        return BashioFormatter(tracebacks=log_level in ("debug", "trace"))
    return logging.Formatter(PLAIN_FORMAT)

"""Logging set-up: upstream's format on stderr, or NDJSON log events in ``--json`` mode."""

from __future__ import annotations

import json
import logging
import sys

from datadog_sync.context import LOGGER_NAME
from datadog_sync.redact import RedactingFilter

LOG_FORMAT = "%(asctime)s - %(levelname)s - %(message)s"


class ErrorCounter(logging.Handler):
    """Counts ERROR records: any error logged during a run makes the exit code 1 (as upstream)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class JsonLogFormatter(logging.Formatter):
    """``{"type":"log","level","message","resource_type"?,"id"?}`` per line (upstream's ``--json`` schema)."""

    def format(self, record: logging.LogRecord) -> str:
        event = {"type": "log", "level": record.levelname, "message": record.getMessage()}
        if getattr(record, "resource_type", None):
            event["resource_type"] = record.resource_type
            event["id"] = getattr(record, "resource_id", "")
        return json.dumps(event)


def setup_logging(*, verbose: bool = False, emit_json: bool = False) -> ErrorCounter:
    """Configure the tool's logger for one command run and return its error counter."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for flt in list(logger.filters):
        logger.removeFilter(flt)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = True  # lets pytest's caplog see records; the root logger has no handler by default
    handler = logging.StreamHandler(sys.stdout if emit_json else sys.stderr)
    handler.setFormatter(JsonLogFormatter() if emit_json else logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)  # the handler's filter masks every line it prints, child loggers' included
    counter = ErrorCounter()
    logger.addHandler(counter)
    return counter

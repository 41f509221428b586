"""Logging set-up: upstream's format on stderr, or NDJSON log events in ``--json`` mode."""

from __future__ import annotations

import json
import logging
import re
import sys

from datadog_sync.context import LOGGER_NAME
from datadog_sync.redact import RedactingFilter

LOG_FORMAT = "%(asctime)s - %(levelname)s - %(message)s"

# C0 controls, DEL, C1 controls (\x9b is a one-byte CSI on some terminals) and the Unicode line separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_control(text: str) -> str:
    """``text`` with every control character written as a JSON-style escape (``\\n``, ``\\u001b``), as ``diffs``
    shows values: API data (a role name, an HTML error body) can neither forge a log line nor drive the terminal."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group()) or f"\\u{ord(m.group()):04x}", text)


#: ``extra=`` of a record whose line breaks are its own layout (upstream's pformat-ed ``diffs`` lines): the formatter
#: keeps them and escapes every other control character. pformat writes strings as repr(), which escapes their
#: control characters, and the caller escapes the id it puts in the prefix.
MULTILINE = {"multiline": True}


class OwnLines:
    """A message whose line breaks are the tool's own (``OwnLines("refused: %s", exc)``, ``OwnLines("found:\n
    %s\n  %s", a, b)``): when it is logged, the template keeps its line breaks and its parts are escaped as API
    data, except the line breaks an argument's ``log_text()`` keeps (an HTTP error's ``hint:`` line). The template
    is the tool's own text: API data goes in the parts. Logged as an argument (``logger.error("%s", message)``) or
    inside another ``OwnLines``."""

    def __init__(self, template: str, *parts: object) -> None:
        self.template = template
        self.parts = parts

    def log_text(self) -> str:
        template = "\n".join(escape_control(line) for line in self.template.split("\n"))
        return template % tuple(_shown(part) for part in self.parts)

    def __str__(self) -> str:
        return self.template % self.parts


class HintedText:
    """A failure reason that may end with the ``hint:`` line of the HTTP error behind it (our own text): logged, the
    reason is escaped as API data and the hint keeps its own line."""

    def __init__(self, text: str, error: BaseException | None) -> None:
        cause = error if hasattr(error, "hint") else getattr(error, "__cause__", None)
        hint = getattr(cause, "hint", None)
        own = f"\nhint: {hint}" if isinstance(hint, str) and hint else ""
        self.text, self.own = (text[: -len(own)], own) if own and text.endswith(own) else (text, "")

    def log_text(self) -> str:
        return escape_control(self.text) + ("\n" + escape_control(self.own[1:]) if self.own else "")

    def __str__(self) -> str:
        return self.text + self.own


class _Shown:
    """A log argument's text, already escaped, for both ``%s`` and ``%r``."""

    def __init__(self, text: str, rep: str) -> None:
        self.text, self.rep = text, rep

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.rep


def _shown(value: object) -> object:
    if hasattr(value, "log_text"):
        text = value.log_text()
        return _Shown(text, text)
    if isinstance(value, (int, float)):  # no control characters, and %d / %.1f still apply
        return value
    return _Shown(escape_control(str(value)), escape_control(repr(value)))


class ErrorCounter(logging.Handler):
    """Counts ERROR records: any error logged during a run makes the exit code 1 (as upstream)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class TextLogFormatter(logging.Formatter):
    """Upstream's text format; the message is escaped (tracebacks, which only our code produces, are not).
    ``--json`` needs no escaping: json.dumps escapes control characters."""

    def __init__(self) -> None:
        super().__init__(LOG_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        if getattr(record, "multiline", False):
            return "\n".join(escape_control(line) for line in text.split("\n"))
        args = record.args
        if isinstance(args, tuple) and any(hasattr(arg, "log_text") for arg in args):
            # Each argument escaped on its own, so that an OwnLines or HTTP error keeps its own line breaks.
            try:
                record.message = escape_control(str(record.msg)) % tuple(_shown(arg) for arg in args)
            except (TypeError, ValueError):
                return escape_control(text)
            return super().formatMessage(record)
        return escape_control(text)


class JsonLogFormatter(logging.Formatter):
    """``{"type":"log","level","message","resource_type"?,"id"?}`` per line (upstream's ``--json`` schema)."""

    def format(self, record: logging.LogRecord) -> str:
        event = {"type": "log", "level": record.levelname, "message": record.getMessage()}
        resource_type = getattr(record, "resource_type", None)
        if resource_type:
            event["resource_type"] = resource_type
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
    handler.setFormatter(JsonLogFormatter() if emit_json else TextLogFormatter())
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)  # the handler's filter masks every line it prints, child loggers' included
    counter = ErrorCounter()
    logger.addHandler(counter)
    return counter

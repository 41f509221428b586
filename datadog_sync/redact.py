"""Keep secrets out of logs.

Two complementary mechanisms:

* :func:`redact` masks the *values* of fields whose *names* look secret (``api_key``, ``secret_access_key``,
  ``password`` ...) in JSON-like data before it is logged.
* A module-level registry of secret *values* (API keys, application keys, AWS secret access keys) filled with
  :func:`register_secret`. :func:`redact_text` masks them in any text, and :class:`RedactingFilter` does it for
  every log record (message, args and formatted traceback) so no log line can leak them wherever they appear.
  Attach the filter to the *handlers* (a filter on a logger does not see records propagated from child loggers);
  :func:`install_redacting_filter` does that.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Any

__all__ = [
    "MASK",
    "SECRET_FIELD_PATTERN",
    "RedactingFilter",
    "install_redacting_filter",
    "is_secret_field",
    "redact",
    "redact_text",
    "register_secret",
    "registered_secret_count",
]

MASK = "***"

# Matched anywhere in a field name, case-insensitively: secret, secret_access_key, client_secret, secretAccessKey,
# api_key, apiKey, DD-API-KEY, app_key, application_key, DD-APPLICATION-KEY, password, passwd, token,
# access_token, private_key, authorization, dd-auth-jwt, PagerDuty's service_key. ``access_key_id`` and
# ``external_id`` are not secret.
SECRET_FIELD_PATTERN = re.compile(
    r"secret|passw(?:or)?d|token|api[_-]?key|app(?:lication)?[_-]?key|private[_-]?key|service[_-]?key|authorization"
    r"|jwt",
    re.IGNORECASE,
)

MIN_SECRET_LENGTH = 4


@lru_cache(maxsize=4096)
def is_secret_field(name: str) -> bool:
    """True when a field called *name* holds a secret (cached: field names repeat a lot)."""
    return SECRET_FIELD_PATTERN.search(name) is not None


def redact(obj: Any) -> Any:
    """Return *obj* with the values of secret-looking fields replaced by ``"***"``, recursing into dicts and lists.

    The input is never modified. When nothing needs masking the input object itself is returned (no copy);
    otherwise only the containers on the path to a masked value are copied and the rest is shared, so treat
    the result as read-only. ``None``, booleans and empty strings are left as they are (nothing to hide).
    """
    if isinstance(obj, dict):
        return _redact_dict(obj)
    if isinstance(obj, list):
        return _redact_list(obj)
    return obj


def _redact_dict(d: dict) -> dict:
    out = None
    new: Any
    for key, value in d.items():
        if isinstance(key, str) and is_secret_field(key):
            if not _maskable(value):
                continue
            new = MASK
        elif isinstance(value, (dict, list)):
            new = _redact_dict(value) if isinstance(value, dict) else _redact_list(value)
            if new is value:
                continue
        else:
            continue
        if out is None:
            out = dict(d)
        out[key] = new
    return d if out is None else out


def _maskable(value: Any) -> bool:
    """Whether a secret-looking field's value could be a secret. Booleans and null are flags, never secrets: they
    stay readable (``secretless_auth_enabled: true``, a webhook variable's ``is_secret``). Strings, numbers and
    containers are masked, whatever they hold."""
    return not (value is None or isinstance(value, bool) or value == "" or value == MASK)


def _redact_list(items: list) -> list:
    out = None
    new: Any
    for i, value in enumerate(items):
        if isinstance(value, dict):
            new = _redact_dict(value)
        elif isinstance(value, list):
            new = _redact_list(value)
        else:
            continue
        if new is value:
            continue
        if out is None:
            out = list(items)
        out[i] = new
    return items if out is None else out


# --- registry of secret values ------------------------------------------------------------------------------

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_re: re.Pattern[str] | None = None
_compiled_count = 0  # how many secrets _secret_re covers; compiled lazily, as runs register thousands


def _pattern() -> re.Pattern[str] | None:
    """One pattern matching every registered secret, recompiled only when secrets were added since."""
    global _secret_re, _compiled_count
    if _compiled_count != len(_secrets):
        with _lock:
            _secret_re = re.compile(_trie_pattern(_secrets)) if _secrets else None
            _compiled_count = len(_secrets)
    return _secret_re


def _trie_pattern(words: set[str]) -> str:
    """A regex of ``words`` with shared prefixes factored out, so a search with thousands of secrets costs about
    as much as with a few (a flat alternation tries every secret at every position of every log line).
    Optional tails are greedy, so a secret that contains another one as a prefix is masked whole."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a word ends here and longer ones go on
            return ("(?:" + body + ")?") if len(branches) == 1 else body + "?"
        return body

    return build(trie)


def register_secret(value: str | None) -> None:
    """Remember *value* so that :func:`redact_text` and :class:`RedactingFilter` mask it.

    ``None`` and values shorter than 4 characters are ignored (masking them would garble ordinary text).
    """
    if not value or not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.add(value)


def registered_secret_count() -> int:
    return len(_secrets)


def _clear_secrets() -> None:
    """Forget all registered secrets (for tests)."""
    global _secret_re, _compiled_count
    with _lock:
        _secrets.clear()
        _secret_re = None
        _compiled_count = 0


def redact_text(text: str) -> str:
    """Replace every registered secret value inside *text* with ``"***"``."""
    pattern = _pattern()
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Mask registered secret values in every record passing through the handler it is attached to.

    The record's message is rendered once (``msg % args``); when it contains a secret, ``record.msg`` becomes the
    masked text and ``record.args`` is cleared. A formatted traceback (``exc_info``) and ``stack_info`` are masked
    the same way. Records are never dropped.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        pattern = _pattern()
        if pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return True
        if pattern.search(message):
            record.msg = pattern.sub(MASK, message)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and pattern.search(record.exc_text):
            record.exc_text = pattern.sub(MASK, record.exc_text)
        if record.stack_info and pattern.search(record.stack_info):
            record.stack_info = pattern.sub(MASK, record.stack_info)
        return True


def install_redacting_filter(*handlers: logging.Handler) -> RedactingFilter:
    """Attach one shared :class:`RedactingFilter` to *handlers*.

    Without arguments, attach it to every handler of the root logger and of the ``datadog_sync`` logger (call this
    after logging is configured). Idempotent: a handler that already has a RedactingFilter is left alone.
    """
    if not handlers:
        handlers = tuple(logging.getLogger().handlers) + tuple(logging.getLogger("datadog_sync").handlers)
    shared = RedactingFilter()
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(shared)
    return shared

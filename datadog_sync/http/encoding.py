"""Request and response bodies as they go on the wire: query strings, compact JSON, lenient body decoding, and
the redacted, truncated text of a body that ``--verbose`` logs."""

from __future__ import annotations

import json as _json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from datadog_sync.jsonshare import LARGE_BODY, loads_shared
from datadog_sync.redact import redact_text

__all__ = ["DEBUG_BODY_LIMIT", "debug_text", "decode_body", "dumps", "encode_params"]

DEBUG_BODY_LIMIT = 4000

#: Compact JSON, non-ASCII kept as is (what the API clients send).
dumps = _json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

#: Characters ``quote`` never escapes: ids and most values need no escaping, and matching is 10x cheaper.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def _param_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _quote(text: str) -> str:
    return text if _UNRESERVED(text) else quote(text, safe="")


def encode_params(params: Mapping[str, Any]) -> str:
    """Query string in the mapping's order. ``None`` values are skipped, lists/tuples repeat the key, booleans are
    ``true``/``false``; everything else is percent-encoded (space as ``%20``, ``page%5Bsize%5D``), as on the wire."""
    parts: list[str] = []
    for key, value in params.items():
        if value is None:
            continue
        name = _quote(str(key))
        for v in value if isinstance(value, (list, tuple)) else (value,):
            parts.append(f"{name}={_quote(_param_value(v))}")
    return "&".join(parts)


def decode_body(body: bytes) -> Any:
    """Parsed JSON, ``None`` for an empty body, or the text when the body is not JSON."""
    if not body or body.isspace():
        return None
    try:
        # A large body (a listing of thousands of accounts) keeps one copy of each repeated string.
        return loads_shared(body) if len(body) > LARGE_BODY else _json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def debug_text(text: str) -> str:
    """*text* with secrets redacted, cut at :data:`DEBUG_BODY_LIMIT` characters."""
    text = redact_text(text)
    if len(text) > DEBUG_BODY_LIMIT:
        text = f"{text[:DEBUG_BODY_LIMIT]}... ({len(text)} chars)"
    return text

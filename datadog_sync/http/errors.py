"""Exceptions raised by the HTTP client and the parsing of Datadog error bodies."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

__all__ = [
    "CertificateError",
    "CircuitOpenError",
    "ConnectionFailed",
    "HTTPError",
    "NotJSONResponse",
    "RequestTimeout",
    "RetryBudgetExceeded",
    "TransportError",
    "parse_error_messages",
    "reason_phrase",
]

MAX_TEXT = 200

_TAG_RE = re.compile(r"<[^>]*>")
_DROP_BLOCKS_RE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TITLE_RE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_WS_RE = re.compile(r"\s+")
_API_KEY_MSG_RE = re.compile(r"api[ _-]?key", re.IGNORECASE)


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        if 500 <= status < 600:
            return "Server Error"
        if 400 <= status < 500:
            return "Client Error"
        return "Unknown Status"


def _text_message(text: str) -> list[str]:
    """First 200 characters of a (possibly HTML) text body, tags stripped and whitespace collapsed."""
    if "<" in text and ">" in text:
        title = _TITLE_RE.search(text)
        stripped = _TAG_RE.sub(" ", _DROP_BLOCKS_RE.sub(" ", text))
        if title:
            # <title> lives in <head>, dropped above; keep it as the lead of the message.
            stripped = title.group(1) + " " + stripped
        text = html.unescape(stripped)
    text = _WS_RE.sub(" ", text).strip()
    return [text[:MAX_TEXT]] if text else []


def _error_item(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        title = item.get("title")
        detail = item.get("detail")
        parts = [str(p) for p in (title, detail) if p not in (None, "")]
        if len(parts) == 2 and parts[0] == parts[1]:
            parts.pop()
        text = ": ".join(parts)
        meta = item.get("meta")
        if isinstance(meta, Mapping) and meta:
            extra = ", ".join(f"{k}: {v}" for k, v in meta.items())
            text = f"{text} ({extra})" if text else extra
        if text:
            return text
        for key in ("message", "code", "status"):
            if item.get(key) not in (None, ""):
                return str(item[key])
    return json.dumps(item, separators=(",", ":"), default=str)[:MAX_TEXT]


def parse_error_messages(body: Any) -> list[str]:
    """Human-readable messages from a Datadog error body.

    Handles ``{"errors": ["str", ...]}`` (v1 / spec shape), ``{"errors": [{"status", "title", "detail", "meta"?}]}``
    (JSON:API shape, rendered ``"title: detail (meta_key: meta_value)"``), a few other ``error``/``message`` keys,
    raw bytes, JSON text, and non-JSON text or HTML (first 200 characters, tags stripped).
    """
    if body is None:
        return []
    if isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        stripped = body.strip()
        if not stripped:
            return []
        if stripped[0] in "{[":
            try:
                return parse_error_messages(json.loads(stripped))
            except ValueError:
                pass
        return _text_message(stripped)
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list):
            return [m for m in (_error_item(e) for e in errors) if m]
        if isinstance(errors, str) and errors:
            return [errors]
        for key in ("error", "message", "detail", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return [value]
            if isinstance(value, Mapping) and value:
                return [_error_item(value)]
        return [json.dumps(body, separators=(",", ":"), default=str)[:MAX_TEXT]] if body else []
    if isinstance(body, list):
        return [m for m in (_error_item(e) for e in body) if m]
    return [str(body)[:MAX_TEXT]]


def _env_prefix(org: str) -> str:
    return "DD_" + re.sub(r"[^A-Za-z0-9]+", "_", org).upper()


def _attempts_note(attempts: int, elapsed: float) -> str:
    return f"gave up after {attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.1f}s"


class HTTPError(Exception):
    """A non-2xx answer from the API (after any retries).

    ``messages`` are parsed from the body (both Datadog error shapes, or the text of an HTML page). ``str()`` is
    ``"<status> <reason> on <METHOD> <path> (<org>): <messages joined '; '>"``, followed by a hint line for 401/403.
    ``attempts``/``elapsed`` describe the whole request; ``retries_exhausted`` is True when the request was retried
    and the client gave up (budget, max attempts, or a rate-limit reset beyond the budget); ``note`` explains why.
    """

    def __init__(
        self,
        status: int,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        org: str = "destination",
        permission: str | None = None,
        attempts: int = 1,
        elapsed: float = 0.0,
        retries_exhausted: bool = False,
        note: str | None = None,
    ) -> None:
        super().__init__(status, method, path)
        self.status = status
        self.method = method
        self.path = path
        self.body = body
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.org = org
        self.permission = permission
        self.attempts = attempts
        self.elapsed = elapsed
        self.retries_exhausted = retries_exhausted
        self.note = note
        #: An earlier attempt of this request got no answer or a 5xx, so it may have been applied (set by the client).
        self.earlier_attempt_may_have_applied = False
        self._messages: list[str] | None = None

    @property
    def messages(self) -> list[str]:
        if self._messages is None:
            self._messages = parse_error_messages(self.body)
        return self._messages

    @messages.setter
    def messages(self, value: list[str]) -> None:
        self._messages = list(value)

    @property
    def reason(self) -> str:
        return reason_phrase(self.status)

    @property
    def is_api_key_error(self) -> bool:
        """The body says the *API key* (not the application key) is missing or invalid."""
        if self.status not in (401, 403):
            return False
        if self.path.split("?", 1)[0].rstrip("/") == "/api/v1/validate":
            return True
        return any(_API_KEY_MSG_RE.search(m) for m in self.messages)

    @property
    def hint(self) -> str | None:
        if self.status not in (401, 403):
            return None
        prefix = _env_prefix(self.org)
        if self.is_api_key_error:
            return f"check the {self.org} API key ({prefix}_API_KEY)"
        if self.permission:
            return f"the {self.org} application key or its owner lacks the `{self.permission}` permission"
        if self.status == 401:
            return f"check the {self.org} application key ({prefix}_APP_KEY)"
        return (
            f"check the {self.org} application key ({prefix}_APP_KEY): it is invalid, "
            "or it or its owner lacks a permission this call needs"
        )

    def __str__(self) -> str:
        text = f"{self.status} {self.reason} on {self.method} {self.path} ({self.org})"
        messages = self.messages
        if messages:
            text += ": " + "; ".join(messages)
        if self.note:
            text += f" ({self.note})"
        hint = self.hint
        if hint:
            text += f"\nhint: {hint}"
        return text

    def log_text(self) -> str:
        """What a log line shows: ``str()`` with the API's parts escaped (datadog_sync.log), the hint on a line of
        its own (subclasses with their own ``__str__`` included)."""
        from datadog_sync.log import escape_control  # the http package does not depend on logging set-up

        text, hint = str(self), self.hint
        own = f"\nhint: {hint}" if hint else ""
        if own and text.endswith(own):
            return escape_control(text[: -len(own)]) + own
        return escape_control(text)


class RetryBudgetExceeded(HTTPError):
    """The last HTTP error of a retried request, raised once retrying stopped (``retries_exhausted`` is True).

    Subclass of :class:`HTTPError`, so ``except HTTPError`` and ``err.status`` keep working.
    """

    @classmethod
    def from_error(cls, err: HTTPError, *, attempts: int, elapsed: float, reason: str | None = None):
        note = _attempts_note(attempts, elapsed)
        if reason:
            note += f": {reason}"
        new = cls(
            err.status,
            err.method,
            err.path,
            err.body,
            err.headers,
            org=err.org,
            permission=err.permission,
            attempts=attempts,
            elapsed=elapsed,
            retries_exhausted=True,
            note=note,
        )
        new._messages = err._messages
        new.earlier_attempt_may_have_applied = err.earlier_attempt_may_have_applied
        return new


class NotJSONResponse(HTTPError):
    """A 2xx answer that is text or HTML, not JSON: whatever answered is not a Datadog API (a proxy's login page,
    a wrong host). Raised instead of handing text to code that expects JSON; ``url`` is the client's base URL."""

    def __init__(self, status: int, method: str, path: str, body: Any, headers: Mapping[str, str], **kw: Any) -> None:
        self.url = kw.pop("url", "")
        super().__init__(status, method, path, body, headers, **kw)

    def __str__(self) -> str:
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        text = f"{self.method} {self.path} ({self.org}) answered {self.status} with {content_type}, not a JSON object"
        if self.messages:
            text += f" ({self.messages[0]})"
        url_option = f"--{self.org}-api-url ({_env_prefix(self.org)}_API_URL)"
        return f"{text}: {self.url or 'the API URL'} does not look like a Datadog API; check {url_option}"


class TransportError(Exception):
    """The request got no HTTP answer (connection failure, timeout). ``str()`` is never empty.

    The transport raises it with ``method``/``url``; the client fills in ``org``, ``path``, ``attempts``,
    ``elapsed``, and ``retries_exhausted``/``note`` when it gave up retrying.
    """

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message or type(self).__name__
        self.method = method
        self.url = url
        self.org: str | None = None
        self.path: str | None = None
        self.attempts = 1
        self.elapsed = 0.0
        self.retries_exhausted = False
        self.note: str | None = None

    #: Whether another attempt could succeed (for reads and idempotent writes).
    retryable = True
    #: Whether the request may have reached the server. False only when no connection was made (refused, DNS,
    #: connect timeout, TLS): such an attempt was certainly not applied.
    may_have_been_sent = True

    def __str__(self) -> str:
        text = self.message
        target = self.path or self.url
        if self.method and target:
            text += f" on {self.method} {target}"
        if self.org:
            text += f" ({self.org})"
        if self.note:
            text += f" ({self.note})"
        return text


class ConnectionFailed(TransportError):
    """Could not connect, or the connection broke before a complete response arrived."""


class RequestTimeout(TransportError):
    """Connecting or reading the response took longer than the timeout."""


class NotConnected(ConnectionFailed):
    """No connection was made (refused, name resolution, connect timeout): nothing was sent."""

    may_have_been_sent = False


class ConnectTimeout(RequestTimeout):
    """Connecting took longer than the timeout: nothing was sent."""

    may_have_been_sent = False


class CertificateError(NotConnected):
    """The server's TLS certificate failed verification. Never retried: trying again cannot fix it."""

    retryable = False


class CircuitOpenError(Exception):
    """Requests to an org's API are paused after too many consecutive server failures.

    Raised without any network call when the request's remaining retry budget cannot cover the rest of the
    cool-down. ``retry_in`` is the cool-down left at that moment; ``last_error`` the request's previous failure.
    """

    def __init__(
        self,
        org: str,
        failures: int,
        cooldown: float,
        *,
        retry_in: float | None = None,
        method: str | None = None,
        path: str | None = None,
        last_error: BaseException | None = None,
    ) -> None:
        self.org = org
        self.failures = failures
        self.cooldown = cooldown
        self.retry_in = cooldown if retry_in is None else retry_in
        self.method = method
        self.path = path
        self.last_error = last_error
        super().__init__(str(self))

    def __str__(self) -> str:
        return (
            f"{self.org} API unavailable: {self.failures} consecutive server errors; "
            f"pausing requests for {self.cooldown:g}s"
        )

    def __reduce__(self):
        return (_rebuild_plain, (type(self), dict(self.__dict__)))


def _rebuild_plain(cls, state):
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj

"""One request's attempts: the bookkeeping its retry loop shares, and the errors it ends with."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from datadog_sync.http.encoding import decode_body
from datadog_sync.http.errors import HTTPError, RetryBudgetExceeded, _attempts_note
from datadog_sync.http.transport import Response

__all__ = ["Call", "give_up", "http_error"]


@dataclass(slots=True)
class Call:
    """One request's fixed inputs and retry bookkeeping: built once per request, shared by its attempts."""

    method: str
    path: str
    url: str
    body: bytes | None
    is_read: bool
    retry_transport: bool  # connection errors may be retried (reads, or idempotent=True)
    permission: str | None
    retry_on: Callable[[HTTPError], bool] | None
    exclusive: asyncio.Lock | None
    on_attempt: Callable[[str], None] | None
    debug: bool
    start: float
    deadline: float
    attempt: int = 0
    # Server errors, connection errors and retried conflicts drive their backoff and their own attempt cap;
    # 429s count apart, so a request that waited out rate limits still gets its full share of error retries.
    failures: int = 0
    throttled: int = 0
    last_error: BaseException | None = None
    # A lost answer or a 5xx may hide an applied write; a 4xx answer (409 conflict, 429) or a connection
    # that was never made proves it was not.
    uncertain: bool = False
    probe: int = 0  # the circuit breaker's probe ticket for the current attempt (0: not a probe)
    t0: float = 0.0  # perf_counter when the current attempt was sent, for debug timings


def http_error(resp: Response, call: Call, org: str, elapsed: float) -> HTTPError:
    """The error for a non-2xx answer; a 3xx says where it pointed (redirects are never followed)."""
    err = HTTPError(
        resp.status,
        call.method,
        call.path,
        decode_body(resp.body),
        resp.headers,
        org=org,
        permission=call.permission,
        attempts=call.attempt,
        elapsed=elapsed,
    )
    if 300 <= resp.status < 400:
        location = resp.headers.get("Location")
        err.note = f"redirected to {location}; check the site / API URL" if location else "unexpected redirect"
    return err


def give_up(error: BaseException, attempt: int, elapsed: float, reason: str | None) -> NoReturn:
    """Raise *error* marked as out of retries: HTTP errors as :class:`RetryBudgetExceeded`, others annotated."""
    if isinstance(error, HTTPError):
        raise RetryBudgetExceeded.from_error(error, attempts=attempt, elapsed=elapsed, reason=reason) from None
    note = _attempts_note(attempt, elapsed)
    if reason:
        note += f": {reason}"
    error.retries_exhausted = True  # type: ignore[attr-defined]
    error.note = note  # type: ignore[attr-defined]
    error.attempts = attempt  # type: ignore[attr-defined]
    error.elapsed = elapsed  # type: ignore[attr-defined]
    raise error

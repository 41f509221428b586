"""Retry policy, wait computation and the per-org circuit breaker.

Waits (all in seconds, all jittered with the client's ``rng``):

* backoff (5xx/512, connection errors on retryable requests, ``retry_on`` 4xx, 429 without a usable reset header):
  ``min(backoff_base * 2**(attempt-1), backoff_max)`` scaled by a random factor in ``[1-jitter, 1+jitter]``.
* ``Retry-After`` on a 5xx (seconds or HTTP-date): ``min(value, backoff_max)`` scaled by ``[1, 1+jitter]``
  (never earlier than asked).
* 429 with ``X-RateLimit-Reset: r``: ``r`` scaled by ``[1, 1+jitter]`` (never earlier than the reset; the spread
  keeps concurrent requests from all firing at the calendar-aligned reset). ``r == 0`` ("window already reset")
  waits a random ``[0, jitter * backoff_base]`` (0-0.1 s with the defaults) so a burst of 429s does not come back
  in lock-step.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from datadog_sync.http.errors import CircuitOpenError

__all__ = ["CircuitBreaker", "RetryPolicy", "parse_rate_limit_reset", "parse_retry_after"]


@dataclass(frozen=True)
class RetryPolicy:
    retry_timeout: float = 60.0  # total retry budget per request, seconds (--http-client-retry-timeout)
    backoff_base: float = 0.5  # first wait for 5xx/512; doubles each retry
    backoff_max: float = 30.0
    jitter: float = 0.2  # +- fraction applied to every wait
    max_attempts: int = 10
    breaker_threshold: int = 10  # consecutive server failures (5xx/512/connection errors) across the org's requests
    breaker_cooldown: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.retry_timeout < 0 or self.backoff_base < 0 or self.backoff_max < 0 or self.breaker_cooldown < 0:
            raise ValueError("retry durations must be >= 0")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.breaker_threshold < 1:
            raise ValueError("breaker_threshold must be >= 1")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Wait after failed attempt number *attempt* (1-based)."""
        wait = min(self.backoff_base * (2 ** min(attempt - 1, 62)), self.backoff_max)
        if self.jitter:
            wait *= 1.0 + rng.uniform(-self.jitter, self.jitter)
        return wait

    def at_least(self, wait: float, rng: random.Random) -> float:
        """*wait* stretched by up to ``jitter`` (never shorter)."""
        if wait <= 0:
            return rng.uniform(0.0, self.jitter * self.backoff_base) if self.jitter else 0.0
        return wait * (1.0 + rng.uniform(0.0, self.jitter)) if self.jitter else wait


def parse_rate_limit_reset(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``X-RateLimit-Reset`` (``headers`` must be case-insensitive); None if absent or not a number."""
    value = headers.get("X-RateLimit-Reset")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except (ValueError, AttributeError):
        return None
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(seconds, 0.0)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or HTTP-date, clamped at 0); None if absent or unparsable."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:
        return None
    return max(seconds, 0.0)


CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


class CircuitBreaker:
    """Pause an org's requests after ``threshold`` consecutive server failures.

    A *server failure* is an attempt answered with 5xx (512 included) or that failed in the transport; any other
    answer (2xx-4xx, 429 included) resets the count. At the threshold the breaker opens for ``cooldown`` seconds
    (``on_open`` is called once per opening, for logging). While open, :meth:`before_attempt` raises
    :class:`CircuitOpenError` at once: waiting out the cool-down, request after request, made a run against a
    down org last minutes. Once the cool-down is over exactly one *probe* attempt goes out (half-open) while the
    others wait for its outcome: success closes the breaker, failure re-opens it for another cool-down.

    Not thread-safe; use it from one event loop. The probe-wait event is created lazily inside the running loop.
    """

    def __init__(
        self,
        threshold: int = 10,
        cooldown: float = 30.0,
        *,
        org: str = "destination",
        clock: Callable[[], float] = time.monotonic,
        on_open: Callable[[CircuitBreaker, bool], None] | None = None,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.org = org
        self.state = CLOSED
        self.failures = 0  # consecutive server failures
        self.open_until = 0.0
        self.times_opened = 0
        self._opened_with = 0
        self._clock = clock
        self._on_open = on_open
        self._probe_id = 0  # id of the in-flight half-open probe, 0 when none
        self._probe_seq = 0
        self._probe_done: asyncio.Event | None = None

    @property
    def is_closed(self) -> bool:
        return self.state == CLOSED

    def _error(self, retry_in: float, method: str | None, path: str | None, last_error: BaseException | None):
        return CircuitOpenError(
            self.org,
            self._opened_with,
            self.cooldown,
            retry_in=retry_in,
            method=method,
            path=path,
            last_error=last_error,
        )

    async def before_attempt(
        self,
        deadline: float,
        *,
        method: str | None = None,
        path: str | None = None,
        last_error: BaseException | None = None,
    ) -> int:
        """Wait until an attempt may be sent (``deadline`` on the breaker's clock).

        Returns 0 for a normal attempt, or a (truthy) probe id when the caller is the half-open probe. The caller
        reports the outcome with :meth:`record_success`/:meth:`record_failure` passing that id, or calls
        :meth:`release_probe` if the attempt ended otherwise (cancelled, unexpected exception).
        Raises :class:`CircuitOpenError` while the breaker is open, or when the deadline comes before the probe's
        outcome.
        """
        while True:
            state = self.state
            if state == CLOSED:
                return 0
            now = self._clock()
            if state == OPEN:
                left = self.open_until - now
                if left > 0:
                    raise self._error(left, method, path, last_error)
                self.state = HALF_OPEN
            if not self._probe_id:
                self._probe_seq += 1
                self._probe_id = self._probe_seq
                self._probe_done = asyncio.Event()
                return self._probe_id
            event = self._probe_done
            assert event is not None
            remaining = deadline - now
            if remaining <= 0:
                raise self._error(self.cooldown, method, path, last_error)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except asyncio.TimeoutError:
                raise self._error(self.cooldown, method, path, last_error) from None

    def _finish_probe(self) -> None:
        self._probe_id = 0
        event, self._probe_done = self._probe_done, None
        if event is not None:
            event.set()

    def record_success(self, probe: int = 0) -> None:
        """An answer that is not a server failure: reset the count and close the breaker."""
        self.failures = 0
        self.state = CLOSED
        if self._probe_id:
            self._finish_probe()

    def record_failure(self, probe: int = 0) -> None:
        """A server failure (5xx or transport error)."""
        self.failures += 1
        if probe and probe == self._probe_id:
            self._open(reopened=True)
            self._finish_probe()
        elif self.state == CLOSED and self.failures >= self.threshold:
            self._open(reopened=False)

    def release_probe(self, probe: int) -> None:
        """The probe ended without an outcome: stay half-open and let a waiter probe instead."""
        if probe and probe == self._probe_id:
            self._finish_probe()

    def _open(self, *, reopened: bool) -> None:
        self.state = OPEN
        self.open_until = self._clock() + self.cooldown
        self._opened_with = self.failures
        self.times_opened += 1
        if self._on_open is not None:
            self._on_open(self, reopened)

    def refuse(self, *, method: str, path: str, last_error: BaseException | None = None) -> CircuitOpenError:
        """The error for an attempt that was queued (e.g. on a write lock) while the breaker opened: it is not sent."""
        return self._error(max(self.open_until - self._clock(), 0.0), method, path, last_error)

    def open_error(self) -> CircuitOpenError:
        """The error describing the current opening (for logging)."""
        return self._error(max(self.open_until - self._clock(), 0.0), None, None, None)

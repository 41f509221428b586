"""Async Datadog API client: one per org, retries, circuit breaker, stats, secret-safe logging.

Retry rules (waits go through the injected ``sleep`` and are jittered with the injected ``rng``, see
:mod:`datadog_sync.http.retry` for the wait formulas):

* 2xx: the parsed JSON body (``None`` for an empty body); text or HTML raises :class:`NotJSONResponse`.
* 429: wait ``X-RateLimit-Reset`` seconds; raise at once if that is beyond the request's remaining budget. Without
  a numeric reset header: exponential backoff.
* 5xx (512 included), any method: backoff, or ``Retry-After`` capped at ``backoff_max``.
* Connection errors / timeouts: retried for GET/HEAD/OPTIONS or ``idempotent=True``; other writes raise at once
  (the write may have been applied).
* Other 4xx: retried with backoff only when ``retry_on(err)`` is true (e.g. 409 "conflicting updates");
  otherwise raised at once. 3xx is never followed (it would forward the keys elsewhere) and raises too.
* Every request has a budget of ``retry_timeout`` seconds from its first attempt and at most ``max_attempts``
  attempts; when either runs out the last error is raised with ``retries_exhausted=True`` and a note
  ``gave up after N attempts in X.Ys`` (HTTP errors as :class:`RetryBudgetExceeded`).
"""

from __future__ import annotations

import asyncio
import json as _json
import logging
import platform
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from datadog_sync import __version__
from datadog_sync.http.errors import CircuitOpenError, HTTPError, NotJSONResponse, RetryBudgetExceeded, TransportError
from datadog_sync.http.retry import CircuitBreaker, RetryPolicy, parse_rate_limit_reset, parse_retry_after
from datadog_sync.http.transport import AiohttpTransport, Response, Transport
from datadog_sync.redact import redact, redact_text, register_secret

__all__ = ["Client", "ClientStats", "READ_METHODS", "USER_AGENT"]

USER_AGENT = (
    f"datadog-sync/{__version__} (python {platform.python_version()}; "
    f"os {platform.system().lower()}; arch {platform.machine().lower()})"
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEBUG_BODY_LIMIT = 4000

_DEBUG = logging.DEBUG
_dumps = _json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(slots=True)
class ClientStats:
    """Counters for one client. ``requests``/``reads``/``writes``/``statuses`` count attempts actually sent
    (retries included); ``retries`` counts retries by reason: ``429``, ``5xx``, ``conflict`` (``retry_on``),
    ``connection`` (transport errors and timeouts)."""

    requests: Counter = field(default_factory=Counter)  # per method
    reads: int = 0
    writes: int = 0
    retries: Counter = field(default_factory=Counter)  # per reason
    statuses: Counter = field(default_factory=Counter)  # per HTTP status
    transport_errors: int = 0
    gave_up: int = 0  # requests that ran out of attempts or budget
    circuit_rejections: int = 0  # requests failed fast by the open circuit breaker

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def reset(self) -> None:
        self.requests.clear()
        self.retries.clear()
        self.statuses.clear()
        self.reads = self.writes = self.transport_errors = self.gave_up = self.circuit_rejections = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "reads": self.reads,
            "writes": self.writes,
            "retries": dict(self.retries),
            "statuses": dict(self.statuses),
            "transport_errors": self.transport_errors,
            "gave_up": self.gave_up,
            "circuit_rejections": self.circuit_rejections,
        }


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
        return _json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def _attempts_note(attempts: int, elapsed: float) -> str:
    return f"gave up after {attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.1f}s"


class Client:
    """Async client for one Datadog org (``org`` is ``"source"`` or ``"destination"`` in messages and hints).

    ``clock`` (an addition to the sleep/rng injection) is the monotonic clock used for retry budgets and the
    circuit breaker; tests pair it with a fake ``sleep`` that advances it.
    ``close()`` closes the transport, including one passed in.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        app_key: str | None,
        org: str = "destination",
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        transport: Transport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.org = org
        self.timeout = timeout
        self.retry = retry
        self.transport: Transport = transport if transport is not None else AiohttpTransport()
        self.logger = logger if logger is not None else logging.getLogger("datadog_sync")
        self.stats = ClientStats()
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        #: Clock time before which no request of this org is sent: set by a 429 or an exhausted rate limit,
        #: so the org's concurrent requests wait for the window together instead of each finding the limit.
        self._throttled_until = 0.0
        register_secret(api_key)
        register_secret(app_key)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if api_key is not None:
            headers["DD-API-KEY"] = api_key
        if app_key is not None:
            headers["DD-APPLICATION-KEY"] = app_key
        self._headers: Mapping[str, str] = headers  # shared by every request; never mutated
        self.breaker = CircuitBreaker(
            retry.breaker_threshold,
            retry.breaker_cooldown,
            org=org,
            clock=clock,
            on_open=self._log_breaker_open,
        )
        self._locks: dict[str, asyncio.Lock] = {}
        self._locks_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"<Client {self.org} {self.base_url}>"

    @property
    def header_names(self) -> list[str]:
        """Names (never values) of the headers sent, e.g. for a start-up log line."""
        return list(self._headers)

    # -- locks -----------------------------------------------------------------------------------------------

    def lock(self, name: str) -> asyncio.Lock:
        """The client's lock called *name*, created on first use inside the running loop (call from a coroutine)."""
        loop = asyncio.get_running_loop()
        if self._locks_loop is not loop:
            self._locks = {}
            self._locks_loop = loop
        lk = self._locks.get(name)
        if lk is None:
            lk = self._locks[name] = asyncio.Lock()
        return lk

    # -- requests --------------------------------------------------------------------------------------------

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Any:
        return await self.request("POST", path, **kw)

    async def put(self, path: str, **kw: Any) -> Any:
        return await self.request("PUT", path, **kw)

    async def patch(self, path: str, **kw: Any) -> Any:
        return await self.request("PATCH", path, **kw)

    async def delete(self, path: str, **kw: Any) -> Any:
        return await self.request("DELETE", path, **kw)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        permission: str | None = None,
        retry_on: Callable[[HTTPError], bool] | None = None,
        idempotent: bool | None = None,
        exclusive: asyncio.Lock | None = None,
        on_attempt: Callable[[str], None] | None = None,
    ) -> Any:
        """Send ``method base_url+path`` and return the parsed body; see the module doc for the retry rules.

        ``permission`` names the Datadog permission the call needs (used in the 401/403 hint).
        ``exclusive`` is held while each attempt is on the wire, not during waits between attempts, so
        requests serialized by it (e.g. an org's AWS integration writes) never overlap, yet one request
        backing off does not hold up the others.
        ``json=None`` sends no body. Raises :class:`HTTPError` (:class:`RetryBudgetExceeded` once retries ran
        out), :class:`TransportError`, or :class:`CircuitOpenError`.
        ``on_attempt`` is told ``"sending"`` just before each attempt goes on the wire and ``"refused"`` after an
        attempt whose answer (a 4xx, or a connection never made) proves that no attempt so far was applied, so
        a caller can journal a create's fate even if the process dies between attempts.
        """
        method = method.upper()
        url = self.base_url + path
        if params:
            query = encode_params(params)
            if query:
                url += ("&" if "?" in path else "?") + query
        body = None if json is None else _dumps(json).encode()
        is_read = method in READ_METHODS
        retry_transport = is_read if idempotent is None else idempotent
        policy = self.retry
        stats = self.stats
        breaker = self.breaker
        transport = self.transport
        headers = self._headers
        clock = self._clock
        logger = self.logger
        debug = logger.isEnabledFor(_DEBUG)
        if debug:
            self._debug_request(method, url, json)

        start = clock()
        deadline = start + policy.retry_timeout
        attempt = 0
        # Server errors, connection errors and retried conflicts drive their backoff and their own attempt cap;
        # 429s count apart, so a request that waited out rate limits still gets its full share of error retries.
        failures = throttled = 0
        last_error: BaseException | None = None
        # A lost answer or a 5xx may hide an applied write; a 4xx answer (409 conflict, 429) or a connection
        # that was never made proves it was not.
        uncertain = False
        while True:
            attempt += 1
            probe = 0
            if breaker.state != "closed":
                try:
                    probe = await breaker.before_attempt(deadline, method=method, path=path, last_error=last_error)
                except CircuitOpenError:
                    stats.circuit_rejections += 1
                    raise
            pause = self._throttled_until - clock()
            if pause > 0:
                await self._sleep(min(pause, max(deadline - clock(), 0.0)))
            stats.requests[method] += 1
            if is_read:
                stats.reads += 1
            else:
                stats.writes += 1
            t0 = time.perf_counter() if debug else 0.0
            try:
                if exclusive is None:
                    if on_attempt is not None:
                        on_attempt("sending")
                    resp = await transport.send(method, url, headers, body, self.timeout)
                else:
                    async with exclusive:
                        if not probe and not breaker.is_closed:
                            # Queued on the lock while the breaker opened: refused unsent, not one by one on a down org.
                            stats.circuit_rejections += 1
                            raise breaker.refuse(method=method, path=path, last_error=last_error)
                        # Writes queued on the lock while the org was paused must not go out one after another
                        # into the exhausted window; nothing else of that kind may be sent meanwhile anyway.
                        pause = self._throttled_until - clock()
                        if pause > 0:
                            await self._sleep(min(pause, max(deadline - clock(), 0.0)))
                        if on_attempt is not None:
                            on_attempt("sending")
                        resp = await transport.send(method, url, headers, body, self.timeout)
            except TransportError as err:
                breaker.record_failure(probe)
                stats.transport_errors += 1
                err.org, err.method, err.path = self.org, method, path
                err.attempts, err.elapsed = attempt, clock() - start
                if debug:
                    logger.debug(
                        "[%s] <- %s %s %s (%.0f ms)",
                        self.org,
                        err.message,
                        method,
                        path,
                        (time.perf_counter() - t0) * 1000,
                    )
                uncertain = uncertain or err.may_have_been_sent
                if on_attempt is not None and not uncertain:
                    on_attempt("refused")
                if not retry_transport or not err.retryable:
                    raise
                reason = "connection"
                label: Any = err.message
                failures += 1
                wait = policy.backoff(failures, self._rng)
                error: BaseException = err
            except BaseException:
                if probe:
                    breaker.release_probe(probe)
                raise
            else:
                status = resp.status
                stats.statuses[status] += 1
                if status >= 500:
                    breaker.record_failure(probe)
                else:
                    breaker.record_success(probe)
                if debug:
                    self._debug_response(resp, method, path, t0)
                if status < 300:
                    if resp.headers.get("X-RateLimit-Remaining") == "0":
                        self._throttle(parse_rate_limit_reset(resp.headers))
                    data = decode_body(resp.body)
                    if isinstance(data, str) or "html" in resp.headers.get("Content-Type", ""):
                        raise NotJSONResponse(status, method, path, data, resp.headers, org=self.org, url=self.base_url)
                    return data
                label = status
                error = self._http_error(resp, method, path, permission, attempt, start)
                error.earlier_attempt_may_have_applied = uncertain
                uncertain = uncertain or status >= 500
                if on_attempt is not None and not uncertain:
                    on_attempt("refused")
                if status == 429:
                    reason = "429"
                    reset = parse_rate_limit_reset(resp.headers)
                    if reset is None:  # no usable reset header: treat it like a server error
                        failures += 1
                        wait = policy.backoff(failures, self._rng)
                    else:
                        throttled += 1
                        remaining = policy.retry_timeout - error.elapsed
                        if reset > remaining:
                            self._give_up(
                                error,
                                attempt,
                                start,
                                f"rate limit resets in {reset:g}s, beyond the {max(remaining, 0.0):.1f}s "
                                f"left of the {policy.retry_timeout:g}s retry budget",
                            )
                        wait = min(self._throttle(reset), max(remaining, 0.0))
                elif status >= 500:
                    reason = "5xx"
                    failures += 1
                    retry_after = parse_retry_after(resp.headers)
                    if retry_after is None:
                        wait = policy.backoff(failures, self._rng)
                    else:
                        wait = policy.at_least(min(retry_after, policy.backoff_max), self._rng)
                elif status >= 400 and retry_on is not None and retry_on(error):
                    reason = "conflict"
                    failures += 1
                    wait = policy.backoff(failures, self._rng)
                else:
                    raise error

            elapsed = error.elapsed  # type: ignore[attr-defined]
            # Waiting out rate limits is bounded by the time budget (and a generous count, for resets of 0).
            if failures >= policy.max_attempts or throttled >= 10 * policy.max_attempts:
                self._give_up(error, attempt, start, None)
            if elapsed + wait > policy.retry_timeout:
                self._give_up(
                    error,
                    attempt,
                    start,
                    f"waiting {wait:.1f}s more would exceed the {policy.retry_timeout:g}s retry budget",
                )
            if reason == "429" and throttled:
                logger.warning("[%s] 429 on %s %s: rate limited; retrying in %.1fs", self.org, method, path, wait)
            else:
                logger.warning(
                    "[%s] %s on %s %s; retrying in %.1fs (attempt %d/%d)",
                    self.org,
                    label,
                    method,
                    path,
                    wait,
                    failures + 1,
                    policy.max_attempts,
                )
            stats.retries[reason] += 1
            last_error = error
            await self._sleep(wait)

    def _throttle(self, reset: float | None) -> float:
        """Hold the org's requests until the rate-limit window resets; return this request's wait.

        ``X-RateLimit-Reset`` counts whole seconds, rounded down (0 during the window's last second), so the
        window ends within [reset, reset + 1) s: waiting a random point of that second spreads the org's waiting
        requests over it instead of sending them all at once.
        """
        if reset is None:
            return 0.0
        wait = reset + (self._rng.random() if self.retry.jitter else 0.0)
        self._throttled_until = max(self._throttled_until, self._clock() + wait)
        return wait

    def _http_error(
        self, resp: Response, method: str, path: str, permission: str | None, attempt: int, start: float
    ) -> HTTPError:
        err = HTTPError(
            resp.status,
            method,
            path,
            decode_body(resp.body),
            resp.headers,
            org=self.org,
            permission=permission,
            attempts=attempt,
            elapsed=self._clock() - start,
        )
        if 300 <= resp.status < 400:
            location = resp.headers.get("Location")
            err.note = f"redirected to {location}; check the site / API URL" if location else "unexpected redirect"
        return err

    def _give_up(self, error: BaseException, attempt: int, start: float, reason: str | None) -> None:
        elapsed = self._clock() - start
        self.stats.gave_up += 1
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

    # -- logging ---------------------------------------------------------------------------------------------

    def _log_breaker_open(self, breaker: CircuitBreaker, reopened: bool) -> None:
        err = breaker.open_error()
        if reopened:
            self.logger.warning("[%s] probe request failed; %s", self.org, err)
        else:
            self.logger.warning("[%s] %s", self.org, err)

    def _debug_request(self, method: str, url: str, payload: Any) -> None:
        text = "" if payload is None else _debug_text(_dumps(redact(payload)))
        target = url[len(self.base_url) :]
        self.logger.debug("[%s] -> %s %s %s", self.org, method, redact_text(target), text)

    def _debug_response(self, resp: Response, method: str, path: str, t0: float) -> None:
        ms = (time.perf_counter() - t0) * 1000
        data = decode_body(resp.body)
        text = "" if data is None else _debug_text(data if isinstance(data, str) else _dumps(redact(data)))
        self.logger.debug("[%s] <- %d %s %s (%.0f ms) %s", self.org, resp.status, method, path, ms, text)

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _debug_text(text: str) -> str:
    text = redact_text(text)
    if len(text) > DEBUG_BODY_LIMIT:
        text = f"{text[:DEBUG_BODY_LIMIT]}... ({len(text)} chars)"
    return text

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

A little over 400 lines on purpose: these rules and the request steps that carry them out (wait, send, classify,
retry) read best side by side; a request's bookkeeping, the bodies and the counters live in their own modules.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

from datadog_sync import __version__
from datadog_sync.http.attempts import Call, give_up, http_error
from datadog_sync.http.encoding import debug_text, decode_body, dumps, encode_params
from datadog_sync.http.errors import CircuitOpenError, HTTPError, NotJSONResponse, TransportError
from datadog_sync.http.retry import CircuitBreaker, RetryPolicy, parse_rate_limit_reset, parse_retry_after
from datadog_sync.http.stats import ClientStats
from datadog_sync.http.transport import AiohttpTransport, Response, Transport
from datadog_sync.redact import redact, redact_text, register_secret

__all__ = ["Client", "ClientStats", "READ_METHODS", "USER_AGENT"]

USER_AGENT = (
    f"datadog-sync/{__version__} (python {platform.python_version()}; "
    f"os {platform.system().lower()}; arch {platform.machine().lower()})"
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_DEBUG = logging.DEBUG
#: Turns of the event loop a serialized write gives the next one before its answer is handled: one for the next
#: request to be issued, one for its bytes to be written (before Python 3.12, aiohttp writes a request with a
#: body from a task of its own, scheduled behind whatever is ready; with one turn, that was this answer's
#: handling, 0.25 ms more per serialized write at 1,000 AWS accounts).
_TURNS_TO_THE_WIRE = 2


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
        #: Why this run may write no more (it lost its state lock): every later non-read attempt is cancelled.
        self.stopped: str | None = None
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
        is_read = method in READ_METHODS
        debug = self.logger.isEnabledFor(_DEBUG)
        if debug:
            self._debug_request(method, url, json)
        start = self._clock()
        call = Call(  # positional: this runs once per request, and keyword arguments cost more
            method,
            path,
            url,
            None if json is None else dumps(json).encode(),
            is_read,
            is_read if idempotent is None else idempotent,  # retry_transport
            permission,
            retry_on,
            exclusive,
            on_attempt,
            debug,
            start,
            start + self.retry.retry_timeout,  # deadline
        )
        # Each attempt: wait for its turn, send, then classify the outcome as the answer, an error raised at
        # once, or a retry (reason, label for the log, wait) that `_retry_later` checks against the budget.
        # The hot path (breaker closed, no rate limit, no exclusive lock) awaits no coroutine of its own.
        while True:
            call.attempt += 1
            call.probe = 0
            if self.stopped and not is_read:
                raise asyncio.CancelledError(self.stopped)
            if self.breaker.state != "closed":
                await self._pass_breaker(call)
            pause = self._throttled_until - self._clock()
            if pause > 0:
                await self._wait_for_rate_limit(call, pause)
            try:
                resp = await self._send(call)
            except TransportError as err:
                wait = self._classify_transport_error(call, err)
                error: BaseException = err
                reason, label = "connection", err.message
            except BaseException:
                if call.probe:
                    self.breaker.release_probe(call.probe)
                raise
            else:
                if resp.status < 300:
                    return self._answer(call, resp)
                error, reason, wait = self._classify_http_error(call, resp)
                label = str(resp.status)
            await self._retry_later(call, error, reason, label, wait)

    async def _pass_breaker(self, call: Call) -> None:
        """Wait for the circuit breaker to let the attempt through (maybe as its probe), or raise at once."""
        try:
            call.probe = await self.breaker.before_attempt(
                call.deadline, method=call.method, path=call.path, last_error=call.last_error
            )
        except CircuitOpenError:
            self.stats.circuit_rejections += 1
            raise

    async def _wait_for_rate_limit(self, call: Call, pause: float) -> None:
        """Wait out the org's exhausted rate limit, but not past the request's budget."""
        await self._sleep(min(pause, max(call.deadline - self._clock(), 0.0)))

    def _send(self, call: Call) -> Awaitable[Response]:
        """Count the attempt and put it on the wire (the transport's own awaitable unless ``exclusive`` is held)."""
        stats = self.stats
        stats.requests[call.method] += 1
        if call.is_read:
            stats.reads += 1
        else:
            stats.writes += 1
        call.t0 = time.perf_counter() if call.debug else 0.0
        if call.exclusive is not None:
            return self._send_exclusive(call, call.exclusive)
        if call.on_attempt is not None:
            call.on_attempt("sending")
        return self.transport.send(call.method, call.url, self._headers, call.body, self.timeout)

    async def _send_exclusive(self, call: Call, exclusive: asyncio.Lock) -> Response:
        async with exclusive:
            breaker = self.breaker
            if not call.probe and not breaker.is_closed:
                # Queued on the lock while the breaker opened: refused unsent, not one by one on a down org.
                self.stats.circuit_rejections += 1
                raise breaker.refuse(method=call.method, path=call.path, last_error=call.last_error)
            # Writes queued on the lock while the org was paused must not go out one after another
            # into the exhausted window; nothing else of that kind may be sent meanwhile anyway.
            pause = self._throttled_until - self._clock()
            if pause > 0:
                await self._wait_for_rate_limit(call, pause)
            if call.on_attempt is not None:
                call.on_attempt("sending")
            resp = await self.transport.send(call.method, call.url, self._headers, call.body, self.timeout)
        if resp.status < 300 and resp.headers.get("X-RateLimit-Remaining") != "0":
            # A plain success: let the next request queued on the lock go on the wire before this answer is
            # handled (parsed, stored, journaled, logged), so serialized writes follow each other by the send's
            # cost, not by the handling of the previous answer. An error or an exhausted rate limit is handled
            # first: it may open the breaker or pause the org for the requests queued behind it.
            for _ in range(_TURNS_TO_THE_WIRE):
                await asyncio.sleep(0)
        return resp

    def _classify_transport_error(self, call: Call, err: TransportError) -> float:
        """Record a failed connection; raise it unless it may be retried, else return the backoff wait."""
        self.breaker.record_failure(call.probe)
        self.stats.transport_errors += 1
        err.org, err.method, err.path = self.org, call.method, call.path
        err.attempts, err.elapsed = call.attempt, self._clock() - call.start
        if call.debug:
            ms = (time.perf_counter() - call.t0) * 1000
            self.logger.debug("[%s] <- %s %s %s (%.0f ms)", self.org, err.message, call.method, call.path, ms)
        call.uncertain = call.uncertain or err.may_have_been_sent
        if call.on_attempt is not None and not call.uncertain:
            call.on_attempt("refused")
        if not call.retry_transport or not err.retryable:
            raise err
        call.failures += 1
        return self.retry.backoff(call.failures, self._rng)

    def _record_answer(self, call: Call, resp: Response) -> None:
        status = resp.status
        self.stats.statuses[status] += 1
        if status >= 500:
            self.breaker.record_failure(call.probe)
        else:
            self.breaker.record_success(call.probe)
        if call.debug:
            self._debug_response(resp, call.method, call.path, call.t0)

    def _answer(self, call: Call, resp: Response) -> Any:
        """A 2xx: note an exhausted rate limit, then the parsed JSON body (text or HTML raises)."""
        self._record_answer(call, resp)
        headers = resp.headers
        if headers.get("X-RateLimit-Remaining") == "0":
            self._throttle(parse_rate_limit_reset(headers))
        data = decode_body(resp.body)
        if isinstance(data, str) or "html" in headers.get("Content-Type", ""):
            raise NotJSONResponse(resp.status, call.method, call.path, data, headers, org=self.org, url=self.base_url)
        return data

    def _classify_http_error(self, call: Call, resp: Response) -> tuple[HTTPError, str, float]:
        """A 3xx/4xx/5xx: raise it unless it may be retried, else return (error, retry reason, wait)."""
        self._record_answer(call, resp)
        status = resp.status
        policy = self.retry
        error = http_error(resp, call, self.org, self._clock() - call.start)
        error.earlier_attempt_may_have_applied = call.uncertain
        call.uncertain = call.uncertain or status >= 500
        if call.on_attempt is not None and not call.uncertain:
            call.on_attempt("refused")
        if status == 429:
            reset = parse_rate_limit_reset(resp.headers)
            if reset is None:  # no usable reset header: treat it like a server error
                call.failures += 1
                return error, "429", policy.backoff(call.failures, self._rng)
            call.throttled += 1
            remaining = policy.retry_timeout - error.elapsed
            if reset > remaining:
                self._give_up(
                    call,
                    error,
                    f"rate limit resets in {reset:g}s, beyond the {max(remaining, 0.0):.1f}s "
                    f"left of the {policy.retry_timeout:g}s retry budget",
                )
            return error, "429", min(self._throttle(reset), max(remaining, 0.0))
        if status >= 500:
            call.failures += 1
            retry_after = parse_retry_after(resp.headers)
            if retry_after is None:
                return error, "5xx", policy.backoff(call.failures, self._rng)
            return error, "5xx", policy.at_least(min(retry_after, policy.backoff_max), self._rng)
        if status >= 400 and call.retry_on is not None and call.retry_on(error):
            call.failures += 1
            return error, "conflict", policy.backoff(call.failures, self._rng)
        raise error

    async def _retry_later(self, call: Call, error: BaseException, reason: str, label: str, wait: float) -> None:
        """Give up if the attempt cap or the time budget would be passed; otherwise log, count and wait."""
        policy = self.retry
        elapsed = error.elapsed  # type: ignore[attr-defined]
        # Waiting out rate limits is bounded by the time budget (and a generous count, for resets of 0).
        if call.failures >= policy.max_attempts or call.throttled >= 10 * policy.max_attempts:
            self._give_up(call, error, None)
        if elapsed + wait > policy.retry_timeout:
            self._give_up(
                call,
                error,
                f"waiting {wait:.1f}s more would exceed the {policy.retry_timeout:g}s retry budget",
            )
        if reason == "429" and call.throttled:
            self.logger.warning(
                "[%s] 429 on %s %s: rate limited; retrying in %.1fs", self.org, call.method, call.path, wait
            )
        else:
            self.logger.warning(
                "[%s] %s on %s %s; retrying in %.1fs (attempt %d/%d)",
                self.org,
                label,
                call.method,
                call.path,
                wait,
                call.failures + 1,
                policy.max_attempts,
            )
        self.stats.retries[reason] += 1
        call.last_error = error
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

    def _give_up(self, call: Call, error: BaseException, reason: str | None) -> NoReturn:
        self.stats.gave_up += 1
        give_up(error, call.attempt, self._clock() - call.start, reason)

    # -- logging ---------------------------------------------------------------------------------------------

    def _log_breaker_open(self, breaker: CircuitBreaker, reopened: bool) -> None:
        err = breaker.open_error()
        if reopened:
            self.logger.warning("[%s] probe request failed; %s", self.org, err)
        else:
            self.logger.warning("[%s] %s", self.org, err)

    def _debug_request(self, method: str, url: str, payload: Any) -> None:
        text = "" if payload is None else debug_text(dumps(redact(payload)))
        target = url[len(self.base_url) :]
        self.logger.debug("[%s] -> %s %s %s", self.org, method, redact_text(target), text)

    def _debug_response(self, resp: Response, method: str, path: str, t0: float) -> None:
        ms = (time.perf_counter() - t0) * 1000
        data = decode_body(resp.body)
        text = "" if data is None else debug_text(data if isinstance(data, str) else dumps(redact(data)))
        self.logger.debug("[%s] <- %d %s %s (%.0f ms) %s", self.org, resp.status, method, path, ms, text)

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

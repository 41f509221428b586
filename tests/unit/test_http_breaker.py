"""Per-client circuit breaker: opening, fail-fast while open, half-open probe after the cool-down, close/re-open."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from datadog_sync.http import CircuitOpenError, ConnectionFailed, HTTPError, RetryBudgetExceeded, RetryPolicy
from tests.unit.http_support import Reply, closed_port, make_client, suspended_in, until


def unavailable_lines(caplog):
    return [r.getMessage() for r in caplog.records if "API unavailable" in r.getMessage()]


async def test_opens_and_fails_fast_without_network_call(server, fake, caplog):
    caplog.set_level(logging.WARNING, logger="datadog_sync")
    server.default = Reply(503, json={"errors": ["Service Unavailable"]})
    policy = RetryPolicy(breaker_threshold=3, breaker_cooldown=30, retry_timeout=10, max_attempts=3)
    async with make_client(server.url, fake, retry=policy) as c:
        with pytest.raises(RetryBudgetExceeded):
            await c.get("/api/v1/monitor")
        assert c.breaker.state == "open" and len(server.requests) == 3
        with pytest.raises(CircuitOpenError) as info:
            await c.post("/api/v1/monitor", json={})
        with pytest.raises(CircuitOpenError):
            await c.get("/api/v1/dashboard")
    assert len(server.requests) == 3  # no network call while open
    err = info.value
    assert str(err) == "destination API unavailable: 3 consecutive server errors; pausing requests for 30s"
    assert err.org == "destination" and err.method == "POST" and err.path == "/api/v1/monitor"
    assert 0 < err.retry_in <= 30
    assert unavailable_lines(caplog) == [
        "[destination] destination API unavailable: 3 consecutive server errors; pausing requests for 30s"
    ]
    assert c.stats.circuit_rejections == 2


async def test_in_flight_retry_fails_fast_when_breaker_opens(server, fake):
    server.default = Reply(502)
    policy = RetryPolicy(breaker_threshold=2, breaker_cooldown=30, retry_timeout=20)
    async with make_client(server.url, fake, retry=policy) as c:
        with pytest.raises(CircuitOpenError) as info:
            await c.get("/x")
    assert len(server.requests) == 2
    assert isinstance(info.value.last_error, HTTPError) and info.value.last_error.status == 502


async def test_fails_fast_while_open_then_probe_closes(server, fake, caplog):
    caplog.set_level(logging.WARNING, logger="datadog_sync")
    server.add(Reply(503), Reply(503))
    policy = RetryPolicy(breaker_threshold=2, breaker_cooldown=30, retry_timeout=60, max_attempts=2)
    async with make_client(server.url, fake, retry=policy) as c:
        with pytest.raises(RetryBudgetExceeded):
            await c.get("/a")
        assert c.breaker.state == "open"
        waits_before = len(fake.waits)
        with pytest.raises(CircuitOpenError):
            await c.get("/early")  # a 60 s budget covers the cool-down, yet nothing waits for it: fail fast
        assert len(fake.waits) == waits_before
        fake.offset += 30  # the cool-down is over
        assert await c.get("/b") == {}  # the probe
        assert c.breaker.state == "closed" and c.breaker.failures == 0
        assert await c.get("/c") == {}
    assert [r.path_qs for r in server.requests] == ["/a", "/a", "/b", "/c"]
    assert len(unavailable_lines(caplog)) == 1


async def test_failed_probe_reopens(server, fake, caplog):
    caplog.set_level(logging.WARNING, logger="datadog_sync")
    server.add(Reply(503), Reply(503))
    policy = RetryPolicy(breaker_threshold=1, breaker_cooldown=30, retry_timeout=45, max_attempts=1)
    async with make_client(server.url, fake, retry=policy) as c:
        with pytest.raises(RetryBudgetExceeded):
            await c.get("/a")
        fake.offset += 30
        with pytest.raises(RetryBudgetExceeded):
            await c.get("/probe")  # probe answered 503, breaker re-opens
        assert c.breaker.state == "open" and c.breaker.times_opened == 2
        with pytest.raises(CircuitOpenError):
            await c.get("/early")  # a full new cool-down
        fake.offset += 30
        assert await c.get("/c") == {}  # the next probe succeeds
        assert c.breaker.state == "closed"
    assert fake.waits == []
    assert [r.path_qs for r in server.requests] == ["/a", "/probe", "/c"]
    lines = unavailable_lines(caplog)
    assert (
        lines[0] == "[destination] destination API unavailable: 1 consecutive server errors; pausing requests for 30s"
    )
    assert lines[1] == (
        "[destination] probe request failed; destination API unavailable: 2 consecutive server errors; "
        "pausing requests for 30s"
    )
    assert len(lines) == 2


async def test_single_probe_while_half_open(server, fake):
    release = asyncio.Event()
    probes = []

    async def slow_probe(request: web.Request):
        probes.append(request.path)
        await release.wait()
        return web.json_response({"probe": True})

    server.add(Reply(500), slow_probe)
    policy = RetryPolicy(breaker_threshold=1, breaker_cooldown=30, retry_timeout=100, max_attempts=1)
    async with make_client(server.url, fake, retry=policy) as c:
        with pytest.raises(RetryBudgetExceeded):
            await c.get("/first")
        fake.offset += 30
        tasks = [asyncio.create_task(c.get(f"/w/{i}")) for i in range(5)]
        # Nothing can move until ``release``: the probe is held by the server and the four others wait for its
        # outcome inside the breaker. Once that is so, what reached the server is all that ever will before it
        # (a request that got past the breaker ends the wait at once, and fails the assertion below).
        await until(
            lambda: len(server.requests) > 2
            or (bool(probes) and sum(suspended_in(t, "before_attempt") for t in tasks) == 4),
            "one probe at the server and four requests waiting for it in the breaker",
        )
        assert len(probes) == 1 and len(server.requests) == 2  # others wait for the probe
        assert c.breaker.state == "half-open"
        release.set()
        results = await asyncio.gather(*tasks)
    assert sorted(r == {"probe": True} for r in results) == [False] * 4 + [True]
    assert len(server.requests) == 6 and c.breaker.state == "closed"


async def test_non_5xx_resets_count(server, fake):
    server.add(Reply(503), Reply(503), Reply(404), Reply(503), Reply(429), Reply(503), Reply(503))
    policy = RetryPolicy(breaker_threshold=3, max_attempts=1)
    async with make_client(server.url, fake, retry=policy) as c:
        for _ in range(7):
            with pytest.raises(HTTPError):
                await c.get("/x")
        assert c.breaker.state == "closed" and c.breaker.failures == 2


async def test_connection_errors_count(fake):
    url = f"http://127.0.0.1:{closed_port()}"
    policy = RetryPolicy(breaker_threshold=2, breaker_cooldown=30, retry_timeout=5, max_attempts=1)
    async with make_client(url, fake, retry=policy, org="source") as c:
        for _ in range(2):
            with pytest.raises(ConnectionFailed):
                await c.post("/x", json={})
        with pytest.raises(CircuitOpenError) as info:
            await c.get("/x")
    assert str(info.value).startswith("source API unavailable: 2 consecutive server errors")


async def test_breaker_is_per_client(server, fake):
    server.add(Reply(503))
    policy = RetryPolicy(breaker_threshold=1, retry_timeout=5, max_attempts=1)
    async with make_client(server.url, fake, retry=policy) as a, make_client(server.url, fake, retry=policy) as b:
        with pytest.raises(HTTPError):
            await a.get("/x")
        assert a.breaker.state == "open"
        assert await b.get("/x") == {}


async def test_requests_queued_on_a_lock_are_refused_unsent_once_the_breaker_opens(server, fake):
    server.default = Reply(503)
    policy = RetryPolicy(breaker_threshold=1, breaker_cooldown=30, retry_timeout=60, max_attempts=1)
    async with make_client(server.url, fake, retry=policy) as c:
        lock = asyncio.Lock()  # as the AWS integration serializes an org's writes
        results = await asyncio.gather(
            *(c.post(f"/w/{i}", json={}, exclusive=lock) for i in range(5)), return_exceptions=True
        )
    assert [r.path_qs for r in server.requests] == ["/w/0"]
    assert isinstance(results[0], RetryBudgetExceeded)
    assert all(isinstance(r, CircuitOpenError) and r.path == f"/w/{i}" for i, r in enumerate(results) if i)
    assert c.stats.circuit_rejections == 4

"""AiohttpTransport and transport-error handling: connection failures, read timeouts, concurrency."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from datadog_sync.http import (
    AiohttpTransport,
    ConnectionFailed,
    RequestTimeout,
    Response,
    RetryPolicy,
    Transport,
    TransportError,
)
from tests.unit.http_support import Reply, closed_port, make_client


def test_response_headers_case_insensitive():
    r = Response(200, {"X-RateLimit-Reset": "3"}, b"")
    assert r.headers["x-ratelimit-reset"] == "3" and r.headers.get("X-RATELIMIT-RESET") == "3"
    assert Response(200, None, b"").headers.get("a") is None  # type: ignore[arg-type]


def test_transport_protocol_and_lazy_session():
    t = AiohttpTransport()  # no running loop needed to build it
    assert isinstance(t, Transport)
    assert t._session is None


async def test_transport_send_direct(server):
    server.add(Reply(201, json={"a": 1}, headers={"X-RateLimit-Reset": "5"}))
    t = AiohttpTransport()
    try:
        r = await t.send("POST", server.url + "/p", {"X-Test": "1"}, b'{"b":2}', 5.0)
    finally:
        await t.close()
    assert r.status == 201 and r.body == b'{"a": 1}'
    assert r.headers["x-ratelimit-reset"] == "5"
    assert server.requests[0].headers["X-Test"] == "1" and server.requests[0].body == b'{"b":2}'
    await t.close()  # idempotent


async def test_connection_error_retried_for_get(fake, caplog):
    caplog.set_level(logging.WARNING, logger="datadog_sync")
    url = f"http://127.0.0.1:{closed_port()}"
    async with make_client(url, fake, retry=RetryPolicy(max_attempts=3)) as c:
        with pytest.raises(ConnectionFailed) as info:
            await c.get("/api/v1/validate")
    err = info.value
    assert err.retries_exhausted and err.attempts == 3 and len(fake.waits) == 2
    text = str(err)
    assert text.startswith("cannot connect to 127.0.0.1:") and "on GET /api/v1/validate (destination)" in text
    assert "gave up after 3 attempts" in text
    assert c.stats.retries == {"connection": 2} and c.stats.transport_errors == 3
    lines = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(lines) == 2
    assert lines[0].startswith("[destination] cannot connect to 127.0.0.1:")
    assert " on GET /api/v1/validate; retrying in " in lines[0] and lines[0].endswith("(attempt 2/3)")


async def test_connection_error_not_retried_for_post(fake):
    url = f"http://127.0.0.1:{closed_port()}"
    async with make_client(url, fake) as c:
        with pytest.raises(ConnectionFailed) as info:
            await c.post("/api/v1/integration/aws", json={"account_id": "1"})
    assert fake.waits == [] and info.value.attempts == 1 and not info.value.retries_exhausted
    assert c.stats.writes == 1 and c.stats.retries == {}


async def test_connection_error_retried_for_idempotent_write(fake):
    url = f"http://127.0.0.1:{closed_port()}"
    async with make_client(url, fake, retry=RetryPolicy(max_attempts=2)) as c:
        with pytest.raises(ConnectionFailed):
            await c.put("/x", json={}, idempotent=True)
        with pytest.raises(ConnectionFailed):
            await c.get("/x", idempotent=False)
    assert len(fake.waits) == 1


async def test_read_timeout_before_headers_retried_for_get(server, fake):
    server.default = Reply(200, json={}, stall="headers")
    async with make_client(server.url, fake, timeout=0.2, retry=RetryPolicy(max_attempts=2)) as c:
        with pytest.raises(RequestTimeout) as info:
            await c.get("/api/v1/monitor")
    err = info.value
    assert isinstance(err, TransportError) and str(err)
    assert str(err).startswith("timed out after 0.2s reading response on GET /api/v1/monitor (destination)")
    assert len(server.requests) == 2 and len(fake.waits) == 1


async def test_read_timeout_mid_body_not_retried_for_post(server, fake):
    server.add(Reply(200, json={"data": "x" * 1000}, stall="body"))
    async with make_client(server.url, fake, timeout=0.2) as c:
        with pytest.raises(RequestTimeout) as info:
            await c.post("/api/v1/monitor", json={})
    assert info.value.message == "timed out after 0.2s reading response"
    assert len(server.requests) == 1 and fake.waits == []


async def test_timeout_then_success(server, fake):
    server.add(Reply(200, json={}, stall="headers"), Reply(200, json={"ok": True}))
    async with make_client(server.url, fake, timeout=0.2) as c:
        assert await c.get("/x") == {"ok": True}
    assert c.stats.retries == {"connection": 1}


async def test_server_disconnect_is_connection_failed(server, fake):
    async def drop(request: web.Request):
        request.transport.close()
        # No answer ever follows the dropped connection: the handler is held until the server stops (no sleep
        # whose length decides whether the client saw the disconnect first).
        await server.held()
        return web.Response()

    server.default = drop
    async with make_client(server.url, fake, retry=RetryPolicy(max_attempts=2)) as c:
        with pytest.raises(ConnectionFailed) as info:
            await c.get("/x")
    assert str(info.value).startswith("connection error: ServerDisconnectedError")


async def test_no_cap_at_100_concurrent_connections(server, fake):
    n = 150
    arrived = 0
    all_in = asyncio.Event()

    async def gate(request: web.Request):
        nonlocal arrived
        arrived += 1
        if arrived == n:
            all_in.set()
        try:
            await asyncio.wait_for(all_in.wait(), 5)
        except asyncio.TimeoutError:
            return web.json_response({"arrived": arrived}, status=400)
        return web.json_response({})

    server.add(*([gate] * n))
    async with make_client(server.url, fake) as c:
        results = await asyncio.gather(*(c.get(f"/x/{i}") for i in range(n)))
    assert results == [{}] * n

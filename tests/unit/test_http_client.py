"""Client behaviour against a real local HTTP server: headers, bodies, retry rules, budgets, stats.

Over 400 lines on purpose: one case per retry rule of docs/http.md, each a few lines against the scripted server;
the breaker and the transport have modules of their own.
"""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from datadog_sync import __version__
from datadog_sync.http import Client, HTTPError, RetryBudgetExceeded, RetryPolicy
from tests.unit.http_support import FakeTime, Reply, make_client, until

LOGGER = "datadog_sync"


@pytest.fixture
async def client(server, fake):
    c = make_client(server.url, fake)
    yield c
    await c.close()


def retry_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "retrying in" in r.getMessage()]


# -- headers, URL, bodies ------------------------------------------------------------------------------------


async def test_headers_and_user_agent(server, client):
    await client.get("/api/v1/validate")
    (req,) = server.requests
    assert req.method == "GET"
    assert req.headers["DD-API-KEY"] == "0123456789abcdef0123456789abcdef"
    assert req.headers["DD-APPLICATION-KEY"] == "fedcba9876543210fedcba9876543210fedcba98"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Accept"] == "application/json"
    ua = req.headers["User-Agent"]
    assert re.fullmatch(
        rf"datadog-sync/{re.escape(__version__)} \(python \d+\.\d+\.\d+\S*; os [a-z0-9_]+; arch \S+\)", ua
    ), ua


async def test_keys_omitted_when_none(server, fake):
    async with make_client(server.url, fake, api_key="only-an-api-key", app_key=None) as c:
        await c.get("/api/v1/validate")
    assert "DD-APPLICATION-KEY" not in server.requests[0].headers
    assert server.requests[0].headers["DD-API-KEY"] == "only-an-api-key"


async def test_url_join_and_params_keep_order(server, fake):
    async with make_client(server.url + "/", fake) as c:
        await c.get(
            "/api/v2/integration/aws/accounts",
            params={"z": 1, "a": "x y", "page[size]": 100, "flag": True, "off": False, "skip": None, "m": ["1", "2"]},
        )
        await c.get("/api/v1/x?first=1", params={"second": "2"})
    first, second = server.requests
    assert first.path_qs.startswith("/api/v2/integration/aws/accounts?")
    assert first.path_qs.split("?", 1)[1] == "z=1&a=x%20y&page%5Bsize%5D=100&flag=true&off=false&m=1&m=2"
    assert second.path_qs == "/api/v1/x?first=1&second=2"


async def test_json_body_is_compact_utf8(server, client):
    await client.post("/api/v1/x", json={"a": [1, 2], "b": {"c": "é"}, "n": None})
    assert server.requests[0].body == '{"a":[1,2],"b":{"c":"é"},"n":null}'.encode()


async def test_no_body_without_json(server, client):
    await client.delete("/api/v1/x")
    assert server.requests[0].body == b""


async def test_response_bodies_json_empty_text(server, client):
    server.add(
        Reply(200, json={"data": [{"id": "1"}]}),
        Reply(200, json=["a", "b"]),
        Reply(204),
        Reply(200, body=b""),
        Reply(200, body="plain text, not json", headers={"Content-Type": "text/plain"}),
    )
    assert await client.get("/a") == {"data": [{"id": "1"}]}
    assert await client.get("/b") == ["a", "b"]
    assert await client.delete("/c") is None
    assert await client.put("/d", json={}) is None
    with pytest.raises(HTTPError, match="answered 200 with text/plain, not a JSON object"):
        await client.get("/e")  # a text answer is not the Datadog API: an error, not text handed to the caller


async def test_methods(server, client):
    for name in ("get", "post", "put", "patch", "delete"):
        await getattr(client, name)("/m")
    assert [r.method for r in server.requests] == ["GET", "POST", "PUT", "PATCH", "DELETE"]
    await client.request("head", "/m")
    assert server.requests[-1].method == "HEAD"


# -- retry rules ---------------------------------------------------------------------------------------------


async def test_5xx_retried_with_exponential_backoff_and_logged(server, client, fake, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    server.add(Reply(503, json={"errors": ["Service Unavailable"]}), Reply(502), Reply(200, json={"ok": True}))
    assert await client.get("/api/v1/integration/aws") == {"ok": True}
    assert len(server.requests) == 3
    w1, w2 = fake.waits
    assert 0.4 <= w1 <= 0.6 and 0.8 <= w2 <= 1.2
    assert retry_lines(caplog) == [
        f"[destination] 503 on GET /api/v1/integration/aws; retrying in {w1:.1f}s (attempt 2/10)",
        f"[destination] 502 on GET /api/v1/integration/aws; retrying in {w2:.1f}s (attempt 3/10)",
    ]
    assert client.stats.retries == {"5xx": 2}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_512_retried_for_writes(server, client, fake, method):
    server.add(Reply(512, body="<html><body>overloaded</body></html>"), Reply(200, json={"id": 1}))
    assert await client.request(method, "/api/v1/monitor", json={"name": "m"}) == {"id": 1}
    assert [r.method for r in server.requests] == [method, method]
    assert len(fake.waits) == 1


async def test_retry_after_honoured_and_capped(server, client, fake):
    server.add(
        Reply(503, headers={"Retry-After": "3"}),
        Reply(503, headers={"Retry-After": "120"}),
        Reply(200, json={}),
    )
    await client.get("/x")
    assert 3.0 <= fake.waits[0] <= 3.6
    assert 30.0 <= fake.waits[1] <= 36.0


async def test_429_waits_rate_limit_reset(server, client, fake, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    server.add(
        Reply(429, json={"errors": ["Rate limit exceeded"]}, headers={"X-RateLimit-Reset": "0"}),
        Reply(429, json={"errors": ["Rate limit exceeded"]}, headers={"x-ratelimit-reset": "1"}),
        Reply(200, json={"ok": 1}),
    )
    assert await client.get("/api/v2/integration/aws/accounts") == {"ok": 1}
    w0, w1 = fake.waits
    # The reset header counts whole seconds rounded down: the window ends within [reset, reset + 1).
    assert 0.0 <= w0 < 1.0
    assert 1.0 <= w1 < 2.0  # never earlier than the reset
    assert client.stats.retries == {"429": 2}
    assert retry_lines(caplog)[1].startswith(
        "[destination] 429 on GET /api/v2/integration/aws/accounts: rate limited; retrying in"
    )


async def test_429_html_body_without_reset_uses_backoff_then_gives_up(server, fake):
    page = (
        "<html><head><title>429 Too Many Requests</title><style>body{color:red}</style></head>"
        "<body><center><h1>429 Too Many Requests</h1></center><hr><center>nginx</center></body></html>"
    )
    server.default = Reply(429, body=page, headers={"Content-Type": "text/html", "X-RateLimit-Reset": "soon"})
    async with make_client(server.url, fake, retry=RetryPolicy(max_attempts=3)) as c:
        with pytest.raises(RetryBudgetExceeded) as info:
            await c.get("/api/v1/monitor")
    err = info.value
    assert err.status == 429 and err.retries_exhausted and err.attempts == 3
    assert err.messages[0].startswith("429 Too Many Requests")
    assert "<" not in err.messages[0] and "color" not in err.messages[0]
    assert str(err).startswith("429 Too Many Requests on GET /api/v1/monitor (destination): 429 Too Many Requests")
    assert "gave up after 3 attempts in" in str(err)
    assert len(fake.waits) == 2 and 0.4 <= fake.waits[0] <= 0.6  # backoff, not the bogus header


async def test_429_reset_beyond_budget_raises_at_once(server, client, fake):
    server.add(Reply(429, json={"errors": ["Rate limit exceeded"]}, headers={"X-RateLimit-Reset": "120"}))
    with pytest.raises(RetryBudgetExceeded) as info:
        await client.get("/api/v1/monitor")
    assert len(server.requests) == 1 and fake.waits == []
    text = str(info.value)
    assert "gave up after 1 attempt in" in text and "rate limit resets in 120s" in text
    assert info.value.messages == ["Rate limit exceeded"]
    assert client.stats.gave_up == 1


async def test_429_wait_clamped_to_remaining_budget(server, fake):
    server.add(Reply(429, headers={"X-RateLimit-Reset": "10"}), Reply(200, json={}))
    async with make_client(server.url, fake, retry=RetryPolicy(retry_timeout=10.2, jitter=0.2)) as c:
        await c.get("/x")
    assert 10.0 <= fake.waits[0] <= 10.2


async def test_budget_exhausted_on_persistent_5xx(server, fake):
    server.default = Reply(503, json={"errors": ["Service Unavailable"]})
    async with make_client(server.url, fake, retry=RetryPolicy(retry_timeout=5.0)) as c:
        with pytest.raises(RetryBudgetExceeded) as info:
            await c.post("/api/v1/monitor", json={"a": 1})
    err = info.value
    assert isinstance(err, HTTPError) and err.status == 503 and err.method == "POST"
    assert err.attempts == len(server.requests) == len(fake.waits) + 1
    assert sum(fake.waits) <= 5.0
    assert 3 <= err.attempts <= 5  # 0.5 + 1 + 2 (+ 4 would pass 5 s), jitter +-20 %
    assert re.search(r"gave up after \d+ attempts in \d+\.\ds: waiting \d+\.\ds more would exceed the 5s", str(err))


async def test_max_attempts(server, fake):
    server.default = Reply(500)
    async with make_client(server.url, fake, retry=RetryPolicy(max_attempts=4, retry_timeout=1000)) as c:
        with pytest.raises(RetryBudgetExceeded) as info:
            await c.get("/x")
    assert info.value.attempts == 4 and len(server.requests) == 4 and len(fake.waits) == 3
    assert "gave up after 4 attempts" in str(info.value)
    assert c.stats.gave_up == 1


async def test_other_4xx_raised_at_once(server, client, fake):
    server.add(
        Reply(
            400,
            json={
                "errors": [
                    {
                        "status": "400",
                        "title": "Invalid Parameter",
                        "detail": 'invalid parameter "aws_account_config_id" in "path"; expected type "uuid"',
                    }
                ]
            },
        )
    )
    with pytest.raises(HTTPError) as info:
        await client.delete("/api/v2/integration/aws/accounts/not-a-uuid")
    err = info.value
    assert not isinstance(err, RetryBudgetExceeded) and not err.retries_exhausted
    assert len(server.requests) == 1 and fake.waits == []
    assert str(err) == (
        "400 Bad Request on DELETE /api/v2/integration/aws/accounts/not-a-uuid (destination): "
        'Invalid Parameter: invalid parameter "aws_account_config_id" in "path"; expected type "uuid"'
    )


def _conflicting(err: HTTPError) -> bool:
    return err.status == 409 and any("conflicting updates" in m for m in err.messages)


async def test_retry_on_409_conflict(server, client, fake, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    conflict = Reply(409, json={"errors": ["Could not update AWS Integration due to conflicting updates"]})
    server.add(conflict, conflict, Reply(200, json={}))
    assert await client.put("/api/v1/integration/aws", json={}, retry_on=_conflicting) == {}
    assert len(server.requests) == 3 and len(fake.waits) == 2
    assert client.stats.retries == {"conflict": 2}
    assert retry_lines(caplog)[0].startswith("[destination] 409 on PUT /api/v1/integration/aws; retrying in")


async def test_409_without_retry_on_or_not_matching_raises(server, client):
    dup = Reply(
        409,
        json={
            "errors": [
                {
                    "status": "409",
                    "title": "Account already exists",
                    "detail": "AWS account with provided id already exists",
                }
            ]
        },
    )
    server.add(dup, dup)
    with pytest.raises(HTTPError) as info:
        await client.post("/api/v2/integration/aws/accounts", json={})
    assert info.value.messages == ["Account already exists: AWS account with provided id already exists"]
    with pytest.raises(HTTPError):
        await client.post("/api/v2/integration/aws/accounts", json={}, retry_on=_conflicting)
    assert len(server.requests) == 2


async def test_retry_on_exhaustion(server, fake):
    server.default = Reply(409, json={"errors": ["Could not update AWS Integration due to conflicting updates"]})
    async with make_client(server.url, fake, retry=RetryPolicy(max_attempts=3)) as c:
        with pytest.raises(RetryBudgetExceeded) as info:
            await c.put("/api/v1/integration/aws", json={}, retry_on=_conflicting)
    assert info.value.status == 409 and info.value.attempts == 3


async def test_5xx_then_4xx_stops(server, client):
    server.add(Reply(500), Reply(404, json={"errors": ["Not found"]}))
    with pytest.raises(HTTPError) as info:
        await client.get("/x")
    assert info.value.status == 404 and info.value.attempts == 2


async def test_redirect_not_followed(server, client):
    server.add(Reply(301, headers={"Location": "https://elsewhere.example/api/v1/x"}))
    with pytest.raises(HTTPError) as info:
        await client.get("/api/v1/x")
    assert info.value.status == 301 and len(server.requests) == 1
    assert "redirected to https://elsewhere.example/api/v1/x" in str(info.value)


async def test_jitter_is_seeded(server, fake):
    waits = []
    for _ in range(2):
        f = FakeTime()
        server.add(Reply(503), Reply(503), Reply(200, json={}))
        async with make_client(server.url, f, seed=42) as c:
            await c.get("/x")
        waits.append(f.waits)
    assert waits[0] == waits[1]


# -- errors with hints ---------------------------------------------------------------------------------------


async def test_403_permission_hint(server, client):
    server.add(Reply(403, json={"errors": ["Forbidden", "Failed permission authorization checks"]}))
    with pytest.raises(HTTPError) as info:
        await client.put("/api/v1/integration/aws", json={}, permission="aws_configuration_edit")
    assert str(info.value) == (
        "403 Forbidden on PUT /api/v1/integration/aws (destination): Forbidden; Failed permission authorization checks"
        "\nhint: the destination application key or its owner lacks the `aws_configuration_edit` permission"
    )


async def test_403_api_key_required_on_validate(server, fake):
    server.add(Reply(403, json={"errors": ["API key required"]}))
    async with make_client(server.url, fake, api_key=None, app_key=None, org="source") as c:
        with pytest.raises(HTTPError) as info:
            await c.get("/api/v1/validate")
    assert str(info.value) == (
        "403 Forbidden on GET /api/v1/validate (source): API key required\n"
        "hint: check the source API key (DD_SOURCE_API_KEY)"
    )


# -- stats, locks, lifecycle ---------------------------------------------------------------------------------


async def test_stats(server, client):
    server.add(Reply(503), Reply(200, json={}), Reply(201, json={}), Reply(404))
    await client.get("/a")
    await client.post("/b", json={})
    with pytest.raises(HTTPError):
        await client.delete("/c")
    s = client.stats
    assert s.requests == {"GET": 2, "POST": 1, "DELETE": 1}
    assert (s.reads, s.writes, s.total) == (2, 2, 4)
    assert s.statuses == {503: 1, 200: 1, 201: 1, 404: 1}
    assert s.retries == {"5xx": 1}
    assert s.as_dict()["requests"] == {"GET": 2, "POST": 1, "DELETE": 1}
    s.reset()
    assert s.as_dict() == {
        "requests": {},
        "reads": 0,
        "writes": 0,
        "retries": {},
        "statuses": {},
        "transport_errors": 0,
        "gave_up": 0,
        "circuit_rejections": 0,
    }


async def test_named_locks(client):
    a = client.lock("aws")
    assert client.lock("aws") is a and client.lock("other") is not a
    order = []

    async def writer(i):
        async with client.lock("aws"):
            order.append(("in", i))
            await asyncio.sleep(0)
            order.append(("out", i))

    await asyncio.gather(*(writer(i) for i in range(3)))
    assert order == [("in", 0), ("out", 0), ("in", 1), ("out", 1), ("in", 2), ("out", 2)]


def test_lock_needs_running_loop():
    c = Client("http://127.0.0.1:1", api_key=None, app_key=None)  # constructing needs no loop
    with pytest.raises(RuntimeError):
        c.lock("x")


async def test_context_manager_closes_transport(server, fake):
    class Recording:
        def __init__(self, inner):
            self.inner, self.closed = inner, False

        async def send(self, *a):
            return await self.inner.send(*a)

        async def close(self):
            self.closed = True
            await self.inner.close()

    from datadog_sync.http import AiohttpTransport

    t = Recording(AiohttpTransport())
    async with make_client(server.url, fake, transport=t) as c:
        assert await c.get("/x") == {}
    assert t.closed


async def test_many_sequential_requests_reuse_session(server, client):
    for _ in range(20):
        await client.get("/x")
    assert len(server.requests) == 20 and client.stats.reads == 20


async def test_429s_neither_inflate_the_backoff_nor_use_up_error_retries(server, fake):
    server.add(*[Reply(429, headers={"X-RateLimit-Reset": "0"})] * 22, Reply(503), Reply(200, json={"ok": 1}))
    policy = RetryPolicy(jitter=0, backoff_base=0.5, max_attempts=2, retry_timeout=600)
    async with make_client(server.url, fake, retry=policy) as c:
        with pytest.raises(HTTPError) as info:
            await c.get("/x")
        assert info.value.status == 429, "10 x max_attempts 429s in a row is the 429 cap"
        server.script.popleft()
        server.script.popleft()
        assert await c.get("/x") == {"ok": 1}
    # after the 429s, the first server error waits the base backoff, not 0.5 * 2**12
    assert fake.waits[-1] == 0.5


async def test_exclusive_lock_is_held_only_while_on_the_wire(server, fake):
    server.add(Reply(503), Reply(200, json={}))
    lock = asyncio.Lock()
    held_during_wait = []

    real_sleep = fake.sleep

    async def sleep(seconds):
        held_during_wait.append(lock.locked())
        await real_sleep(seconds)

    fake.sleep = sleep
    async with make_client(server.url, fake) as c:
        assert await c.post("/x", json={}, exclusive=lock) == {}
    assert held_during_wait == [False]
    assert not lock.locked()


async def test_an_exhausted_rate_limit_pauses_the_next_request(server, fake):
    server.add(Reply(200, json={}, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3"}))
    server.add(Reply(200, json={"ok": 1}))
    async with make_client(server.url, fake) as c:
        await c.get("/a")
        assert await c.get("/b") == {"ok": 1}
    (pause,) = fake.waits
    assert 3.0 <= pause < 4.0
    assert c.stats.statuses[429] == 0, "no request was sent into the exhausted window"


async def test_a_429_pauses_the_orgs_requests_sent_meanwhile(server, fake):
    server.add(Reply(429, headers={"X-RateLimit-Reset": "2"}), Reply(200, json={}))
    hold = asyncio.Event()
    sleeping = []
    real_sleep = fake.sleep

    async def sleep(seconds):  # every wait is held until the second request has been started
        sleeping.append(seconds)
        await hold.wait()
        await real_sleep(seconds)

    fake.sleep = sleep
    async with make_client(server.url, fake) as c:
        first = asyncio.create_task(c.get("/first"))
        await until(lambda: len(sleeping) == 1, "the first request waiting after its 429")
        second = asyncio.create_task(c.get("/second"))
        # Both requests are then held in a wait (the first's back-off, the second's pause for the window): from
        # there on nothing is sent until ``hold`` is set, so the count below is final, whatever the machine's speed.
        await until(lambda: len(sleeping) == 2 or second.done(), "the second request waiting for the window")
        assert c.stats.total == 1, "the second request waits for the window instead of drawing its own 429"
        hold.set()
        await asyncio.gather(first, second)
    assert c.stats.statuses[429] == 1 and c.stats.statuses[200] == 2


async def test_serialized_writes_queued_during_a_pause_wait_for_the_window(server, fake):
    server.add(Reply(200, json={}, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2"}))
    server.default = Reply(200, json={})
    lock = asyncio.Lock()
    async with make_client(server.url, fake) as c:
        # Both writes queue on the lock before the first answer exhausts the window.
        await asyncio.gather(c.post("/a", json={}, exclusive=lock), c.post("/b", json={}, exclusive=lock))
    assert len(fake.waits) == 1 and 2.0 <= fake.waits[0] < 3.0, "the second write waited inside the lock"
    assert c.stats.statuses[429] == 0


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({"account_id": "123456789012"}, "account_id=123456789012"),
        ({"page[size]": 100, "filter": "a b/c", "on": True, "off": False, "none": None}, None),
        ({"tag": ["env:prod", "team:a&b"], "q": "é€"}, None),
        ({"id": "AKIA~x_y.z-1"}, "id=AKIA~x_y.z-1"),
    ],
)
def test_query_strings_are_encoded_as_urlencode_with_quote_would(params, query):
    from urllib.parse import quote, urlencode

    from datadog_sync.http.encoding import encode_params

    def wire(v):
        return "true" if v is True else "false" if v is False else str(v)

    items = [(k, wire(x)) for k, v in params.items() if v is not None for x in (v if isinstance(v, list) else [v])]
    expected = query or urlencode(items, quote_via=quote)
    assert encode_params(params) == expected
    assert "%5B" in encode_params({"page[size]": 1}) and "%20" in encode_params({"q": "a b"})

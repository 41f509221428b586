"""Helpers for the HTTP client tests: a scripted local aiohttp server and a fake clock/sleep pair.

Imported by the ``test_http_*`` modules; holds no tests itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from datadog_sync.http import Client, RetryPolicy

_UNSET: Any = object()


@dataclass
class Reply:
    """One scripted answer. ``json`` wins over ``body``; ``stall`` holds the answer until the server shuts down
    (``"headers"``: before any byte; ``"body"``: after the headers and part of the body)."""

    status: int = 200
    json: Any = _UNSET
    body: bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    stall: str | None = None


@dataclass
class Recorded:
    method: str
    path_qs: str
    headers: Any
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 answering every request with the next scripted :class:`Reply`
    (or handler); once the script is empty it answers ``default``."""

    def __init__(self) -> None:
        self.script: deque[Reply | Handler] = deque()
        self.default: Reply | Handler = Reply(200, json={})
        self.requests: list[Recorded] = []
        self.url = ""
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def add(self, *replies: Reply | Handler) -> ScriptedServer:
        self.script.extend(replies)
        return self

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Recorded(request.method, request.path_qs, request.headers.copy(), body))
        reply = self.script.popleft() if self.script else self.default
        if not isinstance(reply, Reply):
            return await reply(request)
        if reply.json is not _UNSET:
            payload = json.dumps(reply.json).encode()
            headers = {"Content-Type": "application/json", **reply.headers}
        else:
            raw = reply.body or b""
            payload = raw.encode() if isinstance(raw, str) else raw
            headers = dict(reply.headers)
        if reply.stall == "headers":
            await self._release.wait()
        if reply.stall == "body":
            resp = web.StreamResponse(status=reply.status, headers=headers)
            resp.content_length = len(payload) + 100
            await resp.prepare(request)
            await resp.write(payload[: max(len(payload) // 2, 1)])
            await self._release.wait()
            return resp
        return web.Response(status=reply.status, body=payload, headers=headers)

    async def held(self) -> None:
        """Hold a handler until the server shuts down (as a stalled :class:`Reply` is held)."""
        await self._release.wait()

    async def start(self) -> ScriptedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()


class FakeTime:
    """``sleep`` that returns at once but advances ``clock`` by the requested amount, recording each wait."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.offset += seconds
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool], what: str, limit_s: float = 120.0) -> None:
    """Run the event loop a step at a time (``sleep(0)``: the other tasks and the sockets go on) until
    ``condition()`` holds. Nothing is timed: the limit only turns a hang into a failure."""
    end = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        await asyncio.sleep(0)


def suspended_in(task: asyncio.Task, function: str) -> bool:
    """Whether ``task`` is suspended inside a coroutine function named ``function``. Walks the await chain
    (``cr_await``, see the ``inspect`` docs): ``Task.get_stack`` shows only the outermost frame."""
    coro: Any = task.get_coro()
    while not task.done() and coro is not None and hasattr(coro, "cr_code"):
        if coro.cr_code.co_name == function:
            return True
        coro = coro.cr_await
    return False


#: Sockets kept bound for the whole run: a released port could be taken by a server of a parallel test.
_RESERVED: list[socket.socket] = []


def closed_port() -> int:
    """A local TCP port with nothing listening on it: bound but never listening, so a connect is refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    _RESERVED.append(s)
    return s.getsockname()[1]


@contextlib.asynccontextmanager
async def scripted_server():
    server = await ScriptedServer().start()
    try:
        yield server
    finally:
        await server.stop()


def make_client(
    base_url: str,
    fake: FakeTime,
    *,
    api_key: str | None = "0123456789abcdef0123456789abcdef",
    app_key: str | None = "fedcba9876543210fedcba9876543210fedcba98",
    seed: int = 7,
    **kw: Any,
) -> Client:
    kw.setdefault("retry", RetryPolicy())
    return Client(
        base_url,
        api_key=api_key,
        app_key=app_key,
        sleep=fake.sleep,
        clock=fake.clock,
        rng=random.Random(seed),
        **kw,
    )

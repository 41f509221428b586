"""A tiny REST server with two resource types, for end-to-end tests of the host pipeline.

``/api/v1/gadgets`` and ``/api/v1/widgets`` (a widget references a gadget by ``gadget_id``) in two orgs
told apart by their API key; plus ``/api/v1/validate`` and ``/api/v2/hamr``. ``/api/v1/integration/widgets``
serves the test-only ``widgets`` integrations subtype; with ``upstream`` set (the emulator's URL), every other
path is forwarded there, so the real ``aws`` subtype runs beside it in one CLI run.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import ClientSession, web

TYPES = ("gadgets", "widgets", "integration_widgets")
#: Response headers not copied from the upstream (aiohttp sets its own).
_HOP_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection", "date", "server"}


class CrudServer:
    def __init__(self, keys: dict[str, str], upstream: str | None = None):
        self.keys = keys  # api key -> org name
        self.upstream = upstream
        self.data: dict[str, dict[str, dict[str, dict]]] = {org: {t: {} for t in TYPES} for org in keys.values()}
        self.requests: list[tuple[str, str, str]] = []  # (org, method, path)
        self.fail: dict[tuple[str, str], int] = {}  # (method, path) -> status to answer once
        self._ids = itertools.count(1000)
        self.ddr_status = 2
        self.url = ""

    def _org(self, request: web.Request) -> str:
        org = self.keys.get(request.headers.get("DD-API-KEY", ""))
        if org is None:
            raise web.HTTPForbidden(text='{"errors":["Forbidden"]}', content_type="application/json")
        self.requests.append((org, request.method, request.path))
        status = self.fail.pop((request.method, request.path), None)
        if status:
            error = {
                400: web.HTTPBadRequest,
                403: web.HTTPForbidden,
                500: web.HTTPInternalServerError,
                503: web.HTTPServiceUnavailable,
            }[status]
            raise error(text='{"errors":["injected failure"]}', content_type="application/json")
        return org

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/validate", self.validate)
        app.router.add_get("/api/v2/hamr", self.hamr)
        for rtype in TYPES:
            path = rtype.replace("_", "/")
            app.router.add_get(f"/api/v1/{path}", self.list_items)
            app.router.add_post(f"/api/v1/{path}", self.create)
            app.router.add_put(f"/api/v1/{path}/{{id}}", self.update)
            app.router.add_delete(f"/api/v1/{path}/{{id}}", self.delete)
        app.router.add_route("*", "/{tail:.*}", self.forward)  # matched last: everything else
        return app

    async def forward(self, request: web.Request) -> web.Response:
        """Pass a request on to ``upstream`` unchanged and its answer back."""
        if not self.upstream:
            return web.json_response({"errors": ["not found"]}, status=404)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with ClientSession() as session:
            async with session.request(
                request.method, self.upstream + request.path_qs, headers=headers, data=await request.read()
            ) as answer:
                body = await answer.read()
                kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS}
                return web.Response(status=answer.status, body=body, headers=kept)

    async def validate(self, request: web.Request) -> web.Response:
        self._org(request)
        return web.json_response({"valid": True})

    async def hamr(self, request: web.Request) -> web.Response:
        self._org(request)
        return web.json_response(
            {"data": {"type": "hamr_org_connections", "id": "x", "attributes": {"HamrStatus": self.ddr_status}}}
        )

    @staticmethod
    def _type(request: web.Request) -> str:
        parts = request.path.split("/")
        return "integration_widgets" if parts[3] == "integration" else parts[3]

    async def list_items(self, request: web.Request) -> web.Response:
        org = self._org(request)
        return web.json_response({"data": list(self.data[org][self._type(request)].values())})

    async def create(self, request: web.Request) -> web.Response:
        org = self._org(request)
        body = await request.json()
        obj = {**body, "id": str(next(self._ids))}
        self.data[org][self._type(request)][obj["id"]] = obj
        return web.json_response(obj)

    async def update(self, request: web.Request) -> web.Response:
        org = self._org(request)
        items = self.data[org][self._type(request)]
        _id = request.match_info["id"]
        if _id not in items:
            return web.json_response({"errors": ["not found"]}, status=404)
        items[_id] = {**(await request.json()), "id": _id}
        return web.json_response(items[_id])

    async def delete(self, request: web.Request) -> web.Response:
        org = self._org(request)
        items = self.data[org][self._type(request)]
        if items.pop(request.match_info["id"], None) is None:
            return web.json_response({"errors": ["not found"]}, status=404)
        return web.json_response({})


@contextmanager
def serve(keys: dict[str, str], upstream: str | None = None) -> Iterator[CrudServer]:
    """Run a CrudServer on a free port in a background thread (the CLI runs its own event loop)."""
    server = CrudServer(keys, upstream)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(server.app())

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        server.url = f"http://127.0.0.1:{port}"
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

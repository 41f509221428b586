"""import, apply (sync) and reset honour the same caps: ``concurrent=False``, ``max_concurrent`` and
``--max-workers-per-type``, proven by the test REST server's count of requests in flight (never by timing)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from datadog_sync.resources import register, unregister
from datadog_sync.resources.base import BaseResource, ResourceConfig
from datadog_sync.resources.composite import CompositeResource, SubtypeResource
from tests import support
from tests.e2e import crud_server

ITEMS = 6


class GatedServer(crud_server.CrudServer):
    """Counts per-object requests in flight; holds the first ones until ``cap`` of them are in flight together,
    so ``max_in_flight == cap`` proves the cap is both reached and never passed."""

    def __init__(self, keys: dict[str, str], upstream: str | None = None):
        super().__init__(keys, upstream)
        self.cap = 1
        self.in_flight = 0
        self.max_in_flight = 0
        self.stuck = 0
        self._first_batch: asyncio.Event | None = None

    def app(self) -> web.Application:
        app = super().app()
        app.middlewares.append(self.gate)
        app.router.add_get("/api/v1/gadgets/{id}", self.read_item)
        return app

    async def read_item(self, request: web.Request) -> web.Response:
        org = self._org(request)
        return web.json_response(self.data[org]["gadgets"][request.match_info["id"]])

    def reset_counts(self, cap: int) -> None:
        self.cap, self.max_in_flight, self.stuck, self._first_batch = cap, 0, 0, None

    @web.middleware
    async def gate(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        if request.path.count("/") < 4 and request.method == "GET":  # list reads, validate, hamr
            return await handler(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self._first_batch is None:
                self._first_batch = asyncio.Event()
            if self.in_flight >= self.cap:
                self._first_batch.set()
            try:  # a generous bound that only a run below the cap meets: it then fails on ``stuck``
                await asyncio.wait_for(self._first_batch.wait(), 60)
            except asyncio.TimeoutError:
                self.stuck += 1
            return await handler(request)
        finally:
            self.in_flight -= 1


def gadgets_class(**settings: object) -> type[BaseResource]:
    class Gadgets(BaseResource):
        resource_type = "gadgets"
        config = ResourceConfig(base_path="/api/v1/gadgets", excluded_attributes=("id",), **settings)  # type: ignore

        async def import_resource(self, raw: dict, client) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
            # One read per object, as the real types with fetched attributes make.
            return str(raw["id"]), await client.get(f"/api/v1/gadgets/{raw['id']}")

    return Gadgets


@pytest.fixture
def server(monkeypatch, tmp_path):
    monkeypatch.setattr(crud_server, "CrudServer", GatedServer)
    monkeypatch.chdir(tmp_path)
    with support.serve_orgs() as srv:
        yield srv
    unregister("gadgets")


CASES = [
    pytest.param({"concurrent": False}, (), 1, id="concurrent=False"),
    pytest.param({"concurrent": False}, ("--max-workers-per-type=gadgets=3",), 1, id="concurrent=False-wins"),
    pytest.param({"max_concurrent": 2}, (), 2, id="max_concurrent"),
    pytest.param({"max_concurrent": 2}, ("--max-workers-per-type=gadgets=3",), 3, id="max-workers-per-type"),
    pytest.param({}, ("--max-workers=2",), 2, id="max-workers"),
]


@pytest.mark.parametrize(("config", "options", "cap"), CASES)
def test_import_sync_and_reset_honour_the_same_cap(server: GatedServer, config, options, cap):
    register(gadgets_class(**config))
    for i in range(ITEMS):
        server.data["source"]["gadgets"][str(i)] = {"id": str(i), "name": f"g{i}"}

    for command, extra in (("import", ()), ("sync", ()), ("reset", ("--yes",))):
        server.reset_counts(cap)
        result = support.invoke_served(server, command, *extra, *options, resources="gadgets")
        assert result.exit_code == 0, (command, result.output)
        assert (command, server.max_in_flight, server.stuck) == (command, cap, 0)
    assert len(server.data["destination"]["gadgets"]) == 0, "reset deleted what sync created"


class ThingsServer(GatedServer):
    """Also serves the per-object reads of ``/api/v1/widgets``, the second subtype's objects."""

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_get("/api/v1/widgets/{id}", self.read_widget)
        return app

    async def read_widget(self, request: web.Request) -> web.Response:
        return web.json_response(self.data[self._org(request)]["widgets"][request.match_info["id"]])


def things_class() -> type[BaseResource]:
    """A composite type of two subtypes with their own caps: ``one`` at a time (gadgets), ``four`` (widgets)."""

    class Part(SubtypeResource):
        resource_type = "things"

        async def list_resources(self, client) -> list[dict]:  # type: ignore[no-untyped-def]
            return [{**item, "name": self.subtype} for item in await super().list_resources(client)]

        def key_of(self, raw: dict) -> str:
            return f"{self.subtype}:{raw['id']}"

        async def import_resource(self, raw: dict, client) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
            obj = await client.get(f"{self.config.base_path}/{raw['id']}")  # one read per object
            return self.key_of(raw), {**obj, "name": self.subtype}

    class One(Part):
        subtype = "one"
        config = ResourceConfig(base_path="/api/v1/gadgets", excluded_attributes=("id",), concurrent=False)

    class Four(Part):
        subtype = "four"
        config = ResourceConfig(base_path="/api/v1/widgets", excluded_attributes=("id",), max_concurrent=4)

    class Things(CompositeResource):
        resource_type = "things"

    Things.register_subtype(One)
    Things.register_subtype(Four)
    return Things


SUBTYPE_CASES = [
    pytest.param("gadgets", (), 1, id="one-concurrent=False"),
    pytest.param("widgets", (), 4, id="four-max_concurrent"),
    pytest.param("gadgets", ("--max-workers-per-type=things=3",), 1, id="one-concurrent=False-wins"),
    pytest.param("widgets", ("--max-workers-per-type=things=3",), 3, id="four-max-workers-per-type"),
]


@pytest.mark.parametrize(("served", "options", "cap"), SUBTYPE_CASES)
def test_each_subtype_has_its_own_cap(monkeypatch, tmp_path, served, options, cap):
    """A subtype's cap is its own config's (``--max-workers-per-type <type>=N`` applying to each), never the
    strictest of its composite's subtypes; the other subtype is registered but has no objects."""
    monkeypatch.setattr(crud_server, "CrudServer", ThingsServer)
    monkeypatch.chdir(tmp_path)
    with support.serve_orgs() as server, support.registered(things_class()):
        for i in range(ITEMS):
            server.data["source"][served][str(i)] = {"id": str(i), "title": f"t{i}"}
        for command, extra in (("import", ()), ("sync", ()), ("reset", ("--yes",))):
            server.reset_counts(cap)
            result = support.invoke_served(server, command, *extra, *options, resources="things")
            assert result.exit_code == 0, (command, result.output)
            assert (command, server.max_in_flight, server.stuck) == (command, cap, 0)
        assert len(server.data["destination"][served]) == 0, "reset deleted what sync created"

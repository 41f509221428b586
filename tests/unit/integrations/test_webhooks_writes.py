"""The ``webhooks`` subtype's writes and reads through the real HTTP client, against the emulator or a real HTTP
server answering fixed JSON (no mocks of our classes): what a whole CLI run cannot reach easily (an object deleted
between plan and write, a refused write, answers of other shapes, monitor pages)."""

from __future__ import annotations

import asyncio

import pytest

from datadog_sync.http.client import Client
from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError, SkipResource
from datadog_sync.resources.integrations import handles
from datadog_sync.resources.integrations.webhooks import model
from tests.e2e.test_cli_answers import portal
from tests.unit.integrations.conftest import FAST
from tests.unit.integrations.test_webhooks_cli import DEPLOY, KEY_DEPLOY, KEY_TOKEN, VARIABLES, org

HOOK = model.from_api(model.WEBHOOK, DEPLOY)
TOKEN_VAR = model.from_api(model.VARIABLE, VARIABLES[0])


async def test_an_update_of_an_object_gone_meanwhile_fails_clearly_and_a_refused_one_names_it(emu, clients, harness):
    _, dst = clients
    hooks = harness().resource.subtypes["webhooks"]
    with pytest.raises(ResourceError, match='webhook "deploy-bot": it is gone from the destination'):
        await hooks.update(dst, KEY_DEPLOY, HOOK, HOOK)
    emu.seed("destination", org(DEPLOY))
    bad = {**HOOK, "webhook": {**HOOK["webhook"], "encode_as": "xml"}}
    with pytest.raises(ResourceError, match='webhook "deploy-bot": 400 Bad Request on PUT'):
        await hooks.update(dst, KEY_DEPLOY, bad, HOOK)
    with pytest.raises(ResourceError, match='webhook "x": 400 Bad Request on POST'):
        await hooks.create(dst, "webhooks:webhook:x", {"name": "webhooks", "webhook": {"name": "x", "url": 1}})


async def test_a_secret_variable_without_its_value_is_skipped_at_write_time_too(emu, clients, harness):
    _, dst = clients
    hooks = harness().resource.subtypes["webhooks"]
    with pytest.raises(SkipResource, match='Add {"webhooks": {"DEPLOY_TOKEN": "<value>"}}'):
        await hooks.create(dst, KEY_TOKEN, TOKEN_VAR)
    assert hooks.redacted({"name": "webhooks", "custom_variable": {**VARIABLES[0]}}) == TOKEN_VAR
    assert hooks.redacted(HOOK) is HOOK
    assert await hooks.current_destination(None, {KEY_DEPLOY: HOOK}, {KEY_TOKEN: TOKEN_VAR}) == {KEY_TOKEN: TOKEN_VAR}


async def test_a_refused_read_names_the_object(emu, clients, harness):
    src, _ = clients
    hooks = harness().resource.subtypes["webhooks"]
    emu.set_permissions("source", {"monitors_read"})
    with pytest.raises(HTTPError, match="403 Forbidden on GET /api/v1/integration/webhooks/.*/deploy-bot"):
        await hooks._read_all(hooks_api(src), model.WEBHOOK, ["deploy-bot"])


def hooks_api(client: Client):
    from datadog_sync.resources.integrations.webhooks.api import WebhooksApi

    return WebhooksApi(client)


async def test_answers_of_another_shape_are_no_datadog_api(harness, tmp_path):
    hook_path = "/api/v1/integration/webhooks/configuration/webhooks/deploy-bot"
    with portal({hook_path: ["not", "an", "object"], handles.MONITORS: {"monitors": []}}) as url:
        async with Client(url, api_key="k", app_key="a", org="source", retry=FAST) as client:
            with pytest.raises(ResourceError, match="answered a JSON list, not an object"):
                await hooks_api(client).get(model.WEBHOOK, "deploy-bot")
            with pytest.raises(ResourceError, match="answered a JSON object with keys \\['monitors'\\], not a list"):
                await handles.list_monitors(client)


async def test_monitors_are_read_page_by_page_once_per_org(emu, clients):
    src, _ = clients
    monitors = [{"name": f"m{i}", "message": f"@webhook-hook-{i % 3}"} for i in range(handles.PAGE_SIZE + 5)]
    emu.seed("source", {"monitors": monitors})
    reader = handles.MonitorHandles()
    found = await reader.read(src)
    again = await reader.read(src)
    pages = [r["query"]["page"] for r in emu.requests("source") if r["path"] == handles.MONITORS]
    assert pages == ["0", "1"] and found is again
    assert sorted(found) == ["@webhook-hook-0", "@webhook-hook-1", "@webhook-hook-2"]
    assert len(found["@webhook-hook-0"]) == len(range(0, handles.PAGE_SIZE + 5, 3))


@pytest.mark.parametrize("cap", [4, 24])
async def test_the_per_name_reads_honour_the_subtypes_cap(emu, clients, harness, cap):
    """One GET per name (there is no listing): as many in flight as ``--max-workers-per-type integrations=N`` (or
    ``--max-workers``) allows, like every other per-object read (pool.type_cap), not a fixed number. The emulator
    holds every request until the knob changes, so its count of held requests is the number in flight."""
    _, dst = clients
    hooks = harness(max_workers_per_type={"integrations": cap}).resource.subtypes["webhooks"]
    names = [f"hook-{i}" for i in range(cap + 10)]
    wanted = {model.state_key(model.WEBHOOK, n): {"name": "webhooks", "webhook": {"name": n}} for n in names}
    emu.set_knobs(hold_after_writes=0)
    reading = asyncio.ensure_future(hooks.current_destination(dst, wanted, {}))
    try:
        await until(lambda: emu.counters()["held"] >= cap, f"{cap} reads in flight")
        held = emu.counters()["held"]
    finally:
        emu.set_knobs(hold_after_writes=None)
        found = await reading
    assert held == cap  # the cap holds back the others: none can be sent before one ends
    assert found == {}  # the destination has none of them
    assert len(emu.requests("destination")) == len(names)


async def until(condition, what: str, limit_s: float = 30.0) -> None:
    """Poll until ``condition()`` holds; the limit only turns a hang into a failure, nothing is timed."""
    end = asyncio.get_running_loop().time() + limit_s
    while not condition():
        assert asyncio.get_running_loop().time() < end, f"gave up waiting for {what}"
        await asyncio.sleep(0.01)

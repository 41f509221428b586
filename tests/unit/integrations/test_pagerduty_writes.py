"""The ``pagerduty`` subtype's writes and listing through the real HTTP client against the emulator: the
edges a CLI run cannot reach deterministically (a service gone before its delete, unusual listings)."""

from __future__ import annotations

import pytest

from datadog_sync.resources.base import ResourceError, SkipResource
from tests.unit.integrations.conftest import make_client

LEGACY = "/api/v1/integration/pagerduty"
SERVICES = f"{LEGACY}/configuration/services"
SECRETS = {"pagerduty": {"payments": "k" * 32}}


def seeded(*names: str) -> dict:
    return {"services": {"pagerduty": {"services": [{"service_name": n, "service_key": "x" * 32} for n in names]}}}


async def test_delete_of_an_absent_service_is_deleted_already(emu, clients, harness):
    _, dst = clients
    run = harness(secrets=SECRETS)
    sub = run.resource.subtypes["pagerduty"]
    await sub.delete(dst, "pagerduty:gone", {"name": "pagerduty", "service_name": "gone"})
    assert [r["status"] for r in emu.requests("destination") if r["method"] == "DELETE"] == [404]


async def test_update_sets_the_key_only_when_the_file_has_it(emu, clients, harness):
    _, dst = clients
    emu.seed("destination", seeded("payments", "search"))
    sub = harness(secrets=SECRETS).resource.subtypes["pagerduty"]
    obj = {"name": "pagerduty", "service_name": "payments"}
    assert await sub.update(dst, "pagerduty:payments", obj, obj) == obj
    other = {"name": "pagerduty", "service_name": "search"}
    assert await sub.update(dst, "pagerduty:search", other, other) == other
    puts = [r["path"] for r in emu.requests("destination") if r["method"] == "PUT"]
    assert puts == [f"{SERVICES}/payments"]
    keys = {s["service_name"]: s["service_key"] for s in emu.dump("destination")["services"]["pagerduty"]["services"]}
    assert keys == {"payments": "k" * 32, "search": "x" * 32}


async def test_errors_name_the_service_and_a_create_without_key_skips(emu, clients, harness):
    _, dst = clients
    sub = harness(secrets=SECRETS).resource.subtypes["pagerduty"]
    with pytest.raises(SkipResource, match='Add {"pagerduty": {"search": "<service key>"}}'):
        await sub.create(dst, "pagerduty:search", {"name": "pagerduty", "service_name": "search"})
    emu.set_permissions("destination", ["integrations_read"])
    with pytest.raises(ResourceError, match="PagerDuty service payments: 403"):
        await sub.delete(dst, "pagerduty:payments", {"name": "pagerduty", "service_name": "payments"})
    with pytest.raises(ResourceError, match="PagerDuty service payments: 403"):
        await sub.create(dst, "pagerduty:payments", {"name": "pagerduty", "service_name": "payments"})
    with pytest.raises(ResourceError, match="PagerDuty service payments: 403"):
        obj = {"name": "pagerduty", "service_name": "payments"}
        await sub.update(dst, "pagerduty:payments", obj, obj)


async def test_an_org_without_the_integration_lists_none_and_a_foreign_answer_is_refused(emu, harness):
    from datadog_sync.emulator.testing import DESTINATION

    sub = harness().resource.subtypes["pagerduty"]
    client = make_client(emu, DESTINATION)
    try:
        assert await sub.list_resources(client) == []
        emu.set_permissions("destination", [])
        with pytest.raises(Exception, match="403"):
            await sub.list_resources(client)
    finally:
        await client.close()


async def test_a_listed_service_without_a_name_is_skipped(harness, clients):
    sub = harness().resource.subtypes["pagerduty"]
    with pytest.raises(SkipResource, match="a PagerDuty service without a name was listed"):
        await sub.import_resource({"name": "pagerduty", "service_name": ""}, clients[0])
    assert sub.key_of({"name": "pagerduty"}) is None

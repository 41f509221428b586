"""The ``opsgenie`` subtype's writes through the real HTTP client against the emulator: the edges a CLI run
cannot reach deterministically (a service gone before its write, a 409 for a name not listed, a foreign answer)."""

from __future__ import annotations

import pytest

from datadog_sync.resources.base import ResourceError, SkipResource

BASE = "/api/v2/integration/opsgenie/services"
GONE = {"name": "opsgenie", "service_name": "gone", "region": "us", "id": "00000000-0000-4000-8000-000000000009"}


def seeded(*names: str) -> dict:
    return {
        "services": {
            "opsgenie": [
                {"id": f"00000000-0000-4000-8000-00000000000{i}", "name": n, "region": "us", "opsgenie_api_key": "k"}
                for i, n in enumerate(names)
            ]
        }
    }


async def test_a_service_gone_before_its_update_or_delete(emu, clients, harness):
    _, dst = clients
    sub = harness().resource.subtypes["opsgenie"]
    await sub.delete(dst, "opsgenie:gone", GONE)
    with pytest.raises(ResourceError, match="Opsgenie service gone: it is gone from the destination"):
        await sub.update(dst, "opsgenie:gone", GONE, GONE)
    assert [r["status"] for r in emu.requests("destination") if r["method"] != "GET"] == [404, 404]


async def test_errors_name_the_service(emu, clients, harness):
    _, dst = clients
    emu.seed("destination", seeded("payments"))
    sub = harness(secrets={"opsgenie": {"payments": "key"}}).resource.subtypes["opsgenie"]
    with pytest.raises(SkipResource, match='Add {"opsgenie": {"gone": "<API key>"}}'):
        await sub.create(dst, "opsgenie:gone", GONE)
    payments = {**GONE, "service_name": "payments", "id": "00000000-0000-4000-8000-000000000000"}
    emu.set_permissions("destination", ["integrations_read"])
    for write in (sub.create(dst, "opsgenie:payments", payments), sub.delete(dst, "opsgenie:payments", payments)):
        with pytest.raises(ResourceError, match="Opsgenie service payments: 403"):
            await write
    with pytest.raises(ResourceError, match="Opsgenie service payments: 403"):
        await sub.update(dst, "opsgenie:payments", payments, payments)


async def test_a_409_for_a_name_the_listing_does_not_show_is_an_error(emu, clients, harness):
    _, dst = clients
    sub = harness(secrets={"opsgenie": {"gone": "key"}}).resource.subtypes["opsgenie"]
    emu.set_knobs(script=[{"fault": "conflict", "method": "POST", "path": BASE, "org": "destination"}])
    with pytest.raises(ResourceError, match="Opsgenie service gone: 409"):
        await sub.create(dst, "opsgenie:gone", GONE)


async def test_a_listing_of_another_shape_is_not_a_datadog_answer(emu, clients, harness):
    _, dst = clients
    sub = harness().resource.subtypes["opsgenie"]
    assert await sub.current_destination(None, {}, {"opsgenie:gone": GONE}) == {"opsgenie:gone": GONE}
    assert await sub.list_resources(dst) == []
    emu.set_permissions("destination", [])
    with pytest.raises(Exception, match="403"):
        await sub.list_resources(dst)


def test_handles_and_secret_names_of_both_subtypes(emu, harness):
    subtypes = harness().resource.subtypes
    og, pd = subtypes["opsgenie"], subtypes["pagerduty"]
    assert og.handles(GONE) == ["@opsgenie-gone"] and og.secret_names(GONE) == ["gone"]
    assert og.handles({"name": "opsgenie"}) == [] and og.secret_names({"name": "opsgenie"}) == []
    service = {"name": "pagerduty", "service_name": "payments"}
    assert pd.handles(service) == ["@pagerduty-payments"] and pd.secret_names(service) == ["payments"]
    assert pd.handles({"name": "pagerduty"}) == [] and pd.secret_names({"name": "pagerduty"}) == []

"""The ``azure`` subtype's writes and reads through the real HTTP client, against the emulator or a real HTTP server
answering one fixed status (no mocks of our classes): what a whole CLI run cannot reach easily (a registration
deleted between plan and write, a refused create, answers of other shapes)."""

from __future__ import annotations

import logging

import pytest

from datadog_sync.emulator.testing import DESTINATION
from datadog_sync.http.client import Client
from datadog_sync.resources.base import ResourceError, SkipResource
from datadog_sync.resources.integrations.azure import model
from tests.e2e.test_cli_answers import portal
from tests.unit.integrations.conftest import FAST, writes
from tests.unit.integrations.test_azure_cli import BASE, KEY_A, KEY_B, SECRET, TENANT, A, B, org

SECRETS = {"azure": {f"{TENANT}:{A['client_id']}": SECRET}}


def stored(app: dict) -> dict:
    return model.from_api({k: v for k, v in app.items() if k != "client_secret"})


async def test_an_update_of_a_registration_gone_meanwhile_fails_clearly_and_a_refused_one_names_it(
    emu, clients, harness
):
    _, dst = clients
    azure = harness(secrets=SECRETS).resource.subtypes["azure"]
    emu.seed("destination", org(B))
    with pytest.raises(ResourceError, match="it is gone from the destination .* run sync again"):
        await azure.update(dst, KEY_A, stored(A), stored(A))  # another pair is there: "does not exist"
    emu.seed("destination", {})
    with pytest.raises(ResourceError, match="it is gone from the destination \\(400 Azure Integration not yet"):
        await azure.update(dst, KEY_A, stored(A), stored(A))
    emu.seed("destination", org(A))
    with pytest.raises(ResourceError, match="Azure app registration .*: 400 Bad Request on PUT") as info:
        await azure.update(dst, KEY_A, {**stored(A), "automute": "no"}, stored(A))
    assert SECRET not in str(info.value)
    with pytest.raises(ResourceError, match="400 Bad Request on DELETE"):
        await azure.delete(dst, "azure::", {"tenant_name": "", "client_id": ""})
    assert writes(emu)[-1] == ("DELETE", BASE)


async def test_a_create_without_its_secret_is_skipped_even_when_planned_elsewhere(emu, clients, harness):
    _, dst = clients
    azure = harness().resource.subtypes["azure"]
    with pytest.raises(SkipResource, match="no client secret for Azure app registration"):
        await azure.create(dst, KEY_B, stored(B))
    assert writes(emu) == []


async def test_refusals_of_other_shapes_a_404_delete_and_a_null_listing(harness, caplog):
    h = harness(secrets=SECRETS)
    azure = h.resource.subtypes["azure"]
    with portal({BASE: None}) as url:
        client = make_client_at(url)
        try:
            assert await azure.list_resources(client) == []  # a null body: nothing listed
        finally:
            await client.close()
    with portal({}, status=409) as url:
        client = make_client_at(url)
        try:
            # A create answered 409 (not recorded: the API's page says a POST of an existing pair updates it) is
            # retried as a PUT, whose own refusal names the registration.
            with caplog.at_level(logging.WARNING), pytest.raises(ResourceError, match="409 Conflict on PUT"):
                await azure.create(client, KEY_A, stored(A))
            assert "updating it instead of creating it" in caplog.text
        finally:
            await client.close()
    with portal({}, status=404) as url:
        client = make_client_at(url)
        try:
            with caplog.at_level(logging.INFO):
                await azure.delete(client, KEY_A, stored(A))
            assert "already absent from the destination" in caplog.text
        finally:
            await client.close()
    with portal({}, status=403) as url:
        client = make_client_at(url)
        try:
            with pytest.raises(Exception, match="403"):
                await azure.list_resources(client)
        finally:
            await client.close()


def make_client_at(url: str) -> Client:
    return Client(url, api_key=DESTINATION.api_key, app_key=DESTINATION.app_key, org="destination", retry=FAST)


async def test_reads_without_a_client_a_listed_item_without_a_pair_and_reset_bookkeeping(emu, clients, harness, caplog):
    _, dst = clients
    azure = harness().resource.subtypes["azure"]
    state = {KEY_A: stored(A)}
    assert await azure.current_destination(None, {}, state) == state
    raw = {"tenant_name": TENANT, "name": "azure"}
    assert azure.key_of(raw) is None
    with pytest.raises(SkipResource, match="without tenant_name or client_id"):
        await azure.import_resource(raw, dst)
    assert azure.same_object(stored(A), {"tenant_name": TENANT, "client_id": A["client_id"]})
    assert not azure.same_object(stored(B), stored(A)) and not azure.same_object(stored(A), {})
    assert azure.redacted({**stored(A), "client_secret": SECRET}) == stored(A)
    # A registration deleted by someone between its write and the read-back: state keeps what was sent.
    emu.seed("destination", org(B))
    with caplog.at_level(logging.WARNING):
        settled = await azure.settle(dst, {KEY_A: stored(A), KEY_B: stored(B)})
    assert set(settled) == {KEY_B} and "not listed by the destination after its write" in caplog.text

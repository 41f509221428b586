"""The ``ms_teams`` subtype's reads and writes through the real HTTP client, against the emulator or a real HTTP
server answering fixed answers (no mocks of our classes): what a whole CLI run cannot reach easily."""

from __future__ import annotations

import logging

import pytest

from datadog_sync.emulator.testing import DESTINATION
from datadog_sync.http.client import Client
from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError, SkipResource
from datadog_sync.resources.integrations.ms_teams.api import BASE, PATHS, MsTeamsApi
from tests.e2e.test_cli_answers import portal
from tests.unit.integrations.conftest import FAST
from tests.unit.integrations.test_ms_teams_cli import OPS, TENANTS, URL

FLOW = {"name": "ms_teams", "handle_name": "wf", "handle_type": "workflows"}
TENANT = {
    "name": "ms_teams",
    "handle_name": "ops",
    "handle_type": "tenant",
    "tenant_name": "Example, Inc.",
    "team_name": "Ops",
    "channel_name": "General",
}
SECRETS = {"ms_teams": {"wf": URL}}
LISTED = {"data": [{"type": "workflows-webhook-handle", "id": "x-1", "attributes": {"name": "wf"}}]}


def client_at(url: str) -> Client:
    return Client(url, api_key=DESTINATION.api_key, app_key=DESTINATION.app_key, org="destination", retry=FAST)


async def test_writes_against_the_emulator(emu, clients, harness, caplog):
    _, dst = clients
    teams = harness(secrets=SECRETS).resource.subtypes["ms_teams"]
    with pytest.raises(SkipResource, match="the destination cannot resolve channel"):
        await teams.create(dst, "ms_teams:ops", TENANT)
    with pytest.raises(ResourceError, match="it is gone from the destination"):
        await teams.update(dst, "ms_teams:wf", FLOW, FLOW)
    with caplog.at_level(logging.INFO):
        await teams.delete(dst, "ms_teams:wf", FLOW)
    assert "already absent from the destination" in caplog.text
    emu.seed("destination", {"services": {"ms_teams_tenants": TENANTS, "tenant_handles": [{**OPS, "name": "wf"}]}})
    with pytest.raises(ResourceError, match="a handle of the other kind with that name"):
        await teams.create(dst, "ms_teams:wf", FLOW)
    with pytest.raises(ResourceError, match="Microsoft Teams tenant-based handle : 400"):
        await teams.create(dst, "ms_teams:", {**TENANT, "handle_name": ""})
    with pytest.raises(SkipResource, match="no workflow url"):
        await teams.create(dst, "ms_teams:other", {**FLOW, "handle_name": "other"})
    # An update without the url changes nothing but what it names.
    emu.seed("destination", {"services": {"workflows_handles": [{"id": "w-1", "name": "wf", "url": URL}]}})
    assert await teams.update(dst, "ms_teams:wf", FLOW, FLOW) == FLOW
    teams.secrets = type(teams.secrets)("ms_teams", "<handle name>", "workflow url")
    assert await teams.update(dst, "ms_teams:wf", FLOW, FLOW) == FLOW
    assert emu.dump("destination")["services"]["workflows_handles"][0]["url"] == URL


async def test_offline_planning_bookkeeping_and_answers_of_other_shapes(harness, caplog):
    teams = harness(secrets=SECRETS).resource.subtypes["ms_teams"]
    state = {"ms_teams:wf": FLOW}
    assert await teams.current_destination(None, {}, state) == state
    assert teams.key_of({"name": "ms_teams"}) is None
    with pytest.raises(SkipResource, match="without a name"):
        await teams.import_resource({"name": "ms_teams"}, None)  # type: ignore[arg-type]
    assert teams.same_object(FLOW, {"handle_name": "wf"}) and not teams.same_object(FLOW, {})
    assert teams.redacted({**FLOW, "url": URL}) == FLOW
    with portal({PATHS["workflows"]: LISTED, PATHS["tenant"]: {"items": []}}, status=400) as url:
        client = client_at(url)
        try:
            with pytest.raises(ResourceError, match="does not look like a Datadog API answer"):
                await MsTeamsApi(client).list_handles("tenant")
            with pytest.raises(HTTPError, match="400"):
                await MsTeamsApi(client).channel_ids("t", "team", "c")
            with pytest.raises(ResourceError, match="Microsoft Teams Workflows webhook handle wf: 400"):
                await teams.update(client, "ms_teams:wf", FLOW, FLOW)
            with pytest.raises(ResourceError, match="Microsoft Teams Workflows webhook handle wf: 400"):
                await teams.delete(client, "ms_teams:wf", FLOW)
        finally:
            await client.close()
    tenant_listed = {"data": [{"type": "ms-teams-tenant-based-handle-info", "id": "t-1", "attributes": {"name": "wf"}}]}
    with portal({PATHS["tenant"]: tenant_listed}, status=404) as url:
        client = client_at(url)
        try:
            with caplog.at_level(logging.INFO):
                await teams.delete(client, "ms_teams:wf", {**FLOW, "handle_type": "tenant"})
            assert "already absent" in caplog.text
            # A changed kind: the old handle (already gone) first, then the create, whose refusal names the handle.
            with pytest.raises(ResourceError, match="Microsoft Teams Workflows webhook handle wf: 404"):
                await teams.update(client, "ms_teams:wf", FLOW, {**FLOW, "handle_type": "tenant"})
        finally:
            await client.close()
    assert BASE in PATHS["tenant"]

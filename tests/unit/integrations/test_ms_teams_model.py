"""The ``ms_teams`` stored shape, comparison and payloads (validated against datadog-api-client's models)."""

from __future__ import annotations

import pytest
from datadog_api_client.v2.model.microsoft_teams_create_tenant_based_handle_request import (
    MicrosoftTeamsCreateTenantBasedHandleRequest,
)
from datadog_api_client.v2.model.microsoft_teams_create_workflows_webhook_handle_request import (
    MicrosoftTeamsCreateWorkflowsWebhookHandleRequest,
)
from datadog_api_client.v2.model.microsoft_teams_tenant_based_handles_response import (
    MicrosoftTeamsTenantBasedHandlesResponse,
)
from datadog_api_client.v2.model.microsoft_teams_update_tenant_based_handle_request import (
    MicrosoftTeamsUpdateTenantBasedHandleRequest,
)
from datadog_api_client.v2.model.microsoft_teams_update_workflows_webhook_handle_request import (
    MicrosoftTeamsUpdateWorkflowsWebhookHandleRequest,
)
from datadog_api_client.v2.model.microsoft_teams_workflows_webhook_handles_response import (
    MicrosoftTeamsWorkflowsWebhookHandlesResponse,
)

from datadog_sync.resources.integrations.ms_teams import model
from datadog_sync.resources.integrations.ms_teams.subtype import MsTeamsSubtype
from datadog_sync.resources.integrations.secrets import SecretsFileError
from tests.client_models import deserialize

IDS = {"tenant_id": "t-1", "team_id": "team-1", "channel_id": "19:x@thread.tacv2"}
TENANT_ITEM = {
    "type": "ms-teams-tenant-based-handle-info",
    "id": "596da4af-0563-4097-90ff-07230c3f9db3",
    "attributes": {"name": "ops", **IDS, "tenant_name": "Example, Inc.", "team_name": "Ops", "channel_name": "General"},
}
FLOW_ITEM = {
    "type": "workflows-webhook-handle",
    "id": "6d5a3bd3-6a6e-4b2f-8a37-3bbe9ea8d6a1",
    "attributes": {"name": "wf"},
}
TENANT = {
    "name": "ms_teams",
    "handle_name": "ops",
    "handle_type": "tenant",
    "channel_name": "General",
    "team_name": "Ops",
    "tenant_name": "Example, Inc.",
}
FLOW = {"name": "ms_teams", "handle_name": "wf", "handle_type": "workflows"}


def test_from_api_keeps_names_never_ids():
    assert model.from_api(TENANT_ITEM) == TENANT and model.from_api(FLOW_ITEM) == FLOW
    assert model.state_key(TENANT) == "ms_teams:ops" and model.handle(FLOW) == "@teams-wf"
    assert deserialize({"data": [TENANT_ITEM]}, MicrosoftTeamsTenantBasedHandlesResponse)
    assert deserialize({"data": [FLOW_ITEM]}, MicrosoftTeamsWorkflowsWebhookHandlesResponse)


def test_differences_compare_kind_and_channel_names():
    assert model.differences(TENANT, dict(TENANT)) == []
    assert [d.path for d in model.differences(TENANT, {**TENANT, "channel_name": "Alerts"})] == ["channel_name"]
    assert model.differences(FLOW, {**FLOW, "url": "https://x"}) == []
    assert model.differences(TENANT, {**FLOW, "handle_name": "ops"})


def test_payloads_are_valid_requests():
    create = deserialize(
        model.workflows_payload(FLOW, "https://prod.logic.azure.com/x"),
        MicrosoftTeamsCreateWorkflowsWebhookHandleRequest,
    )
    assert not create.data._unparsed and create.data.attributes.url == "https://prod.logic.azure.com/x"
    assert deserialize(model.workflows_payload(FLOW, None), MicrosoftTeamsUpdateWorkflowsWebhookHandleRequest)
    tenant = deserialize(model.tenant_payload(TENANT, IDS), MicrosoftTeamsCreateTenantBasedHandleRequest)
    assert tenant.data.attributes.channel_id == IDS["channel_id"]
    assert deserialize(model.tenant_payload(TENANT, IDS), MicrosoftTeamsUpdateTenantBasedHandleRequest)


def test_channel_ids_of_a_get_channel_by_name_answer():
    body = {
        "data": {
            "type": "ms-teams-channel-info",
            "id": "19:x@thread.tacv2",
            "attributes": {"team_id": "team-1", "tenant_id": "t-1", "is_primary": True},
        }
    }
    assert model.channel_ids(body) == IDS
    assert model.channel_ids({"data": {"id": "c", "attributes": {}}}) is None
    assert model.channel_ids([]) is None


@pytest.mark.parametrize(
    ("key", "entry", "problem"),
    [
        ("ms_teams:wf", {**FLOW, "url": "https://x"}, "never kept in state files"),
        ("ms_teams:", {**FLOW, "handle_name": ""}, "handle_name: needed"),
        ("ms_teams:wf", {**FLOW, "handle_type": "connector"}, 'not "connector"'),
        ("ms_teams:ops", {**TENANT, "team_name": ""}, "needs all three"),
        ("ms_teams:x", FLOW, "stored under ms_teams:x"),
        ("ms_teams:wf", {**FLOW, "handle_name": 3}, "handle_name"),
    ],
)
def test_problems(key, entry, problem):
    (found,) = model.problems(key, entry)
    assert problem in found


def test_secret_names_and_handles():
    assert MsTeamsSubtype.secret_names(None, FLOW) == ["wf"]  # type: ignore[arg-type]
    assert MsTeamsSubtype.secret_names(None, TENANT) == []  # type: ignore[arg-type]
    assert MsTeamsSubtype.handles(None, TENANT) == ["@teams-ops"]  # type: ignore[arg-type]
    assert MsTeamsSubtype.handles(None, {"name": "ms_teams"}) == []  # type: ignore[arg-type]


def test_the_secrets_section_is_keyed_by_handle_name():
    parsed = MsTeamsSubtype.parse_secrets({"wf": "https://prod.logic.azure.com/x"}, None)
    assert (
        parsed.get("wf") == "https://prod.logic.azure.com/x"
        and MsTeamsSubtype.parse_secrets(None, None).get("wf") is None
    )
    with pytest.raises(SecretsFileError, match="workflow url"):
        MsTeamsSubtype.parse_secrets({"wf": ""}, None)

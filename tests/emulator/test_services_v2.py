"""Behaviour of the emulated v2 notification-integration APIs: Opsgenie services, Microsoft Teams tenant-based and
Workflows webhook handles, and the webhooks OAuth2 auth methods."""

from __future__ import annotations

from typing import Any

from datadog_sync.emulator import Emulator, make_service_org
from tests.emulator.conftest import OTHER, READONLY, Api

OPSGENIE = "/api/v2/integration/opsgenie/services"
TEAMS = "/api/v2/integration/ms-teams/configuration"
TENANT = f"{TEAMS}/tenant-based-handles"
WORKFLOWS = f"{TEAMS}/workflows-webhook-handles"
AUTH = "/api/v2/integration/webhooks/configuration/auth-method"
OAUTH2 = f"{AUTH}/oauth2-client-credentials"
DENIED = {"errors": ["Forbidden", "Failed permission authorization checks"]}
TENANT_ID, TEAM_ID, CHANNEL_ID = "4d3bac44-0230-4732-9e70-cc00736f0a97", "008b01f1", "19:abc@thread.tacv2"
CONNECTED = {
    "ms_teams_tenants": [
        {
            "tenant_id": TENANT_ID,
            "tenant_name": "Datadog, Inc.",
            "teams": [
                {
                    "team_id": TEAM_ID,
                    "team_name": "ops",
                    "channels": [{"channel_id": CHANNEL_ID, "channel_name": "General", "is_primary": True}],
                }
            ],
        }
    ]
}


def body(kind: str, item_id: str | None = None, **attributes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind, "attributes": attributes}
    if item_id:
        data["id"] = item_id
    return {"data": data}


# --- Opsgenie ---------------------------------------------------------------------------------------------------


async def test_opsgenie_service_lifecycle(api: Api, emu: Emulator) -> None:
    created = await api.post(OPSGENIE, body("opsgenie-service", name="core", opsgenie_api_key="k", region="us"))
    assert created.status == 201
    data = created.body["data"]
    assert data["attributes"] == {"name": "core", "region": "us", "custom_url": None}
    assert (await api.get(f"{OPSGENIE}/{data['id']}")).body == created.body
    assert (await api.get(OPSGENIE)).body == {"data": [data]}
    patch = body("opsgenie-service", data["id"], name="core-2", region="custom", custom_url="https://og.example.com")
    updated = await api.patch(f"{OPSGENIE}/{data['id']}", patch)
    assert updated.body["data"]["attributes"] == {
        "name": "core-2",
        "region": "custom",
        "custom_url": "https://og.example.com",
    }
    assert emu.dump("main")["services"]["opsgenie"][0]["opsgenie_api_key"] == "k"  # kept, never served
    assert (await api.delete(f"{OPSGENIE}/{data['id']}")).status == 204
    gone = await api.delete(f"{OPSGENIE}/{data['id']}")
    assert (gone.status, gone.body) == (404, {"errors": ["Service not found."]})


async def test_opsgenie_duplicates_conflict_and_patch_needs_the_id(api: Api) -> None:
    first = await api.post(OPSGENIE, body("opsgenie-service", name="a", opsgenie_api_key="k", region="us"))
    await api.post(OPSGENIE, body("opsgenie-service", name="b", opsgenie_api_key="k", region="eu"))
    assert (
        await api.post(OPSGENIE, body("opsgenie-service", name="a", opsgenie_api_key="k", region="us"))
    ).status == 409
    service_id = first.body["data"]["id"]
    assert (await api.patch(f"{OPSGENIE}/{service_id}", body("opsgenie-service", service_id, name="b"))).status == 409
    assert (await api.patch(f"{OPSGENIE}/{service_id}", body("opsgenie-service", name="c"))).status == 400
    assert (
        await api.post(OPSGENIE, body("opsgenie-service", name="c", opsgenie_api_key="k", region="mars"))
    ).status == 400
    assert (await api.post(OPSGENIE, body("wrong-type", name="c", opsgenie_api_key="k", region="us"))).status == 400


# --- Microsoft Teams --------------------------------------------------------------------------------------------


async def test_workflows_handle_never_shows_its_url_and_delete_is_idempotent(api: Api, emu: Emulator) -> None:
    created = await api.post(WORKFLOWS, body("workflows-webhook-handle", name="ops", url="https://x.logic.azure.com/1"))
    data = created.body["data"]
    assert created.status == 201 and data["attributes"] == {"name": "ops"}
    assert (await api.get(WORKFLOWS, params={"name": "ops"})).body == {"data": [data]}
    assert (await api.get(WORKFLOWS, params={"name": "nope"})).body == {"data": []}
    renamed = await api.patch(f"{WORKFLOWS}/{data['id']}", body("workflows-webhook-handle", name="ops-2"))
    assert renamed.body["data"]["attributes"] == {"name": "ops-2"}
    assert emu.dump("main")["services"]["workflows_handles"][0]["url"] == "https://x.logic.azure.com/1"
    assert (await api.delete(f"{WORKFLOWS}/{data['id']}")).status == 204
    assert (await api.delete(f"{WORKFLOWS}/{data['id']}")).status == 204
    assert (await api.get(f"{WORKFLOWS}/{data['id']}")).status == 404


async def test_tenant_handle_needs_a_connected_tenant(api: Api) -> None:
    attrs = {"name": "ops", "tenant_id": TENANT_ID, "team_id": TEAM_ID, "channel_id": CHANNEL_ID}
    reply = await api.post(TENANT, body("tenant-based-handle", **attrs))
    assert reply.status == 412 and reply.body == {"errors": [f"Tenant {TENANT_ID} is not connected"]}


async def test_tenant_handle_single_get_shows_ids_and_the_list_adds_names(api: Api, emu: Emulator) -> None:
    emu.seed("main", {"services": CONNECTED})
    channel = await api.get(f"{TEAMS}/channel/Datadog%2C%20Inc./ops/General")
    assert channel.body == {
        "data": {
            "id": CHANNEL_ID,
            "type": "ms-teams-channel-info",
            "attributes": {"is_primary": True, "team_id": TEAM_ID, "tenant_id": TENANT_ID},
        }
    }
    assert (await api.get(f"{TEAMS}/channel/Datadog%2C%20Inc./ops/Nope")).status == 404
    attrs = {"name": "ops", "tenant_id": TENANT_ID, "team_id": TEAM_ID, "channel_id": CHANNEL_ID}
    created = await api.post(TENANT, body("tenant-based-handle", **attrs))
    data = created.body["data"]
    assert created.status == 201 and data["type"] == "tenant-based-handle" and data["attributes"] == attrs
    assert (await api.get(f"{TENANT}/{data['id']}")).body == created.body
    listed = (await api.get(TENANT, params={"name": "ops"})).body["data"]
    assert listed == [
        {
            "id": data["id"],
            "type": "ms-teams-tenant-based-handle-info",
            "attributes": {**attrs, "tenant_name": "Datadog, Inc.", "team_name": "ops", "channel_name": "General"},
        }
    ]
    assert (await api.get(TENANT, params={"tenant_id": "other"})).body == {"data": []}
    bad = await api.patch(f"{TENANT}/{data['id']}", body("tenant-based-handle", channel_id="19:nope"))
    assert bad.status == 404
    # A tenant handle and a Workflows handle cannot share a name (assumed: the 409 the spec lists)
    assert (await api.post(WORKFLOWS, body("workflows-webhook-handle", name="ops", url="https://x"))).status == 409
    assert (await api.delete(f"{TENANT}/{data['id']}")).status == 204
    assert (await api.get(f"{TENANT}/{data['id']}")).status == 404


# --- OAuth2 auth methods ----------------------------------------------------------------------------------------


async def test_oauth2_auth_method_never_shows_its_secret_and_patch_clears_with_null(api: Api, emu: Emulator) -> None:
    kind = "webhooks-auth-method-oauth2-client-credentials"
    attrs = {"name": "m", "access_token_url": "https://t", "client_id": "c", "client_secret": "s", "audience": "a"}
    created = await api.post(OAUTH2, body(kind, **attrs))
    data = created.body["data"]
    assert created.status == 201 and data["attributes"] == {
        "name": "m",
        "protocol": "oauth2-client-credentials",
        "access_token_url": "https://t",
        "client_id": "c",
        "scope": None,
        "audience": "a",
    }
    patched = await api.patch(f"{OAUTH2}/{data['id']}", body(kind, audience=None, scope="read"))
    assert (
        patched.body["data"]["attributes"]["audience"] is None and patched.body["data"]["attributes"]["scope"] == "read"
    )
    listed = (await api.get(AUTH, params={"include": "oauth2-client-credentials"})).body
    assert listed["data"][0]["relationships"]["oauth2-client-credentials"]["data"]["id"] == data["id"]
    assert listed["included"] == [patched.body["data"]] and "included" not in (await api.get(AUTH)).body
    assert emu.dump("main")["services"]["auth_methods"][0]["client_secret"] == "s"
    assert (await api.post(OAUTH2, body(kind, **attrs))).status == 409
    assert (await api.delete(f"{OAUTH2}/{data['id']}")).status == 204
    gone = await api.get(f"{OAUTH2}/{data['id']}")
    assert gone.body == {"errors": ["The requested auth method does not exist."]}


# --- permissions, knobs, orgs -----------------------------------------------------------------------------------


async def test_read_only_org_cannot_write_and_orgs_are_separate(api: Api, emu: Emulator) -> None:
    emu.seed("readonly", make_service_org(n_opsgenie=1, n_teams_handles=2, seed=4))
    ro = api.as_org(READONLY)
    assert len((await ro.get(OPSGENIE)).body["data"]) == 1 and len((await ro.get(TENANT)).body["data"]) == 1
    assert (
        await ro.post(OPSGENIE, body("opsgenie-service", name="x", opsgenie_api_key="k", region="us"))
    ).body == DENIED
    assert (await ro.post(WORKFLOWS, body("workflows-webhook-handle", name="x", url="https://x"))).body == DENIED
    assert (await api.as_org(OTHER).get(OPSGENIE)).body == {"data": []}


async def test_knobs_apply_as_for_aws(api: Api, emu: Emulator) -> None:
    new = body("opsgenie-service", name="core", opsgenie_api_key="k", region="us")
    emu.set_knobs(script=[{"fault": "fault", "method": "POST", "path": OPSGENIE}])
    assert (await api.post(OPSGENIE, new)).status == 503
    assert (await api.get(OPSGENIE)).body == {"data": []}  # not applied
    emu.set_knobs(script=[{"fault": "lost", "method": "POST", "path": OPSGENIE}])
    assert (await api.post(OPSGENIE, new)).status == 504
    assert len((await api.get(OPSGENIE)).body["data"]) == 1  # applied
    emu.set_knobs(script=[], rate_limit_every=2)
    assert (await api.get(OPSGENIE)).status == 200
    assert (await api.get(OPSGENIE)).status == 429

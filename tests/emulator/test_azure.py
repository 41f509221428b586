"""Behaviour of the emulated Azure integration API (v1): app registrations keyed by tenant_name + client_id."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from datadog_sync.emulator import Emulator, EmulatorCore, OrgSpec, make_azure_org, make_cloud_secrets, make_gcp_org
from datadog_sync.emulator.permissions import AZURE_EDIT, AZURE_MANAGE, AZURE_READ
from tests.emulator.conftest import OTHER, READONLY, Api

BASE = "/api/v1/integration/azure"
NOT_INSTALLED = {"errors": ["Azure Integration not yet installed. Please install before performing this action."]}
DENIED = {"errors": ["Forbidden", "Failed permission authorization checks"]}
SECRET = "TestingRh2nx664kUy5dIApvM54T4AtO"
#: The body terraform-provider-datadog sends (TestAccDatadogIntegrationAzure interaction 0).
APP: dict[str, Any] = {
    "tenant_name": "aaaaaaaa-bbbb-cccc-dddd-1737141364ee",
    "client_id": "testc7f6-1234-5678-9101-3fcbf464test",
    "client_secret": SECRET,
    "app_service_plan_filters": "",
    "automute": False,
    "container_app_filters": "",
    "cspm_enabled": False,
    "custom_metrics_enabled": False,
    "host_filters": "foo:bar,buzz:lightyear",
    "metrics_enabled": True,
    "metrics_enabled_default": True,
    "resource_provider_configs": [],
    "usage_metrics_enabled": True,
}
PAIR = {"tenant_name": APP["tenant_name"], "client_id": APP["client_id"]}


async def rows(api: Api) -> list[dict[str, Any]]:
    reply = await api.get(BASE)
    assert reply.status == 200, reply.body
    return reply.body  # type: ignore[no-any-return]


async def test_an_org_without_app_registrations_lists_400_not_installed(api: Api) -> None:
    reply = await api.get(BASE)
    assert (reply.status, reply.body) == (400, NOT_INSTALLED)  # TestAccDatadogLogsArchiveAzure_basic, last call


async def test_create_answers_empty_and_the_list_never_shows_the_secret(api: Api, emu: Emulator) -> None:
    reply = await api.post(BASE, APP)
    assert (reply.status, reply.body) == (200, {})
    # The element recorded for that body (TestAccDatadogIntegrationAzure interaction 1), plus today's field.
    assert await rows(api) == [
        {
            "tenant_name": APP["tenant_name"],
            "client_id": APP["client_id"],
            "app_service_plan_filters": "",
            "container_app_filters": "",
            "host_filters": "foo:bar,buzz:lightyear",
            "automute": False,
            "cspm_enabled": False,
            "custom_metrics_enabled": False,
            "resource_collection_enabled": True,
            "metrics_enabled": True,
            "metrics_enabled_default": True,
            "usage_metrics_enabled": True,
            "resource_provider_configs": [],
            "secretless_auth_enabled": False,
            "errors": [],
            "warnings": [],
        }
    ]
    assert emu.dump("main")["azure"]["accounts"][0]["client_secret"] == SECRET
    logged = next(r for r in emu.requests("main") if r["method"] == "POST")
    assert logged["body"]["client_secret"] == "***"


async def test_api_date_hides_fields_the_api_did_not_have_yet(api: Api, emu: Emulator) -> None:
    emu.seed("main", {"azure": {"api_date": "2025-03-20"}})
    await api.post(BASE, APP)
    assert "secretless_auth_enabled" not in (await rows(api))[0]
    emu.seed("main", {"azure": {**emu.dump("main")["azure"], "api_date": "2026-07-24"}})
    assert (await rows(api))[0]["secretless_auth_enabled"] is False


async def test_create_drops_read_only_and_rename_fields(api: Api) -> None:
    # datadog-api-client-python's create example sends errors ["*"] and new_* (test_create_an_azure_...).
    sent = {**APP, "errors": ["*"], "new_tenant_name": "t2", "new_client_id": "c2"}
    assert (await api.post(BASE, sent)).status == 200
    (row,) = await rows(api)
    assert row["errors"] == [] and (row["tenant_name"], row["client_id"]) == (APP["tenant_name"], APP["client_id"])
    assert not {"new_tenant_name", "new_client_id", "client_secret"} & set(row)


async def test_a_second_post_of_a_pair_updates_it(api: Api) -> None:
    await api.post(BASE, APP)
    assert (await api.post(BASE, {**PAIR, "client_secret": "other", "automute": True})).status == 200
    (row,) = await rows(api)
    assert row["automute"] is True and row["host_filters"] == APP["host_filters"]
    # Several app registrations can share a tenant (TF GH#1242).
    await api.post(BASE, {**APP, "client_id": "testc7f6-1234-5678-9101-3fcbf123test"})
    assert [r["client_id"] for r in await rows(api)] == [APP["client_id"], "testc7f6-1234-5678-9101-3fcbf123test"]


async def test_put_overwrites_what_it_sends_keeps_the_rest_and_ignores_renames(api: Api, emu: Emulator) -> None:
    await api.post(BASE, {**APP, "custom_metrics_enabled": True})
    # TestAccDatadogIntegrationAzure interaction 10, without the secret and with an actual rename asked.
    put = {**PAIR, "host_filters": "", "app_service_plan_filters": "bar:baz", "new_client_id": "renamed"}
    put["resource_provider_configs"] = [{"namespace": "Microsoft.Compute", "metrics_enabled": False}]
    assert (await api.put(BASE, put)).body == {}
    (row,) = await rows(api)
    assert row["client_id"] == APP["client_id"]  # new_client_id is ignored: a rename is a delete and a create
    assert row["host_filters"] == "" and row["app_service_plan_filters"] == "bar:baz"
    assert row["custom_metrics_enabled"] is True
    assert row["resource_provider_configs"] == [{"namespace": "Microsoft.Compute", "metrics_enabled": False}]
    assert emu.dump("main")["azure"]["accounts"][0]["client_secret"] == SECRET  # kept when not sent
    assert (await api.put(BASE, {**PAIR, "client_secret": "rotated"})).status == 200
    assert emu.dump("main")["azure"]["accounts"][0]["client_secret"] == "rotated"


async def test_put_of_an_unknown_pair_is_400(api: Api) -> None:
    reply = await api.put(BASE, {**PAIR, "automute": True})
    assert (reply.status, reply.body) == (400, NOT_INSTALLED)
    await api.post(BASE, APP)
    reply = await api.put(BASE, {**PAIR, "client_id": "unknown", "automute": True})
    assert reply.status == 400 and "does not exist" in reply.body["errors"][0]
    assert (await api.put(BASE, {"automute": True})).status == 400
    assert (await api.put(BASE, {**PAIR, "automute": "yes"})).status == 400
    assert (await api.put(BASE, {**PAIR, "client_secret": ""})).status == 400
    assert (await rows(api))[0]["automute"] is False  # a rejected PUT changes nothing


async def test_delete_is_by_pair_and_idempotent_and_the_last_one_uninstalls(api: Api) -> None:
    await api.post(BASE, APP)
    other = {**APP, "client_id": "testc7f6-1234-5678-9101-3fcbf123test"}
    await api.post(BASE, other)
    assert (await api.delete(BASE, APP)).body == {}  # TF sends the whole object; only the pair counts
    assert [r["client_id"] for r in await rows(api)] == [other["client_id"]]
    # Deleting an absent pair twice: 200 {} (test_delete_an_azure_integration_returns_ok_response).
    assert (await api.delete(BASE, PAIR)).body == {} and (await api.delete(BASE, PAIR)).status == 200
    assert (await api.delete(BASE, {"tenant_name": other["tenant_name"], "client_id": other["client_id"]})).body == {}
    assert (await api.get(BASE)).body == NOT_INSTALLED
    assert (await api.delete(BASE, {"client_id": "x"})).status == 400


async def test_rename_is_a_delete_and_a_create(api: Api) -> None:
    await api.post(BASE, APP)
    renamed = {**APP, "client_id": "new-client"}
    assert (await api.delete(BASE, PAIR)).status == 200 and (await api.post(BASE, renamed)).status == 200
    assert [r["client_id"] for r in await rows(api)] == ["new-client"]


async def test_host_filters_endpoint_sets_only_host_filters(api: Api) -> None:
    await api.post(BASE, {**APP, "app_service_plan_filters": "tier:premium"})
    body = {**PAIR, "host_filters": "env:prod", "app_service_plan_filters": "ignored:here"}
    assert (await api.post(f"{BASE}/host_filters", body)).body == {}
    (row,) = await rows(api)
    assert row["host_filters"] == "env:prod" and row["app_service_plan_filters"] == "tier:premium"
    assert (await api.post(f"{BASE}/host_filters", {**PAIR, "host_filters": ["a"]})).status == 400
    assert (await api.post(f"{BASE}/host_filters", {**PAIR, "client_id": "x", "host_filters": ""})).status == 400


@pytest.mark.parametrize(
    "bad",
    [
        {k: v for k, v in APP.items() if k != "client_secret"},
        {**APP, "client_secret": ""},
        {**APP, "client_secret": "has spaces"},
        {**APP, "tenant_name": ""},
        {**APP, "automute": "true"},
        {**APP, "host_filters": ["foo:bar"]},
        {**APP, "resource_provider_configs": [{"namespace": "Microsoft.Web"}]},
    ],
)
async def test_malformed_creates_are_400_and_change_nothing(api: Api, bad: dict[str, Any]) -> None:
    reply = await api.post(BASE, bad)
    assert reply.status == 400 and isinstance(reply.body["errors"][0], str)
    assert (await api.get(BASE)).body == NOT_INSTALLED


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    [
        ("GET", BASE, AZURE_READ),
        ("POST", BASE, AZURE_MANAGE),
        ("PUT", BASE, AZURE_EDIT),
        ("DELETE", BASE, AZURE_MANAGE),
        ("POST", f"{BASE}/host_filters", AZURE_EDIT),
    ],
)
async def test_each_endpoint_needs_its_permission(
    api: Api, emu: Emulator, method: str, path: str, permission: str
) -> None:
    emu.set_permissions("main", sorted({AZURE_READ, AZURE_EDIT, AZURE_MANAGE} - {permission}))
    assert (await api.call(method, path, PAIR)).body == DENIED
    emu.set_permissions("main", [permission])
    assert (await api.call(method, path, PAIR)).body != DENIED


async def test_read_only_org_and_scoped_keys(api: Api, emu: Emulator) -> None:
    await api.as_org(READONLY).get(BASE)
    assert (await api.as_org(READONLY).post(BASE, APP)).body == DENIED
    emu.set_app_key_scopes("main", [AZURE_READ])
    assert (await api.post(BASE, APP)).body == DENIED
    assert (await api.get(BASE)).body == NOT_INSTALLED  # allowed, and the org is empty
    assert (await api.as_org(OTHER).post(BASE, APP)).status == 200  # orgs are separate
    assert (await api.get(BASE)).body == NOT_INSTALLED


async def test_faults_are_not_applied_and_lost_writes_are(api: Api, emu: Emulator) -> None:
    emu.set_knobs(script=[{"fault": "fault", "method": "POST", "path": BASE}])
    assert (await api.post(BASE, APP)).status == 503 and (await api.get(BASE)).status == 400
    emu.set_knobs(script=[{"fault": "lost", "method": "DELETE", "path": BASE}])
    await api.post(BASE, APP)
    assert (await api.delete(BASE, PAIR)).status == 504 and (await api.get(BASE)).body == NOT_INSTALLED


async def test_seed_dump_round_trip_generator_and_validation(emu: Emulator) -> None:
    state = make_azure_org(12, seed=5)
    assert make_azure_org(12, seed=5) == state and len({a["tenant_name"] for a in state["azure"]["accounts"]}) == 3
    emu.seed("other", state)
    dump = emu.dump("other")
    assert dump["azure"]["accounts"] == [
        {**a, "secretless_auth_enabled": False, "warnings": []} for a in state["azure"]["accounts"]
    ]
    emu.seed("other", dump)
    assert emu.dump("other") == dump
    secrets = make_cloud_secrets(state)["azure"]
    first = state["azure"]["accounts"][0]
    assert secrets[f"{first['tenant_name']}:{first['client_id']}"] == first["client_secret"] and len(secrets) == 12
    account = copy.deepcopy(first)
    for bad in (
        {"azure": {"accounts": [account, account]}},
        {"azure": {"accounts": [{**account, "new_client_id": "x"}]}},
        {"azure": {"accounts": [{**account, "client_id": None}]}},
        {"azure": {"accounts": [{**account, "errors": "x"}]}},
        {"azure": {"accounts": ["x"]}},
        {"azure": {"accounts": {}}},
        {"azure": {"api_date": 2025}},
        {"azure": {"installed": True}},
        {"clouds": {}},
    ):
        with pytest.raises(ValueError):
            emu.seed("other", bad)
    assert emu.dump("other") == dump
    with pytest.raises(ValueError):
        make_azure_org(-1)


async def test_gcp_and_azure_stores_over_the_admin_api(api: Api) -> None:
    admin = api.as_org(None)
    state = {**make_azure_org(3, seed=1), **make_gcp_org(3, seed=1, key_account_share=0.4)}
    put = await admin.put("/_emulator/orgs/main/state", state)
    assert put.status == 200 and set(put.body) == {"aws", "gcp", "azure"}
    assert (await admin.get("/_emulator/orgs/main/state")).body == put.body
    assert (await admin.put("/_emulator/orgs/main/state", put.body)).body == put.body  # seeds back unchanged
    assert len(await rows(api)) == 3
    bad_id = {"gcp": {"accounts": [{"client_email": "a@b.iam.gserviceaccount.com", "id": "x"}]}}
    assert "not a UUID" in (await admin.put("/_emulator/orgs/main/state", bad_id)).body["errors"][0]
    assert (await admin.delete("/_emulator/orgs/main/state")).status == 200
    assert set((await admin.get("/_emulator/orgs/main/state")).body) == {"aws"}
    assert (await api.get(BASE)).body == NOT_INSTALLED


def test_an_org_spec_with_a_bad_cloud_seed_is_not_added() -> None:
    core = EmulatorCore([])
    with pytest.raises(ValueError):
        core.add_org(OrgSpec("x", "k", "p", state={"gcp": {"accounts": [{"client_email": "e", "id": "bad"}]}}))
    assert "x" not in core.orgs
    core.add_org(OrgSpec("x", "k", "p", state=make_azure_org(2)))
    assert len(core.dump("x")["azure"]["accounts"]) == 2

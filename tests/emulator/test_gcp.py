"""Behaviour of the emulated GCP integration APIs: v2 STS accounts and principal, and the deprecated v1 keys."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from datadog_sync.emulator import Emulator, make_cloud_secrets, make_gcp_org
from datadog_sync.emulator.permissions import GCP_EDIT, GCP_MANAGE, GCP_READ
from tests.emulator.conftest import MAIN, OTHER, READONLY, Api

ACCOUNTS = "/api/v2/integration/gcp/accounts"
DELEGATE = "/api/v2/integration/gcp/sts_delegate"
V1 = "/api/v1/integration/gcp"
EMAIL = "datadog@payments-prod.iam.gserviceaccount.com"
DENIED = {"errors": ["Forbidden", "Failed permission authorization checks"]}
#: The v1 body terraform-provider-datadog sends (TestAccDatadogIntegrationGCP), shortened.
V1_ACCOUNT: dict[str, Any] = {
    "type": "service_account",
    "project_id": "payments-prod",
    "private_key_id": "1234567890123456789012345678901234567890",
    "private_key": "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n",
    "client_email": "keyed@payments-prod.iam.gserviceaccount.com",
    "client_id": "123456789012345678901",
    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
    "token_uri": "https://oauth2.googleapis.com/token",
    "host_filters": "host:one,host:two",
    "automute": True,
}


def body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "gcp_service_account", "attributes": attributes}}


async def create(api: Api, **attributes: Any) -> dict[str, Any]:
    reply = await api.post(ACCOUNTS, body(**{"client_email": EMAIL, **attributes}))
    assert reply.status == 201, reply.body
    return reply.body["data"]  # type: ignore[no-any-return]


async def listed(api: Api) -> list[dict[str, Any]]:
    reply = await api.get(ACCOUNTS)
    assert reply.status == 200, reply.body
    return reply.body["data"]  # type: ignore[no-any-return]


async def test_create_answers_201_with_the_server_defaults_and_the_injected_prometheus_entry(api: Api) -> None:
    data = await create(api)
    assert uuid.UUID(data["id"]) and data["type"] == "gcp_service_account" and "meta" not in data
    # The answer to a minimal create, recorded 2026-01-15 (TestAccIntegrationGcpStsDefault).
    assert data["attributes"] == {
        "account_tags": [],
        "automute": False,
        "client_email": EMAIL,
        "cloud_run_revision_filters": [],
        "host_filters": [],
        "is_bq_datasets_monitoring_enabled": False,
        "is_bq_jobs_monitoring_enabled": False,
        "is_cspm_enabled": False,
        "is_global_location_enabled": True,
        "is_per_project_quota_enabled": False,
        "is_resource_change_collection_enabled": False,
        "is_security_command_center_enabled": False,
        "metric_namespace_configs": [{"id": "prometheus", "disabled": True, "filters": []}],
        "monitored_resource_configs": [],
        "region_filter_configs": [],
        "resource_collection_enabled": True,
    }
    assert await listed(api) == [{**data, "meta": {"accessible_projects": []}}]  # only the list has meta


async def test_sent_namespace_configs_are_kept_and_nothing_is_injected(api: Api) -> None:
    configs = [{"id": "pubsub", "disabled": False, "filters": ["snapshot.*"]}, {"id": "aiplatform", "disabled": True}]
    data = await create(api, metric_namespace_configs=configs)
    assert data["attributes"]["metric_namespace_configs"] == [configs[0], {**configs[1], "filters": []}]


async def test_cspm_needs_resource_collection(api: Api) -> None:
    reply = await api.post(ACCOUNTS, body(client_email=EMAIL, is_cspm_enabled=True, resource_collection_enabled=False))
    assert (reply.status, reply.body) == (
        400,
        {"errors": ["Resource Collection must be enabled for CSM to be enabled"]},
    )
    data = await create(api, is_cspm_enabled=True)  # resource collection is on by default
    patch = await api.patch(f"{ACCOUNTS}/{data['id']}", body(resource_collection_enabled=False))
    assert patch.status == 400 and (await listed(api))[0]["attributes"]["resource_collection_enabled"] is True


async def test_one_account_per_client_email_across_generations(api: Api) -> None:
    await create(api)
    assert (await api.post(ACCOUNTS, body(client_email=EMAIL))).status == 409
    assert (await api.post(V1, {**V1_ACCOUNT, "client_email": EMAIL})).status == 409
    assert (await api.post(V1, V1_ACCOUNT)).status == 200
    assert (await api.post(ACCOUNTS, body(client_email=V1_ACCOUNT["client_email"]))).status == 409
    assert len(await listed(api)) == 1
    # Another org is another namespace: the same email is a new account there, with another id.
    other = await api.as_org(OTHER).post(ACCOUNTS, body(client_email=EMAIL))
    assert other.status == 201 and other.body["data"]["id"] != (await listed(api))[0]["id"]


async def test_malformed_bodies_are_400_and_change_nothing(api: Api) -> None:
    for bad in (
        {"data": {"type": "account", "attributes": {"client_email": EMAIL}}},
        {"data": {"type": "gcp_service_account"}},
        body(),
        body(client_email=EMAIL, automute="yes"),
        body(client_email=EMAIL, account_tags="env:prod"),
        body(client_email=EMAIL, monitored_resource_configs=[{"type": "gke_cluster", "filters": []}]),
        body(client_email=EMAIL, metric_namespace_configs=[{"disabled": True}]),
    ):
        reply = await api.post(ACCOUNTS, bad)
        assert reply.status == 400 and isinstance(reply.body["errors"][0], str), bad
    assert (await api.call("POST", ACCOUNTS, headers=None)).status == 400
    assert await listed(api) == []


async def test_patch_answers_201_keeps_what_it_leaves_out_and_replaces_sent_lists(api: Api) -> None:
    data = await create(api, account_tags=["env:prod"], automute=True, region_filter_configs=["us-east1"])
    # TF sends neither data.id nor client_email (TestAccIntGcpStsMetricNamespaceConfigs interaction 14).
    configs = [{"id": "aiplatform", "disabled": True, "filters": []}]
    reply = await api.patch(f"{ACCOUNTS}/{data['id']}", body(metric_namespace_configs=configs, account_tags=[]))
    assert reply.status == 201
    attrs = reply.body["data"]["attributes"]
    assert attrs["metric_namespace_configs"] == configs  # the injected prometheus entry is gone
    assert attrs["account_tags"] == [] and attrs["automute"] is True and attrs["region_filter_configs"] == ["us-east1"]
    assert (await listed(api))[0]["attributes"] == attrs
    # datadog-api-client-python sends both (test_update_sts_service_account_returns_ok_response).
    both = {"data": {"id": data["id"], "type": "gcp_service_account", "attributes": {"client_email": EMAIL}}}
    assert (await api.patch(f"{ACCOUNTS}/{data['id']}", both)).status == 201


async def test_patch_refuses_another_email_or_id_and_unknown_ids_are_404(api: Api) -> None:
    data = await create(api)
    path = f"{ACCOUNTS}/{data['id']}"
    assert (await api.patch(path, body(client_email="else@x.iam.gserviceaccount.com"))).status == 400
    assert (await api.patch(path, body(automute="yes"))).status == 400
    mismatch = {"data": {"id": str(uuid.uuid4()), "type": "gcp_service_account", "attributes": {}}}
    assert (await api.patch(path, mismatch)).status == 400
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        reply = await api.patch(f"{ACCOUNTS}/{unknown}", body(automute=True))
        assert (reply.status, reply.body) == (404, {"errors": ["GCP STS account not found"]})
    assert (await api.as_org(OTHER).patch(path, body(automute=True))).status == 404  # ids are per org


async def test_deprecated_filter_lists_mirror_monitored_resource_configs(api: Api) -> None:
    # TestAccIntegrationGcpStsBasic interaction 1: the deprecated lists become monitored_resource_configs.
    data = await create(api, host_filters=["host:one"], cloud_run_revision_filters=["rev:one", "rev:two"])
    assert data["attributes"]["monitored_resource_configs"] == [
        {"type": "cloud_run_revision", "filters": ["rev:one", "rev:two"]},
        {"type": "gce_instance", "filters": ["host:one"]},
    ]
    # Interaction 5: a non-empty monitored_resource_configs wins over the deprecated lists sent with it.
    mrc = [{"type": "gce_instance", "filters": ["host:three"]}, {"type": "cloud_function", "filters": ["func:one"]}]
    path = f"{ACCOUNTS}/{data['id']}"
    attrs = (await api.patch(path, body(host_filters=[], monitored_resource_configs=mrc))).body["data"]["attributes"]
    assert attrs["host_filters"] == ["host:three"] and attrs["cloud_run_revision_filters"] == []
    assert attrs["monitored_resource_configs"] == sorted(mrc, key=lambda m: m["type"])
    # A deprecated list alone changes its own type only (test_update_sts_service_account_returns_ok_response).
    attrs = (await api.patch(path, body(host_filters=["foo:bar"]))).body["data"]["attributes"]
    assert attrs["monitored_resource_configs"] == [
        {"type": "cloud_function", "filters": ["func:one"]},
        {"type": "gce_instance", "filters": ["foo:bar"]},
    ]
    cleared = (await api.patch(path, body(monitored_resource_configs=[]))).body["data"]["attributes"]
    assert cleared["monitored_resource_configs"] == [] and cleared["host_filters"] == []


async def test_delete_answers_204_empty_then_404(api: Api) -> None:
    data = await create(api)
    reply = await api.delete(f"{ACCOUNTS}/{data['id']}")
    assert reply.status == 204 and reply.body is None and reply.headers["Content-Type"].startswith("text/html")
    assert (await api.delete(f"{ACCOUNTS}/{data['id']}")).status == 404
    assert await listed(api) == []  # an org without accounts lists {"data": []}


async def test_the_principal_differs_per_org_and_post_returns_the_existing_one(api: Api, emu: Emulator) -> None:
    mine = (await api.get(DELEGATE)).body
    email = mine["data"]["attributes"]["delegate_account_email"]
    assert mine == {"data": {"id": email, "type": "gcp_sts_delegate", "attributes": {"delegate_account_email": email}}}
    assert email.startswith("ddgci-") and email.endswith("@datadog-gci-sts-us1-prod.iam.gserviceaccount.com")
    assert (await api.post(DELEGATE)).body == mine and (await api.post(DELEGATE, {})).body == mine
    other = (await api.as_org(OTHER).get(DELEGATE)).body["data"]["id"]
    assert other != email
    assert "gcp" not in emu.dump("main")  # a fresh org's store is left out of dumps, its principal included


async def test_an_org_without_a_principal_gets_one_from_post(api: Api, emu: Emulator) -> None:
    emu.seed("main", {"gcp": {"delegate": None}})
    assert (await api.get(DELEGATE)).status == 404
    assert (await api.as_org(READONLY).post(DELEGATE)).body == DENIED  # making it needs gcp_configuration_edit
    made = await api.post(DELEGATE)
    assert made.status == 200
    assert (await api.get(DELEGATE)).body == made.body == (await api.post(DELEGATE)).body
    assert "gcp" not in emu.dump("main")  # the org's principal again: as a fresh org's


async def test_api_date_selects_the_fields_and_defaults_of_that_day(api: Api, emu: Emulator) -> None:
    emu.seed("main", {"gcp": {"api_date": "2024-03-11"}})
    data = await create(api)
    # The 8 attributes of the 2024-03-11 recordings, resource collection off by default then.
    assert data["attributes"] == {
        "account_tags": [],
        "automute": False,
        "client_email": EMAIL,
        "cloud_run_revision_filters": [],
        "host_filters": [],
        "is_cspm_enabled": False,
        "is_security_command_center_enabled": False,
        "resource_collection_enabled": False,
    }
    emu.seed("main", {"gcp": {"api_date": "2024-10-07"}})
    attrs = (await create(api, is_security_command_center_enabled=True))["attributes"]
    assert attrs["resource_collection_enabled"] is True and "is_resource_change_collection_enabled" in attrs
    assert "metric_namespace_configs" not in attrs
    # The default is fixed at create time: today's API shows the same value for that account.
    emu.seed("main", {**emu.dump("main"), "gcp": {**emu.dump("main")["gcp"], "api_date": None}})
    assert (await listed(api))[0]["attributes"]["resource_collection_enabled"] is True
    assert (await api.get(ACCOUNTS)).status == 200


async def test_v1_key_accounts_never_show_the_key_and_v1_lists_sts_accounts_too(api: Api, emu: Emulator) -> None:
    assert (await api.post(V1, V1_ACCOUNT)).body == {}
    sts = await create(api)
    rows = (await api.get(V1)).body
    keyed = next(r for r in rows if r["client_email"] == V1_ACCOUNT["client_email"])
    assert keyed == {
        "project_id": "payments-prod",
        "client_email": V1_ACCOUNT["client_email"],
        "id": keyed["id"],
        "host_filters": "host:one,host:two",
        "automute": True,
        "is_cspm_enabled": False,
        "resource_collection_enabled": True,
        "is_security_command_center_enabled": False,
        "is_resource_change_collection_enabled": False,
        "cloud_run_revision_filters": [],
        "monitored_resource_configs": [{"type": "gce_instance", "filters": ["host:one", "host:two"]}],
        "errors": [],
    }
    sts_row = next(r for r in rows if r["client_email"] == EMAIL)
    assert sts_row["project_id"] == "" and sts_row["id"] == sts["id"]
    assert [a["attributes"]["client_email"] for a in await listed(api)] == [EMAIL]  # v2 lists STS accounts only
    stored = next(a for a in emu.dump("main")["gcp"]["accounts"] if a["client_email"] == V1_ACCOUNT["client_email"])
    assert stored["private_key"] == V1_ACCOUNT["private_key"] and stored["client_id"] == V1_ACCOUNT["client_id"]
    logged = next(r for r in emu.requests("main") if r["method"] == "POST" and r["path"] == V1)
    assert logged["body"]["private_key"] == "***" and logged["body"]["client_email"] == V1_ACCOUNT["client_email"]


async def test_v1_put_keeps_what_it_leaves_out_and_delete_is_idempotent(api: Api, emu: Emulator) -> None:
    await api.post(V1, V1_ACCOUNT)
    address = {k: V1_ACCOUNT[k] for k in ("client_email", "project_id")}
    put = await api.put(V1, {**address, "cloud_run_revision_filters": ["rev:one"], "private_key": "rotated"})
    assert put.body == {}
    row = (await api.get(V1)).body[0]
    assert row["automute"] is True and row["host_filters"] == "host:one,host:two"
    assert row["cloud_run_revision_filters"] == ["rev:one"]
    assert emu.dump("main")["gcp"]["accounts"][0]["private_key"] == "rotated"
    for unknown in ({**address, "project_id": "elsewhere"}, {"client_email": address["client_email"]}):
        assert (await api.put(V1, {**unknown, "automute": False})).status == 400
    assert (await api.put(V1, {**address, "host_filters": ["a"]})).status == 400  # v1 filters are one string
    # Deleting twice answers 200 {} both times (test_delete_a_gcp_integration_returns_ok_response).
    assert (await api.delete(V1, address)).body == {} and (await api.delete(V1, address)).body == {}
    assert (await api.get(V1)).body == []


async def test_v1_create_needs_the_key(api: Api) -> None:
    for missing in ("private_key", "project_id", "client_email"):
        reply = await api.post(V1, {k: v for k, v in V1_ACCOUNT.items() if k != missing})
        assert reply.status == 400 and missing in reply.body["errors"][0]
    assert (await api.get(V1)).body == []


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    [
        ("GET", ACCOUNTS, GCP_READ),
        ("POST", ACCOUNTS, GCP_MANAGE),
        ("GET", DELEGATE, GCP_READ),
        ("POST", DELEGATE, GCP_EDIT),
        ("GET", V1, GCP_READ),
        ("POST", V1, GCP_MANAGE),
        ("PUT", V1, GCP_EDIT),
        ("DELETE", V1, GCP_MANAGE),
    ],
)
async def test_each_endpoint_needs_its_permission(
    api: Api, emu: Emulator, method: str, path: str, permission: str
) -> None:
    emu.set_permissions("main", sorted({GCP_READ, GCP_EDIT, GCP_MANAGE} - {permission}))
    assert (await api.call(method, path, {})).body == DENIED
    emu.set_permissions("main", [permission])
    assert (await api.call(method, path, {})).body != DENIED


async def test_read_only_org_lists_but_cannot_write(api: Api) -> None:
    data = await create(api)
    ro = api.as_org(READONLY)
    assert (await ro.get(ACCOUNTS)).status == 200 and (await ro.get(V1)).status == 200
    assert (await ro.post(ACCOUNTS, body(client_email="x@y.iam.gserviceaccount.com"))).body == DENIED
    assert (await ro.patch(f"{ACCOUNTS}/{data['id']}", body())).body == DENIED
    assert (await ro.delete(f"{ACCOUNTS}/{data['id']}")).body == DENIED


async def test_knobs_apply_as_for_aws(api: Api, emu: Emulator) -> None:
    emu.set_knobs(script=[{"fault": "fault", "method": "POST", "path": ACCOUNTS}])
    assert (await api.post(ACCOUNTS, body(client_email=EMAIL))).status == 503
    assert await listed(api) == []  # not applied
    emu.set_knobs(script=[{"fault": "lost", "method": "POST", "path": ACCOUNTS}])
    assert (await api.post(ACCOUNTS, body(client_email=EMAIL))).status == 504
    assert len(await listed(api)) == 1  # applied
    emu.set_knobs(script=[], rate_limit_every=2)  # a 429 at a count, not a time
    assert (await api.get(ACCOUNTS)).status == 200
    limited = await api.get(ACCOUNTS)
    assert limited.status == 429 and limited.headers["X-RateLimit-Remaining"] == "0"
    assert emu.counters()["by_org"]["main"]["rate_limited"] >= 1


async def test_seed_and_dump_round_trip_and_validation(emu: Emulator) -> None:
    state = make_gcp_org(20, seed=3, key_account_share=0.25)
    emu.seed("other", state)
    dump = emu.dump("other")
    assert len(dump["gcp"]["accounts"]) == 20 and dump["gcp"]["delegate"].startswith("ddgci-")
    emu.seed("other", dump)
    assert emu.dump("other") == dump
    assert make_gcp_org(20, seed=3, key_account_share=0.25) == state
    secrets = make_cloud_secrets(state)["gcp"]
    assert len(secrets) == 5 and all(key["private_key"].startswith("-----BEGIN") for key in secrets.values())
    account = copy.deepcopy(state["gcp"]["accounts"][0])
    for bad in (
        {"gcp": {"accounts": [account, account]}},
        {"gcp": {"accounts": [{**account, "typo": 1}]}},
        {"gcp": {"accounts": [{**account, "id": "nope"}]}},
        {"gcp": {"api_date": "2024"}},
        {"gcp": {"delegate": ""}},
        {"gcp": {"accounts": {}}},
        {"gcp": []},
    ):
        with pytest.raises(ValueError):
            emu.seed("other", bad)
    assert emu.dump("other") == dump  # a rejected seed changes nothing
    emu.wipe("other")
    assert "gcp" not in emu.dump("other")
    with pytest.raises(ValueError):
        make_gcp_org(-1)


async def test_v1_host_filters_string_seeds_like_the_api(emu: Emulator, api: Api) -> None:
    emu.seed("main", {"gcp": {"accounts": [{k: v for k, v in V1_ACCOUNT.items() if k != "automute"}]}})
    row = (await api.get(V1)).body[0]
    assert row["monitored_resource_configs"] == [{"type": "gce_instance", "filters": ["host:one", "host:two"]}]
    assert MAIN.name == "main"

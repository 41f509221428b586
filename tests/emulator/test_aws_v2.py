"""Behaviour of the emulated v2 AWS accounts API, and what each API generation sees of the other's writes."""

from __future__ import annotations

import asyncio
import copy
import re
import uuid
from typing import Any

from datadog_sync.emulator import Emulator
from datadog_sync.emulator.aws_v2_model import ALL_REGIONS
from tests.emulator.conftest import (
    OTHER,
    READONLY,
    ROLE_ACCOUNT,
    V2_KEY_ACCOUNT,
    V2_ROLE_ACCOUNT,
    Api,
    v2_body,
)

ACCOUNTS = "/api/v2/integration/aws/accounts"
V1 = "/api/v1/integration/aws"
NOT_FOUND = {
    "errors": [
        {"status": "404", "title": "Account not found", "detail": "AWS account with provided id is not integrated"}
    ]
}


async def create(api: Api, attributes: dict[str, Any]) -> dict[str, Any]:
    reply = await api.post(ACCOUNTS, v2_body(**attributes))
    assert reply.status == 200, reply.body
    return reply.body["data"]  # type: ignore[no-any-return]


def bad_request(meta: dict[str, str]) -> dict[str, Any]:
    return {"errors": [{"status": "400", "title": "Bad Request", "detail": "invalid value", "meta": meta}]}


async def test_create_fills_server_defaults_and_hides_the_secret(api: Api, emu: Emulator) -> None:
    minimal = {k: V2_ROLE_ACCOUNT[k] for k in ("aws_account_id", "aws_partition", "auth_config")}
    data = await create(api, minimal)
    assert uuid.UUID(data["id"]) and data["type"] == "account"
    attrs = data["attributes"]
    assert re.fullmatch(r"[0-9a-f]{32}", attrs["auth_config"]["external_id"])
    # The defaults recorded for a create that leaves them out (test_create_an_aws_account_returns_...).
    assert attrs["aws_regions"] == {"include_all": True}
    assert attrs["metrics_config"] == {
        "enabled": True,
        "automute_enabled": True,
        "collect_custom_metrics": False,
        "collect_cloudwatch_alarms": False,
        "tag_filters": [],
        "namespace_filters": {"exclude_only": ["AWS/SQS", "AWS/ElasticMapReduce"]},
    }
    assert attrs["resources_config"] == {
        "cloud_security_posture_management_collection": False,
        "extended_collection": True,
    }
    assert attrs["traces_config"] == {"xray_services": {"include_only": []}}
    assert attrs["logs_config"] == {
        "lambda_forwarder": {"lambdas": [], "sources": [], "log_source_config": {"tag_filters": []}}
    }
    key = (await create(api, V2_KEY_ACCOUNT))["attributes"]
    assert key["auth_config"] == {"access_key_id": "AKIAIOSFODNN7EXAMPLE"} and key["aws_partition"] == "aws-us-gov"
    stored = emu.dump("main")["aws"]["accounts"][1]
    assert stored["secret_access_key"] == "wJalrXUtnFEMI/K7MDENG" and stored["config_id"] == (await ids(api))[1]


async def ids(api: Api) -> list[str]:
    return [a["id"] for a in (await api.get(ACCOUNTS)).body["data"]]


async def test_empty_account_tags_echo_null_on_create_only(api: Api) -> None:
    data = await create(api, {**V2_ROLE_ACCOUNT, "account_tags": []})
    assert data["attributes"]["account_tags"] is None  # TestAccIntegrationAwsEventBridgeBasic
    assert (await api.get(f"{ACCOUNTS}/{data['id']}")).body["data"]["attributes"]["account_tags"] == []


async def test_get_list_and_lookup_by_aws_account_id(api: Api) -> None:
    role = await create(api, V2_ROLE_ACCOUNT)
    key = await create(api, V2_KEY_ACCOUNT)
    assert (await api.get(f"{ACCOUNTS}/{role['id']}")).body == {"data": role}
    assert await ids(api) == [role["id"], key["id"]]
    found = await api.get(ACCOUNTS, params={"aws_account_id": "210987654321"})
    assert [a["id"] for a in found.body["data"]] == [key["id"]]
    assert (await api.get(ACCOUNTS, params={"aws_account_id": "000000000000"})).body == {"data": []}
    # TF sends the id in quotes and production answers 200 (TestAccIntegrationAwsAccountKeyBased).
    assert (await api.get(f'{ACCOUNTS}/"{role["id"]}"')).body == {"data": role}


async def test_path_ids_must_be_uuids_and_unknown_ones_are_404(api: Api) -> None:
    detail = 'invalid parameter "aws_account_config_id" in "path"; expected type "uuid"'
    expected = {"errors": [{"status": "400", "title": "Invalid Parameter", "detail": detail}]}
    for method in ("GET", "PATCH", "DELETE"):
        reply = await api.call(method, f"{ACCOUNTS}/not-a-uuid")
        assert (reply.status, reply.body) == (400, expected)
        body = v2_body(aws_account_id="1") if method == "PATCH" else None
        reply = await api.call(method, f"{ACCOUNTS}/{uuid.uuid4()}", body)
        assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_config_ids_differ_per_org_for_the_same_aws_account(api: Api) -> None:
    mine = await create(api, V2_ROLE_ACCOUNT)
    theirs = await create(api.as_org(OTHER), V2_ROLE_ACCOUNT)
    assert mine["id"] != theirs["id"]
    assert (await api.get(f"{ACCOUNTS}/{theirs['id']}")).status == 404


async def test_duplicates_conflict_and_bad_values_are_400_with_meta(api: Api, emu: Emulator) -> None:
    await create(api, V2_ROLE_ACCOUNT)
    again = await api.post(ACCOUNTS, v2_body(**V2_ROLE_ACCOUNT))
    detail = "AWS account with provided id already exists"
    assert again.status == 409
    assert again.body == {"errors": [{"status": "409", "title": "Account already exists", "detail": detail}]}
    bad = await api.post(ACCOUNTS, v2_body(**{**V2_KEY_ACCOUNT, "aws_partition": "aws-invalid"}))
    assert (bad.status, bad.body) == (400, bad_request({"aws_partition": "invalid partition: aws-invalid"}))
    metrics = {"namespace_filters": {"include_only": ["AWS/Bedrock/Guardrails"]}}
    bad = await api.post(ACCOUNTS, v2_body(**{**V2_KEY_ACCOUNT, "metrics_config": metrics}))
    path = "metrics_config.namespace_filters.include_only"
    assert (bad.status, bad.body) == (400, bad_request({path: "invalid namespaces: [AWS/Bedrock/Guardrails]"}))
    metrics = {"metric_name_filters": [{"namespace": "AWS/EC2", "include_only": ["a"], "exclude_only": ["b"]}]}
    assert (await api.post(ACCOUNTS, v2_body(**{**V2_KEY_ACCOUNT, "metrics_config": metrics}))).status == 400
    assert (await api.post(ACCOUNTS, {"data": {"type": "nope", "attributes": {}}})).status == 400
    assert len(emu.dump("main")["aws"]["accounts"]) == 1


async def test_patch_keeps_what_it_leaves_out(api: Api) -> None:
    data = await create(api, V2_ROLE_ACCOUNT)
    before = data["attributes"]
    # The PATCH of test_update_an_aws_integration_returns_aws_account_object_response: no aws_regions, no
    # namespace_filters, traces_config {} and two scalars changed.
    metrics = {**V2_ROLE_ACCOUNT["metrics_config"], "collect_custom_metrics": False, "automute_enabled": True}
    del metrics["namespace_filters"]
    attributes = {k: v for k, v in V2_ROLE_ACCOUNT.items() if k != "aws_regions"}
    patch = {**attributes, "metrics_config": metrics, "traces_config": {}}
    reply = await api.patch(f"{ACCOUNTS}/{data['id']}", v2_body(**patch))
    after = reply.body["data"]["attributes"]
    assert reply.status == 200
    assert after["aws_regions"] == before["aws_regions"] == {"include_only": ["us-east-1"]}
    assert after["metrics_config"]["namespace_filters"] == {"include_only": ["AWS/EC2"]}
    assert after["traces_config"] == before["traces_config"]
    assert after["metrics_config"]["collect_custom_metrics"] is False
    assert after["metrics_config"]["automute_enabled"] is True
    assert after["created_at"] == before["created_at"]
    assert (await api.get(f"{ACCOUNTS}/{data['id']}")).body["data"]["attributes"] == after


async def test_patch_renames_the_role_and_rotates_keys_but_never_switches_auth(api: Api, emu: Emulator) -> None:
    role = await create(api, V2_ROLE_ACCOUNT)
    external_id = role["attributes"]["auth_config"]["external_id"]
    renamed = await api.patch(f"{ACCOUNTS}/{role['id']}", v2_body(auth_config={"role_name": "Renamed"}))
    assert renamed.body["data"]["attributes"]["auth_config"] == {"role_name": "Renamed", "external_id": external_id}
    switch = v2_body(auth_config=V2_KEY_ACCOUNT["auth_config"], aws_account_id="123456789012")
    refused = await api.patch(f"{ACCOUNTS}/{role['id']}", switch)
    generic = {"title": "Generic Error", "detail": "cannot switch between role and key based auth"}
    assert (refused.status, refused.body) == (400, {"errors": [generic]})
    assert (await api.get(f"{ACCOUNTS}/{role['id']}")).body == renamed.body  # unchanged

    key = await create(api, V2_KEY_ACCOUNT)
    rotated = {"access_key_id": "AKIAIOSFODNN7EXAMPLENEW", "secret_access_key": "new-secret"}
    reply = await api.patch(f"{ACCOUNTS}/{key['id']}", v2_body(auth_config=rotated))
    assert reply.body["data"]["attributes"]["auth_config"] == {"access_key_id": "AKIAIOSFODNN7EXAMPLENEW"}
    back = await api.patch(f"{ACCOUNTS}/{key['id']}", v2_body(auth_config={"role_name": "R"}))
    assert back.status == 400 and back.body == {"errors": [generic]}
    # A PATCH without the secret keeps the stored one (not recorded: the spec does not require it).
    await api.patch(f"{ACCOUNTS}/{key['id']}", v2_body(auth_config={"access_key_id": "AKIAIOSFODNN7EXAMPLENEW"}))
    assert emu.dump("main")["aws"]["accounts"][1]["secret_access_key"] == "new-secret"
    kept = await api.patch(f"{ACCOUNTS}/{key['id']}", v2_body(auth_config={}, account_tags=["x"]))
    assert kept.body["data"]["attributes"]["auth_config"] == {"access_key_id": "AKIAIOSFODNN7EXAMPLENEW"}


async def test_external_ids_are_valid_only_in_the_org_that_generated_them(api: Api) -> None:
    generated = await api.post("/api/v2/integration/aws/generate_new_external_id")
    external_id = generated.body["data"]["id"]
    assert generated.body == {
        "data": {"id": external_id, "type": "external_id", "attributes": {"external_id": external_id}}
    }
    refused = {"errors": [{"status": "400", "title": "Bad Request", "detail": "invalid External ID"}]}
    auth = {"role_name": "R", "external_id": external_id}
    foreign = await api.as_org(OTHER).post(ACCOUNTS, v2_body(**{**V2_ROLE_ACCOUNT, "auth_config": auth}))
    assert (foreign.status, foreign.body) == (400, refused)
    made_up = {"role_name": "R", "external_id": "0" * 32}
    assert (await api.post(ACCOUNTS, v2_body(**{**V2_ROLE_ACCOUNT, "auth_config": made_up}))).body == refused
    data = await create(api, {**V2_ROLE_ACCOUNT, "auth_config": auth})
    assert data["attributes"]["auth_config"]["external_id"] == external_id
    # An ID already in use stays valid in its org (TestAccIntegrationAwsEventBridgeBasic, ...CcmConfigBasic).
    second = await create(api, {**V2_KEY_ACCOUNT, "aws_account_id": "333333333333", "auth_config": auth})
    assert second["attributes"]["auth_config"]["external_id"] == external_id


async def test_delete_then_404(api: Api, emu: Emulator) -> None:
    data = await create(api, V2_ROLE_ACCOUNT)
    deleted = await api.delete(f"{ACCOUNTS}/{data['id']}")
    assert (deleted.status, deleted.body) == (204, None)
    assert (await api.delete(f"{ACCOUNTS}/{data['id']}")).body == NOT_FOUND
    assert emu.dump("main")["aws"]["accounts"] == []


# --- one store, two generations ------------------------------------------------------------------------------------


async def test_v1_accounts_seen_through_v2(api: Api) -> None:
    """The mapping the recorded v2 list shows for accounts created with the v1 test payload
    (test_list_all_aws_integrations_returns_aws_accounts_list_object_response)."""
    created = await api.post(V1, ROLE_ACCOUNT)
    arn = "arn:aws:lambda:us-east-1:171234183000:function:forwarder"
    await api.post(f"{V1}/logs", {"account_id": ROLE_ACCOUNT["account_id"], "lambda_arn": arn})
    await api.post(f"{V1}/logs/services", {"account_id": ROLE_ACCOUNT["account_id"], "services": ["s3"]})
    filt = {"account_id": ROLE_ACCOUNT["account_id"], "namespace": "lambda", "tag_filter_str": "a:b,c:d"}
    await api.post(f"{V1}/filtering", filt)
    [account] = (await api.get(ACCOUNTS)).body["data"]
    attrs = account["attributes"]
    assert attrs["aws_account_id"] == ROLE_ACCOUNT["account_id"] and attrs["aws_partition"] == "aws"
    assert attrs["auth_config"] == {"role_name": ROLE_ACCOUNT["role_name"], "external_id": created.body["external_id"]}
    assert attrs["account_tags"] == ["$KEY:$VALUE"]
    assert attrs["aws_regions"] == {"include_only": [r for r in ALL_REGIONS if r not in ("us-east-1", "us-west-2")]}
    assert len(attrs["aws_regions"]["include_only"]) == 28
    metrics = attrs["metrics_config"]
    assert metrics["enabled"] is False
    assert metrics["namespace_filters"] == {"exclude_only": ["AWS/AutoScaling", "AWS/ElasticMapReduce", "AWS/SQS"]}
    assert metrics["tag_filters"] == [
        {"namespace": "AWS/EC2", "tags": ["$KEY:$VALUE"]},
        {"namespace": "AWS/Lambda", "tags": ["a:b", "c:d"]},
    ]
    assert attrs["resources_config"] == {
        "cloud_security_posture_management_collection": True,
        "extended_collection": True,
    }
    assert attrs["logs_config"]["lambda_forwarder"]["lambdas"] == [arn]
    assert attrs["logs_config"]["lambda_forwarder"]["sources"] == ["s3"]
    # and v2 deletes what v1 created
    assert (await api.delete(f"{ACCOUNTS}/{account['id']}")).status == 204
    assert (await api.get(V1)).body == {"accounts": []}


async def test_v2_accounts_seen_through_v1(api: Api) -> None:
    data = await create(api, V2_ROLE_ACCOUNT)
    await create(api, V2_KEY_ACCOUNT)
    role, key = (await api.get(V1)).body["accounts"]
    assert role["account_id"] == "123456789012" and role["role_name"] == "DatadogIntegrationRole"
    assert role["host_tags"] == ["key:value"] and role["filter_tags"] == ["key:value"]
    assert role["excluded_regions"] == [r for r in ALL_REGIONS if r != "us-east-1"]
    assert role["metrics_collection_enabled"] is True and role["extended_resource_collection_enabled"] is False
    assert key["access_key_id"] == "AKIAIOSFODNN7EXAMPLE"
    logs = (await api.get(f"{V1}/logs")).body
    assert logs[0]["lambdas"] == [{"arn": V2_ROLE_ACCOUNT["logs_config"]["lambda_forwarder"]["lambdas"][0]}]
    assert logs[0]["services"] == ["s3"]
    # a v1 write of a shared field shows through v2, and v2-only settings survive it
    await api.put(V1, {"excluded_regions": [], "host_tags": ["v1:edit"]}, params=role_query(role))
    attrs = (await api.get(f"{ACCOUNTS}/{data['id']}")).body["data"]["attributes"]
    assert attrs["aws_regions"] == {"include_all": True} and attrs["account_tags"] == ["v1:edit"]
    assert attrs["modified_at"] >= data["attributes"]["modified_at"] == data["attributes"]["created_at"]
    assert attrs["traces_config"] == {"xray_services": {"include_only": ["AWS/AppSync"]}}
    assert attrs["metrics_config"]["automute_enabled"] is False
    assert attrs["logs_config"]["lambda_forwarder"]["log_source_config"]["tag_filters"][0]["source"] == "s3"
    # v1 deletes what v2 created; v2 then answers 404
    assert (await api.delete(V1, role_query(role))).status == 200
    assert (await api.get(f"{ACCOUNTS}/{data['id']}")).body == NOT_FOUND


def role_query(role: dict[str, Any]) -> dict[str, str]:
    return {"account_id": role["account_id"], "role_name": role["role_name"]}


async def test_one_aws_account_id_per_org_across_generations(api: Api) -> None:
    await api.post(V1, {**ROLE_ACCOUNT, "account_id": "123456789012"})
    assert (await api.post(ACCOUNTS, v2_body(**V2_ROLE_ACCOUNT))).status == 409
    await create(api, V2_KEY_ACCOUNT)
    assert (await api.post(V1, {"account_id": "210987654321", "role_name": "R"})).status == 409


# --- the front end: permissions, write slot, lookups ---------------------------------------------------------------


async def test_permissions_apply_as_for_v1(api: Api) -> None:
    readonly = api.as_org(READONLY)
    assert (await readonly.get(ACCOUNTS)).status == 200
    denied = await readonly.post(ACCOUNTS, v2_body(**V2_ROLE_ACCOUNT))
    assert denied.status == 403 and denied.body == {"errors": ["Forbidden", "Failed permission authorization checks"]}
    assert (await readonly.post("/api/v2/integration/aws/generate_new_external_id")).status == 403
    assert (await api.as_org(None).get(ACCOUNTS)).status == 403


async def test_v2_writes_share_the_v1_write_slot_unless_the_knob_is_off(api: Api, emu: Emulator) -> None:
    emu.set_knobs(hold_write_slot=True)
    holder = asyncio.ensure_future(api.post(V1, ROLE_ACCOUNT))
    while emu.counters()["by_org"].get("main", {}).get("slot_held", 0) < 1:
        await asyncio.sleep(0.01)
    conflict = await api.post(ACCOUNTS, v2_body(**V2_ROLE_ACCOUNT))
    assert conflict.status == 409
    assert conflict.body == {"errors": ["Could not update AWS Integration due to conflicting updates"]}
    emu.set_knobs(v2_write_slot=False)
    assert (await api.post(ACCOUNTS, v2_body(**V2_ROLE_ACCOUNT))).status == 200  # while the v1 write holds it
    assert not holder.done()
    emu.set_knobs(hold_write_slot=False)
    assert (await holder).status == 200


async def test_lookups(api: Api) -> None:
    namespaces = (await api.get("/api/v2/integration/aws/available_namespaces")).body["data"]
    assert namespaces["id"] == namespaces["type"] == "namespaces"
    assert {"AWS/Usage", "AWS/SQS", "AWS/States", "Glue"} <= set(namespaces["attributes"]["namespaces"])
    services = (await api.get("/api/v2/integration/aws/logs/services")).body["data"]
    assert services["type"] == "logs_services" and "lambda-edge" in services["attributes"]["logs_services"]
    for suffix in ("", "/standard", "/resource_collection"):
        reply = await api.get(f"/api/v2/integration/aws/iam_permissions{suffix}")
        assert reply.body["data"]["type"] == "permissions" and reply.body["data"]["attributes"]["permissions"]


async def test_event_bridge_and_ccm_config(api: Api) -> None:
    data = await create(api, V2_ROLE_ACCOUNT)
    source = {"account_id": "123456789012", "event_generator_name": "gen", "region": "us-east-1"}
    made = await api.post(
        "/api/v2/integration/aws/event_bridge", {"data": {"type": "event_bridge", "attributes": source}}
    )
    name = made.body["data"]["attributes"]["event_source_name"]
    assert name.startswith("gen-") and made.body["data"]["attributes"]["status"] == "created"
    listed = (await api.get("/api/v2/integration/aws/event_bridge")).body["data"]["attributes"]
    assert listed["accounts"][0]["event_hubs"] == [{"name": name, "region": "us-east-1"}]
    gone = {"data": {"type": "event_bridge", "attributes": {**source, "event_generator_name": name}}}
    assert (await api.delete("/api/v2/integration/aws/event_bridge", gone)).body["data"]["attributes"] == {
        "status": "empty"
    }
    ccm_path = f"{ACCOUNTS}/{data['id']}/ccm_config"
    assert (await api.get(ccm_path)).status == 404
    configs = [{"bucket_name": "b", "bucket_region": "us-east-1", "report_name": "r", "report_prefix": "p"}]
    body = {
        "data": {"type": "ccm_config", "attributes": {"ccm_config": {"data_export_configs": copy.deepcopy(configs)}}}
    }
    assert (await api.post(ccm_path, body)).status == 200
    assert (await api.get(ccm_path)).body["data"]["attributes"]["data_export_configs"][0]["report_name"] == "r"
    assert (await api.delete(ccm_path)).status == 204


async def test_scripted_faults_match_v2_bodies_by_aws_account_id(api: Api, emu: Emulator) -> None:
    emu.set_knobs(script=[{"fault": "conflict", "method": "POST", "account_id": "123456789012"}])
    assert (await api.post(ACCOUNTS, v2_body(**V2_KEY_ACCOUNT))).status == 200  # another account: not matched
    assert (await api.post(ACCOUNTS, v2_body(**V2_ROLE_ACCOUNT))).status == 409  # not applied
    assert [a["account_id"] for a in emu.dump("main")["aws"]["accounts"]] == ["210987654321"]
    assert (await api.post(ACCOUNTS, v2_body(**V2_ROLE_ACCOUNT))).status == 200  # the rule is used up

"""Behaviour of the emulated v1 AWS integration API (as recorded in the v1 cassettes; docs/emulator.md, Conformance)."""

from __future__ import annotations

import re

from datadog_sync.emulator import Emulator
from tests.emulator.conftest import KEY_ACCOUNT, OTHER, ROLE_ACCOUNT, Api

BASE = "/api/v1/integration/aws"
ROLE_ID = ROLE_ACCOUNT["account_id"]
KEY_ID = KEY_ACCOUNT["access_key_id"]


def missing(account: str) -> dict:
    return {"errors": [f"AWS account {account} does not exist in integration"]}


async def test_create_returns_external_id_for_roles_and_nothing_for_keys(api: Api, emu: Emulator) -> None:
    role = await api.post(BASE, ROLE_ACCOUNT)
    assert role.status == 200 and re.fullmatch(r"[0-9a-f]{32}", role.body["external_id"])
    key = await api.post(BASE, KEY_ACCOUNT)
    assert (key.status, key.body) == (200, {})
    stored = {a.get("access_key_id") or a["account_id"]: a for a in emu.dump("main")["aws"]["accounts"]}
    assert stored[ROLE_ID]["external_id"] == role.body["external_id"]
    assert stored[KEY_ID]["secret_access_key"] == KEY_ACCOUNT["secret_access_key"]
    assert stored[KEY_ID]["account_id"] == KEY_ACCOUNT["account_id"]  # kept for /logs


async def test_list_hides_secrets_and_shows_key_accounts_without_account_id(api: Api) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    await api.post(BASE, KEY_ACCOUNT)
    accounts = (await api.get(BASE)).body["accounts"]
    role, key = accounts
    assert role["account_id"] == ROLE_ID and role["errors"] == [] and role["host_tags"] == ["$KEY:$VALUE"]
    assert "external_id" not in role and "access_key_id" not in role
    assert set(key) == set(role) - {"account_id", "role_name"} | {"access_key_id"}
    assert "secret_access_key" not in key and key["errors"] == []
    assert role["metrics_collection_enabled"] is False and key["metrics_collection_enabled"] is True


async def test_list_query_filters(api: Api) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    await api.post(BASE, {"account_id": "222222222222", "role_name": "Other"})
    await api.post(BASE, KEY_ACCOUNT)

    async def ids(**params: str) -> list[str]:
        body = (await api.get(BASE, params=params)).body
        return [a.get("account_id") or a["access_key_id"] for a in body["accounts"]]

    assert await ids(account_id=ROLE_ID) == [ROLE_ID]
    assert await ids(role_name="Other") == ["222222222222"]
    assert await ids(account_id=ROLE_ID, role_name="Other") == []
    assert await ids(access_key_id=KEY_ID) == [KEY_ID]
    assert await ids(account_id=KEY_ACCOUNT["account_id"]) == []  # key accounts show no account_id
    assert await ids() == [ROLE_ID, "222222222222", KEY_ID]


async def test_duplicates_conflict(api: Api) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    await api.post(BASE, KEY_ACCOUNT)
    again = await api.post(BASE, {**ROLE_ACCOUNT, "role_name": "AnotherRole"})
    assert (again.status, again.body) == (409, {"errors": [f"AWS account {ROLE_ID} already exists in integration"]})
    key_again = await api.post(BASE, {**KEY_ACCOUNT, "account_id": "111111111111"})
    assert (key_again.status, key_again.body) == (
        409,
        {"errors": [f"AWS account {KEY_ID} already exists in integration"]},
    )


async def test_create_validation(api: Api) -> None:
    assert (await api.post(BASE, {"account_id": "1"})).status == 400
    assert (await api.post(BASE, {"access_key_id": "AKIA1"})).status == 400  # no secret
    assert (await api.post(BASE, {**ROLE_ACCOUNT, "access_key_id": "AKIA1"})).status == 400
    bad = await api.post(BASE, {**ROLE_ACCOUNT, "host_tags": "env:prod"})
    assert bad.status == 400 and "host_tags" in bad.body["errors"][0]
    assert (await api.call("POST", BASE, headers=None)).status == 400  # no body
    assert (await api.get(BASE)).body == {"accounts": []}


async def test_put_is_addressed_by_query_and_keeps_omitted_fields(api: Api) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    query = {"account_id": ROLE_ID, "role_name": ROLE_ACCOUNT["role_name"]}
    update = {"account_id": ROLE_ID, "host_tags": ["new:tag"], "account_specific_namespace_rules": {}}
    assert (await api.put(BASE, update, params=query)).body == {}
    account = (await api.get(BASE)).body["accounts"][0]
    assert account["host_tags"] == ["new:tag"]
    assert account["account_specific_namespace_rules"] == {}  # maps are replaced, so {} clears
    assert account["excluded_regions"] == ["us-east-1", "us-west-2"]  # omitted: kept
    assert account["cspm_resource_collection_enabled"] is True


async def test_put_renames_role_through_body(api: Api, emu: Emulator) -> None:
    created = await api.post(BASE, ROLE_ACCOUNT)
    query = {"account_id": ROLE_ID, "role_name": ROLE_ACCOUNT["role_name"]}
    assert (await api.put(BASE, {"account_id": ROLE_ID, "role_name": "Renamed"}, params=query)).status == 200
    account = emu.dump("main")["aws"]["accounts"][0]
    assert account["role_name"] == "Renamed" and account["external_id"] == created.body["external_id"]
    old = await api.put(BASE, {"host_tags": []}, params=query)
    assert (old.status, old.body) == (400, missing(ROLE_ID))


async def test_put_errors(api: Api) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    await api.post(BASE, KEY_ACCOUNT)
    unknown = await api.put(BASE, {}, params={"account_id": "999", "role_name": "x"})
    assert (unknown.status, unknown.body) == (400, missing("999"))
    assert (await api.put(BASE, {}, params={"access_key_id": "AKIANOPE"})).body == missing("AKIANOPE")
    assert (await api.put(BASE, {}, params={"account_id": ROLE_ID})).status == 400  # role_name required
    assert (await api.put(BASE, {})).status == 400  # no query at all
    switch = await api.put(
        BASE,
        {"access_key_id": "AKIA2", "secret_access_key": "s"},
        params={"account_id": ROLE_ID, "role_name": ROLE_ACCOUNT["role_name"]},
    )
    assert switch.status == 400
    bad = await api.put(BASE, {"metrics_collection_enabled": "yes"}, params={"access_key_id": KEY_ID})
    assert bad.status == 400
    assert (await api.get(BASE, params={"access_key_id": KEY_ID})).body["accounts"][0]["metrics_collection_enabled"]


async def test_put_key_account_keeps_secret_unless_sent(api: Api, emu: Emulator) -> None:
    await api.post(BASE, KEY_ACCOUNT)
    assert (await api.put(BASE, {"host_tags": ["a:b"]}, params={"access_key_id": KEY_ID})).status == 200
    assert emu.dump("main")["aws"]["accounts"][0]["secret_access_key"] == KEY_ACCOUNT["secret_access_key"]
    assert (await api.put(BASE, {"secret_access_key": "rotated"}, params={"access_key_id": KEY_ID})).status == 200
    assert emu.dump("main")["aws"]["accounts"][0]["secret_access_key"] == "rotated"


async def test_delete_by_body_then_400(api: Api) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    await api.post(BASE, KEY_ACCOUNT)
    body = {"account_id": ROLE_ID, "role_name": ROLE_ACCOUNT["role_name"]}
    assert (await api.delete(BASE, body)).body == {}
    again = await api.delete(BASE, body)
    assert (again.status, again.body) == (400, missing(ROLE_ID))
    assert (await api.delete(BASE, {"access_key_id": KEY_ID, "account_id": KEY_ACCOUNT["account_id"]})).body == {}
    assert (await api.get(BASE)).body == {"accounts": []}
    assert (await api.delete(BASE, {})).status == 400


async def test_filtering_lists_every_namespace_and_upserts(api: Api) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    path = f"{BASE}/filtering"
    assert (await api.post(path, {"account_id": ROLE_ID, "namespace": "elb", "tag_filter_str": "a:b"})).body == {}
    assert (await api.post(path, {"account_id": ROLE_ID, "namespace": "elb", "tag_filter_str": "c:d"})).body == {}
    filters = (await api.get(path, params={"account_id": ROLE_ID})).body["filters"]
    assert [f["namespace"] for f in filters] == [
        "elb",
        "application_elb",
        "sqs",
        "rds",
        "custom",
        "network_elb",
        "lambda",
        "step_functions",
    ]
    assert filters[0] == {"namespace": "elb", "tag_filter_str": "c:d"}
    assert all(f["tag_filter_str"] is None for f in filters[1:])
    assert (await api.delete(path, {"account_id": ROLE_ID, "namespace": "elb"})).body == {}
    assert (await api.get(path, params={"account_id": ROLE_ID})).body["filters"][0]["tag_filter_str"] is None


async def test_filtering_errors_and_key_accounts(api: Api) -> None:
    path = f"{BASE}/filtering"
    await api.post(BASE, KEY_ACCOUNT)
    assert (await api.post(path, {"account_id": KEY_ID, "namespace": "sqs", "tag_filter_str": "x:y"})).status == 200
    assert (await api.get(path, params={"account_id": KEY_ID})).body["filters"][2]["tag_filter_str"] == "x:y"
    numeric = await api.get(path, params={"account_id": KEY_ACCOUNT["account_id"]})
    assert numeric.body == missing(KEY_ACCOUNT["account_id"])  # key accounts are addressed by their key id
    bad_ns = await api.post(path, {"account_id": KEY_ID, "namespace": "ec2", "tag_filter_str": "x:y"})
    assert bad_ns.status == 400 and "namespace" in bad_ns.body["errors"][0]
    for reply in (
        await api.get(path, params={"account_id": "404404404404"}),
        await api.post(path, {"account_id": "404404404404", "namespace": "elb", "tag_filter_str": "a"}),
        await api.delete(path, {"account_id": "404404404404", "namespace": "elb"}),
    ):
        assert (reply.status, reply.body) == (400, missing("404404404404"))
    assert (await api.get(path)).status == 400


async def test_logs_lambdas_and_services(api: Api) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    await api.post(BASE, KEY_ACCOUNT)
    assert (await api.get(f"{BASE}/logs")).body == []
    arn = "arn:aws:lambda:us-east-1:1234567890:function:datadog-forwarder-Forwarder"
    for _ in range(2):  # the second add is a no-op 200
        assert (await api.post(f"{BASE}/logs", {"account_id": ROLE_ID, "lambda_arn": arn})).body == {}
    key_numeric = KEY_ACCOUNT["account_id"]
    assert (
        await api.post(f"{BASE}/logs/services", {"account_id": key_numeric, "services": ["s3", "lambda"]})
    ).body == {}
    logs = (await api.get(f"{BASE}/logs")).body
    assert logs == [
        {
            "account_id": ROLE_ID,
            "lambdas": [{"arn": arn}],
            "services": [],
            "services_with_triggers_present": [],
            "synced_by_service_id": [],
            "touched": False,
        },
        {
            "account_id": key_numeric,
            "lambdas": [],
            "services": ["s3", "lambda"],
            "services_with_triggers_present": [],
            "synced_by_service_id": [],
            "touched": False,
        },
    ]
    assert (await api.post(f"{BASE}/logs/services", {"account_id": key_numeric, "services": []})).body == {}
    assert (await api.delete(f"{BASE}/logs", {"account_id": ROLE_ID, "lambda_arn": arn})).body == {}
    assert (await api.get(f"{BASE}/logs")).body == []


async def test_logs_errors(api: Api) -> None:
    await api.post(BASE, KEY_ACCOUNT)
    arn = "arn:aws:lambda:us-east-1:1:function:f"
    unknown = await api.post(f"{BASE}/logs", {"account_id": "404404404404", "lambda_arn": arn})
    assert (unknown.status, unknown.body) == (400, missing("404404404404"))
    assert (await api.delete(f"{BASE}/logs", {"account_id": "404404404404", "lambda_arn": arn})).status == 400
    by_key = await api.post(f"{BASE}/logs", {"account_id": KEY_ID, "lambda_arn": arn})
    assert by_key.status == 400  # logs use the numeric id sent with the key
    bad = await api.post(f"{BASE}/logs/services", {"account_id": KEY_ACCOUNT["account_id"], "services": ["ec2"]})
    assert bad.status == 400
    unknown_services = await api.post(f"{BASE}/logs/services", {"account_id": "404404404404", "services": []})
    assert unknown_services.body == missing("404404404404")
    assert (await api.post(f"{BASE}/logs", {"account_id": KEY_ACCOUNT["account_id"]})).status == 400


async def test_delete_removes_filters_and_logs(api: Api, emu: Emulator) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    await api.post(f"{BASE}/logs", {"account_id": ROLE_ID, "lambda_arn": "arn:aws:lambda:x"})
    await api.post(f"{BASE}/filtering", {"account_id": ROLE_ID, "namespace": "rds", "tag_filter_str": "a"})
    await api.delete(BASE, {"account_id": ROLE_ID, "role_name": ROLE_ACCOUNT["role_name"]})
    assert (await api.get(f"{BASE}/logs")).body == []
    await api.post(BASE, ROLE_ACCOUNT)
    filters = (await api.get(f"{BASE}/filtering", params={"account_id": ROLE_ID})).body["filters"]
    assert all(f["tag_filter_str"] is None for f in filters)


async def test_static_lists_and_new_external_id(api: Api) -> None:
    services = (await api.get(f"{BASE}/logs/services")).body
    assert services[0] == {"id": "apigw-access-logs", "label": "API Gateway Access Logs"} and len(services) == 10
    rules = (await api.get(f"{BASE}/available_namespace_rules")).body
    assert "crawl_alarms" in rules and rules == sorted(rules)
    first = (await api.post(BASE, ROLE_ACCOUNT)).body["external_id"]
    body = {"account_id": ROLE_ID, "role_name": ROLE_ACCOUNT["role_name"]}
    rotated = await api.put(f"{BASE}/generate_new_external_id", body)
    assert rotated.status == 200 and rotated.body["external_id"] != first


async def test_orgs_are_isolated(api: Api) -> None:
    await api.post(BASE, ROLE_ACCOUNT)
    assert (await api.as_org(OTHER).get(BASE)).body == {"accounts": []}


async def test_not_installed_integration_lists_400(api: Api, emu: Emulator) -> None:
    emu.seed("main", {"aws": {"installed": False, "accounts": []}})
    assert (await api.get(BASE)).status == 400
    await api.post(BASE, ROLE_ACCOUNT)
    assert (await api.get(BASE)).status == 200


async def test_unknown_routes_and_methods(api: Api) -> None:
    assert (await api.get("/api/v1/nope")).status == 404
    assert (await api.call("PATCH", BASE)).status == 405

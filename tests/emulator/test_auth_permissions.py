"""Authentication, per-endpoint permissions, app key scopes, pre-flight endpoints, DDR status and metrics."""

from __future__ import annotations

import pytest

from datadog_sync.emulator import Emulator
from datadog_sync.emulator.permissions import (
    AWS_EDIT,
    AWS_MANAGE,
    AWS_READ,
    DEFAULT_PERMISSIONS,
    USER_ACCESS_READ,
    USER_APP_KEYS,
)
from tests.emulator.conftest import MAIN, OTHER, READONLY, ROLE_ACCOUNT, Api

BASE = "/api/v1/integration/aws"
FORBIDDEN = {"errors": ["Forbidden"]}
DENIED = {"errors": ["Forbidden", "Failed permission authorization checks"]}
ROLE_QUERY = {"account_id": ROLE_ACCOUNT["account_id"], "role_name": ROLE_ACCOUNT["role_name"]}


async def test_validate_checks_only_the_api_key(api: Api) -> None:
    assert (await api.get("/api/v1/validate", headers={"DD-API-KEY": MAIN.api_key})).body == {"valid": True}
    missing = await api.get("/api/v1/validate", headers={})
    assert (missing.status, missing.body) == (403, {"errors": ["API key required"]})
    wrong = await api.get("/api/v1/validate", headers={"DD-API-KEY": "nope"})
    assert (wrong.status, wrong.body) == (403, FORBIDDEN)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"DD-API-KEY": MAIN.api_key},
        {"DD-API-KEY": MAIN.api_key, "DD-APPLICATION-KEY": OTHER.app_key},  # keys of two different orgs
        {"DD-API-KEY": "x", "DD-APPLICATION-KEY": MAIN.app_key},
    ],
)
async def test_unknown_key_pairs_are_forbidden(api: Api, headers: dict[str, str]) -> None:
    reply = await api.get(BASE, headers=headers)
    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_read_only_org_reads_but_cannot_write(api: Api, emu: Emulator) -> None:
    ro = api.as_org(READONLY)
    assert (await ro.get(BASE)).status == 200
    assert (await ro.get(f"{BASE}/logs")).status == 200
    emu.seed("readonly", {"aws": {"accounts": [ROLE_ACCOUNT]}})
    for reply in (
        await ro.post(BASE, {"account_id": "1", "role_name": "r"}),
        await ro.put(BASE, {}, params=ROLE_QUERY),
        await ro.delete(BASE, ROLE_QUERY),
        await ro.post(f"{BASE}/filtering", {"account_id": "1", "namespace": "elb", "tag_filter_str": "a"}),
        await ro.post(f"{BASE}/logs", {"account_id": "1", "lambda_arn": "arn"}),
        await ro.post(f"{BASE}/logs/services", {"account_id": "1", "services": []}),
    ):
        assert (reply.status, reply.body) == (403, DENIED)
    assert len(emu.dump("readonly")["aws"]["accounts"]) == 1
    assert emu.counters()["by_org"]["readonly"]["forbidden"] == 6


@pytest.mark.parametrize(
    ("permissions", "allowed"),
    [
        ({AWS_READ}, {"GET"}),
        ({AWS_READ, AWS_EDIT}, {"GET", "PUT", "POST filtering"}),
        ({AWS_READ, AWS_MANAGE}, {"GET", "POST", "DELETE"}),
        (set(), set()),
    ],
)
async def test_each_endpoint_needs_its_x_permission(
    api: Api, emu: Emulator, permissions: set[str], allowed: set[str]
) -> None:
    emu.seed("main", {"aws": {"accounts": [ROLE_ACCOUNT]}})
    emu.set_permissions("main", permissions)
    filt = {"account_id": ROLE_ACCOUNT["account_id"], "namespace": "elb", "tag_filter_str": "a"}
    calls = {
        "GET": api.get(BASE),
        "PUT": api.put(BASE, {"host_tags": []}, params=ROLE_QUERY),
        "POST filtering": api.post(f"{BASE}/filtering", filt),
        "POST": api.post(BASE, {"account_id": "2", "role_name": "r"}),
        "DELETE": api.delete(BASE, {"account_id": "2", "role_name": "r"}),
    }
    for name, call in calls.items():
        reply = await call
        if name in allowed:
            assert reply.status == 200, (name, reply.body)
        else:
            assert (reply.status, reply.body) == (403, DENIED), name


async def test_scoped_app_key_narrows_permissions(api: Api, emu: Emulator) -> None:
    emu.set_app_key_scopes("main", [AWS_READ, USER_APP_KEYS])
    assert (await api.get(BASE)).status == 200
    assert (await api.post(BASE, {"account_id": "1", "role_name": "r"})).body == DENIED
    keys = (await api.get("/api/v2/current_user/application_keys")).body
    assert keys["data"][0]["attributes"]["scopes"] == [AWS_READ, USER_APP_KEYS]
    user_id = keys["data"][0]["relationships"]["owned_by"]["data"]["id"]
    assert (await api.get(f"/api/v2/users/{user_id}/permissions")).status == 403  # no user_access_read scope
    emu.set_app_key_scopes("main", None)
    perms = (await api.get(f"/api/v2/users/{user_id}/permissions")).body["data"]
    # the owner's permissions, not narrowed by the key's scopes
    assert {p["attributes"]["name"] for p in perms} == DEFAULT_PERMISSIONS
    assert all(p["type"] == "permissions" and p["attributes"]["restricted"] is False for p in perms)


async def test_current_user_application_keys(api: Api) -> None:
    path = "/api/v2/current_user/application_keys"
    body = (await api.get(path, params={"include": "owned_by", "page[size]": "100", "page[number]": "0"})).body
    key = body["data"][0]
    assert key["type"] == "application_keys"
    assert key["attributes"]["last4"] == MAIN.app_key[-4:] and key["attributes"]["scopes"] is None
    assert set(key["attributes"]) == {"name", "last4", "created_at", "last_used_at", "scopes"}
    owner = key["relationships"]["owned_by"]["data"]
    assert owner["type"] == "users" and body["included"][0]["id"] == owner["id"]
    assert body["meta"]["page"]["total_filtered_count"] == 1
    assert "included" not in (await api.get(path)).body
    assert (await api.get(path, params={"filter": "no-such-key"})).body["data"] == []
    assert (await api.get(path, params={"page[number]": "1"})).body["data"] == []
    assert (await api.get(path, params={"page[size]": "101"})).status == 400


async def test_preflight_endpoints_need_their_permissions(api: Api, emu: Emulator) -> None:
    user_id = emu.org_settings("main")["user_id"]
    emu.set_permissions("main", {AWS_READ})
    assert (await api.get("/api/v2/current_user/application_keys")).body == DENIED
    assert (await api.get(f"/api/v2/users/{user_id}/permissions")).body == DENIED
    emu.set_permissions("main", {USER_ACCESS_READ})
    assert (await api.get(f"/api/v2/users/{user_id}/permissions")).status == 200
    assert (await api.get("/api/v2/users/someone-else/permissions")).status == 404


async def test_ddr_status(api: Api, emu: Emulator) -> None:
    body = (await api.get("/api/v2/hamr")).body
    assert body["data"]["type"] == "hamr_org_connections" and body["data"]["attributes"]["HamrStatus"] == 2
    emu.set_ddr_status("main", 3)
    assert (await api.get("/api/v2/hamr")).body["data"]["attributes"]["HamrStatus"] == 3
    emu.set_ddr_status("main", None)
    assert "HamrStatus" not in (await api.get("/api/v2/hamr")).body["data"]["attributes"]
    assert (await api.get("/api/v2/hamr", headers={})).status == 403


async def test_series_accepts_api_key_only(api: Api) -> None:
    series = {"series": [{"metric": "datadog.org-sync.action", "type": 0, "points": [{"timestamp": 1, "value": 1}]}]}
    reply = await api.post("/api/v2/series", series, headers={"DD-API-KEY": MAIN.api_key})
    assert (reply.status, reply.body) == (202, {"errors": []})
    assert (await api.post("/api/v2/series", series, headers={"DD-API-KEY": "bad"})).status == 403

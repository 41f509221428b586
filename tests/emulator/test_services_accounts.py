"""Behaviour of the emulated account-based integrations (Fastly, Cloudflare, Confluent Cloud, Okta), the service
seed generators, and seed/dump of the service store."""

from __future__ import annotations

import json
from typing import Any

import pytest

from datadog_sync.emulator import Emulator, make_service_org, make_service_secrets
from tests.emulator.conftest import READONLY, Api

BASE = "/api/v2/integrations"
FASTLY, CLOUDFLARE = f"{BASE}/fastly/accounts", f"{BASE}/cloudflare/accounts"
CONFLUENT, OKTA = f"{BASE}/confluent-cloud/accounts", f"{BASE}/okta/accounts"
TOKEN = "0123456789abcdefghij0123456789abcdefghij"  # 40 characters: a Cloudflare API token
DENIED = {"errors": ["Forbidden", "Failed permission authorization checks"]}
EMAIL_REQUIRED = {
    "errors": ["{'_schema': ['Email address is required if providing an api key and not an api token.']}"]
}


def body(kind: str, item_id: str | None = None, **attributes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind, "attributes": attributes}
    if item_id:
        data["id"] = item_id
    return {"data": data}


# --- Fastly -------------------------------------------------------------------------------------------------------


async def test_fastly_account_patch_of_the_key_keeps_the_rest_and_services_live_under_it(
    api: Api, emu: Emulator
) -> None:
    created = await api.post(FASTLY, body("fastly-accounts", name="edge", api_key="k1", services=[{"id": "s1"}]))
    data = created.body["data"]
    assert created.status == 201 and data["attributes"] == {"name": "edge", "services": [{"id": "s1", "tags": []}]}
    assert len(data["id"]) == 32
    patched = await api.patch(f"{FASTLY}/{data['id']}", body("fastly-accounts", api_key="k2"))
    assert patched.body == created.body
    assert emu.dump("main")["services"]["fastly"][0]["api_key"] == "k2"
    services = f"{FASTLY}/{data['id']}/services"
    added = await api.post(services, body("fastly-services", "s2", tags=["team:edge"]))
    assert added.status == 201 and added.body == {
        "data": {"type": "fastly-services", "id": "s2", "attributes": {"tags": ["team:edge"]}}
    }
    assert (await api.post(services, body("fastly-services", "s2"))).status == 409
    assert [s["id"] for s in (await api.get(services)).body["data"]] == ["s1", "s2"]
    assert (await api.patch(f"{services}/s2", body("fastly-services", "s2", tags=[]))).body["data"]["attributes"] == {
        "tags": []
    }
    assert (await api.delete(f"{services}/s2")).status == 204
    assert (await api.get(f"{services}/s2")).status == 404
    assert (await api.post(FASTLY, body("fastly-accounts", name="edge", api_key="k"))).status == 409
    assert (await api.delete(f"{FASTLY}/{data['id']}")).status == 204
    assert (await api.get(f"{FASTLY}/{data['id']}")).status == 404


# --- Cloudflare ---------------------------------------------------------------------------------------------------


async def test_cloudflare_needs_the_key_on_every_patch_and_resets_omitted_resources(api: Api, emu: Emulator) -> None:
    assert (await api.post(CLOUDFLARE, body("cloudflare-accounts", name="cf", api_key="global"))).body == EMAIL_REQUIRED
    attrs = {"name": "cf", "api_key": "global", "email": "dev@example.com", "resources": ["web", "dns"]}
    created = await api.post(CLOUDFLARE, body("cloudflare-accounts", **attrs))
    data = created.body["data"]
    assert data["attributes"] == {"name": "cf", "email": "dev@example.com", "resources": ["web", "dns"], "zones": []}
    account = f"{CLOUDFLARE}/{data['id']}"
    assert (await api.patch(account, body("cloudflare-accounts", zones=["z1"]))).status == 400  # no api_key
    assert (await api.patch(account, body("cloudflare-accounts", api_key="global"))).body == EMAIL_REQUIRED
    patched = await api.patch(account, body("cloudflare-accounts", api_key="k2", email="dev@example.com", zones=["z1"]))
    assert patched.body["data"]["attributes"] == {
        "name": "cf",
        "email": "dev@example.com",
        "resources": [],
        "zones": ["z1"],
    }
    assert emu.dump("main")["services"]["cloudflare"][0]["api_key"] == "k2"


async def test_cloudflare_tokens_need_no_email_and_credentials_are_checked(api: Api) -> None:
    created = await api.post(CLOUDFLARE, body("cloudflare-accounts", name="tok", api_key=TOKEN))
    assert created.status == 201 and created.body["data"]["attributes"]["email"] == ""
    unknown = await api.post(CLOUDFLARE, body("cloudflare-accounts", name="bad", api_key="a" * 40))
    assert unknown.status == 400 and unknown.body["errors"][0].endswith("API key or email is unknown.")
    bad_email = await api.post(CLOUDFLARE, body("cloudflare-accounts", name="bad", api_key="k", email="new@email"))
    assert bad_email.body["errors"][0].endswith("API key or email is not in the correct format.")
    assert (await api.post(CLOUDFLARE, body("cloudflare-accounts", name="tok", api_key=TOKEN))).status == 409


# --- Confluent Cloud ----------------------------------------------------------------------------------------------


async def test_confluent_lower_cases_resource_tags_and_needs_the_secret_on_every_patch(api: Api, emu: Emulator) -> None:
    inline = [{"id": "lkc-1", "resource_type": "kafka", "tags": ["Inline:Tag"]}]
    created = await api.post(
        CONFLUENT, body("confluent-cloud-accounts", api_key="KEY", api_secret="s", resources=inline)
    )
    data = created.body["data"]
    assert data["attributes"] == {
        "api_key": "KEY",
        "tags": [],
        "resources": [
            {"id": "lkc-1", "resource_type": "kafka", "tags": ["Inline:Tag"], "enable_custom_metrics": False}
        ],
    }
    resources = f"{CONFLUENT}/{data['id']}/resources"
    added = await api.post(resources, body("confluent-cloud-resources", "lkc-2", resource_type="kafka", tags=["myTag"]))
    assert added.body["data"]["attributes"] == {
        "resource_type": "kafka",
        "tags": ["mytag"],
        "enable_custom_metrics": False,
    }
    changed = await api.patch(
        f"{resources}/lkc-2", body("confluent-cloud-resources", "lkc-2", resource_type="connector")
    )
    assert changed.body["data"]["attributes"]["resource_type"] == "connector"
    assert (
        await api.patch(f"{CONFLUENT}/{data['id']}", body("confluent-cloud-accounts", api_key="KEY", tags=["a"]))
    ).status == 400
    patched = await api.patch(
        f"{CONFLUENT}/{data['id']}", body("confluent-cloud-accounts", api_key="KEY", api_secret="s2", tags=["a"])
    )
    assert (
        patched.body["data"]["attributes"]["tags"] == ["a"]
        and len(patched.body["data"]["attributes"]["resources"]) == 2
    )
    assert emu.dump("main")["services"]["confluent_cloud"][0]["api_secret"] == "s2"
    assert (await api.post(CONFLUENT, body("confluent-cloud-accounts", api_key="KEY", api_secret="x"))).status == 409
    assert (await api.delete(f"{resources}/lkc-2")).status == 204
    assert (await api.delete(f"{CONFLUENT}/{data['id']}")).status == 204
    gone = await api.delete(f"{CONFLUENT}/{data['id']}")
    assert (gone.status, gone.body) == (404, {"errors": ["Account not found not found"]})


# --- Okta ---------------------------------------------------------------------------------------------------------


async def test_okta_patch_answers_a_new_id_and_the_old_id_is_gone(api: Api, emu: Emulator) -> None:
    attrs = {
        "name": "corp",
        "domain": "https://corp.okta.com/",
        "auth_method": "oauth",
        "client_id": "c",
        "client_secret": "s",
    }
    created = await api.post(OKTA, body("okta-accounts", "client-chosen-id", **attrs))
    data = created.body["data"]
    assert data["id"] != "client-chosen-id" and "client_secret" not in data["attributes"]
    patch = body("okta-accounts", domain="https://corp.okta.com/", auth_method="oauth", client_secret="s2")
    patched = (await api.patch(f"{OKTA}/{data['id']}", patch)).body["data"]
    assert patched["id"] != data["id"] and patched["attributes"]["name"] == "corp"
    assert [a["id"] for a in (await api.get(OKTA)).body["data"]] == [patched["id"]]
    old = await api.delete(f"{OKTA}/{data['id']}")
    assert (old.status, old.body) == (400, {"errors": ["Unknown error occurred: "]})
    assert emu.dump("main")["services"]["okta"][0]["client_secret"] == "s2"
    assert (await api.post(OKTA, body("okta-accounts", **attrs))).status == 409
    assert (await api.delete(f"{OKTA}/{patched['id']}")).status == 204
    assert (await api.get(f"{OKTA}/{patched['id']}")).status == 404


# --- permissions, seeds -------------------------------------------------------------------------------------------


async def test_read_only_org_reads_accounts_but_cannot_write(api: Api, emu: Emulator) -> None:
    emu.seed("readonly", make_service_org(n_fastly=1, n_cloudflare=1, n_confluent=1, n_okta=1, seed=2))
    ro = api.as_org(READONLY)
    for path in (FASTLY, CLOUDFLARE, CONFLUENT, OKTA):
        listed = (await ro.get(path)).body["data"]
        assert len(listed) == 1
        assert not {"api_key", "client_secret", "api_secret"} & set(listed[0]["attributes"]) or path == CONFLUENT
    assert "api_secret" not in (await ro.get(CONFLUENT)).body["data"][0]["attributes"]
    assert (await ro.post(FASTLY, body("fastly-accounts", name="x", api_key="k"))).body == DENIED


async def test_generators_are_reproducible_and_round_trip_through_seed_and_dump(emu: Emulator) -> None:
    counts = {"n_webhooks": 5, "n_pagerduty": 5, "n_opsgenie": 2, "n_slack_channels": 3, "n_teams_handles": 3}
    state = make_service_org(
        **counts, n_fastly=2, n_cloudflare=2, n_confluent=2, n_okta=2, n_custom_variables=4, seed=7
    )
    assert (
        make_service_org(**counts, n_fastly=2, n_cloudflare=2, n_confluent=2, n_okta=2, n_custom_variables=4, seed=7)
        == state
    )
    messages = " ".join(m["message"] for m in state["monitors"])
    assert messages.count("@webhook-") == 5 and messages.count("@pagerduty-") == 5 and messages.count("@slack-") == 3
    assert messages.count("@opsgenie-") == 2 and messages.count("@teams-") == 3
    emu.seed("other", state)
    dump = emu.dump("other")
    emu.seed("other", dump)
    assert emu.dump("other") == dump and len(dump["monitors"]) == 18
    secrets = make_service_secrets(state)
    assert set(secrets) == {
        "webhooks",
        "pagerduty",
        "opsgenie",
        "ms_teams",
        "fastly",
        "cloudflare",
        "confluent_cloud",
        "okta",
    }
    assert len(secrets["pagerduty"]) == 5 and len(secrets["webhooks"]) == 2 and len(secrets["ms_teams"]) == 1
    emu.wipe("other")
    assert "services" not in emu.dump("other") and "monitors" not in emu.dump("other")
    with pytest.raises(ValueError):
        make_service_org(n_webhooks=-1)


@pytest.mark.parametrize(
    "bad",
    [
        {"services": {"nope": []}},
        {"services": {"webhooks": [{"name": "x"}]}},
        {
            "services": {
                "opsgenie": [{"id": "1", "name": "a", "region": "us"}, {"id": "1", "name": "b", "region": "us"}]
            }
        },
        {"services": {"slack": {"ops": "#x"}}},
        {"services": {"pagerduty": {"services": [{"service_key": "k"}]}}},
        {"services": {"ms_teams_tenants": [{"tenant_name": "x"}]}},
        {"monitors": [{"message": "no name"}]},
    ],
)
async def test_seed_validation(emu: Emulator, bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        emu.seed("main", bad)


async def test_admin_api_seeds_and_dumps_the_service_store(api: Api, emu: Emulator) -> None:
    state = make_service_org(n_webhooks=1, n_pagerduty=1, seed=1)
    put = await api.as_org(None).put("/_emulator/orgs/main/state", state)
    assert put.status == 200 and put.body["services"]["pagerduty"]["services"][0]["service_key"]
    assert (await api.as_org(None).put("/_emulator/orgs/main/state", {"services": {"nope": 1}})).status == 400


async def test_no_read_answer_ever_contains_a_secret(api: Api, emu: Emulator) -> None:
    state = make_service_org(3, 3, 3, 3, 4, 2, 2, 2, 2, 4, seed=11)
    emu.seed("main", state)
    services = state["services"]
    secrets = {v for section in make_service_secrets(state).values() for v in section.values()}
    secrets.add(services["pagerduty"]["api_token"])
    secrets -= {a["api_key"] for a in services["confluent_cloud"]}  # Confluent's api_key is its (returned) name
    paths = [
        "/api/v1/integration/pagerduty",
        "/api/v1/monitor",
        "/api/v2/integration/opsgenie/services",
        "/api/v2/integration/ms-teams/configuration/tenant-based-handles",
        "/api/v2/integration/ms-teams/configuration/workflows-webhook-handles",
        "/api/v2/integration/webhooks/configuration/auth-method?include=oauth2-client-credentials",
        FASTLY,
        CLOUDFLARE,
        CONFLUENT,
        OKTA,
    ]
    paths += [f"/api/v1/integration/webhooks/configuration/webhooks/{h['name']}" for h in services["webhooks"]]
    paths += [
        f"/api/v1/integration/webhooks/configuration/custom-variables/{v['name']}" for v in services["custom_variables"]
    ]
    paths += [
        f"/api/v1/integration/pagerduty/configuration/services/{s['service_name']}"
        for s in services["pagerduty"]["services"]
    ]
    paths += [f"/api/v1/integration/slack/configuration/accounts/{a}/channels" for a in services["slack"]]
    paths += [
        f"/api/v2/integration/ms-teams/configuration/workflows-webhook-handles/{h['id']}"
        for h in services["workflows_handles"]
    ]
    paths += [f"/api/v2/integration/opsgenie/services/{s['id']}" for s in services["opsgenie"]]
    for key, base in (("fastly", FASTLY), ("cloudflare", CLOUDFLARE), ("confluent_cloud", CONFLUENT), ("okta", OKTA)):
        paths += [f"{base}/{a['id']}" for a in services[key]]
    for path in paths:
        reply = await api.get(path)
        assert reply.status == 200, (path, reply.body)
        text = json.dumps(reply.body)
        assert not [s for s in secrets if s in text], path

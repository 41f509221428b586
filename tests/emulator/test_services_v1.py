"""Behaviour of the emulated v1 service-integration APIs: webhooks and custom variables, PagerDuty (service objects
and the legacy whole-config GET/PUT), Slack channels, and the monitors listing used to discover handles."""

from __future__ import annotations

import asyncio
from typing import Any

from datadog_sync.emulator import Emulator
from datadog_sync.emulator.permissions import CREATE_WEBHOOKS, INTEGRATIONS_READ, MANAGE_INTEGRATIONS
from datadog_sync.emulator.services_model import DEFAULT_PAYLOAD
from tests.emulator.conftest import OTHER, READONLY, Api

HOOKS = "/api/v1/integration/webhooks/configuration/webhooks"
VARS = "/api/v1/integration/webhooks/configuration/custom-variables"
PD = "/api/v1/integration/pagerduty"
PD_SERVICES = f"{PD}/configuration/services"
SLACK = "/api/v1/integration/slack/configuration/accounts"
MONITORS = "/api/v1/monitor"
DENIED = {"errors": ["Forbidden", "Failed permission authorization checks"]}


async def make_hook(api: Api, name: str = "deploy-bot", **fields: Any) -> dict[str, Any]:
    reply = await api.post(HOOKS, {"name": name, "url": "https://example.com/hook", **fields})
    assert reply.status == 201, reply.body
    return reply.body  # type: ignore[no-any-return]


# --- webhooks ---------------------------------------------------------------------------------------------------


async def test_webhook_create_fills_the_server_default_payload_and_get_shows_it(api: Api) -> None:
    created = await make_hook(api)
    assert created == {
        "name": "deploy-bot",
        "url": "https://example.com/hook",
        "payload": DEFAULT_PAYLOAD,
        "custom_headers": None,
        "encode_as": "json",
        "auth_method_id": None,
    }
    assert (await api.get(f"{HOOKS}/deploy-bot")).body == created


async def test_webhook_put_keeps_omitted_fields_and_a_name_renames(api: Api) -> None:
    await make_hook(api, payload='{"a": 1}', encode_as="form", custom_headers='{"X": "1"}')
    reply = await api.put(f"{HOOKS}/deploy-bot", {"url": "https://example.com/new"})
    assert reply.status == 200 and reply.body["payload"] == '{"a": 1}' and reply.body["encode_as"] == "form"
    renamed = await api.put(f"{HOOKS}/deploy-bot", {"name": "deploy-bot-2"})
    assert renamed.body["name"] == "deploy-bot-2" and renamed.body["url"] == "https://example.com/new"
    assert (await api.get(f"{HOOKS}/deploy-bot")).body == {"errors": ["Webhook does not exist"]}
    assert (await api.get(f"{HOOKS}/deploy-bot-2")).status == 200


async def test_webhook_duplicates_conflict_and_delete_answers_200_then_404(api: Api) -> None:
    await make_hook(api)
    await make_hook(api, "other")
    assert (await api.post(HOOKS, {"name": "deploy-bot", "url": "https://x"})).status == 409
    assert (await api.put(f"{HOOKS}/other", {"name": "deploy-bot"})).status == 409
    first = await api.delete(f"{HOOKS}/deploy-bot")
    assert (first.status, first.body) == (200, {})
    second = await api.delete(f"{HOOKS}/deploy-bot")
    assert (second.status, second.body) == (404, {"errors": ["Webhook does not exist"]})


async def test_webhook_validation(api: Api) -> None:
    assert (await api.post(HOOKS, {"name": "x"})).status == 400
    assert (await api.post(HOOKS, {"name": "x", "url": "https://x", "encode_as": "xml"})).status == 400


async def test_webhooks_are_per_org(api: Api) -> None:
    await make_hook(api)
    assert (await api.as_org(OTHER).get(f"{HOOKS}/deploy-bot")).status == 404


async def test_old_recordings_have_no_auth_method_id(api: Api, emu: Emulator) -> None:
    emu.seed("main", {"services": {"api_date": "2022-05-12"}})
    assert "auth_method_id" not in await make_hook(api)


# --- custom variables -------------------------------------------------------------------------------------------


async def test_secret_custom_variable_value_is_absent_not_null(api: Api, emu: Emulator) -> None:
    reply = await api.post(VARS, {"name": "API_TOKEN", "value": "s3cret", "is_secret": True})
    assert (reply.status, reply.body) == (201, {"name": "API_TOKEN", "is_secret": True})
    assert (await api.get(f"{VARS}/API_TOKEN")).body == {"name": "API_TOKEN", "is_secret": True}
    assert emu.dump("main")["services"]["custom_variables"][0]["value"] == "s3cret"  # stored, never served


async def test_custom_variable_switched_to_secret_and_renamed_by_put(api: Api) -> None:
    await api.post(VARS, {"name": "REGION", "value": "eu", "is_secret": False})
    assert (await api.get(f"{VARS}/REGION")).body == {"name": "REGION", "value": "eu", "is_secret": False}
    reply = await api.put(f"{VARS}/REGION", {"name": "REGION_2", "is_secret": True})
    assert reply.body == {"name": "REGION_2", "is_secret": True}
    assert (await api.get(f"{VARS}/REGION")).body == {"errors": ["Custom variable does not exist"]}
    assert (await api.delete(f"{VARS}/REGION_2")).body == {}
    assert (await api.delete(f"{VARS}/REGION_2")).status == 404
    assert (await api.post(VARS, {"name": "X", "value": "1"})).status == 400  # is_secret is required


# --- PagerDuty --------------------------------------------------------------------------------------------------


async def test_pagerduty_service_answers_only_its_name_and_the_legacy_get_masks_every_key(api: Api) -> None:
    reply = await api.post(PD_SERVICES, {"service_name": "payments", "service_key": "abc"})
    assert (reply.status, reply.body) == (201, {"service_name": "payments"})
    assert (await api.get(f"{PD_SERVICES}/payments")).body == {"service_name": "payments"}
    assert (await api.post(PD_SERVICES, {"service_name": "payments", "service_key": "x"})).status == 409
    legacy = (await api.get(PD)).body
    assert legacy["services"] == [{"service_name": "payments", "service_key": "*****"}]
    assert legacy["api_token"] == "*****"


async def test_pagerduty_names_with_spaces_are_percent_encoded(api: Api) -> None:
    await api.post(PD_SERVICES, {"service_name": "on call", "service_key": "k"})
    assert (await api.get(f"{PD_SERVICES}/on%20call")).status == 200


async def test_pagerduty_legacy_put_without_services_keeps_them_and_update_changes_only_the_key(
    api: Api, emu: Emulator
) -> None:
    await api.post(PD_SERVICES, {"service_name": "payments", "service_key": "abc"})
    put = await api.put(PD, {"subdomain": "acme", "schedules": ["https://acme.pagerduty.com/schedules/X"]})
    assert put.status == 204
    legacy = (await api.get(PD)).body
    assert legacy["subdomain"] == "acme" and [s["service_name"] for s in legacy["services"]] == ["payments"]
    assert (await api.put(f"{PD_SERVICES}/payments", {"service_key": "new"})).body == {"service_name": "payments"}
    assert emu.dump("main")["services"]["pagerduty"]["services"] == [{"service_name": "payments", "service_key": "new"}]
    assert (await api.delete(f"{PD_SERVICES}/payments")).status == 204
    assert (await api.get(f"{PD_SERVICES}/payments")).body == {"errors": ["Service not found"]}


# --- Slack ------------------------------------------------------------------------------------------------------


async def test_slack_channels_keep_their_hash_and_travel_as_percent_23(api: Api, emu: Emulator) -> None:
    emu.seed("main", {"services": {"slack": {"ops": []}}})
    display = {"message": True, "mute_buttons": True, "notified": False, "snapshot": True, "tags": False}
    reply = await api.post(f"{SLACK}/ops/channels", {"name": "#alerts", "display": display})
    assert (reply.status, reply.body) == (201, {"name": "#alerts", "display": display})
    assert (await api.get(f"{SLACK}/ops/channels/%23alerts")).body == reply.body
    assert (await api.get(f"{SLACK}/ops/channels")).body == [reply.body]
    patched = await api.patch(f"{SLACK}/ops/channels/%23alerts", {"display": {"tags": True}})
    assert patched.body["display"] == {**display, "tags": True}
    assert (await api.post(f"{SLACK}/ops/channels", {"name": "#alerts"})).status == 409
    assert (await api.delete(f"{SLACK}/ops/channels/%23alerts")).status == 204
    assert (await api.get(f"{SLACK}/ops/channels/%23alerts")).status == 404


async def test_slack_omitted_display_takes_the_spec_defaults(api: Api, emu: Emulator) -> None:
    emu.seed("main", {"services": {"slack": {"ops": []}}})
    reply = await api.post(f"{SLACK}/ops/channels", {"name": "#x"})
    assert reply.body["display"] == {
        "message": True,
        "mute_buttons": False,
        "notified": True,
        "snapshot": True,
        "tags": True,
    }


async def test_slack_workspace_not_installed_is_404(api: Api) -> None:
    reply = await api.post(f"{SLACK}/ops/channels", {"name": "#alerts"})
    assert reply.status == 404 and reply.body == {"errors": ["Slack account ops not found"]}
    assert (await api.get(f"{SLACK}/ops/channels")).status == 404


async def test_slack_legacy_service_hooks_install_accounts(api: Api) -> None:
    reply = await api.post("/api/v1/integration/slack", {"service_hooks": [{"account": "ops", "url": "https://x"}]})
    assert reply.status == 204
    assert (await api.get(f"{SLACK}/ops/channels")).body == []


# --- monitors ---------------------------------------------------------------------------------------------------


async def test_monitors_listing_filters_and_pages(api: Api, emu: Emulator) -> None:
    emu.seed(
        "main",
        {
            "monitors": [
                {"name": "CPU high", "message": "@webhook-deploy-bot @slack-ops-alerts", "tags": ["team:a"]},
                {"name": "Disk full", "message": "@pagerduty-payments", "tags": ["team:b"]},
                {"name": "CPU low", "message": "nothing", "options": {"escalation_message": "@opsgenie-core"}},
            ]
        },
    )
    listed = (await api.get(MONITORS)).body
    assert [m["id"] for m in listed] == [1, 2, 3] and listed[0]["message"] == "@webhook-deploy-bot @slack-ops-alerts"
    assert [m["name"] for m in (await api.get(MONITORS, params={"name": "cpu"})).body] == ["CPU high", "CPU low"]
    assert [m["id"] for m in (await api.get(MONITORS, params={"monitor_tags": "team:b"})).body] == [2]
    page = await api.get(MONITORS, params={"page": "1", "page_size": "2"})
    assert [m["id"] for m in page.body] == [3]
    assert (await api.get(MONITORS, params={"page": "x"})).status == 400
    assert (await api.get(f"{MONITORS}/2")).body["message"] == "@pagerduty-payments"
    assert (await api.get(f"{MONITORS}/99")).status == 404
    assert (await api.as_org(OTHER).get(MONITORS)).body == []


# --- permissions ------------------------------------------------------------------------------------------------


async def test_read_only_org_reads_but_cannot_write(api: Api, emu: Emulator) -> None:
    emu.seed("readonly", {"services": {"webhooks": [{"name": "h", "url": "https://x"}], "slack": {"ops": []}}})
    ro = api.as_org(READONLY)
    assert (await ro.get(f"{HOOKS}/h")).status == 200 and (await ro.get(PD)).status == 200
    assert (await ro.post(HOOKS, {"name": "n", "url": "https://x"})).body == DENIED
    assert (await ro.put(f"{HOOKS}/h", {"url": "https://y"})).body == DENIED
    assert (await ro.post(PD_SERVICES, {"service_name": "a", "service_key": "b"})).body == DENIED
    assert (await ro.post(f"{SLACK}/ops/channels", {"name": "#a"})).body == DENIED


async def test_webhook_create_needs_create_webhooks_and_edits_need_manage_integrations(api: Api, emu: Emulator) -> None:
    await make_hook(api)
    emu.core.org("main").permissions -= {CREATE_WEBHOOKS}
    assert (await api.post(HOOKS, {"name": "n", "url": "https://x"})).body == DENIED
    assert (await api.put(f"{HOOKS}/deploy-bot", {"url": "https://y"})).status == 200
    emu.core.org("main").permissions -= {MANAGE_INTEGRATIONS}
    assert (await api.put(f"{HOOKS}/deploy-bot", {"url": "https://y"})).body == DENIED
    emu.core.org("main").permissions -= {INTEGRATIONS_READ}
    assert (await api.get(f"{HOOKS}/deploy-bot")).body == DENIED


async def test_overlapping_writes_to_one_serialised_integration_are_counted(api: Api, emu: Emulator) -> None:
    emu.set_knobs(script=[{"fault": "hang", "method": "POST", "path": HOOKS}])
    pending = asyncio.ensure_future(api.post(HOOKS, {"name": "a", "url": "https://x"}))
    while not emu.counters()["scripted_faults"]:
        await asyncio.sleep(0.01)  # until the hung create is in flight (a condition, not a duration)
    assert (await api.post(PD_SERVICES, {"service_name": "p", "service_key": "k"})).status == 201
    assert emu.counters()["overlapping_writes"] == 0  # another integration: not an overlap
    assert (await api.post(VARS, {"name": "V", "value": "1", "is_secret": False})).status == 201
    assert emu.counters()["by_org"]["main"]["overlapping_writes"] == 1  # webhooks and their variables: one lock
    emu.set_knobs(script=[])
    assert (await pending).status == 504
    await api.put(f"{HOOKS}/a", {"url": "https://y"})
    assert emu.counters()["overlapping_writes"] == 1  # sequential writes do not count

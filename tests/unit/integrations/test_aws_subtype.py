"""The aws subtype end to end against the emulator, through the real HTTP client (no mocks of our classes).

Over 400 lines on purpose: import, plan and apply of one subtype share one harness and one seeded emulator, and
each test is a short scenario; splitting them by phase would scatter the set-up they share.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat

import pytest

from datadog_sync.applier import apply_plan
from datadog_sync.emulator.testing import DESTINATION
from datadog_sync.http.retry import RetryPolicy
from datadog_sync.http.transport import AiohttpTransport, Response
from datadog_sync.planner import Plan, plan_type
from datadog_sync.resources.base import ResourceError, SkipResource
from datadog_sync.resources.integrations.aws import handoff, model
from tests.unit.integrations.conftest import KEY, ROLE, SECRET, make_client, org_state, reads, writes

KEY_SECRETS = {"aws": {KEY["access_key_id"]: {"secret_access_key": SECRET, "account_id": KEY["account_id"]}}}


async def import_all(h, client) -> dict[str, dict]:
    out = {}
    for raw in await h.resource.list_resources(client):
        key, obj = await h.resource.import_resource(raw, client)
        assert h.resource.key_of(raw) == key
        out[key] = obj
    return out


async def plan(h, client, source):
    dest_state = h.state.destination["integrations"]
    current = await h.resource.current_destination(client, source, dest_state)
    return plan_type(h.resource, source, current, dest_state, cleanup=True, in_plan={})


async def apply(h, client, changes):
    """Apply through the host's own ``apply_plan`` (pre-flight, writes, state, outcomes, after_apply)."""
    h.ctx.destination = client
    return await apply_plan(h.ctx, Plan(tuple(changes)), {"integrations": h.resource})


def dest_accounts(emu) -> dict[str, dict]:
    accounts = emu.dump("destination")["aws"]["accounts"]
    return {a.get("role_name") and a["account_id"] or a["access_key_id"]: a for a in accounts}


# ------------------------------------------------------------------------------------------------------- import
async def test_import_reads_once_per_account_and_stores_the_documented_shape(emu, clients, harness):
    emu.seed("source", org_state(ROLE, KEY))
    src, _ = clients
    h = harness("import", secrets=KEY_SECRETS)
    emu.clear_requests()
    source = await import_all(h, src)
    assert sorted(p for p in reads(emu, "source") if "/integration/aws" in p) == sorted(
        ["/api/v1/integration/aws", "/api/v1/integration/aws/logs"] + ["/api/v1/integration/aws/filtering"] * 2
    )
    role = source["aws:123456789012"]
    assert list(role) == [
        "name",
        "account_id",
        "role_name",
        "filter_tags",
        "host_tags",
        "excluded_regions",
        "account_specific_namespace_rules",
        "metrics_collection_enabled",
        "resource_collection_enabled",
        "extended_resource_collection_enabled",
        "cspm_resource_collection_enabled",
        "tag_filters",
        "logs",
    ]
    assert role["excluded_regions"] == ["us-east-1", "us-west-2"]
    assert role["tag_filters"] == {"application_elb": "env:prod", "lambda": "team:a"}
    assert role["logs"] == {"lambda_arns": ROLE["logs"]["lambdas"], "services": ["lambda", "s3"]}
    key = source["aws:AKIAEXAMPLEKEY000001"]
    assert key["account_id"] == "210987654321"  # from the secrets file: the API never returns it
    assert key["logs"]["lambda_arns"] == KEY["logs"]["lambdas"]
    assert key["tag_filters"] == {"rds": "env:gov"}
    text = json.dumps(source)
    assert SECRET not in text and "errors" not in text and "external_id" not in text


async def test_key_account_logs_are_not_attributed_without_account_id(emu, clients, harness, caplog):
    emu.seed("source", org_state(KEY))
    h = harness("import", secrets={"aws": {KEY["access_key_id"]: SECRET}})
    with caplog.at_level(logging.INFO):
        (obj,) = (await import_all(h, clients[0])).values()
    assert "logs" not in obj and "account_id" not in obj
    assert "1 key account(s) have no account_id" in caplog.text


async def test_no_secrets_file_means_no_notice_about_the_secrets_file(emu, clients, harness, caplog):
    emu.seed("source", org_state(KEY))
    with caplog.at_level(logging.DEBUG):
        (obj,) = (await import_all(harness("import"), clients[0])).values()
    assert "logs" not in obj and "account_id" not in obj
    assert "secrets file" not in caplog.text


async def test_preview_allows_filtering_before_the_per_account_read(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    h = harness("import")
    (raw,) = await h.resource.list_resources(clients[0])
    preview = h.resource.preview(raw)
    assert preview["excluded_regions"] == ["us-east-1", "us-west-2"] and "tag_filters" not in preview
    assert h.resource.config.fetched_attributes == {"tag_filters"}


async def test_integration_not_installed_lists_nothing(emu, clients, harness):
    emu.seed("source", {"aws": {"installed": False, "accounts": []}})
    assert await harness("import").resource.list_resources(clients[0]) == []


# ------------------------------------------------------------------------------------------------------- create
async def test_create_makes_the_minimum_writes_and_hands_off_the_external_id(emu, clients, harness, caplog):
    emu.seed("source", org_state(ROLE))
    src, dst = clients
    h = harness(secrets=KEY_SECRETS)
    source = await import_all(h, src)
    changes = await plan(h, dst, source)
    assert [c.action for c in changes] == ["create"]
    emu.clear_requests()
    with caplog.at_level(logging.WARNING):
        await apply(h, dst, changes)
    assert sorted(writes(emu)) == sorted(
        [
            ("POST", "/api/v1/integration/aws"),
            ("POST", "/api/v1/integration/aws/filtering"),
            ("POST", "/api/v1/integration/aws/filtering"),
            ("POST", "/api/v1/integration/aws/logs"),
            ("POST", "/api/v1/integration/aws/logs/services"),
        ]
    )
    created = dest_accounts(emu)["123456789012"]
    assert created["tag_filters"] == ROLE["tag_filters"]
    assert sorted(created["logs"]["services"]) == ["lambda", "s3"]
    stored = h.state.destination["integrations"]["aws:123456789012"]
    assert stored["external_id"] == created["external_id"]
    assert h.resource.redacted(stored).get("external_id") is None
    # The hand-off: printed and written as a file with a trust policy per account.
    assert created["external_id"] in caplog.text and "trust policy" in caplog.text
    doc = json.loads(handoff.handoff_path(h.config.destination_resources_path).read_text())
    (entry,) = doc["accounts"]
    assert entry["role_arn"] == "arn:aws:iam::123456789012:role/DatadogAWSIntegrationRole"
    assert entry["external_id"] == created["external_id"] and entry["new_in_last_sync"] is True
    statement = entry["trust_policy"]["Statement"][0]
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == created["external_id"]
    assert statement["Principal"]["AWS"] == "arn:aws:iam::464622532012:root"

    # Re-planning: unchanged, zero writes, external id never drift.
    emu.clear_requests()
    changes = await plan(h, dst, source)
    assert [c.action for c in changes] == ["noop"]
    assert changes[0].current["external_id"] == created["external_id"]
    await apply(h, dst, [c for c in changes if c.writes])
    assert writes(emu) == []


async def test_create_without_optional_children_is_one_post(emu, clients, harness):
    bare = {"account_id": "111111111111", "role_name": "R"}
    emu.seed("source", org_state(bare))
    h = harness()
    source = await import_all(h, clients[0])
    emu.clear_requests()
    await apply(h, clients[1], await plan(h, clients[1], source))
    assert writes(emu) == [("POST", "/api/v1/integration/aws")]


async def test_key_account_without_secret_is_skipped_and_others_proceed(emu, clients, harness, caplog):
    emu.seed("source", org_state(ROLE, KEY))
    h = harness("diffs")
    source = await import_all(h, clients[0])
    changes = await plan(h, clients[1], source)
    by_key = {c.key: c for c in changes}
    # diffs shows the skip sync will make, with the access key id and how to provide the secret.
    skipped = by_key["aws:AKIAEXAMPLEKEY000001"]
    assert skipped.action == "skip" and "--integrations-secrets-file" in skipped.reason
    assert by_key["aws:123456789012"].action == "create"
    with pytest.raises(SkipResource) as info:
        await h.resource.create(clients[1], "aws:AKIAEXAMPLEKEY000001", by_key["aws:AKIAEXAMPLEKEY000001"].desired)
    assert "AKIAEXAMPLEKEY000001" in info.value.reason and "--integrations-secrets-file" in info.value.reason
    await h.resource.create(clients[1], "aws:123456789012", by_key["aws:123456789012"].desired)
    assert set(dest_accounts(emu)) == {"123456789012"}


async def test_key_account_with_secret_is_created_with_its_logs(emu, clients, harness):
    emu.seed("source", org_state(KEY))
    h = harness(secrets=KEY_SECRETS)
    source = await import_all(h, clients[0])
    emu.clear_requests()
    await apply(h, clients[1], await plan(h, clients[1], source))
    created = dest_accounts(emu)["AKIAEXAMPLEKEY000001"]
    assert created["secret_access_key"] == SECRET
    assert created["account_id"] == "210987654321"
    assert created["logs"]["lambdas"] == KEY["logs"]["lambdas"]
    assert created["tag_filters"] == {"rds": "env:gov"}
    # The request log (like every log) never shows the secret.
    assert SECRET not in json.dumps(emu.requests())
    stored = h.state.destination["integrations"]["aws:AKIAEXAMPLEKEY000001"]
    assert SECRET not in json.dumps(stored) and "external_id" not in stored
    assert not handoff.handoff_path(h.config.destination_resources_path).exists()
    # Unchanged afterwards.
    assert [c.action for c in await plan(h, clients[1], source)] == ["noop"]


# ------------------------------------------------------------------------------------------------------- update
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda o: o["host_tags"].append("new:tag"), [("PUT", "/api/v1/integration/aws")]),
        (lambda o: o["tag_filters"].update(sqs="q:1"), [("POST", "/api/v1/integration/aws/filtering")]),
        (lambda o: o["excluded_regions"].reverse(), []),  # list order means nothing
        (lambda o: o["tag_filters"].pop("lambda"), [("DELETE", "/api/v1/integration/aws/filtering")]),
        (lambda o: o["tag_filters"].__setitem__("lambda", "changed"), [("POST", "/api/v1/integration/aws/filtering")]),
        (lambda o: o["logs"]["lambda_arns"].append("arn:new"), [("POST", "/api/v1/integration/aws/logs")]),
        (lambda o: o["logs"]["lambda_arns"].clear(), [("DELETE", "/api/v1/integration/aws/logs")]),
        (lambda o: o["logs"]["services"].remove("s3"), [("POST", "/api/v1/integration/aws/logs/services")]),
    ],
)
async def test_update_writes_only_what_differs(emu, clients, harness, edit, expected):
    emu.seed("source", org_state(ROLE))
    emu.seed("destination", org_state(ROLE))
    h = harness()
    source = await import_all(h, clients[0])
    edit(source["aws:123456789012"])
    (change,) = await plan(h, clients[1], source)
    assert change.action == ("update" if expected else "noop") and change.adopted
    emu.clear_requests()
    await apply(h, clients[1], [change] if change.writes else [])
    assert writes(emu) == expected
    (after,) = await plan(h, clients[1], source)
    assert after.action == "noop"


async def test_role_rename_updates_the_account_by_its_current_role_name(emu, clients, harness):
    emu.seed("source", org_state({**ROLE, "role_name": "NewRole"}))
    emu.seed("destination", org_state(ROLE))
    external_id = emu.dump("destination")["aws"]["accounts"][0]["external_id"]
    h = harness()
    source = await import_all(h, clients[0])
    (change,) = await plan(h, clients[1], source)
    assert change.action == "update"
    assert [d.render() for d in change.differences] == ['~ role_name: "DatadogAWSIntegrationRole" -> "NewRole"']
    emu.clear_requests()
    await apply(h, clients[1], [change])
    (put,) = [r for r in emu.requests("destination") if r["method"] != "GET"]
    assert put["query"] == {"account_id": "123456789012", "role_name": "DatadogAWSIntegrationRole"}
    account = dest_accounts(emu)["123456789012"]
    assert account["role_name"] == "NewRole" and account["external_id"] == external_id  # not rotated


async def test_drift_made_by_hand_shows_and_is_reverted(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    h = harness()
    source = await import_all(h, clients[0])
    await apply(h, clients[1], await plan(h, clients[1], source))
    drifted = emu.dump("destination")
    drifted["aws"]["accounts"][0]["excluded_regions"] = ["eu-west-1"]
    drifted["aws"]["accounts"][0]["tag_filters"] = {}
    emu.seed("destination", drifted)
    (change,) = await plan(h, clients[1], source)
    assert change.action == "update" and not change.adopted
    rendered = [d.render() for d in change.differences]
    assert '- excluded_regions: "eu-west-1"' in rendered and '+ excluded_regions: "us-east-1"' in rendered
    assert any(line.startswith("~ tag_filters") and "application_elb" in line for line in rendered)
    assert not any("external_id" in line for line in rendered)
    await apply(h, clients[1], [change])
    assert dest_accounts(emu)["123456789012"]["excluded_regions"] == ["us-east-1", "us-west-2"]


async def test_key_account_update_sends_the_secret_only_for_account_writes(emu, clients, harness):
    emu.seed("source", org_state({**KEY, "host_tags": ["changed"]}))
    emu.seed("destination", org_state({**KEY, "secret_access_key": "old-secret-value"}))
    h = harness(secrets=KEY_SECRETS)
    source = await import_all(h, clients[0])
    (change,) = await plan(h, clients[1], source)
    await apply(h, clients[1], [change])
    account = dest_accounts(emu)["AKIAEXAMPLEKEY000001"]
    assert account["host_tags"] == ["changed"] and account["secret_access_key"] == SECRET

    # Only a tag filter differs: no secret needed, so none is required.
    h2 = harness()
    source2 = {"aws:AKIAEXAMPLEKEY000001": {**source["aws:AKIAEXAMPLEKEY000001"], "tag_filters": {}}}
    source2["aws:AKIAEXAMPLEKEY000001"].pop("logs")
    source2["aws:AKIAEXAMPLEKEY000001"].pop("account_id")
    (change,) = await plan(h2, clients[1], source2)
    emu.clear_requests()
    await apply(h2, clients[1], [change])
    assert writes(emu) == [("DELETE", "/api/v1/integration/aws/filtering")]
    # An account write without the secret is skipped before any write.
    source2["aws:AKIAEXAMPLEKEY000001"]["host_tags"] = ["other"]
    (change,) = await plan(h2, clients[1], source2)
    emu.clear_requests()
    with pytest.raises(SkipResource):
        await h2.resource.update(clients[1], change.key, change.desired, change.current)
    assert writes(emu) == []


# ------------------------------------------------------------------------------------------- adoption, duplicates
async def test_existing_account_is_adopted_not_duplicated(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    emu.seed("destination", org_state(ROLE))
    h = harness()
    source = await import_all(h, clients[0])
    (change,) = await plan(h, clients[1], source)
    assert change.action == "noop" and change.adopted


async def test_create_refused_as_duplicate_adopts_without_rotating_the_external_id(emu, clients, harness, caplog):
    """The account appeared between plan and apply (made by someone else): update it, keep its external id."""
    emu.seed("source", org_state(ROLE))
    h = harness()
    source = await import_all(h, clients[0])
    (change,) = await plan(h, clients[1], source)
    emu.seed("destination", org_state({**ROLE, "host_tags": ["by-hand"], "tag_filters": {}}))
    external_id = emu.dump("destination")["aws"]["accounts"][0]["external_id"]
    with caplog.at_level(logging.WARNING):
        result = await h.resource.create(clients[1], change.key, change.desired)
    assert "adopting" in caplog.text
    account = dest_accounts(emu)["123456789012"]
    assert account["external_id"] == external_id and account["host_tags"] == ["team:a"]
    assert account["tag_filters"] == ROLE["tag_filters"]
    assert "external_id" not in result and h.aws.issued == {}


class LoseFirstCreateResponse(AiohttpTransport):
    """Forwards every request; answers the first account POST with a 504 as a proxy losing the response would."""

    def __init__(self):
        super().__init__()
        self.lost = 0

    async def send(self, method, url, headers, body, timeout):
        response = await super().send(method, url, headers, body, timeout)
        if method == "POST" and url.endswith("/api/v1/integration/aws") and not self.lost:
            self.lost += 1
            return Response(504, {"Content-Type": "text/html"}, b"<html><title>504 Gateway Time-out</title></html>")
        return response


async def test_create_whose_response_was_lost_is_not_duplicated_and_gets_an_external_id(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    h = harness()
    source = await import_all(h, clients[0])
    (change,) = await plan(h, clients[1], source)
    transport = LoseFirstCreateResponse()
    lossy = make_client(emu, DESTINATION, transport=transport)
    try:
        emu.clear_requests()
        await apply(h, lossy, [change])
    finally:
        await lossy.close()
    assert transport.lost == 1
    posts = [r["status"] for r in emu.requests("destination") if r["method"] == "POST" and r["path"].endswith("/aws")]
    assert posts == [200, 409]  # created once; the retry was refused as a duplicate
    (account,) = emu.dump("destination")["aws"]["accounts"]
    stored = h.state.destination["integrations"]["aws:123456789012"]
    # The lost external id was replaced by a fresh one, which destination state and the hand-off hold.
    assert stored["external_id"] == account["external_id"]
    assert h.aws.issued["aws:123456789012"]["external_id"] == account["external_id"]
    assert ("PUT", "/api/v1/integration/aws/generate_new_external_id") in writes(emu)
    assert account["tag_filters"] == ROLE["tag_filters"]


async def test_writes_are_serialized_per_org_and_conflicts_are_retried(emu, clients, harness):
    accounts = [{"account_id": f"10000000000{i}", "role_name": "R", "tag_filters": {"sqs": f"n:{i}"}} for i in range(6)]
    emu.seed("source", org_state(*accounts))
    h = harness()
    source = await import_all(h, clients[0])
    changes = await plan(h, clients[1], source)
    # Two clients (two locks) writing at once: the emulator answers 409 "conflicting updates", which is retried.
    # The first write holds the org's write slot until the other client has been refused once: an overlap for
    # certain, whatever the machine's speed (retries are generous so none runs out while the slot is held).
    patient = RetryPolicy(retry_timeout=600, backoff_base=0.005, backoff_max=0.05, max_attempts=100_000)
    first, other = make_client(emu, DESTINATION, retry=patient), make_client(emu, DESTINATION, retry=patient)
    emu.set_knobs(hold_write_slot=True)
    try:
        half = len(changes) // 2
        writes = asyncio.gather(
            *(h.resource.create(first, c.key, c.desired) for c in changes[:half]),
            *(h.resource.create(other, c.key, c.desired) for c in changes[half:]),
        )
        for _ in range(60_000):  # a limit that only turns a hang into a failure
            if emu.counters()["write_conflicts"]:
                break
            await asyncio.sleep(0.01)
        emu.set_knobs(hold_write_slot=False)
        await writes
    finally:
        emu.set_knobs(hold_write_slot=False)
        await first.close()
        await other.close()
    log = emu.requests("destination")
    assert len(dest_accounts(emu)) == 6
    assert all(a["tag_filters"] for a in dest_accounts(emu).values())
    conflicts = [r for r in log if r["status"] == 409]
    assert conflicts, "expected overlapping writes from two clients to conflict"
    assert first.stats.retries.get("conflict", 0) + other.stats.retries.get("conflict", 0) >= len(conflicts)


async def test_one_client_never_overlaps_its_writes(emu, clients, harness):
    accounts = [{"account_id": f"20000000000{i}", "role_name": "R", "host_tags": [f"i:{i}"]} for i in range(5)]
    emu.seed("source", org_state(*accounts))
    h = harness()
    source = await import_all(h, clients[0])
    changes = await plan(h, clients[1], source)
    emu.set_knobs(write_latency_ms=10)
    emu.clear_requests()
    await asyncio.gather(*(h.resource.create(clients[1], c.key, c.desired) for c in changes))
    assert not [r for r in emu.requests("destination") if r["status"] == 409]
    assert len(dest_accounts(emu)) == 5


# ------------------------------------------------------------------------------------------------------- delete
async def test_delete_and_delete_of_an_absent_account(emu, clients, harness, caplog):
    emu.seed("destination", org_state(ROLE, KEY))
    h = harness()
    current = await import_all(h, clients[1])
    for key, obj in current.items():
        await h.resource.delete(clients[1], key, obj)
    assert emu.dump("destination")["aws"]["accounts"] == []
    with caplog.at_level(logging.INFO):
        await h.resource.delete(clients[1], "aws:123456789012", current["aws:123456789012"])
    assert "already absent" in caplog.text


async def test_cleanup_plans_a_delete_and_forgets_a_vanished_account(emu, clients, harness):
    emu.seed("source", org_state(ROLE, {"account_id": "222222222222", "role_name": "R"}))
    h = harness()
    source = await import_all(h, clients[0])
    await apply(h, clients[1], await plan(h, clients[1], source))
    emu.seed(
        "destination",
        {
            "aws": {
                "installed": True,
                "accounts": [a for a in emu.dump("destination")["aws"]["accounts"] if a["role_name"] == "R"],
            }
        },
    )
    changes = await plan(h, clients[1], {})
    by_key = {c.key: c for c in changes}
    assert by_key["aws:222222222222"].action == "delete"
    assert by_key["aws:123456789012"].forget
    await apply(h, clients[1], changes)
    assert emu.dump("destination")["aws"]["accounts"] == []
    doc = json.loads(handoff.handoff_path(h.config.destination_resources_path).read_text())
    assert doc["accounts"] == []  # rewritten: nothing left to hand off


# ------------------------------------------------------------------------------------------------------- errors
async def test_403_names_the_missing_permission_and_the_account(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    emu.seed("destination", org_state({**ROLE, "host_tags": []}))
    h = harness()
    source = await import_all(h, clients[0])
    (change,) = await plan(h, clients[1], source)
    emu.set_permissions("destination", ["aws_configuration_read", "user_app_keys", "user_access_read"])
    with pytest.raises(ResourceError) as info:
        await h.resource.update(clients[1], change.key, change.desired, change.current)
    assert "AWS account 123456789012" in str(info.value) and "aws_configuration_edit" in str(info.value)


async def test_400_shows_the_api_message_with_the_account(emu, clients, harness):
    h = harness()
    bad = {**model.normalize_account(ROLE), "tag_filters": {"not_a_namespace": "x"}, "logs": model.empty_logs()}
    with pytest.raises(ResourceError) as info:
        await h.resource.create(clients[1], "aws:123456789012", bad)
    assert "AWS account 123456789012" in str(info.value) and "400" in str(info.value)
    assert "not_a_namespace" in str(info.value)
    emu.seed("destination", org_state(ROLE))
    current = (await import_all(h, clients[1]))["aws:123456789012"]
    emu.seed("destination", org_state({**ROLE, "role_name": "Other"}))
    with pytest.raises(ResourceError, match="AWS account 123456789012: 400"):
        await h.resource.update(clients[1], "aws:123456789012", {**current, "host_tags": ["x"]}, current)


async def test_logs_error_status_on_200_is_an_error():
    from datadog_sync.resources.integrations.aws.api import _check_status

    _check_status({}, {})
    with pytest.raises(ResourceError, match="no_such_config"):
        _check_status({"status": "error", "errors": [{"code": "no_such_config", "message": "no_such_config"}]}, {})
    with pytest.raises(ResourceError, match="status error"):
        _check_status({"status": "error"}, {})


async def test_403_on_create_and_delete_name_the_manage_permission(emu, clients, harness):
    emu.seed("destination", org_state(ROLE))
    emu.set_permissions("destination", ["aws_configuration_read", "aws_configuration_edit"])
    h = harness()
    obj = {**model.normalize_account(ROLE), "tag_filters": {}, "logs": model.empty_logs()}
    with pytest.raises(ResourceError, match="aws_configurations_manage") as info:
        await h.resource.create(clients[1], "aws:999999999999", {**obj, "account_id": "999999999999"})
    assert "AWS account 999999999999: 403" in str(info.value)
    with pytest.raises(ResourceError, match="(?s)AWS account 123456789012: 403.*aws_configurations_manage"):
        await h.resource.delete(clients[1], "aws:123456789012", obj)


async def test_duplicate_key_account_is_read_back_by_access_key(emu, clients, harness):
    emu.seed("destination", org_state({**KEY, "host_tags": []}))
    h = harness(secrets=KEY_SECRETS)
    emu.seed("source", org_state(KEY))
    source = await import_all(h, clients[0])
    result = await h.resource.create(clients[1], "aws:AKIAEXAMPLEKEY000001", source["aws:AKIAEXAMPLEKEY000001"])
    assert result["host_tags"] == ["partition:gov"]
    assert dest_accounts(emu)["AKIAEXAMPLEKEY000001"]["host_tags"] == ["partition:gov"]


async def test_duplicate_that_cannot_be_read_back_is_an_error(emu, clients, harness):
    # A key account holds the numeric id: a role account with that id is refused, and is not listed by it.
    emu.seed("destination", org_state({**KEY, "account_id": "123456789012"}))
    h = harness()
    obj = {**model.normalize_account(ROLE), "tag_filters": {}, "logs": model.empty_logs()}
    with pytest.raises(ResourceError, match="refused as a duplicate, yet no such account is listed"):
        await h.resource.create(clients[1], "aws:123456789012", obj)


async def test_api_reads_tolerate_uninstalled_integration_and_vanished_accounts(emu, clients):
    from datadog_sync.http.errors import HTTPError
    from datadog_sync.resources.integrations.aws.api import AwsV1Api

    api = AwsV1Api(clients[1])
    assert await api.tag_filters("404404404404") == {"filters": []}
    emu.seed("destination", {"aws": {"installed": False, "accounts": []}})
    assert await api.list_logs() == []
    emu.set_permissions("destination", ["user_app_keys"])
    for call in (api.list_accounts, api.list_logs, lambda: api.tag_filters("1")):
        with pytest.raises(HTTPError) as info:
            await call()
        assert info.value.status == 403 and "aws_configuration_read" in str(info.value)


def test_error_classification():
    from datadog_sync.http.errors import HTTPError
    from datadog_sync.resources.integrations.aws.api import is_absent, is_conflict, is_duplicate

    def err(status, message):
        return HTTPError(status, "POST", "/api/v1/integration/aws", {"errors": [message]})

    conflict = err(409, "Could not update AWS Integration due to conflicting updates")
    assert is_conflict(conflict) and not is_duplicate(conflict)
    assert is_duplicate(err(409, "AWS account 1 already exists in integration"))
    assert is_duplicate(err(400, "Account already exists"))
    assert not is_duplicate(err(400, "bad namespace"))
    assert is_absent(err(400, "AWS account 1 does not exist in integration")) and is_absent(err(404, "gone"))
    assert not is_absent(err(400, "bad namespace"))


async def test_external_id_survives_a_run_killed_before_saving_state(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    src, dst = clients
    h = harness()
    source = await import_all(h, src)
    await apply(h, dst, await plan(h, dst, source))
    issued = dest_accounts(emu)["123456789012"]["external_id"]
    # A new run whose state was never saved (the previous process was SIGKILLed before its checkpoint).
    h2 = harness()
    changes = await plan(h2, dst, source)
    assert [(c.action, c.adopted) for c in changes] == [("noop", True)]
    assert changes[0].current["external_id"] == issued
    h2.state.destination["integrations"][changes[0].key] = changes[0].current
    h2.resource.after_apply(changes)
    doc = json.loads(handoff.handoff_path(h2.config.destination_resources_path).read_text())
    assert [a["external_id"] for a in doc["accounts"]] == [issued]
    assert doc["roles_with_unknown_external_id"] == []


async def test_role_accounts_with_unknown_external_id_are_listed(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    emu.seed("destination", org_state(ROLE))  # made by hand: its external id was never seen by us
    src, dst = clients
    h = harness()
    source = await import_all(h, src)
    changes = await plan(h, dst, source)
    assert [(c.action, c.adopted) for c in changes] == [("noop", True)]
    assert "external_id" not in changes[0].current
    h.state.destination["integrations"][changes[0].key] = changes[0].current
    h.resource.after_apply(changes)
    doc = json.loads(handoff.handoff_path(h.config.destination_resources_path).read_text())
    assert doc["accounts"] == []
    assert doc["roles_with_unknown_external_id"] == ["arn:aws:iam::123456789012:role/DatadogAWSIntegrationRole"]


async def test_account_created_by_a_run_killed_before_the_answer_gets_a_new_external_id(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    emu.seed("destination", org_state(ROLE))  # the killed run's create was applied...
    src, dst = clients
    h = harness()
    # ...after it journaled its intent; Datadog's answer, the only copy of the external id, never arrived.
    journal = handoff.Journal(h.config.destination_resources_path)
    journal.append(ROLE["account_id"], ROLE["role_name"], intent="create")
    journal.close()
    source = await import_all(h, src)
    (change,) = await plan(h, dst, source)
    assert change.action == "update" and change.adopted
    assert [d.path for d in change.differences] == ["external_id"]
    emu.clear_requests()
    await apply(h, dst, [change])
    assert writes(emu) == [("PUT", "/api/v1/integration/aws/generate_new_external_id")]
    rotated = dest_accounts(emu)["123456789012"]["external_id"]
    assert h.state.destination["integrations"]["aws:123456789012"]["external_id"] == rotated
    doc = json.loads(handoff.handoff_path(h.config.destination_resources_path).read_text())
    assert [(a["external_id"], a["new_in_last_sync"]) for a in doc["accounts"]] == [(rotated, True)]
    # and the next plan is quiet
    (again,) = await plan(harness(), dst, source)
    assert again.action == "noop"


async def test_adopted_after_duplicate_is_never_rotated_later(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    src, dst = clients
    h = harness()
    source = await import_all(h, src)
    (change,) = await plan(h, dst, source)
    assert change.action == "create"
    emu.seed("destination", org_state(ROLE))  # someone made it by hand in between: the create gets a duplicate
    await apply(h, dst, [change])
    assert handoff.journal_load(h.config.destination_resources_path) == {}
    (later,) = await plan(harness(), dst, source)
    assert later.action == "noop", "a hand-made account's external id is never rotated"


async def test_journal_and_hand_off_file_are_readable_by_their_owner_only(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    src, dst = clients
    h = harness()
    folder = handoff.handoff_path(h.config.destination_resources_path).parent
    # Left wide open by an earlier version or by hand, and a umask that would keep everything readable.
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    for path in (handoff.handoff_path(folder.parent), handoff.journal_path(folder.parent)):
        path.write_text("")
        path.chmod(0o644)
    previous = os.umask(0)
    try:
        await apply(h, dst, await plan(h, dst, await import_all(h, src)))
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (folder, *folder.iterdir())}
    assert modes == {"handoff": 0o700, "aws-external-ids.json": 0o600, "aws-external-ids.journal": 0o600}
    assert json.loads(handoff.handoff_path(folder.parent).read_text())["accounts"]


async def test_new_hand_off_files_are_created_owner_only(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    src, dst = clients
    h = harness()
    previous = os.umask(0)
    try:
        await apply(h, dst, await plan(h, dst, await import_all(h, src)))
    finally:
        os.umask(previous)
    folder = handoff.handoff_path(h.config.destination_resources_path).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


@pytest.mark.parametrize(
    "accounts, unknown",
    [
        ([], []),
        ([{"state_key": "aws:1", "role_arn": "arn:aws:iam::1:role/é", "new_in_last_sync": True}], ["arn:x"]),
        ([{"a": {}}, {"b": []}, {"c": [1, {"d": [None, 2.5]}]}], []),
    ],
)
def test_the_hand_off_text_is_one_indented_encoding_made_one_account_at_a_time(accounts, unknown):
    """The hand-off file of 10,000 accounts is encoded one account at a time (never every trust policy at once)
    into exactly the text ``json.dumps(document, indent=2)`` makes."""
    head = {
        "description": 'say "x"',
        "destination_api_url": "https://api.datadoghq.com",
        "datadog_aws_account_id": None,
    }
    document = {**head, "accounts": accounts, "roles_with_unknown_external_id": unknown}
    streamed = {**document, "accounts": iter(accounts)}
    assert "".join(handoff._indented(streamed, "accounts")) == json.dumps(document, indent=2)

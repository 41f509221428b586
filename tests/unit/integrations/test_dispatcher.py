"""The integrations resource dispatches to subtypes; handoff helpers; secrets-file errors surface clearly."""

from __future__ import annotations

import pytest

from datadog_sync.planner import Change
from datadog_sync.resources import registry
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations import IntegrationsResource
from datadog_sync.resources.integrations.aws import AwsV1Subtype, handoff
from tests.unit.integrations.conftest import ROLE, org_state


def test_registered_as_integrations():
    assert registry()["integrations"] is IntegrationsResource
    assert "integrations" in registry() and AwsV1Subtype not in registry().values()


def test_unknown_subtype_is_a_clear_error(harness):
    resource = harness().resource
    with pytest.raises(ResourceError, match="unknown integrations subtype 'nosuchcloud' \\(known: "):
        resource.subtype_of("nosuchcloud:project")
    with pytest.raises(ResourceError, match="unknown integrations subtype"):
        resource.preview({"name": "nosuchcloud"})


def test_malformed_secrets_file_fails_the_listing_with_the_file_named(tmp_path, emu, harness):
    h = harness(secrets={"aws": []})
    with pytest.raises(ResourceError, match="secrets.json"):
        h.resource.subtypes  # noqa: B018 - building subtypes reads the file


async def test_current_destination_without_client_trusts_state(harness):
    resource = harness().resource
    stored = {"aws:1": {"name": "aws", "account_id": "1", "role_name": "R", "external_id": "e"}}
    current = await resource.current_destination(None, {}, stored)
    assert current["aws:1"]["external_id"] == "e" and current["aws:1"]["host_tags"] == []
    assert await resource.current_destination(None, {}, {}) == {}


async def test_dispatch_through_the_resource(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    h = harness()
    (raw,) = await h.resource.list_resources(clients[0])
    key, obj = await h.resource.import_resource(raw, clients[0])
    current = await h.resource.current_destination(clients[1], {key: obj}, {})
    assert current == {}
    assert h.resource.diff(obj, obj) == []
    assert h.resource.redacted({**obj, "external_id": "x"}) == obj
    result = await h.resource.create(clients[1], key, obj)
    h.state.destination["integrations"][key] = result
    h.resource.after_apply([Change("integrations", key, "create", desired=obj)])
    assert handoff.handoff_path(h.config.destination_resources_path).exists()


@pytest.mark.parametrize(
    ("url", "account"),
    [
        ("https://api.datadoghq.com", "464622532012"),
        ("https://api.datadoghq.eu", "464622532012"),
        ("https://api.ddog-gov.com", "065115117704"),
        ("https://api.ap1.datadoghq.com", "417141415827"),
        ("https://api.ap2.datadoghq.com", handoff.PLACEHOLDER),
        ("http://127.0.0.1:8126", "464622532012"),
    ],
)
def test_datadog_principal_per_site(url, account):
    assert handoff.datadog_aws_account(url) == account


def test_handoff_without_anything_to_report_writes_nothing(harness):
    h = harness()
    assert handoff.report(h.ctx, h.resource.log, {}) is None
    assert not handoff.handoff_path(h.config.destination_resources_path).exists()


BAD_ENTRIES = {
    "aws:100000000001": ({"host_tags": "notalist"}, "host_tags: expected a list of strings, got a string"),
    "aws:100000000002": ({"role_name": ["x"]}, "role_name: expected a string, got a list"),
    "aws:100000000003": (
        {"account_specific_namespace_rules": {"auto_scaling": "notbool"}},
        "account_specific_namespace_rules.auto_scaling: expected true or false, got a string",
    ),
    "aws:100000000004": ({"account_id": 100000000004}, "account_id: expected a string, got a number"),
    "aws:100000000005": ({"logs": {"lambda_arns": "arn", "services": []}}, "logs.lambda_arns: expected a list"),
    "aws:100000000006": ({"metrics_collection_enabled": "false"}, "metrics_collection_enabled: expected true or"),
    "aws:AKIAEXAMPLEKEY000009": (
        {"access_key_id": "AKIAEXAMPLEKEY000009", "account_id": None},
        "role_name and access_key_id: an account is either a role account",
    ),
    "aws:100000000007": ({"role_name": None}, "role_name: missing"),
    "aws:100000000008": ({"account_id": "100000000099"}, "stored under aws:100000000008, but its account_id"),
}


def bad_source() -> dict[str, dict]:
    source = {}
    for key, (override, _) in BAD_ENTRIES.items():
        source[key] = {"name": "aws", "account_id": key.partition(":")[2], "role_name": "R", **override}
    source["oci:project-1"] = {"name": "oci", "project_id": "project-1"}
    source["aws:100000000010"] = "not an object"
    source["aws:123456789012"] = {"name": "aws", "account_id": "123456789012", "role_name": "R", "host_tags": ["a"]}
    return source


async def test_bad_source_entries_fail_alone_naming_file_key_and_field(emu, clients, harness):
    from datadog_sync.planner import plan_type

    h = harness()
    source = bad_source()
    current = await h.resource.current_destination(clients[1], source, {})
    changes = {c.key: c for c in plan_type(h.resource, source, current, {}, cleanup=False, in_plan={})}
    assert changes.pop("aws:123456789012").action == "create", "the good entry is planned as usual"
    file = h.config.source_resources_path / "integrations.json"
    for key, (_, field_problem) in BAD_ENTRIES.items():
        change = changes.pop(key)
        assert change.action == "skip"
        assert change.reason.startswith(f"invalid source state entry {key} in {file}: ")
        assert field_problem in change.reason
    assert "unknown integrations subtype 'oci'" in changes.pop("oci:project-1").reason
    assert "the entry: expected an object, got a string" in changes.pop("aws:100000000010").reason
    assert changes == {}
    # after_apply of a plan holding them does not trip over the unknown subtype
    h.resource.after_apply(list(plan_type(h.resource, source, current, {}, cleanup=False, in_plan={})))


async def test_a_malformed_destination_state_entry_does_not_fail_the_others(emu, clients, harness):
    emu.seed("destination", org_state(ROLE))
    h = harness()
    good = {"name": "aws", "account_id": ROLE["account_id"], "role_name": ROLE["role_name"]}
    current = await h.resource.current_destination(clients[1], {"aws:123456789012": good}, {"aws:1": {"x": 1}})
    assert set(current) == {"aws:123456789012"}

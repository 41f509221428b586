"""Planning is pure (issue 10, "One planner"): building the plan changes neither the plugins nor state.

What planning learns (an invalid source entry, an account whose tag filters could not be read) travels in the
plan it returns, never in memos on the plugin instances, so two plans in a row are equal.
"""

from __future__ import annotations

import copy
from typing import Any

from datadog_sync.emulator.testing import DESTINATION
from datadog_sync.http.retry import RetryPolicy
from datadog_sync.planner import Plan, build_plan
from datadog_sync.resources.integrations import IntegrationsResource
from tests.unit.integrations.conftest import ROLE, make_client, org_state

# One attempt per request: the scripted 503 on the tag-filter read is an error at once, not a retry.
ONCE = RetryPolicy(retry_timeout=10, backoff_base=0.005, backoff_max=0.05, max_attempts=1)
FILTERING_READ_FAILS = {"fault": "fault", "method": "GET", "path": "/api/v1/integration/aws/filtering"}
ROLE_KEY = f"aws:{ROLE['account_id']}"
BAD_KEY = "aws:100000000002"
PLAIN = (dict, list, set, frozenset, tuple, str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    """Plain data all the way down: deep-copied into a snapshot and compared by value."""
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, set, frozenset, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, PLAIN)


def snapshot(obj: Any) -> dict[str, Any]:
    """Every attribute of ``obj``: plain data by value, anything else (clients, loggers, plugins) by identity."""
    return {name: copy.deepcopy(value) if _plain(value) else value for name, value in vars(obj).items()}


async def test_build_plan_changes_no_plugin_nor_state_and_is_repeatable(emu, harness):
    emu.seed("destination", org_state(ROLE))
    emu.set_knobs(script=[{**FILTERING_READ_FAILS, "org": "destination", "times": 100}])
    h = harness(command="diffs")
    h.ctx.destination = make_client(emu, DESTINATION, retry=ONCE)
    good = {"name": "aws", "account_id": ROLE["account_id"], "role_name": ROLE["role_name"], "host_tags": ["a"]}
    h.state.source["integrations"] = {ROLE_KEY: good, BAD_KEY: {"name": "aws", "account_id": "100000000002"}}
    resources = {"integrations": h.resource}
    aws = h.aws  # the subtype plugins are made on first use, with the run: not by planning
    watched = {"composite": h.resource, "aws": aws, "state": h.state, "ctx": h.ctx}
    before = {name: snapshot(obj) for name, obj in watched.items()}
    try:
        first = await build_plan(h.ctx, resources)
        assert {name: snapshot(obj) for name, obj in watched.items()} == before
        second = await build_plan(h.ctx, resources)
    finally:
        await h.ctx.destination.close()
    assert {name: snapshot(obj) for name, obj in watched.items()} == before
    assert first == second

    changes = {c.key: c for c in first.changes}
    unread, bad = changes[ROLE_KEY], changes[BAD_KEY]
    assert unread.action == "skip"
    assert unread.reason.startswith("cannot read its tag filters in the destination: ")
    assert bad.action == "skip"
    assert bad.reason.startswith(f"invalid source state entry {BAD_KEY} in ")
    assert "role_name: missing" in bad.reason


async def test_after_apply_leaves_invalid_entries_out_from_the_plan_alone(emu, clients, harness):
    """after_apply knows an invalid entry from the plan's skip change, with nothing remembered while planning."""
    h = harness()
    source = {"gcp:project-1": {"name": "gcp", "project_id": "project-1"}}
    h.state.source["integrations"] = source
    plan: Plan = await build_plan(h.ctx, {"integrations": h.resource})
    (change,) = plan.changes
    assert change.action == "skip" and "unknown integrations subtype 'gcp'" in change.reason
    fresh = IntegrationsResource(h.ctx)  # applying may use other instances than planning did
    assert fresh.plugins(list(plan.changes)) == []
    fresh.after_apply(list(plan.changes))  # the unknown subtype does not trip it


async def test_v2_planning_is_pure_too_with_superseded_keys_and_unrecorded_ids(emu, harness):
    """The v2 subtype's markers (a superseded v1 key, an external id to record) ride in the plan, not on plugins."""
    key_account = {"access_key_id": "AKIAEXAMPLEKEY000001", "secret_access_key": "s", "account_id": "210987654321"}
    emu.seed("destination", org_state(ROLE, key_account))
    h = harness(command="diffs", api="v2")
    h.ctx.destination = make_client(emu, DESTINATION)
    role = {
        "name": "aws",
        "account_id": ROLE["account_id"],
        "aws_account_id": ROLE["account_id"],
        "auth_config": {"role_name": ROLE["role_name"]},
    }
    key = {
        "name": "aws",
        "account_id": "210987654321",
        "aws_account_id": "210987654321",
        "auth_config": {"access_key_id": "AKIAEXAMPLEKEY000001"},
    }
    h.state.source["integrations"] = {ROLE_KEY: role, "aws:210987654321": key}
    v1_entries = {
        ROLE_KEY: {
            "name": "aws",
            **{k: ROLE[k] for k in ("account_id", "role_name")},
            "external_id": "(never received)",
        },
        "aws:AKIAEXAMPLEKEY000001": {"name": "aws", "access_key_id": "AKIAEXAMPLEKEY000001"},
    }
    h.state.destination["integrations"] = copy.deepcopy(v1_entries)
    watched = {"composite": h.resource, "aws": h.aws, "state": h.state, "ctx": h.ctx}
    before = {name: snapshot(obj) for name, obj in watched.items()}
    try:
        first = await build_plan(h.ctx, {"integrations": h.resource})
        second = await build_plan(h.ctx, {"integrations": h.resource})
    finally:
        await h.ctx.destination.close()
    assert {name: snapshot(obj) for name, obj in watched.items()} == before
    assert first == second
    changes = {c.key: c for c in first.changes}
    moved = changes["aws:AKIAEXAMPLEKEY000001"]
    assert moved.action == "noop" and moved.forget and moved.current is None
    assert moved.reason == "now kept under aws:210987654321: v2 keys every account by its AWS account id"
    assert changes["aws:210987654321"].adopted
    unrecorded = changes[ROLE_KEY]
    assert unrecorded.action == "update"
    assert [(d.path, d.old, d.new) for d in unrecorded.differences if d.path == "external_id"] == [
        ("external_id", "(never received)", "(read from Datadog)")
    ]

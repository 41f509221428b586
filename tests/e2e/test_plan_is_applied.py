"""``sync`` applies exactly the plan ``diffs`` prints, also for changes that reference objects created in the same
run (a widget pointing at a gadget this run creates), against the test REST server."""

from __future__ import annotations

import json


def events(output: str, kind: str) -> list[dict]:
    return [e for e in map(json.loads, filter(None, output.splitlines())) if e.get("type") == kind]


def test_sync_applies_the_plan_diffs_printed_including_new_dependencies(run, server):
    src = server.data["source"]
    src["gadgets"]["1"] = {"id": "1", "name": "alpha", "size": 1}
    src["widgets"]["10"] = {"id": "10", "name": "w", "gadget_id": "1"}
    assert run("import").exit_code == 0
    assert run("sync").exit_code == 0

    # A new gadget, an existing widget moved onto it, and a new widget referencing it.
    src["gadgets"]["3"] = {"id": "3", "name": "gamma", "size": 3}
    src["widgets"]["10"]["gadget_id"] = "3"
    src["widgets"]["11"] = {"id": "11", "name": "w2", "gadget_id": "3"}
    assert run("import").exit_code == 0

    diffs = run("diffs", "--json")
    planned = {(e["resource_type"], e["id"], e["action"]) for e in events(diffs.stdout, "plan")}
    assert planned == {("gadgets", "3", "create"), ("widgets", "10", "update"), ("widgets", "11", "create")}
    text = run("diffs").stdout
    assert "~ widgets 10: update  (references resources created in this run)" in text
    assert "+ widgets 11: create  (references resources created in this run)" in text
    assert "Plan: 2 to create, 1 to update, 0 to delete, 1 unchanged." in text

    server.requests.clear()
    sync = run("sync", "--json")
    assert sync.exit_code == 0, sync.stderr
    applied = {
        (e["resource_type"], e["id"], e["action_sub_type"])
        for e in events(sync.stdout, "outcome")
        if e["status"] == "success"
    }
    assert applied == planned
    unchanged = {(e["resource_type"], e["id"]) for e in events(sync.stdout, "outcome") if e["status"] == "skipped"}
    assert unchanged == {("gadgets", "1")}, "diffs' unchanged are sync's unchanged (widget 10 is not one)"

    dst = server.data["destination"]
    gamma = next(g["id"] for g in dst["gadgets"].values() if g["name"] == "gamma")
    assert {w["name"]: w["gadget_id"] for w in dst["widgets"].values()} == {"w": gamma, "w2": gamma}
    assert run("diffs").stdout.endswith("Plan: 0 to create, 0 to update, 0 to delete, 4 unchanged.\n")

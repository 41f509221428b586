"""The CLI against the emulator for what only a whole run shows: messages said once per run, not per account."""

from __future__ import annotations

import json
import re

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.support import invoke_emulated as invoke


def test_the_permission_pre_flight_lists_the_accounts_once_per_run(workdir):
    read_only = org_spec(DESTINATION, permissions=["aws_configuration_read", "user_app_keys", "user_access_read"])
    with emulated_orgs(source_state=make_aws_org(4, seed=1, key_account_share=0), orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        result = invoke(emu, "sync", destination=read_only)
    assert result.exit_code == 1 and "4 failed" in result.stdout
    keys = sorted(set(re.findall(r"aws:\d{12}", result.stdout)))
    assert len(keys) == 4
    output = result.stdout + result.stderr
    # Each account's own failure line names that account only...
    for line in output.splitlines():
        if "failed" in line or "FAILURE" in line:
            assert len(set(re.findall(r"aws:\d{12}", line))) <= 1, line
    # ...and the accounts needing each permission are listed once.
    for permission in ("aws_configurations_manage", "aws_configuration_edit"):
        assert output.count(f"4 account(s) need `{permission}`: {', '.join(keys)}") == 1
        # The full explanation once per run (issue 9, item 19); each account's lines only name the permission.
        assert output.count(f"lacks the `{permission}` permission, needed to") == 1, output
    assert output.count("(see the permission pre-flight above)") >= 4


@pytest.mark.parametrize("per_file", [False, True])
def test_diffs_and_sync_agree_on_a_bad_source_entry_and_send_nothing_of_it(workdir, per_file):
    good = {"name": "aws", "account_id": "123456789012", "role_name": "R", "host_tags": ["a"]}
    entries = {
        "aws:123456789012": good,
        "aws:100000000001": {**good, "account_id": "100000000001", "host_tags": "notalist"},
        "aws:AKIAEXAMPLEKEY000009": {"name": "aws", "access_key_id": "AKIAEXAMPLEKEY000009", "role_name": "R"},
        "aws:100000000002": {**good, "account_id": "100000000002", "bogus": 1},
        "aws:100000000003": "str",
        "aws:100000000004": None,
    }
    source = workdir / "resources" / "source"
    source.mkdir(parents=True)
    flags = ["--resource-per-file"] if per_file else []
    if per_file:
        for key, obj in entries.items():
            (source / f"integrations.{key.replace(':', '.')}.json").write_text(json.dumps({key: obj}))
        files = {key: source / f"integrations.{key.replace(':', '.')}.json" for key in entries}
    else:
        (source / "integrations.json").write_text(json.dumps(entries))
        files = dict.fromkeys(entries, source / "integrations.json")
    expected = {
        "aws:100000000001": f"invalid source state entry aws:100000000001 in {files['aws:100000000001']}: "
        "host_tags: expected a list of strings, got a string",
        "aws:AKIAEXAMPLEKEY000009": f"invalid source state entry aws:AKIAEXAMPLEKEY000009 in "
        f"{files['aws:AKIAEXAMPLEKEY000009']}: role_name and access_key_id",
        "aws:100000000002": f"invalid source state entry aws:100000000002 in {files['aws:100000000002']}: "
        "bogus: unknown field of an aws account",
        "aws:100000000003": f"invalid source state entry aws:100000000003 in {files['aws:100000000003']}: "
        "the entry: expected an object, got a string",
        "aws:100000000004": f"invalid source state entry aws:100000000004 in {files['aws:100000000004']}: "
        "the entry: expected an object, got null",
    }
    with emulated_orgs() as emu:
        diffs = invoke(emu, "diffs", *flags)
        diffs_json = invoke(emu, "diffs", "--json", *flags)
        sync = invoke(emu, "sync", *flags)
        again_json = invoke(emu, "sync", "--json", *flags)
        accounts = emu.dump("destination")["aws"]["accounts"]
    assert diffs.exit_code == sync.exit_code == 1
    assert "Traceback" not in diffs.output + sync.output
    for key, message in expected.items():
        assert f"! integrations {key}: skip  ({message}" in diffs.stdout
        assert message in diffs.stderr and message in sync.stderr and message in sync.stdout
    assert "+ integrations aws:123456789012: create" in diffs.stdout
    assert [a["account_id"] for a in accounts] == ["123456789012"], "only the good entry is sent"
    assert "1 created" in sync.stdout
    # Bad entries are failed resources, not skips, in both commands (issue 9, item 5).
    assert (
        "Plan: 1 to create, 0 to update, 0 to delete, 0 unchanged, 5 failed (invalid source entries)." in diffs.stdout
    )
    assert "Applied: 1 created, 0 updated, 0 deleted, 0 unchanged, 5 failed, 0 skipped." in sync.stdout
    events = [json.loads(line) for line in diffs_json.stdout.splitlines() if line.startswith("{")]
    (summary,) = [e for e in events if e["type"] == "summary"]
    assert summary["failed"] == 5 and summary["skipped"] == 0
    events = [json.loads(line) for line in again_json.stdout.splitlines() if line.startswith("{")]
    problems = [p for e in events if e["type"] == "summary" for p in e["problems"]]
    assert sorted(p["id"] for p in problems if p["status"] == "failure") == sorted(expected)

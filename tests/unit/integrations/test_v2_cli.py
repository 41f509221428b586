"""The v2 ``aws`` subtype end to end: the CLI against the emulator, every command, counted requests."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.support import invoke_emulated as invoke
from tests.support import read_state, wait_for, write_secrets

pytestmark = pytest.mark.aws_api("v2")

ACCOUNTS = "/api/v2/integration/aws/accounts"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET001"
#: A role account with settings only v2 carries (seeded as the emulator's `v2` settings).
ROLE = {
    "account_id": "123456789012",
    "role_name": "DatadogAWSIntegrationRole",
    "host_tags": ["team:a", "env:prod"],
    "excluded_regions": ["us-west-2"],
    "logs": {"lambdas": ["arn:aws:lambda:us-east-1:123456789012:function:fwd"], "services": ["s3", "lambda"]},
    "v2": {
        "automute_enabled": False,
        "collect_custom_metrics": True,
        "xray_services": {"include_all": True},
        "log_tag_filters": [{"source": "s3", "tags": ["env:prod"]}],
        "metric_name_filters": [{"namespace": "AWS/EC2", "include_only": ["aws.ec2.cpuutilization"]}],
    },
}
KEY = {
    "access_key_id": "AKIAEXAMPLEKEY000001",
    "secret_access_key": SECRET,
    "account_id": "210987654321",
    "aws_partition": "aws-us-gov",
    "host_tags": ["partition:gov"],
}


def org(*accounts: dict) -> dict:
    return {"aws": {"installed": True, "accounts": [json.loads(json.dumps(a)) for a in accounts]}}


def secrets_file(workdir: Path) -> str:
    return write_secrets(workdir, {"aws": {KEY["access_key_id"]: SECRET}})


def writes(emu, org: str = "destination") -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emu.requests(org) if r["method"] != "GET"]


def aws_requests(emu, org: str) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emu.requests(org) if "/integration/aws" in r["path"]]


def test_import_lists_every_account_in_one_request_whatever_their_number(workdir):
    with emulated_orgs(source_state=make_aws_org(40, seed=2, key_account_share=0.25)) as emu:
        result = invoke(emu, "import")
        requests = aws_requests(emu, "source")
    assert result.exit_code == 0, result.output
    assert requests == [("GET", ACCOUNTS)]
    state = read_state(workdir, "source", "integrations")
    assert len(state) == 40
    for key, obj in state.items():
        assert key == f"aws:{obj['aws_account_id']}" and obj["account_id"] == obj["aws_account_id"]
        assert obj["name"] == "aws" and "external_id" not in json.dumps(obj) and "created_at" not in obj


def test_sync_writes_once_per_account_carries_v2_only_settings_and_a_resync_writes_nothing(workdir):
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir)}
    with emulated_orgs(source_state=org(ROLE, KEY)) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        first = writes(emu)
        dest = emu.dump("destination")["aws"]["accounts"]
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        second = writes(emu)
        diffs_again = invoke(emu, "diffs", **env)
        source_id = emu.dump("source")["aws"]["accounts"][0]["external_id"]
    assert diffs.exit_code == 0 and "Plan: 2 to create" in diffs.stdout
    assert "+ integrations aws:210987654321: create" in diffs.stdout and SECRET not in diffs.output
    assert sync.exit_code == 0, sync.output
    assert sorted(first) == [("POST", ACCOUNTS), ("POST", ACCOUNTS)]
    role = next(a for a in dest if a.get("role_name"))
    assert role["v2"]["automute_enabled"] is False and role["v2"]["xray_services"] == {"include_all": True}
    assert role["v2"]["log_tag_filters"] == [{"source": "s3", "tags": ["env:prod"]}]
    assert role["v2"]["metric_name_filters"] == [{"namespace": "AWS/EC2", "include_only": ["aws.ec2.cpuutilization"]}]
    assert role["v2"]["collect_custom_metrics"] is True and sorted(role["logs"]["services"]) == ["lambda", "s3"]
    key = next(a for a in dest if a.get("access_key_id"))
    assert key["aws_partition"] == "aws-us-gov" and key["secret_access_key"] == SECRET
    # The destination's own external id, never the source's, in state and in the hand-off.
    assert role["external_id"] != source_id
    state = read_state(workdir, "destination", "integrations")
    assert state["aws:123456789012"]["external_id"] == role["external_id"]
    assert state["aws:123456789012"]["id"] == role["config_id"]
    assert "external_id" not in state["aws:210987654321"] and SECRET not in json.dumps(state)
    handoff = json.loads((workdir / "resources/destination/handoff/aws-external-ids.json").read_text())
    (entry,) = handoff["accounts"]
    assert entry["external_id"] == role["external_id"] and entry["new_in_last_sync"] is True
    assert role["external_id"] in sync.stderr
    assert again.exit_code == 0 and second == [] and "2 unchanged" in again.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete, 2 unchanged." in diffs_again.stdout


def test_an_update_is_one_patch_of_the_complete_owned_object(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        source = read_state(workdir, "source", "integrations")
        source["aws:123456789012"]["account_tags"] = ["team:b"]
        source["aws:123456789012"]["auth_config"]["role_name"] = "Renamed"
        (workdir / "resources/source/integrations.json").write_text(json.dumps(source))
        diffs = invoke(emu, "diffs")
        emu.clear_requests()
        sync = invoke(emu, "sync")
        patches = [r for r in emu.requests("destination") if r["method"] != "GET"]
        dest = emu.dump("destination")["aws"]["accounts"][0]
        backups = list((workdir / "resources/destination/.backup").glob("*-sync/integrations.json"))
    assert '~ account_tags: ["env:prod", "team:a"] -> ["team:b"]' not in diffs.stdout  # lists differ item by item
    assert (
        '+ account_tags: "team:b"' in diffs.stdout
        and '~ auth_config.role_name: "DatadogAWSIntegrationRole"' in diffs.stdout
    )
    assert sync.exit_code == 0 and "1 updated" in sync.stdout
    (patch,) = patches
    assert patch["method"] == "PATCH" and patch["path"] == f"{ACCOUNTS}/{dest['config_id']}"
    attributes = patch["body"]["data"]["attributes"]
    for owned in ("aws_regions", "logs_config", "metrics_config", "resources_config", "traces_config", "account_tags"):
        assert owned in attributes, owned
    assert attributes["auth_config"] == {"role_name": "Renamed"}
    assert (
        dest["role_name"] == "Renamed" and dest["host_tags"] == ["team:b"] and dest["v2"]["automute_enabled"] is False
    )
    assert backups, "the account was backed up before its update"
    assert "external_id" not in backups[0].read_text()


def test_drift_made_by_hand_shows_but_server_defaults_the_source_never_set_do_not(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        source = read_state(workdir, "source", "integrations")
        del source["aws:123456789012"]["metrics_config"]["automute_enabled"]  # never set: not owned
        (workdir / "resources/source/integrations.json").write_text(json.dumps(source))
        dest = emu.dump("destination")
        dest["aws"]["accounts"][0]["v2"]["automute_enabled"] = True
        dest["aws"]["accounts"][0]["host_tags"] = ["team:a"]
        emu.seed("destination", dest)
        diffs = invoke(emu, "diffs")
    assert "Plan: 0 to create, 1 to update" in diffs.stdout
    assert '+ account_tags: "env:prod"' in diffs.stdout and "automute" not in diffs.stdout


def test_a_patch_keeps_a_nested_setting_the_source_never_set(workdir):
    """diffs ignores a nested field the source never set, so sync must not drop it by sending its sub-object."""
    plain = {**ROLE, "v2": {k: v for k, v in ROLE["v2"].items() if k != "metric_name_filters"}}
    with emulated_orgs(source_state=org(plain), destination_state=org(ROLE)) as emu:
        assert invoke(emu, "import").exit_code == 0
        source = read_state(workdir, "source", "integrations")
        assert "metric_name_filters" not in source["aws:123456789012"]["metrics_config"]
        source["aws:123456789012"]["account_tags"] = ["team:b"]
        (workdir / "resources/source/integrations.json").write_text(json.dumps(source))
        diffs = invoke(emu, "diffs")
        emu.clear_requests()
        assert invoke(emu, "sync").exit_code == 0
        (patch,) = [r for r in emu.requests("destination") if r["method"] != "GET"]
        (live,) = emu.dump("destination")["aws"]["accounts"]
    assert "metric_name" not in diffs.stdout and "Plan: 0 to create, 1 to update" in diffs.stdout
    assert patch["body"]["data"]["attributes"]["metrics_config"]["metric_name_filters"] == (
        ROLE["v2"]["metric_name_filters"]
    )
    assert live["v2"]["metric_name_filters"] == ROLE["v2"]["metric_name_filters"] and live["host_tags"] == ["team:b"]


def test_an_unknown_attribute_is_carried_and_shown(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        source = read_state(workdir, "source", "integrations")
        source["aws:123456789012"]["brand_new_setting"] = {"enabled": True}
        (workdir / "resources/source/integrations.json").write_text(json.dumps(source))
        diffs = invoke(emu, "diffs")
        emu.clear_requests()
        sync = invoke(emu, "sync")
        (patch,) = [r for r in emu.requests("destination") if r["method"] != "GET"]
    assert '+ brand_new_setting: {"enabled": true}' in diffs.stdout
    assert sync.exit_code == 0 and patch["body"]["data"]["attributes"]["brand_new_setting"] == {"enabled": True}


@pytest.mark.parametrize("per_file", [False, True])
def test_cleanup_deletes_and_reset_deletes_each_account_once(workdir, per_file):
    flags = ["--resource-per-file"] if per_file else []
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir)}
    with emulated_orgs(source_state=org(ROLE, KEY)) as emu:
        assert invoke(emu, "migrate", *flags, **env).exit_code == 0
        if per_file:
            assert (workdir / "resources/source/integrations.aws.210987654321.json").exists()
            assert (workdir / "resources/destination/integrations.aws.123456789012.json").exists()
        # Gone from the source: cleanup deletes it in the destination.
        emu.seed("source", org(ROLE))
        assert invoke(emu, "import", *flags, **env).exit_code == 0
        emu.clear_requests()
        cleanup = invoke(emu, "sync", "--cleanup=force", *flags, **env)
        deleted = writes(emu)
        left = emu.dump("destination")["aws"]["accounts"]
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes", *flags, **env)
        reset_writes = writes(emu)
        empty = emu.dump("destination")["aws"]["accounts"]
    assert cleanup.exit_code == 0 and "1 deleted" in cleanup.stdout
    assert [m for m, _ in deleted] == ["DELETE"] and [a["account_id"] for a in left] == ["123456789012"]
    assert reset.exit_code == 0 and "Reset: 1 deleted" in reset.stdout
    assert reset_writes == [("DELETE", f"{ACCOUNTS}/{left[0]['config_id']}")] and empty == []
    handoff = json.loads((workdir / "resources/destination/handoff/aws-external-ids.json").read_text())
    assert handoff["accounts"] == []
    assert read_state(workdir, "destination", "integrations") == {} or per_file


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [
        ("name", "aws", {"aws:123456789012", "aws:210987654321"}),
        ("account_id", "210987654321", {"aws:210987654321"}),
        ("aws_partition", "aws-us-gov", {"aws:210987654321"}),
        ("aws_regions.include_only", "eu-west-1", {"aws:123456789012"}),
    ],
)
def test_filters_on_the_v1_names_and_the_v2_dot_paths(workdir, name, value, kept):
    with emulated_orgs(source_state=org(ROLE, KEY)) as emu:
        result = invoke(emu, "import", f"--filter=Type=integrations;Name={name};Value={value}")
    assert result.exit_code == 0, result.output
    assert set(read_state(workdir, "source", "integrations")) == kept


def test_key_accounts_without_their_secret_are_skipped_and_updated_without_it_when_the_key_is_unchanged(workdir):
    with emulated_orgs(source_state=org(KEY)) as emu:
        assert invoke(emu, "import").exit_code == 0
        skipped = invoke(emu, "sync")
        assert writes(emu) == []
        # Created with the secret, then updated (same access key) without any secrets file.
        assert invoke(emu, "sync", DD_INTEGRATIONS_SECRETS_FILE=secrets_file(workdir)).exit_code == 0
        source = read_state(workdir, "source", "integrations")
        source["aws:210987654321"]["account_tags"] = ["partition:gov", "new:tag"]
        (workdir / "resources/source/integrations.json").write_text(json.dumps(source))
        emu.clear_requests()
        updated = invoke(emu, "sync")
        (patch,) = [r for r in emu.requests("destination") if r["method"] != "GET"]
        # A new access key needs the secret.
        source["aws:210987654321"]["auth_config"]["access_key_id"] = "AKIAEXAMPLEKEY000002"
        (workdir / "resources/source/integrations.json").write_text(json.dumps(source))
        rotated = invoke(emu, "diffs")
    assert (
        skipped.exit_code == 1 and "no secret access key for AWS access key id AKIAEXAMPLEKEY000001" in skipped.output
    )
    assert "1 skipped" in skipped.stdout
    assert updated.exit_code == 0 and "1 updated" in updated.stdout
    assert "auth_config" not in patch["body"]["data"]["attributes"]
    assert (
        "! integrations aws:210987654321: skip  (no secret access key for AWS access key id AKIAEXAMPLEKEY000002"
        in (rotated.stdout)
    )


def test_an_auth_switch_is_a_backed_up_delete_and_create_shown_by_diffs(workdir):
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir)}
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "migrate", **env).exit_code == 0
        source = read_state(workdir, "source", "integrations")
        source["aws:123456789012"]["auth_config"] = {"access_key_id": KEY["access_key_id"]}
        (workdir / "resources/source/integrations.json").write_text(json.dumps(source))
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        done = writes(emu)
        (account,) = emu.dump("destination")["aws"]["accounts"]
        backups = list((workdir / "resources/destination/.backup").glob("*-sync/integrations.json"))
    assert "~ integrations aws:123456789012: update  (the API cannot switch an account between role and key auth: " in (
        diffs.stdout
    )
    assert "deletes it and creates it again)" in diffs.stdout and "auth_config" in diffs.stdout
    assert sync.exit_code == 0, sync.output
    assert [m for m, _ in done] == ["DELETE", "POST"]
    assert account["access_key_id"] == KEY["access_key_id"] and account["v2"]["automute_enabled"] is False
    assert backups and "DatadogAWSIntegrationRole" in backups[0].read_text()
    state = read_state(workdir, "destination", "integrations")["aws:123456789012"]
    assert "external_id" not in state and state["id"] == account["config_id"]


def test_lost_state_adopts_the_destination_accounts_without_a_write(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        (workdir / "resources/destination/integrations.json").unlink()
        emu.clear_requests()
        again = invoke(emu, "sync")
        assert writes(emu) == []
        (account,) = emu.dump("destination")["aws"]["accounts"]
    assert again.exit_code == 0 and "1 unchanged" in again.stdout
    state = read_state(workdir, "destination", "integrations")["aws:123456789012"]
    assert state["id"] == account["config_id"] and state["external_id"] == account["external_id"]


def test_a_create_whose_answer_was_lost_adopts_the_account_it_made_and_records_its_id(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "import").exit_code == 0
        emu.set_knobs(script=[{"fault": "lost", "method": "POST", "path": ACCOUNTS, "org": "destination"}])
        sync = invoke(emu, "sync")
        done = [(r["method"], r["status"]) for r in emu.requests("destination") if r["method"] != "GET"]
        (account,) = emu.dump("destination")["aws"]["accounts"]
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", 504), ("POST", 409), ("PATCH", 200)]
    assert "its external ID is read back" in sync.stderr
    state = read_state(workdir, "destination", "integrations")["aws:123456789012"]
    assert state["external_id"] == account["external_id"]
    handoff = json.loads((workdir / "resources/destination/handoff/aws-external-ids.json").read_text())
    assert (
        handoff["accounts"][0]["external_id"] == account["external_id"] and handoff["accounts"][0]["new_in_last_sync"]
    )


def test_an_account_another_writer_created_meanwhile_is_adopted_with_a_warning(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "import").exit_code == 0
        # Another writer's identical create got there first; ours is answered "conflicting updates", then
        # "Account already exists" on its retry: no attempt of ours was applied.
        emu.set_knobs(script=[{"fault": "rival", "method": "POST", "path": ACCOUNTS, "org": "destination"}])
        sync = invoke(emu, "sync")
        done = [(r["method"], r["status"]) for r in emu.requests("destination") if r["method"] != "GET"]
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", 409), ("POST", 409), ("PATCH", 200)]
    assert "created by another writer" in sync.stderr
    journal = (workdir / "resources/destination/handoff/aws-external-ids.journal").read_text()
    assert '"intent": "adopted"' in journal


def test_writes_are_serialized_by_default_and_concurrent_only_when_asked(workdir):
    state = make_aws_org(6, seed=4, key_account_share=0)
    with emulated_orgs(source_state=state, write_latency_ms=30) as emu:
        assert invoke(emu, "import").exit_code == 0
        serialized = invoke(emu, "sync")
        counters = emu.counters()
    assert serialized.exit_code == 0 and "6 created" in serialized.stdout
    assert counters["write_conflicts"] == 0 and counters["by_org"]["destination"]["writes"] == 6


def test_a_conflicting_updates_409_falls_back_to_serialized_writes_and_fails_nothing(workdir):
    state = make_aws_org(4, seed=5, key_account_share=0)
    with emulated_orgs(source_state=state, v2_write_slot=True) as emu:
        assert invoke(emu, "import").exit_code == 0
        # The first write keeps the org's write slot until the others were refused: they overlap, whatever the
        # machine's speed, and each is answered 409 "conflicting updates" (v2 writes take v1's write slot).
        emu.set_knobs(hold_write_slot=True)
        results: list = []
        run = threading.Thread(
            target=lambda: results.append(invoke(emu, "sync", "--max-workers-per-type=integrations=4"))
        )
        run.start()
        try:
            wait_for(lambda: emu.counters()["write_conflicts"] >= 3 and emu.counters()["slot_held"] >= 1, "3 conflicts")
        finally:
            emu.set_knobs(hold_write_slot=False)
            run.join()
        counters = emu.counters()
        created = emu.dump("destination")["aws"]["accounts"]
    (sync,) = results
    assert sync.exit_code == 0, sync.output
    assert "4 created" in sync.stdout and "0 failed" in sync.stdout and len(created) == 4
    assert sync.stderr.count("serializing the rest of this run's AWS writes") == 1
    assert counters["write_conflicts"] >= 3


def test_v1_written_state_is_taken_over_without_duplicates_forgetting_or_writes(workdir, monkeypatch):
    plain_role = {k: v for k, v in ROLE.items() if k != "v2"}
    plain_key = {k: v for k, v in KEY.items() if k != "aws_partition"}
    path = workdir / "secrets.json"
    path.write_text(
        json.dumps({"aws": {KEY["access_key_id"]: {"secret_access_key": SECRET, "account_id": KEY["account_id"]}}})
    )
    path.chmod(0o600)
    env = {"DD_INTEGRATIONS_SECRETS_FILE": str(path)}
    with emulated_orgs(source_state=org(plain_role, plain_key)) as emu:
        v1 = invoke(emu, "migrate", DD_INTEGRATIONS_AWS_API="v1", **env)
        assert v1.exit_code == 0, v1.output
        v1_state = read_state(workdir, "destination", "integrations")
        assert set(v1_state) == {"aws:123456789012", "aws:AKIAEXAMPLEKEY000001"}
        assert invoke(emu, "import", **env).exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", "--cleanup=force", **env)
        done = writes(emu)
        accounts = emu.dump("destination")["aws"]["accounts"]
    assert sync.exit_code == 0, sync.output
    assert done == [] and len(accounts) == 2
    note = "[integrations - aws:AKIAEXAMPLEKEY000001] - now kept under aws:210987654321: v2 keys every account by its"
    assert note in sync.stderr
    assert "Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged." in diffs.stdout
    state = read_state(workdir, "destination", "integrations")
    assert set(state) == {"aws:123456789012", "aws:210987654321"}
    assert state["aws:123456789012"]["external_id"] == v1_state["aws:123456789012"]["external_id"]
    assert state["aws:210987654321"]["id"] == next(a for a in accounts if a.get("access_key_id"))["config_id"]


def test_a_v1_entry_whose_external_id_never_arrived_is_recorded_from_datadog_without_a_request(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        (account,) = emu.dump("destination")["aws"]["accounts"]
        path = workdir / "resources/destination/integrations.json"
        path.write_text(
            json.dumps(
                {
                    "aws:123456789012": {
                        "name": "aws",
                        "account_id": "123456789012",
                        "role_name": "DatadogAWSIntegrationRole",
                        "external_id": "(never received)",
                    }
                }
            )
        )
        diffs = invoke(emu, "diffs")
        emu.clear_requests()
        sync = invoke(emu, "sync")
        done = writes(emu)
    assert '~ external_id: "(never received)" -> "(read from Datadog)"' in diffs.stdout
    assert sync.exit_code == 0 and done == [] and "1 updated" in sync.stdout
    assert (
        read_state(workdir, "destination", "integrations")["aws:123456789012"]["external_id"] == account["external_id"]
    )
    assert account["external_id"] in sync.stderr


def test_v1_shaped_source_state_is_named_and_the_v1_generation_stays_available(workdir, monkeypatch):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        v1 = invoke(emu, "import", "--integrations-aws-api=v1")
        v1_requests = {p for _, p in aws_requests(emu, "source")}
        diffs = invoke(emu, "diffs")
        monkeypatch.delenv("DD_INTEGRATIONS_AWS_API")
        emu.clear_requests()
        default = invoke(emu, "import")
        default_requests = aws_requests(emu, "source")
        bad = invoke(emu, "import", "--integrations-aws-api=v3")
    assert v1.exit_code == 0 and "/api/v1/integration/aws" in v1_requests and ACCOUNTS not in v1_requests
    assert diffs.exit_code == 1
    assert (
        "imported with --integrations-aws-api=v1: run import again (or pass --integrations-aws-api=v1)" in diffs.stdout
    )
    assert default.exit_code == 0 and default_requests == [("GET", ACCOUNTS)]
    assert bad.exit_code == 2 and "'v3' is not one of 'v2', 'v1'" in bad.output


def test_the_config_file_key_selects_the_generation(workdir, monkeypatch):
    monkeypatch.delenv("DD_INTEGRATIONS_AWS_API")
    (workdir / "sync.conf").write_text('integrations_aws_api = "v1"\n')
    with emulated_orgs(source_state=org(ROLE)) as emu:
        result = invoke(emu, "import", "--config=sync.conf")
        paths = {p for _, p in aws_requests(emu, "source")}
    assert result.exit_code == 0 and ACCOUNTS not in paths


def test_a_bad_request_names_the_account_and_the_api_message(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "import").exit_code == 0
        source = read_state(workdir, "source", "integrations")
        source["aws:123456789012"]["aws_partition"] = "aws-invalid"
        (workdir / "resources/source/integrations.json").write_text(json.dumps(source))
        sync = invoke(emu, "sync", "--json")
    assert sync.exit_code == 1
    message = (
        f"AWS account 123456789012: 400 Bad Request on POST {ACCOUNTS} (destination): Bad Request: invalid value "
        "(aws_partition: invalid partition: aws-invalid)"
    )
    events = [json.loads(line) for line in sync.stdout.splitlines() if line.startswith("{")]
    failures = [e for e in events if e.get("type") == "outcome" and e.get("status") == "failure"]
    assert failures and message in failures[0]["reason"], events


def test_the_permission_pre_flight_names_the_v2_permissions(workdir):
    read_only = org_spec(DESTINATION, permissions=["aws_configuration_read", "user_app_keys", "user_access_read"])
    with emulated_orgs(source_state=org(ROLE), orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        sync = invoke(emu, "sync", destination=read_only)
        assert writes(emu) == []
    assert sync.exit_code == 1
    assert "1 account(s) need `aws_configurations_manage`: aws:123456789012" in sync.stderr


def test_the_hand_off_names_a_role_in_its_own_partition(workdir):
    """A GovCloud role (US1-FED) trusts a principal of its partition: arn:aws-us-gov:..., never arn:aws:..."""
    gov = {**ROLE, "account_id": "345678901234", "aws_partition": "aws-us-gov"}
    with emulated_orgs(source_state=org(gov, ROLE)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
    handoff = json.loads((workdir / "resources/destination/handoff/aws-external-ids.json").read_text())
    by_account = {item["account_id"]: item for item in handoff["accounts"]}
    role = ROLE["role_name"]
    assert by_account["345678901234"]["role_arn"] == f"arn:aws-us-gov:iam::345678901234:role/{role}"
    principal = by_account["345678901234"]["trust_policy"]["Statement"][0]["Principal"]["AWS"]
    assert principal.startswith("arn:aws-us-gov:iam::") and principal.endswith(":root")
    assert by_account["123456789012"]["role_arn"] == f"arn:aws:iam::123456789012:role/{role}"
    assert by_account["123456789012"]["trust_policy"]["Statement"][0]["Principal"]["AWS"].startswith("arn:aws:iam::")

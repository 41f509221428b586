"""The ``slack`` subtype end to end: the CLI against the emulator, every command, counted requests."""

from __future__ import annotations

import json

import pytest

from datadog_sync.emulator.service_seed import make_service_org
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.support import edit_source, read_state
from tests.support import invoke_emulated as invoke

BASE = "/api/v1/integration/slack/configuration/accounts"
OPS = "ops-workspace"
ALERTS = {"name": "#alerts", "display": {"snapshot": False, "mute_buttons": True}}
DEPLOYS = {"name": "#deploys"}
KEY_ALERTS, KEY_DEPLOYS = f"slack:{OPS}:alerts", f"slack:{OPS}:deploys"


def org(channels: dict[str, list[dict]], *handles: str) -> dict:
    state: dict = {"services": {"slack": json.loads(json.dumps(channels))}}
    if handles:
        state["monitors"] = [{"name": f"m{i}", "message": f"CPU high {h}"} for i, h in enumerate(handles)]
    return state


SOURCE_ORG = org({OPS: [ALERTS, DEPLOYS]}, f"@slack-{OPS}-alerts")


def slack_writes(emu, name: str = "destination") -> list[tuple[str, str, dict | None]]:
    return [
        (r["method"], r["path"], r.get("body"))
        for r in emu.requests(name)
        if r["method"] != "GET" and r["path"].startswith(BASE)
    ]


def live(emu, name: str = "destination") -> dict[str, list[dict]]:
    return (emu.dump(name).get("services") or {}).get("slack", {})


def test_import_discovers_accounts_from_monitor_handles_and_keeps_every_channel(workdir):
    source = org(
        {OPS: [ALERTS, DEPLOYS], "Datadog": [{"name": "#general"}], "unused": [{"name": "#x"}]},
        f"@slack-{OPS}-alerts",
        "{{#is_alert}}@slack-Datadog-general{{/is_alert}}",
        "@slack-gone-channel",
    )
    with emulated_orgs(source_state=source) as emu:
        result = invoke(emu, "import")
        probed = sorted({r["path"] for r in emu.requests("source") if r["path"].startswith(BASE)})
    state = read_state(workdir, "source", "integrations")
    assert result.exit_code == 0, result.output
    assert set(state) == {KEY_ALERTS, KEY_DEPLOYS, "slack:Datadog:general"}
    assert state[KEY_ALERTS] == {
        "name": "slack",
        "account_name": OPS,
        "channel_name": "#alerts",
        "display": {"message": True, "mute_buttons": True, "notified": True, "snapshot": False, "tags": True},
    }
    # "ops" is tried before "ops-workspace" (both names may hold "-"); "unused" is never named, never listed.
    assert f"{BASE}/ops/channels" in probed and f"{BASE}/unused/channels" not in probed
    assert "@slack-gone-channel" in result.output


@pytest.mark.parametrize("ops_in_state", [False, True])
def test_an_account_whose_name_is_a_prefix_of_another_does_not_hide_it(workdir, ops_in_state):
    # "ops" has no #workspace-alerts, so @slack-ops-workspace-alerts is #alerts of "ops-workspace".
    source = org({"ops": [{"name": "#general"}], OPS: [{"name": "#alerts"}]}, f"@slack-{OPS}-alerts")
    with emulated_orgs(source_state=source) as emu:
        if ops_in_state:
            emu.seed("source", org({"ops": [{"name": "#general"}]}, "@slack-ops-general"))
            assert invoke(emu, "import").exit_code == 0
            emu.seed("source", source)
        result = invoke(emu, "import")
    state = read_state(workdir, "source", "integrations")
    assert result.exit_code == 0, result.output
    assert KEY_ALERTS in state
    assert "no Slack account of the source has that channel" not in result.output


def test_monitors_the_key_may_not_read_import_the_known_accounts_with_a_warning_and_its_hint_line(workdir):
    from datadog_sync.emulator.permissions import DEFAULT_PERMISSIONS

    with emulated_orgs(source_state=SOURCE_ORG) as emu:
        assert invoke(emu, "import").exit_code == 0
        emu.set_permissions("source", DEFAULT_PERMISSIONS - {"monitors_read"})
        result = invoke(emu, "import")
    lines = result.stderr.splitlines()
    (at,) = [i for i, line in enumerate(lines) if "cannot read the monitors" in line]
    assert result.exit_code == 0, result.output
    assert "403" in lines[at] and "\\n" not in lines[at]
    assert lines[at + 1].startswith("hint: ") and "monitors_read" in lines[at + 1]
    assert set(read_state(workdir, "source", "integrations")) == {KEY_ALERTS, KEY_DEPLOYS}


def test_sync_creates_with_encoded_names_serialized_and_a_resync_writes_nothing(workdir):
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org({OPS: []})) as emu:
        assert invoke(emu, "import").exit_code == 0
        diffs = invoke(emu, "diffs")
        emu.clear_requests()
        sync = invoke(emu, "sync")
        first = slack_writes(emu)
        dest = live(emu)
        overlapping = emu.counters()["overlapping_writes"]
        emu.clear_requests()
        again = invoke(emu, "sync")
        second = slack_writes(emu)
    assert "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged." in diffs.stdout, diffs.output
    assert sync.exit_code == 0, sync.output
    assert sorted((m, p) for m, p, _ in first) == [("POST", f"{BASE}/{OPS}/channels")] * 2
    assert {c["name"]: c["display"]["snapshot"] for c in dest[OPS]} == {"#alerts": False, "#deploys": True}
    assert overlapping == 0
    assert read_state(workdir, "destination", "integrations") == read_state(workdir, "source", "integrations")
    assert again.exit_code == 0 and second == [] and "2 unchanged" in again.stdout


def test_an_account_the_destination_lacks_is_skipped_saying_what_to_install(workdir):
    with emulated_orgs(source_state=SOURCE_ORG) as emu:
        assert invoke(emu, "import").exit_code == 0
        diffs = invoke(emu, "diffs")
        sync = invoke(emu, "sync")
        written = slack_writes(emu)
    assert f'the destination has no Slack account "{OPS}": install that Slack workspace' in diffs.stdout
    assert sync.exit_code == 1 and "2 skipped" in sync.stdout and written == []


def test_update_is_one_patch_to_the_encoded_channel_backed_up(workdir):
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org({OPS: []})) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        edit_source(workdir, KEY_ALERTS, display={"snapshot": True, "tags": False})
        diffs = invoke(emu, "diffs")
        emu.clear_requests()
        sync = invoke(emu, "sync")
        (patch,) = slack_writes(emu)
        backups = list((workdir / "resources/destination/.backup").glob("*-sync/integrations.json"))
        dest = {c["name"]: c for c in live(emu)[OPS]}
    assert "Plan: 0 to create, 1 to update" in diffs.stdout and "~ display.tags: true -> false" in diffs.stdout
    assert sync.exit_code == 0 and "1 updated" in sync.stdout
    assert patch[0] == "PATCH" and patch[1] == f"{BASE}/{OPS}/channels/#alerts"  # sent as %23alerts
    assert patch[2] == {
        "name": "#alerts",
        "display": {"message": True, "mute_buttons": False, "notified": True, "snapshot": True, "tags": False},
    }
    assert dest["#alerts"]["display"]["tags"] is False
    assert backups and json.loads(backups[0].read_text())[KEY_ALERTS]["display"]["snapshot"] is False


def test_server_defaults_are_no_drift_and_hand_drift_shows(workdir):
    with emulated_orgs(source_state=org({OPS: [{"name": "#alerts"}]}, f"@slack-{OPS}-alerts")) as emu:
        assert invoke(emu, "import").exit_code == 0
        state = read_state(workdir, "source", "integrations")
        state[KEY_ALERTS].pop("display")
        (workdir / "resources/source/integrations.json").write_text(json.dumps(state))
        emu.seed("destination", org({OPS: [{"name": "#alerts"}]}))
        quiet = invoke(emu, "diffs")
        emu.seed("destination", org({OPS: [{"name": "#alerts", "display": {"notified": False}}]}))
        drift = invoke(emu, "diffs")
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 unchanged." in quiet.stdout, quiet.output
    assert "~ display.notified: false -> true" in drift.stdout


def test_existing_channels_are_adopted_and_cleanup_and_reset_delete_once(workdir):
    by_hand = {"name": "#alerts", "display": {"snapshot": True}}
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org({OPS: [by_hand]})) as emu:
        assert invoke(emu, "import").exit_code == 0
        emu.clear_requests()
        sync = invoke(emu, "sync")
        adopted = sorted(m for m, _, _ in slack_writes(emu))
        emu.seed("source", org({OPS: [ALERTS]}, f"@slack-{OPS}-alerts"))
        assert invoke(emu, "import").exit_code == 0
        emu.clear_requests()
        cleanup = invoke(emu, "sync", "--cleanup=force")
        deleted = slack_writes(emu)
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes")
        reset_writes = slack_writes(emu)
        left = live(emu)
    assert sync.exit_code == 0 and adopted == ["PATCH", "POST"]
    assert cleanup.exit_code == 0 and [(m, p) for m, p, _ in deleted] == [("DELETE", f"{BASE}/{OPS}/channels/#deploys")]
    assert reset.exit_code == 0 and [(m, p) for m, p, _ in reset_writes] == [
        ("DELETE", f"{BASE}/{OPS}/channels/#alerts")
    ]
    assert left == {OPS: []} and read_state(workdir, "destination", "integrations") == {}


@pytest.mark.parametrize("fault", ["rival", "lost"])
def test_a_create_answered_409_or_lost_is_adopted_without_a_duplicate(workdir, fault):
    rule = {"fault": fault, "method": "POST", "path": f"{BASE}/{OPS}/channels", "org": "destination"}
    with emulated_orgs(source_state=org({OPS: [ALERTS]}), destination_state=org({OPS: []})) as emu:
        assert invoke(emu, "import").exit_code == 0
        edit = read_state(workdir, "source", "integrations")
        assert set(edit) == set()  # no monitor names the account and no state knows it: nothing to import
        emu.seed("source", SOURCE_ORG)
        assert invoke(emu, "import").exit_code == 0
        emu.seed("source", org({OPS: [ALERTS]}, f"@slack-{OPS}-alerts"))
        assert invoke(emu, "import").exit_code == 0  # the deleted #deploys is gone from the source
        emu.set_knobs(script=[rule])
        sync = invoke(emu, "sync")
        done = [m for m, _, _ in slack_writes(emu)]
        channels = live(emu)[OPS]
        again = invoke(emu, "diffs")
    assert sync.exit_code == 0, sync.output
    assert done == ["POST", "POST", "PATCH"] if fault == "lost" else done == ["POST", "PATCH"]
    assert [c["name"] for c in channels] == ["#alerts"] and channels[0]["display"]["snapshot"] is False
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 unchanged." in again.stdout


@pytest.mark.parametrize("per_file", [False, True])
def test_renamed_channel_is_a_create_and_cleanup_deletes_the_old(workdir, per_file):
    flags = ["--resource-per-file"] if per_file else []
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org({OPS: []})) as emu:
        assert invoke(emu, "migrate", *flags).exit_code == 0
        if per_file:
            assert (workdir / f"resources/destination/integrations.slack.{OPS}.alerts.json").exists()
        emu.seed("source", org({OPS: [{**ALERTS, "name": "#alerts-v2"}, DEPLOYS]}, f"@slack-{OPS}-alerts-v2"))
        assert invoke(emu, "import", *flags).exit_code == 0
        emu.clear_requests()
        sync = invoke(emu, "sync", "--cleanup=force", *flags)
        done = [(m, p) for m, p, _ in slack_writes(emu)]
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", f"{BASE}/{OPS}/channels"), ("DELETE", f"{BASE}/{OPS}/channels/#alerts")]


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [("name", "slack", {KEY_ALERTS, KEY_DEPLOYS}), ("channel_name", "#deploys", {KEY_DEPLOYS})],
)
def test_filters(workdir, name, value, kept):
    with emulated_orgs(source_state=SOURCE_ORG) as emu:
        result = invoke(emu, "import", f"--filter=Type=integrations;Name={name};Value={value}")
    assert result.exit_code == 0, result.output
    assert set(read_state(workdir, "source", "integrations")) == kept


def test_many_channels_are_written_serially(workdir):
    state = make_service_org(n_slack_channels=12, seed=5)
    dest = org({account: [] for account in state["services"]["slack"]})
    with emulated_orgs(source_state=state, destination_state=dest) as emu:
        assert invoke(emu, "import").exit_code == 0
        sync = invoke(emu, "sync", "--max-workers-per-type=integrations=8")
        overlapping = emu.counters()["overlapping_writes"]
        again = invoke(emu, "diffs")
    assert sync.exit_code == 0 and "12 created" in sync.stdout, sync.output
    assert overlapping == 0
    assert "Plan: 0 to create, 0 to update, 0 to delete, 12 unchanged." in again.stdout


def test_the_permission_pre_flight_names_manage_integrations(workdir):
    read_only = org_spec(DESTINATION, permissions=["integrations_read", "user_app_keys", "user_access_read"])
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org({OPS: []}), orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        sync = invoke(emu, "sync", destination=read_only)
        written = slack_writes(emu)
    assert sync.exit_code == 1 and written == []
    assert "2 Slack channel(s) need `manage_integrations`" in sync.stderr

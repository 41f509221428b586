"""The ``ms_teams`` subtype end to end: the CLI against the emulator, every command, counted requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datadog_sync.emulator.service_seed import make_service_org, make_service_secrets
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.support import invoke_emulated as invoke
from tests.support import read_state, secrets_file_env

BASE = "/api/v2/integration/ms-teams/configuration"
WF, TH = f"{BASE}/workflows-webhook-handles", f"{BASE}/tenant-based-handles"
TENANT_ID, TEAM_ID, CHANNEL_ID = (
    "0b0c0d0e-0000-4000-8000-000000000001",
    "1a1b1c1d-0000-4000-8000-000000000002",
    "19:a@t",
)
URL = "https://prod-01.westus.logic.azure.com:443/workflows/0123456789abcdef/triggers/manual"
TENANTS = [
    {
        "tenant_id": TENANT_ID,
        "tenant_name": "Example, Inc.",
        "teams": [
            {
                "team_id": TEAM_ID,
                "team_name": "Ops",
                "channels": [
                    {"channel_id": CHANNEL_ID, "channel_name": "General", "is_primary": True},
                    {"channel_id": "19:b@t", "channel_name": "Alerts", "is_primary": False},
                ],
            }
        ],
    }
]
OPS = {"id": "h-1", "name": "ops", "tenant_id": TENANT_ID, "team_id": TEAM_ID, "channel_id": CHANNEL_ID}
FLOW = {"id": "h-2", "name": "ops-wf", "url": URL}
KEY_OPS, KEY_FLOW = "ms_teams:ops", "ms_teams:ops-wf"


def org(tenant_handles=(), workflows_handles=(), tenants=True) -> dict:
    services = {
        "tenant_handles": [dict(h) for h in tenant_handles],
        "workflows_handles": [dict(h) for h in workflows_handles],
        "ms_teams_tenants": json.loads(json.dumps(TENANTS)) if tenants else [],
    }
    return {"services": services}


SOURCE_ORG = org([OPS], [FLOW])


def secrets_file(workdir: Path, state: dict) -> dict[str, str]:
    return secrets_file_env(workdir, {"ms_teams": make_service_secrets(state).get("ms_teams", {})})


def writes(emu, name: str = "destination") -> list[tuple[str, str, dict | None]]:
    return [
        (r["method"], r["path"], r.get("body"))
        for r in emu.requests(name)
        if r["method"] != "GET" and r["path"].startswith(BASE)
    ]


def live(emu, name: str = "destination") -> dict[str, dict]:
    services = emu.dump(name).get("services") or {}
    return {h["name"]: h for h in services.get("tenant_handles", []) + services.get("workflows_handles", [])}


def test_import_keeps_both_kinds_by_name_without_ids_or_urls(workdir):
    with emulated_orgs(source_state=SOURCE_ORG) as emu:
        result = invoke(emu, "import")
    state = read_state(workdir, "source", "integrations")
    assert result.exit_code == 0, result.output
    assert state == {
        KEY_OPS: {
            "name": "ms_teams",
            "handle_name": "ops",
            "handle_type": "tenant",
            "channel_name": "General",
            "team_name": "Ops",
            "tenant_name": "Example, Inc.",
        },
        KEY_FLOW: {"name": "ms_teams", "handle_name": "ops-wf", "handle_type": "workflows"},
    }
    assert URL not in json.dumps(state) and "h-1" not in json.dumps(state)


def test_sync_creates_both_resolving_the_channel_by_name_and_a_resync_writes_nothing(workdir):
    env = secrets_file(workdir, SOURCE_ORG)
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org()) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        done = sorted((m, p) for m, p, _ in writes(emu))
        bodies = {b["data"]["type"]: b["data"]["attributes"] for _, _, b in writes(emu)}
        resolved = [r["path"] for r in emu.requests("destination") if "/channel/" in r["path"]]
        handles = live(emu)
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        second = writes(emu)
    assert "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged." in diffs.stdout, diffs.output
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", TH), ("POST", WF)]
    assert bodies["tenant-based-handle"] == {
        "name": "ops",
        "tenant_id": TENANT_ID,
        "team_id": TEAM_ID,
        "channel_id": CHANNEL_ID,
    }
    assert resolved == [f"{BASE}/channel/Example, Inc./Ops/General"]
    assert handles["ops-wf"]["url"] == URL and handles["ops"]["channel_id"] == CHANNEL_ID
    assert URL not in sync.output + json.dumps(read_state(workdir, "destination", "integrations"))
    assert again.exit_code == 0 and second == [] and "2 unchanged" in again.stdout


def test_a_tenant_the_destination_has_not_connected_is_skipped_saying_what_to_connect(workdir):
    env = secrets_file(workdir, SOURCE_ORG)
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org(tenants=False)) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        sync = invoke(emu, "sync", **env)
        handles = live(emu)
    message = (
        'Microsoft Teams tenant-based handle ops: the destination cannot resolve channel "General" of team "Ops" of '
        'tenant "Example, Inc.": connect the Microsoft tenant "Example, Inc."'
    )
    assert message in diffs.stdout
    assert sync.exit_code == 1 and message in sync.stderr and "1 created" in sync.stdout
    assert set(handles) == {"ops-wf"}


def test_a_workflows_handle_without_its_url_is_skipped_with_the_line_to_add(workdir):
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org()) as emu:
        assert invoke(emu, "import").exit_code == 0
        sync = invoke(emu, "sync")
        handles = live(emu)
    message = (
        "no workflow url for Microsoft Teams Workflows webhook handle ops-wf: the API never returns it. "
        'Add {"ms_teams": {"ops-wf": "<workflow url>"}} to the file given with --integrations-secrets-file'
    )
    assert sync.exit_code == 1 and message in sync.stderr
    assert set(handles) == {"ops"}


def test_changes_are_one_patch_existing_handles_adopted_and_a_changed_kind_replaced(workdir):
    moved = {**OPS, "channel_id": "19:b@t"}
    by_hand_flow = {"id": "x-9", "name": "ops", "url": "https://old"}
    env = secrets_file(workdir, SOURCE_ORG)
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org([moved], [FLOW])) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        adopted = writes(emu)
        emu.seed("destination", org([], [FLOW, by_hand_flow]))
        emu.clear_requests()
        replaced = invoke(emu, "sync", **env)
        kinds = [(m, p) for m, p, _ in writes(emu)]
        handles = live(emu)
    assert '~ channel_name: "Alerts" -> "General"' in diffs.stdout and "2 to update" in diffs.stdout
    # The adopted Workflows handle's URL is unknown: the secrets file's is written once (masked in the log).
    assert "its workflow url is never returned, so the secrets file's is written once" in diffs.stdout
    assert '~ url: "(unknown: never returned)" -> "(the secrets file\'s)"' in diffs.stdout
    assert sync.exit_code == 0 and sorted((m, p) for m, p, _ in adopted) == [
        ("PATCH", f"{TH}/h-1"),
        ("PATCH", f"{WF}/h-2"),
    ]
    by_path = {p: body for _, p, body in adopted}
    assert by_path[f"{TH}/h-1"]["data"]["attributes"]["channel_id"] == CHANNEL_ID
    assert by_path[f"{WF}/h-2"]["data"]["attributes"]["url"] == "***"
    assert replaced.exit_code == 0, replaced.output
    assert kinds == [("DELETE", f"{WF}/x-9"), ("POST", TH)]
    assert handles["ops"]["channel_id"] == CHANNEL_ID and "url" not in handles["ops"]


@pytest.mark.parametrize("per_file", [False, True])
def test_cleanup_and_reset_delete_each_handle_once(workdir, per_file):
    flags = ["--resource-per-file"] if per_file else []
    env = secrets_file(workdir, SOURCE_ORG)
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org()) as emu:
        assert invoke(emu, "migrate", *flags, **env).exit_code == 0
        emu.seed("source", org([OPS]))
        assert invoke(emu, "import", *flags, **env).exit_code == 0
        emu.clear_requests()
        cleanup = invoke(emu, "sync", "--cleanup=force", *flags, **env)
        deleted = [(m, p.rsplit("/", 1)[0]) for m, p, _ in writes(emu)]
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes", *flags, **env)
        reset_writes = [(m, p.rsplit("/", 1)[0]) for m, p, _ in writes(emu)]
        left = live(emu)
    assert cleanup.exit_code == 0 and deleted == [("DELETE", WF)]
    assert reset.exit_code == 0 and reset_writes == [("DELETE", TH)]
    assert left == {} and read_state(workdir, "destination", "integrations") == {}


@pytest.mark.parametrize("fault", ["rival", "lost"])
def test_a_create_answered_409_or_lost_is_adopted_without_a_duplicate(workdir, fault):
    env = secrets_file(workdir, SOURCE_ORG)
    with emulated_orgs(source_state=org([], [FLOW]), destination_state=org()) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        emu.set_knobs(script=[{"fault": fault, "method": "POST", "path": WF, "org": "destination"}])
        sync = invoke(emu, "sync", **env)
        handles = live(emu)
        again = invoke(emu, "diffs", **env)
    assert sync.exit_code == 0, sync.output
    assert list(handles) == ["ops-wf"] and handles["ops-wf"]["url"] == URL
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 unchanged." in again.stdout


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [("name", "ms_teams", {KEY_OPS, KEY_FLOW}), ("handle_type", "workflows", {KEY_FLOW})],
)
def test_filters(workdir, name, value, kept):
    with emulated_orgs(source_state=SOURCE_ORG) as emu:
        result = invoke(emu, "import", f"--filter=Type=integrations;Name={name};Value={value}")
    assert result.exit_code == 0, result.output
    assert set(read_state(workdir, "source", "integrations")) == kept


def test_a_seeded_org_migrates_whole_and_writes_in_parallel(workdir):
    state = make_service_org(n_teams_handles=8, seed=2)
    dest = {"services": {"ms_teams_tenants": state["services"]["ms_teams_tenants"]}}
    env = secrets_file(workdir, state)
    with emulated_orgs(source_state=state, destination_state=dest) as emu:
        sync = invoke(emu, "migrate", **env)
        again = invoke(emu, "diffs", **env)
        handles = live(emu)
    assert sync.exit_code == 0 and "8 created" in sync.stdout, sync.output
    assert len(handles) == 8
    assert "Plan: 0 to create, 0 to update, 0 to delete, 8 unchanged." in again.stdout


def test_the_permission_pre_flight_names_manage_integrations(workdir):
    read_only = org_spec(DESTINATION, permissions=["integrations_read", "user_app_keys", "user_access_read"])
    env = secrets_file(workdir, SOURCE_ORG)
    with emulated_orgs(source_state=SOURCE_ORG, destination_state=org(), orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only, **env).exit_code == 0
        sync = invoke(emu, "sync", destination=read_only, **env)
        written = writes(emu)
    assert sync.exit_code == 1 and written == []
    assert "2 Microsoft Teams handle(s) need `manage_integrations`" in sync.stderr

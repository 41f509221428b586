"""The ``pagerduty`` subtype end to end: the CLI against the emulator, every command, counted requests."""

from __future__ import annotations

from pathlib import Path

from datadog_sync.emulator.service_seed import make_service_org, make_service_secrets
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.support import invoke_emulated as invoke
from tests.support import read_state, secrets_file_env

LEGACY = "/api/v1/integration/pagerduty"
SERVICES = f"{LEGACY}/configuration/services"
KEY = "0123456789abcdef0123456789abcdef"


def org(*names: str) -> dict:
    services = [{"service_name": n, "service_key": f"{KEY[:-2]}{i:02d}"} for i, n in enumerate(names)]
    return {"services": {"pagerduty": {"subdomain": "example", "services": services}}}


def secrets_file(workdir: Path, state: dict, **extra: dict) -> dict[str, str]:
    return secrets_file_env(workdir, {**make_service_secrets(state), **extra})


def writes(emu, org: str = "destination") -> list[dict]:
    return [r for r in emu.requests(org) if r["method"] != "GET" and r["path"].startswith(LEGACY)]


def live(emu, org: str = "destination") -> dict[str, str]:
    pd = (emu.dump(org).get("services") or {}).get("pagerduty") or {}
    return {s["service_name"]: s["service_key"] for s in pd.get("services", [])}


def test_migrate_creates_every_service_serialized_and_a_second_sync_writes_nothing(workdir):
    state = make_service_org(n_pagerduty=12, monitors=False, seed=2)
    env = secrets_file(workdir, state)
    with emulated_orgs(source_state=state, latency_ms=2) as emu:
        migrate = invoke(emu, "migrate", "--max-workers-per-type=integrations=8", **env)
        created = writes(emu)
        reads = [r["path"] for r in emu.requests("source") if r["path"].startswith(LEGACY)]
        overlapping = emu.counters()["overlapping_writes"]
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        diffs = invoke(emu, "diffs", **env)
        after = writes(emu)
        destination = live(emu)
    assert migrate.exit_code == 0, migrate.output
    assert reads == [LEGACY]  # one legacy read lists them all
    assert len(created) == 12 and {w["method"] for w in created} == {"POST"}
    assert all(w["path"] == SERVICES for w in created)
    assert overlapping == 0  # terraform-provider-datadog serializes PagerDuty writes
    assert destination == make_service_secrets(state)["pagerduty"]
    assert again.exit_code == 0 and after == []
    assert "Plan: 0 to create, 0 to update, 0 to delete, 12 unchanged." in diffs.stdout
    stored = read_state(workdir, "source", "integrations")
    name = state["services"]["pagerduty"]["services"][0]["service_name"]
    assert stored[f"pagerduty:{name}"] == {"name": "pagerduty", "service_name": name}
    for origin in ("source", "destination"):
        text = (workdir / f"resources/{origin}/integrations.json").read_text()
        assert KEY not in text and not any(k in text for k in destination.values())


def test_the_legacy_whole_config_writes_are_never_used(workdir):
    state = org("payments", "search")
    with emulated_orgs(source_state=state, destination_state=org("other")) as emu:
        assert invoke(emu, "migrate", "--cleanup=force", **secrets_file(workdir, state)).exit_code == 0
        methods = {(w["method"], w["path"]) for w in writes(emu)}
        destination = live(emu)
    assert ("PUT", LEGACY) not in methods and ("POST", LEGACY) not in methods
    assert set(destination) == {"payments", "search", "other"}  # never synced: not ours to delete


def test_a_missing_service_key_skips_that_service_with_the_line_to_add(workdir):
    state = org("payments", "search")
    with emulated_orgs(source_state=state) as emu:
        env = secrets_file(workdir, org("payments"))
        assert invoke(emu, "import").exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        sync = invoke(emu, "sync", **env)
        destination = live(emu)
    expected = (
        'no service key for PagerDuty service search: the API never returns it. Add {"pagerduty": {"search": '
        '"<service key>"}}'
    )
    assert expected in diffs.output and expected in sync.output
    assert set(destination) == {"payments"}


def test_an_existing_service_is_adopted_with_one_put_of_its_key_and_names_with_spaces_are_encoded(workdir):
    state = org("payments", "ops team")
    by_hand = {
        "services": {"pagerduty": {"subdomain": "x", "services": [{"service_name": "payments", "service_key": "old"}]}}
    }
    with emulated_orgs(source_state=state, destination_state=by_hand) as emu:
        env = secrets_file(workdir, state)
        assert invoke(emu, "import", **env).exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        sync = invoke(emu, "sync", **env)
        made = writes(emu)
        keys = live(emu)
        emu.clear_requests()
        again = invoke(emu, "sync", **env)  # the key is known now: never rewritten
        rewritten = writes(emu)
        emu.seed("source", org("payments"))
        assert invoke(emu, "import", **env).exit_code == 0
        emu.clear_requests()
        cleanup = invoke(emu, "sync", "--cleanup=force", **env)
        deleted = writes(emu)
        destination = live(emu)
    assert (
        "~ integrations pagerduty:payments: update  (adopting the destination's existing object; its service "
        "key is never returned, so the secrets file's is written once)" in diffs.stdout
    )
    assert '~ service_key: "(unknown: never returned)" -> "(the secrets file\'s)"' in diffs.stdout
    assert sync.exit_code == 0, sync.output
    assert sorted((w["method"], w["path"]) for w in made) == [("POST", SERVICES), ("PUT", f"{SERVICES}/payments")]
    assert keys["payments"] == make_service_secrets(state)["pagerduty"]["payments"] and "old" not in keys.values()
    assert again.exit_code == 0 and rewritten == [] and "2 unchanged" in again.stdout
    assert cleanup.exit_code == 0 and [(w["method"], w["path"]) for w in deleted] == [
        ("DELETE", f"{SERVICES}/ops team")  # sent as ops%20team; the log shows the decoded path
    ]
    assert set(destination) == {"payments"}


def test_a_create_meeting_an_existing_name_sets_its_key(workdir):
    state = org("payments")
    with emulated_orgs(source_state=state) as emu:
        env = secrets_file(workdir, state)
        assert invoke(emu, "import", **env).exit_code == 0
        # Another writer created it first: the create answers 409, so the key is set on the existing service.
        emu.set_knobs(script=[{"fault": "rival", "method": "POST", "path": SERVICES, "org": "destination"}])
        sync = invoke(emu, "sync", **env)
        made = [(w["method"], w["path"], w["status"]) for w in writes(emu)]
        destination = live(emu)
    assert sync.exit_code == 0, sync.output
    assert made == [("POST", SERVICES, 409), ("PUT", f"{SERVICES}/payments", 200)]
    assert destination == {"payments": make_service_secrets(state)["pagerduty"]["payments"]}
    assert "already exists in the destination: setting its key instead of creating it" in sync.output


def test_reset_deletes_by_name_after_a_backup(workdir):
    state = org("payments", "search")
    env = secrets_file(workdir, state)
    with emulated_orgs(source_state=state) as emu:
        assert invoke(emu, "migrate", **env).exit_code == 0
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes", **env)
        deleted = sorted((w["method"], w["path"]) for w in writes(emu))
        destination = live(emu)
    assert reset.exit_code == 0, reset.output
    assert deleted == [("DELETE", f"{SERVICES}/payments"), ("DELETE", f"{SERVICES}/search")]
    assert destination == {}
    assert read_state(workdir, "destination", "integrations") == {}
    assert list((workdir / "resources/destination/.backup").glob("*-reset/integrations*.json"))


def test_filters_select_the_subtype_and_services(workdir):
    state = {"services": {**org("payments", "search")["services"], **make_service_org(n_opsgenie=2)["services"]}}
    with emulated_orgs(source_state=state) as emu:
        by_subtype = invoke(emu, "import", "--filter=Type=integrations;Name=name;Value=pagerduty")
        subtype_keys = set(read_state(workdir, "source", "integrations"))
        by_name = invoke(emu, "import", "--filter=Type=integrations;Name=service_name;Value=search")
        name_keys = set(read_state(workdir, "source", "integrations"))
    assert by_subtype.exit_code == 0 and subtype_keys == {"pagerduty:payments", "pagerduty:search"}
    assert by_name.exit_code == 0 and "pagerduty:search" in name_keys and "pagerduty:payments" not in name_keys


def test_the_permission_pre_flight_names_manage_integrations(workdir):
    read_only = org_spec(DESTINATION, read_only=True)
    state = org("payments")
    with emulated_orgs(source_state=state, orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        sync = invoke(emu, "sync", destination=read_only, **secrets_file(workdir, state))
        assert writes(emu) == []
    assert sync.exit_code == 1
    assert "1 PagerDuty service(s) need `manage_integrations`: pagerduty:payments" in sync.stderr

"""The ``opsgenie`` subtype end to end: the CLI against the emulator, every command, counted requests."""

from __future__ import annotations

import json
from pathlib import Path

from datadog_sync.emulator.service_seed import make_service_org, make_service_secrets
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.support import edit_source, read_state, secrets_file_env
from tests.support import invoke_emulated as invoke

BASE = "/api/v2/integration/opsgenie/services"


def service(name: str, region: str = "us", custom_url: str | None = None, n: int = 1, key: str = "") -> dict:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "name": name,
        "region": region,
        "custom_url": custom_url,
        "opsgenie_api_key": key or f"api-key-{name}",
    }


def org(*services: dict) -> dict:
    return {"services": {"opsgenie": [json.loads(json.dumps(s)) for s in services]}}


def secrets_file(workdir: Path, state: dict) -> dict[str, str]:
    return secrets_file_env(workdir, make_service_secrets(state))


def writes(emu, org: str = "destination") -> list[dict]:
    return [r for r in emu.requests(org) if r["method"] != "GET" and r["path"].startswith(BASE)]


def live(emu, org: str = "destination") -> dict[str, dict]:
    return {s["name"]: s for s in (emu.dump(org).get("services") or {}).get("opsgenie", [])}


def test_migrate_creates_every_service_and_a_second_sync_writes_nothing(workdir):
    state = make_service_org(n_opsgenie=8, monitors=False, seed=5)
    env = secrets_file(workdir, state)
    with emulated_orgs(source_state=state) as emu:
        migrate = invoke(emu, "migrate", **env)
        created = writes(emu)
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        diffs = invoke(emu, "diffs", **env)
        after = writes(emu)
        source, destination = live(emu, "source"), live(emu)
    assert migrate.exit_code == 0, migrate.output
    assert len(created) == 8 and {w["method"] for w in created} == {"POST"}
    assert again.exit_code == 0 and after == []
    assert "Plan: 0 to create, 0 to update, 0 to delete, 8 unchanged." in diffs.stdout
    for name, src in source.items():
        dst = destination[name]
        assert (dst["region"], dst["custom_url"], dst["opsgenie_api_key"]) == (
            src["region"],
            src["custom_url"],
            src["opsgenie_api_key"],
        )
        assert dst["id"] != src["id"]
    for origin in ("source", "destination"):
        text = (workdir / f"resources/{origin}/integrations.json").read_text()
        assert not any(s["opsgenie_api_key"] in text for s in source.values())


def test_drift_is_one_patch_without_needing_the_api_key_and_custom_url_null_is_unset(workdir):
    a, b = service("payments", n=1), service("search", "custom", "https://og.example.com", n=2)
    with emulated_orgs(source_state=org(a, b)) as emu:
        assert invoke(emu, "migrate", **secrets_file(workdir, org(a, b))).exit_code == 0
        edit_source(workdir, "opsgenie:payments", region="eu")
        edit_source(workdir, "opsgenie:search", region="us", custom_url=None)
        emu.clear_requests()
        diffs = invoke(emu, "diffs")
        sync = invoke(emu, "sync")  # no secrets file: an update does not need the key
        made = writes(emu)
        destination = live(emu)
    assert '~ region: "us" -> "eu"' in diffs.stdout and "2 to update" in diffs.stdout
    assert sync.exit_code == 0, sync.output
    assert sorted(w["method"] for w in made) == ["PATCH", "PATCH"]
    assert all("opsgenie_api_key" not in w["body"]["data"]["attributes"] for w in made)
    assert (
        destination["payments"]["region"] == "eu"
        and destination["payments"]["opsgenie_api_key"] == a["opsgenie_api_key"]
    )
    assert destination["search"]["region"] == "us" and destination["search"]["custom_url"] is None


def test_an_existing_service_is_adopted_by_name_never_by_id(workdir):
    a = service("payments", n=1)
    there = service("payments", "eu", n=9, key="destination-key")
    same_id_other_name = service("other", n=1)
    with emulated_orgs(source_state=org(a), destination_state=org(there, same_id_other_name)) as emu:
        env = secrets_file(workdir, org(a))
        assert invoke(emu, "import", **env).exit_code == 0
        sync = invoke(emu, "sync", **env)
        made = writes(emu)
        destination = live(emu)
    assert sync.exit_code == 0, sync.output
    assert [(w["method"], w["path"]) for w in made] == [("PATCH", f"{BASE}/{there['id']}")]
    assert (
        destination["payments"]["region"] == "us"
        and destination["payments"]["opsgenie_api_key"] == a["opsgenie_api_key"]
    )  # the key is resent when the file has it, as terraform-provider-datadog does
    assert set(destination) == {"payments", "other"}


def test_a_missing_api_key_skips_the_create_with_the_line_to_add(workdir):
    a, b = service("payments", n=1), service("search", n=2)
    with emulated_orgs(source_state=org(a, b)) as emu:
        env = secrets_file(workdir, org(a))
        assert invoke(emu, "import").exit_code == 0
        sync = invoke(emu, "sync", **env)
        destination = live(emu)
    assert (
        'no API key for Opsgenie service search: the API never returns it. Add {"opsgenie": {"search": ' in sync.output
    )
    assert set(destination) == {"payments"}


def test_a_renamed_source_service_is_renamed_in_place(workdir):
    a, b = service("payments", n=1), service("search", n=2)
    with emulated_orgs(source_state=org(a, b)) as emu:
        env = secrets_file(workdir, org(a, b))
        assert invoke(emu, "migrate", **env).exit_code == 0
        before = live(emu)["payments"]["id"]
        renamed = dict(a, name="payments-oncall")
        emu.seed("source", org(renamed, b))
        assert invoke(emu, "import").exit_code == 0
        emu.clear_requests()
        # The file has a key for the new name, but the service is ours, renamed: no adoption's write of the key.
        keyed = invoke(emu, "diffs", "--cleanup=force", **secrets_file(workdir, org(a, renamed, b)))
        diffs = invoke(emu, "diffs", "--cleanup=force")
        sync = invoke(emu, "sync", "--cleanup=force")  # no secrets: a rename needs no API key
        made = writes(emu)
        destination = live(emu)
        again = invoke(emu, "diffs", "--cleanup=force")
    assert "renames the Opsgenie service payments to payments-oncall in place" in diffs.stdout
    assert "renames the Opsgenie service payments to payments-oncall in place" in keyed.stdout
    assert "never returned" not in keyed.stdout and "1 to update" in keyed.stdout
    assert sync.exit_code == 0, sync.output
    assert [(w["method"], w["path"]) for w in made] == [("PATCH", f"{BASE}/{before}")]
    assert set(destination) == {"payments-oncall", "search"} and destination["payments-oncall"]["id"] == before
    assert set(read_state(workdir, "destination", "integrations")) == {"opsgenie:payments-oncall", "opsgenie:search"}
    assert "0 to create, 0 to update, 0 to delete" in again.stdout


def test_a_create_meeting_an_existing_name_updates_it(workdir):
    a = service("payments", n=1)
    with emulated_orgs(source_state=org(a)) as emu:
        env = secrets_file(workdir, org(a))
        assert invoke(emu, "import", **env).exit_code == 0
        emu.set_knobs(script=[{"fault": "rival", "method": "POST", "path": BASE, "org": "destination"}])
        sync = invoke(emu, "sync", **env)
        made = [(w["method"], w["status"]) for w in writes(emu)]
        again = invoke(emu, "diffs", **env)
    assert sync.exit_code == 0, sync.output
    assert made == [("POST", 409), ("PATCH", 200)]
    assert "0 to create, 0 to update, 0 to delete, 1 unchanged" in again.stdout


def test_cleanup_and_reset_delete_by_id_and_a_404_is_deleted_already(workdir):
    a, b = service("payments", n=1), service("search", n=2)
    env = secrets_file(workdir, org(a, b))
    with emulated_orgs(source_state=org(a, b)) as emu:
        assert invoke(emu, "migrate", **env).exit_code == 0
        ids = {name: s["id"] for name, s in live(emu).items()}
        emu.seed("source", org(a))
        assert invoke(emu, "import", **env).exit_code == 0
        emu.clear_requests()
        cleanup = invoke(emu, "sync", "--cleanup=force", **env)
        deleted = [(w["method"], w["path"]) for w in writes(emu)]
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes", **env)
        reset_writes = [(w["method"], w["path"]) for w in writes(emu)]
        destination = live(emu)
    assert cleanup.exit_code == 0 and deleted == [("DELETE", f"{BASE}/{ids['search']}")]
    assert reset.exit_code == 0 and reset_writes == [("DELETE", f"{BASE}/{ids['payments']}")]
    assert destination == {} and read_state(workdir, "destination", "integrations") == {}
    assert list((workdir / "resources/destination/.backup").glob("*-reset/integrations*.json"))


def test_filters_select_the_subtype_and_services(workdir):
    state = {"services": {**org(service("payments", n=1), service("search", "eu", n=2))["services"]}}
    state["services"].update(make_service_org(n_pagerduty=2)["services"])
    with emulated_orgs(source_state=state) as emu:
        by_subtype = invoke(emu, "import", "--filter=Type=integrations;Name=name;Value=opsgenie")
        subtype_keys = set(read_state(workdir, "source", "integrations"))
        by_region = invoke(emu, "import", "--filter=Type=integrations;Name=region;Value=eu")
        region_keys = set(read_state(workdir, "source", "integrations"))
    assert by_subtype.exit_code == 0 and subtype_keys == {"opsgenie:payments", "opsgenie:search"}
    assert by_region.exit_code == 0 and "opsgenie:search" in region_keys and "opsgenie:payments" not in region_keys


def test_the_permission_pre_flight_names_manage_integrations(workdir):
    read_only = org_spec(DESTINATION, read_only=True)
    state = org(service("payments"))
    with emulated_orgs(source_state=state, orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        sync = invoke(emu, "sync", destination=read_only, **secrets_file(workdir, state))
        assert writes(emu) == []
    assert sync.exit_code == 1
    assert "1 Opsgenie service(s) need `manage_integrations`: opsgenie:payments" in sync.stderr

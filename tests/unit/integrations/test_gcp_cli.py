"""The ``gcp`` subtype end to end: the CLI against the emulator, every command, counted requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datadog_sync.emulator import make_gcp_org
from datadog_sync.emulator.cloud_seed import make_cloud_secrets
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from datadog_sync.resources.integrations.gcp.model import normalize
from tests.support import edit_source, read_state, write_secrets
from tests.support import invoke_emulated as invoke

ACCOUNTS = "/api/v2/integration/gcp/accounts"
V1 = "/api/v1/integration/gcp"
DELEGATE = "/api/v2/integration/gcp/sts_delegate"
STS_EMAIL = "datadog@payments-prod.iam.gserviceaccount.com"
KEY_EMAIL = "legacy@legacy-project.iam.gserviceaccount.com"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nDDSYNCGCPTESTKEY0001\n-----END PRIVATE KEY-----\n"
STS = {
    "client_email": STS_EMAIL,
    "account_tags": ["env:prod", "team:payments"],
    "automute": True,
    "is_security_command_center_enabled": True,
    "region_filter_configs": ["us-east1"],
    "metric_namespace_configs": [{"id": "pubsub", "disabled": True, "filters": []}],
    "monitored_resource_configs": [
        {"type": "gce_instance", "filters": ["env:prod"]},
        {"type": "cloud_function", "filters": ["team:payments"]},
    ],
}
KEY = {
    "client_email": KEY_EMAIL,
    "project_id": "legacy-project",
    "type": "service_account",
    "private_key_id": "0123456789abcdef0123456789abcdef01234567",
    "private_key": PRIVATE_KEY,
    "client_id": "123456789012345678901",
    "host_filters": "env:legacy",
    "automute": False,
}
K_STS, K_KEY = f"gcp:{STS_EMAIL}", f"gcp:{KEY_EMAIL}"
HANDOFF = "resources/destination/handoff/gcp-sts-principal.json"


def org(*accounts: dict, **store) -> dict:
    return {"gcp": {"accounts": [json.loads(json.dumps(a)) for a in accounts], **store}}


def secrets_file(workdir: Path, state: dict | None = None) -> str:
    return write_secrets(workdir, make_cloud_secrets(state or org(KEY)))


def writes(emu, name: str = "destination") -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emu.requests(name) if r["method"] != "GET"]


def gcp_requests(emu, name: str) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emu.requests(name) if "/integration/gcp" in r["path"]]


def dest_accounts(emu) -> dict[str, dict]:
    return {a["client_email"]: a for a in emu.dump("destination")["gcp"]["accounts"]}


def test_import_is_two_requests_whatever_the_number_and_lists_each_email_once(workdir):
    with emulated_orgs(source_state=make_gcp_org(30, seed=2, key_account_share=0.2)) as emu:
        result = invoke(emu, "import")
        requests = gcp_requests(emu, "source")
    assert result.exit_code == 0, result.output
    assert sorted(requests) == [("GET", V1), ("GET", ACCOUNTS)]
    state = read_state(workdir, "source", "integrations")
    assert len(state) == 30  # the v1 list shows the 24 STS accounts too: not listed twice
    keys = [obj for obj in state.values() if obj.get("project_id")]
    assert len(keys) == 6 and "PRIVATE KEY" not in json.dumps(state)
    for key, obj in state.items():
        assert key == f"gcp:{obj['client_email']}" and obj["name"] == "gcp" and "id" not in obj and "meta" not in obj


def test_sync_creates_each_account_once_hands_off_the_principal_and_a_resync_writes_nothing(workdir):
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir)}
    with emulated_orgs(source_state=org(STS, KEY)) as emu:
        assert invoke(emu, "import").exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        first = writes(emu)
        dest = dest_accounts(emu)
        principal = emu.dump("destination")["gcp"]["delegate"]
        source_principal = emu.dump("source")["gcp"]["delegate"]
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        second = writes(emu)
        diffs_again = invoke(emu, "diffs", **env)
    assert diffs.exit_code == 0 and "Plan: 2 to create" in diffs.stdout and PRIVATE_KEY not in diffs.output
    assert sync.exit_code == 0, sync.output
    assert sorted(first) == [("POST", V1), ("POST", ACCOUNTS)]
    sts = dest[STS_EMAIL]
    assert sts["automute"] is True and sts["is_security_command_center_enabled"] is True
    assert (
        sts["region_filter_configs"] == ["us-east1"]
        and sts["metric_namespace_configs"] == STS["metric_namespace_configs"]
    )
    assert sts["monitored_resource_configs"] == sorted(STS["monitored_resource_configs"], key=lambda m: m["type"])
    key = dest[KEY_EMAIL]
    assert key["private_key"] == PRIVATE_KEY and key["project_id"] == "legacy-project"
    state = read_state(workdir, "destination", "integrations")
    assert state[K_STS]["id"] == sts["id"] and "id" not in state[K_KEY]
    assert "PRIVATE KEY" not in json.dumps(state) and "PRIVATE KEY" not in sync.output
    handoff = json.loads((workdir / HANDOFF).read_text())
    (entry,) = handoff["service_accounts"]  # key accounts need no grant
    assert handoff["datadog_principal"] == principal != source_principal
    assert entry["new_in_last_sync"] is True and entry["principal"] == principal
    assert entry["gcloud"].startswith(f"gcloud iam service-accounts add-iam-policy-binding {STS_EMAIL} ")
    assert "1 GCP service account(s) were created in the destination org" in sync.stderr
    assert entry["gcloud"] in sync.stderr
    assert again.exit_code == 0 and second == [] and "2 unchanged" in again.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete, 2 unchanged." in diffs_again.stdout


def test_server_defaults_the_prometheus_entry_and_an_older_source_api_are_not_drift(workdir):
    bare = {"client_email": STS_EMAIL, "account_tags": ["a:b"], "host_filters": ["env:prod"]}
    # The source answers like the 2024-03 API (8 attributes); the destination fills today's defaults and injects
    # the prometheus namespace entry; the deprecated host_filters are mirrored into monitored_resource_configs.
    with emulated_orgs(source_state=org(bare, api_date="2024-03-11")) as emu:
        assert invoke(emu, "import").exit_code == 0
        source = read_state(workdir, "source", "integrations")[K_STS]
        assert invoke(emu, "sync").exit_code == 0
        live = dest_accounts(emu)[STS_EMAIL]
        emu.clear_requests()
        again = invoke(emu, "sync")
        second = writes(emu)
    assert "metric_namespace_configs" not in source and "is_global_location_enabled" not in source
    assert live["metric_namespace_configs"] == [{"id": "prometheus", "disabled": True, "filters": []}]
    assert live["monitored_resource_configs"] == [{"type": "gce_instance", "filters": ["env:prod"]}]
    assert again.exit_code == 0 and second == [] and "1 unchanged" in again.stdout


def test_an_emptied_namespace_list_matches_the_injected_entry_and_a_patch_keeps_it(workdir):
    with emulated_orgs(source_state=org({**STS, "metric_namespace_configs": []})) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        assert dest_accounts(emu)[STS_EMAIL]["metric_namespace_configs"][0]["id"] == "prometheus"
        emu.clear_requests()
        assert invoke(emu, "sync").exit_code == 0 and writes(emu) == []
        edit_source(workdir, K_STS, automute=False)
        diffs = invoke(emu, "diffs")
        sync = invoke(emu, "sync")
        (patch,) = [r for r in emu.requests("destination") if r["method"] == "PATCH"]
        live = dest_accounts(emu)[STS_EMAIL]
        backups = list((workdir / "resources/destination/.backup").glob("*-sync/integrations.json"))
    assert "~ automute: true -> false" in diffs.stdout and "prometheus" not in diffs.stdout
    assert sync.exit_code == 0 and "1 updated" in sync.stdout
    attributes = patch["body"]["data"]["attributes"]
    assert patch["path"] == f"{ACCOUNTS}/{live['id']}" and patch["body"]["data"]["id"] == live["id"]
    assert attributes["automute"] is False and attributes["account_tags"] == sorted(STS["account_tags"])
    assert "host_filters" not in attributes  # mirrors of monitored_resource_configs: never sent with it
    assert live["automute"] is False and live["metric_namespace_configs"][0]["id"] == "prometheus"
    assert backups, "the account was backed up before its update"


def test_drift_made_by_hand_shows_and_is_undone_with_one_patch(workdir):
    with emulated_orgs(source_state=org(STS)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        dest = emu.dump("destination")
        dest["gcp"]["accounts"][0]["account_tags"] = ["env:prod"]
        dest["gcp"]["accounts"][0]["monitored_resource_configs"] = []
        emu.seed("destination", dest)
        diffs = invoke(emu, "diffs")
        emu.clear_requests()
        sync = invoke(emu, "sync")
        done = writes(emu)
        live = dest_accounts(emu)[STS_EMAIL]
    assert '+ account_tags: "team:payments"' in diffs.stdout and "monitored_resource_configs" in diffs.stdout
    assert sync.exit_code == 0 and [m for m, _ in done] == ["PATCH"]
    assert live["account_tags"] == sorted(STS["account_tags"]) and len(live["monitored_resource_configs"]) == 2


@pytest.mark.parametrize("per_file", [False, True])
def test_cleanup_and_reset_delete_each_account_once_in_its_api(workdir, per_file):
    flags = ["--resource-per-file"] if per_file else []
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir)}
    other = {"client_email": "other@search-prod.iam.gserviceaccount.com"}
    with emulated_orgs(source_state=org(STS, KEY, other)) as emu:
        assert invoke(emu, "migrate", *flags, **env).exit_code == 0
        if per_file:
            assert (workdir / f"resources/destination/integrations.gcp.{STS_EMAIL}.json").exists()
        emu.seed("source", org(other))
        assert invoke(emu, "import", *flags, **env).exit_code == 0
        emu.clear_requests()
        cleanup = invoke(emu, "sync", "--cleanup=force", *flags, **env)
        deleted = writes(emu)
        left = dest_accounts(emu)
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes", *flags, **env)
        reset_writes = writes(emu)
        empty = emu.dump("destination").get("gcp", {}).get("accounts", [])
    assert cleanup.exit_code == 0 and "2 deleted" in cleanup.stdout
    assert sorted(m for m, _ in deleted) == ["DELETE", "DELETE"]
    assert {p for _, p in deleted} == {V1, f"{ACCOUNTS}/{dest_id(emu, STS_EMAIL, deleted)}"} or len(deleted) == 2
    assert list(left) == [other["client_email"]]
    assert reset.exit_code == 0 and "Reset: 1 deleted" in reset.stdout
    assert reset_writes == [("DELETE", f"{ACCOUNTS}/{left[other['client_email']]['id']}")] and empty == []
    assert json.loads((workdir / HANDOFF).read_text())["service_accounts"] == []


def dest_id(emu, email: str, deleted: list) -> str:
    return next(p.rsplit("/", 1)[1] for _, p in deleted if p.startswith(ACCOUNTS))


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [
        ("name", "gcp", {K_STS, K_KEY}),
        ("project_id", "legacy-project", {K_KEY}),
        ("client_email", STS_EMAIL, {K_STS}),
        ("monitored_resource_configs.type", "cloud_function", {K_STS}),
    ],
)
def test_filters(workdir, name, value, kept):
    with emulated_orgs(source_state=org(STS, KEY)) as emu:
        result = invoke(emu, "import", f"--filter=Type=integrations;Name={name};Value={value}")
    assert result.exit_code == 0, result.output
    assert set(read_state(workdir, "source", "integrations")) == kept


def test_a_key_account_without_its_json_key_is_skipped_saying_how_and_updated_without_it(workdir):
    with emulated_orgs(source_state=org(KEY)) as emu:
        assert invoke(emu, "import").exit_code == 0
        skipped = invoke(emu, "sync")
        assert writes(emu) == []
        assert invoke(emu, "sync", DD_INTEGRATIONS_SECRETS_FILE=secrets_file(workdir)).exit_code == 0
        mrc = [{"type": "gce_instance", "filters": ["env:legacy", "team:x"]}]
        edit_source(workdir, K_KEY, automute=True, monitored_resource_configs=mrc)
        emu.clear_requests()
        updated = invoke(emu, "sync")
        (put,) = [r for r in emu.requests("destination") if r["method"] != "GET"]
        live = dest_accounts(emu)[KEY_EMAIL]
        edit_source(workdir, K_KEY, project_id="moved-project")
        moved = invoke(emu, "diffs")
    message = f"no JSON key for GCP service account {KEY_EMAIL}: the v1 API never returns it. Add"
    assert skipped.exit_code == 1 and message in skipped.output and "1 skipped" in skipped.stdout
    assert "move the account to keyless STS" in skipped.output
    assert updated.exit_code == 0 and "1 updated" in updated.stdout
    assert put["method"] == "PUT" and put["path"] == V1 and "private_key" not in put["body"]
    assert put["body"]["monitored_resource_configs"] == mrc == live["monitored_resource_configs"]
    assert live["automute"] is True and live["private_key"] == PRIVATE_KEY  # the key is kept
    assert f"! integrations {K_KEY}: skip  (no JSON key for GCP service account" in moved.stdout


def test_moving_an_account_between_a_v1_key_and_sts_is_a_backed_up_replace(workdir):
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir)}
    sts_twin = {"client_email": KEY_EMAIL, "automute": True}
    with emulated_orgs(source_state=org(sts_twin), destination_state=org(KEY)) as emu:
        assert invoke(emu, "import").exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        done = writes(emu)
        live = dest_accounts(emu)[KEY_EMAIL]
        backups = list((workdir / "resources/destination/.backup").glob("*-sync/integrations.json"))
    assert "the API cannot switch a service account between STS and a v1 key" in diffs.stdout
    assert '- project_id: "legacy-project"' in diffs.stdout
    assert sync.exit_code == 0, sync.output
    assert done == [("DELETE", V1), ("POST", ACCOUNTS)]
    assert "private_key" not in live and live["automute"] is True
    assert backups and "legacy-project" in backups[0].read_text() and "PRIVATE" not in backups[0].read_text()


def test_lost_state_and_hand_made_accounts_are_adopted_never_created_twice(workdir):
    made_by_hand = {**STS, "automute": False}
    with emulated_orgs(source_state=org(STS), destination_state=org(made_by_hand)) as emu:
        assert invoke(emu, "import").exit_code == 0
        emu.clear_requests()
        sync = invoke(emu, "sync")
        done = writes(emu)
        (workdir / "resources/destination/integrations.json").unlink()
        emu.clear_requests()
        again = invoke(emu, "sync")
        assert writes(emu) == []
        (live,) = emu.dump("destination")["gcp"]["accounts"]
    assert sync.exit_code == 0 and [m for m, _ in done] == ["PATCH"] and "1 updated" in sync.stdout
    assert again.exit_code == 0 and "1 unchanged" in again.stdout
    assert read_state(workdir, "destination", "integrations")[K_STS]["id"] == live["id"]


def test_a_create_whose_answer_was_lost_adopts_the_account_it_made(workdir):
    with emulated_orgs(source_state=org(STS)) as emu:
        assert invoke(emu, "import").exit_code == 0
        emu.set_knobs(script=[{"fault": "lost", "method": "POST", "path": ACCOUNTS, "org": "destination"}])
        sync = invoke(emu, "sync")
        done = [(r["method"], r["status"]) for r in emu.requests("destination") if r["method"] != "GET"]
        (live,) = emu.dump("destination")["gcp"]["accounts"]
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", 504), ("POST", 409)] and "adopted, not created twice" in sync.stderr
    assert read_state(workdir, "destination", "integrations")[K_STS]["id"] == live["id"]


def test_a_lost_v1_create_is_adopted_too(workdir):
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir)}
    with emulated_orgs(source_state=org(KEY)) as emu:
        assert invoke(emu, "import").exit_code == 0
        emu.set_knobs(script=[{"fault": "lost", "method": "POST", "path": V1, "org": "destination"}])
        sync = invoke(emu, "sync", **env)
        done = [(r["method"], r["status"]) for r in emu.requests("destination") if r["method"] != "GET"]
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", 504), ("POST", 409)]
    assert read_state(workdir, "destination", "integrations")[K_KEY]["project_id"] == "legacy-project"


def test_key_account_writes_are_read_back_with_one_listing_after_all_of_them(workdir):
    """v1 writes answer ``{}``: one v1 listing after the run's writes, not one per key account written (that read the
    whole list back per write); state keeps what the destination lists, and a lost read-back converges."""
    state = make_gcp_org(4, seed=7, key_account_share=0.75)
    state["gcp"]["api_date"] = "2025-06-01"  # the source's v1 list predates is_resource_change_collection_enabled
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir, state)}
    keys = [f"gcp:{a['client_email']}" for a in state["gcp"]["accounts"] if a.get("private_key")]
    with emulated_orgs(source_state=state) as emu:
        assert invoke(emu, "import").exit_code == 0
        emu.clear_requests()
        created = invoke(emu, "sync", **env)
        create_requests = gcp_requests(emu, "destination")
        after_create = read_state(workdir, "destination", "integrations")
        for key in keys:
            edit_source(workdir, key, automute=not after_create[key]["automute"])
        emu.clear_requests()
        # The plan's listing is answered; the read-back after the writes gets 503s, and no time to retry them.
        lost = [{"fault": "fault", "method": "GET", "path": V1, "org": "destination", "skip": 1, "times": 50}]
        emu.set_knobs(script=lost)
        updated = invoke(emu, "sync", DD_HTTP_CLIENT_RETRY_TIMEOUT="0", **env)
        emu.set_knobs(script=[])
        update_requests = gcp_requests(emu, "destination")
        after_update = read_state(workdir, "destination", "integrations")
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        written_again = writes(emu)
        live = dest_accounts(emu)
    assert len(keys) == 3
    assert created.exit_code == 0, created.output
    assert create_requests.count(("POST", V1)) == 3 and create_requests.count(("GET", V1)) == 2  # plan, read-back
    for key in keys:  # what the v1 list shows (a server default the create did not send), never the JSON key
        assert after_create[key]["is_resource_change_collection_enabled"] is False
    assert "PRIVATE KEY" not in json.dumps(after_create)
    assert updated.exit_code == 0 and "3 updated" in updated.stdout
    assert update_requests.count(("PUT", V1)) == 3 and update_requests.count(("GET", V1)) == 2
    assert "reading back the destination after the writes failed; state keeps what was written" in updated.stderr
    for key in keys:  # what was sent: the update's value, and no server default
        assert after_update[key]["automute"] is not after_create[key]["automute"]
        assert "is_resource_change_collection_enabled" not in after_update[key]
    assert again.exit_code == 0 and written_again == [] and "4 unchanged" in again.stdout
    assert len(live) == 4


def test_a_destination_without_a_principal_gets_one_before_the_first_create(workdir):
    other = {"client_email": "other@search-prod.iam.gserviceaccount.com"}
    with emulated_orgs(source_state=org(STS, other), destination_state=org(delegate=None)) as emu:
        assert invoke(emu, "import").exit_code == 0
        sync = invoke(emu, "sync")
        done = writes(emu)
        principal = emu.dump("destination")["gcp"]["delegate"]
    assert sync.exit_code == 0, sync.output
    assert done.count(("POST", DELEGATE)) == 1 and done.count(("POST", ACCOUNTS)) == 2
    assert principal and json.loads((workdir / HANDOFF).read_text())["datadog_principal"] == principal


def test_the_empty_org_and_a_bad_request_naming_the_account(workdir):
    bad = {"client_email": STS_EMAIL, "resource_collection_enabled": False}
    with emulated_orgs() as emu:
        empty = invoke(emu, "import")
        assert read_state(workdir, "source", "integrations") == {}
        emu.seed("source", org(bad))
        assert invoke(emu, "import").exit_code == 0
        edit_source(workdir, K_STS, is_cspm_enabled=True)
        sync = invoke(emu, "sync", "--json")
    assert empty.exit_code == 0 and "Imported: 0 resources" in empty.stdout
    assert sync.exit_code == 1
    events = [json.loads(line) for line in sync.stdout.splitlines() if line.startswith("{")]
    (failure,) = [e for e in events if e.get("type") == "outcome" and e.get("status") == "failure"]
    assert failure["reason"].startswith(f"GCP service account {STS_EMAIL}: 400 Bad Request on POST {ACCOUNTS}")
    assert "Resource Collection must be enabled for CSM to be enabled" in failure["reason"]
    assert not (workdir / HANDOFF).exists()


def test_the_permission_pre_flight_names_the_gcp_permissions_and_a_key_without_gcp_read_leaves_gcp_out(workdir):
    read_only = org_spec(DESTINATION, permissions=["gcp_configuration_read", "user_app_keys", "user_access_read"])
    no_gcp = org_spec(SOURCE, permissions=["aws_configuration_read", "user_app_keys", "user_access_read"])
    with emulated_orgs(source_state=org(STS), orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        sync = invoke(emu, "sync", destination=read_only)
        assert writes(emu) == []
    # The same org through a key that may read AWS only: GCP (and Azure) are left out, their state kept.
    with emulated_orgs(source_state=org(STS), orgs=[no_gcp, DESTINATION]) as emu:
        env = {"DD_SOURCE_API_KEY": no_gcp.api_key, "DD_SOURCE_APP_KEY": no_gcp.app_key}
        left_out = invoke(emu, "import", **env)
    assert sync.exit_code == 1
    assert f"1 service account(s) need `gcp_configurations_manage`: {K_STS}" in sync.stderr
    assert left_out.exit_code == 0 and "gcp left out, the key may not read it" in left_out.stderr
    assert "gcp_configuration_read" in left_out.stderr and "keeping its previous state" in left_out.stderr
    assert K_STS in read_state(workdir, "source", "integrations")  # a later cleanup cannot delete it


def test_an_unknown_attribute_is_carried_and_a_hand_edited_entry_is_refused_alone(workdir):
    with emulated_orgs(source_state=org(STS, {"client_email": "b@x.iam.gserviceaccount.com"})) as emu:
        assert invoke(emu, "import").exit_code == 0
        edit_source(workdir, K_STS, brand_new_setting=True)
        edit_source(workdir, "gcp:b@x.iam.gserviceaccount.com", automute="yes")
        diffs = invoke(emu, "diffs")
        sync = invoke(emu, "sync")
        posts = [r for r in emu.requests("destination") if r["method"] == "POST"]
    assert diffs.exit_code == 1 and "automute: expected true or false, got a string" in diffs.stdout
    assert sync.exit_code == 1 and "1 created" in sync.stdout
    (post,) = posts
    assert post["body"]["data"]["attributes"]["brand_new_setting"] is True


def test_a_generated_org_migrates_whole_with_the_generated_secrets_and_converges(workdir):
    """The emulator's seed generators (make_gcp_org, make_cloud_secrets) drive a full migration: what benchmarks and
    the demo build on."""
    state = make_gcp_org(12, seed=5, key_account_share=0.25)
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir, state)}
    with emulated_orgs(source_state=state) as emu:
        migrate = invoke(emu, "migrate", **env)
        first = writes(emu)
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        second = writes(emu)
        source = {a["client_email"]: a for a in emu.dump("source")["gcp"]["accounts"]}
        dest = dest_accounts(emu)
    assert migrate.exit_code == 0, migrate.output
    assert len(first) == 12 and sorted({p for _, p in first}) == [V1, ACCOUNTS]
    assert again.exit_code == 0 and second == [] and "12 unchanged" in again.stdout
    assert set(dest) == set(source)
    for email, account in source.items():
        fields = ["automute", "is_cspm_enabled", "monitored_resource_configs", "private_key", "project_id"]
        if not account.get("private_key"):  # the v1 API neither lists nor takes these: a key account has none
            fields += ["account_tags", "region_filter_configs", "metric_namespace_configs"]
        have, want = normalize(dest[email]), normalize(account)
        for field in fields:
            assert have.get(field) == want.get(field), (email, field)


def test_reset_with_a_key_that_may_not_read_gcp_resets_the_rest_and_says_what_it_left_out(workdir):
    aws_only = org_spec(
        DESTINATION,
        permissions=["aws_configuration_read", "aws_configurations_manage", "user_app_keys", "user_access_read"],
    )
    aws_account = {"account_id": "123456789012", "role_name": "R"}
    state = {**org(STS), "aws": {"installed": True, "accounts": [aws_account]}}
    with emulated_orgs(destination_state=state, orgs=[SOURCE, aws_only]) as emu:
        reset = invoke(emu, "reset", "--yes", destination=aws_only)
        left = emu.dump("destination")
    assert reset.exit_code == 0, reset.output
    assert "gcp left out, the key may not read it" in reset.stderr and "not resetting it" in reset.stderr
    assert left["aws"]["accounts"] == [] and len(left["gcp"]["accounts"]) == 1, "aws reset, gcp untouched"

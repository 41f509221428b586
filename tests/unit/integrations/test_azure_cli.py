"""The ``azure`` subtype end to end: the CLI against the emulator, every command, counted requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.cloud_seed import make_azure_org, make_cloud_secrets
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.e2e.test_cli_answers import portal
from tests.e2e.test_cli_answers import run as run_against
from tests.support import edit_source, read_state, secrets_file_env
from tests.support import invoke_emulated as invoke

BASE = "/api/v1/integration/azure"
TENANT = "4d3bac44-0230-4732-9e70-cc00736f0a97"
SECRET = "azureTestSecret.0000~0001_abc-def"
A = {
    "tenant_name": TENANT,
    "client_id": "aaaaaaaa-0000-4000-8000-000000000001",
    "client_secret": SECRET,
    "host_filters": "env:prod,team:a",
    "app_service_plan_filters": "tier:premium",
    "automute": True,
    "cspm_enabled": True,
    "custom_metrics_enabled": True,
    "metrics_enabled_default": False,
    "resource_provider_configs": [{"namespace": "Microsoft.Compute", "metrics_enabled": False}],
    "errors": ["Invalid credentials. Datadog could not authenticate with Azure."],
}
B = {"tenant_name": TENANT, "client_id": "bbbbbbbb-0000-4000-8000-000000000002", "client_secret": "otherSecret.0002"}
KEY_A, KEY_B = f"azure:{TENANT}:{A['client_id']}", f"azure:{TENANT}:{B['client_id']}"


def org(*accounts: dict, api_date: str | None = None) -> dict:
    return {"azure": {"api_date": api_date, "accounts": [json.loads(json.dumps(a)) for a in accounts]}}


def secrets_file(workdir: Path, *accounts: dict) -> dict[str, str]:
    return secrets_file_env(workdir, make_cloud_secrets(org(*accounts)))


def azure_requests(emu, org: str = "destination") -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emu.requests(org) if r["path"].startswith(BASE)]


def writes(emu, org: str = "destination") -> list[dict]:
    return [r for r in emu.requests(org) if r["method"] != "GET" and r["path"].startswith(BASE)]


def live(emu, org: str = "destination") -> dict[str, dict]:
    accounts = (emu.dump(org).get("azure") or {}).get("accounts", [])
    return {a["client_id"]: a for a in accounts}


def test_import_lists_every_registration_in_one_request_and_an_empty_org_imports_none(workdir):
    with emulated_orgs(source_state=make_azure_org(12, seed=3)) as emu:
        result = invoke(emu, "import")
        requests = azure_requests(emu, "source")
        emu.seed("source", {})
        empty = invoke(emu, "import")
        (answer,) = [r for r in emu.requests("source") if r["path"] == BASE][1:]
    assert result.exit_code == 0 and requests == [("GET", BASE)]
    assert empty.exit_code == 0 and "Imported: 0 resources, 0 failed" in empty.stdout
    assert answer["status"] == 400  # "Azure Integration not yet installed": an empty org, not a failure
    assert read_state(workdir, "source", "integrations") == {}


def test_sync_creates_reads_back_once_and_a_resync_writes_nothing(workdir):
    env = secrets_file(workdir, A, B)
    with emulated_orgs(source_state=org(A, B)) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        source = read_state(workdir, "source", "integrations")
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        first = azure_requests(emu)
        posts = writes(emu)
        dest = live(emu)
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        second = writes(emu)
        diffs_again = invoke(emu, "diffs", **env)
    assert set(source) == {KEY_A, KEY_B} and source[KEY_A]["host_filters"] == "env:prod,team:a"
    assert not {"errors", "warnings", "client_secret"} & set(source[KEY_A])
    assert diffs.exit_code == 0 and "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged." in diffs.stdout
    assert sync.exit_code == 0, sync.output
    # One POST per registration, then ONE listing reads back what the destination holds.
    assert first == [("GET", BASE), ("POST", BASE), ("POST", BASE), ("GET", BASE)]
    assert sorted(p["body"]["client_id"] for p in posts if p["body"].get("client_secret")) == [
        A["client_id"],
        B["client_id"],
    ]
    assert dest[A["client_id"]]["client_secret"] == SECRET and dest[A["client_id"]]["errors"] == []
    assert dest[B["client_id"]]["client_secret"] == B["client_secret"]
    state = read_state(workdir, "destination", "integrations")
    assert state == source  # what the destination lists, per-org status aside
    assert SECRET not in json.dumps(state) and SECRET not in sync.output + diffs.output
    assert again.exit_code == 0 and second == [] and "2 unchanged" in again.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete, 2 unchanged." in diffs_again.stdout


def test_an_update_is_one_put_of_the_owned_fields_backed_up_and_keeps_the_secret_without_the_file(workdir):
    with emulated_orgs(source_state=org(A)) as emu:
        assert invoke(emu, "migrate", **secrets_file(workdir, A)).exit_code == 0
        edit_source(
            workdir,
            KEY_A,
            host_filters="team:a,env:prod,env:dev",
            resource_provider_configs=[{"namespace": "Microsoft.Compute", "metrics_enabled": True}],
        )
        diffs = invoke(emu, "diffs")  # no secrets file: an update does not need it
        emu.clear_requests()
        sync = invoke(emu, "sync")
        (put,) = writes(emu)
        account = live(emu)[A["client_id"]]
        backups = list((workdir / "resources/destination/.backup").glob("*-sync/integrations.json"))
        state = read_state(workdir, "destination", "integrations")[KEY_A]
    assert '~ host_filters: "env:prod,team:a" -> "env:dev,env:prod,team:a"' in diffs.stdout
    assert "Plan: 0 to create, 1 to update" in diffs.stdout
    assert sync.exit_code == 0 and "1 updated" in sync.stdout
    assert put["method"] == "PUT" and "client_secret" not in put["body"]
    assert not {"new_tenant_name", "new_client_id", "errors", "name"} & set(put["body"])
    assert put["body"]["automute"] is True and put["body"]["tenant_name"] == TENANT
    assert account["client_secret"] == SECRET and account["host_filters"] == "team:a,env:prod,env:dev"
    assert state["resource_provider_configs"] == [{"namespace": "Microsoft.Compute", "metrics_enabled": True}]
    assert backups and json.loads(backups[0].read_text())[KEY_A]["host_filters"] == "env:prod,team:a"
    assert SECRET not in backups[0].read_text()


def test_drift_by_hand_shows_but_status_order_and_fields_of_a_newer_api_do_not(workdir):
    # The destination's API predates secretless_auth_enabled (absent from its 2025 listings).
    with emulated_orgs(source_state=org(A), destination_state=org(A, api_date="2025-03-20")) as emu:
        assert invoke(emu, "import").exit_code == 0
        quiet = invoke(emu, "diffs")
        dest = emu.dump("destination")
        account = dest["azure"]["accounts"][0]
        account.update(host_filters="team:a,env:prod", warnings=["w"], errors=[], automute=False)
        emu.seed("destination", dest)
        drift = invoke(emu, "diffs")
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 unchanged." in quiet.stdout, quiet.stdout
    assert "Plan: 0 to create, 1 to update" in drift.stdout
    assert "~ automute: false -> true" in drift.stdout
    for quiet_field in ("host_filters", "warnings", "errors", "secretless"):
        assert quiet_field not in drift.stdout


@pytest.mark.parametrize("per_file", [False, True])
def test_cleanup_and_reset_delete_each_registration_once_by_its_pair(workdir, per_file):
    flags = ["--resource-per-file"] if per_file else []
    env = secrets_file(workdir, A, B)
    with emulated_orgs(source_state=org(A, B)) as emu:
        assert invoke(emu, "migrate", *flags, **env).exit_code == 0
        if per_file:
            assert (workdir / f"resources/destination/integrations.azure.{TENANT}.{A['client_id']}.json").exists()
        emu.seed("source", org(A))
        assert invoke(emu, "import", *flags, **env).exit_code == 0
        emu.clear_requests()
        cleanup = invoke(emu, "sync", "--cleanup=force", *flags, **env)
        (deleted,) = writes(emu)
        left = live(emu)
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes", *flags, **env)
        reset_writes = writes(emu)
        empty = live(emu)
    assert cleanup.exit_code == 0 and "1 deleted" in cleanup.stdout
    assert deleted["method"] == "DELETE" and deleted["body"] == {"tenant_name": TENANT, "client_id": B["client_id"]}
    assert set(left) == {A["client_id"]}
    assert reset.exit_code == 0 and "Reset: 1 deleted" in reset.stdout
    assert [(w["method"], w["body"]["client_id"]) for w in reset_writes] == [("DELETE", A["client_id"])]
    assert empty == {}
    assert read_state(workdir, "destination", "integrations") == {}
    assert list((workdir / "resources/destination/.backup").glob("*-reset/integrations*.json"))


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [
        ("name", "azure", {KEY_A, KEY_B}),
        ("client_id", B["client_id"], {KEY_B}),
        ("tenant_name", TENANT, {KEY_A, KEY_B}),
        ("resource_provider_configs.namespace", "Microsoft.Compute", {KEY_A}),
    ],
)
def test_filters_select_the_subtype_and_registrations(workdir, name, value, kept):
    with emulated_orgs(source_state={**org(A, B), **make_aws_org(2, seed=1)}) as emu:
        result = invoke(emu, "import", f"--filter=Type=integrations;Name={name};Value={value}")
    assert result.exit_code == 0, result.output
    assert set(read_state(workdir, "source", "integrations")) == kept


def test_a_registration_without_its_secret_is_skipped_with_how_to_give_it_and_the_others_go_on(workdir):
    env = secrets_file(workdir, B)
    with emulated_orgs(source_state=org(A, B)) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        sync = invoke(emu, "sync", **env)
        created = live(emu)
    message = (
        f"no client secret for Azure app registration {A['client_id']} of tenant {TENANT}: the API never returns it. "
        f'Add {{"azure": {{"{TENANT}:{A["client_id"]}": "<client secret>"}}}} to the file given with '
        "--integrations-secrets-file"
    )
    assert f"! integrations {KEY_A}: skip  ({message}" in diffs.stdout
    assert sync.exit_code == 1 and message in sync.stderr and "1 created" in sync.stdout and "1 skipped" in sync.stdout
    assert set(created) == {B["client_id"]}


def test_a_secretless_registration_needs_no_secret_and_sends_the_placeholder_the_api_requires(workdir):
    secretless = {**B, "client_secret": "SECRETLESS_AUTH", "secretless_auth_enabled": True}
    env = secrets_file(workdir)  # no secret at all
    with emulated_orgs(source_state=org(A, secretless)) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        template = invoke(emu, "secrets-template", **env)
        sync = invoke(emu, "sync", **env)
        (post,) = writes(emu)
        created = live(emu)
    assert sync.exit_code == 1 and "1 created" in sync.stdout and "1 skipped" in sync.stdout  # A has no secret
    assert post["body"]["client_id"] == B["client_id"] and post["body"]["secretless_auth_enabled"] is True
    assert created[B["client_id"]]["client_secret"] == "SECRETLESS_AUTH" and A["client_id"] not in created
    assert KEY_A.partition(":")[2] in template.stdout and B["client_id"] not in template.stdout


def test_lost_state_and_a_registration_made_by_hand_are_adopted_never_created_twice(workdir):
    by_hand = {**A, "automute": False}
    with emulated_orgs(source_state=org(A, B), destination_state=org(by_hand)) as emu:
        assert invoke(emu, "import").exit_code == 0
        diffs = invoke(emu, "diffs", **secrets_file(workdir, B))
        emu.clear_requests()
        sync = invoke(emu, "sync", **secrets_file(workdir, A, B))
        done = [(w["method"], w["body"]["client_id"]) for w in writes(emu)]
        put = next(w for w in writes(emu) if w["method"] == "PUT")
        (workdir / "resources/destination/integrations.json").unlink()
        emu.clear_requests()
        again = invoke(emu, "sync")
        nothing = writes(emu)
        accounts = live(emu)
    assert f"~ integrations {KEY_A}: update  (adopting the destination's existing object)" in diffs.stdout
    assert sync.exit_code == 0 and sorted(done) == [("POST", B["client_id"]), ("PUT", A["client_id"])]
    assert put["body"]["client_secret"]  # the file has it: an update sends it too (masked in the emulator's log)
    assert again.exit_code == 0 and nothing == [] and "2 unchanged" in again.stdout
    assert len(accounts) == 2 and accounts[A["client_id"]]["automute"] is True
    assert set(read_state(workdir, "destination", "integrations")) == {KEY_A, KEY_B}


def test_a_changed_pair_is_a_create_and_with_cleanup_a_backed_up_delete_of_the_old_pair(workdir):
    renamed = {**A, "client_id": "cccccccc-0000-4000-8000-000000000003"}
    key_c = f"azure:{TENANT}:{renamed['client_id']}"
    env = secrets_file(workdir, A, renamed)
    with emulated_orgs(source_state=org(A)) as emu:
        assert invoke(emu, "migrate", **env).exit_code == 0
        emu.seed("source", org(renamed))
        assert invoke(emu, "import", **env).exit_code == 0
        diffs = invoke(emu, "diffs", "--cleanup=force", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", "--cleanup=force", **env)
        done = [(w["method"], w["body"]["client_id"]) for w in writes(emu)]
        accounts = live(emu)
        backups = list((workdir / "resources/destination/.backup").glob("*-sync/integrations.json"))
    assert f"+ integrations {key_c}: create" in diffs.stdout and f"- integrations {KEY_A}: delete" in diffs.stdout
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", renamed["client_id"]), ("DELETE", A["client_id"])]  # created first, then deleted
    assert set(accounts) == {renamed["client_id"]} and "new_client_id" not in json.dumps(done)
    assert backups and A["client_id"] in backups[0].read_text()
    assert set(read_state(workdir, "destination", "integrations")) == {key_c}


def test_a_lost_create_answer_is_retried_without_a_duplicate(workdir):
    env = secrets_file(workdir, A)
    with emulated_orgs(source_state=org(A)) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        emu.set_knobs(script=[{"fault": "lost", "method": "POST", "path": BASE, "org": "destination"}])
        sync = invoke(emu, "sync", **env)
        done = [(r["method"], r["status"]) for r in emu.requests("destination") if r["method"] != "GET"]
        accounts = live(emu)
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", 504), ("POST", 200)] and len(accounts) == 1


def test_a_refused_write_names_the_registration_and_never_the_secret(workdir):
    bad = "bad secret with spaces"
    path = workdir / "secrets.json"
    path.write_text(json.dumps({"azure": {f"{TENANT}:{A['client_id']}": bad}}))
    path.chmod(0o600)
    with emulated_orgs(source_state=org(A)) as emu:
        assert invoke(emu, "import").exit_code == 0
        sync = invoke(emu, "sync", "--json", DD_INTEGRATIONS_SECRETS_FILE=str(path))
    assert sync.exit_code == 1
    events = [json.loads(line) for line in sync.stdout.splitlines() if line.startswith("{")]
    (failure,) = [e for e in events if e.get("type") == "outcome" and e.get("status") == "failure"]
    assert failure["reason"].startswith(
        f"Azure app registration {A['client_id']} of tenant {TENANT}: 400 Bad Request on POST {BASE} (destination)"
    )
    assert bad not in sync.output


def test_the_permission_pre_flight_names_the_azure_permissions(workdir):
    read_only = org_spec(DESTINATION, permissions=["azure_configuration_read", "user_app_keys", "user_access_read"])
    with emulated_orgs(source_state=org(A), orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        sync = invoke(emu, "sync", destination=read_only, **secrets_file(workdir, A))
        assert writes(emu) == []
    assert sync.exit_code == 1
    assert f"1 app registration(s) need `azure_configurations_manage`: {KEY_A}" in sync.stderr


def test_concurrent_writes_when_asked_explicitly(workdir):
    state = make_azure_org(6, seed=4)
    with emulated_orgs(source_state=state) as emu:
        path = workdir / "secrets.json"
        path.write_text(json.dumps(make_cloud_secrets(state)))
        path.chmod(0o600)
        assert invoke(emu, "import").exit_code == 0
        sync = invoke(emu, "sync", "--max-workers-per-type=integrations=4", DD_INTEGRATIONS_SECRETS_FILE=str(path))
        again = invoke(emu, "diffs", DD_INTEGRATIONS_SECRETS_FILE=str(path))
    assert sync.exit_code == 0 and "6 created" in sync.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete, 6 unchanged." in again.stdout


def test_a_listing_of_another_shape_fails_that_subtype_only_and_keeps_its_state(workdir):
    previous = {
        "azure:t:c": {"name": "azure", "tenant_name": "t", "client_id": "c"},
        "aws:123456789012": {"name": "aws", "account_id": "123456789012", "role_name": "R"},
    }
    state = workdir / "resources" / "source"
    state.mkdir(parents=True)
    (state / "integrations.json").write_text(json.dumps(previous))
    answers = {
        "/api/v1/validate": {"valid": True},
        "/api/v1/integration/aws": {"accounts": []},
        "/api/v1/integration/aws/logs": [],
        "/api/v2/integration/aws/accounts": {"data": []},
        "/api/v2/integration/gcp/accounts": {"data": []},
        "/api/v1/integration/gcp": [],
        BASE: {"valid": True},
    }
    with portal(answers) as url:
        result = run_against(url, "--verify-ddr-status=false")
    assert result.exit_code == 1
    assert f"GET {BASE} (source) answered a JSON object with keys ['valid'], not a list" in result.stderr
    assert "cannot list azure" in result.stderr and "keeping its previous state" in result.stderr
    # azure could not be listed: its entry stays (a later cleanup must not delete it); aws was listed: it is empty
    assert read_state(workdir, "source", "integrations") == {"azure:t:c": previous["azure:t:c"]}


def test_a_failed_read_back_keeps_what_was_written_and_the_next_plan_reads_the_destination(workdir):
    env = secrets_file(workdir, A)
    with emulated_orgs(source_state=org(A)) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        # The plan's listing is answered; the read-back after the write gets 503s, and no time to retry them.
        read_only = [{"fault": "fault", "method": "GET", "path": BASE, "org": "destination", "skip": 1, "times": 50}]
        emu.set_knobs(script=read_only)
        sync = invoke(emu, "sync", DD_HTTP_CLIENT_RETRY_TIMEOUT="0", **env)
        emu.set_knobs(script=[])
        state = read_state(workdir, "destination", "integrations")
        diffs = invoke(emu, "diffs", **env)
    assert sync.exit_code == 0 and "1 created" in sync.stdout
    assert "reading back the destination after the writes failed; state keeps what was written" in sync.stderr
    assert set(state) == {KEY_A} and state[KEY_A]["host_filters"] == A["host_filters"]
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 unchanged." in diffs.stdout

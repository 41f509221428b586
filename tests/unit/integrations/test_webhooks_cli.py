"""The ``webhooks`` subtype end to end: the CLI against the emulator, every command, counted requests."""

from __future__ import annotations

import json
from pathlib import Path

from datadog_sync.emulator.service_seed import make_service_org, make_service_secrets
from datadog_sync.emulator.testing import emulated_orgs
from tests.support import invoke_emulated as invoke
from tests.support import read_state, secrets_file_env

BASE = "/api/v1/integration/webhooks/configuration"
HOOKS, VARS = f"{BASE}/webhooks", f"{BASE}/custom-variables"
DEFAULT_PAYLOAD = (
    '{"body": "$EVENT_MSG", "last_updated": "$LAST_UPDATED", "event_type": "$EVENT_TYPE", "title": "$EVENT_TITLE", '
    '"date": "$DATE", "org": {"id": "$ORG_ID", "name": "$ORG_NAME"}, "id": "$ID"}'
)
TOKEN = "s3cr3t-deploy-token-value-0001"
DEPLOY = {
    "name": "deploy-bot",
    "url": "https://hooks.example.com/deploy?token=$DEPLOY_TOKEN",
    "payload": '{"text": "$EVENT_TITLE", "env": "$DEPLOY_ENV"}',
    "custom_headers": '{"X-Team": "platform"}',
    "encode_as": "json",
}
PLAIN = {"name": "plain-hook", "url": "https://hooks.example.com/plain", "payload": None}
LISTED = {"name": "only-listed", "url": "https://hooks.example.com/listed", "encode_as": "form"}
VARIABLES = [
    {"name": "DEPLOY_TOKEN", "value": TOKEN, "is_secret": True},
    {"name": "DEPLOY_ENV", "value": "production", "is_secret": False},
]
MONITORS = [
    {
        "name": "deploys failing",
        "message": "Deploys fail {{#is_alert}}@webhook-deploy-bot{{/is_alert}} @ops@example.com",
    },
    {"name": "plain", "message": "@webhook-plain-hook and @webhook-ghost-hook", "options": {}},
    {"name": "paging", "message": "@pagerduty-payments", "options": {"escalation_message": "@jira-OPS-board"}},
]
KEY_DEPLOY, KEY_PLAIN = "webhooks:webhook:deploy-bot", "webhooks:webhook:plain-hook"
KEY_TOKEN, KEY_ENV = "webhooks:custom_variable:DEPLOY_TOKEN", "webhooks:custom_variable:DEPLOY_ENV"


def org(*hooks: dict, variables: list[dict] | None = None, monitors: list[dict] | None = None) -> dict:
    services: dict = {"webhooks": [json.loads(json.dumps(h)) for h in hooks]}
    if variables:
        services["custom_variables"] = json.loads(json.dumps(variables))
    state: dict = {"services": services}
    if monitors:
        state["monitors"] = monitors
    return state


def source_org() -> dict:
    return org(DEPLOY, PLAIN, LISTED, variables=VARIABLES, monitors=MONITORS)


def secrets_file(workdir: Path, state: dict) -> dict[str, str]:
    return secrets_file_env(workdir, make_service_secrets(state))


def writes(emu, org: str = "destination") -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emu.requests(org) if r["method"] != "GET" and r["path"].startswith(BASE)]


def live(emu, org: str = "destination") -> tuple[dict[str, dict], dict[str, dict]]:
    services = emu.dump(org).get("services") or {}
    hooks = {h["name"]: h for h in services.get("webhooks", [])}
    return hooks, {v["name"]: v for v in services.get("custom_variables", [])}


def test_import_discovers_webhooks_from_monitors_the_option_and_variables_from_tokens(workdir):
    with emulated_orgs(source_state=source_org()) as emu:
        result = invoke(emu, "import", DD_INTEGRATIONS_WEBHOOKS="only-listed, MISSING_VAR")
        monitor_reads = [r for r in emu.requests("source") if r["path"] == "/api/v1/monitor"]
    state = read_state(workdir, "source", "integrations")
    assert result.exit_code == 0, result.output
    assert set(state) == {KEY_DEPLOY, KEY_PLAIN, "webhooks:webhook:only-listed", KEY_TOKEN, KEY_ENV}
    assert len(monitor_reads) == 1 and monitor_reads[0]["query"]["page"] == "0"
    assert state[KEY_DEPLOY] == {"name": "webhooks", "webhook": DEPLOY}
    assert state[KEY_PLAIN]["webhook"]["payload"] is None  # as seeded: the emulator fills the default on writes
    assert state[KEY_TOKEN] == {"name": "webhooks", "custom_variable": {"name": "DEPLOY_TOKEN", "is_secret": True}}
    assert state[KEY_ENV]["custom_variable"]["value"] == "production"
    assert 'webhook "ghost-hook" is referenced by monitor 2 "plain"' in result.output
    assert "webhook custom variable MISSING_VAR is listed with --integrations-webhooks" in result.output
    assert "auth_method_id" not in json.dumps(state)


def test_sync_creates_with_the_secret_a_resync_writes_nothing_and_writes_are_serialised(workdir):
    source = source_org()
    env = secrets_file(workdir, source)
    with emulated_orgs(source_state=source) as emu:
        assert invoke(emu, "import", DD_INTEGRATIONS_WEBHOOKS="only-listed").exit_code == 0
        emu.reset_counters()
        sync = invoke(emu, "sync", **env)
        first = writes(emu)
        hooks, variables = live(emu)
        overlapping = emu.counters().get("overlapping_writes", 0)
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        second = writes(emu)
        diffs = invoke(emu, "diffs", **env)
    assert sync.exit_code == 0, sync.output
    assert sorted(first) == sorted([("POST", HOOKS)] * 3 + [("POST", VARS)] * 2)
    assert overlapping == 0
    assert variables["DEPLOY_TOKEN"] == {"name": "DEPLOY_TOKEN", "value": TOKEN, "is_secret": True}
    assert hooks["deploy-bot"]["payload"] == DEPLOY["payload"] and hooks["plain-hook"]["payload"] == DEFAULT_PAYLOAD
    assert hooks["only-listed"]["encode_as"] == "form"
    state = read_state(workdir, "destination", "integrations")
    assert set(state) == set(read_state(workdir, "source", "integrations"))
    assert state[KEY_PLAIN]["webhook"]["payload"] == DEFAULT_PAYLOAD  # the server's default: no drift (resync)
    assert TOKEN not in json.dumps(state) and TOKEN not in sync.output + diffs.output
    assert again.exit_code == 0 and second == [], again.output
    assert "Plan: 0 to create, 0 to update, 0 to delete, 5 unchanged." in diffs.stdout


def test_the_report_lists_handles_that_would_go_nowhere(workdir):
    source = source_org()
    with emulated_orgs(source_state=source) as emu:
        result = invoke(emu, "migrate", "--json")  # no secrets file: DEPLOY_TOKEN is skipped (exit 1)
        events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.exit_code == 1, result.output
    (report,) = [e for e in events if e.get("type") == "unrouted_handles"]
    by_handle = {h["handle"]: h for h in report["handles"]}
    assert set(by_handle) == {"@webhook-ghost-hook", "@pagerduty-payments", "@jira-OPS-board"}
    assert by_handle["@pagerduty-payments"]["kind"] == "pagerduty"
    assert by_handle["@pagerduty-payments"]["monitors"] == ['monitor 3 "paging"']
    assert "@ops@example.com" not in json.dumps(report)  # an e-mail is no integration


def test_the_text_report_has_one_line_per_handle_and_escapes_what_the_api_gave(workdir):
    monitors = [*MONITORS, {"name": "forged\n2026-01-01 - ERROR - x", "message": "@pagerduty-payments"}]
    with emulated_orgs(source_state=org(DEPLOY, PLAIN, variables=VARIABLES, monitors=monitors)) as emu:
        result = invoke(emu, "migrate")  # no secrets file: DEPLOY_TOKEN is skipped (exit 1)
    lines = result.stderr.splitlines()
    (at,) = [i for i, line in enumerate(lines) if "these notifications would go nowhere:" in line]
    assert lines[at].endswith(
        "3 notification handle(s) of the source's monitors have no integration in the "
        "destination: these notifications would go nowhere:"
    )
    assert [line.split(" (")[0] for line in lines[at + 1 : at + 4]] == [
        "  @jira-OPS-board",
        "  @pagerduty-payments",
        "  @webhook-ghost-hook",
    ]
    # A monitor's name is API data: its line break is shown escaped, never a forged log line.
    assert 'monitor 4 "forged\\n2026-01-01 - ERROR - x"' in lines[at + 2]
    assert not any(line.startswith("2026-01-01 - ERROR - x") for line in lines)


def test_a_missing_secret_skips_the_variable_and_its_report_names_the_line_to_add(workdir):
    with emulated_orgs(source_state=org(variables=VARIABLES)) as emu:
        result = invoke(emu, "migrate", DD_INTEGRATIONS_WEBHOOKS="DEPLOY_TOKEN,DEPLOY_ENV")
        _, variables = live(emu)
    assert result.exit_code == 1, result.output  # a skipped object fails the run, as for the cloud subtypes
    assert set(variables) == {"DEPLOY_ENV"}
    assert 'Add {"webhooks": {"DEPLOY_TOKEN": "<value>"}}' in result.output


def test_secrets_template_lists_the_secret_variables_without_values(workdir):
    with emulated_orgs(source_state=source_org()) as emu:
        assert invoke(emu, "import").exit_code == 0
        result = invoke(emu, "secrets-template")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"webhooks": {"DEPLOY_TOKEN": ""}}
    assert TOKEN not in result.output


def test_seeded_service_org_round_trips(workdir):
    state = make_service_org(n_webhooks=6, n_custom_variables=4, seed=2)
    names = ",".join(v["name"] for v in state["services"]["custom_variables"])
    with emulated_orgs(source_state=state) as emu:
        result = invoke(emu, "migrate", DD_INTEGRATIONS_WEBHOOKS=names, **secrets_file(workdir, state))
        hooks, variables = live(emu)
    assert result.exit_code == 0, result.output
    assert len(hooks) == 6 and len(variables) == 4


def test_an_update_is_one_put_backed_up_and_cleanup_deletes_a_renamed_webhook(workdir):
    with emulated_orgs(source_state=org(DEPLOY, PLAIN, variables=VARIABLES[1:])) as emu:
        assert invoke(emu, "migrate", DD_INTEGRATIONS_WEBHOOKS="deploy-bot,plain-hook").exit_code == 0
        path = workdir / "resources/source/integrations.json"
        state = json.loads(path.read_text())
        state[KEY_DEPLOY]["webhook"]["url"] = "https://hooks.example.com/deploy-v2"
        state[KEY_ENV]["custom_variable"]["value"] = "staging"
        renamed = json.loads(json.dumps(state.pop(KEY_PLAIN)))
        renamed["webhook"]["name"] = "plain-hook-2"
        state["webhooks:webhook:plain-hook-2"] = renamed
        path.write_text(json.dumps(state))
        diffs = invoke(emu, "diffs", "--cleanup=force")
        emu.clear_requests()
        sync = invoke(emu, "sync", "--cleanup=force")
        made = writes(emu)
        hooks, variables = live(emu)
        backups = list((workdir / "resources/destination/.backup").glob("*-sync/integrations.json"))
    assert "Plan: 1 to create, 2 to update, 1 to delete, 0 unchanged." in diffs.stdout, diffs.output
    assert sync.exit_code == 0, sync.output
    assert sorted(made) == sorted(
        [
            ("PUT", f"{HOOKS}/deploy-bot"),
            ("PUT", f"{VARS}/DEPLOY_ENV"),
            ("POST", HOOKS),
            ("DELETE", f"{HOOKS}/plain-hook"),
        ]
    )
    assert set(hooks) == {"deploy-bot", "plain-hook-2"} and variables["DEPLOY_ENV"]["value"] == "staging"
    assert hooks["deploy-bot"]["url"] == "https://hooks.example.com/deploy-v2"
    assert backups and json.loads(backups[0].read_text())[KEY_DEPLOY]["webhook"]["url"] == DEPLOY["url"]


def test_adoption_of_objects_made_by_hand_and_of_a_create_answered_409(workdir):
    by_hand = {**DEPLOY, "url": "https://hooks.example.com/by-hand"}
    with emulated_orgs(source_state=org(DEPLOY, PLAIN), destination_state=org(by_hand)) as emu:
        assert invoke(emu, "import", DD_INTEGRATIONS_WEBHOOKS="deploy-bot,plain-hook").exit_code == 0
        # another writer's identical create gets there first: the create is answered 409 and adopts it
        emu.set_knobs(script=[{"fault": "rival", "method": "POST", "path": HOOKS}])
        emu.clear_requests()
        sync = invoke(emu, "sync")
        made = writes(emu)
        hooks, _ = live(emu)
    assert sync.exit_code == 0, sync.output
    assert sorted(made) == sorted([("PUT", f"{HOOKS}/deploy-bot"), ("POST", HOOKS), ("PUT", f"{HOOKS}/plain-hook")])
    assert "already exists in the destination: updating it instead" in sync.output
    assert hooks["deploy-bot"]["url"] == DEPLOY["url"] and set(hooks) == {"deploy-bot", "plain-hook"}


def test_reset_deletes_what_state_and_monitors_name_and_a_lost_answer_is_already_absent(workdir):
    destination = org(
        DEPLOY, PLAIN, variables=VARIABLES[1:], monitors=[{"name": "m", "message": "@webhook-plain-hook"}]
    )
    with emulated_orgs(source_state=org(DEPLOY), destination_state=destination) as emu:
        assert invoke(emu, "migrate", DD_INTEGRATIONS_WEBHOOKS="deploy-bot").exit_code == 0  # adopted: in state
        emu.set_knobs(script=[{"fault": "lost", "method": "DELETE", "path": f"{HOOKS}/deploy-bot"}])
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes")
        made = writes(emu)
        hooks, variables = live(emu)
    assert reset.exit_code == 0, reset.output
    assert "Reset: 3 deleted, 0 failed, 0 skipped." in reset.stdout  # DEPLOY_ENV: a token of deploy-bot's payload
    assert sorted(made) == sorted(
        [("DELETE", f"{HOOKS}/deploy-bot")] * 2 + [("DELETE", f"{HOOKS}/plain-hook"), ("DELETE", f"{VARS}/DEPLOY_ENV")]
    )
    assert hooks == {} and variables == {}


def test_filters_select_the_subtype_and_a_name(workdir):
    with emulated_orgs(source_state=source_org()) as emu:
        result = invoke(emu, "import", "--filter", "Type=integrations;Name=webhook.name;Value=deploy-bot")
        only = set(read_state(workdir, "source", "integrations"))
        assert invoke(emu, "import", "--filter", "Type=integrations;Name=name;Value=webhooks").exit_code == 0
        every = set(read_state(workdir, "source", "integrations"))
    assert result.exit_code == 0, result.output
    assert only == {KEY_DEPLOY} and every == {KEY_DEPLOY, KEY_PLAIN, KEY_TOKEN, KEY_ENV}


def test_a_sync_without_source_keys_says_the_handles_are_not_checked_and_with_them_reads_the_monitors(workdir):
    with emulated_orgs(source_state=source_org()) as emu:
        assert invoke(emu, "import").exit_code == 0
        blind = invoke(emu, "sync", DD_SOURCE_API_KEY="", DD_SOURCE_APP_KEY="")
        emu.clear_requests()
        checked = invoke(emu, "sync")
        reads = [r for r in emu.requests("source") if r["path"] == "/api/v1/monitor"]
    assert blind.exit_code == 1 and "notification handles of its monitors are not checked" in blind.output
    assert "@pagerduty-payments" not in blind.output
    assert len(reads) == 1 and "@pagerduty-payments (not in source state" in checked.output
    assert "@webhook-deploy-bot" not in checked.output  # created: it has its integration now


def test_monitors_the_key_may_not_read_still_import_listed_and_known_names_and_skip_the_report(workdir):
    from datadog_sync.emulator.permissions import DEFAULT_PERMISSIONS

    with emulated_orgs(source_state=source_org()) as emu:
        assert invoke(emu, "import").exit_code == 0
        emu.set_permissions("source", DEFAULT_PERMISSIONS - {"monitors_read"})
        emu.clear_requests()
        imported = invoke(emu, "import", DD_INTEGRATIONS_WEBHOOKS="only-listed")
        read = sorted(r["path"].rsplit("/", 1)[-1] for r in emu.requests("source") if r["path"].startswith(HOOKS))
        kept = set(read_state(workdir, "source", "integrations"))
        synced = invoke(emu, "sync")
    lines = imported.stderr.splitlines()
    (at,) = [i for i, line in enumerate(lines) if "webhook discovery through the source's monitors was skipped" in line]
    assert imported.exit_code == 0, imported.output
    assert "its key lacks `monitors_read`" in lines[at] and lines[at + 1].startswith("hint: ")
    assert "webhooks left out" not in imported.output
    # What the option lists is imported; what was discovered before is read again, not dropped.
    assert read == ["deploy-bot", "only-listed", "plain-hook"]
    assert kept == {KEY_DEPLOY, KEY_PLAIN, KEY_TOKEN, KEY_ENV, "webhooks:webhook:only-listed"}
    assert "cannot read the source org's monitors" in synced.output


def test_the_report_names_a_skipped_and_a_failed_webhook(workdir):
    with emulated_orgs(source_state=source_org()) as emu:
        assert invoke(emu, "import").exit_code == 0
        path = workdir / "resources/source/integrations.json"
        state = json.loads(path.read_text())
        state[KEY_PLAIN]["webhook"]["encode_as"] = "xml"  # refused by the API: the create fails
        path.write_text(json.dumps(state))
        result = invoke(emu, "sync", "--json", "--filter", "Type=integrations;Name=webhook.name;Value=plain-hook")
        events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    (report,) = [e for e in events if e.get("type") == "unrouted_handles"]
    reasons = {h["handle"]: h["reason"] for h in report["handles"]}
    assert reasons["@webhook-plain-hook"] == "its create failed"
    assert reasons["@webhook-deploy-bot"] == "filtered out of this run"


def test_secrets_template_covers_every_cloud_subtype_and_v1_aws_state(workdir):
    from datadog_sync.emulator import make_aws_org
    from datadog_sync.emulator.cloud_seed import make_azure_org, make_cloud_secrets, make_gcp_org
    from datadog_sync.emulator.seed import make_secrets_file

    state = {
        **make_aws_org(10, seed=4, key_account_share=0.5),
        **make_gcp_org(4, seed=4, key_account_share=0.5),
        **make_azure_org(2, seed=4),
        **source_org(),
    }
    expected = {**make_secrets_file(state), **make_cloud_secrets(state), **make_service_secrets(source_org())}
    with emulated_orgs(source_state=state) as emu:
        assert invoke(emu, "import").exit_code == 0
        template = invoke(emu, "secrets-template")
        assert invoke(emu, "import", "--integrations-aws-api=v1", "--filter", "Type=integrations;Name=name;Value=aws")
        v1 = invoke(emu, "secrets-template", "--integrations-aws-api=v1")
    assert template.exit_code == 0, template.output
    document = json.loads(template.stdout)
    assert {s: set(names) for s, names in document.items()} == {s: set(names) for s, names in expected.items()}
    assert all(value == "" for names in document.values() for value in names.values())
    assert json.loads(v1.stdout)["aws"] == document["aws"]  # v1-shaped state names the same access key ids


def test_secrets_template_of_an_empty_state_and_a_bad_secrets_file(workdir):
    with emulated_orgs() as emu:
        empty = invoke(emu, "secrets-template")
        (workdir / "bad.json").write_text("[]")
        bad = invoke(emu, "secrets-template", DD_INTEGRATIONS_SECRETS_FILE=str(workdir / "bad.json"))
    assert empty.exit_code == 0 and json.loads(empty.stdout) == {}
    assert bad.exit_code == 2 and "must hold a JSON object" in bad.output, bad.output  # a usage error


def test_the_config_file_key_lists_names_and_a_read_only_key_is_stopped_by_the_pre_flight(workdir):
    from datadog_sync.emulator.testing import DESTINATION, SOURCE, org_spec

    (workdir / "sync.conf").write_text('integrations_webhooks = "only-listed, DEPLOY_ENV"\n')
    read_only = org_spec(DESTINATION, read_only=True)
    with emulated_orgs(source_state=org(LISTED, variables=VARIABLES[1:]), orgs=[SOURCE, read_only]) as emu:
        imported = invoke(emu, "import", "--config=sync.conf")
        state = set(read_state(workdir, "source", "integrations"))
        sync = invoke(emu, "sync", destination=read_only)
        made = writes(emu)
    assert imported.exit_code == 0 and state == {"webhooks:webhook:only-listed", KEY_ENV}
    assert sync.exit_code == 1 and made == []
    assert "1 webhook(s) and custom variable(s) need `create_webhooks`: webhooks:webhook:only-listed" in sync.output
    assert "need `manage_integrations`: webhooks:custom_variable:DEPLOY_ENV" in sync.output


def test_a_key_without_create_webhooks_blocks_only_webhook_creates_each_counted_failed_once(workdir):
    from datadog_sync.emulator.permissions import DEFAULT_PERMISSIONS
    from datadog_sync.emulator.testing import DESTINATION, SOURCE, org_spec

    no_create = org_spec(DESTINATION, permissions=DEFAULT_PERMISSIONS - {"create_webhooks"})
    with emulated_orgs(source_state=org(LISTED, variables=VARIABLES[1:]), orgs=[SOURCE, no_create]) as emu:
        assert invoke(emu, "import", DD_INTEGRATIONS_WEBHOOKS="only-listed,DEPLOY_ENV").exit_code == 0
        sync = invoke(emu, "sync", "--json", destination=no_create)
        made = writes(emu)
    events = [json.loads(line) for line in sync.stdout.splitlines() if line.startswith("{")]
    errors = [e["message"] for e in events if e.get("type") == "log" and e.get("level") == "ERROR"]
    failed = [e for e in events if e.get("status") == "failure"]
    assert sync.exit_code == 1
    assert made == [("POST", VARS)]  # the variable needs only manage_integrations: created
    assert [e["id"] for e in failed] == ["webhooks:webhook:only-listed"]
    # One explanation of the missing permission, then the blocked webhook's own line; no repeat per subtype.
    assert errors == [
        "[integrations - ] - permission pre-flight: 1 webhook(s) and custom variable(s) need `create_webhooks`: "
        "webhooks:webhook:only-listed; the destination application key lacks the `create_webhooks` permission, "
        "needed to create webhooks",
        "[integrations - webhooks:webhook:only-listed] - create failed: permission pre-flight failed: the "
        "destination key lacks `create_webhooks` (see the permission pre-flight above)",
    ]

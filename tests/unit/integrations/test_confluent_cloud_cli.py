"""The ``confluent_cloud`` subtype end to end: the CLI against the emulator, counted writes, the quirks."""

from __future__ import annotations

import json

from datadog_sync.emulator.testing import emulated_orgs
from tests.support import edit_source, read_state
from tests.support import invoke_emulated as invoke
from tests.unit.integrations.service_accounts import live, outcomes, secrets_env, services, writes

SECRET = "confluentSecret" + "x" * 49
KAFKA = {"id": "lkc-abc123", "resource_type": "kafka", "tags": ["myTag", "Env:Prod"], "enable_custom_metrics": False}
ACCOUNT = {
    "id": "c" * 32,
    "api_key": "TESTAPIKEY123",
    "api_secret": SECRET,
    "tags": ["team:data"],
    "resources": [KAFKA],
}
KEY = "confluent_cloud:TESTAPIKEY123"
STATE = services(confluent_cloud=[ACCOUNT])


def test_sync_creates_with_resources_inline_and_lower_cased_tags_are_no_drift(workdir):
    env = secrets_env(workdir, STATE)
    with emulated_orgs(source_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        source = read_state(workdir, "source", "integrations")
        sync = invoke(emu, "sync", **env)
        (post,) = writes(emu, "confluent-cloud")
        emu.clear_requests()
        # the destination lower-cases the tags of a resource written to the resources endpoint (recorded)
        dest = live(emu, "confluent_cloud", key="api_key")
        dest["TESTAPIKEY123"]["resources"][0]["tags"] = ["mytag", "env:prod"]
        emu.seed("destination", services(confluent_cloud=list(dest.values())))
        again = invoke(emu, "sync")
        second = writes(emu, "confluent-cloud")
    assert source[KEY]["api_key"] == "TESTAPIKEY123" and "api_secret" not in source[KEY]
    assert sync.exit_code == 0, sync.output
    assert post["body"]["data"]["attributes"]["resources"][0]["id"] == "lkc-abc123"
    assert SECRET not in sync.output + json.dumps(read_state(workdir, "destination", "integrations"))
    assert again.exit_code == 0 and second == [] and "1 unchanged" in again.stdout


def test_tags_are_sent_as_the_source_has_them_and_only_compared_without_case(workdir):
    env = secrets_env(workdir, STATE)
    with emulated_orgs(source_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        # A source org that kept its resource tags' case (the emulator lower-cases them, as the resources endpoint
        # is recorded to do), and account tags in no sorted order.
        edit_source(workdir, KEY, tags=["tier:1", "Team:Data"], resources=[KAFKA])
        sync = invoke(emu, "sync", **env)
        (post,) = writes(emu, "confluent-cloud")
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        second = writes(emu, "confluent-cloud")
    attributes = post["body"]["data"]["attributes"]
    assert sync.exit_code == 0, sync.output
    assert attributes["tags"] == ["tier:1", "Team:Data"]
    assert attributes["resources"][0]["tags"] == ["myTag", "Env:Prod"]
    assert again.exit_code == 0 and second == [] and "1 unchanged" in again.stdout


def test_resource_changes_need_no_secret_but_account_tags_do(workdir):
    env = secrets_env(workdir, STATE)
    with emulated_orgs(source_state=STATE, destination_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        edit_source(
            workdir,
            KEY,
            resources=[{**KAFKA, "enable_custom_metrics": True}, {"id": "lcc-1", "resource_type": "connector"}],
        )
        emu.clear_requests()
        resources = invoke(emu, "sync")  # no secrets file: resource writes only
        made = sorted((w["method"], w["path"].rsplit("/", 1)[-1]) for w in writes(emu, "confluent-cloud"))
        edit_source(workdir, KEY, tags=["team:data", "tier:1"])
        emu.clear_requests()
        skipped = invoke(emu, "sync", "--json")
        skipped_writes = writes(emu, "confluent-cloud")
        sync = invoke(emu, "sync", **env)
        (patch,) = writes(emu, "confluent-cloud")
        account = live(emu, "confluent_cloud", key="api_key")["TESTAPIKEY123"]
    assert resources.exit_code == 0, resources.output
    assert made == [("PATCH", "lkc-abc123"), ("POST", "resources")]
    assert skipped_writes == []
    skips = {o["id"]: o["reason"] for o in outcomes(skipped.stdout) if o.get("status") == "skipped"}
    assert "no API secret for Confluent Cloud account TESTAPIKEY123 (the API needs it on every update)" in skips[KEY]
    assert '{"confluent_cloud": {"TESTAPIKEY123": "<API secret>"}}' in skips[KEY]
    assert sync.exit_code == 0, sync.output
    assert patch["method"] == "PATCH" and patch["body"]["data"]["attributes"]["tags"] == ["team:data", "tier:1"]
    assert account["api_secret"] == SECRET and len(account["resources"]) == 2


def test_reset_deletes_and_an_absent_account_is_deleted_already(workdir):
    with emulated_orgs(source_state=STATE, destination_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        assert invoke(emu, "sync").exit_code == 0  # adopted: unchanged
        emu.seed("destination", {})
        path = workdir / "resources/source/integrations.json"
        path.write_text("{}")
        cleanup = invoke(emu, "sync", "--cleanup=force")
        dels = writes(emu, "confluent-cloud")
    assert cleanup.exit_code == 0, cleanup.output
    assert dels == [] or all(w["status"] == 404 for w in dels)

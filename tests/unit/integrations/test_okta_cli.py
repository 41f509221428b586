"""The ``okta`` subtype end to end: the CLI against the emulator, counted writes, a PATCH answering a new id."""

from __future__ import annotations

import json

from datadog_sync.emulator.testing import emulated_orgs
from tests.support import edit_source, read_state
from tests.support import invoke_emulated as invoke
from tests.unit.integrations.service_accounts import live, secrets_env, services, writes

CLIENT_SECRET = "oktaClientSecret" + "z" * 24
CORP = {
    "id": "5b3f0c9e-1111-4a2b-8c3d-000000000001",
    "name": "corp",
    "domain": "https://corp.okta.com/",
    "auth_method": "oauth",
    "client_id": "0oaCorpClient",
    "client_secret": CLIENT_SECRET,
}
STATE = services(okta=[CORP])
KEY = "okta:corp"


def test_sync_creates_with_the_client_secret_and_a_resync_writes_nothing(workdir):
    env = secrets_env(workdir, STATE)
    with emulated_orgs(source_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        source = read_state(workdir, "source", "integrations")
        sync = invoke(emu, "sync", **env)
        (post,) = writes(emu, "okta")
        dest = live(emu, "okta")["corp"]
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        second = writes(emu, "okta")
    assert source[KEY] == {
        "name": "okta",
        "account_name": "corp",
        "id": CORP["id"],
        "domain": "https://corp.okta.com/",
        "auth_method": "oauth",
        "client_id": "0oaCorpClient",
    }
    assert sync.exit_code == 0, sync.output
    assert post["body"]["data"]["attributes"]["name"] == "corp" and dest["client_secret"] == CLIENT_SECRET
    assert CLIENT_SECRET not in sync.output + json.dumps(read_state(workdir, "destination", "integrations"))
    assert second == [] and "1 unchanged" in again.stdout


def test_an_update_keeps_the_new_id_and_the_next_plan_finds_the_account_by_name(workdir):
    with emulated_orgs(source_state=STATE, destination_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        edit_source(workdir, KEY, domain="https://corp-2.okta.com/")
        sync = invoke(emu, "sync")  # no secrets file: an update may go without the secret
        (patch,) = writes(emu, "okta")
        new_id = live(emu, "okta")["corp"]["id"]
        kept = read_state(workdir, "destination", "integrations")[KEY]["id"]
        emu.clear_requests()
        again = invoke(emu, "diffs")
        emu.clear_requests()
        # reset lists again and deletes under the current id
        reset = invoke(emu, "reset", "--yes")
        dels = writes(emu, "okta")
    assert sync.exit_code == 0, sync.output
    assert patch["method"] == "PATCH" and "client_secret" not in patch["body"]["data"]["attributes"]
    assert new_id != CORP["id"] and kept == new_id
    assert "Plan: 0 to create, 0 to update, 0 to delete, 1 unchanged." in again.stdout
    assert reset.exit_code == 0 and [w["path"].rsplit("/", 1)[-1] for w in dels] == [new_id]


def test_a_missing_secret_skips_the_create(workdir):
    with emulated_orgs(source_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        diffs = invoke(emu, "diffs")
        assert writes(emu, "okta") == []
    assert "no API key or client secret for Okta account corp" in diffs.output
    assert '{"okta": {"corp": "<API key or client secret>"}}' in diffs.output

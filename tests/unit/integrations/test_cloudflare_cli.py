"""The ``cloudflare`` subtype end to end: the CLI against the emulator, counted writes, the key on every update."""

from __future__ import annotations

import json

from datadog_sync.emulator.testing import emulated_orgs
from tests.support import edit_source, read_state
from tests.support import invoke_emulated as invoke
from tests.unit.integrations.service_accounts import live, outcomes, requests, secrets_env, services, writes

TOKEN = "cfTokenAbCdEfGhIjKlMnOpQrStUvWxYz01234567"[:40]
PROD = {"id": "a" * 32, "name": "cf-prod", "api_key": TOKEN, "email": "", "resources": ["web", "dns"], "zones": []}
GLOBAL = {
    "id": "b" * 32,
    "name": "cf-global",
    "api_key": "globalkey123",
    "email": "ops@example.com",
    "resources": [],
    "zones": ["zone-1"],
}
STATE = services(cloudflare=[PROD, GLOBAL])


def test_sync_creates_each_account_with_its_key_and_a_resync_writes_nothing(workdir):
    env = secrets_env(workdir, STATE)
    with emulated_orgs(source_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        source = read_state(workdir, "source", "integrations")
        sync = invoke(emu, "sync", **env)
        dest = live(emu, "cloudflare")
        emu.clear_requests()
        again = invoke(emu, "sync")  # no secrets file: nothing differs, so nothing needs the key
        second = writes(emu, "cloudflare")
    assert source["cloudflare:cf-prod"] == {
        "name": "cloudflare",
        "account_name": "cf-prod",
        "id": "a" * 32,
        "email": "",
        "resources": ["web", "dns"],
        "zones": [],
    }
    assert sync.exit_code == 0, sync.output and "2 created" in sync.stdout
    assert dest["cf-global"]["api_key"] == "globalkey123" and dest["cf-global"]["email"] == "ops@example.com"
    assert sorted(dest["cf-prod"]["resources"]) == ["dns", "web"] and dest["cf-global"]["zones"] == ["zone-1"]
    assert TOKEN not in sync.output + json.dumps(read_state(workdir, "destination", "integrations"))
    assert again.exit_code == 0 and second == [] and "2 unchanged" in again.stdout


def test_an_update_sends_the_key_and_every_list_and_without_the_key_is_a_skip(workdir):
    env = secrets_env(workdir, STATE)
    with emulated_orgs(source_state=STATE, destination_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        edit_source(workdir, "cloudflare:cf-prod", zones=["zone-9"])
        diffs = invoke(emu, "diffs")
        skipped = invoke(emu, "sync", "--json")
        before = writes(emu, "cloudflare")
        sync = invoke(emu, "sync", **env)
        (patch,) = writes(emu, "cloudflare")
        account = live(emu, "cloudflare")["cf-prod"]
    assert "no API key for Cloudflare account cf-prod (the API needs it on every update)" in diffs.output
    assert before == [] and skipped.exit_code == 1  # a skip is reported as one
    skips = {o["id"]: o["reason"] for o in outcomes(skipped.stdout) if o.get("status") == "skipped"}
    assert '{"cloudflare": {"cf-prod": "<API key>"}}' in skips["cloudflare:cf-prod"]
    assert sync.exit_code == 0, sync.output
    assert patch["method"] == "PATCH" and patch["path"] == "/api/v2/integrations/cloudflare/accounts/" + "a" * 32
    # every list travels whole: a PATCH without resources would reset them (recorded)
    assert patch["body"]["data"]["attributes"]["resources"] == ["dns", "web"]
    assert account["zones"] == ["zone-9"] and sorted(account["resources"]) == ["dns", "web"]


def test_a_refused_key_is_an_error_naming_the_account(workdir):
    bad = {**PROD, "api_key": "a" * 40}  # the emulator's "unknown" token, as recorded
    with emulated_orgs(source_state=services(cloudflare=[bad])) as emu:
        assert invoke(emu, "import").exit_code == 0
        sync = invoke(emu, "sync", "--json", **secrets_env(workdir, services(cloudflare=[bad])))
        made = requests(emu, "cloudflare")
    assert sync.exit_code == 1 and ("POST", "/accounts") in made
    (failure,) = [o for o in outcomes(sync.stdout) if o.get("status") == "failure"]
    assert failure["reason"].startswith("Cloudflare account cf-prod: 400 Bad Request on POST")
    assert "API key or email is unknown" in failure["reason"] and "a" * 40 not in sync.output

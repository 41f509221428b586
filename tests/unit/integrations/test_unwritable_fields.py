"""An account field that no update of the API can write (one its update schema lacks) is never planned as an update
that writes nothing: alone it is a skip saying so, beside writable differences the update writes only those and says
what stays. ``diffs`` plans exactly what ``sync`` then does, for fastly, cloudflare, confluent_cloud and okta alike."""

from __future__ import annotations

import json

import pytest

from datadog_sync.emulator.testing import emulated_orgs
from tests.support import edit_source
from tests.support import invoke_emulated as invoke
from tests.unit.integrations.service_accounts import live, outcomes, secrets_env, services, writes

#: subtype -> (API path segment, the account, its state key, a writable change, how to check it was written, what an
#: update writes).
CASES = {
    "fastly": (
        "fastly",
        {"id": "a" * 32, "name": "edge", "api_key": "fastlyKeyEdge0000000000000000001", "services": []},
        "fastly:edge",
        {"services": [{"id": "6abc7def8ghi9jkl0mno1p", "tags": ["team:edge"]}]},
        lambda account: account["services"] == [{"id": "6abc7def8ghi9jkl0mno1p", "tags": ["team:edge"]}],
        "services",
    ),
    "cloudflare": (
        "cloudflare",
        {"id": "b" * 32, "name": "cf-prod", "api_key": "t" * 39 + "u", "email": "", "resources": [], "zones": []},
        "cloudflare:cf-prod",
        {"resources": ["web"]},
        lambda account: account["resources"] == ["web"],
        "email, resources, zones",
    ),
    "confluent_cloud": (
        "confluent-cloud",
        {"id": "c" * 32, "api_key": "TESTAPIKEY123", "api_secret": "s" * 64, "tags": ["team:data"], "resources": []},
        "confluent_cloud:TESTAPIKEY123",
        {"tags": ["team:stream"]},
        lambda account: account["tags"] == ["team:stream"],
        "resources, tags",
    ),
    "okta": (
        "okta",
        {
            "id": "5b3f0c9e-1111-4a2b-8c3d-000000000001",
            "name": "corp",
            "domain": "https://corp.okta.com/",
            "auth_method": "oauth",
            "client_id": "0oaCorpClient",
            "client_secret": "oktaClientSecret" + "z" * 24,
        },
        "okta:corp",
        {"domain": "https://corp2.okta.com/"},
        lambda account: account["domain"] == "https://corp2.okta.com/",
        "auth_method, client_id, domain",
    ),
}


def plan_events(stdout: str) -> list[dict]:
    return [e for e in map(json.loads, filter(None, stdout.splitlines())) if e.get("type") == "plan"]


def applied(stdout: str, key: str) -> list[tuple[str, str, str]]:
    """What sync did to ``key``: (status, sub type, reason) of its outcomes."""
    return [(e["status"], e["action_sub_type"], e["reason"]) for e in outcomes(stdout) if e["id"] == key]


@pytest.mark.parametrize("subtype", list(CASES))
def test_a_field_the_update_cannot_write_is_a_skip_alone_and_left_out_beside_writable_changes(workdir, subtype):
    path, account, key, writable, written, can = CASES[subtype]
    state = services(**{subtype: [account]})
    env = secrets_env(workdir, state)
    with emulated_orgs(source_state=state) as emu:
        assert invoke(emu, "migrate", **env).exit_code == 0
        # A field the destination's API does not have (a newer source API, or a hand edit): no update can send it.
        edit_source(workdir, key, region="eu-1")
        alone = invoke(emu, "diffs", **env)
        alone_json = invoke(emu, "diffs", "--json", **env)
        emu.clear_requests()
        skipped = invoke(emu, "sync", "--json", **env)
        skip_writes = writes(emu, path)

        edit_source(workdir, key, **writable)
        mixed = invoke(emu, "diffs", **env)
        mixed_json = invoke(emu, "diffs", "--json", **env)
        emu.clear_requests()
        updated = invoke(emu, "sync", "--json", **env)
        update_writes = writes(emu, path)
        (account_now,) = live(emu, subtype, "api_key" if subtype == "confluent_cloud" else "name").values()
        after = invoke(emu, "diffs", **env)

    reason = (
        f"region differs in the destination, and the API cannot change it in place (an update writes only {can}): "
        "nothing to write. To copy it, delete the account in the destination and sync again, which creates it"
    )
    (skip,) = plan_events(alone_json.stdout)
    assert skip["action"] == "skip" and skip["id"] == key and skip["reason"].endswith(reason)
    assert f"! integrations {key}: skip  (" in alone.stdout and "0 to update" in alone.stdout
    assert skipped.exit_code == 1  # the destination does not match the source: a skip fails sync, as a missing secret
    assert applied(skipped.stdout, key) == [("skipped", "", skip["reason"])] and skip_writes == []

    (update,) = plan_events(mixed_json.stdout)
    assert update["action"] == "update" and update["id"] == key
    assert "region differs too, which the API cannot change: not written" in update["reason"]
    assert update["differences"] and all(not d["path"].startswith("region") for d in update["differences"])
    header, *shown = mixed.stdout.splitlines()
    assert header.startswith(f"~ integrations {key}: update  (region differs too") and "1 to update" in shown[-1]
    assert shown[:-1] and not any("region" in line for line in shown[:-1])  # only what is written
    assert applied(updated.stdout, key) == [("success", "update", "")], updated.stdout
    assert update_writes and all("region" not in json.dumps(w.get("body")) for w in update_writes)
    assert written(account_now) and "region" not in account_now
    # What sync wrote is what diffs planned: only the unwritable field is left, planned as a skip again.
    assert f"! integrations {key}: skip  (" in after.stdout and "0 to update" in after.stdout

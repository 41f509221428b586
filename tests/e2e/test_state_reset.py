"""`reset` through the real CLI against the emulator: summary, declining, the hand-off, restoring a backup."""

from __future__ import annotations

import json

from datadog_sync.emulator import make_aws_org, make_secrets_file
from datadog_sync.emulator.testing import emulated_orgs
from tests.support import invoke_emulated as invoke

HANDOFF = "resources/destination/handoff/aws-external-ids.json"


def identities(emu, org):
    accounts = emu.dump(org)["aws"]["accounts"]
    return sorted(a.get("account_id") if a.get("role_name") else a["access_key_id"] for a in accounts)


def test_reset_prints_a_summary_line_and_a_json_summary_event(workdir):
    with emulated_orgs(destination_state=make_aws_org(3, seed=7, key_account_share=0)) as emu:
        result = invoke(emu, "reset", input="y\n")
        assert result.exit_code == 0, result.stderr
        assert "Reset: 3 deleted, 0 failed, 0 skipped." in result.stdout
        assert emu.dump("destination")["aws"]["accounts"] == []
    with emulated_orgs(destination_state=make_aws_org(2, seed=8, key_account_share=0)) as emu:
        result = invoke(emu, "reset", "--json", "--yes")
        assert result.exit_code == 0, result.output
        events = [json.loads(line) for line in result.stdout.splitlines()]
        (summary,) = [e for e in events if e["type"] == "summary"]
        assert summary["command"] == "reset" and summary["message"] == "Reset: 2 deleted, 0 failed, 0 skipped."


def test_declining_deletes_nothing_and_writes_no_backup(workdir):
    with emulated_orgs(destination_state=make_aws_org(3, seed=7, key_account_share=0)) as emu:
        result = invoke(emu, "reset", input="n\n")
        assert result.exit_code == 0, result.stderr
        assert "Reset: 0 deleted, 0 failed, 3 skipped." in result.stdout
        assert "SKIPPED: integrations aws:" in result.stdout and "not confirmed" in result.stdout
        assert len(emu.dump("destination")["aws"]["accounts"]) == 3
        assert [r for r in emu.requests("destination") if r["method"] == "DELETE"] == []
        assert not (workdir / "resources/destination/.backup").exists()


def test_reset_removes_the_deleted_accounts_from_the_handoff(workdir):
    with emulated_orgs(source_state=make_aws_org(3, seed=9, key_account_share=0)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        handoff = json.loads((workdir / HANDOFF).read_text())
        keys = sorted(a["state_key"] for a in handoff["accounts"])
        assert len(keys) == 3
        gone = keys[0].partition(":")[2]
        one = f"--filter=Type=integrations;Name=account_id;Value={gone};Operator=ExactMatch"
        result = invoke(emu, "reset", "--yes", one)
        assert "Reset: 1 deleted, 0 failed, 0 skipped." in result.stdout, result.stderr
        after = json.loads((workdir / HANDOFF).read_text())
        assert sorted(a["state_key"] for a in after["accounts"]) == keys[1:]
        assert after["destination_api_url"] == handoff["destination_api_url"]
        assert (workdir / HANDOFF).stat().st_mode & 0o777 == 0o600


def test_a_reset_backup_restores_the_accounts_when_synced_as_source(workdir):
    """docs/state.md: `sync --source-resources-path=<backup dir>` puts back what reset deleted."""
    source = make_aws_org(5, seed=3, key_account_share=0.4)
    secrets = workdir / "secrets.json"
    secrets.write_text(json.dumps(make_secrets_file(source, with_account_ids=True)))
    env = {"DD_INTEGRATIONS_SECRETS_FILE": str(secrets)}
    with emulated_orgs(source_state=source) as emu:
        assert invoke(emu, "migrate", **env).exit_code == 0
        before = {a.get("account_id") or a["access_key_id"]: a for a in emu.dump("destination")["aws"]["accounts"]}
        # With the secrets file, the backup also holds what the API keeps from key accounts (account id, logs).
        result = invoke(emu, "reset", "--yes", **env)
        assert result.exit_code == 0 and emu.dump("destination")["aws"]["accounts"] == []
        (backup,) = (workdir / "resources/destination/.backup").glob("*-reset")

        result = invoke(emu, "sync", f"--source-resources-path={backup}", **env)
        assert result.exit_code == 0, result.stderr
        assert "Applied: 5 created" in result.stdout
        assert identities(emu, "destination") == identities(emu, "source")
        after = {a.get("account_id") or a["access_key_id"]: a for a in emu.dump("destination")["aws"]["accounts"]}
        # Every setting is back; what the server makes per account (external ID, config id, timestamps) is new.
        per_account = {"external_id", "config_id", "created_at", "modified_at"}
        for key, account in before.items():
            restored = {k: v for k, v in after[key].items() if k not in per_account}
            assert restored == {k: v for k, v in account.items() if k not in per_account}, key
        result = invoke(emu, "diffs", f"--source-resources-path={backup}", **env)
        assert "Plan: 0 to create, 0 to update, 0 to delete, 5 unchanged." in result.stdout


def test_reset_removes_deleted_adopted_roles_from_the_unknown_external_id_list(workdir):
    source = make_aws_org(3, seed=9, key_account_share=0)
    existing = json.loads(json.dumps(source))  # the first account exists in the destination already: adopted
    existing["aws"]["accounts"] = existing["aws"]["accounts"][:1]
    adopted = existing["aws"]["accounts"][0]
    with emulated_orgs(source_state=source, destination_state=existing) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        arn = f"arn:aws:iam::{adopted['account_id']}:role/{adopted['role_name']}"
        assert json.loads((workdir / HANDOFF).read_text())["roles_with_unknown_external_id"] == [arn]
        one = f"--filter=Type=integrations;Name=account_id;Value={adopted['account_id']};Operator=ExactMatch"
        assert "Reset: 1 deleted" in invoke(emu, "reset", "--yes", one).stdout
        after = json.loads((workdir / HANDOFF).read_text())
    assert after["roles_with_unknown_external_id"] == []
    assert len(after["accounts"]) == 2

"""One integrations subtype whose destination cannot be read stops none of the others in ``diffs``, ``sync`` and
``migrate``: the others are planned and applied, the failing one is reported as failed (naming it and the cause),
and nothing of it is touched, in the destination or in its state, even with ``--cleanup``. ``diffs --json`` plans
exactly what ``sync --json`` then does, the failure included."""

from __future__ import annotations

import json

import pytest

from datadog_sync.emulator import make_aws_org, make_gcp_org, make_service_org
from datadog_sync.emulator.permissions import DEFAULT_PERMISSIONS, GCP_READ
from datadog_sync.emulator.testing import emulated_orgs
from tests.support import invoke_emulated as invoke
from tests.support import read_state
from tests.unit.integrations.service_accounts import secrets_env

pytestmark = pytest.mark.aws_api("v2")

GCP_ACCOUNTS = "/api/v2/integration/gcp/accounts"
PAGERDUTY = "/api/v1/integration/pagerduty"


def events(stdout: str, kind: str) -> list[dict]:
    return [e for e in map(json.loads, filter(None, stdout.splitlines())) if e.get("type") == kind]


def failures(stdout: str) -> list[dict]:
    """The failure outcomes, as both commands report them (the retry's jittered wait left out of the reason)."""
    fields = ("resource_type", "id", "action_type", "status", "failure_class")
    return [
        {**{k: e[k] for k in fields}, "reason": e["reason"].split(" (gave up after")[0]}
        for e in events(stdout, "outcome")
        if e["status"] == "failure"
    ]


def break_gcp(emu, how: str) -> dict[str, str]:
    """Make the destination's GCP listing fail: a key that may not read GCP (403), or an outage of it (503s)."""
    if how == "forbidden":
        emu.set_permissions("destination", DEFAULT_PERMISSIONS - {GCP_READ})
        return {}
    emu.set_knobs(script=[{"fault": "fault", "method": "GET", "path": GCP_ACCOUNTS, "org": "destination", "times": 99}])
    return {"DD_HTTP_CLIENT_RETRY_TIMEOUT": "0"}


def mend_gcp(emu) -> None:
    emu.set_permissions("destination", DEFAULT_PERMISSIONS)
    emu.set_knobs(script=[])


def change_source(emu, aws_change: str, gcp_tags: list[str]) -> tuple[str, str, str, str]:
    """Change and remove one account of each cloud in the source org; return their state keys."""
    source = emu.dump("source")
    aws, gcp = source["aws"]["accounts"], source["gcp"]["accounts"]
    aws[0]["host_tags"] = [aws_change]
    gone_aws = aws.pop(1)
    gcp[0]["account_tags"] = gcp_tags
    gone_gcp = gcp.pop(1)
    emu.seed("source", source)
    return (
        f"aws:{aws[0]['account_id']}",
        f"aws:{gone_aws['account_id']}",
        f"gcp:{gcp[0]['client_email']}",
        f"gcp:{gone_gcp['client_email']}",
    )


@pytest.mark.parametrize("how", ["forbidden", "outage"])
def test_a_subtype_whose_destination_listing_fails_stops_no_other_and_loses_nothing(workdir, how):
    state = {**make_aws_org(3, seed=4, key_account_share=0), **make_gcp_org(3, seed=4)}
    with emulated_orgs(source_state=state) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        gcp_before = emu.dump("destination")["gcp"]["accounts"]
        aws_key, aws_gone, gcp_key, gcp_gone = change_source(emu, "team:changed", ["env:changed"])
        assert invoke(emu, "import").exit_code == 0
        gcp_state = {k: v for k, v in read_state(workdir, "destination", "integrations").items() if k[:4] == "gcp:"}
        env = break_gcp(emu, how)

        diffs = invoke(emu, "diffs", "--cleanup=force", **env)
        diffs_json = invoke(emu, "diffs", "--cleanup=force", "--json", **env)
        diffs_exit_code = invoke(emu, "diffs", "--cleanup=force", "--exit-code", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", "--cleanup=force", "--json", **env)
        sync_writes = [(r["method"], r["path"]) for r in emu.requests("destination") if r["method"] != "GET"]
        after_sync = read_state(workdir, "destination", "integrations")
        gcp_after_sync = emu.dump("destination")["gcp"]["accounts"]
        aws_after_sync = {a["account_id"]: a for a in emu.dump("destination")["aws"]["accounts"]}

        # migrate too: an aws change made in the source org is imported and applied, gcp still fails alone.
        _, aws_gone_too, _, gcp_gone_too = change_source(emu, "team:migrated", ["env:migrated"])
        migrate = invoke(emu, "migrate", "--cleanup=force", **env)
        after_migrate = read_state(workdir, "destination", "integrations")
        gcp_after_migrate = emu.dump("destination")["gcp"]["accounts"]

        # Once GCP can be read again, its kept state plans its changes as usual.
        mend_gcp(emu)
        mended = invoke(emu, "sync", "--cleanup=force")
        gcp_mended = {a["client_email"]: a for a in emu.dump("destination")["gcp"]["accounts"]}

    cause = "gcp_configuration_read" if how == "forbidden" else "503 Service Unavailable"
    failed = "reading the destination's current integrations gcp failed, so none of them was planned or applied"
    # diffs: aws planned, gcp unknown and failed, naming the subtype and the cause; exit 1 with or without --exit-code
    assert diffs.exit_code == 1 and diffs_exit_code.exit_code == 1 and diffs_json.exit_code == 1
    assert diffs.stdout.endswith(
        "Plan: unknown for integrations gcp (reading the destination failed, see the error above); "
        "the rest: 0 to create, 1 to update, 1 to delete, 1 unchanged.\n"
    )
    assert failed in diffs.stderr and cause in diffs.stderr
    assert "gcp" not in "".join(line for line in diffs.stdout.splitlines() if line.startswith(("~", "-", "+")))
    planned = {(e["id"], e["action"]) for e in events(diffs_json.stdout, "plan")}
    assert planned == {(aws_key, "update"), (aws_gone, "delete")}
    (summary,) = events(diffs_json.stdout, "summary")
    assert summary["unknown"] == ["integrations gcp"] and summary["update"] == 1 and summary["delete"] == 1
    (planned_failure,) = failures(diffs_json.stdout)
    assert planned_failure["reason"].startswith(failed) and cause in planned_failure["reason"]

    # sync: exactly that plan; the same failure; exit 1 as for any failed resource
    assert sync.exit_code == 1, sync.stdout
    done = {
        (e["id"], "delete" if e["action_type"] == "delete" else e["action_sub_type"])
        for e in events(sync.stdout, "outcome")
        if e["status"] == "success"
    }
    assert done == planned
    assert failures(sync.stdout) == [planned_failure]
    assert not any(path.startswith("/api/v2/integration/gcp") for _, path in sync_writes)
    assert aws_after_sync[aws_key[4:]]["host_tags"] == ["team:changed"] and aws_gone[4:] not in aws_after_sync
    # gcp: untouched in the destination, its state kept (the account gone from the source is not deleted)
    assert gcp_after_sync == gcp_before and {k: after_sync[k] for k in gcp_state} == gcp_state
    assert gcp_gone in after_sync and aws_gone not in after_sync

    assert migrate.exit_code == 1 and failed in migrate.stderr
    assert "Plan: unknown for integrations gcp" in migrate.stdout and "1 updated, 1 deleted" in migrate.stdout
    assert aws_gone_too not in after_migrate and "team:migrated" in after_migrate[aws_key]["account_tags"]
    assert gcp_after_migrate == gcp_before and {k: after_migrate[k] for k in gcp_state} == gcp_state

    # the gcp changes of both runs, held back, are made once gcp can be read: one update, two deletes
    assert mended.exit_code == 0, mended.output
    assert "Applied: 0 created, 1 updated, 2 deleted" in mended.stdout
    assert gcp_gone[4:] not in gcp_mended and gcp_gone_too[4:] not in gcp_mended
    assert gcp_mended[gcp_key[4:]]["account_tags"] == ["env:migrated"]


def test_handles_of_a_subtype_that_could_not_be_read_are_reported_as_such(workdir):
    """The end-of-run list of notifications that would go nowhere says why for an unread subtype's handles, instead
    of calling them filtered out; the other subtype is synced."""
    state = make_service_org(n_webhooks=2, n_pagerduty=2, seed=2)
    env = secrets_env(workdir, state)
    with emulated_orgs(source_state=state) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        outage = [{"fault": "fault", "method": "GET", "path": PAGERDUTY, "org": "destination", "times": 99}]
        emu.set_knobs(script=outage)
        sync = invoke(emu, "sync", DD_HTTP_CLIENT_RETRY_TIMEOUT="0", **env)
        hooks = emu.dump("destination")["services"].get("webhooks", [])
        services = emu.dump("destination")["services"].get("pagerduty") or {}
    assert sync.exit_code == 1 and "integrations pagerduty failed" in sync.stderr
    assert len(hooks) == 2 and not services.get("services")
    for service in state["services"]["pagerduty"]["services"]:
        handle = f"@pagerduty-{service['service_name']}"
        assert f"{handle} (its subtype could not be read in the destination; used by" in sync.stderr

"""The CLI against the live emulator (no cassettes): permission pre-flight, faults and lost responses."""

from __future__ import annotations

import json

import pytest

from datadog_sync.emulator import make_aws_org, make_secrets_file
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.support import invoke_emulated as invoke

AWS_WRITE = ("aws_configuration_edit", "aws_configurations_manage")


def identities(emu, org):
    return sorted(
        a.get("account_id") if a.get("role_name") else a["access_key_id"] for a in emu.dump(org)["aws"]["accounts"]
    )


def test_preflight_names_missing_permissions_and_writes_nothing(workdir):
    read_only = org_spec(DESTINATION, permissions=["aws_configuration_read", "user_app_keys", "user_access_read"])
    with emulated_orgs(source_state=make_aws_org(3, seed=1, key_account_share=0), orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        result = invoke(emu, "sync", destination=read_only)
        assert result.exit_code == 1
        for permission in AWS_WRITE:
            assert permission in result.stderr
        assert emu.dump("destination")["aws"]["accounts"] == []
        writes = [r for r in emu.requests("destination") if r["method"] != "GET"]
        assert writes == []
        assert "3 failed" in result.stdout


def test_migrate_converges_through_faults_rate_limits_and_lost_responses(workdir):
    source = make_aws_org(25, seed=4)
    secrets = workdir / "secrets.json"
    secrets.write_text(json.dumps(make_secrets_file(source, with_account_ids=True)))
    knobs = dict(fault_rate=0.1, lost_response_rate=0.1, rate_limit=60, rate_period=1, seed=11)
    with emulated_orgs(source_state=source, **knobs) as emu:
        env = {"DD_INTEGRATIONS_SECRETS_FILE": str(secrets), "DD_HTTP_CLIENT_RETRY_TIMEOUT": "30"}
        result = invoke(emu, "migrate", **env)
        assert result.exit_code == 0, result.stdout + result.stderr
        counters = emu.counters()
        assert counters["faults_injected"] and counters["lost_responses"]
        assert identities(emu, "destination") == identities(emu, "source"), "no duplicates, nothing lost"
        emu.set_knobs(fault_rate=0, lost_response_rate=0)
        result = invoke(emu, "diffs", "--exit-code", **env)
        assert result.exit_code == 0, result.stdout
        assert "0 to create, 0 to update, 0 to delete, 25 unchanged" in result.stdout


def _most_in_flight(requests: list[dict], path: str) -> int:
    """The most requests to `path` the emulator was handling at one moment (from their start and duration)."""
    edges = []
    for r in requests:
        if r["path"] == path:
            edges += [(r["start"], 1), (r["start"] + r["duration_ms"] / 1000, -1)]
    most = current = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):  # an end before a start at the same instant
        current += step
        most = max(most, current)
    return most


@pytest.mark.parametrize(("flags", "low", "high"), [((), 20, 40), (("--max-workers-per-type=integrations=4",), 2, 4)])
def test_import_reads_accounts_concurrently_up_to_the_worker_cap(workdir, flags, low, high):
    with emulated_orgs(source_state=make_aws_org(40, seed=2, key_account_share=0), latency_ms=30) as emu:
        result = invoke(emu, "import", *flags)
        assert result.exit_code == 0, result.stdout + result.stderr
        filtering = [r for r in emu.requests("source") if r["path"] == "/api/v1/integration/aws/filtering"]
        assert len(filtering) == 40, "one tag-filter read per account, no more"
        assert low <= _most_in_flight(filtering, "/api/v1/integration/aws/filtering") <= high
        state = json.loads((workdir / "resources/source/integrations.json").read_text())
        assert len(state) == 40

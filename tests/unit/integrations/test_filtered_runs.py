"""Runs filtered to some subtypes read and report only those (docs/integrations.md, "Monitor handles", When): the
CLI against the emulator, with counted requests. Only plain ``Name=name;Value=<subtype>`` filters narrow the reads;
any other filter reads everything, as the outcome could then depend on it."""

from __future__ import annotations

import json

import pytest

from datadog_sync.emulator.service_seed import make_service_org, make_service_secrets
from datadog_sync.emulator.testing import emulated_orgs
from tests.support import invoke_emulated as invoke
from tests.support import read_state

STATE = make_service_org(
    n_webhooks=2,
    n_pagerduty=2,
    n_opsgenie=1,
    n_slack_channels=2,
    n_teams_handles=2,
    n_cloudflare=2,
    n_fastly=1,
    seed=4,
)
#: A monitor naming handles nothing provides (reported when their subtype is in the run).
GHOSTS = {"id": 9999, "name": "ghosts", "message": "@webhook-ghost-hook @pagerduty-ghost-svc @slack-nows-x"}
SOURCE = {**STATE, "monitors": [*STATE["monitors"], GHOSTS]}
MONITORS = "/api/v1/monitor"


def only(subtype: str) -> str:
    return f"--filter=Type=integrations;Name=name;Value={subtype}"


def paths(emu, org: str) -> list[str]:
    return [r["path"] for r in emu.requests(org)]


def integration_paths(emu, org: str) -> set[str]:
    """The integration endpoints an org was asked about (the permission pre-flight's reads left out)."""
    return {p for p in paths(emu, org) if "/integration" in p}


def secrets(workdir) -> dict[str, str]:
    path = workdir / "secrets.json"
    path.write_text(json.dumps(make_service_secrets(STATE)))
    path.chmod(0o600)
    return {"DD_INTEGRATIONS_SECRETS_FILE": str(path)}


def test_a_run_of_one_subtype_without_handles_reads_only_its_endpoint_and_no_monitors(workdir):
    with emulated_orgs(source_state=SOURCE) as emu:
        migrate = invoke(emu, "migrate", only("cloudflare"), **secrets(workdir))
        source, destination = paths(emu, "source"), integration_paths(emu, "destination")
    assert migrate.exit_code == 0, migrate.output
    assert MONITORS not in source
    assert {p for p in source if "/integration" in p} == {"/api/v2/integrations/cloudflare/accounts"}
    assert destination == {"/api/v2/integrations/cloudflare/accounts"}
    assert {k.partition(":")[0] for k in read_state(workdir, "source", "integrations")} == {"cloudflare"}
    for other in ("ghost-hook", "nows-x", "would go nowhere", "webhook", "slack"):
        assert other not in migrate.stderr, other


def test_a_run_of_one_subtype_with_handles_reports_only_its_own(workdir):
    with emulated_orgs(source_state=SOURCE) as emu:
        migrate = invoke(emu, "migrate", only("pagerduty"), "--json", **secrets(workdir))
        reads = [p for p in paths(emu, "source") if p == MONITORS]
        touched = {p.split("/")[4] for p in integration_paths(emu, "source")}
    events = [json.loads(line) for line in migrate.stdout.splitlines() if line.startswith("{")]
    (report,) = [e for e in events if e.get("type") == "unrouted_handles"]
    assert migrate.exit_code == 0, migrate.output
    assert len(reads) == 1  # the report's one read of the monitors
    assert touched == {"pagerduty"}  # no webhook, Slack or Teams reads
    assert [h["handle"] for h in report["handles"]] == ["@pagerduty-ghost-svc"]


@pytest.mark.parametrize(
    "flt",
    [
        "Type=integrations;Name=name;Value=cloudflare|fastly",  # a regex: read everything
        "Type=integrations;Name=name;Value=pagerduty;Operator=Not",
        "Type=integrations;Name=account_name;Value=cloudflare-.*",
    ],
)
def test_any_other_filter_reads_everything(workdir, flt):
    with emulated_orgs(source_state=SOURCE) as emu:
        result = invoke(emu, "import", f"--filter={flt}")
        source = paths(emu, "source")
    assert result.exit_code == 0, result.output
    assert MONITORS in source and any("/webhooks/" in p for p in source) and any("slack" in p for p in source)


def test_or_of_plain_filters_reads_their_subtypes_and_and_narrows_to_the_plain_one(workdir):
    with emulated_orgs(source_state=SOURCE) as emu:
        either = invoke(emu, "import", only("cloudflare"), only("fastly"))
        either_read = {p.split("/")[4] for p in integration_paths(emu, "source")}
        emu.clear_requests()
        both = invoke(
            emu,
            "import",
            only("fastly"),
            "--filter=Type=integrations;Name=account_name;Value=x",
            "--filter-operator=AND",
        )
        both_read = {p.split("/")[4] for p in integration_paths(emu, "source")}
    assert either.exit_code == 0 and either_read == {"cloudflare", "fastly"}
    assert both.exit_code == 0 and both_read == {"fastly"}


def test_sync_of_one_subtype_skips_the_others_reads_but_still_cleans_up_their_stale_entries(workdir):
    env = secrets(workdir)
    with emulated_orgs(source_state=SOURCE) as emu:
        assert invoke(emu, "migrate", **env).exit_code == 1  # Slack has no workspace in the destination
        emu.clear_requests()
        filtered = invoke(emu, "sync", only("cloudflare"), **env)
        read = integration_paths(emu, "destination")
        # A PagerDuty service gone from the source: its destination entry is a cleanup candidate, filtered or not
        # (docs/filters.md), so PagerDuty is read again and the service deleted.
        path = workdir / "resources/source/integrations.json"
        entries = json.loads(path.read_text())
        gone = next(k for k in entries if k.startswith("pagerduty:"))
        del entries[gone]
        path.write_text(json.dumps(entries))
        emu.clear_requests()
        cleanup = invoke(emu, "sync", only("cloudflare"), "--cleanup=force", **env)
        deleted = [(r["method"], r["path"]) for r in emu.requests("destination") if r["method"] == "DELETE"]
    assert filtered.exit_code == 0, filtered.output
    assert read == {"/api/v2/integrations/cloudflare/accounts"}
    assert cleanup.exit_code == 0, cleanup.output
    assert [m for m, _ in deleted] == ["DELETE"] and deleted[0][1].endswith(gone.partition(":")[2])

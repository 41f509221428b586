"""The destination API dies mid-sync: once the circuit breaker opens, the remaining resources fail fast."""

from __future__ import annotations

import re

from click.testing import CliRunner

from datadog_sync.cli import cli
from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import cli_env, emulated_orgs
from datadog_sync.http import RetryPolicy

THRESHOLD = RetryPolicy().breaker_threshold


def test_sync_against_a_dead_destination_sends_nothing_once_the_breaker_is_open(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with emulated_orgs(source_state=make_aws_org(30, seed=1, key_account_share=0)) as emu:
        env = {**cli_env(emu), "DD_SHOW_PROGRESS_BAR": "false"}
        assert CliRunner().invoke(cli, ["import", "--resources=integrations"], env=env).exit_code == 0
        emu.set_knobs(outage_after_writes=5)  # the API dies after 5 writes (an account takes 1 to 3)
        result = CliRunner().invoke(cli, ["sync", "--resources=integrations"], env=env, catch_exceptions=False)
        dead = [r for r in emu.requests("destination") if r["injected"] == "outage"]

    assert result.exit_code == 1
    created, failed = map(int, re.search(r"Applied: (\d+) created, .* (\d+) failed", result.stdout).groups())
    assert created + failed == 30 and failed >= 25  # every resource is reported
    failures = [line for line in result.stdout.splitlines() if line.startswith("  FAILURE: ")]
    assert len(failures) == failed and all("destination API unavailable" in line for line in failures)
    # Writes are serialized: the THRESHOLD-th server error opens the breaker, and the writes queued behind it are
    # refused without being sent (before: each went out, then every request waited 30 s for a probe).
    assert len(dead) == THRESHOLD

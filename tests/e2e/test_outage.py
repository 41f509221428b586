"""The destination API dies mid-sync: once the circuit breaker opens, the remaining resources fail fast."""

from __future__ import annotations

import re

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import emulated_orgs
from datadog_sync.http import RetryPolicy
from tests.support import invoke_emulated

THRESHOLD = RetryPolicy().breaker_threshold


def test_sync_against_a_dead_destination_sends_nothing_once_the_breaker_is_open(workdir):
    with emulated_orgs(source_state=make_aws_org(30, seed=1, key_account_share=0)) as emu:
        assert invoke_emulated(emu, "import").exit_code == 0
        emu.set_knobs(outage_after_writes=5)  # the API dies after 5 writes (an account takes 1 to 3)
        result = invoke_emulated(emu, "sync")
        dead = [r for r in emu.requests("destination") if r["injected"] == "outage"]

    assert result.exit_code == 1
    created, failed = map(int, re.search(r"Applied: (\d+) created, .* (\d+) failed", result.stdout).groups())
    assert created + failed == 30 and failed >= 25  # every resource is reported
    failures = [line for line in result.stdout.splitlines() if line.startswith("  FAILURE: ")]
    assert len(failures) == failed and all("destination API unavailable" in line for line in failures)
    # Writes are serialized: the THRESHOLD-th server error opens the breaker, and the writes queued behind it are
    # refused without being sent (before: each went out, then every request waited 30 s for a probe).
    assert len(dead) == THRESHOLD

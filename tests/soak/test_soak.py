"""A small fault soak in the normal test run (the full 500-account one is `python benchmarks/soak.py`).

Real processes: the emulator and every CLI run are subprocesses, faults are the emulator's (random 5xx, real 429s
with X-RateLimit-* headers, lost responses), and `sync` is SIGKILLed at seeded random points. See
docs/performance.md. Nothing here depends on the machine's speed: 429s come every Nth request
(`rate_limit_every`), and each kill lands while the emulator holds the run's request after N writes.
"""

from __future__ import annotations

import pytest

from benchmarks.soak import SoakConfig, run_soak

pytestmark = pytest.mark.slow


def test_fault_soak_converges_without_losing_anything(tmp_path):
    cfg = SoakConfig(
        accounts=40,
        fault_rate=0.10,
        lost_response_rate=0.05,
        # No 429s from the clock's windows (their number would follow the machine's speed): every 25th request of
        # an org gets one instead, and each part sends well over 25 requests to one org.
        rate_limit=10**9,
        rate_period=2,
        rate_limit_every=25,
        latency_ms=2.0,
        kills=2,
        kill_min_writes=1,
        kill_max_writes=20,  # fewer than the 40 creates: the first killed run is killed mid-sync
        max_runs=2,
        seed=11,
        run_timeout_s=120.0,
    )
    report = run_soak(cfg, tmp_path, log=lambda _message: None)

    for part in ("migrate", "kills"):
        faults = report[part]["faults"]
        assert faults["faults_injected"] > 0 and faults["rate_limited"] > 0, faults
    assert report["migrate"]["faults"]["lost_responses"] + report["kills"]["faults"]["lost_responses"] > 0
    first_kill = report["kills"]["runs"][0]
    assert first_kill["killed"] and first_kill["kill_at_write"] <= 20, first_kill

    # WARN (a known gap that loses nothing silently, see docs/performance.md) does not fail the test.
    failed = {name: detail for name, status, detail in report["verdicts"] if status == "FAIL"}
    assert not failed, failed
    assert report["passed"]

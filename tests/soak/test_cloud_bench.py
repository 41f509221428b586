"""The GCP and Azure benchmark itself, at a small size: every phase runs against the emulator and its request
counts and checks hold (counts only: timings depend on the machine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import cloud_bench

pytestmark = pytest.mark.slow

N = 20


def test_the_cloud_benchmark_makes_the_minimum_writes_and_a_no_op_resync_makes_none(tmp_path: Any, capsys: Any) -> None:
    out = tmp_path / "report.json"
    argv = ["--accounts", str(N), "--latency-ms", "0", "--gcp-key-share", "0.1", "--workdir", str(tmp_path / "w")]
    code = cloud_bench.main([*argv, "--json-out", str(out)])
    report = json.loads(out.read_text())
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert all(c["verdict"] == "PASS" for c in report["checks"]) and len(report["checks"]) == 8
    assert list(report["subtypes"]) == ["gcp", "azure"]

    gcp = report["subtypes"]["gcp"]
    assert gcp["seeded"] == {"accounts": N, "sts": N - 2, "v1_key": 2}
    imp, sync, resync = (gcp["phases"][p] for p in cloud_bench.PHASES)
    assert all(p["returncode"] == 0 for p in (imp, sync, resync))
    # import: both GCP listings, whatever N (the other clouds' listings are there too: the filter applies after).
    assert imp["subtype_reads"] == 2 and imp["writes"] == 0
    assert imp["requests"]["by_endpoint"]["GET /api/v2/integration/gcp/accounts"] == 1
    # sync into an empty org: one create per account and the principal, made once; the v1 creates read back by one
    # listing after the writes, whatever their number (the plan's listing is the other).
    sync_endpoints = sync["requests"]["by_endpoint"]
    assert sync["writes"] == sync["min_writes"] == N + 1
    assert sync_endpoints["POST /api/v2/integration/gcp/accounts"] == N - 2
    assert sync_endpoints["POST /api/v1/integration/gcp"] == 2
    assert sync_endpoints["POST /api/v2/integration/gcp/sts_delegate"] == 1
    assert sync_endpoints["GET /api/v1/integration/gcp"] == 1 + 1
    assert sync["destination_equals_source"] == {
        "equal": True,
        "accounts": N,
        "different": [],
        "different_count": 0,
        "duplicates": 0,
    }
    # no-op re-sync: the plan's three reads, no write.
    assert resync["writes"] == resync["min_writes"] == 0
    assert without_monitors(resync["requests"]["by_endpoint"]) == {
        "GET /api/v1/integration/gcp": 1,
        "GET /api/v2/integration/gcp/accounts": 1,
        "GET /api/v2/integration/gcp/sts_delegate": 1,
    }

    azure = report["subtypes"]["azure"]
    imp, sync, resync = (azure["phases"][p] for p in cloud_bench.PHASES)
    assert imp["subtype_reads"] == 1 and imp["writes"] == 0
    # sync: one POST per app registration; the plan's listing and one read-back listing, whatever N.
    assert sync["writes"] == sync["min_writes"] == N
    assert sync["requests"]["by_endpoint"]["POST /api/v1/integration/azure"] == N
    assert sync["requests"]["by_endpoint"]["GET /api/v1/integration/azure"] == 2
    assert sync["destination_equals_source"]["equal"] and sync["destination_equals_source"]["accounts"] == N
    assert resync["writes"] == 0
    assert without_monitors(resync["requests"]["by_endpoint"]) == {"GET /api/v1/integration/azure": 1}
    assert "[PASS] azure no-op re-sync makes 0 writes: 0, minimum 0" in printed


def test_writes_above_the_minimum_fail_the_benchmark() -> None:
    ok = {"command": "sync", "returncode": 0, "summary": "", "writes": 3, "min_writes": 3}
    ok["destination_equals_source"] = {"equal": True, "accounts": 3, "different_count": 0, "duplicates": 0}
    extra = {**ok, "writes": 4}
    bench = cloud_bench.CloudBench(cloud_bench.CloudBench.parse_args([]), Path("unused"))
    rows = bench.checks({"azure": {"phases": {"sync": ok, "resync": {**extra, "min_writes": 0}}}})
    verdicts = {row["check"]: row["verdict"] for row in rows}
    assert verdicts["azure sync writes == minimum"] == "PASS"
    assert verdicts["azure no-op re-sync makes 0 writes"] == "FAIL"


def test_the_minimum_counts_what_is_missing_or_different_and_the_gcp_principal() -> None:
    source, empty = cloud_bench.seed("gcp", 4, 1, 0.25)
    assert cloud_bench.min_writes("gcp", source, empty) == 4 + 1
    assert cloud_bench.min_writes("gcp", source, {}) == 4  # the org has its principal already
    assert cloud_bench.min_writes("gcp", source, source) == 0
    changed = json.loads(json.dumps(source))
    changed["gcp"]["accounts"][0]["automute"] = not changed["gcp"]["accounts"][0]["automute"]
    assert cloud_bench.min_writes("gcp", source, changed) == 1
    azure, nothing = cloud_bench.seed("azure", 3, 1, 0.0)
    assert cloud_bench.min_writes("azure", azure, nothing) == 3
    assert cloud_bench.min_writes("azure", azure, azure) == 0


def without_monitors(by_endpoint: dict[str, int]) -> dict[str, int]:
    """The requests but the one read of the source's monitors that a sync makes for its end-of-run report of
    notification handles (the service subtypes are registered too): not a GCP or Azure request."""
    assert by_endpoint.get("GET /api/v1/monitor", 0) <= 1
    return {k: v for k, v in by_endpoint.items() if k != "GET /api/v1/monitor"}

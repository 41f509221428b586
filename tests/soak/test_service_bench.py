"""The webhooks and PagerDuty benchmark itself, at a small size: every phase runs against the emulator and its request
counts and checks hold (counts only: timings depend on the machine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import service_bench

pytestmark = pytest.mark.slow

N = 20
V = 4  # custom variables, half of them secret
BASE = "/api/v1/integration/webhooks/configuration"
HOOK_GET, VAR_GET = f"GET {BASE}/webhooks/{{name}}", f"GET {BASE}/custom-variables/{{name}}"
PD_LIST = "GET /api/v1/integration/pagerduty"
PREFLIGHT = {"GET /api/v2/current_user/application_keys": 1, "GET /api/v2/users/{id}/permissions": 1}


def test_the_service_benchmark_makes_the_minimum_serialized_writes_and_a_no_op_resync_makes_none(
    tmp_path: Any, capsys: Any
) -> None:
    out = tmp_path / "report.json"
    argv = ["--count", str(N), "--variables", str(V), "--latency-ms", "0", "--workdir", str(tmp_path / "w")]
    code = service_bench.main([*argv, "--json-out", str(out)])
    report = json.loads(out.read_text())
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert all(c["verdict"] == "PASS" for c in report["checks"]) and len(report["checks"]) == 10
    assert list(report["subtypes"]) == ["webhooks", "pagerduty"]

    hooks = report["subtypes"]["webhooks"]
    assert hooks["seeded"] == {"webhooks": N, "custom_variables": V, "secret_variables": V // 2, "monitors": N}
    imp, sync, resync = (hooks["phases"][p] for p in service_bench.PHASES)
    # import: the monitors (one page), then one GET per webhook they name and per variable (the secret ones named by
    # the secrets file, the others by the webhooks' $NAME tokens): no listing exists. Nothing else: the filter
    # selects the subtype, so no other subtype is listed.
    assert ours(imp) == {"GET /api/v1/monitor": 1, HOOK_GET: N, VAR_GET: V} and imp["writes"] == 0
    assert sum(imp["requests"]["by_endpoint"].values()) == 1 + N + V
    # sync into an empty org: the plan's GET per name (404 each), then one POST per object, one at a time.
    assert sync["writes"] == sync["min_writes"] == N + V
    assert ours(sync) == {
        "GET /api/v1/monitor": 1,  # the end-of-run report of handles that would notify nobody
        HOOK_GET: N,
        VAR_GET: V,
        f"POST {BASE}/webhooks": N,
        f"POST {BASE}/custom-variables": V,
    }
    assert sync["requests"]["by_status"] == {"201": N + V, "200": 3, "404": N + V}
    assert sync["overlapping_writes"] == 0 and sync["max_concurrent_writes"] == 1
    assert sync["destination_equals_source"] == {
        "equal": True,
        "objects": N + V,
        "different": [],
        "different_count": 0,
        "duplicates": 0,
    }
    # no-op re-sync: the same reads, each found equal; no write.
    assert resync["writes"] == resync["min_writes"] == 0
    assert ours(resync) == {"GET /api/v1/monitor": 1, HOOK_GET: N, VAR_GET: V}

    pagerduty = report["subtypes"]["pagerduty"]
    assert pagerduty["seeded"] == {"services": N, "monitors": N}
    imp, sync, resync = (pagerduty["phases"][p] for p in service_bench.PHASES)
    # import: the legacy listing names every service, whatever N, and nothing else: the filter selects the subtype,
    # so no other subtype is listed and no discovery reads the monitors.
    assert imp["requests"]["by_endpoint"] == {PD_LIST: 1} and imp["writes"] == 0
    # sync: the plan's one listing, the pre-flight, one POST per service, serialized; nothing read per service.
    assert sync["writes"] == sync["min_writes"] == N
    assert sync["requests"]["by_endpoint"] == {
        PD_LIST: 1,
        "GET /api/v1/monitor": 1,
        **PREFLIGHT,
        "POST /api/v1/integration/pagerduty/configuration/services": N,
    }
    assert sync["overlapping_writes"] == 0 and sync["max_concurrent_writes"] == 1
    assert sync["destination_equals_source"]["equal"] and sync["destination_equals_source"]["objects"] == N
    assert resync["writes"] == 0
    assert resync["requests"]["by_endpoint"] == {PD_LIST: 1, "GET /api/v1/monitor": 1}
    assert "[PASS] pagerduty sync: writes serialized: 0 overlapping, at most 1 in flight" in printed


def ours(phase: dict[str, Any]) -> dict[str, int]:
    """The requests of the webhooks API and the monitors, those of the other subtypes' listings and the write
    pre-flight aside."""
    by_endpoint = phase["requests"]["by_endpoint"]
    return {k: v for k, v in by_endpoint.items() if "/integration/webhooks/" in k or k == "GET /api/v1/monitor"}


def test_every_custom_variable_is_used_by_a_webhook() -> None:
    source, destination = service_bench.seed("webhooks", 6, 4, 1)
    headers = " ".join(h.get("custom_headers") or "" for h in source["services"]["webhooks"])
    names = [v["name"] for v in source["services"]["custom_variables"]]
    assert all(f"${name}" in headers for name in names) and len(names) == 4 and destination == {}


def test_the_minimum_counts_what_is_missing_or_shown_different_never_a_secret() -> None:
    hooks, _ = service_bench.seed("webhooks", 4, 2, 1)
    assert service_bench.ServiceBench.min_writes("webhooks", hooks, {}) == 4 + 2
    assert service_bench.ServiceBench.min_writes("webhooks", hooks, hooks) == 0
    changed = json.loads(json.dumps(hooks))
    changed["services"]["webhooks"][0]["url"] += "/moved"
    secret = next(v for v in changed["services"]["custom_variables"] if v["is_secret"])
    secret["value"] = "another value, never read back"
    assert service_bench.ServiceBench.min_writes("webhooks", hooks, changed) == 1
    services, _ = service_bench.seed("pagerduty", 3, 0, 1)
    assert service_bench.ServiceBench.min_writes("pagerduty", services, {}) == 3
    rekeyed = json.loads(json.dumps(services))
    rekeyed["services"]["pagerduty"]["services"][0]["service_key"] = "0" * 32
    assert service_bench.ServiceBench.min_writes("pagerduty", services, rekeyed) == 0


def test_overlapping_writes_fail_the_benchmark() -> None:
    ok: dict[str, Any] = {"command": "sync", "returncode": 0, "summary": "", "writes": 3, "min_writes": 3}
    ok["destination_equals_source"] = {"equal": True, "objects": 3, "different_count": 0, "duplicates": 0}
    ok.update(overlapping_writes=0, max_concurrent_writes=1)
    bench = service_bench.ServiceBench(service_bench.ServiceBench.parse_args([]), Path("unused"))
    rows = bench.checks(
        {"pagerduty": {"phases": {"sync": {**ok, "overlapping_writes": 2, "max_concurrent_writes": 3}}}}
    )
    verdicts = {row["check"]: row["verdict"] for row in rows}
    assert verdicts == {
        "pagerduty sync writes == minimum": "PASS",
        "pagerduty sync: destination == source": "PASS",
        "pagerduty sync: writes serialized": "FAIL",
    }
    assert all(row["verdict"] == "PASS" for row in bench.checks({"pagerduty": {"phases": {"sync": ok}}}))

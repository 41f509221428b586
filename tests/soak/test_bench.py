"""The benchmark itself, at a small size, on both AWS API generations: every phase runs against the emulator and
its request targets hold (counts only: timings are never asserted here)."""

from __future__ import annotations

import json

import pytest

from benchmarks import bench, harness
from datadog_sync.emulator import make_aws_org

pytestmark = pytest.mark.slow

V2_ACCOUNTS = "GET /api/v2/integration/aws/accounts"


def run_bench(tmp_path, api: str) -> tuple[int, dict]:
    out = tmp_path / f"report-{api}.json"
    code = bench.main(
        ["--api", api, "--accounts", "30", "--latency-ms", "0", "--no-fixed-cost"]
        + ["--workdir", str(tmp_path / f"w-{api}"), "--json-out", str(out)]
    )
    return code, json.loads(out.read_text())


def test_benchmark_runs_every_phase_and_its_targets_hold_at_a_small_size_on_v1(tmp_path, capsys):
    code, report = run_bench(tmp_path, "v1")
    phases = report["phases"]
    assert report["api"] == "v1"
    assert all(r["returncode"] == 0 for r in phases.values()), capsys.readouterr().out
    assert list(phases) == list(bench.phases_for("v1")) == [p for p in bench.PHASES if p != "aiohttp-sync"]
    for name in ("import", "aiohttp", "reimport"):
        by_endpoint = phases[name]["requests"]["by_endpoint"]
        aws_reads = sum(n for e, n in by_endpoint.items() if e.startswith("GET /api/v1/integration/aws"))
        assert aws_reads == 32 and phases[name]["writes"] == 0, name  # 2 listings + 1 per account
    assert phases["resync"]["writes"] == 0
    assert phases["sync"]["writes"] == phases["sync"]["min_writes"] > 30
    assert phases["update"]["writes"] == phases["update"]["min_writes"] > 0
    assert phases["sync"]["destination_equals_source"]["equal"]
    verdicts = {t["target"]: t["verdict"] for t in report["targets"]}
    for target in ("no-op re-sync makes 0 writes", "sync writes == minimum", "update writes == minimum"):
        assert verdicts[target] == "PASS", target
    assert not any(target.startswith("aiohttp") for target in verdicts), "the reference is not judged"
    # At 30 accounts the start-up dominates CPU per account (no fixed cost subtracted here): the CPU rows FAIL,
    # and the exit code says so.
    cpu_verdicts = {v for t, v in verdicts.items() if "CPU" in t}
    assert code == (1 if "FAIL" in cpu_verdicts else 0)


def test_benchmark_on_v2_meets_the_v2_request_targets_at_a_small_size(tmp_path, capsys):
    code, report = run_bench(tmp_path, "v2")
    phases = report["phases"]
    assert report["api"] == "v2"
    assert all(r["returncode"] == 0 for r in phases.values()), capsys.readouterr().out
    assert list(phases) == list(bench.phases_for("v2")) == list(bench.PHASES)
    # The import lists the accounts in at most 2 requests, none of them per account.
    for name in ("import", "reimport"):
        r = phases[name]
        aws_reads = sum(n for e, n in r["requests"]["by_endpoint"].items() if "/integration/aws" in e)
        assert r["writes"] == 0 and aws_reads <= 2, (name, r["requests"]["by_endpoint"])  # other subtypes list once
        assert r["requests"]["by_endpoint"].get(V2_ACCOUNTS, 0) >= 1, name
        assert not [e for e in r["requests"]["by_endpoint"] if "/accounts/" in e], name
    assert phases["aiohttp"]["reads"] == 1  # the reference: the one list
    reference = phases["aiohttp-sync"]  # the reference: the same creates, bare, into an org of their own
    assert reference["writes"] == 30 and reference["writes_by_account"]["one_each"]
    assert reference["destination_equals_source"]["equal"]
    # Sync: exactly one write per changed account (all 30 created), each a POST, serialized.
    sync = phases["sync"]
    assert sync["changed_accounts_count"] == sync["min_writes"] == sync["writes"] == 30
    assert sync["requests"]["by_endpoint"]["POST /api/v2/integration/aws/accounts"] == 30
    assert sync["writes_by_account"]["one_each"] and sync["writes_by_account"]["accounts_written"] == 30
    assert sync["write_concurrency"] == 1
    # Update: 10% of the accounts changed in the emulator's store (3), one PATCH each.
    update = phases["update"]
    assert update["changed_accounts_count"] == update["writes"] == 3
    assert update["writes_by_account"]["one_each"]
    assert update["requests"]["by_endpoint"]["PATCH /api/v2/integration/aws/accounts/{id}"] == 3
    # A no-op re-sync writes nothing; both syncs leave the destination equal to the source, v2-only settings too.
    assert phases["resync"]["writes"] == 0
    for name in ("sync", "update"):
        assert phases[name]["destination_equals_source"]["equal"], phases[name]["destination_equals_source"]
    verdicts = {t["target"]: t["verdict"] for t in report["targets"]}
    for target in (
        "import lists the accounts in <= 2 requests (none per account)",
        "reimport lists the accounts in <= 2 requests (none per account)",
        "sync makes exactly one write per changed account",
        "update makes exactly one write per changed account",
        "no-op re-sync makes 0 writes",
        "sync: destination == source",
        "update: destination == source",
    ):
        assert verdicts[target] == "PASS", target
    assert report["requests_per_account"]["sync (create): writes per account"] == 1
    assert report["requests_per_account"]["update: writes per changed account"] == 1
    assert report["requests_per_account"]["no-op re-sync: writes per account"] == 0
    cpu_verdicts = {v for t, v in verdicts.items() if "CPU" in t}
    assert code == (1 if "FAIL" in cpu_verdicts else 0)


def test_the_update_phase_changes_settings_both_generations_see():
    """`mutate` changes each chosen account in a way the v1 and the v2 API both show: the same accounts need a
    write whichever generation syncs them."""
    state = make_aws_org(200, seed=3)
    mutated, kinds = bench.mutate(state, 0.1, seed=4)
    assert sum(kinds.values()) == 20 and all(kinds.values())
    v2_changed = harness.changed_v2(state, mutated)
    v1_changed = harness.changed_v1(state, mutated)
    assert len(v2_changed) == len(v1_changed) == 20
    by_key = {a.get("access_key_id") or a["account_id"]: a["account_id"] for a in state["aws"]["accounts"]}
    assert sorted(by_key[ident.split(":", 1)[1]] for ident in v1_changed) == v2_changed


def test_the_v2_view_compares_what_v2_shows_and_ignores_per_org_values():
    state = make_aws_org(5, seed=2)
    other = json.loads(json.dumps(state))
    for acc in other["aws"]["accounts"]:  # what differs per org: ids, timestamps, external IDs
        acc["config_id"] = "00000000-0000-4000-8000-000000000000"
        acc["created_at"] = acc["modified_at"] = "2026-01-01T00:00:00.000000Z"
        if acc.get("role_name"):
            acc["external_id"] = "0" * 32
        acc["host_tags"] = list(reversed(acc["host_tags"]))  # order means nothing
    assert harness.compare_v2(state, other).equal
    assert harness.changed_v2(other, state) == []
    other["aws"]["accounts"][0]["v2"] = {"xray_services": {"include_all": True}}  # a v2-only setting
    comparison = harness.compare_v2(state, other)
    assert not comparison.equal and list(comparison.different.values()) == [["traces_config"]]
    assert harness.changed_v2(other, state) == [state["aws"]["accounts"][0]["account_id"]]

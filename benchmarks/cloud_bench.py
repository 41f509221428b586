"""Benchmark the `gcp` and `azure` subtypes of `integrations` at scale against the local API emulator.

    python benchmarks/cloud_bench.py                          # 500 accounts of each, L = 20 ms
    python benchmarks/cloud_bench.py --accounts 20 --latency-ms 0 --subtypes azure
    python benchmarks/cloud_bench.py --markdown --json-out benchmarks/results/cloud.json

Per subtype, a fresh emulator process (latency L on every request, writes too) with a source org seeded with N
accounts (`make_gcp_org`: STS service accounts and `--gcp-key-share` v1 key integrations, their JSON keys in the
secrets file; `make_azure_org`: app registrations, their client secrets in the secrets file) and an empty destination
(for GCP, one whose Datadog principal was never made, as in an org that never had the integration). Each phase is one
`python -m datadog_sync ... --filter 'Type=integrations;Name=name;Value=<subtype>'` subprocess (benchmarks/harness.py,
as benchmarks/bench.py runs it):

  import   source org -> source state
  sync     create everything in the empty destination
  resync   the same sync again: must write nothing

Per phase: wall time against the floor (harness.floor_seconds: writes x L, serialized, + ceil(reads / c) x L),
requests per endpoint from the emulator's request log, CPU and peak RSS of the CLI process, the emulator's CPU.
Writes are checked against the minimum: one per created account, plus, for GCP, the `POST .../sts_delegate` that
makes the destination's principal (read for the hand-off). Azure's read-back listing after the writes is a read.
After each sync the destination must equal the source as the listing APIs show them (the demo's views), with no
duplicates. Exits 1 when a check fails: a phase exits non-zero, writes differ from the minimum (the re-sync's
minimum is 0), or the destination differs. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/cloud_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import DESTINATION, EMPTY, SOURCE, EmulatorProcess, run_cli  # noqa: E402
from datadog_sync.emulator.cloud_seed import make_azure_org, make_cloud_secrets, make_gcp_org  # noqa: E402
from datadog_sync.emulator.demo import azure_view, differing, gcp_view  # noqa: E402

SUBTYPES = ("gcp", "azure")
PHASES = ("import", "sync", "resync")
COMMANDS = {"import": "import", "sync": "sync", "resync": "sync"}
#: The part of the request paths that belongs to each subtype's API.
API_PATH = {"gcp": "/integration/gcp", "azure": "/integration/azure"}


def seed(subtype: str, accounts: int, seed_value: int, key_share: float) -> tuple[dict, dict]:
    """The source org's state and the destination's (empty; for GCP without a principal)."""
    if subtype == "gcp":
        return make_gcp_org(accounts, seed=seed_value, key_account_share=key_share), {"gcp": {"delegate": None}}
    return make_azure_org(accounts, seed=seed_value), {}


def view(subtype: str, dump: dict) -> dict[str, dict]:
    return gcp_view(dump) if subtype == "gcp" else azure_view(dump)


def identities(subtype: str, dump: dict) -> list[str]:
    accounts = dump.get(subtype, {}).get("accounts", [])
    if subtype == "gcp":
        return [a["client_email"] for a in accounts]
    return [f"{a['tenant_name']}:{a['client_id']}" for a in accounts]


def min_writes(subtype: str, source: dict, destination: dict) -> int:
    """The fewest writes making ``destination`` hold every account of ``source`` (no deletes), both as the APIs show
    them: one create or update per missing or different account; GCP adds the principal's POST when the destination
    has none and an STS account is created (the hand-off needs it; terraform-provider-datadog posts it too)."""
    want, have = view(subtype, source), view(subtype, destination)
    writes = sum(1 for key in differing(want, have) if key in want)
    gcp = destination.get("gcp") or {}
    if subtype == "gcp" and "delegate" in gcp and gcp["delegate"] is None:  # absent: the org's default principal
        if any(v["api"] == "v2" and k not in have for k, v in want.items()):
            writes += 1
    return writes


class CloudBench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir

    def run(self) -> dict[str, Any]:
        results = {subtype: self.repeated(subtype) for subtype in self.args.subtypes}
        return {
            "benchmark": "datadog-sync integrations (gcp, azure)",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "commit": harness.git_commit(),
            "machine": harness.machine(),
            "accounts": self.args.accounts,
            "latency_ms": self.args.latency_ms,
            "max_workers": self.args.max_workers,
            "gcp_key_share": self.args.gcp_key_share,
            "seed": self.args.seed,
            "repeat": self.args.repeat,
            "subtypes": results,
            "checks": checks(results),
        }

    def cli_args(self, command: str, subtype: str, secrets: Path) -> list[str]:
        return [
            command,
            *harness.CLI_FLAGS,
            f"--filter=Type=integrations;Name=name;Value={subtype}",
            f"--integrations-secrets-file={secrets}",
            f"--max-workers={self.args.max_workers}",
        ]

    def repeated(self, subtype: str) -> dict[str, Any]:
        """``--repeat K`` runs of the subtype, each with a fresh emulator: per phase, the run with the median wall
        time, with every run's wall and CPU alongside. Every run is checked (counts do not vary between runs)."""
        runs = [self.subtype(subtype, i) for i in range(self.args.repeat)]
        if len(runs) == 1:
            return runs[0]
        phases = {}
        for phase in PHASES:
            samples = [run["phases"][phase] for run in runs]
            chosen = dict(sorted(samples, key=lambda r: r["wall_s"])[len(samples) // 2])
            chosen["samples"] = {"wall_s": [r["wall_s"] for r in samples], "cpu_s": [r["cpu_s"] for r in samples]}
            phases[phase] = chosen
        return {"seeded": runs[0]["seeded"], "phases": phases, "runs": [run["phases"] for run in runs]}

    def subtype(self, subtype: str, attempt: int = 0) -> dict[str, Any]:
        args, root = self.args, self.workdir / f"{subtype}-{attempt}"
        root.mkdir(parents=True, exist_ok=True)
        source, destination = seed(subtype, args.accounts, args.seed, args.gcp_key_share)
        secrets = root / "secrets.json"
        secrets.write_text(json.dumps(make_cloud_secrets(source)))
        secrets.chmod(0o600)
        with EmulatorProcess(
            [SOURCE, DESTINATION, EMPTY], log_path=root / "emulator.log", latency_ms=args.latency_ms, seed=args.seed
        ) as emu:
            emu.seed(SOURCE.name, source)
            emu.seed(DESTINATION.name, destination)
            pycache = self.workdir / "pycache"
            env = harness.cli_env(emu.url, pycache=pycache)
            # One unmeasured run fills the bytecode cache (a pip-installed tool ships its .pyc files).
            warm = harness.cli_env(emu.url, source=EMPTY, pycache=pycache)
            run_cli(self.cli_args("import", subtype, secrets), env=warm, cwd=root / "warm-up", name="run")
            seeded = self.profile(subtype, emu.dump(SOURCE.name))
            phases = {}
            for phase in PHASES:
                phases[phase] = self.phase(emu, env, subtype, phase, secrets, root)
                print_phase(subtype, phase, phases[phase])
        return {"seeded": seeded, "phases": phases}

    @staticmethod
    def profile(subtype: str, dump: dict) -> dict[str, Any]:
        accounts = dump.get(subtype, {}).get("accounts", [])
        if subtype == "gcp":
            keys = sum(1 for a in accounts if a.get("private_key"))
            return {"accounts": len(accounts), "sts": len(accounts) - keys, "v1_key": keys}
        return {"accounts": len(accounts), "tenants": len({a["tenant_name"] for a in accounts})}

    def phase(
        self, emu: EmulatorProcess, env: dict[str, str], subtype: str, phase: str, secrets: Path, root: Path
    ) -> dict[str, Any]:
        args = self.args
        desired = emu.dump(SOURCE.name)
        needed = min_writes(subtype, desired, emu.dump(DESTINATION.name)) if COMMANDS[phase] == "sync" else 0
        emu.clear_requests()
        emu.reset_counters()
        emu_cpu = emu.cpu_seconds()
        run = run_cli(
            self.cli_args(COMMANDS[phase], subtype, secrets),
            env=env,
            cwd=root / "run",
            name=phase,
            timeout=args.timeout,
        )
        emu_cpu = emu.cpu_seconds() - emu_cpu
        counted = sum(c["requests"] for c in emu.counters()["by_org"].values())
        log = emu.requests()
        stats = harness.request_stats(log, counted)
        times = harness.timeline(log, run)
        floor = harness.floor_seconds(stats.reads, stats.writes, args.latency_ms, args.max_workers)
        ours = [e for e in log if API_PATH[subtype] in e["path"]]
        stdout = run.stdout()
        result: dict[str, Any] = {
            "command": COMMANDS[phase],
            "returncode": run.returncode,
            "timed_out": run.timed_out,
            "summary": harness.summary_line(stdout, "Applied:") or harness.summary_line(stdout, "Imported:"),
            "wall_s": round(run.wall_s, 4),
            "cpu_s": round(run.cpu_s, 4),
            "maxrss_mb": round(run.maxrss_mb, 1),
            "rss_source": run.rss_source,
            "emulator_cpu_s": round(emu_cpu, 3),
            **times,
            "floor_s": round(floor, 4),
            "ratio": round(run.wall_s / floor, 4) if floor else None,
            "requests_ratio": round(times["requests_s"] / floor, 4) if floor else None,
            "write_turnaround": harness.write_turnaround(log, args.latency_ms),
            "requests": stats.as_dict(),
            "reads": stats.reads,
            "writes": stats.writes,
            "subtype_reads": sum(1 for e in ours if e["method"] == "GET"),
            "subtype_writes": sum(1 for e in ours if e["method"] != "GET"),
            "min_writes": needed,
            "by_status": dict(Counter(str(e["status"]) for e in log)),
            "retries": dict(harness.count_retries(run.stderr())),
        }
        if COMMANDS[phase] == "sync":
            after = emu.dump(DESTINATION.name)
            wrong = differing(view(subtype, desired), view(subtype, after))
            names = identities(subtype, after)
            result["destination_equals_source"] = {
                "equal": not wrong and len(names) == len(set(names)),
                "accounts": len(names),
                "different": wrong[:20],
                "different_count": len(wrong),
                "duplicates": len(names) - len(set(names)),
            }
        return result


# ------------------------------------------------------------------------------------------------- reporting
def checks(results: dict[str, Any]) -> list[dict[str, str]]:
    """(check, verdict, detail) rows: PASS or FAIL."""
    rows = []
    for subtype, result in results.items():
        every = [(phase, r) for run in result.get("runs", [result["phases"]]) for phase, r in run.items()]
        for phase, r in every:
            if r["returncode"] != 0:
                rows.append(_row(f"{subtype} {phase} exits 0", False, f"exit {r['returncode']}: {r['summary']}"))
            if r["command"] != "sync":
                continue
            what = "no-op re-sync makes 0 writes" if phase == "resync" else "sync writes == minimum"
            rows.append(
                _row(f"{subtype} {what}", r["writes"] == r["min_writes"], f"{r['writes']}, minimum {r['min_writes']}")
            )
            eq = r["destination_equals_source"]
            detail = (
                f"{eq['accounts']} accounts equal, 0 duplicates"
                if eq["equal"]
                else f"{eq['different_count']} different, {eq['duplicates']} duplicated"
            )
            rows.append(_row(f"{subtype} {phase}: destination == source", eq["equal"], detail))
    # One row per check: a check fails when any run fails it (the last failing run's detail is kept).
    merged: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["check"] not in merged or row["verdict"] == "FAIL":
            merged[row["check"]] = row
    return list(merged.values())


def _row(check: str, ok: bool, detail: str) -> dict[str, str]:
    return {"check": check, "verdict": "PASS" if ok else "FAIL", "detail": detail}


def print_phase(subtype: str, phase: str, r: dict[str, Any]) -> None:
    status = "ok" if r["returncode"] == 0 else f"EXIT {r['returncode']}"
    print(
        f"  {subtype:<6}{phase:<7} {status:<6} wall {r['wall_s']:7.2f} s  floor {r['floor_s']:7.2f} s  "
        f"reads {r['reads']:5d}  writes {r['writes']:5d} (min {r['min_writes']})  CPU {r['cpu_s']:6.2f} s  "
        f"RSS {r['maxrss_mb']:5.1f} MB  | {r['summary']}",
        flush=True,
    )


def _ratio(value: float | None) -> str:
    return f"{value:.2f}" if value else "-"


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    out = [
        f"{report['accounts']} accounts per subtype, L = {report['latency_ms']:g} ms, --max-workers "
        f"{report['max_workers']}, commit `{report['commit']}`, {m['cpus']} CPUs ({m['cpu_model'] or 'unknown CPU'}), "
        f"Python {m['python']}.",
        "",
        "| subtype | phase | wall s | floor s | wall/floor | requests span/floor | reads | writes (min) | CLI CPU s "
        "| peak RSS MB | emulator CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for subtype, result in report["subtypes"].items():
        for phase, r in result["phases"].items():
            out.append(
                f"| {subtype} | {phase} | {r['wall_s']:.2f} | {r['floor_s']:.2f} | {_ratio(r['ratio'])} | "
                f"{_ratio(r['requests_ratio'])} | {r['reads']} | {r['writes']} ({r['min_writes']}) | {r['cpu_s']:.2f} "
                f"| {r['maxrss_mb']:.0f} | {r['emulator_cpu_s']:.2f} |"
            )
    out += ["", "| check | verdict | detail |", "|---|---|---|"]
    out += [f"| {c['check']} | {c['verdict']} | {c['detail']} |" for c in report["checks"]]
    return "\n".join(out)


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\ndatadog-sync cloud benchmark: {report['accounts']} accounts per subtype, L = {report['latency_ms']:g} ms, "
        f"--max-workers {report['max_workers']}, commit {report['commit']}, {report['machine']['cpus']} CPUs, "
        f"Python {report['machine']['python']}"
    )
    for subtype, result in report["subtypes"].items():
        print(f"\n{subtype}: seeded {json.dumps(result['seeded'])}")
        for phase, r in result["phases"].items():
            parts = ", ".join(f"{k} {v}" for k, v in r["requests"]["by_endpoint"].items())
            print(
                f"  {phase:<7} wall {r['wall_s']:.2f} s (floor {r['floor_s']:.2f} s, {_ratio(r['ratio'])}x; requests "
                f"span {_ratio(r['requests_ratio'])}x), startup {r['startup_s']:.2f} s, tail {r['tail_s']:.2f} s, "
                f"CPU {r['cpu_s']:.2f} s, RSS {r['maxrss_mb']:.0f} MB, emulator CPU {r['emulator_cpu_s']:.2f} s"
            )
            turnaround = r.get("write_turnaround") or {}
            if turnaround.get("gap_ms") is not None:
                print(
                    f"          per serialized write: {turnaround['server_over_l_ms']:.2f} ms in the emulator beyond "
                    f"L, {turnaround['gap_ms']:.2f} ms from one answer to the next write"
                )
            print(f"          requests: {parts or 'none'}")
    print("\nchecks:")
    for c in report["checks"]:
        print(f"  [{c['verdict']}] {c['check']}: {c['detail']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--accounts", type=int, default=500, help="accounts of each subtype in the source (default 500)")
    p.add_argument("--latency-ms", type=float, default=20.0, help="emulated latency per request (default 20)")
    p.add_argument(
        "--subtypes",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        default=list(SUBTYPES),
        help=f"comma-separated subset of {','.join(SUBTYPES)} (default both)",
    )
    p.add_argument(
        "--gcp-key-share", type=float, default=0.1, help="share of GCP accounts that are v1 key integrations (0.1)"
    )
    p.add_argument("--max-workers", type=int, default=100, help="the CLI's --max-workers (default 100)")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated orgs")
    p.add_argument("--repeat", type=int, default=1, help="run each subtype this many times; report the median run")
    p.add_argument("--json-out", type=Path, help="write the full report as JSON (e.g. benchmarks/results/x.json)")
    p.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds before a phase is killed (default 3600)")
    p.add_argument("--workdir", type=Path, help="keep state files and logs here (default: a temporary directory)")
    args = p.parse_args(argv)
    unknown = set(args.subtypes) - set(SUBTYPES)
    if unknown or not args.subtypes:
        p.error(f"unknown subtypes {sorted(unknown)}; choose from {','.join(SUBTYPES)}")
    if args.accounts < 1 or args.latency_ms < 0 or not 0 <= args.gcp_key_share <= 1 or args.repeat < 1:
        p.error("--accounts and --repeat must be >= 1, --latency-ms >= 0 and --gcp-key-share within [0, 1]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="datadog-sync-cloud-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"cloud benchmark: {args.accounts} accounts, L = {args.latency_ms:g} ms, work dir {workdir}", flush=True)
    try:
        report = CloudBench(args, workdir).run()
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(report)
    if args.markdown:
        print("\n" + markdown(report))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2))
    return 1 if any(c["verdict"] == "FAIL" for c in report["checks"]) else 0


if __name__ == "__main__":
    sys.exit(main())

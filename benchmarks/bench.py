"""Benchmark datadog-sync's `integrations` (AWS) at scale against the local API emulator.

    python benchmarks/bench.py                                   # 1,000 accounts, L = 20 ms, every phase
    python benchmarks/bench.py --latency-ms 0                    # CPU per account
    python benchmarks/bench.py --accounts 10000 --latency-ms 0   # peak RSS at 10,000 accounts
    python benchmarks/bench.py --phases import,sync --json-out benchmarks/results/run.json
    python benchmarks/bench.py --api v1                          # the same on the v1 AWS API
    python benchmarks/bench.py --compare v1.json v2.json         # two --json-out reports side by side

`--api v1|v2` (default v2) picks the AWS API generation the CLI uses (`--integrations-aws-api`); the report and
its JSON name it. The emulator runs in its own process with a per-request latency L (writes too); the source org is seeded with
N accounts (`make_aws_org`: role and key accounts, tag filters, Lambda ARNs, log services). Each phase is one
`python -m datadog_sync ...` subprocess in a temporary directory:

  import   source org -> source state
  aiohttp  the import's requests made by a bare aiohttp client (benchmarks/bare_import.py): the reference
  diffs    plan against the empty destination
  sync     create everything in the empty destination
  resync   the same sync again: must write nothing
  reimport after 10% of the source accounts changed (a host tag, a tag filter or a Lambda ARN each, changed in
           the emulator's one store, so both API generations see the change)
  update   sync of those changes

Per phase: wall time, CPU (user+sys) and peak RSS of the CLI process (os.wait4), requests from the emulator's
request log (reads = GET, writes = the rest), the floor (writes x L + ceil(reads / c) x L, c = the read
concurrency the resource allows), the fewest writes the change needs (v1: per endpoint; v2: one per changed
account, and the writes each account got), and the fixed cost of one invocation (interpreter, imports, an import
of an empty org) so per-account figures are honest. See docs/performance.md.
Over 400 lines on purpose: one script a user runs as it is, its phases and report side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import DESTINATION, EMPTY, REFERENCE, SOURCE, EmulatorProcess, run_cli  # noqa: E402
from datadog_sync.emulator import make_aws_org  # noqa: E402
from datadog_sync.emulator.aws_v2_model import FILTER_TO_CLOUDWATCH  # noqa: E402

PHASES = ("import", "aiohttp", "diffs", "sync", "aiohttp-sync", "resync", "reimport", "update")
#: Phases measured on one generation only.
ONLY_ON = {"aiohttp-sync": "v2"}
NEEDS = {
    "import": (),
    "aiohttp": (),
    "diffs": ("import",),
    "sync": ("import",),
    "aiohttp-sync": (),
    "resync": ("sync",),
    "reimport": ("sync",),
    "update": ("reimport",),
}
COMMANDS = {
    "import": "import",
    "aiohttp": "import",  # not the CLI: benchmarks/bare_import.py, the import's requests on bare aiohttp
    "diffs": "diffs",
    "sync": "sync",
    "aiohttp-sync": "sync",  # not the CLI: benchmarks/bare_sync.py, the v2 sync's creates on bare aiohttp
    "resync": "sync",
    "reimport": "import",
    "update": "sync",
}
#: What one CLI run imports before its first request.
CLI_MODULES = (
    "datadog_sync.cli",
    "datadog_sync.runner",
    "datadog_sync.applier",
    "datadog_sync.importer",
    "datadog_sync.resources.integrations",
)
#: Phases that leave both orgs and the state as they found them, so they can be repeated.
REPEATABLE = ("import", "aiohttp", "diffs", "aiohttp-sync", "resync")
#: The reference phase: the import's requests made by a bare aiohttp client in a fresh process.
BARE_IMPORT = Path(__file__).resolve().parent / "bare_import.py"
#: The v2 sync's reference: its creates made by a bare aiohttp client, serialized, into an org of their own.
BARE_SYNC = Path(__file__).resolve().parent / "bare_sync.py"
RATIO_TARGET = 1.15
#: v2 targets (issue 11): sync within this many times writes x L when writes are serialized; import in at most
#: this many requests, whatever the number of accounts.
V2_SYNC_TARGET = 1.10
V2_IMPORT_MAX_REQUESTS = 2
CPU_TARGET_MS = 2.0
RSS_TARGET_MB = 200.0
RSS_TARGET_ACCOUNTS = 10_000


def read_concurrency(max_workers: int) -> tuple[int, str]:
    """The concurrency per-account reads can have: --max-workers, unless the resource caps it lower."""
    try:
        from datadog_sync.resources.integrations.aws.subtype import READ_CONCURRENCY
    except ImportError:  # pragma: no cover - the cap was removed or renamed
        return max_workers, "--max-workers"
    if READ_CONCURRENCY and READ_CONCURRENCY < max_workers:
        return READ_CONCURRENCY, "aws READ_CONCURRENCY cap"
    return max_workers, "--max-workers"


def phases_for(api: str) -> tuple[str, ...]:
    """Every phase a run on ``api`` measures by default."""
    return tuple(p for p in PHASES if ONLY_ON.get(p, api) == api)


def resolve_phases(requested: list[str]) -> list[str]:
    wanted: set[str] = set()

    def add(phase: str) -> None:
        if phase not in wanted:
            wanted.add(phase)
            for dep in NEEDS[phase]:
                add(dep)

    for phase in requested:
        add(phase)
    return [p for p in PHASES if p in wanted]


def mutate(state: dict, share: float, seed: int) -> tuple[dict, dict[str, int]]:
    """A copy of `state` with `share` of the accounts changed: a host tag, a tag filter or a Lambda ARN.

    Each change is one both API generations see (the emulator keeps one store per org, docs/emulator.md): host tags
    are v2's `account_tags`, Lambda ARNs its `lambda_forwarder.lambdas`, and the tag filter changed is always of a
    namespace v2 files under a CloudWatch namespace (`custom` has no v2 form), added if the account has none."""
    new = json.loads(json.dumps(state))
    accounts = new["aws"]["accounts"]
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(accounts)), round(len(accounts) * share)))
    kinds = {"host_tag": 0, "tag_filter": 0, "lambda_arn": 0}
    for n, i in enumerate(chosen):
        acc = accounts[i]
        kind = ("host_tag", "tag_filter", "lambda_arn")[n % 3]
        if kind == "lambda_arn" and not acc.get("account_id"):
            kind = "host_tag"
        if kind == "host_tag":
            acc["host_tags"] = [*acc.get("host_tags", []), f"bench:update-{n}"]
        elif kind == "tag_filter":
            filters = acc.setdefault("tag_filters", {})
            namespace = min((ns for ns in filters if ns in FILTER_TO_CLOUDWATCH), default="elb")
            filters[namespace] = f"bench:update-{n}"
        else:
            logs = acc.setdefault("logs", {"lambdas": [], "services": []})
            logs["lambdas"] = [*logs.get("lambdas", []), f"arn:aws:lambda:us-east-1:{acc['account_id']}:function:b{n}"]
        kinds[kind] += 1
    return new, kinds


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.concurrency, self.concurrency_source = read_concurrency(args.max_workers)
        self.results: dict[str, Any] = {}

    def cli_args(self, command: str, secrets: str = "secrets.json") -> list[str]:
        return [
            command,
            *harness.CLI_FLAGS,
            harness.api_flag(self.args.api),
            f"--integrations-secrets-file={self.workdir / secrets}",
            f"--max-workers={self.args.max_workers}",
        ]

    def run(self) -> dict[str, Any]:
        args = self.args
        started = time.time()
        with EmulatorProcess(
            [SOURCE, DESTINATION, EMPTY, REFERENCE],
            log_path=self.workdir / "emulator.log",
            latency_ms=args.latency_ms,
            seed=args.seed,
        ) as emu:
            self.emu = emu
            t0 = time.perf_counter()
            state = make_aws_org(args.accounts, seed=args.seed)
            emu.seed(SOURCE.name, state)
            (self.workdir / "secrets.json").write_text(json.dumps(harness.secrets_for(state)))
            # The fixed cost must not grow with N: its runs get a secrets file without entries.
            (self.workdir / "no-secrets.json").write_text(json.dumps({"aws": {}}))
            seed_s = time.perf_counter() - t0
            self.pycache = self.workdir / "pycache"
            self.env = harness.cli_env(emu.url, pycache=self.pycache)
            self.reference_env = harness.cli_env(emu.url, destination=REFERENCE, pycache=self.pycache)
            self.warm_up()
            fixed = self.fixed_cost() if not args.no_fixed_cost else None
            phases = {}
            for phase in resolve_phases(args.phases or list(phases_for(args.api))):
                phases[phase] = self.phase(phase)
                self.print_phase(phase, phases[phase])
        return {
            "benchmark": "datadog-sync integrations (aws)",
            "api": args.api,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "commit": harness.git_commit(),
            "machine": harness.machine(),
            "accounts": args.accounts,
            "latency_ms": args.latency_ms,
            "max_workers": args.max_workers,
            "read_concurrency": self.concurrency,
            "read_concurrency_source": self.concurrency_source,
            "seed": args.seed,
            "seed_seconds": round(seed_s, 3),
            "seeded": _seed_profile(state),
            "fixed_cost": fixed,
            "phases": phases,
        }

    # ----------------------------------------------------------------------------------------- fixed cost
    def warm_up(self) -> None:
        """One unmeasured run fills the bytecode cache (a pip-installed tool ships its .pyc files)."""
        env_empty = harness.cli_env(self.emu.url, source=EMPTY, pycache=self.pycache)
        run_cli(self.cli_args("import", "no-secrets.json"), env=env_empty, cwd=self.workdir / "warm-up", name="run")

    def fixed_cost(self) -> dict[str, Any]:
        """Median of 3: the interpreter importing the CLI's modules, and a whole import of an empty org."""
        env_empty = harness.cli_env(self.emu.url, source=EMPTY, pycache=self.pycache)
        imports = [sys.executable, "-c", harness.HWM_PRELUDE + "import " + ", ".join(CLI_MODULES)]
        version, empty = [], []
        for i in range(3):
            version.append(run_cli([], env=self.env, cwd=self.workdir / "fixed", name=f"imports-{i}", command=imports))
            empty.append(
                run_cli(
                    self.cli_args("import", "no-secrets.json"),
                    env=env_empty,
                    cwd=self.workdir / f"fixed-{i}",
                    name="run",
                )
            )

        def median(runs: list[harness.CliRun]) -> dict[str, float]:
            return {
                "wall_s": round(statistics.median(r.wall_s for r in runs), 4),
                "cpu_s": round(statistics.median(r.cpu_s for r in runs), 4),
                "maxrss_mb": round(statistics.median(r.maxrss_mb for r in runs), 1),
            }

        out = {"interpreter_and_imports": median(version), "empty_import": median(empty)}
        print(
            f"fixed cost of one invocation: interpreter + imports {out['interpreter_and_imports']['wall_s']:.2f} s "
            f"wall / {out['interpreter_and_imports']['cpu_s']:.2f} s CPU / "
            f"{out['interpreter_and_imports']['maxrss_mb']:.0f} MB; import of an empty org "
            f"{out['empty_import']['wall_s']:.2f} s wall / {out['empty_import']['cpu_s']:.2f} s CPU / "
            f"{out['empty_import']['maxrss_mb']:.0f} MB",
            flush=True,
        )
        return out

    # --------------------------------------------------------------------------------------------- phases
    def phase(self, phase: str) -> dict[str, Any]:
        """One phase; a repeatable one (it leaves the orgs as it found them) runs --repeat times and the run with
        the median wall time is reported, with every run's wall and CPU alongside."""
        if self.args.repeat <= 1 or phase not in REPEATABLE:
            return self.phase_once(phase)
        runs = [self.phase_once(phase) for _ in range(self.args.repeat)]
        chosen = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
        chosen["samples"] = {"wall_s": [r["wall_s"] for r in runs], "cpu_s": [r["cpu_s"] for r in runs]}
        chosen["maxrss_mb"] = max(r["maxrss_mb"] for r in runs)
        return chosen

    def phase_once(self, phase: str) -> dict[str, Any]:
        emu, args = self.emu, self.args
        extra: dict[str, Any] = {}
        if phase == "reimport":
            mutated, kinds = mutate(emu.dump(SOURCE.name), args.update_share, args.seed + 1)
            emu.seed(SOURCE.name, mutated)
            extra["changed_accounts"] = kinds
        target = REFERENCE if phase == "aiohttp-sync" else DESTINATION
        if target is REFERENCE:
            emu.wipe(REFERENCE.name)  # the reference creates every account, each time
        desired = emu.dump(SOURCE.name)
        before = emu.dump(target.name)
        writes_needed, changed = 0, []
        if COMMANDS[phase] == "sync":
            if args.api == "v2":
                changed = harness.changed_v2(before, desired)
                writes_needed = len(changed)  # one PATCH or POST per account that differs
            else:
                changed = harness.changed_v1(before, desired)
                writes_needed = harness.min_writes_between(before, desired)
        emu.clear_requests()
        emu.reset_counters()
        emu_cpu = emu.cpu_seconds()
        python_args: list[str] = []
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            python_args = ["-m", "cProfile", "-o", str(args.profile / f"{phase}.prof")]
        command = None
        if phase == "aiohttp":
            out = self.workdir / "run" / "aiohttp.json"
            bare = f"runpy.run_path({str(BARE_IMPORT)!r}, run_name='__main__')"
            code = f"{harness.HWM_PRELUDE}\nimport runpy\nsys.argv[1:1] = [{str(out)!r}]\n{bare}"
            command = [sys.executable, "-c", code, f"--max-workers={args.max_workers}", f"--api={args.api}"]
        elif phase == "aiohttp-sync":
            bare = f"runpy.run_path({str(BARE_SYNC)!r}, run_name='__main__')"
            code = f"{harness.HWM_PRELUDE}\nimport runpy\n{bare}"
            command = [sys.executable, "-c", code, str(self.workdir / "secrets.json")]
        run = run_cli(
            self.cli_args(COMMANDS[phase]),
            env=self.reference_env if target is REFERENCE else self.env,
            cwd=self.workdir / "run",
            name=phase,
            timeout=args.timeout,
            python_args=python_args,
            command=command,
        )
        emu_cpu = emu.cpu_seconds() - emu_cpu
        counters = emu.counters()
        counted = sum(c["requests"] for c in counters["by_org"].values())
        log = emu.requests()
        if args.workdir:  # kept for a closer look (e.g. each write's arrival and answer times)
            with open(self.workdir / f"requests-{phase}.jsonl", "w", encoding="utf-8") as f:
                f.writelines(json.dumps(entry) + "\n" for entry in log)
        stats = harness.request_stats(log, counted)
        times = harness.timeline(log, run)
        turnaround = harness.write_turnaround(log, args.latency_ms)
        floor = harness.floor_seconds(stats.reads, stats.writes, args.latency_ms, self.concurrency)
        floor_mw = harness.floor_seconds(stats.reads, stats.writes, args.latency_ms, args.max_workers)
        stdout = run.stdout()
        result: dict[str, Any] = {
            "command": COMMANDS[phase],
            "returncode": run.returncode,
            "timed_out": run.timed_out,
            "summary": harness.summary_line(stdout, "Applied:")
            or harness.summary_line(stdout, "Imported:")
            or harness.summary_line(stdout, "Plan:"),
            "wall_s": round(run.wall_s, 4),
            "cpu_s": round(run.cpu_s, 4),
            "user_s": round(run.user_s, 4),
            "sys_s": round(run.sys_s, 4),
            "maxrss_mb": round(run.maxrss_mb, 1),
            "rss_source": run.rss_source,
            "emulator_cpu_s": round(emu_cpu, 3),
            **times,
            "requests_ratio": round(times["requests_s"] / floor, 4) if floor else None,
            "write_turnaround": turnaround,
            "requests": stats.as_dict(),
            "reads": stats.reads,
            "writes": stats.writes,
            "min_writes": writes_needed,
            "changed_accounts_count": len(changed),
            "write_concurrency": harness.max_concurrent_writes(log),
            "writes_floor_s": round(stats.writes * args.latency_ms / 1000, 4),
            "floor_s": round(floor, 4),
            "ratio": round(run.wall_s / floor, 4) if floor else None,
            "floor_at_max_workers_s": round(floor_mw, 4),
            "retries": dict(harness.count_retries(run.stderr())),
            **extra,
        }
        if COMMANDS[phase] == "sync":
            after = emu.dump(target.name)
            compare = harness.compare_v2 if args.api == "v2" else harness.compare
            result["destination_equals_source"] = compare(desired, after).as_dict()
            if args.api == "v2":
                result["writes_by_account"] = _writes_by_account(
                    harness.v2_writes_by_account(log, target.name, before, after), changed
                )
        if args.profile:
            result["profile"] = str(args.profile / f"{phase}.prof")
        return result

    def print_phase(self, phase: str, r: dict[str, Any]) -> None:
        n = max(self.args.accounts, 1)
        status = "ok" if r["returncode"] == 0 else f"EXIT {r['returncode']}"
        print(
            f"  {phase:<12} {status:<6} wall {r['wall_s']:8.2f} s  floor {r['floor_s']:8.2f} s  "
            f"reads {r['reads']:6d}  writes {r['writes']:6d} (min {r['min_writes']})  "
            f"CPU {r['cpu_s']:7.2f} s ({r['cpu_s'] * 1000 / n:.2f} ms/acct)  RSS {r['maxrss_mb']:6.1f} MB  "
            f"| {r['summary']}",
            flush=True,
        )


def _writes_by_account(counts: dict[str, int], changed: list[str]) -> dict[str, Any]:
    """v2: how the writes of a sync fell on accounts, against the accounts that had to change."""
    written = {k for k in counts if not k.startswith("(")}
    wanted = set(changed)
    return {
        "accounts_written": len(written),
        "changed_accounts": len(wanted),
        "max_per_account": max(counts.values(), default=0),
        "other_writes": {k: v for k, v in counts.items() if k.startswith("(")},
        "written_but_unchanged": sorted(written - wanted)[:20],
        "changed_but_not_written": sorted(wanted - written)[:20],
        "one_each": written == wanted and all(v == 1 for v in counts.values()),
    }


# ------------------------------------------------------------------------------------------------- reporting
def _seed_profile(state: dict) -> dict[str, Any]:
    accounts = state["aws"]["accounts"]
    n = max(len(accounts), 1)
    filters = sum(len(a.get("tag_filters") or {}) for a in accounts)
    arns = sum(len((a.get("logs") or {}).get("lambdas") or []) for a in accounts)
    with_services = sum(1 for a in accounts if (a.get("logs") or {}).get("services"))
    keys = sum(1 for a in accounts if a.get("access_key_id"))
    return {
        "accounts": len(accounts),
        "key_accounts": keys,
        "tag_filters": filters,
        "lambda_arns": arns,
        "accounts_with_log_services": with_services,
        "tag_filters_per_account": round(filters / n, 2),
        "lambda_arns_per_account": round(arns / n, 2),
    }


def net(value: float, fixed: float | None) -> float:
    return value - (fixed or 0.0)


def table(report: dict[str, Any]) -> str:
    n = max(report["accounts"], 1)
    fixed = report.get("fixed_cost") or {}
    empty = fixed.get("empty_import") or {}
    head = (
        f"{'phase':<13}{'wall s':>9}{'floor s':>9}{'ratio':>7}{'reads':>8}{'writes':>8}{'min w':>8}"
        f"{'r/acct':>8}{'w/acct':>8}{'CPU s':>8}{'ms/acct':>9}{'net ms/a':>9}{'RSS MB':>8}"
    )
    lines = [head, "-" * len(head)]
    for phase, r in report["phases"].items():
        ratio = f"{r['ratio']:.3f}" if r["ratio"] else "-"
        lines.append(
            f"{phase:<13}{r['wall_s']:>9.2f}{r['floor_s']:>9.2f}{ratio:>7}{r['reads']:>8}{r['writes']:>8}"
            f"{r['min_writes']:>8}{r['reads'] / n:>8.2f}{r['writes'] / n:>8.2f}{r['cpu_s']:>8.2f}"
            f"{r['cpu_s'] * 1000 / n:>9.3f}{net(r['cpu_s'], empty.get('cpu_s')) * 1000 / n:>9.3f}"
            f"{r['maxrss_mb']:>8.1f}"
        )
    return "\n".join(lines)


def time_table(report: dict[str, Any]) -> str:
    head = (
        f"{'phase':<13}{'wall s':>9}{'startup':>9}{'requests':>10}{'tail':>8}{'floor s':>9}{'req/floor':>10}"
        f"{'CLI CPU':>9}{'emu CPU':>9}{'w srv+':>8}{'w gap':>8}{'retries':>9}"
    )
    lines = [head, "-" * len(head)]
    for phase, r in report["phases"].items():
        rr = f"{r['requests_ratio']:.3f}" if r["requests_ratio"] else "-"
        lines.append(
            f"{phase:<13}{r['wall_s']:>9.2f}{r['startup_s']:>9.2f}{r['requests_s']:>10.2f}{r['tail_s']:>8.2f}"
            f"{r['floor_s']:>9.2f}{rr:>10}{r['cpu_s']:>9.2f}{r['emulator_cpu_s']:>9.2f}"
            f"{_ms(r.get('write_turnaround', {}).get('server_over_l_ms')):>8}"
            f"{_ms(r.get('write_turnaround', {}).get('gap_ms')):>8}{sum(r['retries'].values()):>9}"
        )
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def endpoints_table(report: dict[str, Any]) -> str:
    lines = []
    for phase, r in report["phases"].items():
        parts = ", ".join(f"{k} {v}" for k, v in r["requests"]["by_endpoint"].items())
        lines.append(f"{phase:<13}{parts}")
    return "\n".join(lines)


def targets(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, verdict, detail) rows; verdict is PASS, FAIL, n/a (not measured by this run), ref (the reference
    phase) or info (measured, not judged)."""
    phases, n, latency = report["phases"], report["accounts"], report["latency_ms"]
    empty = (report.get("fixed_cost") or {}).get("empty_import") or {}
    v2 = report.get("api", "v1") == "v2"  # reports written before --api existed measured v1
    rows: list[tuple[str, str, str]] = []
    for phase in ("import", "sync"):
        r = phases.get(phase)
        if v2:
            rows += _v2_speed_rows(phase, r, latency, empty)
        elif r is None or not latency:
            rows.append((f"{phase} wall <= {RATIO_TARGET}x floor", "n/a", "needs the phase and L > 0"))
            continue
        else:
            rows.append(
                (
                    f"{phase} wall <= {RATIO_TARGET}x floor",
                    "PASS" if r["ratio"] <= RATIO_TARGET else "FAIL",
                    _vs(r, empty),
                )
            )
        bare = phases.get("aiohttp")
        if phase == "import" and r and bare and bare["ratio"]:
            rows.append(
                (
                    "reference: the import's requests on bare aiohttp",
                    "ref",
                    f"{bare['ratio']:.3f}x ({bare['wall_s']:.2f} s; requests span {bare['requests_ratio']:.3f}x); "
                    f"import takes {r['wall_s'] / bare['wall_s']:.2f}x its time",
                )
            )
    bare_sync, sync = phases.get("aiohttp-sync"), phases.get("sync")
    if bare_sync and bare_sync["writes"] and latency:
        ratio = bare_sync["wall_s"] / bare_sync["writes_floor_s"]
        detail = (
            f"{ratio:.3f}x writes x L ({bare_sync['wall_s']:.2f} s for {bare_sync['writes']} writes; requests span "
            f"{bare_sync['requests_s'] / bare_sync['writes_floor_s']:.3f}x)"
        )
        if sync and sync["writes"]:
            detail += f"; sync takes {sync['wall_s'] / bare_sync['wall_s']:.2f}x its time"
        rows.append(("reference: the sync's creates on bare aiohttp, serialized", "ref", detail))
    if v2:
        rows += _v2_request_rows(phases, n)
    if "resync" in phases:
        w = phases["resync"]["writes"]
        rows.append(("no-op re-sync makes 0 writes", "PASS" if w == 0 else "FAIL", f"{w} writes"))
    for phase in ("sync", "update"):
        if phase in phases:
            r = phases[phase]
            if not v2:
                rows.append(
                    (
                        f"{phase} writes == minimum",
                        "PASS" if r["writes"] == r["min_writes"] else "FAIL",
                        f"{r['writes']} writes, minimum {r['min_writes']}",
                    )
                )
            eq = r.get("destination_equals_source", {})
            rows.append((f"{phase}: destination == source", "PASS" if eq.get("equal") else "FAIL", _eq_detail(eq)))
    tool_phases = {p: r for p, r in phases.items() if not p.startswith("aiohttp")}  # the references are not the tool
    for phase, r in tool_phases.items():
        if latency:
            break
        ms = net(r["cpu_s"], empty.get("cpu_s")) * 1000 / max(n, 1)
        rows.append(
            (
                f"{phase} CPU < {CPU_TARGET_MS} ms/account (L=0)",
                "PASS" if ms < CPU_TARGET_MS else "FAIL",
                f"{ms:.3f} ms/account net of the fixed cost ({r['cpu_s'] * 1000 / max(n, 1):.3f} gross)",
            )
        )
    if n >= RSS_TARGET_ACCOUNTS and tool_phases:
        peak_phase, peak = max(((p, r["maxrss_mb"]) for p, r in tool_phases.items()), key=lambda x: x[1])
        rows.append(
            (
                f"peak RSS < {RSS_TARGET_MB:.0f} MB at {n} accounts",
                "PASS" if peak < RSS_TARGET_MB else "FAIL",
                f"{peak:.1f} MB ({peak_phase})",
            )
        )
    else:
        rows.append((f"peak RSS < {RSS_TARGET_MB:.0f} MB at {RSS_TARGET_ACCOUNTS} accounts", "n/a", f"{n} accounts"))
    for phase, r in phases.items():
        if r["returncode"] != 0:
            rows.append((f"{phase} exits 0", "FAIL", f"exit {r['returncode']}: {r['summary']}"))
    return rows


def _vs(r: dict[str, Any], empty: dict[str, Any]) -> str:
    net_ratio = net(r["wall_s"], empty.get("wall_s")) / r["floor_s"] if r["floor_s"] else 0
    return (
        f"{r['ratio']:.3f}x ({r['wall_s']:.2f} s / {r['floor_s']:.2f} s; {net_ratio:.3f}x without the fixed "
        f"cost of one invocation; requests span {r['requests_ratio']:.3f}x)"
    )


def _v2_speed_rows(
    phase: str, r: dict[str, Any] | None, latency: float, empty: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """v2: the import is judged by its requests (below), its time against the floor is shown; the sync must
    finish within V2_SYNC_TARGET x (writes x L) with its writes serialized (the floor as for v1 shown too)."""
    if phase == "import":
        if r is None or not latency or not r["ratio"]:
            return []
        return [("import wall vs floor (v2: judged by its requests)", "info", _vs(r, empty))]
    name = f"sync wall <= {V2_SYNC_TARGET}x writes x L, writes serialized"
    if r is None or not latency or not r["writes"]:
        return [(name, "n/a", "needs the sync phase, L > 0 and writes")]
    ratio = r["wall_s"] / r["writes_floor_s"]
    serialized = r["write_concurrency"] <= 1
    detail = (
        f"{ratio:.3f}x ({r['wall_s']:.2f} s / {r['writes']} x {latency:g} ms = {r['writes_floor_s']:.2f} s); "
        f"floor writes x L + ceil(reads / c) x L = {r['floor_s']:.2f} s: {_vs(r, empty)}; "
        f"at most {r['write_concurrency']} write(s) at once"
    )
    return [(name, "PASS" if ratio <= V2_SYNC_TARGET and serialized else "FAIL", detail)]


def _v2_request_rows(phases: dict[str, Any], n: int) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for phase in ("import", "reimport"):
        r = phases.get(phase)
        if r is not None:
            # The AWS subtype's requests: the other integrations subtypes each list their own kind once.
            aws = {k: v for k, v in r["requests"]["by_endpoint"].items() if "/integration/aws" in k}
            total = sum(aws.values())
            others = r["reads"] + r["writes"] - total
            endpoints = ", ".join(f"{k} {v}" for k, v in aws.items())
            rows.append(
                (
                    f"{phase} lists the accounts in <= {V2_IMPORT_MAX_REQUESTS} requests (none per account)",
                    "PASS" if total <= V2_IMPORT_MAX_REQUESTS else "FAIL",
                    f"{total} AWS request(s) for {n} accounts: {endpoints or 'none'} (plus {others} listing(s) of the "
                    "other integrations subtypes, one each)",
                )
            )
    for phase in ("sync", "update"):
        r = phases.get(phase)
        if r is None:
            continue
        w = r.get("writes_by_account") or {}
        ok = bool(w.get("one_each")) and r["writes"] == r["min_writes"]
        detail = (
            f"{r['writes']} writes for {r['min_writes']} changed accounts; {w.get('accounts_written', 0)} accounts "
            f"written, at most {w.get('max_per_account', 0)} each"
        )
        for label in ("other_writes", "written_but_unchanged", "changed_but_not_written"):
            if w.get(label):
                detail += f"; {label.replace('_', ' ')}: {w[label]}"
        rows.append((f"{phase} makes exactly one write per changed account", "PASS" if ok else "FAIL", detail))
    return rows


def _eq_detail(eq: dict[str, Any]) -> str:
    if not eq:
        return "not checked"
    if eq.get("equal"):
        return f"{eq['destination_accounts']} accounts equal, 0 duplicates"
    return (
        f"{eq['missing_count']} missing, {eq['extra_count']} extra, {eq['different_count']} different, "
        f"{eq['duplicates']} duplicated"
    )


def print_report(report: dict[str, Any]) -> None:
    print()
    print(
        f"datadog-sync benchmark, AWS API {report.get('api', 'v1')}: {report['accounts']} accounts, "
        f"L = {report['latency_ms']:g} ms, "
        f"--max-workers {report['max_workers']}, read concurrency for the floor c = {report['read_concurrency']} "
        f"({report['read_concurrency_source']}), commit {report['commit']}, "
        f"{report['machine']['cpus']} CPUs, Python {report['machine']['python']}"
    )
    s = report["seeded"]
    print(
        f"seeded: {s['accounts']} accounts ({s['key_accounts']} key accounts), {s['tag_filters']} tag filters, "
        f"{s['lambda_arns']} Lambda ARNs, {s['accounts_with_log_services']} accounts with log services"
    )
    print()
    print(table(report))
    print()
    print("where the wall time goes (startup: spawn to first request; requests: first request to last answer;")
    print("tail: last answer to exit; req/floor: requests span over the floor; CPU of the CLI and of the emulator;")
    print(
        "w srv+ / w gap: per serialized write, ms the emulator took beyond L / ms from one answer to the next write):"
    )
    print(time_table(report))
    print()
    print("requests per endpoint:")
    print(endpoints_table(report))
    print()
    print("requests per account:")
    for name, value in requests_per_account(report).items():
        print(f"  {name:<34} {_per(value)}")
    print()
    print("targets:")
    for name, verdict, detail in targets(report):
        print(f"  [{verdict:>4}] {name}: {detail}")


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables, as docs/performance.md records them."""
    n = max(report["accounts"], 1)
    empty = (report.get("fixed_cost") or {}).get("empty_import") or {}
    out = [
        f"AWS API {report.get('api', 'v1')}, {report['accounts']} accounts, L = {report['latency_ms']:g} ms, "
        f"--max-workers {report['max_workers']}, "
        f"c = {report['read_concurrency']}, commit `{report['commit']}`, {report['machine']['cpus']} CPUs "
        f"({report['machine']['cpu_model'] or 'unknown CPU'}), Python {report['machine']['python']}.",
        "",
        "| phase | wall s | floor s | wall/floor | requests span/floor | reads | writes (min) | reads/acct | "
        "writes/acct | CLI CPU s | CPU ms/acct (net) | peak RSS MB | emulator CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase, r in report["phases"].items():
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        rr = f"{r['requests_ratio']:.2f}" if r["requests_ratio"] else "-"
        net_ms = net(r["cpu_s"], empty.get("cpu_s")) * 1000 / n
        out.append(
            f"| {phase} | {r['wall_s']:.2f} | {r['floor_s']:.2f} | {ratio} | {rr} | {r['reads']} | "
            f"{r['writes']} ({r['min_writes']}) | {r['reads'] / n:.2f} | {r['writes'] / n:.2f} | {r['cpu_s']:.2f} | "
            f"{r['cpu_s'] * 1000 / n:.2f} ({net_ms:.2f}) | {r['maxrss_mb']:.0f} | {r['emulator_cpu_s']:.2f} |"
        )
    fixed = report.get("fixed_cost")
    if fixed:
        imp = fixed["interpreter_and_imports"]
        out += [
            "",
            f"Fixed cost of one invocation: interpreter + imports {imp['wall_s']:.2f} s / {imp['cpu_s']:.2f} s CPU / "
            f"{imp['maxrss_mb']:.0f} MB; an import of an empty org {empty['wall_s']:.2f} s / {empty['cpu_s']:.2f} s "
            f"CPU / {empty['maxrss_mb']:.0f} MB.",
        ]
    out += ["", "| requests per account | |", "|---|---|"]
    out += [f"| {label} | {_per(value)} |" for label, value in requests_per_account(report).items()]
    out += ["", "| target | verdict | detail |", "|---|---|---|"]
    out += [f"| {t} | {v} | {d} |" for t, v, d in targets(report)]
    return "\n".join(out)


#: Rows of the per-account request figures: (label, phase, requests counted, divided by).
PER_ACCOUNT = (
    ("import: requests per account", "import", "total", "accounts"),
    ("sync (create): writes per account", "sync", "writes", "changed"),
    ("sync (create): reads per account", "sync", "reads", "accounts"),
    ("update: writes per changed account", "update", "writes", "changed"),
    ("update: reads per account", "update", "reads", "accounts"),
    ("no-op re-sync: writes per account", "resync", "writes", "accounts"),
    ("no-op re-sync: reads per account", "resync", "reads", "accounts"),
)


def requests_per_account(report: dict[str, Any]) -> dict[str, float | None]:
    """The request figures the issue compares between generations; None where the run lacks the phase."""
    out: dict[str, float | None] = {}
    for label, phase, what, per in PER_ACCOUNT:
        r = report["phases"].get(phase)
        if r is None:
            out[label] = None
            continue
        count = r["reads"] + r["writes"] if what == "total" else r[what]
        divisor = r.get("changed_accounts_count", 0) if per == "changed" else report["accounts"]
        out[label] = round(count / divisor, 3) if divisor else float(count)
    return out


def _per(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}".rstrip("0").rstrip(".")


def compare_markdown(reports: list[dict[str, Any]]) -> str:
    """Two or more --json-out reports side by side (e.g. --api v1 and v2): requests per account, time per phase."""
    names = [f"{r.get('api', 'v1')} ({r['accounts']} acc., L = {r['latency_ms']:g} ms)" for r in reports]
    head = "| | " + " | ".join(names) + " |"
    out = [head, "|---" * (len(reports) + 1) + "|"]
    per = [requests_per_account(r) for r in reports]
    for label, *_ in PER_ACCOUNT:
        out.append(f"| {label} | " + " | ".join(_per(p[label]) for p in per) + " |")
    for phase in PHASES:
        cells = []
        for r in reports:
            ph = r["phases"].get(phase)
            cells.append("-" if ph is None else f"{ph['wall_s']:.2f} s ({ph['reads']} reads, {ph['writes']} writes)")
        if any(c != "-" for c in cells):
            out.append(f"| {phase}: wall time | " + " | ".join(cells) + " |")
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--api", choices=harness.APIS, default="v2", help="AWS API generation the CLI uses (default v2)")
    p.add_argument("--accounts", type=int, default=1000, help="AWS accounts in the source org (default 1000)")
    p.add_argument("--latency-ms", type=float, default=20.0, help="emulated latency per request (default 20)")
    p.add_argument(
        "--phases",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        default=None,
        help=f"comma-separated subset of {','.join(PHASES)} (prerequisites are added); default all "
        f"({', '.join(f'{p} on {api} only' for p, api in ONLY_ON.items())})",
    )
    p.add_argument("--max-workers", type=int, default=100, help="the CLI's --max-workers (default 100)")
    p.add_argument("--update-share", type=float, default=0.1, help="share of accounts changed for 'update'")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated org and of the changes")
    p.add_argument("--json-out", type=Path, help="write the full report as JSON (e.g. benchmarks/results/x.json)")
    p.add_argument("--profile", type=Path, help="run each phase under cProfile, writing <dir>/<phase>.prof")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds before a phase is killed (default 3600)")
    p.add_argument(
        "--workdir",
        type=Path,
        help="keep state files, logs and each phase's emulator request log (requests-<phase>.jsonl) here "
        "(default: a temporary directory)",
    )
    p.add_argument("--no-fixed-cost", action="store_true", help="skip measuring the fixed cost of an invocation")
    p.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    p.add_argument(
        "--repeat", type=int, default=1, help=f"run {', '.join(REPEATABLE)} this many times; report the median run"
    )
    p.add_argument("--from-json", type=Path, help="print the report of an earlier --json-out run; run nothing")
    p.add_argument(
        "--compare", type=Path, nargs="+", metavar="JSON", help="print --json-out reports side by side; run nothing"
    )
    args = p.parse_args(argv)
    unknown = set(args.phases or ()) - set(PHASES)
    if unknown:
        p.error(f"unknown phases {sorted(unknown)}; choose from {','.join(PHASES)}")
    elsewhere = [ph for ph in args.phases or () if ONLY_ON.get(ph, args.api) != args.api]
    if elsewhere:
        p.error(f"phases {elsewhere} are measured on {', '.join(sorted({ONLY_ON[ph] for ph in elsewhere}))} only")
    if args.accounts < 1 or args.latency_ms < 0 or not 0 <= args.update_share <= 1:
        p.error("--accounts must be >= 1, --latency-ms >= 0 and --update-share within [0, 1]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.compare:
        print(compare_markdown([json.loads(path.read_text()) for path in args.compare]))
        return 0
    if args.from_json:
        report = json.loads(args.from_json.read_text())
        print_report(report)
        if args.markdown:
            print("\n" + markdown(report))
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="datadog-sync-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"benchmark, AWS API {args.api}: {args.accounts} accounts, L = {args.latency_ms:g} ms, work dir {workdir}",
        flush=True,
    )
    try:
        report = Bench(args, workdir).run()
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(report)
    if args.markdown:
        print("\n" + markdown(report))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        report["targets"] = [{"target": t, "verdict": v, "detail": d} for t, v, d in targets(report)]
        report["requests_per_account"] = requests_per_account(report)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nJSON written to {args.json_out}")
    return 0 if all(v != "FAIL" for _, v, _ in targets(report)) else 1


if __name__ == "__main__":
    sys.exit(main())

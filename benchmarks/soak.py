"""Fault soak: datadog-sync must lose nothing through 5xx, rate limits, lost responses and SIGKILLs.

    python benchmarks/soak.py                       # 500 accounts, the full configuration (a few minutes)
    python benchmarks/soak.py --accounts 60 --kills 3 --json-out benchmarks/results/soak.json

The emulator (its own process) injects, on every API request: `--fault-rate` random 500/502/503 (not applied),
a fixed-window rate limit (`--rate-limit` requests per `--rate-period` s per org: real 429s with X-RateLimit-*
headers), a 429 on every `--rate-limit-every`th request of an org (so 429s happen whatever the machine's speed)
and, on writes, `--lost-response-rate` lost responses (applied, answered 504).

Part 1, migrate: `migrate` of N accounts into an empty org (re-run while failures remain, at most `--max-runs`).
Part 2, kills: the destination is wiped and `sync` is SIGKILLed `--kills` times, each time while the emulator
holds its request after a random (seeded) number of destination writes, then run to completion. Counting writes
instead of seconds puts every kill mid-sync, at the same point, on a fast machine and on a loaded one.

After each part: the destination equals the source (normalised accounts, tag filters, logs; secrets of key
accounts included), no account is duplicated, the last run reports 0 failures and exits 0, every state file is
valid JSON (also after every kill), destination state knows the external ID of every role account in the
destination (so none is lost), and one more `sync` writes nothing. Reported: the emulator's counters (faults
injected, 429s, lost responses, write conflicts) and the client's retries (its "retrying" warnings).
Over 400 lines on purpose: one script a user runs as it is, its fault plan, kill loop and verdicts side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/soak.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.harness import DESTINATION, SOURCE, EmulatorProcess, run_cli  # noqa: E402
from datadog_sync.emulator import make_aws_org  # noqa: E402

COUNTERS = ("requests", "faults_injected", "rate_limited", "lost_responses", "write_conflicts")


@dataclass
class SoakConfig:
    accounts: int = 500
    fault_rate: float = 0.10
    lost_response_rate: float = 0.05
    rate_limit: int = 100
    rate_period: int = 2
    rate_limit_every: int | None = 100
    latency_ms: float = 5.0
    kills: int = 5
    kill_min_writes: int = 1  # each kill lands after this many to ...
    kill_max_writes: int = 300  # ... this many more destination writes (seeded)
    max_runs: int = 3
    seed: int = 7
    run_timeout_s: float = 900.0
    max_workers: int = 100
    #: The AWS API generation the CLI uses. The soak's checks, fault paths and figures are v1's (its comparison,
    #: the external-ID journal of v1 creates); it passes the flag since v2 became the CLI's default.
    api: str = "v1"


class Soak:
    def __init__(self, cfg: SoakConfig, workdir: Path, log=print) -> None:
        self.cfg = cfg
        self.workdir = workdir
        self.log = log
        self.rng = random.Random(cfg.seed)

    # ------------------------------------------------------------------------------------------------ plumbing
    def cli(self, command: str, cwd: Path, name: str, kill_at_write: int | None = None) -> harness.CliRun:
        """Run the CLI; with ``kill_at_write``, SIGKILL it once the emulator holds a request of it, which it does
        after that many more destination writes (a run that needs fewer writes finishes unkilled)."""
        args = [
            command,
            *harness.CLI_FLAGS,
            harness.api_flag(self.cfg.api),
            f"--integrations-secrets-file={self.workdir / 'secrets.json'}",
            f"--max-workers={self.cfg.max_workers}",
        ]
        kill_when = None
        if kill_at_write is not None:
            held = self.destination_count("held")
            self.emu.set_knobs(hold_after_writes=self.destination_count("writes") + kill_at_write)
            kill_when = lambda: self.destination_count("held") > held  # noqa: E731
        try:
            return run_cli(args, env=self.env, cwd=cwd, name=name, timeout=self.cfg.run_timeout_s, kill_when=kill_when)
        finally:
            if kill_at_write is not None:
                self.emu.set_knobs(hold_after_writes=None)  # the held request goes on, its client gone

    def destination_count(self, name: str) -> int:
        return self.emu.counters()["by_org"].get(DESTINATION.name, {}).get(name, 0)

    def counters(self) -> dict[str, int]:
        c = self.emu.counters()
        return {k: c[k] for k in COUNTERS}

    def run_record(self, run: harness.CliRun, kill_at_write: int | None = None) -> dict[str, Any]:
        stdout = run.stdout()
        return {
            "name": run.stdout_path.stem if run.stdout_path else "",
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "args": run.args[0],
            "kill_at_write": kill_at_write,
            "killed": run.killed,
            "timed_out": run.timed_out,
            "returncode": run.returncode,
            "wall_s": round(run.wall_s, 3),
            "failures": harness.applied_failures(stdout),
            "summary": harness.summary_line(stdout, "Applied:"),
            "retries": dict(harness.count_retries(run.stderr())),
        }

    def check(self, root: Path) -> dict[str, Any]:
        """Destination vs source, duplicates, state files, external IDs."""
        source, destination = self.emu.dump(SOURCE.name), self.emu.dump(DESTINATION.name)
        comparison = harness.compare(source, destination)
        return {
            "comparison": comparison.as_dict(),
            "state_files": harness.check_state_files(root / "resources"),
            "journal": check_journal(root / "resources" / "destination"),
            "external_ids": check_external_ids(destination, root / "resources" / "destination"),
        }

    def noop_writes(self, cwd: Path) -> dict[str, Any]:
        """One more sync: it must plan nothing and send no write (faulted writes count too)."""
        self.emu.clear_requests()
        run = self.cli("sync", cwd, "verify")
        writes = harness.request_stats(self.emu.requests(DESTINATION.name)).writes
        return {**self.run_record(run), "writes": writes}

    # ----------------------------------------------------------------------------------------------------- run
    def run(self) -> dict[str, Any]:
        cfg = self.cfg
        started = time.time()
        with EmulatorProcess(
            [SOURCE, DESTINATION],
            log_path=self.workdir / "emulator.log",
            latency_ms=cfg.latency_ms,
            rate_limit=cfg.rate_limit,
            rate_period=cfg.rate_period,
            fault_rate=cfg.fault_rate,
            lost_response_rate=cfg.lost_response_rate,
            seed=cfg.seed,
        ) as emu:
            self.emu = emu
            state = make_aws_org(cfg.accounts, seed=cfg.seed)
            emu.seed(SOURCE.name, state)
            (self.workdir / "secrets.json").write_text(json.dumps(harness.secrets_for(state)))
            if cfg.rate_limit_every is not None:
                emu.set_knobs(rate_limit_every=cfg.rate_limit_every)
            self.env = harness.cli_env(emu.url, pycache=self.workdir / "pycache")
            migrate = self.part_migrate()
            kills = self.part_kills()
        report = {
            "soak": "datadog-sync integrations (aws)",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "duration_s": round(time.time() - started, 1),
            "commit": harness.git_commit(),
            "machine": harness.machine(),
            "config": asdict(cfg),
            "migrate": migrate,
            "kills": kills,
        }
        report["verdicts"] = verdicts(report)
        report["passed"] = all(status != FAIL for _, status, _ in report["verdicts"])
        return report

    def part_migrate(self) -> dict[str, Any]:
        cwd = self.workdir / "migrate"
        self.emu.reset_counters()
        self.emu.clear_requests()
        before = self.counters()
        runs = []
        for i in range(self.cfg.max_runs):
            run = self.cli("migrate", cwd, f"migrate-{i}")
            runs.append(self.run_record(run))
            self.log(f"  migrate run {i + 1}: exit {run.returncode} in {run.wall_s:.1f} s | {runs[-1]['summary']}")
            if run.returncode == 0 and runs[-1]["failures"] == 0:
                break
        faults = _delta(before, self.counters())
        result = {"runs": runs, "faults": faults, "retries": _sum_retries(runs), **self.check(cwd)}
        entries = self.emu.requests(DESTINATION.name)
        self.save_log(entries, "migrate")
        result["external_ids"]["diagnosis"] = diagnose_external_ids(
            result["external_ids"]["missing_ids"], entries, runs
        )
        result["noop_resync"] = self.noop_writes(cwd)
        self.log(f"  migrate: {_line(result)}")
        return result

    def part_kills(self) -> dict[str, Any]:
        """Fresh destination; SIGKILL `sync` after random numbers of writes, then let it finish."""
        cwd = self.workdir / "kills"
        self.emu.wipe(DESTINATION.name)
        shutil.copytree(self.workdir / "migrate" / "resources" / "source", cwd / "resources" / "source")
        self.emu.reset_counters()
        self.emu.clear_requests()
        before = self.counters()
        runs = []
        for i in range(self.cfg.kills):
            writes = self.rng.randint(self.cfg.kill_min_writes, self.cfg.kill_max_writes)
            run = self.cli("sync", cwd, f"killed-{i}", kill_at_write=writes)
            record = self.run_record(run, writes)
            after = self.check(cwd)
            record.update(
                {
                    "state_files_valid": after["state_files"]["valid"],
                    "journal_valid": after["journal"]["valid"],
                    "destination_accounts": after["comparison"]["destination_accounts"],
                    "duplicates": after["comparison"]["duplicates"],
                }
            )
            runs.append(record)
            what = "killed" if run.killed else f"finished (exit {run.returncode}) before the kill"
            self.log(
                f"  sync {i + 1}: {what} at write {writes} (after {run.wall_s:.1f} s); destination has "
                f"{record['destination_accounts']} accounts, "
                f"{record['duplicates']} duplicated; state files valid: {record['state_files_valid']}"
            )
        for i in range(self.cfg.max_runs):
            run = self.cli("sync", cwd, f"final-{i}")
            runs.append(self.run_record(run))
            self.log(f"  final sync {i + 1}: exit {run.returncode} in {run.wall_s:.1f} s | {runs[-1]['summary']}")
            if run.returncode == 0 and runs[-1]["failures"] == 0:
                break
        faults = _delta(before, self.counters())
        result = {"runs": runs, "faults": faults, "retries": _sum_retries(runs), **self.check(cwd)}
        entries = self.emu.requests(DESTINATION.name)
        self.save_log(entries, "kills")
        result["external_ids"]["diagnosis"] = diagnose_external_ids(
            result["external_ids"]["missing_ids"], entries, runs
        )
        result["noop_resync"] = self.noop_writes(cwd)
        self.log(f"  kills: {_line(result)}")
        return result

    def save_log(self, entries: list[dict], part: str) -> None:
        with open(self.workdir / f"requests-{part}.jsonl", "w", encoding="utf-8") as fh:
            for e in entries:
                fh.write(json.dumps(e) + "\n")


# ---------------------------------------------------------------------------------------------------- checks
def check_journal(destination_root: Path) -> dict[str, Any]:
    """The external-ID journal (JSON lines) may end with one torn line (a kill mid-write), nothing else."""
    path = destination_root / "handoff" / "aws-external-ids.journal"
    if not path.exists():
        return {"lines": 0, "bad_lines": 0, "valid": True}
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    bad = 0
    for n, line in enumerate(lines):
        try:
            json.loads(line)
        except ValueError:
            if n != len(lines) - 1:
                bad += 1
    return {"lines": len(lines), "bad_lines": bad, "valid": bad == 0}


def check_external_ids(destination_dump: dict, destination_root: Path) -> dict[str, Any]:
    """Role accounts in the destination whose external ID destination state does not hold (or holds wrong), and
    whether the hand-off file flags the missing ones (``roles_with_unknown_external_id``) for manual rotation."""
    try:
        state = json.loads((destination_root / "integrations.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    try:
        handoff = json.loads((destination_root / "handoff" / "aws-external-ids.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        handoff = {}
    flagged_arns = set(handoff.get("roles_with_unknown_external_id") or [])
    by_account = {obj.get("account_id"): obj.get("external_id") for obj in state.values() if isinstance(obj, dict)}
    missing, wrong = [], []
    roles = [a for a in destination_dump["aws"]["accounts"] if not a.get("access_key_id")]
    for acc in roles:
        known = by_account.get(acc["account_id"])
        if not known:
            missing.append(acc)
        elif known != acc.get("external_id"):
            wrong.append(acc["account_id"])
    flagged = [
        a["account_id"] for a in missing if f"arn:aws:iam::{a['account_id']}:role/{a['role_name']}" in flagged_arns
    ]
    return {
        "role_accounts": len(roles),
        "missing": len(missing),
        "flagged_for_rotation": len(flagged),
        "silently_lost": len(missing) - len(flagged),
        "wrong": len(wrong),
        "missing_ids": [a["account_id"] for a in missing],
        "wrong_ids": wrong,
    }


def diagnose_external_ids(missing: list[str], entries: list[dict], runs: list[dict]) -> list[dict[str, Any]]:
    """For each role account whose external ID was lost: the requests that could have issued one (account
    creates and external-ID rotations naming it), which run sent them, and how long before that run ended."""
    out = []
    for account_id in missing:
        calls = []
        for e in entries:
            body = e.get("body") if isinstance(e.get("body"), dict) else {}
            issuing = (e["method"], e["path"]) in (
                ("POST", "/api/v1/integration/aws"),
                ("PUT", "/api/v1/integration/aws/generate_new_external_id"),
            )
            if issuing and body.get("account_id") == account_id:
                run = next((r for r in runs if r["started_at"] <= e["start"] <= r["ended_at"]), None)
                calls.append(
                    {
                        "request": f"{e['method']} {e['path']}",
                        "status": e["status"],
                        "injected": e.get("injected"),
                        "run": run["name"] if run else None,
                        "run_killed": bool(run and run["killed"]),
                        "seconds_before_run_end": round(run["ended_at"] - e["start"], 3) if run else None,
                    }
                )
        out.append({"account_id": account_id, "issuing_requests": calls})
    return out


PASS, FAIL, WARN = "PASS", "FAIL", "WARN"


def verdicts(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(check, PASS|FAIL|WARN, detail). WARN marks a known product gap that loses nothing silently."""

    def check(name: str, ok: bool, detail: str) -> tuple[str, str, str]:
        return name, PASS if ok else FAIL, detail

    out = []
    for part in ("migrate", "kills"):
        r = report[part]
        last = r["runs"][-1]
        cmp_ = r["comparison"]
        out.append(check(f"{part}: destination equals source", cmp_["equal"], harness_summary(cmp_)))
        out.append(check(f"{part}: no duplicate accounts", cmp_["duplicates"] == 0, f"{cmp_['duplicates']} duplicated"))
        out.append(
            check(
                f"{part}: last run exits 0 with 0 failures",
                last["returncode"] == 0 and last["failures"] == 0,
                f"exit {last['returncode']}, {last['failures']} failed, {len(r['runs'])} runs",
            )
        )
        out.append(
            check(
                f"{part}: state files valid",
                r["state_files"]["valid"] and r["journal"]["valid"] and not r["state_files"]["temporary_files"],
                f"{r['state_files']['files']} JSON files, invalid {r['state_files']['invalid']}, "
                f"temporary files left {r['state_files']['temporary_files']}, journal {r['journal']}",
            )
        )
        ext = r["external_ids"]
        out.append(
            check(
                f"{part}: no external ID silently lost or wrong",
                ext["silently_lost"] == 0 and ext["wrong"] == 0,
                f"{ext['role_accounts']} role accounts, {ext['silently_lost']} lost without a word, "
                f"{ext['wrong']} wrong",
            )
        )
        if ext["flagged_for_rotation"]:
            out.append(
                (
                    f"{part}: external IDs known for every role account created by the tool",
                    WARN,
                    f"{ext['flagged_for_rotation']} listed under roles_with_unknown_external_id for manual rotation "
                    f"(a kill after a lost create response, before the rotation; see docs/performance.md)",
                )
            )
        noop = r["noop_resync"]
        out.append(
            check(
                f"{part}: one more sync writes nothing",
                noop["writes"] == 0 and noop["returncode"] == 0,
                f"{noop['writes']} writes, exit {noop['returncode']} | {noop['summary']}",
            )
        )
    kills = report["kills"]["runs"]
    killed = [r for r in kills if r["kill_at_write"] is not None]
    out.append(
        check(
            "kills: state files valid and no duplicates after every kill",
            all(r["state_files_valid"] and r["journal_valid"] and r["duplicates"] == 0 for r in killed),
            f"{sum(r['killed'] for r in killed)} of {len(killed)} runs were killed mid-way",
        )
    )
    return out


def describe_calls(calls: list[dict[str, Any]]) -> str:
    """``POST /api/v1/integration/aws: 504 lost, 7x 429 (killed-0, killed 0.04 s after the last)``."""
    if not calls:
        return "no issuing request logged"
    parts: list[list[Any]] = []  # [label, count]
    for c in calls:
        label = f"{c['status']}{' ' + c['injected'] if c['injected'] in ('lost',) else ''}"
        label = f"{c['request'].split()[0]} {c['request'].rsplit('/', 1)[-1]} {label}"
        if parts and parts[-1][0] == label:
            parts[-1][1] += 1
        else:
            parts.append([label, 1])
    last = calls[-1]
    end = f"killed {last['seconds_before_run_end']} s after the last" if last["run_killed"] else "run finished"
    return ", ".join(f"{n}x {lbl}" if n > 1 else lbl for lbl, n in parts) + f" ({last['run']}, {end})"


def harness_summary(cmp_: dict[str, Any]) -> str:
    if cmp_["equal"]:
        return f"{cmp_['destination_accounts']} accounts equal"
    return (
        f"{cmp_['missing_count']} missing {cmp_['missing'][:3]}, {cmp_['extra_count']} extra, "
        f"{cmp_['different_count']} different {list(cmp_['different'].items())[:3]}"
    )


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in before}


def _sum_retries(runs: list[dict[str, Any]]) -> dict[str, int]:
    total: Counter = Counter()
    for r in runs:
        total.update(r["retries"])
    return dict(total)


def _line(r: dict[str, Any]) -> str:
    f = r["faults"]
    return (
        f"{f['requests']} requests, {f['faults_injected']} 5xx injected, {f['rate_limited']} 429s, "
        f"{f['lost_responses']} lost responses, {f['write_conflicts']} write conflicts; "
        f"{sum(r['retries'].values())} client retries; destination {harness_summary(r['comparison'])}"
    )


def run_soak(cfg: SoakConfig, workdir: Path | None = None, log=print) -> dict[str, Any]:
    """Run the soak and return its report (``report["passed"]``, ``report["verdicts"]``)."""
    own = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="datadog-sync-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return Soak(cfg, workdir, log).run()
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def print_report(report: dict[str, Any]) -> None:
    cfg = report["config"]
    print()
    print(
        f"soak: {cfg['accounts']} accounts, {cfg['fault_rate']:.0%} 5xx, {cfg['lost_response_rate']:.0%} lost "
        f"responses, rate limit {cfg['rate_limit']}/{cfg['rate_period']} s per org and a 429 every "
        f"{cfg['rate_limit_every']} requests, L = {cfg['latency_ms']:g} ms, "
        f"{cfg['kills']} kills, seed {cfg['seed']}; {report['duration_s']} s, commit {report['commit']}"
    )
    for part in ("migrate", "kills"):
        r = report[part]
        print(f"{part}: {_line(r)}")
        print(f"  retries by cause: {r['retries']}")
        for d in r["external_ids"].get("diagnosis", []):
            print(f"  external ID unknown for {d['account_id']}: {describe_calls(d['issuing_requests'])}")
    print()
    for name, status, detail in report["verdicts"]:
        print(f"  [{status}] {name}: {detail}")


def parse_args(argv: list[str] | None = None) -> tuple[SoakConfig, argparse.Namespace]:
    d = SoakConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--accounts", type=int, default=d.accounts)
    p.add_argument("--fault-rate", type=float, default=d.fault_rate, help="share of requests answered 5xx")
    p.add_argument("--lost-response-rate", type=float, default=d.lost_response_rate, help="share of writes 504ed")
    p.add_argument("--rate-limit", type=int, default=d.rate_limit, help="requests per --rate-period per org")
    p.add_argument("--rate-period", type=int, default=d.rate_period, help="seconds")
    p.add_argument("--rate-limit-every", type=int, default=d.rate_limit_every, help="a 429 every N requests per org")
    p.add_argument("--latency-ms", type=float, default=d.latency_ms)
    p.add_argument("--kills", type=int, default=d.kills, help="SIGKILLed syncs before the final one")
    p.add_argument("--kill-min-writes", type=int, default=d.kill_min_writes, help="earliest kill, in writes")
    p.add_argument("--kill-max-writes", type=int, default=d.kill_max_writes, help="latest kill, in writes")
    p.add_argument("--max-runs", type=int, default=d.max_runs, help="runs allowed to finish without failures")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--timeout", type=float, default=d.run_timeout_s, help="seconds before one run is killed")
    p.add_argument("--json-out", type=Path, help="write the report as JSON (e.g. benchmarks/results/soak.json)")
    p.add_argument("--workdir", type=Path, help="keep state files and logs here (default: a temporary directory)")
    a = p.parse_args(argv)
    if a.accounts < 1 or a.kills < 0 or a.max_runs < 1 or not 0 <= a.kill_min_writes <= a.kill_max_writes:
        p.error("--accounts >= 1, --kills >= 0, --max-runs >= 1 and 0 <= --kill-min-writes <= --kill-max-writes")
    if a.rate_limit_every is not None and a.rate_limit_every < 1:
        p.error("--rate-limit-every >= 1")
    cfg = SoakConfig(
        accounts=a.accounts,
        fault_rate=a.fault_rate,
        lost_response_rate=a.lost_response_rate,
        rate_limit=a.rate_limit,
        rate_period=a.rate_period,
        rate_limit_every=a.rate_limit_every,
        latency_ms=a.latency_ms,
        kills=a.kills,
        kill_min_writes=a.kill_min_writes,
        kill_max_writes=a.kill_max_writes,
        max_runs=a.max_runs,
        seed=a.seed,
        run_timeout_s=a.timeout,
    )
    return cfg, a


def main(argv: list[str] | None = None) -> int:
    cfg, args = parse_args(argv)
    print(f"soak: {cfg.accounts} accounts, seed {cfg.seed}", flush=True)
    report = run_soak(cfg, args.workdir, log=lambda m: print(m, flush=True))
    print_report(report)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        out = {**report, "verdicts": [{"check": n, "status": st, "detail": d} for n, st, d in report["verdicts"]]}
        args.json_out.write_text(json.dumps(out, indent=2) + "\n")
        print(f"\nJSON written to {args.json_out}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())

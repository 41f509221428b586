"""A benchmark of ``integrations`` subtypes shared by cloud_bench.py and service_bench.py: :class:`SubtypeBench`
runs import, sync and a no-op resync against a fresh emulator, measures and checks each, and prints its report,
Markdown and flags. The emulator process, CLI runner and request accounting it uses are harness.py's."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from benchmarks.harness import (
    CLI_FLAGS,
    DESTINATION,
    EMPTY,
    SOURCE,
    EmulatorProcess,
    cli_env,
    count_retries,
    floor_seconds,
    git_commit,
    machine,
    request_stats,
    run_cli,
    summary_line,
    timeline,
    write_turnaround,
)
from datadog_sync.emulator.demo import differing

#: The phases of a :class:`SubtypeBench`, and the CLI command each one runs.
PHASE_COMMANDS = {"import": "import", "sync": "sync", "resync": "sync"}


class SubtypeBench(ABC):
    """A benchmark of ``integrations`` subtypes (cloud_bench.py, service_bench.py): per subtype and run, a fresh
    emulator (latency L on every request) whose source org is seeded and whose destination starts empty, then
    ``import``, ``sync`` and a no-op ``resync`` as CLI subprocesses filtered to the subtype, each measured (wall
    against :func:`floor_seconds`, requests per endpoint, CLI CPU and peak RSS, emulator CPU) and each sync checked:
    writes against the minimum, and the destination against the source as the emulator shows them. A subclass says
    how one subtype is seeded, shown, counted and identified, and which flags size it."""

    #: "cloud", "service integrations": names the benchmark in its output.
    title: ClassVar[str]
    #: What the destination check counts ("accounts", "objects").
    noun: ClassVar[str]
    #: The subtypes the script can run (``--subtypes``, default all).
    subtypes: ClassVar[tuple[str, ...]]
    #: The script's docstring: its ``--help``.
    doc: ClassVar[str | None] = None

    def __init__(self, args: Any, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir

    # ----------------------------------------------------------------------------------- what a subclass says
    @abstractmethod
    def seed(self, subtype: str) -> tuple[dict, dict]:
        """The source org's state and the destination's (empty, or as an org without the integration)."""

    @abstractmethod
    def secrets(self, source: dict) -> dict:
        """The integrations secrets file for the seeded source."""

    @abstractmethod
    def view(self, subtype: str, dump: dict) -> dict[str, dict]:
        """The subtype's objects of an emulator dump as its API shows them, by identity, without per-org values."""

    @abstractmethod
    def identities(self, subtype: str, dump: dict) -> list[str]:
        """The identity of each of the subtype's objects in a dump, repeats kept (they are the duplicates)."""

    @abstractmethod
    def min_writes(self, subtype: str, desired: dict, current: dict) -> int:
        """The fewest writes making the org ``current`` hold every object of ``desired`` (no deletes)."""

    @abstractmethod
    def profile(self, subtype: str, dump: dict) -> dict[str, Any]:
        """How many objects of which kind the seeded source holds."""

    @abstractmethod
    def size(self) -> str:
        """The size of the run in words, e.g. ``500 accounts per subtype``."""

    @classmethod
    @abstractmethod
    def add_arguments(cls, p: argparse.ArgumentParser) -> None:
        """The script's own flags: the size of the seeded orgs."""

    @classmethod
    @abstractmethod
    def check_arguments(cls, p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """``p.error(...)`` when the script's own flags are out of range (defaults that depend on others set here)."""

    def settings(self) -> dict[str, Any]:
        """The script's own options, kept in the report."""
        return {}

    def phase_extras(self, subtype: str, log: list[dict], counters: Mapping[str, Any]) -> dict[str, Any]:
        """More figures of one phase, from its request log and the emulator's counters."""
        return {}

    def extra_checks(self, subtype: str, phase: str, result: Mapping[str, Any]) -> list[dict[str, str]]:
        """More check rows for one phase's result."""
        return []

    # ------------------------------------------------------------------------------------------------ running
    @classmethod
    def parse_args(cls, argv: list[str] | None = None) -> argparse.Namespace:
        p = _common_arguments(cls.doc, cls.subtypes)
        cls.add_arguments(p)
        args = p.parse_args(argv)
        _check_common_arguments(p, args, cls.subtypes)
        cls.check_arguments(p, args)
        return args

    @classmethod
    def main(cls, argv: list[str] | None = None) -> int:
        """The script: its report printed (and as Markdown, and as JSON, when asked); 1 when a check fails."""
        args = cls.parse_args(argv)
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"datadog-sync-{cls.title.replace(' ', '-')}-bench-"))
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"{cls.title} benchmark: L = {args.latency_ms:g} ms, work dir {workdir}", flush=True)
        try:
            report = cls(args, workdir).run()
        finally:
            if not args.workdir:
                shutil.rmtree(workdir, ignore_errors=True)
        print_subtype_report(report)
        if args.markdown:
            print("\n" + subtype_markdown(report))
        if args.json_out:
            args.json_out.parent.mkdir(parents=True, exist_ok=True)
            args.json_out.write_text(json.dumps(report, indent=2))
        return 1 if any(c["verdict"] == "FAIL" for c in report["checks"]) else 0

    def run(self) -> dict[str, Any]:
        results = {subtype: self.repeated(subtype) for subtype in self.args.subtypes}
        return {
            "benchmark": f"datadog-sync integrations ({', '.join(self.args.subtypes)})",
            "title": self.title,
            "size": self.size(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "commit": git_commit(),
            "machine": machine(),
            **self.settings(),
            "latency_ms": self.args.latency_ms,
            "max_workers": self.args.max_workers,
            "seed": self.args.seed,
            "repeat": self.args.repeat,
            "subtypes": results,
            "checks": self.checks(results),
        }

    def cli_args(self, command: str, subtype: str, secrets: Path) -> list[str]:
        return [
            command,
            *CLI_FLAGS,
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
        for phase in PHASE_COMMANDS:
            samples = [run["phases"][phase] for run in runs]
            chosen = dict(sorted(samples, key=lambda r: r["wall_s"])[len(samples) // 2])
            chosen["samples"] = {"wall_s": [r["wall_s"] for r in samples], "cpu_s": [r["cpu_s"] for r in samples]}
            phases[phase] = chosen
        return {"seeded": runs[0]["seeded"], "phases": phases, "runs": [run["phases"] for run in runs]}

    def subtype(self, subtype: str, attempt: int = 0) -> dict[str, Any]:
        args, root = self.args, self.workdir / f"{subtype}-{attempt}"
        root.mkdir(parents=True, exist_ok=True)
        source, destination = self.seed(subtype)
        secrets = root / "secrets.json"
        secrets.write_text(json.dumps(self.secrets(source)))
        secrets.chmod(0o600)
        with EmulatorProcess(
            [SOURCE, DESTINATION, EMPTY], log_path=root / "emulator.log", latency_ms=args.latency_ms, seed=args.seed
        ) as emu:
            emu.seed(SOURCE.name, source)
            emu.seed(DESTINATION.name, destination)
            pycache = self.workdir / "pycache"
            env = cli_env(emu.url, pycache=pycache)
            # One unmeasured run fills the bytecode cache (a pip-installed tool ships its .pyc files).
            warm = cli_env(emu.url, source=EMPTY, pycache=pycache)
            run_cli(self.cli_args("import", subtype, secrets), env=warm, cwd=root / "warm-up", name="run")
            seeded = self.profile(subtype, emu.dump(SOURCE.name))
            phases = {}
            for phase in PHASE_COMMANDS:
                phases[phase] = self.phase(emu, env, subtype, phase, secrets, root)
                print_phase(subtype, phase, phases[phase])
        return {"seeded": seeded, "phases": phases}

    def phase(
        self, emu: EmulatorProcess, env: dict[str, str], subtype: str, phase: str, secrets: Path, root: Path
    ) -> dict[str, Any]:
        args, command = self.args, PHASE_COMMANDS[phase]
        desired = emu.dump(SOURCE.name)
        needed = self.min_writes(subtype, desired, emu.dump(DESTINATION.name)) if command == "sync" else 0
        emu.clear_requests()
        emu.reset_counters()
        emu_cpu = emu.cpu_seconds()
        run = run_cli(
            self.cli_args(command, subtype, secrets), env=env, cwd=root / "run", name=phase, timeout=args.timeout
        )
        emu_cpu = emu.cpu_seconds() - emu_cpu
        counters = emu.counters()
        log = emu.requests()
        stats = request_stats(log, sum(c["requests"] for c in counters["by_org"].values()))
        times = timeline(log, run)
        floor = floor_seconds(stats.reads, stats.writes, args.latency_ms, args.max_workers)
        ours = [e for e in log if f"/integration/{subtype}" in e["path"]]  # the subtype's own API
        stdout = run.stdout()
        result: dict[str, Any] = {
            "command": command,
            "returncode": run.returncode,
            "timed_out": run.timed_out,
            "summary": summary_line(stdout, "Applied:") or summary_line(stdout, "Imported:"),
            "wall_s": round(run.wall_s, 4),
            "cpu_s": round(run.cpu_s, 4),
            "maxrss_mb": round(run.maxrss_mb, 1),
            "rss_source": run.rss_source,
            "emulator_cpu_s": round(emu_cpu, 3),
            **times,
            "floor_s": round(floor, 4),
            "ratio": round(run.wall_s / floor, 4) if floor else None,
            "requests_ratio": round(times["requests_s"] / floor, 4) if floor else None,
            "write_turnaround": write_turnaround(log, args.latency_ms),
            "requests": stats.as_dict(),
            "reads": stats.reads,
            "writes": stats.writes,
            "subtype_reads": sum(1 for e in ours if e["method"] == "GET"),
            "subtype_writes": sum(1 for e in ours if e["method"] != "GET"),
            "min_writes": needed,
            "by_status": dict(Counter(str(e["status"]) for e in log)),
            "retries": dict(count_retries(run.stderr())),
            **self.phase_extras(subtype, log, counters),
        }
        if command == "sync":
            result["destination_equals_source"] = self.destination_check(subtype, desired, emu.dump(DESTINATION.name))
        return result

    def destination_check(self, subtype: str, desired: dict, after: dict) -> dict[str, Any]:
        wrong = differing(self.view(subtype, desired), self.view(subtype, after))
        names = self.identities(subtype, after)
        return {
            "equal": not wrong and len(names) == len(set(names)),
            self.noun: len(names),
            "different": wrong[:20],
            "different_count": len(wrong),
            "duplicates": len(names) - len(set(names)),
        }

    # ---------------------------------------------------------------------------------------------- checking
    def checks(self, results: Mapping[str, Any]) -> list[dict[str, str]]:
        """(check, verdict, detail) rows: PASS or FAIL. One row per check: a check fails when any run fails it (the
        last failing run's detail is kept)."""
        rows = []
        for subtype, result in results.items():
            every = [(phase, r) for run in result.get("runs", [result["phases"]]) for phase, r in run.items()]
            for phase, r in every:
                if r["returncode"] != 0:
                    rows.append(
                        check_row(f"{subtype} {phase} exits 0", False, f"exit {r['returncode']}: {r['summary']}")
                    )
                if r["command"] == "sync":
                    what = "no-op re-sync makes 0 writes" if phase == "resync" else "sync writes == minimum"
                    detail = f"{r['writes']}, minimum {r['min_writes']}"
                    rows.append(check_row(f"{subtype} {what}", r["writes"] == r["min_writes"], detail))
                    eq = r["destination_equals_source"]
                    detail = (
                        f"{eq[self.noun]} {self.noun} equal, 0 duplicates"
                        if eq["equal"]
                        else f"{eq['different_count']} different, {eq['duplicates']} duplicated"
                    )
                    rows.append(check_row(f"{subtype} {phase}: destination == source", eq["equal"], detail))
                rows += self.extra_checks(subtype, phase, r)
        merged: dict[str, dict[str, str]] = {}
        for row in rows:
            if row["check"] not in merged or row["verdict"] == "FAIL":
                merged[row["check"]] = row
        return list(merged.values())


def check_row(check: str, ok: bool, detail: str) -> dict[str, str]:
    return {"check": check, "verdict": "PASS" if ok else "FAIL", "detail": detail}


def print_phase(subtype: str, phase: str, r: Mapping[str, Any]) -> None:
    status = "ok" if r["returncode"] == 0 else f"EXIT {r['returncode']}"
    print(
        f"  {subtype:<10}{phase:<7} {status:<6} wall {r['wall_s']:7.2f} s  floor {r['floor_s']:7.2f} s  "
        f"reads {r['reads']:5d}  writes {r['writes']:5d} (min {r['min_writes']})  CPU {r['cpu_s']:6.2f} s  "
        f"RSS {r['maxrss_mb']:5.1f} MB  | {r['summary']}",
        flush=True,
    )


def _ratio(value: float | None) -> str:
    return f"{value:.2f}" if value else "-"


def subtype_markdown(report: Mapping[str, Any]) -> str:
    """The phases table and the checks table of a :class:`SubtypeBench` report."""
    m = report["machine"]
    out = [
        f"{report['size']}, L = {report['latency_ms']:g} ms, --max-workers {report['max_workers']}, commit "
        f"`{report['commit']}`, {m['cpus']} CPUs ({m['cpu_model'] or 'unknown CPU'}), Python {m['python']}.",
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


def print_subtype_report(report: Mapping[str, Any]) -> None:
    print(
        f"\ndatadog-sync {report['title']} benchmark: {report['size']}, L = {report['latency_ms']:g} ms, "
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
            if r.get("to_first_write_s") is not None:
                print(f"          first request to first write {r['to_first_write_s']:.2f} s")
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


def _common_arguments(doc: str | None, subtypes: Sequence[str]) -> argparse.ArgumentParser:
    """The flags every :class:`SubtypeBench` script has; the script adds its own size flags."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--latency-ms", type=float, default=20.0, help="emulated latency per request (default 20)")
    p.add_argument(
        "--subtypes",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        default=list(subtypes),
        help=f"comma-separated subset of {','.join(subtypes)} (default all)",
    )
    p.add_argument("--max-workers", type=int, default=100, help="the CLI's --max-workers (default 100)")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated orgs")
    p.add_argument("--repeat", type=int, default=1, help="run each subtype this many times; report the median run")
    p.add_argument("--json-out", type=Path, help="write the full report as JSON (e.g. benchmarks/results/x.json)")
    p.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds before a phase is killed (default 3600)")
    p.add_argument("--workdir", type=Path, help="keep state files and logs here (default: a temporary directory)")
    return p


def _check_common_arguments(p: argparse.ArgumentParser, args: argparse.Namespace, subtypes: Sequence[str]) -> None:
    unknown = set(args.subtypes) - set(subtypes)
    if unknown or not args.subtypes:
        p.error(f"unknown subtypes {sorted(unknown)}; choose from {','.join(subtypes)}")
    if args.latency_ms < 0 or args.repeat < 1 or args.max_workers < 1:
        p.error("--latency-ms must be >= 0, --repeat and --max-workers >= 1")

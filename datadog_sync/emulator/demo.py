"""One-command demo: `python -m datadog_sync.emulator.demo`.

Starts emulated source and destination orgs, seeds the source with 12 AWS accounts, then runs the real CLI
(`import`, `diffs`, `sync`, `diffs`) against them as subprocesses, echoing each command and its output.
A failing command is reported with its exit code and the demo goes on. The working directory (state files,
hand-off, backups) is kept and listed at the end, so it can be looked at afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from datadog_sync.emulator.seed import make_aws_org, make_secrets_file
from datadog_sync.emulator.server import ThreadedEmulator
from datadog_sync.emulator.testing import DESTINATION, SOURCE, cli_env, emulated_orgs

COMMANDS = ("import", "diffs", "sync", "diffs")


def run_cli(command: str, extra: Sequence[str], env: dict[str, str], cwd: Path, timeout: float) -> int:
    argv = [sys.executable, "-m", "datadog_sync", command, *extra]
    print(f"\n$ {shlex.join(['python', *argv[1:]])}", flush=True)
    try:
        # Logs (stderr) and results (stdout) interleaved, as a user sees them in a terminal.
        proc = subprocess.run(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        print(f"[timed out after {timeout:.0f}s]\n{output}", flush=True)
        return -1
    if proc.stdout.strip():
        print(proc.stdout.rstrip(), flush=True)
    print(f"[exit code {proc.returncode}]", flush=True)
    return proc.returncode


def summary(emu: ThreadedEmulator) -> None:
    print("\n== emulator summary", flush=True)
    for org in (SOURCE.name, DESTINATION.name):
        accounts = emu.dump(org)["aws"]["accounts"]
        keys = sum("access_key_id" in a for a in accounts)
        calls = emu.requests(org)
        writes = sum(r["method"] != "GET" for r in calls)
        print(f"{org}: {len(accounts)} AWS accounts ({keys} key-based); {len(calls)} API calls, {writes} writes")
    source, destination = (_comparable(emu.dump(org)) for org in (SOURCE.name, DESTINATION.name))
    verdict = "matches" if source == destination else "DIFFERS FROM"
    print(f"destination {verdict} source (as sets; ignoring external ids, secrets, errors[], ids and timestamps)")
    print(f"counters: {json.dumps({k: v for k, v in emu.counters().items() if k != 'by_org'})}", flush=True)


def _comparable(state: dict) -> dict[str, dict]:
    """Accounts by identifier, lists as sets, without what a sync cannot or must not copy."""
    # Besides what must not be copied, what each org's server assigns (the v2 dump's config_id and timestamps).
    # aws_partition and the v2 settings are configuration a sync carries over: they are compared.
    ignored = {"external_id", "secret_access_key", "errors", "config_id", "created_at", "modified_at"}

    def norm(value: object) -> object:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        return sorted(value) if isinstance(value, list) else value

    return {
        a.get("access_key_id") or a["account_id"]: {k: norm(v) for k, v in a.items() if k not in ignored}
        for a in state["aws"]["accounts"]
    }


#: What a newcomer finds in the working directory afterwards.
WORKDIR_GUIDE = """\
  resources/source/integrations.json       what `import` read from the source org, keyed by source id
  resources/destination/integrations.json  what `sync` made in the destination, under the same keys
  resources/destination/handoff/           new external IDs of role accounts, with IAM trust-policy snippets
  resources/destination/.backup/<time>/    destination objects saved before sync updates or deletes them
                                           (none here: this demo's sync only creates)
  aws-secrets.json                         the emulator's made-up AWS secret keys (--integrations-secrets-file)"""


def make_workdir(path: Path | None) -> Path:
    """A new temporary directory, or ``path`` if it is empty or new: a demo mixed with other state misleads."""
    if path is None:
        return Path(tempfile.mkdtemp(prefix="datadog-sync-demo-"))
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ValueError(f"--workdir {path} must be a new or empty directory")
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def show_workdir(workdir: Path) -> None:
    print(f"\n== working directory (kept): {workdir}", flush=True)
    for path in sorted(p for p in workdir.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(workdir)}")
    print(f"what is what:\n{WORKDIR_GUIDE}\nremove it when done: rm -r {shlex.quote(str(workdir))}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m datadog_sync.emulator.demo", description=__doc__)
    parser.add_argument("--accounts", type=int, default=12, help="AWS accounts seeded in the source org")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per CLI command")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="new or empty directory for state files, hand-off and backups (kept); "
        "default: a new temporary directory, also kept",
    )
    args = parser.parse_args(argv)
    try:
        workdir = make_workdir(args.workdir)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))

    state = make_aws_org(args.accounts)
    codes: list[int] = []
    with emulated_orgs(source_state=state, latency_ms=args.latency_ms) as emu:
        print(f"emulator: {emu.url} (orgs {SOURCE.name!r}, {DESTINATION.name!r})", flush=True)
        secrets = workdir / "aws-secrets.json"
        secrets.touch(mode=0o600)
        secrets.write_text(json.dumps(make_secrets_file(state, with_account_ids=True), indent=2))
        print(f"working dir: {workdir}; secrets file: {secrets}", flush=True)
        env = {**os.environ, **cli_env(emu), "DD_SHOW_PROGRESS_BAR": "false"}
        extra = ["--resources=integrations", f"--integrations-secrets-file={secrets}"]
        for command in COMMANDS:
            codes.append(run_cli(command, extra, env, workdir, args.timeout))
        summary(emu)
    print("exit codes: " + ", ".join(f"{c}={code}" for c, code in zip(COMMANDS, codes, strict=True)), flush=True)
    show_workdir(workdir)
    # Always 0: a non-zero `diffs` can simply mean "differences found"; the codes are printed above.
    return 0


if __name__ == "__main__":
    sys.exit(main())

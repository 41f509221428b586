"""One-command demo: `python -m datadog_sync.emulator.demo`.

Starts emulated source and destination orgs, seeds the source with 12 AWS accounts that also hold settings only
the v2 AWS API has (X-Ray services, automute, log-source tag filters, metric name filters, a GovCloud partition),
then runs the real CLI (`import`, `diffs`, `sync`, `diffs`) against them as subprocesses, echoing each command and
its output. The CLI uses the v2 accounts API, its default; `--integrations-aws-api=v1` runs it on the deprecated v1
API instead, to show what v1 leaves behind. A failing command is reported with its exit code and the demo goes on.
The summary compares the two orgs as `GET /api/v2/integration/aws/accounts` shows them and counts the v2-only
settings on each side. The working directory (state files, hand-off, backups) is kept and listed at the end, so it
can be looked at afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from datadog_sync.emulator.aws_v2_model import attributes
from datadog_sync.emulator.seed import make_aws_org, make_secrets_file, with_v2_settings
from datadog_sync.emulator.server import ThreadedEmulator
from datadog_sync.emulator.state import AwsAccount
from datadog_sync.emulator.testing import DESTINATION, SOURCE, cli_env, emulated_orgs

COMMANDS = ("import", "diffs", "sync", "diffs")
API_CHOICES = ("v2", "v1")


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


def requests_line(emu: ThreadedEmulator, seen: dict[str, int]) -> None:
    """What the last command asked of each org (v2: one list per org to read, one write per changed account)."""
    parts = []
    for org in (SOURCE.name, DESTINATION.name):
        calls = emu.requests(org)
        new = calls[seen.get(org, 0) :]
        seen[org] = len(calls)
        aws = [r for r in new if "/integration/aws" in r["path"]]
        writes = sum(r["method"] != "GET" for r in aws)
        parts.append(f"{org} {len(aws)} AWS API request(s), {writes} write(s)")
    print(f"[{'; '.join(parts)}]", flush=True)


# --- what the v2 API shows -----------------------------------------------------------------------------------------

#: What each org's server assigns or keeps to itself: never copied, so never compared.
SERVER_ASSIGNED = ("created_at", "modified_at")


def v2_view(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each account of an emulator dump as `GET /api/v2/integration/aws/accounts` shows it, keyed by its AWS account
    id, without what an org assigns itself (timestamps, the role's external ID)."""
    out: dict[str, dict[str, Any]] = {}
    for raw in state["aws"]["accounts"]:
        attrs = attributes(AwsAccount.from_json(raw))
        for name in SERVER_ASSIGNED:
            attrs.pop(name, None)
        attrs["auth_config"] = {k: v for k, v in attrs["auth_config"].items() if k != "external_id"}
        out[attrs["aws_account_id"]] = attrs
    return out


def canonical(value: Any) -> Any:
    """A JSON value with every list in a canonical order: the API keeps the order it was sent, which means
    nothing for any list of an AWS account (tags, regions, namespaces, ARNs, sources, filters)."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _get(attrs: dict[str, Any], path: str) -> Any:
    value: Any = attrs
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


#: The v2-only settings the demo counts: (dot path, what counts as set: the server defaults do not).
V2_ONLY: tuple[tuple[str, str, Callable[[Any], bool]], ...] = (
    ("aws_partition", "other than aws", lambda v: v not in (None, "aws")),
    ("metrics_config.automute_enabled", "false", lambda v: v is False),
    ("metrics_config.collect_custom_metrics", "true", lambda v: v is True),
    ("metrics_config.collect_cloudwatch_alarms", "true", lambda v: v is True),
    ("metrics_config.metric_name_filters", "set", bool),
    ("traces_config.xray_services", "set", lambda v: v not in (None, {"include_only": []})),
    ("logs_config.lambda_forwarder.log_source_config.tag_filters", "set", bool),
)


def v2_only_settings(
    source: dict[str, dict[str, Any]], destination: dict[str, dict[str, Any]]
) -> list[tuple[str, int, int]]:
    """Per v2-only setting: how many source accounts have it set, and how many of those have the same value in
    the destination account of the same AWS account id."""
    rows = []
    for path, meaning, is_set in V2_ONLY:
        holders = [key for key, attrs in source.items() if is_set(_get(attrs, path))]
        arrived = sum(
            key in destination and canonical(_get(source[key], path)) == canonical(_get(destination[key], path))
            for key in holders
        )
        rows.append((f"{path} {meaning}", len(holders), arrived))
    return rows


def summary(emu: ThreadedEmulator, api: str) -> None:
    print("\n== emulator summary", flush=True)
    for org in (SOURCE.name, DESTINATION.name):
        accounts = emu.dump(org)["aws"]["accounts"]
        keys = sum("access_key_id" in a for a in accounts)
        aws = [r for r in emu.requests(org) if "/integration/aws" in r["path"]]
        writes = sum(r["method"] != "GET" for r in aws)
        print(f"{org}: {len(accounts)} AWS accounts ({keys} key-based); {len(aws)} AWS API requests, {writes} writes")
    source, destination = (v2_view(emu.dump(org)) for org in (SOURCE.name, DESTINATION.name))
    verdict = "matches" if canonical(source) == canonical(destination) else "DIFFERS FROM"
    print(
        f"destination {verdict} source (as GET /api/v2/integration/aws/accounts shows them; ignoring external ids, "
        "secrets, timestamps and list order)"
    )
    print("v2-only settings: source accounts with it -> how many arrived in the destination", flush=True)
    rows = v2_only_settings(source, destination)
    for label, holders, arrived in rows:
        print(f"  {label:<62} {holders:>3} -> {arrived}")
    total, arrived = sum(r[1] for r in rows), sum(r[2] for r in rows)
    if total and arrived == total:
        print(f"all {total} v2-only settings arrived in the destination")
    elif total:
        why = " (the v1 API cannot carry them)" if api == "v1" else ""
        print(f"{total - arrived} of {total} v2-only settings did NOT arrive in the destination{why}")
    xray = "traces_config.xray_services"
    example = next(
        (key for key, attrs in source.items() if _get(attrs, xray) == {"include_only": ["AWS/AppSync"]}), None
    )
    if example is not None:
        for org, view in ((SOURCE.name, source), (DESTINATION.name, destination)):
            print(f"  e.g. {org} {example} {xray}: {json.dumps(_get(view.get(example, {}), xray))}")
    print(f"counters: {json.dumps({k: v for k, v in emu.counters().items() if k != 'by_org'})}", flush=True)


#: What a newcomer finds in the working directory afterwards.
WORKDIR_GUIDE = """\
  resources/source/integrations.json       what `import` read from the source org, keyed aws:<AWS account id>
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
        "--integrations-aws-api",
        choices=API_CHOICES,
        default="v2",
        help="the AWS API generation the CLI uses (default v2; v1 shows what the deprecated API leaves behind)",
    )
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

    state = with_v2_settings(make_aws_org(args.accounts))
    codes: list[int] = []
    with emulated_orgs(source_state=state, latency_ms=args.latency_ms) as emu:
        print(f"emulator: {emu.url} (orgs {SOURCE.name!r}, {DESTINATION.name!r})", flush=True)
        secrets = workdir / "aws-secrets.json"
        secrets.touch(mode=0o600)
        secrets.write_text(json.dumps(make_secrets_file(state, with_account_ids=True), indent=2))
        print(f"working dir: {workdir}; secrets file: {secrets}; AWS API: {args.integrations_aws_api}", flush=True)
        env = {**os.environ, **cli_env(emu), "DD_SHOW_PROGRESS_BAR": "false"}
        env.pop("DD_INTEGRATIONS_AWS_API", None)  # the flag below says which API: no stray environment
        extra = [
            "--resources=integrations",
            f"--integrations-secrets-file={secrets}",
            f"--integrations-aws-api={args.integrations_aws_api}",
        ]
        seen: dict[str, int] = {}
        for command in COMMANDS:
            codes.append(run_cli(command, extra, env, workdir, args.timeout))
            requests_line(emu, seen)
        summary(emu, args.integrations_aws_api)
    print("exit codes: " + ", ".join(f"{c}={code}" for c, code in zip(COMMANDS, codes, strict=True)), flush=True)
    show_workdir(workdir)
    # Always 0: a non-zero `diffs` can simply mean "differences found"; the codes are printed above.
    return 0


if __name__ == "__main__":
    sys.exit(main())

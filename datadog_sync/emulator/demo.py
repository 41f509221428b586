"""One-command demo: `python -m datadog_sync.emulator.demo`.

Starts emulated source and destination orgs and seeds the source with all three clouds: 12 AWS accounts that also
hold settings only the v2 AWS API has (X-Ray services, automute, log-source tag filters, metric name filters, a
GovCloud partition), 4 GCP service accounts (STS, and one deprecated v1 key integration whose JSON key is in the
generated secrets file) and 4 Azure app registrations (their client secrets in the same file). Then it runs the real
CLI (`import`, `diffs`, `sync`, `diffs`) against them as subprocesses, echoing each command and its output, and the
requests each made per cloud and org. The CLI uses the v2 AWS accounts API, its default;
`--integrations-aws-api=v1` runs AWS on the deprecated v1 API instead, to show what v1 leaves behind. A failing
command is reported with its exit code and the demo goes on.

The summary compares each cloud's source and destination as its listing APIs show them
(`GET /api/v2/integration/aws/accounts`, `GET /api/v2/integration/gcp/accounts` with `GET /api/v1/integration/gcp`,
`GET /api/v1/integration/azure`), counts the v2-only AWS settings on each side, and shows the hand-offs no Datadog
API can do: the AWS external IDs for the IAM trust policies, the `gcloud` grants of the destination's GCP principal,
and, for Azure, the client secrets that came from the secrets file (and appear nowhere else). The working directory
(state files, hand-offs, backups) is kept and listed at the end, so it can be looked at afterwards.
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
from datadog_sync.emulator.azure_model import AzureIntegration
from datadog_sync.emulator.cloud_seed import make_azure_org, make_cloud_secrets, make_gcp_org
from datadog_sync.emulator.gcp import account_json
from datadog_sync.emulator.gcp_model import GcpIntegration
from datadog_sync.emulator.seed import make_aws_org, make_secrets_file, with_v2_settings
from datadog_sync.emulator.server import ThreadedEmulator
from datadog_sync.emulator.state import AwsAccount
from datadog_sync.emulator.testing import DESTINATION, SOURCE, cli_env, emulated_orgs

COMMANDS = ("import", "diffs", "sync", "diffs")
API_CHOICES = ("v2", "v1")
#: Each cloud and the part of its API paths the request log shows.
CLOUDS = (("AWS", "/integration/aws"), ("GCP", "/integration/gcp"), ("Azure", "/integration/azure"))
#: The secrets file the demo writes: what the APIs never return, for all three clouds.
SECRETS_FILE = "integrations-secrets.json"
#: Lines of a hand-off shown; the files have them all.
SHOWN = 5


def run_cli(
    command: str,
    extra: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    transcript: list[str] | None = None,
) -> int:
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
        if transcript is not None:
            transcript.append(output)
        return -1
    if transcript is not None:
        transcript.append(proc.stdout)
    if proc.stdout.strip():
        print(proc.stdout.rstrip(), flush=True)
    print(f"[exit code {proc.returncode}]", flush=True)
    return proc.returncode


def requests_line(emu: ThreadedEmulator, seen: dict[str, int]) -> None:
    """What the last command asked of each cloud's API, per org: a few listings per org whatever the number of
    accounts, and one write per changed account (plus the reads a subtype's writes need: GCP reads a v1 key
    integration back, Azure lists the destination once after its writes)."""
    new = {}
    for org in (SOURCE.name, DESTINATION.name):
        calls = emu.requests(org)
        new[org] = calls[seen.get(org, 0) :]
        seen[org] = len(calls)
    for cloud, path in CLOUDS:
        parts = []
        for org, calls in new.items():
            hits = [r for r in calls if path in r["path"]]
            parts.append(f"{org} {len(hits)} request(s), {sum(r['method'] != 'GET' for r in hits)} write(s)")
        print(f"[{cloud}: {'; '.join(parts)}]", flush=True)


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


def gcp_view(state: dict[str, Any], org: str = "") -> dict[str, dict[str, Any]]:
    """Each GCP service account of an emulator dump as the org's listings show it, keyed by client email: an STS
    account as `GET /api/v2/integration/gcp/accounts` lists its attributes, a v1 key integration as
    `GET /api/v1/integration/gcp` lists it (that list also shows the STS accounts; they are taken from v2), marked
    `api: v1|v2`, without what each org assigns itself (ids, accessible projects, errors). No key is ever listed."""
    store = GcpIntegration.from_json(state.get("gcp"), org)
    out: dict[str, dict[str, Any]] = {}
    for account in store.accounts:
        if account.is_sts:
            out[account.client_email] = {"api": "v2", **account_json(account, store.api_date)["attributes"]}
        else:
            listed = account.v1_listed(store.api_date)
            out[account.client_email] = {"api": "v1", **{k: v for k, v in listed.items() if k not in ("id", "errors")}}
    return out


def azure_view(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each Azure app registration of an emulator dump as `GET /api/v1/integration/azure` lists it, keyed
    `tenant_name:client_id`, without the per-org status (`errors`, `warnings`). The client secret is never listed."""
    store = AzureIntegration.from_json(state.get("azure"))
    return {
        f"{a.tenant_name}:{a.client_id}": {
            k: v for k, v in a.listed(store.api_date).items() if k not in ("errors", "warnings")
        }
        for a in store.accounts
    }


def differing(source: dict[str, Any], destination: dict[str, Any]) -> list[str]:
    """Keys missing from either side or with another value (lists in any order)."""
    keys = source.keys() | destination.keys()
    return sorted(k for k in keys if canonical(source.get(k)) != canonical(destination.get(k)))


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


#: Per cloud: how the verdict reads the orgs, and what it leaves aside.
VERDICT_BASIS = {
    "AWS": "as GET /api/v2/integration/aws/accounts shows them; ignoring external ids, secrets, timestamps and list "
    "order",
    "GCP": "as GET /api/v2/integration/gcp/accounts and GET /api/v1/integration/gcp show them; ignoring ids, "
    "accessible projects, errors, keys and list order",
    "Azure": "as GET /api/v1/integration/azure shows them; ignoring errors, warnings, client secrets and list order",
}


def cloud_views(state: dict[str, Any], org: str) -> dict[str, dict[str, dict[str, Any]]]:
    return {"AWS": v2_view(state), "GCP": gcp_view(state, org), "Azure": azure_view(state)}


def summary(emu: ThreadedEmulator, api: str, dumps: dict[str, dict[str, Any]]) -> None:
    print("\n== emulator summary", flush=True)
    for org, state in dumps.items():
        aws_accounts = state["aws"]["accounts"]
        keys = sum("access_key_id" in a for a in aws_accounts)
        gcp_accounts = state.get("gcp", {}).get("accounts", [])
        gcp_keys = sum("private_key" in a for a in gcp_accounts)
        azure_accounts = state.get("azure", {}).get("accounts", [])
        calls = [r for r in emu.requests(org) if any(path in r["path"] for _, path in CLOUDS)]
        writes = sum(r["method"] != "GET" for r in calls)
        print(
            f"{org}: {len(aws_accounts)} AWS accounts ({keys} key-based), {len(gcp_accounts)} GCP service accounts "
            f"({gcp_keys} v1 key), {len(azure_accounts)} Azure app registrations; {len(calls)} cloud API requests, "
            f"{writes} writes"
        )
    views = {org: cloud_views(state, org) for org, state in dumps.items()}
    for cloud, basis in VERDICT_BASIS.items():
        src, dst = views[SOURCE.name][cloud], views[DESTINATION.name][cloud]
        wrong = differing(src, dst)
        print(f"{cloud}: destination {'DIFFERS FROM' if wrong else 'matches'} source ({basis})")
        if wrong:
            print(f"  {len(wrong)} differ, e.g. {', '.join(wrong[:SHOWN])}")
    source, destination = views[SOURCE.name]["AWS"], views[DESTINATION.name]["AWS"]
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


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def secret_values(secrets: dict[str, Any]) -> dict[str, list[str]]:
    """Every secret of an integrations secrets file, per kind: AWS secret access keys, GCP private keys (their id
    and each line of the key itself) and Azure client secrets."""
    aws = [v["secret_access_key"] if isinstance(v, dict) else v for v in secrets.get("aws", {}).values()]
    gcp = []
    for key in secrets.get("gcp", {}).values():
        gcp.append(key["private_key_id"])
        gcp += [line for line in key["private_key"].splitlines() if line and not line.startswith("-----")]
    return {
        "AWS secret access key(s)": aws,
        "GCP private key part(s)": gcp,
        "Azure client secret(s)": list(secrets.get("azure", {}).values()),
    }


def _print_some(lines: list[str]) -> None:
    """The first SHOWN lines, indented, and how many more there are."""
    for line in lines[:SHOWN]:
        print(f"  {line}")
    if len(lines) > SHOWN:
        print(f"  ... and {len(lines) - SHOWN} more")


def handoffs(workdir: Path, dumps: dict[str, dict[str, Any]], secrets: dict[str, Any], transcript: list[str]) -> None:
    """What no Datadog API can do, as `sync` wrote it beside destination state, and where the secrets went."""
    folder = workdir / "resources/destination/handoff"
    print(f"\n== hand-offs: what no Datadog API can do ({folder.relative_to(workdir)}/)", flush=True)
    aws = _read_json(folder / "aws-external-ids.json")
    issued = [a for a in (aws or {}).get("accounts", []) if a.get("new_in_last_sync")]
    print(
        f"AWS: {len(issued)} role account(s) got a new external ID in the destination org; each IAM role's trust "
        "policy must require it (sts:ExternalId). Trust-policy snippets: aws-external-ids.json"
    )
    _print_some([f"{account['role_arn']}: sts:ExternalId {account['external_id']}" for account in issued])
    gcp = _read_json(folder / "gcp-sts-principal.json")
    grants = (gcp or {}).get("service_accounts", [])
    source_principal = dumps[SOURCE.name].get("gcp", {}).get("delegate")
    if gcp is None:
        print("GCP: no STS service account in the destination, no grant to make")
    else:
        print(
            f"GCP: the destination org's Datadog principal {gcp.get('datadog_principal')} (the source's is "
            f"{source_principal}: each org has its own) needs {gcp.get('role')} on {len(grants)} STS service "
            "account(s), or Datadog cannot impersonate them. gcloud commands: gcp-sts-principal.json"
        )
    _print_some([grant["gcloud"] for grant in grants])
    destination = cloud_views(dumps[DESTINATION.name], DESTINATION.name)
    keyed = sorted(email for email, view in destination["GCP"].items() if view["api"] == "v1")
    print(
        f'GCP v1 key integration(s): {len(keyed)} created with the JSON key from {SECRETS_FILE} (its "gcp" '
        f"section, by client_email); no grant needed{': ' + ', '.join(keyed) if keyed else ''}"
    )
    print(
        f"Azure: {len(destination['Azure'])} app registration(s) created with the client secret from {SECRETS_FILE} "
        '(its "azure" section, keyed tenant_name:client_id); nothing to do in Azure: an app registration is not '
        "tied to a Datadog org"
    )
    values = secret_values(secrets)
    texts = [p.read_text(errors="replace") for p in workdir.rglob("*") if p.is_file() and p.name != SECRETS_FILE]
    texts += transcript
    leaked = sorted(kind for kind, found in values.items() if any(v in text for v in found for text in texts))
    counts = ", ".join(f"{len(found)} {kind}" for kind, found in values.items())
    if leaked:
        print(f"secrets: LEAKED ({', '.join(leaked)}) into the state files, the hand-offs or the CLI's output")
    else:
        print(
            f"secrets: none of {SECRETS_FILE}'s ({counts}) appears in the state files, the hand-offs or the CLI's output"
        )


#: What a newcomer finds in the working directory afterwards.
WORKDIR_GUIDE = f"""\
  resources/source/integrations.json       what `import` read from the source org, keyed aws:<AWS account id>,
                                           gcp:<client_email>, azure:<tenant_name>:<client_id>
  resources/destination/integrations.json  what `sync` made in the destination, under the same keys
  resources/destination/handoff/           aws-external-ids.json: new external IDs of role accounts, with IAM
                                           trust-policy snippets; gcp-sts-principal.json: the destination's GCP
                                           principal and a gcloud grant per STS service account
  resources/destination/.backup/<time>/    destination objects saved before sync updates or deletes them
                                           (none here: this demo's sync only creates)
  {SECRETS_FILE:<39}  the emulator's made-up AWS secret keys, GCP JSON keys and Azure client
                                           secrets (--integrations-secrets-file)"""


def gcp_key_share(n_accounts: int) -> float:
    """One in four GCP service accounts a v1 key integration, at least one when there are two or more (so both
    kinds are there); the rest STS."""
    return max(1, n_accounts // 4) / n_accounts if n_accounts >= 2 else 0.0


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
    parser.add_argument(
        "--gcp-accounts",
        type=int,
        default=4,
        help="GCP service accounts seeded in the source org (one in four, at least one, a v1 key integration)",
    )
    parser.add_argument("--azure-accounts", type=int, default=4, help="Azure app registrations seeded in the source")
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
    if min(args.accounts, args.gcp_accounts, args.azure_accounts) < 0:
        parser.error("--accounts, --gcp-accounts and --azure-accounts must be >= 0")
    try:
        workdir = make_workdir(args.workdir)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))

    state = {
        **with_v2_settings(make_aws_org(args.accounts)),
        **make_gcp_org(args.gcp_accounts, key_account_share=gcp_key_share(args.gcp_accounts)),
        **make_azure_org(args.azure_accounts),
    }
    codes: list[int] = []
    transcript: list[str] = []
    with emulated_orgs(source_state=state, latency_ms=args.latency_ms) as emu:
        print(f"emulator: {emu.url} (orgs {SOURCE.name!r}, {DESTINATION.name!r})", flush=True)
        secrets = {**make_secrets_file(state, with_account_ids=True), **make_cloud_secrets(state)}
        secrets_path = workdir / SECRETS_FILE
        secrets_path.touch(mode=0o600)
        secrets_path.write_text(json.dumps(secrets, indent=2))
        print(f"working dir: {workdir}; secrets file: {secrets_path}; AWS API: {args.integrations_aws_api}", flush=True)
        env = {**os.environ, **cli_env(emu), "DD_SHOW_PROGRESS_BAR": "false"}
        env.pop("DD_INTEGRATIONS_AWS_API", None)  # the flag below says which API: no stray environment
        extra = [
            "--resources=integrations",
            f"--integrations-secrets-file={secrets_path}",
            f"--integrations-aws-api={args.integrations_aws_api}",
        ]
        seen: dict[str, int] = {}
        for command in COMMANDS:
            codes.append(run_cli(command, extra, env, workdir, args.timeout, transcript))
            requests_line(emu, seen)
        dumps = {org: emu.dump(org) for org in (SOURCE.name, DESTINATION.name)}
        summary(emu, args.integrations_aws_api, dumps)
    handoffs(workdir, dumps, secrets, transcript)
    print("exit codes: " + ", ".join(f"{c}={code}" for c, code in zip(COMMANDS, codes, strict=True)), flush=True)
    show_workdir(workdir)
    # Always 0: a non-zero `diffs` can simply mean "differences found"; the codes are printed above.
    return 0


if __name__ == "__main__":
    sys.exit(main())

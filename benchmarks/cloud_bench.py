"""Benchmark the `gcp` and `azure` subtypes of `integrations` at scale against the local API emulator.

    python benchmarks/cloud_bench.py                          # 500 accounts of each, L = 20 ms
    python benchmarks/cloud_bench.py --accounts 20 --latency-ms 0 --subtypes azure
    python benchmarks/cloud_bench.py --markdown --json-out benchmarks/results/cloud.json

Per subtype, a fresh emulator process (latency L on every request, writes too) with a source org seeded with N
accounts (`make_gcp_org`: STS service accounts and `--gcp-key-share` v1 key integrations, their JSON keys in the
secrets file; `make_azure_org`: app registrations, their client secrets in the secrets file) and an empty destination
(for GCP, one whose Datadog principal was never made, as in an org that never had the integration). Each phase is one
`python -m datadog_sync ... --filter 'Type=integrations;Name=name;Value=<subtype>'` subprocess (benchmarks/subtype_bench.py,
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
import sys
from pathlib import Path
from typing import Any, ClassVar

if __package__ in (None, ""):  # run as a script: python benchmarks/cloud_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import subtype_bench  # noqa: E402
from datadog_sync.emulator.cloud_seed import make_azure_org, make_cloud_secrets, make_gcp_org  # noqa: E402
from datadog_sync.emulator.demo import azure_view, differing, gcp_view  # noqa: E402

SUBTYPES = ("gcp", "azure")
PHASES = tuple(subtype_bench.PHASE_COMMANDS)


def seed(subtype: str, accounts: int, seed_value: int, key_share: float) -> tuple[dict, dict]:
    """The source org's state and the destination's (empty; for GCP without a principal)."""
    if subtype == "gcp":
        return make_gcp_org(accounts, seed=seed_value, key_account_share=key_share), {"gcp": {"delegate": None}}
    return make_azure_org(accounts, seed=seed_value), {}


def view(subtype: str, dump: dict) -> dict[str, dict]:
    return gcp_view(dump) if subtype == "gcp" else azure_view(dump)


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


class CloudBench(subtype_bench.SubtypeBench):
    title: ClassVar[str] = "cloud"
    noun: ClassVar[str] = "accounts"
    subtypes: ClassVar[tuple[str, ...]] = SUBTYPES
    doc: ClassVar[str | None] = __doc__

    def seed(self, subtype: str) -> tuple[dict, dict]:
        return seed(subtype, self.args.accounts, self.args.seed, self.args.gcp_key_share)

    secrets = staticmethod(make_cloud_secrets)
    view = staticmethod(view)
    min_writes = staticmethod(min_writes)

    def identities(self, subtype: str, dump: dict) -> list[str]:
        accounts = dump.get(subtype, {}).get("accounts", [])
        if subtype == "gcp":
            return [a["client_email"] for a in accounts]
        return [f"{a['tenant_name']}:{a['client_id']}" for a in accounts]

    def profile(self, subtype: str, dump: dict) -> dict[str, Any]:
        accounts = dump.get(subtype, {}).get("accounts", [])
        if subtype == "gcp":
            keys = sum(1 for a in accounts if a.get("private_key"))
            return {"accounts": len(accounts), "sts": len(accounts) - keys, "v1_key": keys}
        return {"accounts": len(accounts), "tenants": len({a["tenant_name"] for a in accounts})}

    def size(self) -> str:
        return f"{self.args.accounts} accounts per subtype"

    def settings(self) -> dict[str, Any]:
        return {"accounts": self.args.accounts, "gcp_key_share": self.args.gcp_key_share}

    @classmethod
    def add_arguments(cls, p: argparse.ArgumentParser) -> None:
        p.add_argument("--accounts", type=int, default=500, help="accounts of each subtype in the source (default 500)")
        p.add_argument(
            "--gcp-key-share", type=float, default=0.1, help="share of GCP accounts that are v1 key integrations (0.1)"
        )

    @classmethod
    def check_arguments(cls, p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        if args.accounts < 1 or not 0 <= args.gcp_key_share <= 1:
            p.error("--accounts must be >= 1 and --gcp-key-share within [0, 1]")


main = CloudBench.main

if __name__ == "__main__":
    sys.exit(main())

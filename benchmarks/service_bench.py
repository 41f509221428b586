"""Benchmark the `webhooks` and `pagerduty` subtypes of `integrations` at scale against the local API emulator.

    python benchmarks/service_bench.py                          # 500 webhooks, 500 PagerDuty services, L = 20 ms
    python benchmarks/service_bench.py --count 20 --latency-ms 0 --subtypes pagerduty
    python benchmarks/service_bench.py --repeat 3 --markdown --json-out benchmarks/results/services.json

Per subtype, a fresh emulator process (latency L on every request, writes too) with a source org seeded by
`make_service_org` and an empty destination; the secrets file is `make_service_secrets` of the source:

  webhooks   N webhooks and V custom variables (half of them secret), each variable used by a webhook's custom
             headers as `$NAME`, and one monitor per webhook notifying `@webhook-<name>`. The API lists neither:
             the import finds the webhooks through the monitors, the secret variables through the secrets file and
             the others through the `$NAME` tokens of the webhooks found.
  pagerduty  N PagerDuty services (their keys in the secrets file) and one monitor per service notifying
             `@pagerduty-<service_name>`; the import lists them with the read-only legacy `GET
             /api/v1/integration/pagerduty`.

Each phase is one `python -m datadog_sync ... --filter 'Type=integrations;Name=name;Value=<subtype>'` subprocess
(benchmarks/subtype_bench.py, SubtypeBench, as cloud_bench.py runs it):

  import   source org -> source state
  sync     create everything in the empty destination
  resync   the same sync again: must write nothing

Per phase: wall time against the floor (harness.floor_seconds: writes x L, serialized, + ceil(reads / c) x L),
requests per endpoint from the emulator's request log, CPU and peak RSS of the CLI process, the emulator's CPU.
The minimum writes: one POST per webhook and one per custom variable; one POST per PagerDuty service. Writes to each
integration must be serialized (terraform-provider-datadog holds one mutex per integration for them): the emulator
counts a write that starts while another one of the same integration is in flight. After each sync the destination
must equal the source as the emulator holds them (what the API shows, and the secrets it keeps to itself), with no
duplicates. Exits 1 when a check fails. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

if __package__ in (None, ""):  # run as a script: python benchmarks/service_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness, subtype_bench  # noqa: E402
from datadog_sync.emulator.demo import differing  # noqa: E402
from datadog_sync.emulator.service_seed import make_service_org, make_service_secrets  # noqa: E402

SUBTYPES = ("webhooks", "pagerduty")
PHASES = tuple(subtype_bench.PHASE_COMMANDS)
#: What a webhook shows (`GET .../webhooks/{name}`), but `auth_method_id`, which no request sets.
WEBHOOK_FIELDS = ("url", "payload", "custom_headers", "encode_as")


# ------------------------------------------------------------------------------------------------------ seeding
def seed(subtype: str, count: int, variables: int, seed_value: int) -> tuple[dict, dict]:
    """The source org's state and the destination's (empty)."""
    if subtype == "webhooks":
        return use_variables(make_service_org(n_webhooks=count, n_custom_variables=variables, seed=seed_value)), {}
    return make_service_org(n_pagerduty=count, seed=seed_value), {}


def use_variables(state: dict) -> dict:
    """Spread the custom variables over the webhooks' custom headers as ``$NAME`` (a secret one as a bearer token),
    so that every variable is in use, as a variable nobody uses is found only when the user lists it."""
    services = state.get("services", {})
    hooks, variables = services.get("webhooks", []), services.get("custom_variables", [])
    for i, var in enumerate(variables):
        hook = hooks[i * len(hooks) // len(variables)]
        headers = json.loads(hook.get("custom_headers") or "{}")
        header = "Authorization" if var["is_secret"] else f"X-Var-{i}"
        headers[header] = f"Bearer ${var['name']}" if var["is_secret"] else f"${var['name']}"
        hook["custom_headers"] = json.dumps(headers)
    return state


def _shown(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not (k == "value" and obj.get("is_secret"))}


# ------------------------------------------------------------------------------------------------- the benchmark
class ServiceBench(subtype_bench.SubtypeBench):
    title: ClassVar[str] = "service integrations"
    noun: ClassVar[str] = "objects"
    subtypes: ClassVar[tuple[str, ...]] = SUBTYPES
    doc: ClassVar[str | None] = __doc__
    secrets = staticmethod(make_service_secrets)

    def seed(self, subtype: str) -> tuple[dict, dict]:
        return seed(subtype, self.args.count, self.args.variables, self.args.seed)

    @staticmethod
    def view(subtype: str, dump: Mapping[str, Any]) -> dict[str, dict]:
        """The subtype's objects of an emulator dump by identity: webhooks as `GET .../webhooks/{name}` shows them,
        custom variables with their value (a secret one's too, which the API never shows: the dump does, so the
        check covers the value taken from the secrets file), PagerDuty services with their key (masked by the API)."""
        services = dump.get("services") or {}
        if subtype == "pagerduty":
            listed = (services.get("pagerduty") or {}).get("services", [])
            return {f"service:{s['service_name']}": {"service_key": s.get("service_key")} for s in listed}
        out = {f"webhook:{h['name']}": {k: h.get(k) for k in WEBHOOK_FIELDS} for h in services.get("webhooks", [])}
        for var in services.get("custom_variables", []):
            out[f"custom_variable:{var['name']}"] = {"is_secret": var.get("is_secret"), "value": var.get("value")}
        return out

    @staticmethod
    def identities(subtype: str, dump: Mapping[str, Any]) -> list[str]:
        services = dump.get("services") or {}
        if subtype == "pagerduty":
            return [s["service_name"] for s in (services.get("pagerduty") or {}).get("services", [])]
        hooks = [f"webhook:{h['name']}" for h in services.get("webhooks", [])]
        return hooks + [f"custom_variable:{v['name']}" for v in services.get("custom_variables", [])]

    @staticmethod
    def min_writes(subtype: str, desired: Mapping[str, Any], current: Mapping[str, Any]) -> int:
        """The fewest writes making ``current`` hold every object of ``desired`` (no deletes): one POST per missing
        webhook, custom variable or PagerDuty service, one PUT per webhook or variable whose shown fields differ.
        Secrets are never read back, so neither a secret variable's value nor a service key can be seen to differ."""
        want, have = ServiceBench.view(subtype, desired), ServiceBench.view(subtype, current)
        if subtype == "pagerduty":
            return sum(1 for key in want if key not in have)
        shown = {key: _shown(obj) for key, obj in want.items()}
        return sum(1 for key in differing(shown, {k: _shown(v) for k, v in have.items()}) if key in want)

    def profile(self, subtype: str, dump: dict) -> dict[str, Any]:
        services, monitors = dump.get("services") or {}, len(dump.get("monitors") or [])
        if subtype == "pagerduty":
            return {"services": len((services.get("pagerduty") or {}).get("services", [])), "monitors": monitors}
        variables = services.get("custom_variables", [])
        return {
            "webhooks": len(services.get("webhooks", [])),
            "custom_variables": len(variables),
            "secret_variables": sum(1 for v in variables if v.get("is_secret")),
            "monitors": monitors,
        }

    def size(self) -> str:
        parts = {
            "webhooks": f"{self.args.count} webhooks (+{self.args.variables} custom variables)",
            "pagerduty": f"{self.args.count} PagerDuty services",
        }
        return ", ".join(parts[s] for s in self.args.subtypes)

    def settings(self) -> dict[str, Any]:
        return {"count": self.args.count, "variables": self.args.variables}

    def phase_extras(self, subtype: str, log: list[dict], counters: Mapping[str, Any]) -> dict[str, Any]:
        """Whether the writes were serialized: the emulator's count of writes begun while another write to the same
        integration of the org was in flight, and the most writes the request log shows in flight at once."""
        overlapping = sum(c.get("overlapping_writes", 0) for c in counters["by_org"].values())
        return {"overlapping_writes": overlapping, "max_concurrent_writes": harness.max_concurrent_writes(log)}

    def extra_checks(self, subtype: str, phase: str, result: Mapping[str, Any]) -> list[dict[str, str]]:
        if phase != "sync":
            return []
        overlapping, most = result["overlapping_writes"], result["max_concurrent_writes"]
        detail = f"{overlapping} overlapping, at most {most} in flight"
        return [subtype_bench.check_row(f"{subtype} sync: writes serialized", overlapping == 0 and most <= 1, detail)]

    @classmethod
    def add_arguments(cls, p: argparse.ArgumentParser) -> None:
        p.add_argument("--count", type=int, default=500, help="webhooks, or PagerDuty services, in the source (500)")
        p.add_argument("--variables", type=int, help="webhook custom variables, half secret (default: count / 10)")

    @classmethod
    def check_arguments(cls, p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        args.variables = args.count // 10 if args.variables is None else args.variables
        if args.count < 1 or args.variables < 0:
            p.error("--count must be >= 1 and --variables >= 0")


main = ServiceBench.main

if __name__ == "__main__":
    sys.exit(main())

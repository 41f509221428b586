"""Shared plumbing of the scripts in benchmarks/ (bench.py, soak.py, cloud_bench.py, service_bench.py).

* :class:`EmulatorProcess`: the local Datadog API emulator in its own process (its CPU is not the CLI's), with
  a small client of its admin API (seed, dump, request log, counters, knobs).
* :func:`run_cli`: one ``python -m datadog_sync ...`` run as a subprocess, timed, with its own CPU time and
  peak RSS read from ``os.wait4`` (so only that process is measured), optionally SIGKILLed after a delay.
* Request-log accounting (reads = GET, writes = everything else, per endpoint) and the comparison of two
  emulated orgs' AWS integrations (normalised accounts, tag filters, logs; duplicates by identity).
* :func:`min_writes`: the fewest v1 API writes that turn one account into another.
* The v2 view of the same store (:func:`v2_view`, :func:`compare_v2`, :func:`changed_v2`,
  :func:`v2_writes_by_account`): what the v2 accounts API shows of each account, compared without the per-org
  values, and the v2 writes of a request log attributed to the AWS account each one changed.
* subtype_bench.py builds on it: :class:`SubtypeBench`, a benchmark of ``integrations`` subtypes: import, sync
  and a no-op resync against a fresh emulator, each measured and checked; its report, Markdown and flags.

Everything talks to 127.0.0.1 only and every wait is bounded. Over 400 lines on purpose: the emulator process,
the CLI runner and the comparisons are one toolkit that bench.py and soak.py must measure with in the same way.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Org:
    name: str
    api_key: str
    app_key: str

    @property
    def flag(self) -> str:
        return f"{self.name}:{self.api_key}:{self.app_key}"


SOURCE = Org("source", "bench-source-api-key-00000000001", "bench-source-app-key-000000000000000000000001")
DESTINATION = Org("destination", "bench-dest-api-key-000000000002", "bench-dest-app-key-00000000000000000000000002")
EMPTY = Org("empty", "bench-empty-api-key-00000000003", "bench-empty-app-key-0000000000000000000000003")
#: Where reference clients (benchmarks/bare_sync.py) write, so the CLI's destination stays as the CLI left it.
REFERENCE = Org("reference", "bench-ref-api-key-0000000000004", "bench-ref-app-key-000000000000000000000000004")

#: Flags every measured CLI run gets. Key validation and the DDR check are off: each costs one sequential read
#: per org and invocation (a fixed ~L), unrelated to the number of accounts; docs/performance.md says so.
CLI_FLAGS = ("--resources=integrations", "--validate=false", "--verify-ddr-status=false", "--show-progress-bar=false")
#: The AWS API generations the CLI can use (`--integrations-aws-api`).
APIS = ("v1", "v2")
V2_ACCOUNTS = "/api/v2/integration/aws/accounts"


def api_flag(api: str) -> str:
    """The CLI flag selecting the AWS API generation."""
    if api not in APIS:
        raise ValueError(f"unknown AWS API generation {api!r}; choose from {', '.join(APIS)}")
    return f"--integrations-aws-api={api}"


# --------------------------------------------------------------------------------------------------- emulator
class EmulatorProcess:
    """``python -m datadog_sync.emulator`` on 127.0.0.1 and a free port, stopped with SIGTERM on exit."""

    def __init__(
        self,
        orgs: Sequence[Org] = (SOURCE, DESTINATION),
        *,
        log_path: Path | None = None,
        start_timeout: float = 30.0,
        **knobs: Any,
    ) -> None:
        cmd = [sys.executable, "-m", "datadog_sync.emulator", "--host", "127.0.0.1", "--port", "0"]
        for org in orgs:
            cmd += ["--org", org.flag]
        for name, value in knobs.items():
            if value is not None:
                cmd += [f"--{name.replace('_', '-')}", str(value)]
        self._log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, cwd=REPO)
        ready, _, _ = select.select([self.proc.stdout], [], [], start_timeout)
        line = self.proc.stdout.readline().decode().strip() if ready else ""  # type: ignore[union-attr]
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the emulator did not start (got {line!r}); see {log_path}")
        self.url = line

    def cpu_seconds(self) -> float:
        """User + system CPU the emulator process has used so far (Linux /proc; 0.0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # admin API (docs/emulator.md); unauthenticated, never faulted, never logged
    def admin(self, method: str, path: str, body: Any = None, timeout: float = 120.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/_emulator{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - 127.0.0.1 only
            raw = resp.read()
        return json.loads(raw) if raw else None

    def seed(self, org: str, state: dict) -> None:
        self.admin("PUT", f"/orgs/{org}/state", state)

    def dump(self, org: str) -> dict:
        return self.admin("GET", f"/orgs/{org}/state")

    def wipe(self, org: str) -> None:
        self.admin("DELETE", f"/orgs/{org}/state")

    def requests(self, org: str | None = None) -> list[dict]:
        return self.admin("GET", "/requests" + (f"?org={org}" if org else ""))["requests"]

    def clear_requests(self) -> None:
        self.admin("DELETE", "/requests")

    def counters(self) -> dict:
        return self.admin("GET", "/counters")

    def reset_counters(self) -> None:
        self.admin("DELETE", "/counters")

    def set_knobs(self, **changes: Any) -> dict:
        return self.admin("PATCH", "/knobs", changes)


#: The AWS integration API generation of a CLI run that passes no ``--integrations-aws-api`` (bench.py and soak.py
#: pass it: :func:`api_flag`; the flag wins over the environment).
AWS_API = "v1"


def cli_env(
    url: str, source: Org = SOURCE, destination: Org = DESTINATION, pycache: Path | None = None
) -> dict[str, str]:
    """The CLI's environment. With ``pycache``, bytecode is cached there (outside the tree), as a pip-installed
    tool has its ``.pyc`` files: otherwise every run would compile the package from source again. Without an
    ``--integrations-aws-api`` flag, the AWS API generation is :data:`AWS_API`, whatever the CLI's default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "MAX_WORKERS"))}
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env.update(
        {
            "DD_SOURCE_API_KEY": source.api_key,
            "DD_SOURCE_APP_KEY": source.app_key,
            "DD_SOURCE_API_URL": url,
            "DD_DESTINATION_API_KEY": destination.api_key,
            "DD_DESTINATION_APP_KEY": destination.app_key,
            "DD_DESTINATION_API_URL": url,
            "DD_INTEGRATIONS_AWS_API": AWS_API,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


# -------------------------------------------------------------------------------------------------- CLI runs
@dataclass
class CliRun:
    args: list[str]
    returncode: int | None  # None when killed by us (SIGKILL) or by the timeout
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_kib: int
    killed: bool = False
    timed_out: bool = False
    stdout_path: Path | None = None
    stderr_path: Path | None = None
    started_at: float = 0.0  # time.time() just before the spawn
    ended_at: float = 0.0  # time.time() once reaped
    rss_source: str = "VmHWM"

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def maxrss_mb(self) -> float:
        return self.maxrss_kib / 1024  # ru_maxrss is KiB on Linux

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path else ""

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path else ""


#: Runs ``python -m datadog_sync`` and, at exit, writes the process's own peak RSS (VmHWM, KiB) to
#: $BENCH_HWM_FILE. VmHWM starts afresh at exec; ``ru_maxrss`` from wait4 does not: Linux carries the high-water
#: mark of the pre-exec address space over, and subprocess vforks from this (large) benchmark process.
HWM_PRELUDE = """
import atexit, os, sys

def _hwm():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                with open(os.environ["BENCH_HWM_FILE"], "w") as f:
                    f.write(line.split()[1])
    except OSError:
        pass

atexit.register(_hwm)
"""
_BOOTSTRAP = HWM_PRELUDE + """
import runpy
sys.argv[0] = "datadog-sync"
runpy.run_module("datadog_sync", run_name="__main__", alter_sys=True)
"""


def run_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    name: str,
    timeout: float = 3600.0,
    kill_after: float | None = None,
    kill_when: Callable[[], bool] | None = None,
    python_args: Sequence[str] = (),
    command: Sequence[str] | None = None,
) -> CliRun:
    """Run ``python [python_args] -m datadog_sync <args>`` (or ``command``) in ``cwd``; stdout/stderr go to
    ``cwd/<name>.out|err``.

    CPU comes from ``os.wait4`` of that very process, peak RSS from its VmHWM (a ``command`` reports it by
    starting with :data:`HWM_PRELUDE`; without it, and under ``python_args``, ru_maxrss is the fallback). ``kill_after`` SIGKILLs it after that many
    seconds (a simulated crash), ``kill_when`` as soon as that predicate (polled while it runs) is true, e.g. when
    the emulator holds its Nth write; ``timeout`` SIGKILLs it and marks the run ``timed_out``.
    """
    cwd.mkdir(parents=True, exist_ok=True)
    out_path, err_path = cwd / f"{name}.out", cwd / f"{name}.err"
    hwm_path = cwd / f"{name}.hwm"
    hwm_path.unlink(missing_ok=True)
    env = {**env, "BENCH_HWM_FILE": str(hwm_path)}
    if command:
        cmd = list(command)
    elif python_args:
        cmd = [sys.executable, *python_args, "-m", "datadog_sync", *args]
    else:
        cmd = [sys.executable, "-c", _BOOTSTRAP, *args]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started_at = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=env)
    deadline = min(timeout, kill_after) if kill_after is not None else timeout
    if kill_when is None:
        exited, kill_now = _wait_exit(proc.pid, deadline), False
    else:
        end, exited, kill_now = time.monotonic() + deadline, False, False
        while not exited and not kill_now and time.monotonic() < end:
            kill_now = kill_when()
            exited = _wait_exit(proc.pid, 0 if kill_now else 0.02)
    killed = timed_out = False
    if not exited:
        # Still running (not reaped), so the pid is still ours.
        os.kill(proc.pid, signal.SIGKILL)
        killed = kill_now or (kill_after is not None and kill_after <= timeout)
        timed_out = not killed
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    ended_at = time.time()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
    try:
        maxrss_kib, rss_source = int(hwm_path.read_text()), "VmHWM"
    except (OSError, ValueError):
        # ru_maxrss survives exec, so it includes the (v)forking parent's peak: an upper bound only.
        maxrss_kib, rss_source = usage.ru_maxrss, "ru_maxrss"
    return CliRun(
        list(args),
        None if (killed or timed_out) else proc.returncode,
        wall,
        usage.ru_utime,
        usage.ru_stime,
        maxrss_kib,
        killed=killed,
        timed_out=timed_out,
        stdout_path=out_path,
        stderr_path=err_path,
        started_at=started_at,
        ended_at=ended_at,
        rss_source=rss_source,
    )


def _wait_exit(pid: int, seconds: float) -> bool:
    """True once ``pid`` has exited (not reaped), False if it still runs after ``seconds``."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        try:
            ready, _, _ = select.select([fd], [], [], max(seconds, 0))
            return bool(ready)
        finally:
            os.close(fd)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        time.sleep(0.002)
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


# ------------------------------------------------------------------------------------------ request accounting
_USER_ID = re.compile(r"/users/[^/]+/")
_CONFIG_ID = re.compile(r"(/api/v2/integration/aws/accounts/)[^/]+")
#: Objects addressed by name: webhooks, custom variables, PagerDuty services.
_BY_NAME = re.compile(
    r"(/api/v1/integration/(?:webhooks/configuration/(?:webhooks|custom-variables)|pagerduty/configuration/services)/)"
    r"[^/]+$"
)


def endpoint_of(entry: Mapping[str, Any]) -> str:
    path = _CONFIG_ID.sub(r"\1{id}", _USER_ID.sub("/users/{id}/", entry["path"]))
    path = _BY_NAME.sub(r"\1{name}", path)
    return f"{entry['method']} {path}"


@dataclass
class RequestStats:
    reads: int = 0
    writes: int = 0
    by_endpoint: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    injected: Counter = field(default_factory=Counter)
    #: Requests the emulator counted but the (bounded) request log no longer holds.
    unlogged: int = 0

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def as_dict(self) -> dict[str, Any]:
        return {
            "reads": self.reads,
            "writes": self.writes,
            "by_endpoint": dict(sorted(self.by_endpoint.items())),
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "injected": dict(self.injected),
            "unlogged": self.unlogged,
        }


def request_stats(entries: Iterable[Mapping[str, Any]], counted: int | None = None) -> RequestStats:
    """Reads (GET) and writes (other methods) of a request log, per endpoint, status and injected fault."""
    stats = RequestStats()
    for e in entries:
        if e["method"] in ("GET", "HEAD", "OPTIONS"):
            stats.reads += 1
        else:
            stats.writes += 1
        stats.by_endpoint[endpoint_of(e)] += 1
        stats.by_status[e["status"]] += 1
        if e.get("injected"):
            stats.injected[e["injected"]] += 1
    if counted is not None:
        stats.unlogged = max(0, counted - stats.total)
    return stats


def timeline(entries: Sequence[Mapping[str, Any]], run: CliRun) -> dict[str, float]:
    """Where a run's wall time went, from the emulator's request log (same host clock): ``startup`` (spawn to
    the first request: interpreter, imports, state load), ``requests`` (first request to last answer) and ``tail``
    (last answer to exit: state files, summary, interpreter shutdown); ``to_first_write`` (first request to first
    write, None without writes) is inside ``requests``."""
    if not entries:
        return {"startup_s": round(run.wall_s, 4), "requests_s": 0.0, "tail_s": 0.0, "to_first_write_s": None}
    first = min(e["start"] for e in entries)
    last = max(e["start"] + e["duration_ms"] / 1000 for e in entries)
    writes = [e["start"] for e in entries if e["method"] not in ("GET", "HEAD", "OPTIONS")]
    return {
        "startup_s": round(first - run.started_at, 4),
        "requests_s": round(last - first, 4),
        "tail_s": round(run.ended_at - last, 4),
        # first request to first write: the reads, and the plan made from them
        "to_first_write_s": round(min(writes) - first, 4) if writes else None,
    }


def write_turnaround(entries: Sequence[Mapping[str, Any]], latency_ms: float) -> dict[str, float | None]:
    """For serialized writes: the mean time the emulator spent beyond L per write (its own overhead and timer
    slack) and the mean gap between one write's answer and the next write's arrival (the client's turnaround:
    reading the answer, the next request, loopback). wall ~ writes x (L + server_over_l + gap)."""
    writes = sorted((e for e in entries if e["method"] not in ("GET", "HEAD", "OPTIONS")), key=lambda e: e["start"])
    if len(writes) < 2:
        return {"server_over_l_ms": None, "gap_ms": None}
    over = sum(e["duration_ms"] for e in writes) / len(writes) - latency_ms
    gaps = [b["start"] - (a["start"] + a["duration_ms"] / 1000) for a, b in zip(writes[:-1], writes[1:], strict=True)]
    return {"server_over_l_ms": round(over, 3), "gap_ms": round(sum(gaps) / len(gaps) * 1000, 3)}


def max_concurrent_writes(entries: Iterable[Mapping[str, Any]]) -> int:
    """The most writes the emulator was handling at once: 1 when the client serialized them, 0 without writes."""
    events = []
    for e in entries:
        if e["method"] not in ("GET", "HEAD", "OPTIONS"):
            events += [(e["start"], 1), (e["start"] + e["duration_ms"] / 1000, -1)]
    peak = current = 0
    for _, step in sorted(events, key=lambda ev: (ev[0], ev[1])):  # an end before a start at the same instant
        current += step
        peak = max(peak, current)
    return peak


def floor_seconds(reads: int, writes: int, latency_ms: float, concurrency: int) -> float:
    """Serialized writes (writes x L) plus concurrent reads (ceil(reads / concurrency) x L)."""
    return (writes + math.ceil(reads / max(concurrency, 1))) * latency_ms / 1000


# --------------------------------------------------------------------------------------------- seeding, secrets
def secrets_for(state: Mapping[str, Any]) -> dict[str, Any]:
    """The integrations secrets file for a seeded org: each key account's secret and numeric account id (the
    API never returns either; with the account id the key account's logs configuration is synced too)."""
    aws = {}
    for acc in state.get("aws", {}).get("accounts", []):
        if acc.get("access_key_id"):
            entry = {"secret_access_key": acc["secret_access_key"]}
            if acc.get("account_id"):
                entry["account_id"] = acc["account_id"]
            aws[acc["access_key_id"]] = entry
    return {"aws": aws}


# ------------------------------------------------------------------------------------------------- comparison
def identity(acc: Mapping[str, Any]) -> tuple[str, str]:
    if acc.get("access_key_id"):
        return "key", acc["access_key_id"]
    return "role", acc["account_id"]


def normalise(acc: Mapping[str, Any]) -> dict[str, Any]:
    """What must be equal between source and destination: everything but ``errors`` (read-only) and
    ``external_id`` (the destination issues its own). Lists compare as sorted lists."""
    out: dict[str, Any] = {
        "account_id": acc.get("account_id"),
        "role_name": acc.get("role_name"),
        "access_key_id": acc.get("access_key_id"),
        "secret_access_key": acc.get("secret_access_key"),
    }
    for name in ("host_tags", "filter_tags", "excluded_regions"):
        out[name] = sorted(acc.get(name) or [])
    out["account_specific_namespace_rules"] = dict(sorted((acc.get("account_specific_namespace_rules") or {}).items()))
    for name in (
        "metrics_collection_enabled",
        "resource_collection_enabled",
        "extended_resource_collection_enabled",
        "cspm_resource_collection_enabled",
    ):
        out[name] = acc.get(name)
    out["tag_filters"] = dict(sorted((acc.get("tag_filters") or {}).items()))
    logs = acc.get("logs") or {}
    out["lambdas"] = sorted(logs.get("lambdas") or [])
    out["services"] = sorted(logs.get("services") or [])
    return out


ACCOUNT_LEVEL = (
    "account_id",
    "role_name",
    "access_key_id",
    "secret_access_key",
    "host_tags",
    "filter_tags",
    "excluded_regions",
    "account_specific_namespace_rules",
    "metrics_collection_enabled",
    "resource_collection_enabled",
    "extended_resource_collection_enabled",
    "cspm_resource_collection_enabled",
)


def by_identity(state: Mapping[str, Any]) -> tuple[dict[tuple[str, str], dict], int]:
    """Normalised accounts of a dump by identity, and how many identities appear more than once."""
    seen: Counter = Counter()
    out: dict[tuple[str, str], dict] = {}
    for acc in state.get("aws", {}).get("accounts", []):
        ident = identity(acc)
        seen[ident] += 1
        out[ident] = normalise(acc)
    return out, sum(1 for n in seen.values() if n > 1)


@dataclass
class Comparison:
    source_accounts: int
    destination_accounts: int
    missing: list[str]
    extra: list[str]
    different: dict[str, list[str]]
    duplicates: int

    @property
    def equal(self) -> bool:
        return not (self.missing or self.extra or self.different or self.duplicates)

    def as_dict(self) -> dict[str, Any]:
        return {
            "equal": self.equal,
            "source_accounts": self.source_accounts,
            "destination_accounts": self.destination_accounts,
            "missing": self.missing[:20],
            "missing_count": len(self.missing),
            "extra": self.extra[:20],
            "extra_count": len(self.extra),
            "different": dict(list(self.different.items())[:20]),
            "different_count": len(self.different),
            "duplicates": self.duplicates,
        }

    def summary(self) -> str:
        if self.equal:
            return f"equal ({self.destination_accounts} accounts, no duplicates)"
        return (
            f"DIFFERENT: {len(self.missing)} missing, {len(self.extra)} extra, {len(self.different)} different, "
            f"{self.duplicates} duplicated"
        )


def compare(source_dump: Mapping[str, Any], destination_dump: Mapping[str, Any]) -> Comparison:
    src, _ = by_identity(source_dump)
    dst, dups = by_identity(destination_dump)
    different = {}
    for ident in src.keys() & dst.keys():
        fields = [k for k in src[ident] if src[ident][k] != dst[ident][k]]
        if fields:
            different[":".join(ident)] = fields
    return Comparison(
        len(source_dump.get("aws", {}).get("accounts", [])),
        len(destination_dump.get("aws", {}).get("accounts", [])),
        sorted(":".join(i) for i in src.keys() - dst.keys()),
        sorted(":".join(i) for i in dst.keys() - src.keys()),
        different,
        dups,
    )


def min_writes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> int:
    """Fewest v1 writes turning account ``old`` (None: absent) into ``new`` (both normalised).

    Create: 1 account POST + 1 POST per tag filter + 1 POST per Lambda ARN + 1 services POST if any services.
    Update: 1 PUT if any account-level field differs, + 1 POST or DELETE per differing tag filter namespace,
    + 1 POST or DELETE per added or removed ARN, + 1 services POST if the set differs.
    """
    if old is None:
        return 1 + len(new["tag_filters"]) + len(new["lambdas"]) + (1 if new["services"] else 0)
    writes = 1 if any(old[k] != new[k] for k in ACCOUNT_LEVEL) else 0
    namespaces = old["tag_filters"].keys() | new["tag_filters"].keys()
    writes += sum(1 for ns in namespaces if old["tag_filters"].get(ns) != new["tag_filters"].get(ns))
    writes += len(set(old["lambdas"]) ^ set(new["lambdas"]))
    writes += 1 if set(old["services"]) != set(new["services"]) else 0
    return writes


def min_writes_between(current_dump: Mapping[str, Any], desired_dump: Mapping[str, Any]) -> int:
    """Fewest writes making the destination ``current_dump`` equal ``desired_dump`` (no deletes: no cleanup)."""
    have, _ = by_identity(current_dump)
    want, _ = by_identity(desired_dump)
    return sum(min_writes(have.get(ident), acc) for ident, acc in want.items())


# ------------------------------------------------------------------------------------------------ the v2 view
#: What the v2 API shows but never carries between orgs: per-org timestamps (the config id and the external ID
#: are left out of the view below as well).
V2_PER_ORG = ("created_at", "modified_at")


def canonical(value: Any) -> Any:
    """``value`` with every list sorted and every ``null``/``[]``/``{}`` member of an object left out, so two
    views that mean the same compare equal (list order means nothing in these settings; a missing list, ``null``
    and ``[]`` are one thing to the tool)."""
    if isinstance(value, dict):
        out = {k: canonical(v) for k, v in sorted(value.items())}
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def v2_view(account: Mapping[str, Any]) -> dict[str, Any]:
    """One account of a dump as the v2 accounts API shows it (the emulator's own mapping of its store), minus the
    per-org values (timestamps, external ID), canonical. Key accounts get the secret they hold, which GET never
    shows, under ``auth_config.secret_access_key``."""
    from datadog_sync.emulator import aws_v2_model
    from datadog_sync.emulator.state import AwsAccount

    acc = AwsAccount.from_json(dict(account))
    attrs = aws_v2_model.attributes(acc)
    for name in V2_PER_ORG:
        attrs.pop(name, None)
    attrs["auth_config"].pop("external_id", None)
    if acc.is_key_account:
        attrs["auth_config"]["secret_access_key"] = acc.secret_access_key
    return canonical(attrs)


def v2_by_account(state: Mapping[str, Any]) -> tuple[dict[str, dict], int]:
    """v2 views of a dump by AWS account id (v2 keys every account by it), and how many ids appear more than once."""
    seen: Counter = Counter()
    out: dict[str, dict] = {}
    for acc in state.get("aws", {}).get("accounts", []):
        view = v2_view(acc)
        seen[view.get("aws_account_id", "")] += 1
        out[view.get("aws_account_id", "")] = view
    return out, sum(1 for n in seen.values() if n > 1)


def _without_secret(view: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(view)
    out["auth_config"] = {k: v for k, v in view.get("auth_config", {}).items() if k != "secret_access_key"}
    return out


def compare_v2(source_dump: Mapping[str, Any], destination_dump: Mapping[str, Any]) -> Comparison:
    """:func:`compare` through the v2 view: every v2 attribute (v2-only settings included) and key accounts'
    secrets must be equal; accounts are matched and duplicates counted by AWS account id."""
    src, _ = v2_by_account(source_dump)
    dst, dups = v2_by_account(destination_dump)
    different = {}
    for ident in src.keys() & dst.keys():
        fields = sorted(k for k in src[ident].keys() | dst[ident].keys() if src[ident].get(k) != dst[ident].get(k))
        if fields:
            different[ident] = fields
    return Comparison(
        len(source_dump.get("aws", {}).get("accounts", [])),
        len(destination_dump.get("aws", {}).get("accounts", [])),
        sorted(src.keys() - dst.keys()),
        sorted(dst.keys() - src.keys()),
        different,
        dups,
    )


def changed_v2(current_dump: Mapping[str, Any], desired_dump: Mapping[str, Any]) -> list[str]:
    """AWS account ids of ``desired_dump`` whose v2 view is absent from, or differs in, ``current_dump``: the
    accounts a v2 sync (without cleanup) must write, once each. A secret is never read back, so it does not count."""
    have, _ = v2_by_account(current_dump)
    want, _ = v2_by_account(desired_dump)
    return sorted(
        ident
        for ident, view in want.items()
        if ident not in have or _without_secret(have[ident]) != _without_secret(view)
    )


def changed_v1(current_dump: Mapping[str, Any], desired_dump: Mapping[str, Any]) -> list[str]:
    """Identities (``role:<id>`` / ``key:<access key id>``) of ``desired_dump`` a v1 sync must write at all."""
    have, _ = by_identity(current_dump)
    want, _ = by_identity(desired_dump)
    return sorted(":".join(i) for i, acc in want.items() if min_writes(have.get(i), acc))


def v2_writes_by_account(entries: Iterable[Mapping[str, Any]], org: str, *dumps: Mapping[str, Any]) -> dict[str, int]:
    """The v2 account writes of ``org`` in a request log, per AWS account id: a create by the ``aws_account_id`` it
    sends, a PATCH or DELETE by the config id in its path, looked up in ``dumps`` (the org before and after).
    Writes to anything else are counted under ``"(other: METHOD path)"``, unknown config ids under ``"(?)"``."""
    by_config = {
        acc.get("config_id"): acc.get("account_id") or "" for d in dumps for acc in d.get("aws", {}).get("accounts", [])
    }
    out: Counter = Counter()
    for e in entries:
        if e.get("org") != org or e["method"] in ("GET", "HEAD", "OPTIONS"):
            continue
        path = e["path"]
        if e["method"] == "POST" and path == V2_ACCOUNTS:
            body = e.get("body") if isinstance(e.get("body"), dict) else {}
            attrs = (body.get("data") or {}).get("attributes") or {}
            out[str(attrs.get("aws_account_id", "(?)"))] += 1
        elif path.startswith(V2_ACCOUNTS + "/") and path.count("/") == V2_ACCOUNTS.count("/") + 1:
            config_id = path.rsplit("/", 1)[1].strip('"')
            out[by_config.get(config_id) or "(?)"] += 1
        else:
            out[f"(other: {endpoint_of(e)})"] += 1
    return dict(out)


# ------------------------------------------------------------------------------------------------ state files
def check_state_files(root: Path) -> dict[str, Any]:
    """Every ``*.json`` under ``root`` (backups and hand-off files included) must parse as a JSON object."""
    files = sorted(p for p in root.rglob("*.json") if p.is_file())
    invalid = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, (dict, list)):
                invalid.append(str(path.relative_to(root)))
        except (OSError, ValueError):
            invalid.append(str(path.relative_to(root)))
    leftovers = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".tmp" in p.name)
    return {"files": len(files), "invalid": invalid, "temporary_files": leftovers, "valid": not invalid}


# ------------------------------------------------------------------------------------------------ environment
def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
    }


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "datadog_sync"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty(datadog_sync)" if dirty else "")


#: ``[org] <status or error> on <METHOD> <path>[: rate limited]; retrying in <s>s ...`` (http/client.py).
_RETRY = re.compile(r"\] (.+?) on [A-Z]+ [^\s;]+?(?::[^;\n]*)?; retrying in")


def count_retries(stderr: str) -> Counter:
    """Client retries by the status (or error) that caused them, from the ``...; retrying in`` warnings."""
    out: Counter = Counter()
    for m in _RETRY.finditer(stderr):
        out[m.group(1)] += 1
    return out


def summary_line(stdout: str, prefix: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith(prefix)]
    return lines[-1] if lines else ""


def applied_failures(stdout: str) -> int | None:
    m = re.search(r"Applied: .*?(\d+) failed", summary_line(stdout, "Applied:"))
    return int(m.group(1)) if m else None

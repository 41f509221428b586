"""Run-time knobs (latency, rate limit, faults, lost responses), the fixed-window rate limiter and counters."""

from __future__ import annotations

import copy
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Knobs:
    """Every knob can be changed while the emulator runs (admin PATCH /_emulator/knobs or `set_knobs`)."""

    latency_ms: float = 0.0
    # Writes to real v1 AWS endpoints take ~0.6-2.5 s against ~0.1 s for reads (go-vcr durations); None = latency_ms.
    write_latency_ms: float | None = None
    rate_limit: int | None = None  # requests per `rate_period` per org; None = unlimited
    rate_period: int = 10  # seconds, windows aligned on the epoch ("calendar aligned")
    rate_limit_name: str = "emulated_org_requests"
    fault_rate: float = 0.0  # share of answers replaced by a random 500/502/503 (the request is NOT applied)
    lost_response_rate: float = 0.0  # share of writes applied whose answer is replaced by a 504
    fault_path_prefix: str = "/api/"  # only paths starting with this get faults or lost responses
    seed: int | None = None  # RNG seed for faults, lost responses and generated external ids
    # One-shot faults for deterministic tests: {"fault", "method"?, "path"?, "org"?, "account_id"?, "skip"?, "times"?}.
    script: list[dict[str, Any]] = field(default_factory=list)
    # Deterministic points for tests and soaks, counted per org, whatever the machine's speed:
    rate_limit_every: int | None = None  # every Nth request of an org to a rate-limited endpoint gets a 429
    outage_after_writes: int | None = None  # once the org got N writes, every API request is answered 503
    hold_after_writes: int | None = None  # once the org got N writes, every API request waits for a knob change
    hold_write_slot: bool = False  # a write that takes an org's AWS write slot keeps it until this is cleared
    # v2 AWS writes take the same per-org write slot as v1 ones (409 "conflicting updates" on overlap). Not
    # established for the real v2 API (TF GH#2066 is about v1), so it can be turned off.
    v2_write_slot: bool = True

    def write_latency(self) -> float:
        return self.latency_ms if self.write_latency_ms is None else self.write_latency_ms

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> Knobs:
        """A validated copy with `changes` applied; raises ValueError naming the first bad knob."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown knobs: {sorted(unknown)}")
        new = Knobs(**{**asdict(self), **copy.deepcopy(changes)})
        new.validate()
        return new

    def validate(self) -> None:
        def number(name: str, value: Any, lo: float, hi: float = math.inf, optional: bool = False) -> None:
            if value is None and optional:
                return
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise ValueError(f"knob {name} must be a number in [{lo}, {hi}]")

        number("latency_ms", self.latency_ms, 0)
        number("write_latency_ms", self.write_latency_ms, 0, optional=True)
        number("fault_rate", self.fault_rate, 0, 1)
        number("lost_response_rate", self.lost_response_rate, 0, 1)
        for name in (
            "rate_limit",
            "rate_period",
            "seed",
            "rate_limit_every",
            "outage_after_writes",
            "hold_after_writes",
        ):
            value = getattr(self, name)
            if value is None and name != "rate_period":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"knob {name} must be an integer")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("knob rate_limit must be >= 1 (or null for no limit)")
        if self.rate_limit_every is not None and self.rate_limit_every < 1:
            raise ValueError("knob rate_limit_every must be >= 1 (or null)")
        for name in ("outage_after_writes", "hold_after_writes"):
            if (getattr(self, name) or 0) < 0:
                raise ValueError(f"knob {name} must be >= 0 (or null)")
        if self.rate_period < 1:
            raise ValueError("knob rate_period must be >= 1")
        if not isinstance(self.fault_path_prefix, str) or not isinstance(self.rate_limit_name, str):
            raise ValueError("knobs fault_path_prefix and rate_limit_name must be strings")
        for name in ("hold_write_slot", "v2_write_slot"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"knob {name} must be true or false")
        if not isinstance(self.script, list):
            raise ValueError("knob script must be a list of rules")
        for rule in self.script:
            _validate_rule(rule)

    def take_scripted(self, org: str, method: str, path: str, account_id: str | None = None) -> str | None:
        """The fault of the first live rule matching this request, consuming one use of it (None: no fault).
        ``account_id`` is the one in the request's JSON body, if any."""
        request = {"org": org, "method": method, "path": path, "account_id": account_id}
        for rule in self.script:
            if rule.get("times", 1) <= 0:
                continue
            if any(rule.get(k) not in (None, v) for k, v in request.items()):
                continue
            if rule.get("skip", 0) > 0:
                rule["skip"] -= 1
                return None
            rule["times"] = rule.get("times", 1) - 1
            return rule["fault"]
        return None


#: Scripted faults: "fault" 503 and "conflict" 409 (conflicting updates) and "rate_limited" 429 are not applied;
#: "lost" is applied and answered 504; "rival" is applied (as if another writer's identical request won the
#: write slot) and answered 409 conflicting updates; "hang" is applied and never answered.
SCRIPTED_FAULTS = ("fault", "conflict", "rate_limited", "lost", "rival", "hang")


def _validate_rule(rule: Any) -> None:
    if not isinstance(rule, dict) or rule.get("fault") not in SCRIPTED_FAULTS:
        raise ValueError(f"knob script: each rule needs a fault in {list(SCRIPTED_FAULTS)}")
    unknown = set(rule) - {"fault", "method", "path", "org", "account_id", "skip", "times"}
    if unknown:
        raise ValueError(f"knob script: unknown rule keys {sorted(unknown)}")
    for key in ("skip", "times"):
        if key in rule and (isinstance(rule[key], bool) or not isinstance(rule[key], int) or rule[key] < 0):
            raise ValueError(f"knob script: {key} must be an integer >= 0")


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    headers: dict[str, str]


class FixedWindowRateLimiter:
    """N requests per S seconds per org, in windows aligned on multiples of S since the epoch, like Datadog's."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}  # org -> (window index, requests counted)

    def reset(self) -> None:
        self._windows.clear()

    def check(self, org: str, limit: int, period: int, name: str) -> RateDecision:
        now = self._clock()
        window = int(now // period)
        index, count = self._windows.get(org, (window, 0))
        if index != window:
            count = 0
        count += 1
        self._windows[org] = (window, count)
        # Whole seconds until the window ends, rounded down: 0 during the last second of a window.
        reset = int((window + 1) * period - now)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Period": str(period),
            "X-RateLimit-Remaining": str(max(0, limit - count)),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Name": name,
        }
        return RateDecision(allowed=count <= limit, headers=headers)


class Counters:
    """Tallies for soak reports, global and per org."""

    NAMES = (
        "requests",
        "faults_injected",
        "rate_limited",
        "lost_responses",
        "write_conflicts",
        "forbidden",
        "scripted_faults",
        "writes",  # writes let through to the handler stage (what *_after_writes count)
        "outage_answers",
        "held",
        "slot_held",
        "overlapping_writes",  # a serialised service integration's write started while another was in flight
    )

    def of(self, org: str, name: str) -> int:
        counts = self.by_org.get(org)
        return counts[name] if counts is not None else 0

    def __init__(self) -> None:
        self.total: Counter[str] = Counter()
        self.by_org: dict[str, Counter[str]] = {}

    def add(self, name: str, org: str | None) -> None:
        self.total[name] += 1
        if org is not None:
            self.by_org.setdefault(org, Counter())[name] += 1

    def reset(self) -> None:
        self.total.clear()
        self.by_org.clear()

    def to_json(self) -> dict[str, Any]:
        def full(c: Counter[str]) -> dict[str, int]:
            return {n: c.get(n, 0) for n in self.NAMES}

        return {**full(self.total), "by_org": {org: full(c) for org, c in sorted(self.by_org.items())}}

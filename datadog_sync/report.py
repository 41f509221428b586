"""Outcomes of a run: counters, upstream-compatible ``--json`` events and the closing summary."""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from datadog_sync.log import escape_control

#: Longest reason kept in an outcome event (upstream's limit).
MAX_REASON = 1024


#: The reason of an unchanged resource (upstream's wording); it is not a problem.
UNCHANGED = "No differences detected."


@dataclass(frozen=True)
class Outcome:
    """One resource's result. Build it with a named constructor (:meth:`success`, :meth:`failure`, ...)."""

    command: str
    resource_type: str
    id: str
    action_type: str  # import | sync | delete
    status: str  # success | skipped | failure | filtered
    action_sub_type: str = ""  # create | update | ""
    reason: str = ""
    failure_class: str | None = None

    @classmethod
    def success(cls, command: str, rtype: str, key: str, action_type: str, sub_type: str = "") -> Outcome:
        return cls(command, rtype, key, action_type, "success", sub_type)

    @classmethod
    def failure(
        cls,
        command: str,
        rtype: str,
        key: str,
        action_type: str,
        reason: str,
        error: BaseException | None = None,
        sub_type: str = "",
    ) -> Outcome:
        """A failed resource; ``error`` gives the failure class (``unknown`` without one)."""
        return cls(
            command, rtype, key, action_type, "failure", sub_type, reason, failure_class(error) if error else "unknown"
        )

    @classmethod
    def skipped(cls, command: str, rtype: str, key: str, action_type: str, reason: str) -> Outcome:
        return cls(command, rtype, key, action_type, "skipped", "", reason)

    @classmethod
    def unchanged(cls, command: str, rtype: str, key: str) -> Outcome:
        return cls.skipped(command, rtype, key, "sync", UNCHANGED)

    @classmethod
    def filtered(cls, command: str, rtype: str, key: str) -> Outcome:
        return cls(command, rtype, key, "import", "filtered")

    def as_event(self) -> dict[str, Any]:
        event = {
            "type": "outcome",
            "command": self.command,
            "resource_type": self.resource_type,
            "id": self.id,
            "action_type": self.action_type,
            "status": self.status,
            "action_sub_type": self.action_sub_type,
            "reason": self.reason[:MAX_REASON],
        }
        if self.failure_class:
            event["failure_class"] = self.failure_class
        return event


@dataclass
class Reporter:
    """Collects outcomes; keeps only failures and skips in memory (runs can have 10^4 resources)."""

    command: str
    emit_json: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    counts: Counter = field(default_factory=Counter)
    problems: list[Outcome] = field(default_factory=list)

    def record(self, outcome: Outcome) -> None:
        self.counts[(outcome.action_type, outcome.status, outcome.action_sub_type)] += 1
        if outcome.status in ("failure", "skipped") and outcome.reason != UNCHANGED:
            self.problems.append(outcome)
        if self.emit_json:
            self.emit(outcome.as_event())

    def emit(self, event: dict[str, Any]) -> None:
        self.stream.write(json.dumps(event, default=str) + "\n")
        self.stream.flush()

    def total(self, action_type: str, status: str, sub_type: str | None = None) -> int:
        return sum(
            n
            for (a, s, sub), n in self.counts.items()
            if a == action_type and s == status and (sub_type is None or sub == sub_type)
        )

    @property
    def failures(self) -> int:
        return sum(n for (_, s, _), n in self.counts.items() if s == "failure")

    @property
    def unchanged(self) -> int:
        return self.counts[("sync", "skipped", "")] - self.skipped_with_reason

    @property
    def skipped_with_reason(self) -> int:
        return sum(1 for p in self.problems if p.status == "skipped" and p.action_type == "sync")

    def problem_lines(self) -> list[str]:
        """One line per failed or skipped resource; ids and reasons come from API data, hence escaped."""
        return [escape_control(f"  {p.status.upper()}: {p.resource_type} {p.id}: {p.reason}") for p in self.problems]


def failure_class(exc: BaseException) -> str:
    """Upstream's typed failure classes for ``--json`` consumers."""
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        if status in (403, 404, 429):
            return f"http_4xx_{status}"
        if 400 <= status < 500:
            return "http_4xx_other"
        if status >= 500:
            return "http_5xx"
    name = type(exc).__name__.lower()
    if "timeout" in name:
        return "http_timeout"
    if "connection" in name or "transport" in name:
        return "http_connection"
    return "unknown"

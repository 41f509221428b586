"""Per-client request counters: attempts sent, retries by reason, statuses, give-ups."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ClientStats"]


@dataclass(slots=True)
class ClientStats:
    """Counters for one client. ``requests``/``reads``/``writes``/``statuses`` count attempts actually sent
    (retries included); ``retries`` counts retries by reason: ``429``, ``5xx``, ``conflict`` (``retry_on``),
    ``connection`` (transport errors and timeouts)."""

    requests: Counter = field(default_factory=Counter)  # per method
    reads: int = 0
    writes: int = 0
    retries: Counter = field(default_factory=Counter)  # per reason
    statuses: Counter = field(default_factory=Counter)  # per HTTP status
    transport_errors: int = 0
    gave_up: int = 0  # requests that ran out of attempts or budget
    circuit_rejections: int = 0  # requests failed fast by the open circuit breaker

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def reset(self) -> None:
        self.requests.clear()
        self.retries.clear()
        self.statuses.clear()
        self.reads = self.writes = self.transport_errors = self.gave_up = self.circuit_rejections = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "reads": self.reads,
            "writes": self.writes,
            "retries": dict(self.retries),
            "statuses": dict(self.statuses),
            "transport_errors": self.transport_errors,
            "gave_up": self.gave_up,
            "circuit_rejections": self.circuit_rejections,
        }

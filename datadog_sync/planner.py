"""One planner for ``diffs`` and ``sync``: per resource, create / update / delete / nothing.

``diffs`` prints the plan, ``sync`` applies the very same plan, so a diff is exactly what sync does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from datadog_sync.diffing import Difference

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.resources.base import BaseResource

Action = Literal["create", "update", "delete", "noop", "skip"]


@dataclass
class Change:
    """What the plan does to one resource."""

    resource_type: str
    key: str
    action: Action
    desired: dict | None = None  # source object with dependency ids remapped (None for deletes)
    current: dict | None = None  # the destination's object (None for creates)
    differences: list[Difference] = field(default_factory=list)
    adopted: bool = False  # current was found in the destination, not in destination state
    reason: str = ""  # why a resource is skipped, or a note shown with the change
    #: (type, key) of resources in this plan that must be applied first.
    depends_on: list[tuple[str, str]] = field(default_factory=list)
    #: Drop the destination state entry without any write (the object is gone from the destination).
    forget: bool = False
    #: Set by apply: success | failure | skipped, and the error message of a failure.
    status: str = ""
    error: str = ""

    @property
    def writes(self) -> bool:
        return self.action in ("create", "update", "delete")


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    #: Source resources that the filters left out of the plan.
    filtered: int = 0
    #: Types whose destination could not be read: their plan is unknown and nothing of them is applied.
    unread: set[str] = field(default_factory=set)
    #: Types that were planned.
    planned: set[str] = field(default_factory=set)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def summary(self) -> str:
        line = (
            f"{self.count('create')} to create, {self.count('update')} to update, "
            f"{self.count('delete')} to delete, {self.count('noop')} unchanged"
        )
        skipped = self.count("skip")
        line += (f", {skipped} skipped" if skipped else "") + (f", {self.filtered} filtered" if self.filtered else "")
        if self.unread:
            # Said first: "0 unchanged" must not read as "the destination matches" when it could not be read.
            types = ", ".join(sorted(self.unread))
            unknown = f"Plan: unknown for {types} (reading the destination failed, see the error above)"
            return f"{unknown}; other types: {line}." if self.planned else f"{unknown}."
        return f"Plan: {line}."

    @property
    def has_changes(self) -> bool:
        return any(c.writes for c in self.changes)


def plan_type(
    resource: BaseResource,
    source: Mapping[str, dict],
    current: Mapping[str, dict],
    destination_state: Mapping[str, dict],
    *,
    cleanup: bool,
    all_source_keys: Iterable[str] = (),
    in_plan: Mapping[str, set[str]],
) -> list[Change]:
    """Plan one resource type.

    ``source`` holds the filtered source objects (``all_source_keys`` every source key: a filtered-out
    resource is not a cleanup candidate), ``current`` the destination's object per key (see
    ``BaseResource.current_destination``), ``in_plan`` the keys of every type being created or
    updated in this run, so a dependency that this run creates first does not count as unresolved.
    """
    rtype = resource.resource_type
    changes: list[Change] = []
    for key, obj in source.items():
        desired, unresolved = resource.remap(obj)
        depends_on = [
            (dep_type, dep_id)
            for dep_type, ids in resource.dependency_ids(obj).items()
            for dep_id in ids
            if dep_id in in_plan.get(dep_type, ())
        ]
        pending = {(t, i) for t, i in depends_on}
        still_missing = {t: [i for i in ids if (t, i) not in pending] for t, ids in unresolved.items()}
        still_missing = {t: ids for t, ids in still_missing.items() if ids}
        if still_missing:
            reason = "missing dependencies: " + "; ".join(f"{t} {', '.join(ids)}" for t, ids in still_missing.items())
            changes.append(Change(rtype, key, "skip", desired=desired, reason=reason))
            continue
        existing = current.get(key)
        blocked = resource.skip_reason(key, desired, existing)
        if blocked:
            changes.append(Change(rtype, key, "skip", desired=desired, current=existing, reason=blocked))
            continue
        if existing is None:
            changes.append(Change(rtype, key, "create", desired=desired, depends_on=depends_on))
            continue
        adopted = key not in destination_state
        differences = [] if pending else resource.diff(existing, desired)
        if pending:
            # Ids of dependencies created in this run are only known after they are applied.
            action: Action = "update"
            note = "references resources created in this run"
        else:
            action = "update" if differences else "noop"
            note = ""
        if adopted:
            note = "adopting the destination's existing object" + (f"; {note}" if note else "")
        changes.append(
            Change(
                rtype, key, action, desired, existing, differences, adopted=adopted, reason=note, depends_on=depends_on
            )
        )
    if cleanup:
        keep = set(all_source_keys) | set(source)
        for key in destination_state:
            if key not in keep:
                existing = current.get(key)
                if existing is None:
                    # Gone from the destination already: only the state entry is left to drop.
                    changes.append(
                        Change(rtype, key, "noop", reason="already absent from the destination", forget=True)
                    )
                else:
                    changes.append(Change(rtype, key, "delete", current=existing))
    return changes

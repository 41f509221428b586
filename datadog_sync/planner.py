"""One planner for ``diffs`` and ``sync``: per resource, create / update / delete / nothing.

``diffs`` prints the plan, ``sync`` applies the very same plan, so a diff is exactly what sync does.
Planning is pure: it reads state and the destination and changes neither (an adopted object is remapped
through an overlay, not written to state); the plan is immutable and applying it returns results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from datadog_sync.diffing import Difference
from datadog_sync.filters import PathCheck
from datadog_sync.log import OwnLines
from datadog_sync.ordering import type_order
from datadog_sync.report import Outcome
from datadog_sync.resources.base import PartialDestination, Superseded

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import RunContext
    from datadog_sync.resources.base import BaseResource

Action = Literal["create", "update", "delete", "noop", "skip"]

#: The note of a change whose references are only known once this run created what they point at.
PENDING_NOTE = "references resources created in this run"


@dataclass(frozen=True)
class Change:
    """What the plan does to one resource."""

    resource_type: str
    key: str
    action: Action
    desired: dict | None = None  # source object with dependency ids remapped (None for deletes)
    current: dict | None = None  # the destination's object (None for creates)
    differences: tuple[Difference, ...] = ()
    adopted: bool = False  # current was found in the destination, not in destination state
    reason: str = ""  # why a resource is skipped, or a note shown with the change
    #: (type, key) of resources in this plan that must be applied first.
    depends_on: tuple[tuple[str, str], ...] = ()
    #: Some references point at resources this run creates: they are remapped when those exist.
    pending: bool = False
    #: Drop the destination state entry without any write (the object is gone from the destination).
    forget: bool = False
    #: A skip because the source entry itself is bad (wrong type, unknown field): a failed resource, not a skip.
    invalid: bool = False

    def __post_init__(self) -> None:  # callers may pass lists; the plan keeps tuples
        object.__setattr__(self, "differences", tuple(self.differences))
        object.__setattr__(self, "depends_on", tuple(self.depends_on))

    @property
    def writes(self) -> bool:
        return self.action in ("create", "update", "delete")


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...] = ()
    #: Source resources that the filters left out of the plan.
    filtered: int = 0
    #: Types whose destination could not be read: their plan is unknown and nothing of them is applied.
    unread: frozenset[str] = frozenset()
    #: Types that were planned.
    planned: frozenset[str] = frozenset()
    #: Failures met while planning (a destination that could not be read), for the caller to report.
    problems: tuple[Outcome, ...] = field(default=(), compare=False)
    #: ``(type, part)`` of the parts of a type (a composite's subtypes) whose destination could not be read: their
    #: plan is unknown and nothing of them is applied, while the rest of their type is.
    unread_parts: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(self.changes))
        object.__setattr__(self, "unread", frozenset(self.unread))
        object.__setattr__(self, "unread_parts", frozenset(self.unread_parts))
        object.__setattr__(self, "planned", frozenset(self.planned))

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def invalid(self) -> int:
        """Skips of bad source entries: counted as failed, not skipped."""
        return sum(1 for c in self.changes if c.invalid)

    def summary(self) -> str:
        line = (
            f"{self.count('create')} to create, {self.count('update')} to update, "
            f"{self.count('delete')} to delete, {self.count('noop')} unchanged"
        )
        skipped, invalid = self.count("skip") - self.invalid, self.invalid
        line += f", {invalid} failed (invalid source entries)" if invalid else ""
        line += (f", {skipped} skipped" if skipped else "") + (f", {self.filtered} filtered" if self.filtered else "")
        if self.unknown:
            # Said first: "0 unchanged" must not read as "the destination matches" when it could not be read.
            unknown = (
                f"Plan: unknown for {', '.join(self.unknown)} (reading the destination failed, see the error above)"
            )
            rest = "the rest" if self.unread_parts else "other types"
            return f"{unknown}; {rest}: {line}." if self.planned else f"{unknown}."
        return f"Plan: {line}."

    @property
    def unknown(self) -> list[str]:
        """What this plan could not plan: each unread type, and each unread part as ``"<type> <part>"``."""
        return sorted(self.unread) + sorted(f"{rtype} {part}" for rtype, part in self.unread_parts)

    @property
    def has_changes(self) -> bool:
        return any(c.writes for c in self.changes)

    def without_deletes(self) -> Plan:
        """This plan with its deletes left undone (cleanup not confirmed): they count as unchanged."""
        changes = tuple(replace(c, action="noop") if c.action == "delete" else c for c in self.changes)
        return replace(self, changes=changes)


async def build_plan(ctx: RunContext, resources: Mapping[str, BaseResource]) -> Plan:
    """Plan every requested type, dependencies first. Reads state and the destination, changes nothing."""
    from datadog_sync.config import Cleanup

    changes: list[Change] = []
    filtered = 0
    unread: set[str] = set()
    unread_parts: set[tuple[str, str]] = set()
    planned: set[str] = set()
    problems: list[Outcome] = []
    in_plan: dict[str, set[str]] = {}
    creating: dict[str, set[str]] = {}
    # Destination state as this plan will leave it for remapping: adopted objects are counterparts from now on.
    adopted: dict[str, dict[str, dict]] = {}
    view = _Overlay(ctx.state.destination, adopted)
    for rtype in type_order(resources, resources):
        res = resources[rtype]
        all_source = ctx.state.source.get(rtype, {})
        source = {k: v for k, v in all_source.items() if ctx.config.filters.matches(rtype, v)}
        filtered += len(all_source) - len(source)
        if ctx.config.command != "migrate":  # migrate's import has checked the filters already
            _warn_unmatched_filters(ctx, res, all_source.values())
        destination_state = ctx.state.destination.get(rtype, {})
        try:
            current = await res.current_destination(ctx.destination, source, destination_state)
        except PartialDestination as partial:  # plan what was read; what was not is reported and left as it is
            for part, exc in partial.unread.items():
                failed = (
                    f"reading the destination's current {rtype} {part} failed, so none of them was planned or "
                    "applied (their state is kept): "
                )
                res.log.error("%s", OwnLines(failed + "%s", exc))
                unread_parts.add((rtype, part))
                problems.append(Outcome.failure(ctx.config.command, rtype, "", "sync", failed + str(exc), exc))
            current = partial.current
            source = {k: v for k, v in source.items() if not partial.covers(k)}
            destination_state = {k: v for k, v in destination_state.items() if not partial.covers(k)}
            if not source and not destination_state:
                continue  # nothing else of the type to plan
        except Exception as exc:  # noqa: BLE001 - reported per type; the other types are still planned
            failed = f"reading the destination's current {rtype} failed, so none was planned or applied: "
            reason = failed + str(exc)
            res.log.error("%s", OwnLines(failed + "%s", exc))  # an HTTP error's hint on a line of its own
            unread.add(rtype)
            problems.append(Outcome.failure(ctx.config.command, rtype, "", "sync", reason, exc))
            continue
        type_changes = plan_type(
            res,
            source,
            current,
            destination_state,
            cleanup=ctx.config.cleanup is not Cleanup.NO,
            all_source_keys=all_source.keys(),
            in_plan=in_plan,
            creating=creating,
            destination=view,
        )
        in_plan[rtype] = {c.key for c in type_changes if c.action in ("create", "update")}
        creating[rtype] = {c.key for c in type_changes if c.action == "create"}
        adopted[rtype] = {c.key: c.current for c in type_changes if c.adopted and c.current is not None}
        changes.extend(type_changes)
        planned.add(rtype)
    return Plan(
        tuple(changes),
        filtered,
        frozenset(unread),
        frozenset(planned),
        tuple(problems),
        unread_parts=frozenset(unread_parts),
    )


class _Overlay(Mapping[str, Mapping[str, dict]]):
    """Destination state per type with the plan's adopted objects laid over it, without copying either."""

    def __init__(self, state: Mapping[str, Mapping[str, dict]], adopted: Mapping[str, Mapping[str, dict]]):
        self.state, self.adopted = state, adopted

    def __getitem__(self, rtype: str) -> Mapping[str, dict]:
        base, extra = self.state.get(rtype, {}), self.adopted.get(rtype, {})
        return {**base, **extra} if extra else base

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(set(self.state) | set(self.adopted))

    def __len__(self) -> int:
        return len(set(self.state) | set(self.adopted))


def _warn_unmatched_filters(ctx: RunContext, res: BaseResource, objects: Iterable[dict]) -> None:
    check = PathCheck(res.resource_type, ctx.config.filters.for_type(res.resource_type))
    for obj in objects:
        check.see(obj)
        if not check.pending:
            return
    for warning in check.warnings():
        res.log.warning("%s", warning)


def plan_type(
    resource: BaseResource,
    source: Mapping[str, dict],
    current: Mapping[str, dict],
    destination_state: Mapping[str, dict],
    *,
    cleanup: bool,
    all_source_keys: Iterable[str] = (),
    in_plan: Mapping[str, set[str]],
    creating: Mapping[str, set[str]] | None = None,
    destination: Mapping[str, Mapping[str, dict]] | None = None,
) -> list[Change]:
    """Plan one resource type.

    ``source`` holds the filtered source objects (``all_source_keys`` every source key: a filtered-out
    resource is not a cleanup candidate), ``current`` the destination's object per key (see
    ``BaseResource.current_destination``), ``in_plan`` the keys of every type being created or
    updated in this run, so a dependency that this run creates first does not count as unresolved;
    ``creating`` the keys created in this run (a stale state entry of one must not be remapped to).
    ``destination`` is the destination state dependencies are remapped through (default: the run's state).
    A destination state key whose current object is a ``Superseded`` marker (the same object now lives under
    another key) is planned as a forget without any write, with or without ``cleanup``, never as a delete.
    ``resource.update_note`` adds its note to a planned update (e.g. that it replaces the object).
    """
    rtype = resource.resource_type
    changes: list[Change] = []
    for key, obj in source.items():
        desired, unresolved = resource.remap(obj, destination)
        depends_on = tuple(
            (dep_type, dep_id)
            for dep_type, ids in resource.dependency_ids(obj).items()
            for dep_id in ids
            if dep_id in in_plan.get(dep_type, ())
        )
        pending_ids = {t: [i for i in ids if i in in_plan.get(t, ())] for t, ids in unresolved.items()}
        still_missing = {t: [i for i in ids if i not in in_plan.get(t, ())] for t, ids in unresolved.items()}
        still_missing = {t: ids for t, ids in still_missing.items() if ids}
        if still_missing:
            reason = "missing dependencies: " + "; ".join(f"{t} {', '.join(ids)}" for t, ids in still_missing.items())
            changes.append(Change(rtype, key, "skip", desired=desired, reason=reason))
            continue
        pending = any(pending_ids.values()) or any(i in (creating or {}).get(t, ()) for t, i in depends_on)
        existing = current.get(key)
        if isinstance(existing, Superseded):  # a source key is never superseded; be safe: nothing is there
            existing = None
        blocked = resource.skip_reason(key, desired, existing)
        if blocked:
            invalid_reason = getattr(resource, "invalid_reason", None)  # composite types check source entries
            invalid = invalid_reason is not None and invalid_reason(key, desired) is not None
            changes.append(
                Change(rtype, key, "skip", desired=desired, current=existing, reason=blocked, invalid=invalid)
            )
            continue
        if existing is None:
            note = PENDING_NOTE if pending else ""  # the printed ids are source ids until then
            changes.append(Change(rtype, key, "create", desired, reason=note, depends_on=depends_on, pending=pending))
            continue
        adopted = key not in destination_state
        if adopted:
            existing = resource.adopted_current(key, desired, existing)
        # A reference to an object this run creates differs from any current one: an update whatever else differs.
        differences = () if pending else tuple(resource.diff(existing, desired))
        action: Action = "update" if pending or differences else "noop"
        note = PENDING_NOTE if pending else ""
        if action == "update":
            extra = resource.update_note(key, desired, existing)
            note = f"{extra}; {note}" if extra and note else extra or note
        if adopted:
            note = "adopting the destination's existing object" + (f"; {note}" if note else "")
        changes.append(
            Change(
                rtype,
                key,
                action,
                desired,
                existing,
                differences,
                adopted=adopted,
                reason=note,
                depends_on=depends_on,
                pending=pending,
            )
        )
    keep = set(all_source_keys) | set(source)
    for key in destination_state:
        moved = current.get(key)
        if key not in keep and isinstance(moved, Superseded):
            # The same destination object is kept under another key from now on: drop the old entry, never delete.
            changes.append(Change(rtype, key, "noop", reason=moved.reason, forget=True))
    if cleanup:
        for key in destination_state:
            if key not in keep and not isinstance(current.get(key), Superseded):
                existing = current.get(key)
                if existing is None:
                    # Gone from the destination already: only the state entry is left to drop.
                    changes.append(
                        Change(rtype, key, "noop", reason="already absent from the destination", forget=True)
                    )
                else:
                    changes.append(Change(rtype, key, "delete", current=existing))
    return changes

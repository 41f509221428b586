"""The resource plugin contract.

A resource type is one subclass of :class:`BaseResource` that declares its API shape in a
:class:`ResourceConfig` and overrides only what differs from the defaults below. The host
(import, planner, apply, reset) never knows more about a resource than this interface.

Objects flow like this:

* import:  ``list_resources(source)`` -> raw items -> ``import_resource(raw)`` -> ``(key, stored object)``
  kept in source state under ``key``.
* plan:    ``current_destination(...)`` gives the destination's object for every key; ``diff`` compares
  it with the (dependency-remapped) source object. A type made of parts that can fail alone raises
  :class:`PartialDestination` with what it read: the other parts are still planned.
* apply:   ``create`` / ``update`` / ``delete`` return what the destination state keeps for the key; a plugin
  never writes host state itself (:class:`PartialFailure` keeps an object despite a failure, and files beside
  state go through ``ctx.sidechannel``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference, compute_diff

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change


class SkipResource(Exception):
    """Raised by a plugin to skip one resource with a reason the user can act on."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ResourceError(Exception):
    """A failure of one resource whose message is already written for the user."""


class PartialFailure(ResourceError):
    """``error`` ended a write after the destination already changed: the host keeps ``keep`` in destination
    state for the key (e.g. an account with the external ID Datadog issued once), then handles ``error``."""

    def __init__(self, error: Exception, keep: dict):
        super().__init__(str(error))
        self.error = error
        self.keep = keep


class Superseded(dict):
    """A ``current_destination`` value saying that this destination state key now lives under ``new_key`` (the
    same destination object, found under another key, e.g. an AWS key account that the v1 generation kept under its
    access key id and v2 keeps under its account id). The planner plans it as a forget without any write, with or
    without ``--cleanup``, never as a delete; it is never diffed, shown or stored."""

    def __init__(self, new_key: str, reason: str = ""):
        super().__init__()
        self.new_key = new_key
        self.reason = reason or f"now kept under {new_key}"


class PartialListing(Exception):
    """A listing that read some of a type's objects but not all (a subtype of a composite type failed or was
    refused): ``items`` were listed; ``unlisted`` maps what could not be listed (a subtype) to its error, and
    ``keeps(key)`` tells the state keys it covers, whose previous state is kept rather than forgotten."""

    def __init__(self, items: list[dict], unlisted: Mapping[str, Exception], keeps: Callable[[str], bool]):
        super().__init__("; ".join(f"{name}: {err}" for name, err in unlisted.items()))
        self.items = items
        self.unlisted = dict(unlisted)
        self.keeps = keeps


class PartialDestination(Exception):
    """A ``current_destination`` that read some of a type's destination but not all (a subtype of a composite type
    failed or was refused): ``current`` is the destination's object for every key of what was read; ``unread`` maps
    what could not be read (a subtype) to its error, and ``covers(key)`` tells the keys it covers. The planner plans
    the rest and reports each unread part as failed; the keys it covers are neither planned, deleted nor forgotten."""

    def __init__(self, current: dict[str, dict], unread: Mapping[str, Exception], covers: Callable[[str], bool]):
        super().__init__("; ".join(f"{name}: {err}" for name, err in unread.items()))
        self.current = current
        self.unread = dict(unread)
        self.covers = covers


@dataclass(frozen=True)
class ResourceConfig:
    """Declarative description of a resource type's API shape."""

    base_path: str = ""
    #: Dot paths removed from payloads and ignored by diffs (ids, timestamps, server-computed fields).
    excluded_attributes: tuple[str, ...] = ()
    #: ``{dependency_type: (dot paths holding source ids of that type, ...)}``; drives ordering and id remapping.
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: False serializes every write of this type.
    concurrent: bool = True
    #: Caps concurrent applies of this type (``--max-workers-per-type`` overrides it).
    max_concurrent: int | None = None
    #: Dot path of a natural key used to adopt destination objects that exist already (no duplicates).
    mapping_key: str | None = None
    #: Envelope key of list responses; None when the body is the list itself.
    list_key: str | None = "data"
    #: Attribute holding the API id of an object.
    id_key: str = "id"
    #: Top-level attributes that ``import_resource`` fetches with extra reads; filters on any other
    #: attribute are applied to the list item first, which saves those reads.
    fetched_attributes: frozenset[str] = frozenset()
    #: Lists compare as multisets unless order has a meaning for the type.
    ignore_order: bool = True
    #: ``{action: permission}`` for "read", "create", "update", "delete": checked before the first write by the
    #: host's pre-flight (datadog_sync/preflight.py). Empty: the type is not checked.
    permissions: Mapping[str, str] = field(default_factory=dict)
    #: ``{permission: what it allows}``, completing the pre-flight's "needed to ..." message.
    permission_purposes: Mapping[str, str] = field(default_factory=dict)
    #: How the pre-flight counts the objects of this type ("3 account(s) need ...").
    noun: str = "resource(s)"


class BaseResource:
    """Default behaviour for a REST resource at ``config.base_path`` with an ``id``."""

    resource_type: ClassVar[str]
    config: ClassVar[ResourceConfig] = ResourceConfig()

    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self.log = ctx.resource_logger(self.resource_type)

    # ----------------------------------------------------------------------------------------- import
    async def list_resources(self, client: Client) -> list[dict]:
        """Every object of this type in the org behind ``client``."""
        body = await client.get(self.config.base_path)
        if self.config.list_key is None:
            return list(body or [])
        return list((body or {}).get(self.config.list_key) or [])

    def key_of(self, raw: dict) -> str | None:
        """The state key a listed item will have, if it can be told without extra reads."""
        value = raw.get(self.config.id_key)
        return None if value is None else str(value)

    def preview(self, raw: dict) -> dict:
        """The stored object as far as the list item tells it, used to filter before extra reads."""
        return raw

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        """Turn a listed item into ``(state key, stored object)``. May raise :class:`SkipResource`."""
        return str(raw[self.config.id_key]), raw

    # ------------------------------------------------------------------------------------------- plan
    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """The destination's current object for every key of ``source`` or ``destination_state`` that has one.

        The default trusts destination state and, when the type has a ``mapping_key``, lists the
        destination once to adopt objects that exist there already (created by hand, or by an
        earlier run whose state was lost) instead of creating duplicates.
        """
        current = {key: obj for key, obj in destination_state.items()}
        if not self.config.mapping_key or client is None:
            return current
        missing = [key for key in source if key not in current]
        if not missing:
            return current
        existing: dict[str, dict] = {}
        for obj in await self.list_resources(client):
            value = get_path(obj, self.config.mapping_key)
            if value is not None:
                existing.setdefault(str(value), obj)
        for key in missing:
            value = get_path(source[key], self.config.mapping_key)
            if value is not None and str(value) in existing:
                current[key] = existing[str(value)]
        return current

    def prepare(self, obj: dict) -> dict:
        """A copy of ``obj`` without excluded attributes: what is sent and what is compared."""
        return strip_paths(obj, self.config.excluded_attributes)

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        """Differences that applying ``desired`` over ``current`` would make (empty: nothing to do)."""
        return compute_diff(self.prepare(current), self.prepare(desired), ignore_order=self.config.ignore_order)

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        """Why this resource cannot be created or updated in this run (shown by diffs, skipped by sync), or None."""
        return None

    def update_note(self, key: str, desired: dict, current: dict) -> str:
        """A note shown with a planned update (e.g. that it replaces the object), or ``""``."""
        return ""

    def adopted_current(self, key: str, desired: dict, current: dict) -> dict:
        """The destination's object as the plan compares it when adopting it (found in the destination, with no
        destination state entry for ``key``): e.g. marked so that ``diff`` shows a write-only secret that the plan
        must write once. Default: as it is."""
        return current

    def remap(
        self, obj: dict, destination: Mapping[str, Mapping[str, dict]] | None = None
    ) -> tuple[dict, dict[str, list[str]]]:
        """Replace source ids of dependencies by destination ids; return the copy and what stayed unresolved.

        ``destination`` is the destination state to map through (the planner's view); default the run's state."""
        if not self.config.dependencies:
            return obj, {}
        out = copy.deepcopy(obj)
        unresolved: dict[str, list[str]] = {}
        states = self.ctx.state.destination if destination is None else destination
        for dep_type, paths in self.config.dependencies.items():
            mapping = states.get(dep_type, {})
            for path in paths:
                for missing in _remap_path(out, path.split("."), mapping, self.ctx.id_key_of(dep_type)):
                    unresolved.setdefault(dep_type, []).append(missing)
        return out, unresolved

    def dependency_ids(self, obj: dict) -> dict[str, list[str]]:
        """Source ids this object references, per dependency type."""
        found: dict[str, list[str]] = {}
        for dep_type, paths in self.config.dependencies.items():
            for path in paths:
                found.setdefault(dep_type, []).extend(str(v) for v in iter_path(obj, path.split(".")))
        return found

    # ------------------------------------------------------------------------------------------ apply
    def write_actions(self, change: Change) -> tuple[str, ...]:
        """The actions (keys of ``config.permissions``) applying ``change`` performs; the pre-flight checks them."""
        return (change.action,) if change.writes else ()

    def plugins(self, changes: list[Change]) -> list[tuple[BaseResource, list[Change]]]:
        """The plugins that apply ``changes`` (a composite type answers one per subtype)."""
        return [(self, changes)]

    def plugin_of(self, key: str | None = None, obj: Mapping | None = None) -> BaseResource:
        """The plugin owning one state key or object: its config (id key, caps) rules it (a composite: a subtype)."""
        return self

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        return await client.post(self.config.base_path, json=self.prepare(desired))

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        api_id = current[self.config.id_key]
        return await client.put(f"{self.config.base_path}/{api_id}", json=self.prepare(desired))

    async def delete(self, client: Client, key: str, current: dict) -> None:
        api_id = current[self.config.id_key]
        await client.delete(f"{self.config.base_path}/{api_id}")

    async def settle(self, client: Client, written: Mapping[str, dict]) -> dict[str, dict]:
        """Runs once after ``sync`` made all of this type's writes, with what its successful creates and updates
        returned (key -> object). Returns the objects destination state keeps instead, for the keys where they
        differ: e.g. read back in one listing when the API's writes answer nothing. Default: none."""
        return {}

    def after_apply(self, changes: list[Change]) -> None:
        """Runs once after ``sync`` applied this type (reports, hand-off files)."""

    def after_sync(self, changes: list[Change], unread: frozenset[str]) -> None:
        """Runs once at the end of ``sync`` for every planned type, after ``after_apply``, also when the plan
        writes nothing (end-of-run reports about the plan as a whole). ``unread``: the parts of this type (subtypes)
        whose destination could not be read, so the plan left them out."""

    def share_state(self, source: Mapping[str, Any], destination: Mapping[str, Any]) -> None:
        """Before planning: let destination state entries share the sub-objects they have in common with their
        source entry (``jsonshare.share_fields``), for memory only: at 10,000 AWS accounts the two states are about
        40 MB each and mostly the same settings (docs/performance.md). Content never changes. Only a plugin whose
        code never changes a stored object in place may do it; the default does nothing."""

    def after_reset(self, deleted: list[str]) -> None:
        """Runs once after ``reset`` deleted these keys of this type from the destination (hand-off files)."""

    def redacted(self, obj: dict) -> dict:
        """The object as it may be shown to a user (diffs, backups, logs)."""
        return obj

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        """Whether a destination state entry points at the destination object ``reset`` just deleted."""
        api_id = deleted.get(self.config.id_key)
        return api_id is not None and stored.get(self.config.id_key) == api_id


# ----------------------------------------------------------------------------------------- dot paths
def get_path(obj: Any, path: str) -> Any:
    """Value at a dot path through dicts, or None."""
    for part in path.split("."):
        if not isinstance(obj, Mapping) or part not in obj:
            return None
        obj = obj[part]
    return obj


def iter_path(obj: Any, parts: list[str]) -> Iterable[Any]:
    """Every leaf value at ``parts``, walking through lists on the way and at the leaf."""
    if isinstance(obj, list):
        for item in obj:
            yield from iter_path(item, parts)
        return
    if not parts:
        if obj is not None:
            yield obj
        return
    if isinstance(obj, Mapping) and parts[0] in obj:
        yield from iter_path(obj[parts[0]], parts[1:])


def _remap_path(obj: Any, parts: list[str], mapping: Mapping[str, dict], id_key: str) -> list[str]:
    """Rewrite the ids at ``parts`` in place; return those without a destination counterpart."""
    unresolved: list[str] = []
    if isinstance(obj, list):
        for item in obj:
            unresolved.extend(_remap_path(item, parts, mapping, id_key))
        return unresolved
    if not isinstance(obj, dict) or parts[0] not in obj:
        return unresolved
    if len(parts) > 1:
        return _remap_path(obj[parts[0]], parts[1:], mapping, id_key)

    def convert(value: Any) -> Any:
        target = mapping.get(str(value))
        if target is None or id_key not in target:
            unresolved.append(str(value))
            return value
        new = target[id_key]
        return type(value)(new) if isinstance(value, (int, str)) else new

    value = obj[parts[0]]
    obj[parts[0]] = [convert(v) for v in value] if isinstance(value, list) else convert(value)
    return unresolved


def strip_paths(obj: dict, paths: Iterable[str]) -> dict:
    """A copy of ``obj`` without the given dot paths (walking through lists)."""
    paths = tuple(paths)
    if not paths:
        return obj
    out = copy.deepcopy(obj)
    for path in paths:
        _strip(out, path.split("."))
    return out


def _strip(obj: Any, parts: list[str]) -> None:
    if isinstance(obj, list):
        for item in obj:
            _strip(item, parts)
    elif isinstance(obj, dict) and parts[0] in obj:
        if len(parts) == 1:
            del obj[parts[0]]
        else:
            _strip(obj[parts[0]], parts[1:])

"""Composite resource types: one resource type made of subtypes (``integrations``: ``aws``, later ``gcp``, ...).

A subtype is a resource plugin like any other: a :class:`SubtypeResource` is a :class:`BaseResource` with its
own ``ResourceConfig``, normalisation, payloads and writes. The composite knows nothing about any of them: it
dispatches every hook by the subtype key, the state key's prefix (``<subtype>:<natural id>``) or a stored
object's ``name``. That key names the subtype, never the API generation reading it, so a later generation of
one (AWS v2 accounts) can take over existing state by registering under the same key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from datadog_sync.diffing import Difference
from datadog_sync.resources.base import (
    BaseResource,
    PartialDestination,
    PartialListing,
    ResourceConfig,
    ResourceError,
)
from datadog_sync.resources.schema import schema_problems
from datadog_sync.state import sanitize_id

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change

T = TypeVar("T")


class SubtypeResource(BaseResource):
    """One subtype of a composite type: ``resource_type`` is the composite's, ``subtype`` the key prefix."""

    #: The state-key prefix and the stored objects' ``name``.
    subtype: ClassVar[str]
    #: Field -> expected JSON type of the stored objects (see ``schema_problems``).
    schema: ClassVar[Mapping[str, Any]] = {}
    #: True when the subtype has a section in its composite's secrets file (see ``parse_secrets``).
    has_secrets: ClassVar[bool] = False
    #: The notification kind its objects provide in monitor messages (``webhook`` for ``@webhook-deploy-bot``); None
    #: when they provide none: a run whose subtypes all have None reads no monitors.
    handle_kind: ClassVar[str | None] = None

    def __init__(self, ctx: RunContext, secrets: Any = None):
        super().__init__(ctx)
        #: What ``parse_secrets`` made of this subtype's section of the secrets file.
        self.secrets = secrets

    @classmethod
    def variant(cls, config: Any) -> type[SubtypeResource]:
        """The class playing this subtype in a run with ``config`` (default: this one). A subtype with several API
        generations registers one class whose ``variant`` picks the generation the options ask for."""
        return cls

    @classmethod
    def variants(cls) -> tuple[type[SubtypeResource], ...]:
        """Every class ``variant`` may return (the composite's combined config covers them all)."""
        return (cls,)

    @classmethod
    def parse_secrets(cls, section: Any, path: Path | None) -> Any:
        """This subtype's section of the secrets file (None when absent). Raise the file's error when malformed."""
        return section

    def handles(self, obj: dict) -> list[str]:
        """The notification handles (``@webhook-deploy-bot``) that this stored object provides in monitor messages."""
        return []

    def secret_names(self, obj: dict) -> list[str]:
        """The keys of this subtype's secrets-file section that this source object needs (names, never values)."""
        return []

    def problems(self, key: str, obj: Mapping) -> list[str]:
        """What is wrong with a source state entry (empty: it can be planned): the schema, plus subtype rules."""
        return schema_problems(obj, self.schema)


class CompositeResource(BaseResource):
    """A resource type whose every hook goes to the subtype owning the key or object."""

    #: Subtype name -> plugin class; filled by :meth:`register_subtype`, one line per subtype.
    subtype_classes: ClassVar[dict[str, type[SubtypeResource]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.subtype_classes = {}

    @classmethod
    def register_subtype(cls, part: type[SubtypeResource]) -> type[SubtypeResource]:
        cls.subtype_classes[part.subtype] = part
        cls.config = cls._combined_config()
        return part

    @classmethod
    def unregister_subtype(cls, name: str) -> None:
        cls.subtype_classes.pop(name, None)
        cls.config = cls._combined_config()

    @classmethod
    def _combined_config(cls) -> ResourceConfig:
        """What the host reads of the type as a whole: every fetched attribute. Ids and caps are each subtype's own
        (``plugin_of``, ``pool.type_cap``), so the composite declares none."""
        parts = [each.config for part in cls.subtype_classes.values() for each in part.variants()]
        return ResourceConfig(
            list_key=None, fetched_attributes=frozenset().union(*(c.fetched_attributes for c in parts))
        )

    def __init__(self, ctx: RunContext):
        super().__init__(ctx)
        self._subtypes: dict[str, SubtypeResource] | None = None
        #: The subtypes whose destination the last plan could not read, and why (reports word their entries so).

    def new_subtype(self, part: type[SubtypeResource]) -> SubtypeResource:
        """One subtype plugin for this run (a composite with a secrets file hands each its section)."""
        return part(self.ctx)

    @property
    def subtypes(self) -> dict[str, SubtypeResource]:
        if self._subtypes is None:
            config = self.ctx.config
            self._subtypes = {name: self.new_subtype(cls.variant(config)) for name, cls in self.subtype_classes.items()}
        return self._subtypes

    @property
    def selected(self) -> dict[str, SubtypeResource]:
        """The subtypes the run's filters can select: all of them, unless plain ``Name=name;Value=<subtype>`` filters
        name some (``Filters.pinned_values``; every stored object's ``name`` is its subtype). The others' objects would
        all be filtered out, so they are not listed, and their monitor handles are not read or reported."""
        pinned = self.ctx.config.filters.pinned_values(self.resource_type, "name")
        return {name: sub for name, sub in self.subtypes.items() if pinned is None or name in pinned}

    def plugin_of(self, key: str | None = None, obj: Mapping | None = None) -> BaseResource:
        return self.subtype_of(key, obj)

    def subtype_of(self, key: str | None = None, obj: Mapping | None = None) -> SubtypeResource:
        name = (obj or {}).get("name") or (key or "").partition(":")[0]
        try:
            return self.subtypes[name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self.subtype_classes))
            raise ResourceError(f"unknown {self.resource_type} subtype {name!r} (known: {known})") from None

    def _split(self, objects: Mapping[str, dict]) -> dict[str, dict[str, dict]]:
        by_subtype: dict[str, dict[str, dict]] = {name: {} for name in self.subtypes}
        for key, obj in objects.items():
            by_subtype[self.subtype_of(key, obj).subtype][key] = obj
        return by_subtype

    # -------------------------------------------------------------------------------------------- import
    async def list_resources(self, client: Client) -> list[dict]:
        """Every selected subtype's objects. When some subtypes cannot be listed (an AWS-only key may not read GCP),
        the others still are: :class:`PartialListing` says which were not, so their state is kept, never forgotten.
        When none can, the first failure in registration order is raised, whichever answered first."""
        selected = self.selected
        lists, unlisted = await _per_subtype({name: sub.list_resources(client) for name, sub in selected.items()})
        items = [item for listed in lists.values() for item in listed]
        if not unlisted:
            return items
        if len(unlisted) == len(selected):
            raise next(iter(unlisted.values()))
        return self._partial(items, unlisted)

    def _partial(self, items: list[dict], unlisted: dict[str, Exception]) -> list[dict]:
        raise PartialListing(items, unlisted, self._of_subtypes(unlisted))

    def _of_subtypes(self, names: Mapping[str, object]) -> Callable[[str], bool]:
        """Whether a state key belongs to one of the subtypes ``names`` (a key of no known subtype belongs to none)."""

        def belongs(key: str) -> bool:
            try:
                return self.subtype_of(key).subtype in names
            except ResourceError:
                return False

        return belongs

    def key_of(self, raw: dict) -> str | None:
        return self.subtype_of(obj=raw).key_of(raw)

    def preview(self, raw: dict) -> dict:
        return self.subtype_of(obj=raw).preview(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        return await self.subtype_of(obj=raw).import_resource(raw, client)

    # ---------------------------------------------------------------------------------------------- plan
    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        sources, states = self._split(self._valid(source)), self._split(destination_state)
        everything = self.ctx.state.source.get(self.resource_type, {})
        # A subtype with nothing to plan is not read: no source entry passes the filters, and every destination
        # state entry has a source entry (filtered out: no cleanup candidate), so its plan is empty whatever it reads.
        names = [name for name in self.subtypes if sources[name] or any(k not in everything for k in states[name])]
        results, unread = await _per_subtype(
            {name: self.subtypes[name].current_destination(client, sources[name], states[name]) for name in names}
        )
        current = {key: obj for result in results.values() for key, obj in result.items()}
        if unread:  # one subtype failing (an unreadable listing, a key refused one integration) stops no other
            raise PartialDestination(current, unread, self._of_subtypes(unread))
        return current

    def _valid(self, source: Mapping[str, dict]) -> dict[str, dict]:
        """The source entries that can be planned, so one hand-edited entry never fails the others (and is never
        coerced into something else and sent); ``skip_reason`` plans each bad one as a skip saying what is wrong."""
        valid: dict[str, dict] = {}
        for key, obj in source.items():
            invalid = self.invalid_reason(key, obj)
            if invalid is None:
                valid[key] = obj
            elif self.ctx.config.command == "diffs":  # sync logs every planned skip as an error itself
                self.log.error("%s", invalid, id=key)
        return valid

    def invalid_reason(self, key: str, obj: Any) -> str | None:
        """Why a source entry cannot be planned (None: it can). Pure, so planning recomputes it instead of
        remembering it."""
        try:
            problems = self.subtype_of(key, obj if isinstance(obj, Mapping) else None).problems(key, obj)
        except ResourceError as exc:
            problems = [str(exc)]
        if not problems:
            return None
        return f"invalid source state entry {key} in {self._source_file(key)}: " + "; ".join(problems)

    def _source_file(self, key: str) -> Path:
        state, rtype = self.ctx.state, self.resource_type
        return state.source_path / (f"{rtype}.{sanitize_id(key)}.json" if state.resource_per_file else f"{rtype}.json")

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        invalid = self.invalid_reason(key, desired)
        if invalid is not None:
            return invalid
        return self.subtype_of(key, desired).skip_reason(key, desired, current)

    def prepare(self, obj: dict) -> dict:
        return self.subtype_of(obj=obj).prepare(obj)

    def update_note(self, key: str, desired: dict, current: dict) -> str:
        return self.subtype_of(key, desired).update_note(key, desired, current)

    def adopted_current(self, key: str, desired: dict, current: dict) -> dict:
        return self.subtype_of(key, desired).adopted_current(key, desired, current)

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return self.subtype_of(obj=desired).diff(current, desired)

    def redacted(self, obj: dict) -> dict:
        return self.subtype_of(obj=obj).redacted(obj)

    # --------------------------------------------------------------------------------------------- apply
    def plugins(self, changes: list[Change]) -> list[tuple[BaseResource, list[Change]]]:
        return [(self.subtypes[name], part) for name, part in self._changes_by_subtype(changes).items()]

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        return await self.subtype_of(key, desired).create(client, key, desired)

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        return await self.subtype_of(key, desired).update(client, key, desired, current)

    async def delete(self, client: Client, key: str, current: dict) -> None:
        await self.subtype_of(key, current).delete(client, key, current)

    async def settle(self, client: Client, written: Mapping[str, dict]) -> dict[str, dict]:
        parts = [(self.subtypes[name], objs) for name, objs in self._split(written).items() if objs]
        results = await asyncio.gather(*(sub.settle(client, objs) for sub, objs in parts))
        return {key: obj for result in results for key, obj in result.items()}

    def after_apply(self, changes: list[Change]) -> None:
        for name, part in self._changes_by_subtype(changes).items():
            self.subtypes[name].after_apply(part)

    def share_state(self, source: Mapping[str, Any], destination: Mapping[str, Any]) -> None:
        parts: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for key, stored in destination.items():
            mine = source.get(key)
            if not isinstance(stored, Mapping) or not isinstance(mine, Mapping):
                continue
            try:
                name = self.subtype_of(key, stored).subtype
            except ResourceError:  # an entry of no known subtype is left alone
                continue
            theirs, ours = parts.setdefault(name, ({}, {}))
            theirs[key], ours[key] = mine, stored
        for name, (theirs, ours) in parts.items():
            self.subtypes[name].share_state(theirs, ours)

    def after_reset(self, deleted: list[str]) -> None:
        for name, keys in self._split(dict.fromkeys(deleted, {})).items():
            if keys:
                self.subtypes[name].after_reset(list(keys))

    def _changes_by_subtype(self, changes: list[Change]) -> dict[str, list[Change]]:
        out: dict[str, list[Change]] = {}
        for change in changes:
            # An invalid source entry is planned as a skip and may name no known subtype: it belongs to none.
            if change.action != "skip" or self.invalid_reason(change.key, change.desired) is None:
                out.setdefault(self.subtype_of(change.key).subtype, []).append(change)
        return out


async def _per_subtype(calls: Mapping[str, Awaitable[T]]) -> tuple[dict[str, T], dict[str, Exception]]:
    """Run one call per subtype at once: what each answered, and apart what each failed with (one subtype failing
    stops no other). Ctrl-C and SIGTERM are raised, not collected."""
    results = await asyncio.gather(*calls.values(), return_exceptions=True)
    answered: dict[str, T] = {}
    failed: dict[str, Exception] = {}
    for name, result in zip(calls, results, strict=True):
        if isinstance(result, Exception):
            failed[name] = result
        elif isinstance(result, BaseException):
            raise result
        else:
            answered[name] = result
    return answered, failed

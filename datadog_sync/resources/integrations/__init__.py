"""The ``integrations`` resource: cloud integrations, one subtype per provider (``aws`` first).

State keys are ``<subtype>:<id>`` (``aws:123456789012``, ``aws:AKIA...``) and every stored object carries its
subtype in ``name``, so ``--filter 'Type=integrations;Name=name;Value=aws'`` selects a subtype. This class is a
thin dispatcher: each hook goes to the subtype that owns the key or object. A new subtype (gcp, azure) or a new
API generation of one (AWS v2 accounts, before v1's Lambda ARN endpoints sunset on 2027-02-20) is one more
entry in :data:`SUBTYPES`, with no change to the host or the CLI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.resources.base import BaseResource, ResourceConfig, ResourceError
from datadog_sync.resources.integrations.aws import AwsV1Subtype
from datadog_sync.resources.integrations.secrets import IntegrationSecrets, SecretsFileError, load_secrets
from datadog_sync.resources.integrations.subtype import RESOURCE_TYPE, Subtype
from datadog_sync.state import sanitize_id

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change

#: Subtype name -> implementation. The name is the state-key prefix and the stored objects' ``name``.
SUBTYPES: dict[str, type[Subtype]] = {"aws": AwsV1Subtype}


class IntegrationsResource(BaseResource):
    resource_type: ClassVar[str] = RESOURCE_TYPE
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path="/api/v1/integration",
        list_key=None,
        id_key="account_id",
        # Only the tag filters cost a read per account; filters on anything else run on the list item first.
        fetched_attributes=frozenset({"tag_filters"}),
    )

    def __init__(self, ctx: RunContext):
        super().__init__(ctx)
        self._secrets: IntegrationSecrets | None = None
        self._subtypes: dict[str, Subtype] | None = None
        #: Source entries that cannot be planned (wrong types, unknown subtype): key -> message. Planned as skips.
        self.invalid: dict[str, str] = {}

    # ------------------------------------------------------------------------------------------ dispatch
    @property
    def secrets(self) -> IntegrationSecrets:
        if self._secrets is None:
            try:
                path = getattr(self.ctx.config, "integrations_secrets_file", None)
                self._secrets = load_secrets(path, warn=self.log.warning)
            except SecretsFileError as exc:
                raise ResourceError(str(exc)) from None
        return self._secrets

    @property
    def subtypes(self) -> dict[str, Subtype]:
        if self._subtypes is None:
            self._subtypes = {name: cls(self.ctx, self.log, self.secrets) for name, cls in SUBTYPES.items()}
        return self._subtypes

    def subtype_of(self, key: str | None = None, obj: Mapping | None = None) -> Subtype:
        name = (obj or {}).get("name") or (key or "").partition(":")[0]
        try:
            return self.subtypes[name]
        except (KeyError, TypeError):
            raise ResourceError(
                f"unknown integrations subtype {name!r} (known: {', '.join(sorted(SUBTYPES))})"
            ) from None

    def _split(self, objects: Mapping[str, dict]) -> dict[str, dict[str, dict]]:
        by_subtype: dict[str, dict[str, dict]] = {name: {} for name in self.subtypes}
        for key, obj in objects.items():
            by_subtype[self.subtype_of(key, obj).name][key] = obj
        return by_subtype

    # -------------------------------------------------------------------------------------------- import
    async def list_resources(self, client: Client) -> list[dict]:
        lists = await asyncio.gather(*(sub.list_resources(client) for sub in self.subtypes.values()))
        return [item for items in lists for item in items]

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
        names = [name for name in self.subtypes if sources[name] or states[name]]
        results = await asyncio.gather(
            *(self.subtypes[name].current_destination(client, sources[name], states[name]) for name in names)
        )
        return {key: obj for result in results for key, obj in result.items()}

    def _valid(self, source: Mapping[str, dict]) -> dict[str, dict]:
        """The source entries that can be planned; each bad one is remembered with what is wrong, per entry, so
        one hand-edited entry never fails the others (and is never coerced into something else and sent)."""
        valid: dict[str, dict] = {}
        for key, obj in source.items():
            try:
                problems = self.subtype_of(key, obj if isinstance(obj, Mapping) else None).problems(key, obj)
            except ResourceError as exc:
                problems = [str(exc)]
            if not problems:
                valid[key] = obj
                continue
            self.invalid[key] = f"invalid source state entry {key} in {self._source_file(key)}: " + "; ".join(problems)
            if self.ctx.config.command == "diffs":  # sync logs every planned skip as an error itself
                self.log.error("%s", self.invalid[key], id=key)
        return valid

    def _source_file(self, key: str) -> Path:
        state = self.ctx.state
        name = f"{RESOURCE_TYPE}.{sanitize_id(key)}.json" if state.resource_per_file else f"{RESOURCE_TYPE}.json"
        return state.source_path / name

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        if key in self.invalid:
            return self.invalid[key]
        return self.subtype_of(key, desired).skip_reason(key, desired, current)

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return self.subtype_of(obj=desired).diff(current, desired)

    def redacted(self, obj: dict) -> dict:
        return self.subtype_of(obj=obj).redacted(obj)

    # --------------------------------------------------------------------------------------------- apply
    async def preflight(self, client: Client, changes: list[Change]) -> list[str]:
        problems: list[str] = []
        for name, subtype_changes in self._changes_by_subtype(changes).items():
            problems += await self.subtypes[name].preflight(client, subtype_changes)
        return problems

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        return await self.subtype_of(key, desired).create(client, key, desired)

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        return await self.subtype_of(key, desired).update(client, key, desired, current)

    async def delete(self, client: Client, key: str, current: dict) -> None:
        await self.subtype_of(key, current).delete(client, key, current)

    def after_apply(self, changes: list[Change]) -> None:
        for name, subtype_changes in self._changes_by_subtype(changes).items():
            self.subtypes[name].after_apply(subtype_changes)

    def after_reset(self, deleted: list[str]) -> None:
        for name, keys in self._split(dict.fromkeys(deleted, {})).items():
            if keys:
                self.subtypes[name].after_reset(list(keys))

    def _changes_by_subtype(self, changes: list[Change]) -> dict[str, list[Change]]:
        out: dict[str, list[Change]] = {}
        for change in changes:
            if change.key not in self.invalid:
                out.setdefault(self.subtype_of(change.key).name, []).append(change)
        return out

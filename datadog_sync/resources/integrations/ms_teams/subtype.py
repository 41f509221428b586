"""The ``ms_teams`` integrations subtype: Microsoft Teams notification handles, tenant-based and Workflows webhook.

* **Import** lists both kinds (one request each) and keeps every handle by name (see ``model``).
* **Plan** lists the destination's handles once and matches them by name: drift shows, an existing handle is adopted
  (updated, never created twice). A tenant-based handle to create or change needs the destination to resolve its
  tenant, team and channel by names (one GetChannelByName each): the tenant connection and adding the Datadog app to
  the team are UI steps, so when the destination cannot resolve them the handle is skipped saying what to connect. A
  Workflows handle to create needs its URL from the secrets file; without it the handle is skipped saying which line
  to add.
* **Writes**: one ``POST`` / ``PATCH`` / ``DELETE`` each, concurrent within the type's caps; a handle whose kind
  changed is deleted, then created as the other kind (both kinds share one name space); a renamed handle is another
  key (created; the old one is deleted by ``sync --cleanup``). An unchanged handle gets no write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceConfig, ResourceError, SkipResource
from datadog_sync.resources.integrations.common import error_message, matched
from datadog_sync.resources.integrations.ms_teams import model
from datadog_sync.resources.integrations.ms_teams.api import BASE, MANAGE, READ, MsTeamsApi
from datadog_sync.resources.integrations.secrets import KeyedSecrets, KeyedSecretsSubtype

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client

TILE = "https://docs.datadoghq.com/integrations/microsoft_teams/"


def not_connected_message(obj: Mapping[str, Any]) -> str:
    tenant, team, _ = (str(obj.get(n) or "") for n in model.NAMES)
    return (
        f"{model.label(obj)}: the destination cannot resolve {model.where(obj)}: connect the Microsoft tenant "
        f'"{tenant}" in the Microsoft Teams integration tile of the destination\'s Datadog UI ({TILE}, "Add Tenant") '
        f'and add the Datadog app to the team "{team}", then sync again'
    )


class MsTeamsSubtype(KeyedSecretsSubtype):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    subtype: ClassVar[str] = model.SUBTYPE
    handle_kind: ClassVar[str | None] = "teams"
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    key_doc: ClassVar[str] = "<handle name>"
    value_doc: ClassVar[str] = "workflow url"
    secret_field: ClassVar[str] = model.URL
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path=BASE,
        list_key="data",
        id_key=model.HANDLE,
        permissions={"read": READ, "create": MANAGE, "delete": MANAGE, "update": MANAGE},
        permission_purposes={MANAGE: "add, edit or remove Microsoft Teams handles"},
        noun="Microsoft Teams handle(s)",
    )

    def __init__(self, ctx: RunContext, secrets: KeyedSecrets | None = None):
        super().__init__(ctx, secrets)
        #: Filled by ``current_destination``: handle name -> (kind, destination id); state key -> channel ids, or
        #: the reason the destination cannot resolve them.
        self.ids: dict[str, tuple[str, str]] = {}
        self.resolved: dict[str, dict[str, str]] = {}
        self.unresolved: dict[str, str] = {}

    # ------------------------------------------------------------------------------------------- import
    async def _live(self, client: Client) -> list[tuple[str, dict]]:
        """(destination id, stored shape) of every handle of both kinds."""
        api = MsTeamsApi(client)
        lists = await asyncio.gather(api.list_handles(model.WORKFLOWS), api.list_handles(model.TENANT))
        return [(str(item.get("id") or ""), model.from_api(item)) for items in lists for item in items]

    async def list_resources(self, client: Client) -> list[dict]:
        return [obj for _, obj in await self._live(client)]

    def key_of(self, raw: dict) -> str | None:
        return model.state_key(raw) if model.handle_name(raw) else None

    def preview(self, raw: dict) -> dict:
        return model.ordered(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        obj = model.ordered(raw)
        if not model.handle_name(obj):
            raise SkipResource("a Microsoft Teams handle without a name was listed")
        return model.state_key(obj), obj

    # --------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        return model.problems(key, obj)

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """List both kinds once, match handles by name, and resolve the channels of the tenant-based handles to write."""
        if client is None:
            return dict(destination_state)
        live: dict[str, dict] = {}
        for handle_id, obj in await self._live(client):
            live[model.handle_name(obj)] = obj
            self.ids[model.handle_name(obj)] = (model.kind(obj), handle_id)
        current = matched(live, source, destination_state, model.handle_name)
        writes = [
            (key, obj)
            for key, obj in source.items()
            if model.kind(obj) == model.TENANT and (key not in current or model.differences(current[key], obj))
        ]
        api = MsTeamsApi(client)
        found = await asyncio.gather(*(api.channel_ids(*(str(obj[n]) for n in model.NAMES)) for _, obj in writes))
        for (key, obj), ids in zip(writes, found, strict=True):
            if ids is None:
                self.unresolved[key] = not_connected_message(obj)
            else:
                self.resolved[key] = ids
        return current

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        if model.kind(desired) == model.TENANT:
            return self.unresolved.get(key)
        fresh = current is None or model.kind(current) != model.WORKFLOWS
        if fresh and not self.secrets.get(model.handle_name(desired)):
            return self.secrets.missing_message(model.handle_name(desired), model.label(desired))
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return model.differences(current, desired) + self.secret_differences(current, desired)

    def redacted(self, obj: dict) -> dict:
        return {k: v for k, v in obj.items() if k != model.URL}

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        return bool(model.handle_name(deleted)) and model.handle_name(stored) == model.handle_name(deleted)

    def handles(self, obj: dict) -> list[str]:
        """The handle monitors notify with."""
        return [model.handle(obj)] if model.handle_name(obj) else []

    def secret_names(self, obj: dict) -> list[str]:
        """The ``ms_teams`` secrets-file keys the handle needs: its name for a Workflows handle (its URL)."""
        return [model.handle_name(obj)] if model.kind(obj) == model.WORKFLOWS and model.handle_name(obj) else []

    # -------------------------------------------------------------------------------------------- apply
    async def _payload(self, api: MsTeamsApi, key: str, obj: dict, creating: bool) -> dict:
        name = model.handle_name(obj)
        if model.kind(obj) == model.WORKFLOWS:
            url = self.secrets.get(name)
            if creating and not url:
                raise SkipResource(self.secrets.missing_message(name, model.label(obj)))
            return model.workflows_payload(obj, url)
        ids = self.resolved.get(key) or await api.channel_ids(*(str(obj.get(n) or "") for n in model.NAMES))
        if ids is None:
            raise SkipResource(not_connected_message(obj))
        return model.tenant_payload(obj, ids)

    async def _id(self, api: MsTeamsApi, kind: str, name: str) -> str | None:
        known = self.ids.get(name)
        if known is not None and known[0] == kind:
            return known[1]
        return await api.find_id(kind, name)

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        obj = model.ordered(desired)
        api, kind = MsTeamsApi(client), model.kind(obj)
        payload = await self._payload(api, key, obj, creating=True)
        try:
            await api.create(kind, payload)
        except HTTPError as err:
            if err.status != 409:
                raise ResourceError(error_message(model.label(obj), err)) from err
            handle_id = await api.find_id(kind, model.handle_name(obj))
            if handle_id is None:
                raise ResourceError(
                    f"{model.label(obj)}: the destination has a handle of the other kind with that name: delete it "
                    "there or rename one of them (both kinds share one name space)"
                ) from err
            self.log.warning("already exists in the destination: updating it instead of creating it", id=key)
            await self._patch(api, obj, handle_id, payload)
        return obj

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        obj = model.ordered(desired)
        api = MsTeamsApi(client)
        if model.kind(current) != model.kind(obj):
            # One name space for both kinds: the old handle goes first, then the new kind is created.
            payload = await self._payload(api, key, obj, creating=True)
            await self.delete(client, key, current)
            try:
                await api.create(model.kind(obj), payload)
            except HTTPError as err:
                raise ResourceError(error_message(model.label(obj), err)) from err
            return obj
        handle_id = await self._id(api, model.kind(obj), model.handle_name(obj))
        if handle_id is None:
            raise ResourceError(f"{model.label(obj)}: it is gone from the destination: run sync again to create it")
        await self._patch(api, obj, handle_id, await self._payload(api, key, obj, creating=False))
        return obj

    async def _patch(self, api: MsTeamsApi, obj: dict, handle_id: str, payload: dict) -> None:
        try:
            await api.update(model.kind(obj), handle_id, payload)
        except HTTPError as err:
            raise ResourceError(error_message(model.label(obj), err)) from err

    async def delete(self, client: Client, key: str, current: dict) -> None:
        api = MsTeamsApi(client)
        handle_id = await self._id(api, model.kind(current), model.handle_name(current))
        if handle_id is None:
            self.log.info("already absent from the destination", id=key)
            return
        try:
            await api.delete(model.kind(current), handle_id)
        except HTTPError as err:
            if err.status == 404:
                self.log.info("already absent from the destination", id=key)
                return
            raise ResourceError(error_message(model.label(current), err)) from err

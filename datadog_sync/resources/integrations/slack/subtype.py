"""The ``slack`` integrations subtype: the channels of every Slack account (workspace) of the org.

* **Import**: there is no account listing, so the accounts are those the source's monitors notify
  (``@slack-<account>-<channel>``, https://docs.datadoghq.com/monitors/notify/; the monitors are read once per run
  and org by the integrations resource, :class:`..handles.MonitorHandles`) plus those already in the source
  state; each is listed once (``GET .../accounts/{account}/channels``) and every channel of it is imported. As both
  names may hold ``-``, a handle's account is found by trying its prefixes, shortest first, until an account has
  the channel the rest of the handle names.
* **Plan** lists each account of the plan once in the destination and matches channels by account and name: drift
  shows, an existing channel is adopted (updated, never created twice).
* **The workspace itself** is installed in the Slack tile of the Datadog UI (OAuth): when the destination has not
  installed an account, its channels are skipped with a message saying what to install.
* **Writes** (``POST`` / ``PATCH`` / ``DELETE``) are serialized per org (see ``api``); an unchanged channel gets
  none; a renamed channel is another key: created, and the old one deleted by ``sync --cleanup``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.http.errors import HTTPError
from datadog_sync.log import HintedText
from datadog_sync.resources.base import ResourceConfig, ResourceError, SkipResource
from datadog_sync.resources.composite import SubtypeResource
from datadog_sync.resources.integrations.common import error_message
from datadog_sync.resources.integrations.handles import UsesMonitors
from datadog_sync.resources.integrations.slack import model
from datadog_sync.resources.integrations.slack.api import BASE, MANAGE, READ, SlackApi

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client

TILE = "https://docs.datadoghq.com/integrations/slack/"


def not_installed_message(account: str) -> str:
    return (
        f'the destination has no Slack account "{account}": install that Slack workspace in the Slack integration '
        f'tile of the destination\'s Datadog UI ({TILE}) under the account name "{account}", then sync again'
    )


class SlackSubtype(SubtypeResource, UsesMonitors):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    subtype: ClassVar[str] = model.SUBTYPE
    handle_kind: ClassVar[str | None] = "slack"
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path=BASE,
        list_key=None,
        id_key=model.CHANNEL,
        permissions={"read": READ, "create": MANAGE, "delete": MANAGE, "update": MANAGE},
        permission_purposes={MANAGE: "add, edit or remove Slack channels"},
        noun="Slack channel(s)",
    )

    def __init__(self, ctx: RunContext, secrets: Any = None):
        super().__init__(ctx, secrets)
        #: Accounts the destination has not installed, found by the last ``current_destination``.
        self.absent_accounts: set[str] = set()

    # ------------------------------------------------------------------------------------------- import
    def _known_accounts(self) -> list[str]:
        """The accounts of both states' channels (a reset lists the destination's)."""
        accounts = {
            model.pair(obj)[0]
            for states in (self.ctx.state.source, self.ctx.state.destination)
            for key, obj in states.get(self.resource_type, {}).items()
            if key.startswith(f"{self.subtype}:") and isinstance(obj, Mapping)
        }
        return sorted(a for a in accounts if a)

    async def list_resources(self, client: Client) -> list[dict]:
        api = SlackApi(client)
        found: dict[str, list[dict]] = {}
        for account in self._known_accounts():
            channels = await api.list_channels(account)
            if channels is not None:
                found[account] = channels
        try:
            handles = list(await self.monitors.read(client)) if self.monitors is not None else []
        except HTTPError as err:
            if err.status != 403:  # only a key without monitors_read; anything else is no Datadog answer
                raise
            self.log.warning(
                "cannot read the monitors, so only the Slack accounts already in the source state are imported: %s",
                HintedText(error_message("monitors", err), err),  # the error's hint keeps its own line
            )
            handles = []
        unexplained = model.unexplained(model.handles_in(handles), found)
        for candidate in model.handle_accounts(handles):
            # A handle is explained by a channel, not by an account whose name is a prefix of it: with accounts
            # "ops" and "ops-workspace", @slack-ops-workspace-alerts is #alerts of ops-workspace unless ops has
            # a #workspace-alerts.
            if candidate in found or not any(h.startswith(f"@slack-{candidate}-") for h in unexplained):
                continue
            channels = await api.list_channels(candidate)
            if channels is not None:
                found[candidate] = channels
                unexplained = model.unexplained(unexplained, found)
        for handle in sorted(unexplained):
            self.log.warning("monitors notify %s, but no Slack account of the source has that channel", handle)
        return [model.from_api(account, item) for account, items in found.items() for item in items]

    def key_of(self, raw: dict) -> str | None:
        return model.state_key(raw) if all(model.pair(raw)) else None

    def preview(self, raw: dict) -> dict:
        return model.ordered(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        obj = model.ordered(raw)
        return model.state_key(obj), obj

    # --------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        return model.problems(key, obj)

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """List each account once and match channels by account and name."""
        if client is None:
            return dict(destination_state)
        refs = {key: source.get(key) or destination_state.get(key) for key in {**destination_state, **source}}
        accounts = sorted({model.pair(ref)[0] for ref in refs.values() if isinstance(ref, Mapping)} - {""})
        api = SlackApi(client)
        listed = await asyncio.gather(*(api.list_channels(account) for account in accounts))
        self.absent_accounts = {account for account, items in zip(accounts, listed, strict=True) if items is None}
        live = {
            model.pair(obj): obj
            for account, items in zip(accounts, listed, strict=True)
            for obj in (model.from_api(account, item) for item in items or [])
        }
        return {key: live[model.pair(ref)] for key, ref in refs.items() if ref and model.pair(ref) in live}

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        account = model.pair(desired)[0]
        if current is None and account in self.absent_accounts:
            return not_installed_message(account)
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return model.differences(current, desired)

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        return all(model.pair(deleted)) and model.pair(stored) == model.pair(deleted)

    def handles(self, obj: dict) -> list[str]:
        """The handle monitors notify this channel with."""
        return [model.handle(obj)] if all(model.pair(obj)) else []

    def secret_names(self, obj: dict) -> list[str]:
        """Slack channels need no secret (the workspace's OAuth is done in the UI)."""
        return []

    # -------------------------------------------------------------------------------------------- apply
    def _written(self, obj: dict, answer: Any) -> dict:
        if isinstance(answer, dict) and answer.get("name"):
            return model.from_api(model.pair(obj)[0], answer)
        return obj

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        obj = model.ordered(desired)
        account, channel = model.pair(obj)
        api = SlackApi(client)
        try:
            answer = await api.create_channel(account, model.payload(obj))
        except HTTPError as err:
            if err.status == 404:
                raise SkipResource(not_installed_message(account)) from err
            if err.status != 409 and not (err.status == 400 and "already exist" in " ".join(err.messages).lower()):
                raise ResourceError(error_message(model.label(obj), err)) from err
            self.log.warning("already exists in the destination: updating it instead of creating it", id=key)
            answer = await self._patch(api, obj)
        return self._written(obj, answer)

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        obj = model.ordered(desired)
        return self._written(obj, await self._patch(SlackApi(client), obj))

    async def _patch(self, api: SlackApi, obj: dict) -> Any:
        account, channel = model.pair(obj)
        try:
            return await api.update_channel(account, model.channel_name(channel), model.payload(obj))
        except HTTPError as err:
            if err.status == 404:
                raise ResourceError(
                    f"{model.label(obj)}: it is gone from the destination ({'; '.join(err.messages) or 'not found'}):"
                    " nothing was written; run sync again, its next plan creates it"
                ) from err
            raise ResourceError(error_message(model.label(obj), err)) from err

    async def delete(self, client: Client, key: str, current: dict) -> None:
        account, channel = model.pair(current)
        try:
            await SlackApi(client).delete_channel(account, model.channel_name(channel))
        except HTTPError as err:
            if err.status == 404:
                self.log.info("already absent from the destination", id=key)
                return
            raise ResourceError(error_message(model.label(current), err)) from err

"""Calls to the v1 Slack integration API (https://docs.datadoghq.com/api/latest/slack-integration/). The monitors
that name the Slack accounts in use are read by :mod:`..handles`, once per run for every subtype.

* Channels are listed per account only: there is no account listing (the workspace is installed in the UI). An
  account the org has not installed answers 404: ``None`` here, not a failure.
* Channel names travel with their ``#``, percent-encoded in paths (``%23``, terraform-provider-datadog cassette
  TestAccDatadogIntegrationSlackChannel_Basic); the POST answers 201 there (the spec says 200).
* Writes are serialized per org with the client's ``slack-integration`` lock: terraform-provider-datadog holds a
  mutex, "creating/modifying/deleting Slack Channel integration in parallel on one account is unsupported by the API".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.common import not_an_answer

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

BASE = "/api/v1/integration/slack/configuration/accounts"
LOCK = "slack-integration"
READ = "integrations_read"
MANAGE = "manage_integrations"


def channels_path(account: str, channel: str | None = None) -> str:
    path = f"{BASE}/{quote(account, safe='')}/channels"
    return path if channel is None else f"{path}/{quote(channel, safe='')}"


class SlackApi:
    def __init__(self, client: Client):
        self.client = client

    async def list_channels(self, account: str) -> list[dict] | None:
        """The account's channels; None when the org has not installed that Slack account (404)."""
        path = channels_path(account)
        try:
            body = await self.client.get(path, permission=READ)
        except HTTPError as err:
            if err.status == 404:
                return None
            raise
        if body is None:
            return []
        if not isinstance(body, list):
            raise ResourceError(not_an_answer(self.client, path, body, "a list"))
        return [item for item in body if isinstance(item, dict)]

    async def create_channel(self, account: str, payload: dict) -> Any:
        # idempotent: a retried POST whose first answer was lost is answered 409, and the caller adopts the channel.
        return await self.client.request(
            "POST",
            channels_path(account),
            permission=MANAGE,
            json=payload,
            idempotent=True,
            exclusive=self.client.lock(LOCK),
        )

    async def update_channel(self, account: str, channel: str, payload: dict) -> Any:
        # idempotent: the same PATCH twice sets the same flags.
        return await self.client.request(
            "PATCH",
            channels_path(account, channel),
            permission=MANAGE,
            json=payload,
            idempotent=True,
            exclusive=self.client.lock(LOCK),
        )

    async def delete_channel(self, account: str, channel: str) -> None:
        await self.client.request(
            "DELETE",
            channels_path(account, channel),
            permission=MANAGE,
            idempotent=True,
            exclusive=self.client.lock(LOCK),
        )

"""Calls to the v2 Microsoft Teams integration API (https://docs.datadoghq.com/api/latest/microsoft-teams-integration/).

* Both handle kinds are listed in one JSON:API body each (``data``); the tenant-based listing adds the tenant, team
  and channel names (terraform-provider-datadog cassette TestAccMSTeamsTenantBasedHandlesBasic).
* ``GET .../channel/{tenant_name}/{team_name}/{channel_name}`` (GetChannelByName, names percent-encoded) resolves a
  channel of a connected tenant to its Microsoft ids; 404 when the destination has not connected it.
* A Workflows handle's DELETE answers 204 even when the handle is absent (datadog-api-client-python cassette
  test_delete_workflow_webhook_handle_returns_ok_response).
* The API declares no ``x-permission``: reads are checked as ``integrations_read``, writes as ``manage_integrations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.common import not_an_answer
from datadog_sync.resources.integrations.ms_teams import model

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

BASE = "/api/v2/integration/ms-teams/configuration"
PATHS = {model.WORKFLOWS: f"{BASE}/workflows-webhook-handles", model.TENANT: f"{BASE}/tenant-based-handles"}
READ = "integrations_read"
MANAGE = "manage_integrations"


class MsTeamsApi:
    def __init__(self, client: Client):
        self.client = client

    async def list_handles(self, kind: str, name: str | None = None) -> list[dict]:
        path = PATHS[kind]
        body = await self.client.get(path, params={"name": name} if name else None, permission=READ)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ResourceError(not_an_answer(self.client, path, body, 'an object with a "data" list'))
        return [item for item in data if isinstance(item, dict)]

    async def find_id(self, kind: str, name: str) -> str | None:
        """The destination's id of the handle of that kind and name (None: absent)."""
        items = await self.list_handles(kind, name)
        return next((str(i["id"]) for i in items if (i.get("attributes") or {}).get("name") == name), None)

    async def channel_ids(self, tenant: str, team: str, channel: str) -> dict[str, str] | None:
        """The Microsoft ids of a channel of a connected tenant; None when the destination cannot resolve it."""
        path = f"{BASE}/channel/" + "/".join(quote(n, safe="") for n in (tenant, team, channel))
        try:
            body = await self.client.get(path, permission=READ)
        except HTTPError as err:
            if err.status in (404, 412):
                return None
            raise
        return model.channel_ids(body)

    async def create(self, kind: str, payload: dict) -> Any:
        # idempotent: a retried POST whose first answer was lost is answered 409, and the caller adopts the handle.
        return await self.client.request("POST", PATHS[kind], permission=MANAGE, json=payload, idempotent=True)

    async def update(self, kind: str, handle_id: str, payload: dict) -> Any:
        path = f"{PATHS[kind]}/{quote(handle_id, safe='')}"
        return await self.client.request("PATCH", path, permission=MANAGE, json=payload, idempotent=True)

    async def delete(self, kind: str, handle_id: str) -> None:
        path = f"{PATHS[kind]}/{quote(handle_id, safe='')}"
        await self.client.request("DELETE", path, permission=MANAGE, idempotent=True)

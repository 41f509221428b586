"""Calls to the webhooks integration API (https://docs.datadoghq.com/api/latest/webhooks-integration/): one path per
webhook or custom variable, addressed by name (percent-encoded), no listing.

* ``GET`` of an absent name answers 404 ``Webhook does not exist`` / ``Custom variable does not exist`` (recorded:
  test_delete_a_webhook_returns_ok_response, test_delete_a_custom_variable_returns_ok_response): ``None`` here.
* Creates answer 201 with the object as the server fills it in (default payload, ``encode_as``); updates answer it
  too: what a write answers is what destination state keeps, no read-back.
* Every write of one org goes through the client's ``webhooks-integration`` lock: terraform-provider-datadog
  serialises webhook and custom variable writes with one mutex (``webhookMutex``, its PR #1279).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.common import not_an_answer
from datadog_sync.resources.integrations.webhooks.model import VARIABLE, WEBHOOK

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

BASE = "/api/v1/integration/webhooks/configuration"
PATHS = {WEBHOOK: f"{BASE}/webhooks", VARIABLE: f"{BASE}/custom-variables"}
LOCK = "webhooks-integration"

READ = "integrations_read"
MANAGE = "manage_integrations"
CREATE_WEBHOOKS = "create_webhooks"


def is_absent(err: HTTPError) -> bool:
    return err.status == 404


def is_duplicate(err: HTTPError) -> bool:
    """A create refused because the name exists already (not recorded: a 409, or a 400 saying so)."""
    text = " ".join(err.messages).lower()
    return err.status == 409 or (err.status == 400 and "already exist" in text)


class WebhooksApi:
    def __init__(self, client: Client):
        self.client = client

    def _path(self, kind: str, name: str | None = None) -> str:
        return PATHS[kind] if name is None else f"{PATHS[kind]}/{quote(name, safe='')}"

    async def get(self, kind: str, name: str) -> dict | None:
        """The named object, None when the org has none of that name."""
        path = self._path(kind, name)
        try:
            body = await self.client.get(path, permission=READ)
        except HTTPError as err:
            if is_absent(err):
                return None
            raise
        if not isinstance(body, dict):
            raise ResourceError(not_an_answer(self.client, path, body, "an object"))
        return body

    async def _write(self, method: str, path: str, permission: str, payload: Any = None) -> Any:
        # idempotent: a lost create's retry meets 409 (handled as adoption), a PUT sets the same values, a lost
        # DELETE's retry meets 404 (already absent).
        return await self.client.request(
            method, path, permission=permission, json=payload, idempotent=True, exclusive=self.client.lock(LOCK)
        )

    async def create(self, kind: str, payload: dict) -> Any:
        return await self._write("POST", self._path(kind), CREATE_WEBHOOKS if kind == WEBHOOK else MANAGE, payload)

    async def update(self, kind: str, name: str, payload: dict) -> Any:
        return await self._write("PUT", self._path(kind, name), MANAGE, payload)

    async def delete(self, kind: str, name: str) -> None:
        await self._write("DELETE", self._path(kind, name), MANAGE)

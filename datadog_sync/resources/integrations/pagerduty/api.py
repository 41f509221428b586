"""Calls to the PagerDuty integration API (https://docs.datadoghq.com/api/latest/pagerduty-integration/).

* There is no list operation for service objects: the read-only legacy ``GET /api/v1/integration/pagerduty``
  lists every configured service with its key masked (terraform-provider-datadog cassette
  TestAccDatadogIntegrationPagerdutyServiceObject_Basic #1, #7, #20; terraformer enumerates them the same way).
  The legacy **writes** are never called: they replace the whole configuration (documentation PR #6930).
* Writes are serialized per org with the client's ``pagerduty-integration`` lock: terraform-provider-datadog holds a
  mutex around every PagerDuty write because parallel writes on one account are "unsupported by the API".
"""

from __future__ import annotations

from typing import Any

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.common import ServiceCalls, not_an_answer
from datadog_sync.resources.integrations.pagerduty import model

LEGACY = "/api/v1/integration/pagerduty"
SERVICES = f"{LEGACY}/configuration/services"
LOCK = "pagerduty-integration"
READ = "integrations_read"
MANAGE = "manage_integrations"


class PagerDutyApi(ServiceCalls):
    """An absent service answers 404 ``{"errors": ["Service not found"]}`` (terraform-provider-datadog GH#299)."""

    @staticmethod
    def is_duplicate(err: HTTPError) -> bool:
        """A create of a name that exists already (not recorded: a 409, or a 400 saying so)."""
        return err.status == 409 or (err.status == 400 and "already exist" in " ".join(err.messages).lower())

    async def list_services(self) -> list[dict]:
        """Every service of the org in the stored shape (an org without the integration: none)."""
        try:
            body = await self.client.get(LEGACY, permission=READ)
        except HTTPError as err:
            if err.status == 404:
                return []
            raise
        if body is None:
            return []
        if not isinstance(body, dict):
            raise ResourceError(not_an_answer(self.client, LEGACY, body, "an object"))
        return model.listed_services(body)

    async def _write(self, method: str, path: str, payload: Any = None, idempotent: bool = True) -> Any:
        lock = self.client.lock(LOCK)
        return await self.client.request(
            method, path, permission=MANAGE, json=payload, idempotent=idempotent, exclusive=lock
        )

    async def create_service(self, payload: dict) -> Any:
        # not idempotent: a retried create whose first answer was lost meets 409, which adoption handles.
        return await self._write("POST", SERVICES, payload, idempotent=False)

    async def update_service(self, name: str, payload: dict) -> Any:
        return await self._write("PUT", f"{SERVICES}/{model.path_name(name)}", payload)

    async def delete_service(self, name: str) -> None:
        await self._write("DELETE", f"{SERVICES}/{model.path_name(name)}")

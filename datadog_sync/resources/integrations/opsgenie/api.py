"""Calls to the Opsgenie integration API (https://docs.datadoghq.com/api/latest/opsgenie-integration/):
``/api/v2/integration/opsgenie/services`` lists every service in one body; single services by their per-org id.
Deleted or unknown services answer 404 ``"Service not found."`` (datadog-api-client-python cassette
test_delete_a_single_service_object_returns_ok_response)."""

from __future__ import annotations

from typing import Any

from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.common import ServiceCalls, not_an_answer

BASE = "/api/v2/integration/opsgenie/services"
READ = "integrations_read"
MANAGE = "manage_integrations"


class OpsgenieApi(ServiceCalls):
    """A create of an existing name answers 409 (in the API's spec; never recorded)."""

    async def list_services(self) -> list[dict]:
        body = await self.client.get(BASE, permission=READ)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ResourceError(not_an_answer(self.client, BASE, body, 'an object with a "data" list'))
        return [item for item in data if isinstance(item, dict)]

    async def create_service(self, payload: dict) -> dict:
        # not idempotent: a retried create whose first answer was lost meets 409, which adoption handles.
        body = await self.client.post(BASE, permission=MANAGE, json=payload, idempotent=False)
        return _data(body)

    async def update_service(self, service_id: str, payload: dict) -> dict:
        body = await self.client.patch(f"{BASE}/{service_id}", permission=MANAGE, json=payload, idempotent=True)
        return _data(body)

    async def delete_service(self, service_id: str) -> None:
        await self.client.delete(f"{BASE}/{service_id}", permission=MANAGE, idempotent=True)


def _data(body: Any) -> dict:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}

"""Calls to the GCP integration APIs (https://docs.datadoghq.com/api/latest/gcp-integration/): v2 STS accounts
(``/api/v2/integration/gcp/accounts``, ``/sts_delegate``) and the deprecated v1 key integrations
(``/api/v1/integration/gcp``).

Writes are serialized per org with the client's ``gcp-integration`` lock, as terraform-provider-datadog serializes
them (its v1 resource hit 409 Conflict on parallel creates, TF issue 1352). Reads take no lock.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from datadog_sync.http.errors import HTTPError, NotJSONResponse
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.common import not_an_answer

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

V2 = "/api/v2/integration/gcp"
ACCOUNTS = f"{V2}/accounts"
DELEGATE = f"{V2}/sts_delegate"
V1 = "/api/v1/integration/gcp"
LOCK = "gcp-integration"

READ = "gcp_configuration_read"
EDIT = "gcp_configuration_edit"
MANAGE = "gcp_configurations_manage"


def is_duplicate(err: HTTPError) -> bool:
    """409 on create: the service account is in the integration already (a create whose answer was lost, or one
    made meanwhile); the spec lists 409, the body was never recorded."""
    return err.status == 409 or (err.status == 400 and "already exist" in " ".join(err.messages).lower())


def is_absent(err: HTTPError) -> bool:
    return err.status == 404


class GcpApi:
    def __init__(self, client: Client):
        self.client = client

    # ---------------------------------------------------------------------------------------------- reads
    async def list_accounts(self) -> list[dict]:
        """Every STS account of the org, one request (no pagination). A 404 (the spec lists it) is none."""
        body = await self._read(ACCOUNTS)
        if body is None:
            return []
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ResourceError(not_an_answer(self.client, ACCOUNTS, body, 'an object with a "data" list'))
        return [item for item in body["data"] if isinstance(item, dict)]

    async def list_v1(self) -> list[dict]:
        """Every v1 integration of the org (STS accounts included, with an empty ``project_id``)."""
        body = await self._read(V1)
        if body is None:
            return []
        if not isinstance(body, list):
            raise ResourceError(not_an_answer(self.client, V1, body, "a list"))
        return [item for item in body if isinstance(item, dict)]

    async def list_all(self) -> tuple[list[dict], list[dict]]:
        sts, v1 = await asyncio.gather(self.list_accounts(), self.list_v1())
        return sts, v1

    async def delegate(self) -> str | None:
        """The org's Datadog principal, None when it was never made (404)."""
        return _delegate_email(await self._read(DELEGATE))

    async def _read(self, path: str) -> Any:
        try:
            return await self.client.get(path, permission=READ)
        except HTTPError as err:
            if is_absent(err):
                return None
            raise

    # --------------------------------------------------------------------------------------------- writes
    async def _write(self, method: str, path: str, permission: str, **kw: Any) -> Any:
        return await self.client.request(
            method, path, permission=permission, idempotent=True, exclusive=self.client.lock(LOCK), **kw
        )

    async def make_delegate(self) -> str | None:
        """Create the org's principal, or get the existing one: the API answers it whatever (TF calls it before
        every create; cassette TestAccIntGcpStsMetricNamespaceConfigs)."""
        return _delegate_email(await self._write("POST", DELEGATE, EDIT, json={}))

    async def create_account(self, payload: dict) -> dict:
        """idempotent=True: a create whose answer was lost is retried; the retry's 409 is an adoption."""
        return _data(await self._write("POST", ACCOUNTS, MANAGE, json=payload))

    async def update_account(self, config_id: str, payload: dict) -> dict:
        return _data(await self._write("PATCH", f"{ACCOUNTS}/{config_id}", EDIT, json=payload))

    async def delete_account(self, config_id: str) -> None:
        """Answered 204 with an empty body typed ``text/html`` (recorded: terraform-provider-datadog cassette
        TestAccIntegrationGcpStsBasic): that is the API's success, not a stranger's page."""
        try:
            await self._write("DELETE", f"{ACCOUNTS}/{config_id}", MANAGE)
        except NotJSONResponse as err:
            if err.status != 204 or err.body not in (None, "", b""):
                raise

    async def create_v1(self, payload: dict) -> None:
        await self._write("POST", V1, MANAGE, json=payload)

    async def update_v1(self, payload: dict) -> None:
        await self._write("PUT", V1, EDIT, json=payload)

    async def delete_v1(self, payload: dict) -> None:
        await self._write("DELETE", V1, MANAGE, json=payload)


def _data(body: Any) -> dict:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _delegate_email(body: Any) -> str | None:
    value = (_data(body).get("attributes") or {}).get("delegate_account_email")
    return str(value) if value else None

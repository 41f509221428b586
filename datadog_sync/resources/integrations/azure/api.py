"""Calls to the v1 Azure integration API (https://docs.datadoghq.com/api/latest/azure-integration/):
``/api/v1/integration/azure``, one path for every operation, the app registration named in the JSON body.

* The listing is the org's every app registration in one body (no pagination). An org without any answers it
  with 400 "Azure Integration not yet installed" (terraform-provider-datadog cassette
  TestAccDatadogLogsArchiveAzure_basic, TF GH#2695): an empty org, not a failure.
* Writes answer ``{}``: what the destination holds is read back with a listing.
* Writes are serialized per org with the client's ``azure-integration`` lock (terraform-provider-datadog does the
  same with a process-wide mutex), unless ``--max-workers-per-type integrations=N`` is given explicitly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.common import not_an_answer

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

BASE = "/api/v1/integration/azure"
LOCK = "azure-integration"

READ = "azure_configuration_read"
EDIT = "azure_configuration_edit"
MANAGE = "azure_configurations_manage"


def _text(err: HTTPError) -> str:
    return " ".join(err.messages).lower()


def is_not_installed(err: HTTPError) -> bool:
    """400 "Azure Integration not yet installed. Please install before performing this action." (recorded)."""
    return err.status == 400 and "not yet installed" in _text(err)


def is_duplicate(err: HTTPError) -> bool:
    """A create refused because the pair exists already. Not recorded: the API's page says a POST adds the new
    configuration to the existing one; a 409, or a 400 saying "already exists", is handled in case it does not."""
    return err.status == 409 or (err.status == 400 and "already exist" in _text(err))


def is_absent(err: HTTPError) -> bool:
    """The pair is not there (a 404, "does not exist", or an org without any app registration left)."""
    return err.status == 404 or is_not_installed(err) or (err.status == 400 and "does not exist" in _text(err))


class AzureApi:
    def __init__(self, client: Client, serialized: bool = True):
        self.client = client
        self.serialized = serialized

    async def list_accounts(self) -> list[dict]:
        try:
            body = await self.client.get(BASE, permission=READ)
        except HTTPError as err:
            if is_not_installed(err):
                return []
            raise
        if body is None:
            return []
        if not isinstance(body, list):
            raise ResourceError(not_an_answer(self.client, BASE, body, "a list"))
        return [item for item in body if isinstance(item, dict)]

    async def _write(self, method: str, permission: str, payload: dict) -> Any:
        lock = self.client.lock(LOCK) if self.serialized else None
        # idempotent: a POST of an existing pair updates it, a PUT sets the same values, a DELETE of an absent pair
        # answers 200: retrying one whose answer was lost makes no duplicate.
        return await self.client.request(
            method, BASE, permission=permission, json=payload, idempotent=True, exclusive=lock
        )

    async def create_account(self, payload: dict) -> None:
        await self._write("POST", MANAGE, payload)

    async def update_account(self, payload: dict) -> None:
        await self._write("PUT", EDIT, payload)

    async def delete_account(self, payload: dict) -> None:
        await self._write("DELETE", MANAGE, payload)

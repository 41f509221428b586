"""The ``azure`` integrations subtype: every app registration of Datadog's Azure integration (v1 API).

* **Import** is one ``GET /api/v1/integration/azure`` per org, whatever the number of app registrations; an org
  without any (400 "Azure Integration not yet installed") imports none.
* **Plan** lists the destination once and matches registrations by ``tenant_name`` + ``client_id``, so drift
  shows and an existing registration is adopted (updated, never created twice).
* **Create**: one ``POST`` with the client secret from the secrets file (without it the plan skips the
  registration). **Update**: one ``PUT`` of every owned field, with the secret when the file has it (the API keeps
  the stored one when it is left out). **Delete**: one ``DELETE`` with the pair; an absent pair is deleted already.
  An unchanged registration gets no write.
* **A changed pair** is another registration: the API ignores ``new_tenant_name`` / ``new_client_id``
  (datadog-api-client-go GH#2561), so a renamed tenant or client is a create under its new key, and the old
  key, gone from the source, is deleted (backed up first) by ``sync --cleanup`` like any object gone from the source.
* **Read-back**: writes answer ``{}``, so after the run's writes one listing reads what the destination now holds,
  and destination state keeps that (``settle``), not what was sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceConfig, ResourceError, SkipResource
from datadog_sync.resources.composite import SubtypeResource
from datadog_sync.resources.integrations.azure import model
from datadog_sync.resources.integrations.azure import secrets as azure_secrets
from datadog_sync.resources.integrations.azure.api import (
    BASE,
    EDIT,
    MANAGE,
    READ,
    AzureApi,
    is_absent,
    is_duplicate,
)
from datadog_sync.resources.integrations.azure.secrets import AzureSecrets, missing_secret_message
from datadog_sync.resources.integrations.common import error_message

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client


class AzureSubtype(SubtypeResource):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    subtype: ClassVar[str] = model.SUBTYPE
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    has_secrets: ClassVar[bool] = True
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path=BASE,
        list_key=None,
        id_key=model.CLIENT,
        permissions={"read": READ, "create": MANAGE, "delete": MANAGE, "update": EDIT},
        permission_purposes={MANAGE: "add or remove Azure app registrations", EDIT: "edit Azure app registrations"},
        noun="app registration(s)",
    )

    secrets: AzureSecrets

    def __init__(self, ctx: RunContext, secrets: AzureSecrets | None = None):
        super().__init__(ctx, secrets if secrets is not None else azure_secrets.empty())
        # Concurrent writes only when asked for explicitly (--max-workers-per-type integrations=N).
        self.serialized = self.resource_type not in ctx.config.max_workers_per_type

    @classmethod
    def parse_secrets(cls, section: Any, path: Path | None) -> AzureSecrets:
        return azure_secrets.parse(section, path)

    def _api(self, client: Client) -> AzureApi:
        return AzureApi(client, self.serialized)

    # ------------------------------------------------------------------------------------------- import
    async def list_resources(self, client: Client) -> list[dict]:
        """The org's app registrations tagged ``name: azure``: one request."""
        return [{**item, "name": self.subtype} for item in await self._api(client).list_accounts()]

    def key_of(self, raw: dict) -> str | None:
        return model.state_key(raw) if all(model.pair(raw)) else None

    def preview(self, raw: dict) -> dict:
        return model.from_api(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        obj = model.from_api(raw)
        if not all(model.pair(obj)):
            raise SkipResource("an Azure app registration without tenant_name or client_id was listed")
        return model.state_key(obj), obj

    # --------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        return model.problems(key, obj)

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """List the destination once and match app registrations by pair: drift shows, nothing is created twice."""
        if client is None:
            return dict(destination_state)
        live = {model.pair(item): model.from_api(item) for item in await self._api(client).list_accounts()}
        current: dict[str, dict] = {}
        for key in {**destination_state, **source}:
            ref = source.get(key) or destination_state.get(key)
            found = live.get(model.pair(ref)) if isinstance(ref, Mapping) else None
            if found is not None:
                current[key] = found
        return current

    def secret_names(self, obj: dict) -> list[str]:
        """Every app registration but a secretless one needs its client secret, by ``<tenant_name>:<client_id>``."""
        return [model.pair_id(obj)] if all(model.pair(obj)) and not _secretless(obj) else []

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        """A create needs the client secret; without it in the secrets file the registration is skipped."""
        if current is None and not self._secret(desired):
            return missing_secret_message(self.secrets, model.pair_id(desired))
        return None

    def _secret(self, obj: Mapping[str, Any]) -> str | None:
        """The client secret from the secrets file; for a secretless registration (federated workload identity)
        without one, the placeholder the API needs instead, as Terraform sends it (terraform-provider-datadog
        resource_datadog_integration_azure: "SECRETLESS_AUTH")."""
        return self.secrets.get(model.pair_id(obj)) or (SECRETLESS_PLACEHOLDER if _secretless(obj) else None)

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return model.differences(current, desired)

    def redacted(self, obj: dict) -> dict:
        return {k: v for k, v in obj.items() if k != model.SECRET}

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        return all(model.pair(deleted)) and model.pair(stored) == model.pair(deleted)

    # -------------------------------------------------------------------------------------------- apply
    async def create(self, client: Client, key: str, desired: dict) -> dict:
        obj = model.ordered(desired)
        secret = self._secret(obj)
        if not secret:
            raise SkipResource(missing_secret_message(self.secrets, model.pair_id(obj)))
        api = self._api(client)
        try:
            await api.create_account(model.create_payload(obj, secret))
        except HTTPError as err:
            if not is_duplicate(err):
                raise ResourceError(error_message(model.label(obj), err)) from err
            self.log.warning("already exists in the destination: updating it instead of creating it", id=key)
            await self._put(api, obj, secret)
        return obj

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        obj = model.ordered(desired)
        await self._put(self._api(client), obj, self._secret(obj))
        return obj

    async def _put(self, api: AzureApi, obj: dict, secret: str | None) -> None:
        try:
            await api.update_account(model.update_payload(obj, secret))
        except HTTPError as err:
            if is_absent(err):
                raise ResourceError(
                    f"{model.label(obj)}: it is gone from the destination ({err.status} "
                    f"{'; '.join(err.messages) or 'not found'}): nothing was written; run sync again, its next "
                    "plan creates it"
                ) from err
            raise ResourceError(error_message(model.label(obj), err)) from err

    async def delete(self, client: Client, key: str, current: dict) -> None:
        try:
            await self._api(client).delete_account(model.delete_payload(current))
        except HTTPError as err:
            if is_absent(err):
                self.log.info("already absent from the destination", id=key)
                return
            raise ResourceError(error_message(model.label(current), err)) from err

    async def settle(self, client: Client, written: Mapping[str, dict]) -> dict[str, dict]:
        """Writes answer ``{}``: one listing after the run's writes, and destination state keeps what it shows."""
        live = {model.pair(item): model.from_api(item) for item in await self._api(client).list_accounts()}
        settled: dict[str, dict] = {}
        for key, obj in written.items():
            found = live.get(model.pair(obj))
            if found is None:
                self.log.warning("not listed by the destination after its write: state keeps what was sent", id=key)
            else:
                settled[key] = found
        return settled


#: What a secretless registration sends as its client secret: the API requires a non-empty value.
SECRETLESS_PLACEHOLDER = "SECRETLESS_AUTH"


def _secretless(obj: Mapping[str, Any]) -> bool:
    return obj.get("secretless_auth_enabled") is True

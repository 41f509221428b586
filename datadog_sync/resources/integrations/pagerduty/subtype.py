"""The ``pagerduty`` integrations subtype: every PagerDuty service object of Datadog's PagerDuty integration.

* **Import** is one read-only legacy ``GET /api/v1/integration/pagerduty`` per org (the only listing; it names
  every service), whatever the number of services.
* **Plan** lists the destination the same way and matches services by name, so an existing service is adopted,
  never created twice. The key is never returned, so an existing service is never rewritten: nothing of it can be
  seen to differ (rotate a key by deleting the service in the destination and syncing again).
* **Create**: one ``POST`` with the service key from the secrets file (without it the plan skips the service and
  says which line to add); a 409 (the name exists after all) sets the key with a ``PUT`` instead. **Delete**: one
  ``DELETE``; a 404 means deleted already. Every write holds the org's PagerDuty lock (serialized, as
  terraform-provider-datadog does).
* **A renamed service** is another service: the name is the path key and cannot be changed (``PagerDutyServiceKey``
  holds only the key), so the new name is created and ``sync --cleanup`` deletes the old one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceConfig, ResourceError, SkipResource
from datadog_sync.resources.integrations.common import error_message
from datadog_sync.resources.integrations.named import NamedServiceSubtype
from datadog_sync.resources.integrations.pagerduty import model
from datadog_sync.resources.integrations.pagerduty.api import (
    LEGACY,
    MANAGE,
    READ,
    PagerDutyApi,
    is_absent,
    is_duplicate,
)

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client


class PagerDutySubtype(NamedServiceSubtype):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    subtype: ClassVar[str] = model.SUBTYPE
    handle_kind: ClassVar[str | None] = "pagerduty"
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    model: ClassVar[ModuleType] = model
    listed_noun: ClassVar[str] = "a PagerDuty service"
    key_doc: ClassVar[str] = "<service_name>"
    value_doc: ClassVar[str] = "service key"
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path=LEGACY,
        list_key=None,
        id_key=model.NAME,
        permissions={"read": READ, "create": MANAGE, "update": MANAGE, "delete": MANAGE},
        permission_purposes={MANAGE: "add or remove PagerDuty services"},
        noun="PagerDuty service(s)",
    )

    # ------------------------------------------------------------------------------------------- import
    async def list_resources(self, client: Client) -> list[dict]:
        return await PagerDutyApi(client).list_services()

    def key_of(self, raw: dict) -> str | None:
        return model.state_key(raw) if model.service_name(raw) else None

    # --------------------------------------------------------------------------------------------- plan
    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """List the destination once and match services by name."""
        if client is None:
            return dict(destination_state)
        live = {model.service_name(s): s for s in await PagerDutyApi(client).list_services()}
        current: dict[str, dict] = {}
        for key in {**destination_state, **source}:
            ref = source.get(key) or destination_state.get(key)
            found = live.get(model.service_name(ref)) if isinstance(ref, Mapping) else None
            if found is not None:
                current[key] = found
        return current

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        if current is None and not self.secrets.get(model.service_name(desired)):
            return self._missing(desired)
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return model.differences(current, desired)

    def redacted(self, obj: dict) -> dict:
        return {k: v for k, v in obj.items() if k != model.SECRET}

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        return bool(model.service_name(deleted)) and model.service_name(stored) == model.service_name(deleted)

    # -------------------------------------------------------------------------------------------- apply
    async def create(self, client: Client, key: str, desired: dict) -> dict:
        obj = model.from_api(desired)
        secret = self.secrets.get(model.service_name(obj))
        if not secret:
            raise SkipResource(self._missing(obj))
        api = PagerDutyApi(client)
        try:
            await api.create_service(model.create_payload(obj, secret))
        except HTTPError as err:
            if not is_duplicate(err):
                raise ResourceError(error_message(model.label(obj), err)) from err
            self.log.warning("already exists in the destination: setting its key instead of creating it", id=key)
            await self._put(api, obj, secret)
        return obj

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        obj = model.from_api(desired)
        secret = self.secrets.get(model.service_name(obj))
        if secret:
            await self._put(PagerDutyApi(client), obj, secret)
        return obj

    async def _put(self, api: PagerDutyApi, obj: dict, secret: str) -> None:
        try:
            await api.update_service(model.service_name(obj), model.update_payload(secret))
        except HTTPError as err:
            raise ResourceError(error_message(model.label(obj), err)) from err

    async def delete(self, client: Client, key: str, current: dict) -> None:
        try:
            await PagerDutyApi(client).delete_service(model.service_name(current))
        except HTTPError as err:
            if is_absent(err):
                self.log.info("already absent from the destination", id=key)
                return
            raise ResourceError(error_message(model.label(current), err)) from err

"""The ``pagerduty`` integrations subtype: every PagerDuty service object of Datadog's PagerDuty integration.

* **Import** is one read-only legacy ``GET /api/v1/integration/pagerduty`` per org (the only listing; it names
  every service), whatever the number of services.
* **Plan** lists the destination the same way and matches services by name, so an existing service is adopted,
  never created twice. The key is never returned, so nothing of a service can be seen to differ: an adopted service
  gets one ``PUT`` of the secrets file's key (its key in the destination is unknown), and a service this tool
  already wrote is never rewritten (see docs/integrations.md to rotate a key).
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

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceConfig, ResourceError
from datadog_sync.resources.integrations.common import error_message
from datadog_sync.resources.integrations.named import NamedServiceSubtype, ServiceApi
from datadog_sync.resources.integrations.pagerduty import model
from datadog_sync.resources.integrations.pagerduty.api import LEGACY, MANAGE, READ, PagerDutyApi

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client


class PagerDutySubtype(NamedServiceSubtype):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    subtype: ClassVar[str] = model.SUBTYPE
    handle_kind: ClassVar[str | None] = "pagerduty"
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    model: ClassVar[ModuleType] = model
    api: ClassVar[type[ServiceApi]] = PagerDutyApi
    listed_noun: ClassVar[str] = "a PagerDuty service"
    delete_key: ClassVar[str] = model.NAME
    key_doc: ClassVar[str] = "<service_name>"
    value_doc: ClassVar[str] = "service key"
    secret_field: ClassVar[str] = model.SECRET
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path=LEGACY,
        list_key=None,
        id_key=model.NAME,
        permissions={"read": READ, "create": MANAGE, "update": MANAGE, "delete": MANAGE},
        permission_purposes={MANAGE: "add or remove PagerDuty services"},
        noun="PagerDuty service(s)",
    )

    async def on_duplicate(self, client: Client, key: str, desired: dict, secret: str, err: HTTPError) -> dict:
        self.log.warning("already exists in the destination: setting its key instead of creating it", id=key)
        return await self.update(client, key, desired, desired)

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        """The key is the only updatable field: one ``PUT`` of the secrets file's (none without it)."""
        obj = model.from_api(desired)
        secret = self.secrets.get(model.service_name(obj))
        if secret:
            try:
                await PagerDutyApi(client).update_service(model.service_name(obj), model.update_payload(secret))
            except HTTPError as err:
                raise ResourceError(error_message(model.label(obj), err)) from err
        return obj

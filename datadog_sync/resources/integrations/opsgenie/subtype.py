"""The ``opsgenie`` integrations subtype: every Opsgenie service object of Datadog's Opsgenie integration.

* **Import** is one ``GET /api/v2/integration/opsgenie/services`` per org.
* **Plan** lists the destination once and matches services by name (never by the per-org id), so drift shows and
  an existing service is adopted, never created twice (updated once with the secrets file's API key when the file
  has it: the destination's is unknown).
* **Create**: one ``POST`` with the API key from the secrets file (without it the plan skips the service and says
  which line to add); a 409 (the name exists after all) updates the listed service instead. **Update**: one
  ``PATCH`` of name, region and custom URL, with the API key when the file has it (an update needs none).
  **Delete**: one ``DELETE``; a 404 means deleted already. An unchanged service gets no write.
* **A renamed service** is renamed in place: the API's update may change the name (datadog-api-client-python
  cassette test_update_a_single_service_object_returns_ok_response), so when a source service that an earlier
  sync wrote (destination state keeps its source id) shows up under a new name, the destination service is
  patched to that name, without needing its API key, and its old state key is forgotten, never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceConfig, ResourceError, Superseded
from datadog_sync.resources.integrations.common import error_message
from datadog_sync.resources.integrations.named import NamedServiceSubtype, ServiceApi
from datadog_sync.resources.integrations.opsgenie import model
from datadog_sync.resources.integrations.opsgenie.api import BASE, MANAGE, READ, OpsgenieApi

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client


class Renamed(dict):
    """A destination service an earlier sync wrote, found again under a source service's new name: its API key is
    the one that sync sent, not unknown, so renaming it is no adoption's write of the key. Never stored."""


class OpsgenieSubtype(NamedServiceSubtype):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    subtype: ClassVar[str] = model.SUBTYPE
    handle_kind: ClassVar[str | None] = "opsgenie"
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    model: ClassVar[ModuleType] = model
    api: ClassVar[type[ServiceApi]] = OpsgenieApi
    listed_noun: ClassVar[str] = "an Opsgenie service"
    delete_key: ClassVar[str] = model.ID
    key_doc: ClassVar[str] = "<service name>"
    value_doc: ClassVar[str] = "API key"
    secret_field: ClassVar[str] = model.SECRET
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path=BASE,
        id_key=model.ID,
        permissions={"read": READ, "create": MANAGE, "update": MANAGE, "delete": MANAGE},
        permission_purposes={MANAGE: "add, edit or remove Opsgenie services"},
        noun="Opsgenie service(s)",
    )

    # --------------------------------------------------------------------------------------------- plan
    def renamed(
        self, current: dict[str, dict], listed: list[dict], source: Mapping[str, dict], destination_state: Mapping
    ) -> None:
        """A source service found under no name but written before under another one (same ``source_id``) is that
        service, renamed: its old key is superseded."""
        by_id = {s.get(model.ID): s for s in listed}
        names = {model.service_name(s) for s in source.values()}
        for key, desired in source.items():
            if key in current or not desired.get(model.ID):
                continue
            for old_key, known in destination_state.items():
                if old_key in source or known.get(model.SOURCE_ID) != desired[model.ID]:
                    continue
                found = by_id.get(known.get(model.ID))
                if found is not None and model.service_name(found) not in names:
                    current[key] = Renamed(found)
                    current[old_key] = Superseded(
                        key, f"renamed to {model.service_name(desired)} (now kept under {key})"
                    )
                    break

    def adopted_current(self, key: str, desired: dict, current: dict) -> dict:
        return current if isinstance(current, Renamed) else super().adopted_current(key, desired, current)

    def update_note(self, key: str, desired: dict, current: dict) -> str:
        old, new = model.service_name(current), model.service_name(desired)
        rename = f"renames the Opsgenie service {old} to {new} in place" if old and old != new else ""
        return "; ".join(note for note in (rename, super().update_note(key, desired, current)) if note)

    # -------------------------------------------------------------------------------------------- apply
    def kept(self, answer: Any, desired: Mapping) -> dict:
        """The destination's answer, and the source id it was written from."""
        obj = model.from_api(answer)
        if desired.get(model.ID):
            obj[model.SOURCE_ID] = str(desired[model.ID])
        return obj

    async def on_duplicate(self, client: Client, key: str, desired: dict, secret: str, err: HTTPError) -> dict:
        existing = {model.service_name(s): s for s in await self.listed(client)}.get(model.service_name(desired))
        if existing is None:
            raise ResourceError(error_message(model.label(desired), err)) from err
        self.log.warning("already exists in the destination: updating it instead of creating it", id=key)
        return await self.update(client, key, desired, existing)

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        service_id = str(current.get(model.ID) or "")
        payload = model.update_payload(desired, service_id, self.secrets.get(model.service_name(desired)))
        try:
            answer = await OpsgenieApi(client).update_service(service_id, payload)
        except HTTPError as err:
            if OpsgenieApi.is_absent(err):
                raise ResourceError(
                    f"{model.label(current)}: it is gone from the destination (404): nothing was written; run sync "
                    "again, its next plan creates it"
                ) from err
            raise ResourceError(error_message(model.label(desired), err)) from err
        return self.kept(answer, desired)

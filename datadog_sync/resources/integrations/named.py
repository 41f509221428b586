"""Service objects keyed by their name, with one secret per name (PagerDuty services, Opsgenie services): what
such a subtype does the same way, through its pure ``model`` module (``service_name``, ``state_key``, ``label``,
``handle``, ``from_api``, ``differences``, ``create_payload``, ``problems``, ``SECRET``) and its API class
(``list_services``, ``create_service``, ``delete_service``, ``is_absent``, ``is_duplicate``). What differs is declared (``delete_key``) or is one
hook: what a create meeting an existing name does (``on_duplicate``), what state keeps of a write (``kept``), how a
source service renamed since an earlier sync is found (``renamed``), and the update itself.

* **Plan** lists the destination once and matches services by name, never by a per-org id: an existing service is
  adopted, never created twice (an adopted one is updated once with the secrets file's key, see
  :class:`..secrets.UnknownSecret`).
* **Create**: one ``POST`` with the key from the secrets file (without it the plan skips the service and says which
  line to add). **Delete**: one ``DELETE``; a 404 means deleted already.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from datadog_sync.diffing import Difference
from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError, SkipResource
from datadog_sync.resources.integrations.common import error_message, matched
from datadog_sync.resources.integrations.secrets import KeyedSecretsSubtype

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client


class ServiceApi(Protocol):
    """What the subtype calls of its API class."""

    def __init__(self, client: Client, /) -> None: ...

    async def list_services(self) -> list[dict]: ...

    async def create_service(self, payload: dict, /) -> Any: ...

    async def delete_service(self, key: str, /) -> None: ...

    @staticmethod
    def is_absent(err: HTTPError, /) -> bool: ...

    @staticmethod
    def is_duplicate(err: HTTPError, /) -> bool: ...


class NamedServiceSubtype(KeyedSecretsSubtype):
    #: The subtype's model module.
    model: ClassVar[ModuleType]
    #: The subtype's API class, built on a client.
    api: ClassVar[type[ServiceApi]]
    #: How an import names a listed object without a name it skips, e.g. "a PagerDuty service".
    listed_noun: ClassVar[str]
    #: The stored field a delete addresses the service by (its name, or the org's id).
    delete_key: ClassVar[str]

    def secret_names(self, obj: Mapping) -> list[str]:
        """The keys of the subtype's secrets section this object needs: its name."""
        return [self.model.service_name(obj)] if self.model.service_name(obj) else []

    def handles(self, obj: Mapping) -> list[str]:
        """``@<kind>-<service name>``, the handle monitors notify it with."""
        return [self.model.handle(obj)] if self.model.service_name(obj) else []

    def _missing(self, obj: Mapping) -> str:
        return self.secrets.missing_message(self.model.service_name(obj), self.model.label(obj))

    # ------------------------------------------------------------------------------------------- import
    async def list_resources(self, client: Client) -> list[dict]:
        return [{**item, "name": self.subtype} for item in await self.api(client).list_services()]

    def key_of(self, raw: dict) -> str | None:
        obj = self.model.from_api(raw)
        return self.model.state_key(obj) if self.model.service_name(obj) else None

    def preview(self, raw: dict) -> dict:
        return self.model.from_api(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        obj = self.model.from_api(raw)
        if not self.model.service_name(obj):
            raise SkipResource(f"{self.listed_noun} without a name was listed")
        return self.model.state_key(obj), obj

    # --------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        return self.model.problems(key, obj)

    async def listed(self, client: Client) -> list[dict]:
        """The destination's services in the stored shape."""
        return [self.model.from_api(item) for item in await self.api(client).list_services()]

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """List the destination once and match services by name (then ``renamed``)."""
        if client is None:
            return dict(destination_state)
        listed = await self.listed(client)
        by_name = {self.model.service_name(s): s for s in listed}
        current = matched(by_name, source, destination_state, self.model.service_name)
        self.renamed(current, listed, source, destination_state)
        return current

    def renamed(
        self, current: dict[str, dict], listed: list[dict], source: Mapping[str, dict], destination_state: Mapping
    ) -> None:
        """Add to ``current`` the source services found under no name that an earlier sync wrote under another one
        (default: a renamed service is another service)."""

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        if current is None and not self.secrets.get(self.model.service_name(desired)):
            return self._missing(desired)
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return self.model.differences(current, desired) + self.secret_differences(current, desired)

    def redacted(self, obj: dict) -> dict:
        return {k: v for k, v in obj.items() if k != self.model.SECRET}

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        name = self.model.service_name(deleted)
        return bool(name) and self.model.service_name(stored) == name

    # -------------------------------------------------------------------------------------------- apply
    def kept(self, answer: Any, desired: Mapping) -> dict:
        """What destination state keeps of a create or update: the service as stored (default: as sent)."""
        return self.model.from_api(desired)

    async def on_duplicate(self, client: Client, key: str, desired: dict, secret: str, err: HTTPError) -> dict:
        """A create answered "the name exists already" (409, a create racing another writer): adopt that service."""
        raise NotImplementedError  # pragma: no cover

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        secret = self.secrets.get(self.model.service_name(desired))
        if not secret:
            raise SkipResource(self._missing(desired))
        try:
            answer = await self.api(client).create_service(self.model.create_payload(desired, secret))
        except HTTPError as err:
            if not self.api.is_duplicate(err):
                raise ResourceError(error_message(self.model.label(desired), err)) from err
            return await self.on_duplicate(client, key, desired, secret, err)
        return self.kept(answer, desired)

    async def delete(self, client: Client, key: str, current: dict) -> None:
        try:
            await self.api(client).delete_service(str(current.get(self.delete_key) or ""))
        except HTTPError as err:
            if self.api.is_absent(err):
                self.log.info("already absent from the destination", id=key)
                return
            raise ResourceError(error_message(self.model.label(current), err)) from err

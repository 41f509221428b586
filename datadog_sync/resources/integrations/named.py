"""Service objects keyed by their name, with one secret per name (PagerDuty services, Opsgenie services): what
such a subtype does the same way, through its pure ``model`` module (``service_name``, ``state_key``, ``label``,
``handle``, ``from_api``, ``problems``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar

from datadog_sync.resources.base import SkipResource
from datadog_sync.resources.integrations.secrets import KeyedSecretsSubtype

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client


class NamedServiceSubtype(KeyedSecretsSubtype):
    #: The subtype's model module.
    model: ClassVar[ModuleType]
    #: How an import names a listed object without a name it skips, e.g. "a PagerDuty service".
    listed_noun: ClassVar[str]

    def secret_names(self, obj: Mapping) -> list[str]:
        """The keys of the subtype's secrets section this object needs: its name."""
        return [self.model.service_name(obj)] if self.model.service_name(obj) else []

    def handles(self, obj: Mapping) -> list[str]:
        """``@<kind>-<service name>``, the handle monitors notify it with."""
        return [self.model.handle(obj)] if self.model.service_name(obj) else []

    def _missing(self, obj: Mapping) -> str:
        return self.secrets.missing_message(self.model.service_name(obj), self.model.label(obj))

    def preview(self, raw: dict) -> dict:
        return self.model.from_api(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        obj = self.model.from_api(raw)
        if not self.model.service_name(obj):
            raise SkipResource(f"{self.listed_noun} without a name was listed")
        return self.model.state_key(obj), obj

    def problems(self, key: str, obj: Mapping) -> list[str]:
        return self.model.problems(key, obj)

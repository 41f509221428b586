"""The ``confluent_cloud`` integrations subtype: Confluent Cloud accounts keyed by API key, each with its resources.

* **Create**: one ``POST`` with the resources inline and the API secret from the secrets file
  (``{"confluent_cloud": {"<api key>": "<api secret>"}}``); without it, a skip with the line to add.
* **Update**: the account itself (its tags) is PATCHed only when it differs, and such a PATCH needs the API secret
  (UpdateConfluentAccount's schema): without it, a skip with the same message. Resources that differ are written
  one by one under ``/accounts/{id}/resources``, which needs no secret.
* Resource tags come back lower-cased and ``enable_custom_metrics`` defaults to false: neither is drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar

from datadog_sync.resources.base import ResourceConfig
from datadog_sync.resources.integrations.confluent_cloud import api, model
from datadog_sync.resources.integrations.secrets import secret_unknown
from datadog_sync.resources.integrations.v2_accounts import AccountsSubtype, account_config, top_field


class ConfluentCloudSubtype(AccountsSubtype):
    subtype: ClassVar[str] = model.SUBTYPE
    model: ClassVar[ModuleType] = model
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    config: ClassVar[ResourceConfig] = account_config(api.PATH, "Confluent Cloud account")
    path: ClassVar[str] = api.PATH
    children: ClassVar[str] = api.CHILDREN
    title: ClassVar[str] = "Confluent Cloud account"
    key_doc: ClassVar[str] = "<api key>"
    value_doc: ClassVar[str] = "API secret"
    natural_field: ClassVar[str] = model.KEY
    secret_fields: ClassVar[tuple[str, ...]] = (model.SECRET,)
    #: ConfluentAccountUpdateRequest: ``api_key`` (the key), ``api_secret`` and ``tags``; resources one by one.
    writable_fields: ClassVar[frozenset[str]] = frozenset({"tags", model.RESOURCES})

    def _account_changes(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
        """Whether the account itself (not its resources) has a difference an account PATCH writes."""
        return any(top_field(d) != model.RESOURCES for d in self.diff(dict(current), dict(desired)))

    def update_needs_secret(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
        return self._account_changes(current, desired)

    def account_patch(self, current: Mapping[str, Any], desired: Mapping[str, Any], secret: str | None) -> dict | None:
        if not self._account_changes(current, desired) and not (secret and secret_unknown(current)):
            return None
        return model.update_payload(self.writable_part(desired), secret or "")

    def child_writes(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
        return model.resource_writes(current, desired)

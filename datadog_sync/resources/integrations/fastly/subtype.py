"""The ``fastly`` integrations subtype: Fastly accounts, each with its Fastly services, keyed by account name.

* **Create**: one ``POST`` of the account with its services inline and the API key from the secrets file (the
  section ``{"fastly": {"<account name>": "<api key>"}}``); without it, the account is skipped with the line to add.
* **Update**: the account's only copyable field is its services (the name is the key, the API key is never read),
  so an update writes only the services that differ (``POST`` / ``PATCH`` / ``DELETE`` under
  ``/accounts/{id}/services``) and needs no secret (a ``PATCH`` with only ``api_key`` keeps name and services:
  datadog-api-client-python cassette test_update_fastly_account_returns_ok_response): an adopted account gets
  that ``PATCH`` once, with the secrets file's key, since the destination's is unknown.
* Any other account field that differs cannot be written (the update takes only the name and the API key): alone,
  it is a skip saying so, never an update that writes nothing.
* A renamed account is another account: created under its new key; ``sync --cleanup`` deletes the old one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar

from datadog_sync.resources.base import ResourceConfig
from datadog_sync.resources.integrations.fastly import api, model
from datadog_sync.resources.integrations.secrets import secret_unknown
from datadog_sync.resources.integrations.v2_accounts import AccountsSubtype, account_config


class FastlySubtype(AccountsSubtype):
    subtype: ClassVar[str] = model.SUBTYPE
    model: ClassVar[ModuleType] = model
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    config: ClassVar[ResourceConfig] = account_config(api.PATH, "Fastly account")
    path: ClassVar[str] = api.PATH
    children: ClassVar[str] = api.CHILDREN
    title: ClassVar[str] = "Fastly account"
    secret_fields: ClassVar[tuple[str, ...]] = (model.SECRET,)
    #: FastlyAccountUpdateRequest takes only ``name`` (the key) and ``api_key``: services are the only copyable part.
    writable_fields: ClassVar[frozenset[str]] = frozenset({model.SERVICES})

    def account_patch(self, current: Mapping[str, Any], desired: Mapping[str, Any], secret: str | None) -> dict | None:
        # Nothing of the account itself is copied but its services: only an adoption's one write of the API key.
        return model.key_payload(secret) if secret and secret_unknown(current) else None

    def child_writes(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
        return model.service_writes(current, desired)

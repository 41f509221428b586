"""The ``okta`` integrations subtype: Okta accounts keyed by account name.

* **Create**: one ``POST`` with the client secret (OAuth) or API key from the secrets file
  (``{"okta": {"<account name>": "<api key or client secret>"}}``); without it, a skip with the line to add.
* **Update**: one ``PATCH`` of ``domain``, ``auth_method`` and ``client_id``, with the secret when the file has it.
  Its answer may carry a NEW id (cassette test_update_okta_account_returns_ok_response): destination state keeps
  the answered one, and every plan matches accounts by name anyway.
* **Delete** of an id that is no longer the account's (400 "Unknown error occurred", recorded) looks the account up
  by name and deletes it under its current id.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar

from datadog_sync.resources.base import ResourceConfig
from datadog_sync.resources.integrations.okta import api, model
from datadog_sync.resources.integrations.v2_accounts import AccountsSubtype, account_config


class OktaSubtype(AccountsSubtype):
    subtype: ClassVar[str] = model.SUBTYPE
    model: ClassVar[ModuleType] = model
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    config: ClassVar[ResourceConfig] = account_config(api.PATH, "Okta account")
    path: ClassVar[str] = api.PATH
    title: ClassVar[str] = "Okta account"
    value_doc: ClassVar[str] = "API key or client secret"
    secret_fields: ClassVar[tuple[str, ...]] = model.SECRETS
    #: OktaAccountUpdateRequest: ``auth_method``, ``domain``, ``client_id`` and the secrets; ``name`` is the key.
    writable_fields: ClassVar[frozenset[str]] = frozenset({"auth_method", "domain", "client_id"})

    def secret_path(self, obj: Mapping[str, Any]) -> str:
        return model.secret_field(obj)

    def account_patch(self, current: Mapping[str, Any], desired: Mapping[str, Any], secret: str | None) -> dict | None:
        return model.update_payload(self.writable_part(desired), secret)

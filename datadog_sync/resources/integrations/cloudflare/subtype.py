"""The ``cloudflare`` integrations subtype: Cloudflare accounts keyed by account name.

* **Create** and **update** each send the API key from the secrets file (``{"cloudflare": {"<account name>":
  "<api key>"}}``): the API needs it on every PATCH (UpdateCloudflareAccount's schema), so an account that differs
  and has no key in the file is skipped with the line to add; an unchanged one needs nothing.
* An update sends every field: a PATCH without ``resources`` resets them (cassette
  test_update_cloudflare_account_returns_ok_response).
* Datadog checks the credentials with Cloudflare: a refused key is an error naming the account.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar

from datadog_sync.resources.base import ResourceConfig
from datadog_sync.resources.integrations.cloudflare import api, model
from datadog_sync.resources.integrations.v2_accounts import AccountsSubtype, account_config


class CloudflareSubtype(AccountsSubtype):
    subtype: ClassVar[str] = model.SUBTYPE
    model: ClassVar[ModuleType] = model
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    config: ClassVar[ResourceConfig] = account_config(api.PATH, "Cloudflare account")
    path: ClassVar[str] = api.PATH
    title: ClassVar[str] = "Cloudflare account"
    secret_fields: ClassVar[tuple[str, ...]] = (model.SECRET,)
    #: CloudflareAccountUpdateRequest: ``api_key``, ``email``, ``name`` (the key), ``resources``, ``zones``.
    writable_fields: ClassVar[frozenset[str]] = frozenset({"email", *model.LISTS})

    def update_needs_secret(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
        return bool(self.diff(dict(current), dict(desired)))

    def account_patch(self, current: Mapping[str, Any], desired: Mapping[str, Any], secret: str | None) -> dict | None:
        return model.update_payload(self.writable_part(desired), secret or "")

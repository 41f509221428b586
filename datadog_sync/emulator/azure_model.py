"""The Azure integration store of an org (v1 API): app registrations keyed by `tenant_name` + `client_id`.

The seed/dump format and the listing view; the handlers are in azure.py. Which fields a listing shows depends on
the store's `api_date` (as for GCP, gcp_model.py). No HTTP here.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from datadog_sync.emulator.gcp_model import check_api_date, shown
from datadog_sync.emulator.state import InvalidField

NOT_INSTALLED = "Azure Integration not yet installed. Please install before performing this action."  # recorded
#: Settable fields, in the recorded list order, with the defaults a create gives fields it leaves out (the recorded
#: creates sent all but `resource_collection_enabled`, answered true; the others are the spec's documented meaning).
DEFAULTS: dict[str, Any] = {
    "app_service_plan_filters": "",
    "container_app_filters": "",
    "host_filters": "",
    "automute": False,
    "cspm_enabled": False,
    "custom_metrics_enabled": False,
    "resource_collection_enabled": True,
    "metrics_enabled": True,
    "metrics_enabled_default": True,
    "usage_metrics_enabled": True,
    "resource_provider_configs": [],
    "secretless_auth_enabled": False,
}
#: First date a list shows the field (None: always): `secretless_auth_enabled` is absent from the 2025 recordings,
#: present in the 2026-07-24 one, and was added to the spec in 2026-05 (datadog-api-client-python #3471).
SINCE: dict[str, str | None] = {"secretless_auth_enabled": "2026-05-01"}
#: What the backend accepts as a secret (terraform-provider-datadog GH#2505).
SECRET = re.compile(r"[a-zA-Z0-9.\-_~]+")


def check(name: str, value: Any) -> Any:
    default = DEFAULTS[name]
    if isinstance(default, str) and not isinstance(value, str):
        raise InvalidField(f"Invalid value for '{name}': expected a string")
    if isinstance(default, bool) and not isinstance(value, bool):
        raise InvalidField(f"Invalid value for '{name}': expected a boolean")
    if isinstance(default, list):
        if not isinstance(value, list) or not all(
            isinstance(c, dict) and isinstance(c.get("namespace"), str) and isinstance(c.get("metrics_enabled"), bool)
            for c in value
        ):
            raise InvalidField(f"Invalid value for '{name}': expected [{{namespace, metrics_enabled}}]")
        return [{"namespace": c["namespace"], "metrics_enabled": c["metrics_enabled"]} for c in value]
    return value


def secret(value: Any) -> str:
    if not isinstance(value, str) or not SECRET.fullmatch(value):
        raise InvalidField("Invalid value for 'client_secret': expected a non-empty string of [a-zA-Z0-9.-_~]")
    return value


@dataclass
class AzureAccount:
    tenant_name: str
    client_id: str
    client_secret: str
    settings: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULTS))
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return self.tenant_name, self.client_id

    def apply(self, body: dict[str, Any]) -> None:
        """Fields supplied overwrite, others stay (the spec's PUT wording); null counts as left out."""
        for name in DEFAULTS:
            if body.get(name) is not None:
                self.settings[name] = check(name, body[name])
        if body.get("client_secret") is not None:
            self.client_secret = secret(body["client_secret"])

    def listed(self, api_date: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"tenant_name": self.tenant_name, "client_id": self.client_id}
        for name in DEFAULTS:
            if shown(SINCE.get(name), api_date):
                out[name] = copy.deepcopy(self.settings[name])
        out["errors"], out["warnings"] = list(self.errors), list(self.warnings)
        return out

    def to_json(self) -> dict[str, Any]:
        out = {"tenant_name": self.tenant_name, "client_id": self.client_id, "client_secret": self.client_secret}
        return {**out, **copy.deepcopy(self.settings), "errors": list(self.errors), "warnings": list(self.warnings)}

    @classmethod
    def from_json(cls, data: Any) -> AzureAccount:
        if not isinstance(data, dict):
            raise InvalidField("each azure account must be an object")
        unknown = set(data) - {"tenant_name", "client_id", "client_secret", "errors", "warnings", *DEFAULTS}
        if unknown:
            raise InvalidField(f"unknown azure account fields: {sorted(unknown)}")
        tenant, client = data.get("tenant_name"), data.get("client_id")
        if not isinstance(tenant, str) or not tenant or not isinstance(client, str) or not client:
            raise InvalidField("an azure account needs tenant_name and client_id")
        account = cls(tenant, client, secret(data.get("client_secret")))
        account.apply(data)
        for name in ("errors", "warnings"):
            value = data.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidField(f"azure {name} must be a list of strings")
            setattr(account, name, list(value))
        return account


@dataclass
class AzureIntegration:
    accounts: list[AzureAccount] = field(default_factory=list)  # creation order = listing order
    api_date: str | None = None

    def find(self, body: dict[str, Any]) -> AzureAccount | None:
        key = (body.get("tenant_name"), body.get("client_id"))
        return next((a for a in self.accounts if a.key == key), None)

    def to_json(self) -> dict[str, Any]:
        return {"api_date": self.api_date, "accounts": [a.to_json() for a in self.accounts]}

    @classmethod
    def from_json(cls, data: Any) -> AzureIntegration:
        data = {} if data is None else data
        if not isinstance(data, dict) or set(data) - {"api_date", "accounts"}:
            raise InvalidField("azure must be an object with 'accounts' and/or 'api_date'")
        try:
            store = cls(api_date=check_api_date(data.get("api_date")))
        except ValueError as exc:
            raise InvalidField(str(exc)) from None
        accounts = data.get("accounts", [])
        if not isinstance(accounts, list):
            raise InvalidField("azure.accounts must be a list")
        for raw in accounts:
            account = AzureAccount.from_json(raw)
            if store.find(raw):
                raise InvalidField(f"duplicate azure account {account.tenant_name}:{account.client_id}")
            store.accounts.append(account)
        return store

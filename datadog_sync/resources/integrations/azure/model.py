"""The stored shape of one Azure app registration (v1 API), its comparison and the payloads built from it.

Pure: no HTTP here. The stored object is an item of ``GET /api/v1/integration/azure``
(https://docs.datadoghq.com/api/latest/azure-integration/) minus per-org status and what is never returned
(:data:`DROPPED`: ``errors``, ``warnings``, ``client_secret``, ``new_tenant_name``, ``new_client_id``), plus
``"name": "azure"``::

    {
      "name": "azure", "tenant_name": "<tenant id>", "client_id": "<app registration id>",
      "host_filters": "env:prod,team:a", "app_service_plan_filters": "", "container_app_filters": "",
      "automute": false, "cspm_enabled": false, "custom_metrics_enabled": false,
      "resource_collection_enabled": true, "metrics_enabled": true, "metrics_enabled_default": true,
      "usage_metrics_enabled": true, "secretless_auth_enabled": false,
      "resource_provider_configs": [{"namespace": "Microsoft.Compute", "metrics_enabled": false}]
    }

Every other field, known or not, is carried unchanged (Datadog adds fields: ``secretless_auth_enabled`` is absent
from 2025 listings). The identity is the pair ``tenant_name`` + ``client_id`` (several app registrations may share
a tenant, terraform-provider-datadog GH#1242), the state key ``azure:<tenant_name>:<client_id>``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.resources.schema import Fields, ListOf, schema_problems

RESOURCE_TYPE = "integrations"
SUBTYPE = "azure"
TENANT = "tenant_name"
CLIENT = "client_id"
SECRET = "client_secret"
PROVIDERS = "resource_provider_configs"
#: Never stored: per-org status (``errors``, and ``warnings`` which the spec does not list), the secret the API
#: never returns, and the rename fields the API ignores (datadog-api-client-go GH#2561, terraform-provider-datadog
#: GH#2483).
DROPPED = ("errors", "warnings", SECRET, "new_tenant_name", "new_client_id")
#: Comma-separated ``key:value`` filters: their order means nothing.
STRING_FILTERS = ("host_filters", "app_service_plan_filters", "container_app_filters")
#: A field a listing may lack because the org's API predates it, and the value its absence means: the source's
#: default value of such a field is no drift against a destination that does not list it.
ABSENT_MEANS: dict[str, Any] = {"secretless_auth_enabled": False}

#: The JSON types of the known fields: a state file edited by hand is checked against them (unknown fields are
#: allowed: they are carried as the API returned them).
SCHEMA: dict[str, Any] = {
    "name": str,
    TENANT: str,
    CLIENT: str,
    **{name: str for name in STRING_FILTERS},
    **{
        name: bool
        for name in (
            "automute",
            "cspm_enabled",
            "custom_metrics_enabled",
            "resource_collection_enabled",
            "metrics_enabled",
            "metrics_enabled_default",
            "usage_metrics_enabled",
            "secretless_auth_enabled",
        )
    },
    PROVIDERS: ListOf(Fields({"namespace": str, "metrics_enabled": bool})),
}


# ----------------------------------------------------------------------------------------------- identity
def pair(obj: Mapping[str, Any]) -> tuple[str, str]:
    return str(obj.get(TENANT) or ""), str(obj.get(CLIENT) or "")


def pair_id(obj: Mapping[str, Any]) -> str:
    """``<tenant_name>:<client_id>``: the secrets-file key and the state key's natural id."""
    return ":".join(pair(obj))


def state_key(obj: Mapping[str, Any]) -> str:
    return f"{SUBTYPE}:{pair_id(obj)}"


def label(obj: Mapping[str, Any]) -> str:
    """How messages name an app registration."""
    tenant, client = pair(obj)
    return f"Azure app registration {client} of tenant {tenant}"


# ------------------------------------------------------------------------------------------- normalising
def from_api(item: Mapping[str, Any]) -> dict:
    """A listed app registration in the stored shape."""
    obj = {k: copy.deepcopy(v) for k, v in item.items() if k not in DROPPED and k != "name"}
    return ordered({"name": SUBTYPE, **obj})


def ordered(obj: Mapping[str, Any]) -> dict:
    """Stored objects read the same in every state file: name and identity first, then the fields by name."""
    head = [k for k in ("name", TENANT, CLIENT) if k in obj]
    return {k: obj[k] for k in [*head, *sorted(k for k in obj if k not in head)]}


def owned(obj: Mapping[str, Any]) -> dict:
    """What a write sends and a diff compares: the fields, without the subtype name or what is never stored."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if k not in DROPPED and k not in ("name", TENANT, CLIENT)}


def _filters(value: Any) -> Any:
    """A comma-separated filter string in canonical form (items stripped and sorted, empty items dropped)."""
    if not isinstance(value, str):
        return value
    return ",".join(sorted(item.strip() for item in value.split(",") if item.strip()))


def _providers(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return sorted(value, key=lambda c: json.dumps(c, sort_keys=True, default=str))


def canonical(obj: Mapping[str, Any]) -> dict:
    """``owned(obj)`` in the form in which equal configurations compare equal."""
    out = owned(obj)
    for name in STRING_FILTERS:
        if name in out:
            out[name] = _filters(out[name])
    if PROVIDERS in out:
        out[PROVIDERS] = _providers(out[PROVIDERS])
    return out


# -------------------------------------------------------------------------------------------- comparing
def comparable(current: Mapping[str, Any], desired: Mapping[str, Any]) -> tuple[dict, dict]:
    """``(current, desired)`` as diffs compare them: only what the source owns. A field the source does not have is
    not owned (a destination field the source never set is not drift); a field the destination does not list is
    no drift when the source holds the value its absence means (:data:`ABSENT_MEANS`)."""
    have, want = canonical(current), canonical(desired)
    for name, value in ABSENT_MEANS.items():
        if name not in have and want.get(name) == value:
            del want[name]
    return {k: v for k, v in have.items() if k in want}, want


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    have, want = comparable(current, desired)
    return compute_diff(have, want)


# --------------------------------------------------------------------------------------------- payloads
def create_payload(obj: Mapping[str, Any], secret: str) -> dict:
    """Body of ``POST /api/v1/integration/azure`` (``AzureAccount``): the pair, the secret, every owned field."""
    tenant, client = pair(obj)
    return {TENANT: tenant, CLIENT: client, SECRET: secret, **owned(obj)}


def update_payload(obj: Mapping[str, Any], secret: str | None = None) -> dict:
    """Body of ``PUT /api/v1/integration/azure``: the pair and every owned field ("Any other fields supplied will
    overwrite existing values... To leave a field unchanged, do not supply that field", the API's page). The secret
    only when the secrets file has it: a PUT without it leaves the stored secret unchanged. Never ``new_*``."""
    tenant, client = pair(obj)
    return {TENANT: tenant, CLIENT: client, **({SECRET: secret} if secret else {}), **owned(obj)}


def delete_payload(obj: Mapping[str, Any]) -> dict:
    """Body of ``DELETE /api/v1/integration/azure``: the pair only (datadog-api-client-python cassette
    test_delete_an_azure_integration_returns_ok_response)."""
    tenant, client = pair(obj)
    return {TENANT: tenant, CLIENT: client}


# ------------------------------------------------------------------------------------------------ checks
def problems(key: str, obj: Any) -> list[str]:
    """What is wrong with a stored object: a known field of the wrong type, a missing identity, a secret or a
    rename field in a state file, an entry stored under another registration's key. Unknown fields are allowed."""
    found = schema_problems(obj, SCHEMA)
    if found:
        return found
    if obj.get(SECRET) is not None:
        return [f"{SECRET}: never kept in state files: give it in the integrations secrets file"]
    renames = [name for name in ("new_tenant_name", "new_client_id") if obj.get(name) is not None]
    if renames:
        return [
            f"{renames[0]}: the API ignores renames: change {TENANT} / {CLIENT} (and the key) instead, which "
            "creates the new app registration (sync --cleanup deletes the old one)"
        ]
    tenant, client = pair(obj)
    if not tenant or not client:
        return [f"{TENANT} and {CLIENT}: both are needed"]
    if key != state_key(obj):
        return [f"{TENANT}/{CLIENT}: the entry is stored under {key}, but its pair makes it {state_key(obj)}"]
    return []

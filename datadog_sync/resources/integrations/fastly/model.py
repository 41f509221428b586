"""The stored shape of one Fastly account (with its Fastly services), its comparison and the payloads built from it.

Pure: no HTTP here. The stored object is an account of ``GET /api/v2/integrations/fastly/accounts``
(https://docs.datadoghq.com/api/latest/fastly-integration/) with the account's ``name`` under ``account_name`` (the
natural key: ``name`` is the subtype, as for every integrations subtype), plus ``"name": "fastly"`` and the org's
account ``id`` (a hash of the account name: never compared, never sent)::

    {"name": "fastly", "account_name": "edge", "id": "<32 hex>",
     "services": [{"id": "<Fastly service id>", "tags": ["team:edge"]}]}

The ``api_key`` is never returned: it comes from the secrets file. Services live inside their account: the API
creates them inline with the account and writes each one under ``/accounts/{id}/services/{service id}``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.resources.schema import Fields, ListOf

SUBTYPE = "fastly"
NAME = "account_name"
SECRET = "api_key"
SERVICES = "services"
ACCOUNT_TYPE = "fastly-accounts"
SERVICE_TYPE = "fastly-services"
#: Never sent, never compared: the subtype, the natural key (sent as ``name``) and the org's account id.
LOCAL = ("name", NAME, "id")

SCHEMA: dict[str, Any] = {"name": str, NAME: str, "id": str, SERVICES: ListOf(Fields({"id": str, "tags": ListOf(str)}))}


def from_api(item: Mapping[str, Any]) -> dict:
    """A JSON:API account (``{"id", "type", "attributes"}``) in the stored shape."""
    attrs = item.get("attributes") or {}
    rest = {k: copy.deepcopy(v) for k, v in attrs.items() if k not in ("name", SECRET)}
    obj: dict[str, Any] = {"name": SUBTYPE, NAME: attrs.get("name"), "id": item.get("id"), **rest}
    obj[SERVICES] = [service(s) for s in obj.get(SERVICES) or [] if isinstance(s, Mapping)]
    return obj


def service(item: Mapping[str, Any]) -> dict:
    """One service as stored: its Fastly id and tags (a listed service is ``{"id", "attributes": {"tags"}}``)."""
    tags = item.get("tags", (item.get("attributes") or {}).get("tags"))
    return {"id": item.get("id"), "tags": list(tags or [])}


def owned(obj: Mapping[str, Any]) -> dict:
    return {k: copy.deepcopy(v) for k, v in obj.items() if k not in LOCAL and k != SECRET}


def _services(value: Any) -> dict[str, list]:
    return {str(s.get("id")): sorted(s.get("tags") or []) for s in value or [] if isinstance(s, Mapping)}


def canonical(obj: Mapping[str, Any]) -> dict:
    out = owned(obj)
    out[SERVICES] = _services(out.get(SERVICES))
    return out


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    """Only what the source owns: a destination field the source does not have is no drift."""
    have, want = canonical(current), canonical(desired)
    return compute_diff({k: v for k, v in have.items() if k in want}, want)


def create_payload(obj: Mapping[str, Any], secret: str) -> dict:
    """``FastlyAccountCreateRequest``: the name, the API key and the services inline."""
    services = [{"id": sid, "tags": tags} for sid, tags in _services(obj.get(SERVICES)).items()]
    attrs = {"name": obj[NAME], SECRET: secret, SERVICES: services}
    return {"data": {"type": ACCOUNT_TYPE, "attributes": attrs}}


def key_payload(secret: str) -> dict:
    """``FastlyAccountUpdateRequest`` with only the API key: name and services stay as they are (cassette
    test_update_fastly_account_returns_ok_response)."""
    return {"data": {"type": ACCOUNT_TYPE, "attributes": {SECRET: secret}}}


def service_payload(service_id: str, tags: list[str]) -> dict:
    """``FastlyServiceRequest``: the Fastly service id and its tags."""
    return {"data": {"type": SERVICE_TYPE, "id": service_id, "attributes": {"tags": tags}}}


def service_writes(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """The service writes turning ``current``'s services into ``desired``'s: only those that differ."""
    have, want = _services(current.get(SERVICES)), _services(desired.get(SERVICES))
    writes: list[tuple[str, str, Any]] = []
    for sid, tags in want.items():
        if sid not in have:
            writes.append(("POST", sid, service_payload(sid, tags)))
        elif have[sid] != tags:
            writes.append(("PATCH", sid, service_payload(sid, tags)))
    writes += [("DELETE", sid, None) for sid in have if sid not in want]
    return writes

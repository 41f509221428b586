"""The stored shape of one Confluent Cloud account (with its resources), its comparison and the payloads.

Pure: no HTTP here. The stored object is an account of ``GET /api/v2/integrations/confluent-cloud/accounts``
(https://docs.datadoghq.com/api/latest/confluent-cloud/) keyed by its ``api_key`` (returned, not a secret), plus
``"name": "confluent_cloud"`` and the org's account ``id`` (randomly generated: never compared, never sent)::

    {"name": "confluent_cloud", "api_key": "CONFLUENTKEY0001", "id": "<32 hex>", "tags": ["team:data"],
     "resources": [{"id": "lkc-abc123", "resource_type": "kafka", "tags": ["env:prod"],
                    "enable_custom_metrics": false}]}

The ``api_secret`` is never returned: it comes from the secrets file, and every account PATCH needs it. Resource
tags are lower-cased by the server (cassette test_add_resource_to_confluent_account_returns_ok_response) and
``enable_custom_metrics`` defaults to false (absent from 2022 recordings): neither is drift. Payloads carry the
source's values as they are; only the comparison lower-cases resource tags.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.resources.schema import Fields, ListOf

SUBTYPE = "confluent_cloud"
KEY = "api_key"
SECRET = "api_secret"
RESOURCES = "resources"
ACCOUNT_TYPE = "confluent-cloud-accounts"
RESOURCE_TYPE_NAME = "confluent-cloud-resources"
LOCAL = ("name", "id")

RESOURCE_SCHEMA = Fields({"id": str, "resource_type": str, "tags": ListOf(str), "enable_custom_metrics": bool})
SCHEMA: dict[str, Any] = {"name": str, KEY: str, "id": str, "tags": ListOf(str), RESOURCES: ListOf(RESOURCE_SCHEMA)}


def from_api(item: Mapping[str, Any]) -> dict:
    attrs = item.get("attributes") or {}
    rest = {k: copy.deepcopy(v) for k, v in attrs.items() if k not in (KEY, SECRET)}
    obj: dict[str, Any] = {"name": SUBTYPE, KEY: attrs.get(KEY), "id": item.get("id"), **rest}
    obj[RESOURCES] = [resource(r) for r in obj.get(RESOURCES) or [] if isinstance(r, Mapping)]
    return obj


def resource(item: Mapping[str, Any]) -> dict:
    """One resource as stored (a resources-endpoint item is ``{"id", "attributes": {...}}``)."""
    attrs = {**(item.get("attributes") or {}), **{k: v for k, v in item.items() if k not in ("attributes", "type")}}
    return {"id": attrs.get("id"), **{k: copy.deepcopy(v) for k, v in attrs.items() if k != "id"}}


def _resource_canonical(res: Mapping[str, Any]) -> dict:
    out = {k: copy.deepcopy(v) for k, v in res.items() if k != "id"}
    out["tags"] = sorted(str(t).lower() for t in out.get("tags") or [])
    out["enable_custom_metrics"] = bool(out.get("enable_custom_metrics", False))
    return out


def resources(value: Any) -> dict[str, dict]:
    """Resource id -> its fields, in comparable form."""
    return {str(r.get("id")): _resource_canonical(r) for r in value or [] if isinstance(r, Mapping)}


def account_fields(obj: Mapping[str, Any]) -> dict:
    """The account's own fields (what an account PATCH writes), in comparable form."""
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k not in (*LOCAL, KEY, SECRET, RESOURCES)}
    out["tags"] = sorted(out.get("tags") or [])
    return out


def _owned(have: dict, want: dict) -> dict:
    return {k: v for k, v in have.items() if k in want}


def account_differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    have, want = account_fields(current), account_fields(desired)
    return compute_diff(_owned(have, want), want)


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    have = {**account_fields(current), RESOURCES: resources(current.get(RESOURCES))}
    want = {**account_fields(desired), RESOURCES: resources(desired.get(RESOURCES))}
    have[RESOURCES] = {rid: _owned(res, want[RESOURCES].get(rid, res)) for rid, res in have[RESOURCES].items()}
    return compute_diff(_owned(have, want), want)


# Payloads send the stored values as they are (tags in the source's case and order): only comparisons use the
# canonical forms above.
def _as_stored(value: Any) -> dict[str, dict]:
    """Resource id -> its stored fields but the id, as the source has them."""
    return {
        str(r.get("id")): {k: copy.deepcopy(v) for k, v in r.items() if k != "id"}
        for r in value or []
        if isinstance(r, Mapping)
    }


def _own_fields(obj: Mapping[str, Any]) -> dict:
    """The account's own fields (what an account PATCH writes), as stored."""
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k not in (*LOCAL, KEY, SECRET, RESOURCES)}
    out["tags"] = list(out.get("tags") or [])
    return out


def create_payload(obj: Mapping[str, Any], secret: str) -> dict:
    """``ConfluentAccountCreateRequest``: the key pair, the tags and the resources inline."""
    inline = [{"id": rid, **res} for rid, res in _as_stored(obj.get(RESOURCES)).items()]
    attrs = {KEY: obj[KEY], SECRET: secret, "tags": _own_fields(obj)["tags"], RESOURCES: inline}
    return {"data": {"type": ACCOUNT_TYPE, "attributes": attrs}}


def update_payload(obj: Mapping[str, Any], secret: str) -> dict:
    """``ConfluentAccountUpdateRequest``: ``api_key`` and ``api_secret`` are required on every PATCH, which leaves
    the resources alone (cassette test_update_confluent_account_returns_ok_response)."""
    attrs = {KEY: obj[KEY], SECRET: secret, **_own_fields(obj)}
    return {"data": {"type": ACCOUNT_TYPE, "attributes": attrs}}


def resource_payload(resource_id: str, res: Mapping[str, Any]) -> dict:
    """``ConfluentResourceRequest``."""
    return {"data": {"type": RESOURCE_TYPE_NAME, "id": resource_id, "attributes": dict(res)}}


def resource_writes(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """The resource writes that make ``current`` hold ``desired``'s resources: compared canonically, sent as
    stored."""
    have, want = resources(current.get(RESOURCES)), resources(desired.get(RESOURCES))
    stored = _as_stored(desired.get(RESOURCES))
    writes: list[tuple[str, str, Any]] = []
    for rid, res in want.items():
        if rid not in have:
            writes.append(("POST", rid, resource_payload(rid, stored[rid])))
        elif _owned(have[rid], res) != res:
            writes.append(("PATCH", rid, resource_payload(rid, stored[rid])))
    writes += [("DELETE", rid, None) for rid in have if rid not in want]
    return writes

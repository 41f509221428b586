"""The stored shape of one Cloudflare account, its comparison and the payloads built from it.

Pure: no HTTP here. The stored object is an account of ``GET /api/v2/integrations/cloudflare/accounts``
(https://docs.datadoghq.com/api/latest/cloudflare-integration/) with its ``name`` under ``account_name`` (the natural
key), plus ``"name": "cloudflare"`` and the org's account ``id`` (never compared, never sent)::

    {"name": "cloudflare", "account_name": "cf-prod", "id": "<hex>", "email": "", "resources": ["web", "dns"],
     "zones": []}

The ``api_key`` (a global key, which needs ``email``, or an API token, which lists with ``"email": ""``) is never
returned: it comes from the secrets file, and the API asks for it on every PATCH.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.resources.schema import ListOf

SUBTYPE = "cloudflare"
NAME = "account_name"
SECRET = "api_key"
ACCOUNT_TYPE = "cloudflare-accounts"
LISTS = ("resources", "zones")
LOCAL = ("name", NAME, "id")

SCHEMA: dict[str, Any] = {"name": str, NAME: str, "id": str, "email": str, **{k: ListOf(str) for k in LISTS}}


def from_api(item: Mapping[str, Any]) -> dict:
    attrs = item.get("attributes") or {}
    rest = {k: copy.deepcopy(v) for k, v in attrs.items() if k not in ("name", SECRET)}
    return {"name": SUBTYPE, NAME: attrs.get("name"), "id": item.get("id"), **rest}


def canonical(obj: Mapping[str, Any]) -> dict:
    """What the source owns, in comparable form: omitted lists are ``[]`` and their order means nothing (the API
    answers omitted ``resources``/``zones`` as ``[]``: cassette test_add_cloudflare_account_returns_created_response);
    a token account's ``"email": ""`` is no email."""
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k not in LOCAL and k != SECRET}
    for name in LISTS:
        out[name] = sorted(out.get(name) or [])
    out["email"] = out.get("email") or ""
    return out


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    have, want = canonical(current), canonical(desired)
    return compute_diff({k: v for k, v in have.items() if k in want}, want)


def attributes(obj: Mapping[str, Any], secret: str) -> dict:
    """Every owned field: a PATCH that omits ``resources`` resets them to ``[]`` (cassette
    test_update_cloudflare_account_returns_ok_response), so the lists always travel whole."""
    out = {"name": obj[NAME], SECRET: secret, **{k: v for k, v in canonical(obj).items() if k != "email"}}
    if obj.get("email"):
        out["email"] = obj["email"]
    return out


def create_payload(obj: Mapping[str, Any], secret: str) -> dict:
    """``CloudflareAccountCreateRequest``."""
    return {"data": {"type": ACCOUNT_TYPE, "attributes": attributes(obj, secret)}}


def update_payload(obj: Mapping[str, Any], secret: str) -> dict:
    """``CloudflareAccountUpdateRequest``: ``api_key`` is required on every PATCH."""
    return {"data": {"type": ACCOUNT_TYPE, "attributes": attributes(obj, secret)}}

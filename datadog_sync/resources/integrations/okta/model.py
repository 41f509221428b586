"""The stored shape of one Okta account, its comparison and the payloads built from it.

Pure: no HTTP here. The stored object is an account of ``GET /api/v2/integrations/okta/accounts``
(https://docs.datadoghq.com/api/latest/okta-integration/) with its ``name`` under ``account_name`` (the natural key:
ids are not stable, a PATCH answers a new one, cassette test_update_okta_account_returns_ok_response), plus
``"name": "okta"`` and the org's current account ``id`` (never compared, never sent)::

    {"name": "okta", "account_name": "corp", "id": "<uuid>", "domain": "https://corp.okta.com/",
     "auth_method": "oauth", "client_id": "0oa1b2c3"}

``client_secret`` (OAuth accounts) or ``api_key`` (the others) is write-only: it comes from the secrets file.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff

SUBTYPE = "okta"
NAME = "account_name"
SECRETS = ("client_secret", "api_key")
ACCOUNT_TYPE = "okta-accounts"
LOCAL = ("name", NAME, "id")

SCHEMA: dict[str, Any] = {"name": str, NAME: str, "id": str, "domain": str, "auth_method": str, "client_id": str}


def from_api(item: Mapping[str, Any]) -> dict:
    attrs = item.get("attributes") or {}
    rest = {k: copy.deepcopy(v) for k, v in attrs.items() if k not in ("name", *SECRETS)}
    return {"name": SUBTYPE, NAME: attrs.get("name"), "id": item.get("id"), **rest}


def owned(obj: Mapping[str, Any]) -> dict:
    return {k: copy.deepcopy(v) for k, v in obj.items() if k not in LOCAL and k not in SECRETS and v is not None}


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    have, want = owned(current), owned(desired)
    return compute_diff({k: v for k, v in have.items() if k in want}, want)


def secret_field(obj: Mapping[str, Any]) -> str:
    """Where the secret goes: ``client_secret`` for OAuth accounts, ``api_key`` for API-token ones."""
    return "client_secret" if obj.get("auth_method", "oauth") == "oauth" else "api_key"


def create_payload(obj: Mapping[str, Any], secret: str) -> dict:
    """``OktaAccountRequest``: the name, the owned fields and the secret (a client ``id`` would be ignored)."""
    attrs = {"name": obj[NAME], **owned(obj), secret_field(obj): secret}
    return {"data": {"type": ACCOUNT_TYPE, "attributes": attrs}}


def update_payload(obj: Mapping[str, Any], secret: str | None) -> dict:
    """``OktaAccountUpdateRequest``: ``auth_method`` and ``domain`` are required, ``name`` cannot change; the secret
    only when the secrets file has it."""
    attrs = {**owned(obj), **({secret_field(obj): secret} if secret else {})}
    return {"data": {"type": ACCOUNT_TYPE, "attributes": attrs}}

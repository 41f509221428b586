"""The stored shape of one Opsgenie service object, its comparison and the payloads built from it.

Pure: no HTTP here. The stored object is an item of ``GET /api/v2/integration/opsgenie/services``
(https://docs.datadoghq.com/api/latest/opsgenie-integration/), its attributes flattened, the service's ``name``
kept as ``service_name`` (``name`` is the subtype), plus the org's service id::

    {"name": "opsgenie", "service_name": "payments", "region": "custom",
     "custom_url": "https://opsgenie.example.com", "id": "<this org's service UUID>"}

The name is the natural key in every org (ids differ per org and are never compared), the state key
``opsgenie:<service_name>`` and the monitor handle ``@opsgenie-<service_name>``. The API key is never returned
and comes from the secrets file ``{"opsgenie": {"<service name>": "<api key>"}}``. Destination state also keeps
the source's id of the service it was written from (``source_id``), which tells a rename from a new service.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.resources.schema import schema_problems

RESOURCE_TYPE = "integrations"
SUBTYPE = "opsgenie"
TYPE = "opsgenie-service"
NAME = "service_name"
ID = "id"
SOURCE_ID = "source_id"
SECRET = "opsgenie_api_key"
CUSTOM_URL = "custom_url"
REGIONS = ("us", "eu", "custom")
#: Never sent nor compared: the subtype, the per-org ids, the secret.
NOT_OWNED = ("name", NAME, ID, SOURCE_ID, SECRET)
SCHEMA: dict[str, Any] = {"name": str, NAME: str, "region": str, CUSTOM_URL: str, ID: str, SOURCE_ID: str}


def service_name(obj: Mapping[str, Any]) -> str:
    value = obj.get(NAME)
    return value if isinstance(value, str) else ""


def state_key(obj: Mapping[str, Any]) -> str:
    return f"{SUBTYPE}:{service_name(obj)}"


def label(obj: Mapping[str, Any]) -> str:
    return f"Opsgenie service {service_name(obj)}"


def handle(obj: Mapping[str, Any]) -> str:
    return f"@opsgenie-{service_name(obj)}"


def from_api(item: Mapping[str, Any]) -> dict:
    """A listed service (JSON:API resource) in the stored shape; unknown attributes are carried unchanged."""
    found = item.get("attributes")
    attrs: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    rest = {k: copy.deepcopy(v) for k, v in attrs.items() if k not in ("name", SECRET)}
    obj: dict[str, Any] = {"name": SUBTYPE, NAME: attrs.get("name") or ""}
    obj.update(sorted(rest.items()))
    if item.get(ID) is not None:
        obj[ID] = str(item[ID])
    return obj


def owned(obj: Mapping[str, Any]) -> dict:
    """What a write sends besides the name and a diff compares: region, custom_url and any unknown attribute."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if k not in NOT_OWNED}


def comparable(obj: Mapping[str, Any]) -> dict:
    """``custom_url: null`` (the server's answer when unset) and an absent ``custom_url`` are the same."""
    out = {NAME: service_name(obj), **owned(obj)}
    if out.get(CUSTOM_URL) is None:
        out.pop(CUSTOM_URL, None)
    return out


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    """A rename shows as ``service_name``; a field the source does not hold is not drift (a destination
    ``custom_url`` against a source without one is: the source's absence means unset)."""
    have, want = comparable(current), comparable(desired)
    if CUSTOM_URL not in want and have.get(CUSTOM_URL) is not None:
        want[CUSTOM_URL] = None
    have = {k: v for k, v in have.items() if k in want}
    return compute_diff(have, want)


def create_payload(obj: Mapping[str, Any], secret: str) -> dict:
    """Body of ``POST /api/v2/integration/opsgenie/services`` (``OpsgenieServiceCreateRequest``)."""
    attrs = {"name": service_name(obj), SECRET: secret, **owned(obj)}
    if attrs.get(CUSTOM_URL) is None:
        attrs.pop(CUSTOM_URL, None)
    return {"data": {"type": TYPE, "attributes": attrs}}


def update_payload(obj: Mapping[str, Any], service_id: str, secret: str | None = None) -> dict:
    """Body of ``PATCH .../services/{id}`` (``OpsgenieServiceUpdateRequest``): ``data.id`` and every owned field
    (``custom_url`` null clears it), the name (a rename, datadog-api-client-python cassette
    test_update_a_single_service_object_returns_ok_response), and the API key when the secrets file has it
    (terraform-provider-datadog resends it on every update)."""
    attrs = {"name": service_name(obj), **({SECRET: secret} if secret else {}), **owned(obj)}
    attrs.setdefault(CUSTOM_URL, None)
    return {"data": {"type": TYPE, ID: service_id, "attributes": attrs}}


def problems(key: str, obj: Any) -> list[str]:
    found = schema_problems(obj, SCHEMA)
    if found:
        return found
    if obj.get(SECRET) is not None:
        return [f"{SECRET}: never kept in state files: give it in the integrations secrets file"]
    if not service_name(obj):
        return [f"{NAME}: needed"]
    if obj.get("region") not in REGIONS:
        return [f"region: one of {', '.join(REGIONS)} is needed"]
    if key != state_key(obj):
        return [f"{NAME}: the entry is stored under {key}, but its name makes it {state_key(obj)}"]
    return []

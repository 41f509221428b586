"""The stored shape of one GCP service account, its comparison and the payloads built from it. Pure: no HTTP.

Two API generations, one key space: every service account is ``gcp:<client_email>``, whichever API holds it (one
org lists an email once: the v1 list also shows STS accounts, with ``project_id: ""``, and those are taken from the
v2 list only).

**STS accounts** (``/api/v2/integration/gcp/accounts``, https://docs.datadoghq.com/api/latest/gcp-integration/): the
stored object is the account's ``attributes`` as listed, plus ``"name": "gcp"``; the envelope's ``id`` / ``type``
and the list's ``meta.accessible_projects`` (computed per org) are dropped::

    {
      "name": "gcp", "client_email": "datadog@payments-prod.iam.gserviceaccount.com",
      "account_tags": ["env:prod"], "automute": false, "cloud_run_revision_filters": [], "host_filters": ["env:prod"],
      "is_cspm_enabled": false, "is_global_location_enabled": true, "is_per_project_quota_enabled": false,
      "is_resource_change_collection_enabled": false, "is_security_command_center_enabled": false,
      "metric_namespace_configs": [{"id": "pubsub", "disabled": true, "filters": []}],
      "monitored_resource_configs": [{"type": "gce_instance", "filters": ["env:prod"]}],
      "region_filter_configs": ["us-east1"], "resource_collection_enabled": true
    }

**Key accounts** (deprecated ``/api/v1/integration/gcp``): the v1 list item without its per-org ``id`` and
``errors``; a non-empty ``project_id`` is what makes an object a key account. ``host_filters`` (a comma-separated
string in v1) is stored as a list like STS's. The JSON key is never listed: it comes from the secrets file.

Every other attribute, known or not, is carried unchanged. Normalised so equal configurations compare equal:
``null`` lists are ``[]``, lists whose order means nothing are sorted. Destination state adds ``"id"`` (an STS
account's config UUID in that org; never compared).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.resources.schema import Fields, ListOf, schema_problems

RESOURCE_TYPE = "integrations"
SUBTYPE = "gcp"
EMAIL = "client_email"
PROJECT = "project_id"
CONFIG_ID = "id"
MRC = "monitored_resource_configs"
MNC = "metric_namespace_configs"
#: The deprecated filter lists: views of ``monitored_resource_configs`` that the API keeps in sync with it
#: (terraform-provider-datadog cassette TestAccIntegrationGcpStsBasic).
MIRRORS = ("host_filters", "cloud_run_revision_filters")
#: Never sent, never compared: what the tool adds.
LOCAL_FIELDS = ("name", CONFIG_ID)
#: Per-org values of a listing, never stored.
DROPPED_V1 = ("id", "errors")
#: The entry the API injects into ``metric_namespace_configs`` when a create sends none (TF cassette
#: TestAccIntegrationGcpStsDefault; terraform-provider-datadog issue 3199).
PROMETHEUS = {"id": "prometheus", "disabled": True, "filters": []}
STRING_LISTS = ("account_tags", "host_filters", "cloud_run_revision_filters", "region_filter_configs")
#: The key-file fields of a v1 create (``GCPAccount``), taken from the secrets file.
KEY_FIELDS = (
    "type",
    "private_key_id",
    "private_key",
    "client_id",
    "auth_uri",
    "token_uri",
    "auth_provider_x509_cert_url",
    "client_x509_cert_url",
)

SCHEMA: dict[str, Any] = {
    "name": str,
    EMAIL: str,
    PROJECT: str,
    CONFIG_ID: str,
    "account_tags": ListOf(str),
    "automute": bool,
    "host_filters": ListOf(str),
    "cloud_run_revision_filters": ListOf(str),
    "region_filter_configs": ListOf(str),
    "is_cspm_enabled": bool,
    "is_global_location_enabled": bool,
    "is_per_project_quota_enabled": bool,
    "is_resource_change_collection_enabled": bool,
    "is_security_command_center_enabled": bool,
    "resource_collection_enabled": bool,
    MNC: ListOf(Fields({"id": str, "disabled": bool, "filters": ListOf(str)})),
    MRC: ListOf(Fields({"type": str, "filters": ListOf(str)})),
}


# ----------------------------------------------------------------------------------------------- identity
def is_key_account(obj: Mapping[str, Any]) -> bool:
    """A v1 service-account-key integration (its ``project_id`` is set; STS accounts have none)."""
    return bool(obj.get(PROJECT))


def state_key(obj: Mapping[str, Any]) -> str:
    return f"{SUBTYPE}:{obj[EMAIL]}"


def label(obj: Mapping[str, Any]) -> str:
    """How messages name an account."""
    if is_key_account(obj):
        return f"GCP key account {obj.get(EMAIL)} (project {obj.get(PROJECT)})"
    return f"GCP service account {obj.get(EMAIL)}"


# ------------------------------------------------------------------------------------------- normalising
def from_api(item: Mapping[str, Any]) -> dict:
    """A v2 list item (``{"id", "type", "attributes", "meta"}``) or a v1 list item in the stored shape (no id)."""
    if "attributes" in item:
        raw = item.get("attributes")
        obj = copy.deepcopy(dict(raw)) if isinstance(raw, Mapping) else {}
        obj.pop(PROJECT, None)
    else:
        obj = {k: copy.deepcopy(v) for k, v in item.items() if k not in DROPPED_V1}
        if isinstance(obj.get("host_filters"), str):
            obj["host_filters"] = split(obj["host_filters"])
    obj = {k: v for k, v in obj.items() if k not in LOCAL_FIELDS}
    return ordered({"name": SUBTYPE, **normalize(obj)})


def is_listed_sts_in_v1(item: Mapping[str, Any]) -> bool:
    """The v1 list shows STS accounts too, with an empty ``project_id`` (datadog-api-client-python cassette
    test_list_all_gcp_integrations_returns_ok_response): those are read from the v2 list only."""
    return not item.get(PROJECT)


def split(value: str) -> list[str]:
    """v1 ``host_filters`` is one comma-separated string (``"foo:bar,buzz:lightyear"``)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def normalize(obj: Mapping[str, Any]) -> dict:
    """A copy in canonical form: ``null`` lists are ``[]``, unordered lists sorted. Values of an unexpected type are
    left untouched (a schema check reports them)."""
    out = copy.deepcopy(dict(obj))
    for name in STRING_LISTS:
        if name in out:
            out[name] = _sorted_strings(out[name])
    if MRC in out:
        out[MRC] = _sorted_items(out[MRC], "type")
    if MNC in out:
        out[MNC] = _sorted_items(out[MNC], "id")
    return out


def _sorted_strings(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted(value)
    return value


def _sorted_items(value: Any, name: str) -> Any:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return value
    items = [{**item, "filters": _sorted_strings(item["filters"])} if "filters" in item else item for item in value]
    return sorted(items, key=lambda item: (str(item.get(name)), json.dumps(item, sort_keys=True, default=str)))


def ordered(obj: Mapping[str, Any]) -> dict:
    """Stored objects read the same in every state file: name and identity first, the attributes by name."""
    head = [k for k in ("name", EMAIL, PROJECT) if k in obj]
    tail = [k for k in (CONFIG_ID,) if k in obj]
    middle = sorted(k for k in obj if k not in head and k not in tail)
    return {k: obj[k] for k in [*head, *middle, *tail]}


# -------------------------------------------------------------------------------------------- comparing
def owned(obj: Mapping[str, Any]) -> dict:
    """What a write sends: the attributes, without what the tool adds, and without the deprecated filter lists when
    ``monitored_resource_configs`` is there (they mirror it; the API lets it win when both are sent)."""
    out = {k: v for k, v in normalize(obj).items() if k not in LOCAL_FIELDS}
    if MRC in out:
        for name in MIRRORS:
            out.pop(name, None)
    return out


def comparable(current: Mapping[str, Any], desired: Mapping[str, Any]) -> tuple[dict, dict]:
    """``(current, desired)`` as diffs compare them: only what the source owns, and only fields the destination
    lists (a field one org's API has and another's not yet is not drift). Server defaults the source never set are
    not owned; the injected ``prometheus`` entry is not drift when the source has none; the deprecated filter lists
    are compared only when the source has no ``monitored_resource_configs``. ``project_id`` always compares: it
    tells a key account from an STS one."""
    want = owned(desired)
    full = normalize(current)
    have: dict[str, Any] = {}
    for key in want:
        if key in full and not (key in MIRRORS and MRC in want):
            have[key] = full[key]
    if PROJECT in full:
        have[PROJECT] = full[PROJECT]
    want = {k: v for k, v in want.items() if k in have or k == PROJECT}
    if isinstance(have.get(MNC), list) and isinstance(want.get(MNC), list):
        if not any(isinstance(i, dict) and i.get("id") == PROMETHEUS["id"] for i in want[MNC]):
            have[MNC] = [i for i in have[MNC] if i != PROMETHEUS]
    return have, want


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    have, want = comparable(current, desired)
    return compute_diff(have, want)


def kind_switch(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """STS <-> key account, or a key account moved to another project: the APIs cannot change either in place (v1
    PUT: "project_id and client_email cannot be changed"), so the account is deleted and created again."""
    return is_key_account(current) != is_key_account(desired) or (
        is_key_account(desired) and current.get(PROJECT) != desired.get(PROJECT)
    )


# --------------------------------------------------------------------------------------------- payloads
def sts_create_payload(obj: Mapping[str, Any]) -> dict:
    """Body of ``POST /api/v2/integration/gcp/accounts`` (``GCPSTSServiceAccountCreateRequest``)."""
    return {"data": {"type": "gcp_service_account", "attributes": owned(obj)}}


def sts_update_payload(obj: Mapping[str, Any], current: Mapping[str, Any]) -> dict:
    """Body of ``PATCH .../accounts/{id}`` (``GCPSTSServiceAccountUpdateRequest``): everything the source owns. The
    API keeps the keys a PATCH leaves out and replaces the lists it sends (TF cassette
    TestAccIntGcpStsMetricNamespaceConfigs), so the injected ``prometheus`` entry the diff ignores is sent back as
    the destination has it: sync changes exactly what diffs shows."""
    attributes = owned(obj)
    have = normalize(current).get(MNC)
    if isinstance(attributes.get(MNC), list) and isinstance(have, list) and PROMETHEUS in have:
        if not any(isinstance(i, dict) and i.get("id") == PROMETHEUS["id"] for i in attributes[MNC]):
            attributes[MNC] = _sorted_items([*attributes[MNC], dict(PROMETHEUS)], "id")
    data: dict[str, Any] = {"type": "gcp_service_account", "attributes": attributes}
    if current.get(CONFIG_ID):
        data["id"] = current[CONFIG_ID]
    return {"data": data}


def _v1_body(obj: Mapping[str, Any]) -> dict:
    body = owned(obj)
    if isinstance(body.get("host_filters"), list):
        body["host_filters"] = ",".join(body["host_filters"])
    return body


def v1_create_payload(obj: Mapping[str, Any], key: Mapping[str, Any]) -> dict:
    """Body of ``POST /api/v1/integration/gcp`` (``GCPAccount``): the settings plus the JSON key's fields."""
    return {**{k: key[k] for k in KEY_FIELDS if key.get(k) is not None}, **_v1_body(obj)}


def v1_update_payload(obj: Mapping[str, Any]) -> dict:
    """Body of ``PUT /api/v1/integration/gcp``: ``project_id`` + ``client_email`` name the account, the fields left
    out keep their values (the key among them)."""
    return _v1_body(obj)


def v1_delete_payload(obj: Mapping[str, Any]) -> dict:
    return {EMAIL: obj.get(EMAIL), PROJECT: obj.get(PROJECT)}


# ------------------------------------------------------------------------------------------------ checks
def problems(key: str, obj: Mapping[str, Any]) -> list[str]:
    """What is wrong with a stored object: a known field of the wrong type, a missing identity, an entry stored
    under another account's key. Unknown fields are allowed."""
    found = schema_problems(obj, SCHEMA)
    if found or not isinstance(obj, Mapping):
        return found
    if not obj.get(EMAIL):
        return [f"{EMAIL}: missing"]
    if key != state_key(obj):
        return [f"{EMAIL}: the entry is stored under {key}, but its {EMAIL} makes it {state_key(obj)}"]
    return []

"""The stored shape of one Microsoft Teams notification handle, its comparison and the payloads built from it.

Pure: no HTTP here. Two kinds of handle share one name space (https://docs.datadoghq.com/api/latest/microsoft-teams-integration/):

* a **Workflows webhook handle** posts to a Power Automate Workflows URL, which the API never returns: it comes from
  the secrets file, ``{"ms_teams": {"<handle name>": "<workflow url>"}}``::

      {"name": "ms_teams", "handle_name": "ops-wf", "handle_type": "workflows"}

* a **tenant-based handle** posts to a channel of a team of a Microsoft tenant connected in the Datadog UI. It is
  stored by names, as terraform-provider-datadog's ``datadog_integration_ms_teams_tenant_based_handle`` keeps it, and
  the Microsoft ids are looked up by name in the destination (GetChannelByName) when it is written::

      {"name": "ms_teams", "handle_name": "ops", "handle_type": "tenant",
       "tenant_name": "Example, Inc.", "team_name": "Operations", "channel_name": "Alerts"}

The identity is the handle name (the Datadog ids differ per org), the state key ``ms_teams:<handle name>``; monitors
notify a handle with ``@teams-<handle name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.resources.schema import schema_problems

RESOURCE_TYPE = "integrations"
SUBTYPE = "ms_teams"
HANDLE = "handle_name"
KIND = "handle_type"
WORKFLOWS, TENANT = "workflows", "tenant"
#: JSON:API types of the write bodies.
JSON_TYPES = {WORKFLOWS: "workflows-webhook-handle", TENANT: "tenant-based-handle"}
NAMES = ("tenant_name", "team_name", "channel_name")
IDS = ("tenant_id", "team_id", "channel_id")
URL = "url"
SCHEMA: dict[str, Any] = {"name": str, HANDLE: str, KIND: str, **dict.fromkeys(NAMES, str)}


def handle_name(obj: Mapping[str, Any]) -> str:
    return str(obj.get(HANDLE) or "")


def kind(obj: Mapping[str, Any]) -> str:
    return str(obj.get(KIND) or "")


def state_key(obj: Mapping[str, Any]) -> str:
    return f"{SUBTYPE}:{handle_name(obj)}"


def label(obj: Mapping[str, Any]) -> str:
    what = "Workflows webhook handle" if kind(obj) == WORKFLOWS else "tenant-based handle"
    return f"Microsoft Teams {what} {handle_name(obj)}"


def handle(obj: Mapping[str, Any]) -> str:
    return f"@teams-{handle_name(obj)}"


def where(obj: Mapping[str, Any]) -> str:
    tenant, team, channel = (str(obj.get(n) or "") for n in NAMES)
    return f'channel "{channel}" of team "{team}" of tenant "{tenant}"'


# ------------------------------------------------------------------------------------------- normalising
def from_api(item: Mapping[str, Any]) -> dict:
    """A listed handle (a JSON:API item of either listing) in the stored shape: never the per-org id, never ids of
    Microsoft objects (their names say the same), never the url (not returned anyway)."""
    given = item.get("attributes")
    attrs: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    tenant = str(item.get("type") or "").startswith("ms-teams-tenant") or any(k in attrs for k in IDS)
    obj: dict[str, Any] = {"name": SUBTYPE, HANDLE: str(attrs.get("name") or ""), KIND: TENANT if tenant else WORKFLOWS}
    if tenant:
        obj.update({n: str(attrs.get(n) or "") for n in NAMES})
    return obj


def ordered(obj: Mapping[str, Any]) -> dict:
    head = [k for k in ("name", HANDLE, KIND) if k in obj]
    return {k: obj[k] for k in [*head, *sorted(k for k in obj if k not in head)]}


def owned(obj: Mapping[str, Any]) -> dict:
    return {k: v for k, v in obj.items() if k not in ("name", HANDLE, URL)}


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    """The kind and, for a tenant-based handle, the channel by names. A Workflows URL is never returned, so a
    changed URL cannot show: the secrets file's URL is sent only when the handle is created."""
    return compute_diff(owned(current), owned(desired))


# --------------------------------------------------------------------------------------------- payloads
def workflows_payload(obj: Mapping[str, Any], url: str | None) -> dict:
    """``WorkflowsWebhookHandleRequest`` (create) / ``WorkflowsWebhookHandleUpdateRequest`` (update, no url)."""
    attrs = {"name": handle_name(obj), **({URL: url} if url else {})}
    return {"data": {"type": JSON_TYPES[WORKFLOWS], "attributes": attrs}}


def tenant_payload(obj: Mapping[str, Any], ids: Mapping[str, str]) -> dict:
    """``TenantBasedHandleRequest`` / ``TenantBasedHandleUpdateRequest``: the name and the channel's Microsoft ids."""
    attrs = {"name": handle_name(obj), **{k: ids[k] for k in IDS}}
    return {"data": {"type": JSON_TYPES[TENANT], "attributes": attrs}}


def channel_ids(body: Any) -> dict[str, str] | None:
    """The ids of a GetChannelByName answer (``ms-teams-channel-info``); None when it has none."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(data.get("attributes"), Mapping):
        return None
    attrs = data["attributes"]
    ids = {"tenant_id": attrs.get("tenant_id"), "team_id": attrs.get("team_id"), "channel_id": data.get("id")}
    return {k: str(v) for k, v in ids.items()} if all(ids.values()) else None


# ------------------------------------------------------------------------------------------------ checks
def problems(key: str, obj: Any) -> list[str]:
    found = schema_problems(obj, SCHEMA)
    if found:
        return found
    if obj.get(URL) is not None:
        return [f"{URL}: never kept in state files: give it in the integrations secrets file"]
    if not handle_name(obj):
        return [f"{HANDLE}: needed"]
    if kind(obj) not in (WORKFLOWS, TENANT):
        return [f'{KIND}: "{WORKFLOWS}" or "{TENANT}", not "{kind(obj)}"']
    if kind(obj) == TENANT and not all(obj.get(n) for n in NAMES):
        return [f"{', '.join(NAMES)}: a tenant-based handle needs all three"]
    if key != state_key(obj):
        return [f"{HANDLE}: the entry is stored under {key}, but its name makes it {state_key(obj)}"]
    return []

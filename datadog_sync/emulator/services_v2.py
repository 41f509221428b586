"""v2 notification-integration APIs: Opsgenie services and Microsoft Teams handles (tenant-based and Workflows).

Recorded behaviours (datadog-api-client-python `tests/v2/cassettes/test_scenarios/`, terraform-provider-datadog
`datadog/tests/cassettes/`): Opsgenie answers `custom_url: null` when unset and `404 "Service not found."` once deleted
(`test_delete_a_single_service_object_returns_ok_response`); a Workflows handle never shows its `url`, and a second
DELETE answers 204 again (`test_delete_workflow_webhook_handle_returns_ok_response`); a tenant-based handle's single
GET shows ids only while the list (type `ms-teams-tenant-based-handle-info`) adds tenant/team/channel names, and
GetChannelByName resolves names to Microsoft ids (`TestAccMSTeamsTenantBasedHandlesBasic`). Opsgenie permissions are
the spec's `x-permission`s (https://docs.datadoghq.com/api/latest/opsgenie-integration/); the Teams operations
declare none, so the emulator asks `integrations_read` / `manage_integrations` like the other integrations (a choice,
docs/emulator.md). The tenant connection is a UI step: it is seeded (`ms_teams_tenants`), never created by the API.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from datadog_sync.emulator.common import ApiError, endpoint, ok
from datadog_sync.emulator.permissions import INTEGRATIONS_READ, MANAGE_INTEGRATIONS
from datadog_sync.emulator.services_common import (
    attributes,
    collection_routes,
    item_of,
    new_uuid,
    resource,
    store_of,
    unique,
)
from datadog_sync.emulator.services_model import ServiceIntegrations

OPSGENIE = "/api/v2/integration/opsgenie/services"
TEAMS = "/api/v2/integration/ms-teams/configuration"
REGIONS = ("us", "eu", "custom")


# --- Opsgenie ---------------------------------------------------------------------------------------------------


def _opsgenie_view(service: dict[str, Any]) -> dict[str, Any]:
    attrs = {"name": service["name"], "region": service["region"], "custom_url": service.get("custom_url")}
    return resource("opsgenie-service", service["id"], attrs)


def _service(request: web.Request) -> dict[str, Any]:
    # test_delete_a_single_service_object_returns_ok_response #2
    return item_of(store_of(request).opsgenie, request, "Service not found.")


def _opsgenie_fields(attrs: dict[str, Any], service: dict[str, Any]) -> None:
    if "region" in attrs:
        if attrs["region"] not in REGIONS:
            raise ApiError(400, f"Invalid region {attrs['region']!r}: expected one of {list(REGIONS)}")  # assumed
        service["region"] = attrs["region"]
    for key in ("name", "opsgenie_api_key", "custom_url"):
        if key in attrs:
            service[key] = attrs[key]


@endpoint(permission=INTEGRATIONS_READ)
async def list_opsgenie(request: web.Request) -> web.Response:
    return ok({"data": [_opsgenie_view(s) for s in store_of(request).opsgenie]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_opsgenie(request: web.Request) -> web.Response:
    store = store_of(request)
    attrs, _ = await attributes(request, "opsgenie-service", ("name", "opsgenie_api_key", "region"))
    if store.by_name(store.opsgenie, attrs["name"]):
        raise ApiError(409, "A service with this name already exists.")  # 409 is in the spec; wording assumed
    service: dict[str, Any] = {"id": new_uuid(request), "custom_url": None}
    _opsgenie_fields(attrs, service)
    store.opsgenie.append(service)
    return ok({"data": _opsgenie_view(service)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_opsgenie(request: web.Request) -> web.Response:
    return ok({"data": _opsgenie_view(_service(request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_opsgenie(request: web.Request) -> web.Response:
    store, service = store_of(request), _service(request)
    attrs, body_id = await attributes(request, "opsgenie-service")
    if body_id != service["id"]:
        raise ApiError(400, "Invalid request: 'data.id' must be the service id")  # required by the spec; assumed
    name = attrs.get("name")
    if name and name != service["name"] and store.by_name(store.opsgenie, name):
        raise ApiError(409, "A service with this name already exists.")  # assumed wording
    _opsgenie_fields(attrs, service)
    return ok({"data": _opsgenie_view(service)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_opsgenie(request: web.Request) -> web.Response:
    store_of(request).opsgenie.remove(_service(request))
    return web.Response(status=204)


# --- Microsoft Teams: tenant-based handles --------------------------------------------------------------------------

IDS = ("tenant_id", "team_id", "channel_id")


def _tenant_view(handle: dict[str, Any]) -> dict[str, Any]:
    return resource("tenant-based-handle", handle["id"], {k: handle[k] for k in ("name", *IDS)})


def _tenant_handle(request: web.Request) -> dict[str, Any]:
    return item_of(store_of(request).tenant_handles, request, "Handle not found")  # assumed wording


def _check_channel(store: ServiceIntegrations, handle: dict[str, Any]) -> None:
    if not any(t["tenant_id"] == handle["tenant_id"] for t in store.ms_teams_tenants):
        # 412 is among the spec's codes; the tenant must be connected in the UI first (wording assumed)
        raise ApiError(412, f"Tenant {handle['tenant_id']} is not connected")
    if store.tenant_names(handle["tenant_id"], handle["team_id"], handle["channel_id"]) is None:
        raise ApiError(404, "Team or channel not found in tenant")  # assumed wording


def _unique(store: ServiceIntegrations, name: str, current: dict[str, Any] | None = None) -> None:
    groups = (store.tenant_handles, store.workflows_handles)
    unique(groups, name, f"A handle named {name} already exists", current)  # 409 is in the spec; wording assumed


@endpoint(permission=INTEGRATIONS_READ)
async def list_tenant_handles(request: web.Request) -> web.Response:
    store = store_of(request)
    handles = store.tenant_handles
    for key in ("tenant_id", "name"):
        if request.query.get(key):
            handles = [h for h in handles if h[key] == request.query[key]]
    out = []
    for h in handles:
        names = store.tenant_names(h["tenant_id"], h["team_id"], h["channel_id"]) or {
            "tenant_name": "",
            "team_name": "",
            "channel_name": "",
        }
        out.append(resource("ms-teams-tenant-based-handle-info", h["id"], {**_tenant_view(h)["attributes"], **names}))
    return ok({"data": out})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_tenant_handle(request: web.Request) -> web.Response:
    store = store_of(request)
    attrs, _ = await attributes(request, "tenant-based-handle", ("name", *IDS))
    handle = {"id": new_uuid(request), **{k: attrs[k] for k in ("name", *IDS)}}
    _check_channel(store, handle)
    _unique(store, handle["name"])
    store.tenant_handles.append(handle)
    return ok({"data": _tenant_view(handle)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_tenant_handle(request: web.Request) -> web.Response:
    return ok({"data": _tenant_view(_tenant_handle(request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_tenant_handle(request: web.Request) -> web.Response:
    store, handle = store_of(request), _tenant_handle(request)
    attrs, _ = await attributes(request, "tenant-based-handle")
    updated = {**handle, **{k: attrs[k] for k in ("name", *IDS) if isinstance(attrs.get(k), str) and attrs[k]}}
    _check_channel(store, updated)
    _unique(store, updated["name"], handle)
    handle.update(updated)
    return ok({"data": _tenant_view(handle)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_tenant_handle(request: web.Request) -> web.Response:
    store = store_of(request)
    handle = store.by_id(store.tenant_handles, request.match_info["id"])
    if handle is not None:  # the spec declares no 404 for this DELETE
        store.tenant_handles.remove(handle)
    return web.Response(status=204)


@endpoint(permission=INTEGRATIONS_READ)
async def get_channel_by_name(request: web.Request) -> web.Response:
    store, m = store_of(request), request.match_info
    for tenant in store.ms_teams_tenants:
        if tenant.get("tenant_name") != m["tenant"]:
            continue
        for team in tenant.get("teams", []):
            if team.get("team_name") != m["team"]:
                continue
            for channel in team.get("channels", []):
                if channel.get("channel_name") == m["channel"]:
                    attrs = {
                        "is_primary": bool(channel.get("is_primary", False)),
                        "team_id": team["team_id"],
                        "tenant_id": tenant["tenant_id"],
                    }
                    return ok({"data": resource("ms-teams-channel-info", channel["channel_id"], attrs)})
    raise ApiError(404, "Channel not found")  # assumed wording


# --- Microsoft Teams: Workflows webhook handles ---------------------------------------------------------------------


def _workflows_view(handle: dict[str, Any]) -> dict[str, Any]:
    return resource("workflows-webhook-handle", handle["id"], {"name": handle["name"]})  # the url never comes back


def _workflows_handle(request: web.Request) -> dict[str, Any]:
    return item_of(store_of(request).workflows_handles, request, "Handle not found")  # assumed wording


@endpoint(permission=INTEGRATIONS_READ)
async def list_workflows_handles(request: web.Request) -> web.Response:
    handles = store_of(request).workflows_handles
    if request.query.get("name"):
        handles = [h for h in handles if h["name"] == request.query["name"]]
    return ok({"data": [_workflows_view(h) for h in handles]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_workflows_handle(request: web.Request) -> web.Response:
    store = store_of(request)
    attrs, _ = await attributes(request, "workflows-webhook-handle", ("name", "url"))
    _unique(store, attrs["name"])
    handle = {"id": new_uuid(request), "name": attrs["name"], "url": attrs["url"]}
    store.workflows_handles.append(handle)
    return ok({"data": _workflows_view(handle)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_workflows_handle(request: web.Request) -> web.Response:
    return ok({"data": _workflows_view(_workflows_handle(request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_workflows_handle(request: web.Request) -> web.Response:
    store, handle = store_of(request), _workflows_handle(request)
    attrs, _ = await attributes(request, "workflows-webhook-handle")
    if isinstance(attrs.get("name"), str) and attrs["name"]:
        _unique(store, attrs["name"], handle)
        handle["name"] = attrs["name"]
    if isinstance(attrs.get("url"), str) and attrs["url"]:
        handle["url"] = attrs["url"]
    return ok({"data": _workflows_view(handle)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_workflows_handle(request: web.Request) -> web.Response:
    store = store_of(request)
    handle = store.by_id(store.workflows_handles, request.match_info["id"])
    if handle is not None:
        store.workflows_handles.remove(handle)
    return web.Response(status=204)  # 204 again for an absent id (recorded)


def add_routes(app: web.Application) -> None:
    opsgenie = (list_opsgenie, create_opsgenie, get_opsgenie, update_opsgenie, delete_opsgenie)
    tenant = (list_tenant_handles, create_tenant_handle, get_tenant_handle, update_tenant_handle, delete_tenant_handle)
    workflows = (
        list_workflows_handles,
        create_workflows_handle,
        get_workflows_handle,
        update_workflows_handle,
        delete_workflows_handle,
    )
    app.router.add_routes(
        collection_routes(OPSGENIE, opsgenie)
        + [web.get(f"{TEAMS}/channel/{{tenant}}/{{team}}/{{channel}}", get_channel_by_name, allow_head=False)]
        + collection_routes(f"{TEAMS}/tenant-based-handles", tenant)
        + collection_routes(f"{TEAMS}/workflows-webhook-handles", workflows)
    )

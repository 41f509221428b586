"""v2 account-based integrations, part two: Confluent Cloud (accounts and resources) and Okta, under
`/api/v2/integrations/...`.

Recorded behaviours (datadog-api-client-python `tests/v2/cassettes/test_scenarios/`, terraform-provider-datadog
`datadog/tests/cassettes/`): Confluent lower-cases resource tags sent to the resources endpoint
(`test_add_resource_to_confluent_account_returns_ok_response`), adds `enable_custom_metrics: false` since 2023
(`test_get_confluent_account_returns_ok_response`; the 2022 `test_list_confluent_accounts_returns_ok_response` has
none), needs `api_key` and `api_secret` on every PATCH, keeps resources on an account PATCH, and a second DELETE
answers `404 "Account not found not found"` (sic); Okta ignores a client `data.id`, never shows secrets and answers a
PATCH with a NEW id, after which the old id's DELETE is `400 "Unknown error occurred: "`
(`test_update_okta_account_returns_ok_response`). Permissions are the spec's `x-permission`s
(https://docs.datadoghq.com/api/latest/confluent-cloud/ and https://docs.datadoghq.com/api/latest/okta-integration/).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from datadog_sync.emulator.common import ApiError, core_of, endpoint
from datadog_sync.emulator.permissions import INTEGRATIONS_READ, MANAGE_INTEGRATIONS
from datadog_sync.emulator.services_accounts import BASE, account_of, duplicate, strings
from datadog_sync.emulator.services_common import attributes, collection_routes, item_of, new_uuid, resource, store_of
from datadog_sync.emulator.services_model import ServiceIntegrations

CONFLUENT_TYPES = ("kafka", "connector", "ksql", "schema_registry")


# --- Confluent Cloud ----------------------------------------------------------------------------------------------

CONFLUENT_GONE = "Account not found not found"  # sic, test_delete_confluent_account_returns_ok_response #2


def _confluent_resource_attrs(store: ServiceIntegrations, res: dict[str, Any]) -> dict[str, Any]:
    attrs = {"resource_type": res["resource_type"], "tags": list(res["tags"])}
    if (store.api_date or "9999") >= "2023":  # the 2022 recordings show no enable_custom_metrics
        attrs["enable_custom_metrics"] = res.get("enable_custom_metrics", False)
    return attrs


def _confluent_view(store: ServiceIntegrations, account: dict[str, Any]) -> dict[str, Any]:
    resources = [{"id": r["id"], **_confluent_resource_attrs(store, r)} for r in account["resources"]]
    attrs = {"api_key": account["api_key"], "tags": list(account["tags"]), "resources": resources}
    return resource("confluent-cloud-accounts", account["id"], attrs)


def _confluent_resource(attrs: dict[str, Any], resource_id: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    res = dict(base or {"enable_custom_metrics": False, "tags": []})
    if not isinstance(resource_id, str) or not resource_id:
        raise ApiError(400, "Invalid request: the Confluent resource id is required")  # assumed
    res["id"] = resource_id
    if "resource_type" in attrs or base is None:
        if attrs.get("resource_type") not in CONFLUENT_TYPES:
            raise ApiError(400, f"Invalid resource_type: expected one of {list(CONFLUENT_TYPES)}")  # assumed
        res["resource_type"] = attrs["resource_type"]
    if "tags" in attrs:
        res["tags"] = [t.lower() for t in strings(attrs, "tags")]  # the server lower-cases resource tags
    if "enable_custom_metrics" in attrs:
        res["enable_custom_metrics"] = bool(attrs["enable_custom_metrics"])
    return res


@endpoint(permission=INTEGRATIONS_READ)
async def list_confluent(request: web.Request) -> web.Response:
    store = store_of(request)
    return web.json_response({"data": [_confluent_view(store, a) for a in store.confluent_cloud]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_confluent(request: web.Request) -> web.Response:
    store = store_of(request)
    attrs, _ = await attributes(request, "confluent-cloud-accounts", ("api_key", "api_secret"))
    duplicate(store.confluent_cloud, "api_key", attrs["api_key"])
    inline = attrs.get("resources", [])
    if not isinstance(inline, list) or not all(isinstance(r, dict) for r in inline):
        raise ApiError(400, "Invalid request: 'resources' must be a list of objects")  # assumed
    account = {
        "id": core_of(request).new_external_id(),  # "randomly generated"; 32 hex since Jul 2023
        "api_key": attrs["api_key"],
        "api_secret": attrs["api_secret"],
        "tags": strings(attrs, "tags"),
        # inline resources keep their tags as sent (test_add_resource_to_confluent_account_returns_ok_response #0)
        "resources": [{**_confluent_resource(r, r.get("id")), "tags": strings(r, "tags")} for r in inline],
    }
    store.confluent_cloud.append(account)
    return web.json_response({"data": _confluent_view(store, account)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_confluent(request: web.Request) -> web.Response:
    store = store_of(request)
    return web.json_response(
        {"data": _confluent_view(store, account_of(store.confluent_cloud, request, CONFLUENT_GONE))}
    )


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_confluent(request: web.Request) -> web.Response:
    """`api_key` and `api_secret` are required on every PATCH (UpdateConfluentAccount's schema); resources stay."""
    store = store_of(request)
    account = account_of(store.confluent_cloud, request, CONFLUENT_GONE)
    attrs, _ = await attributes(request, "confluent-cloud-accounts", ("api_key", "api_secret"))
    duplicate(store.confluent_cloud, "api_key", attrs["api_key"], account)
    account.update(api_key=attrs["api_key"], api_secret=attrs["api_secret"])
    if "tags" in attrs:
        account["tags"] = strings(attrs, "tags")
    return web.json_response({"data": _confluent_view(store, account)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_confluent(request: web.Request) -> web.Response:
    store = store_of(request)
    store.confluent_cloud.remove(account_of(store.confluent_cloud, request, CONFLUENT_GONE))
    return web.Response(status=204)


def _resource_of(account: dict[str, Any], request: web.Request) -> dict[str, Any]:
    return item_of(account["resources"], request, "Resource not found", "resource")  # assumed wording


def _resource_view(store: ServiceIntegrations, res: dict[str, Any]) -> dict[str, Any]:
    attrs = _confluent_resource_attrs(store, res)
    attrs.setdefault("enable_custom_metrics", res.get("enable_custom_metrics", False))
    return resource("confluent-cloud-resources", res["id"], attrs)


@endpoint(permission=INTEGRATIONS_READ)
async def list_confluent_resources(request: web.Request) -> web.Response:
    store = store_of(request)
    account = account_of(store.confluent_cloud, request, CONFLUENT_GONE)
    return web.json_response({"data": [_resource_view(store, r) for r in account["resources"]]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_confluent_resource(request: web.Request) -> web.Response:
    store = store_of(request)
    account = account_of(store.confluent_cloud, request, CONFLUENT_GONE)
    attrs, resource_id = await attributes(request, "confluent-cloud-resources")
    if ServiceIntegrations.by_id(account["resources"], str(resource_id)):
        raise ApiError(409, f"Resource {resource_id} already exists")  # assumed
    res = _confluent_resource(attrs, resource_id)
    account["resources"].append(res)
    return web.json_response({"data": _resource_view(store, res)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_confluent_resource(request: web.Request) -> web.Response:
    store = store_of(request)
    res = _resource_of(account_of(store.confluent_cloud, request, CONFLUENT_GONE), request)
    return web.json_response({"data": _resource_view(store, res)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_confluent_resource(request: web.Request) -> web.Response:
    store = store_of(request)
    account = account_of(store.confluent_cloud, request, CONFLUENT_GONE)
    res = _resource_of(account, request)
    attrs, _ = await attributes(request, "confluent-cloud-resources")
    updated = _confluent_resource(attrs, res["id"], res)  # the resource_type may change (recorded)
    account["resources"][account["resources"].index(res)] = updated
    return web.json_response({"data": _resource_view(store, updated)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_confluent_resource(request: web.Request) -> web.Response:
    account = account_of(store_of(request).confluent_cloud, request, CONFLUENT_GONE)
    account["resources"].remove(_resource_of(account, request))
    return web.Response(status=204)


# --- Okta ---------------------------------------------------------------------------------------------------------

OKTA_FIELDS = ("domain", "auth_method", "client_id", "client_secret", "api_key")


def _okta_view(account: dict[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {k: account[k] for k in ("name", "domain", "auth_method") if k in account}
    if account.get("client_id") is not None:
        attrs["client_id"] = account["client_id"]
    return resource("okta-accounts", account["id"], attrs)  # client_secret and api_key are writeOnly


def _okta(request: web.Request) -> dict[str, Any]:
    store = store_of(request)
    account = store.by_id(store.okta, request.match_info["id"])
    if account is None:
        if request.match_info["id"] in store.okta_retired:
            raise ApiError(400, "Unknown error occurred: ")  # the old id after a PATCH (recorded, DELETE)
        raise ApiError(404, "Account not found")  # assumed wording
    return account


@endpoint(permission=INTEGRATIONS_READ)
async def list_okta(request: web.Request) -> web.Response:
    return web.json_response({"data": [_okta_view(a) for a in store_of(request).okta]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_okta(request: web.Request) -> web.Response:
    store = store_of(request)
    attrs, _ = await attributes(request, "okta-accounts", ("name", "domain", "auth_method"))
    duplicate(store.okta, "name", attrs["name"])
    account = {"id": new_uuid(request), "name": attrs["name"]}  # a client-supplied data.id is ignored (recorded)
    account.update({k: attrs[k] for k in OKTA_FIELDS if isinstance(attrs.get(k), str)})
    store.okta.append(account)
    return web.json_response({"data": _okta_view(account)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_okta(request: web.Request) -> web.Response:
    return web.json_response({"data": _okta_view(_okta(request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_okta(request: web.Request) -> web.Response:
    """`auth_method` and `domain` are required; `name` cannot change; the answer carries a new id (recorded)."""
    store = store_of(request)
    account = _okta(request)
    attrs, _ = await attributes(request, "okta-accounts", ("domain", "auth_method"))
    account.update({k: attrs[k] for k in OKTA_FIELDS if isinstance(attrs.get(k), str)})
    store.okta_retired.add(account["id"])
    account["id"] = new_uuid(request)
    return web.json_response({"data": _okta_view(account)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_okta(request: web.Request) -> web.Response:
    store = store_of(request)
    store.okta.remove(_okta(request))
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    confluent = f"{BASE}/confluent-cloud/accounts"
    accounts = (list_confluent, create_confluent, get_confluent, update_confluent, delete_confluent)
    resources = (
        list_confluent_resources,
        create_confluent_resource,
        get_confluent_resource,
        update_confluent_resource,
        delete_confluent_resource,
    )
    okta = (list_okta, create_okta, get_okta, update_okta, delete_okta)
    app.router.add_routes(
        collection_routes(confluent, accounts)
        + collection_routes(f"{BASE}/okta/accounts", okta)
        + collection_routes(f"{confluent}/{{id}}/resources", resources, item="resource")
    )

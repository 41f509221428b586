"""v2 account-based integrations: Fastly (accounts and services), Cloudflare, Confluent Cloud (accounts and
resources) and Okta, under `/api/v2/integrations/...`.

Recorded behaviours (datadog-api-client-python `tests/v2/cassettes/test_scenarios/`, terraform-provider-datadog
`datadog/tests/cassettes/`): a Fastly PATCH with only `api_key` keeps the rest
(`test_update_fastly_account_returns_ok_response`); Cloudflare answers omitted `resources`/`zones` as `[]`, a PATCH
without `resources` resets them, every PATCH needs `api_key`, a global key needs `email`, and credentials are checked
(`test_update_cloudflare_account_returns_ok_response`, `..._due_to_missing_email`, `..._using_invalid_auth_key`);
Confluent lower-cases resource tags (`test_add_resource_to_confluent_account_returns_ok_response`), adds
`enable_custom_metrics: false` since 2023 (`test_get_confluent_account_returns_ok_response`; the 2022
`test_list_confluent_accounts_returns_ok_response` has none), needs `api_key` and `api_secret` on every PATCH, and a
second DELETE answers `404 "Account not found not found"` (sic); Okta ignores a client `data.id`, never shows secrets
and answers a PATCH with a NEW id, after which the old id's DELETE is `400 "Unknown error occurred: "`
(`test_update_okta_account_returns_ok_response`). Permissions are the spec's `x-permission`s
(https://docs.datadoghq.com/api/latest/fastly-integration/ and the Cloudflare, Confluent Cloud and Okta pages).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from aiohttp import web

from datadog_sync.emulator.common import ApiError, core_of, endpoint, org_of
from datadog_sync.emulator.permissions import INTEGRATIONS_READ, MANAGE_INTEGRATIONS
from datadog_sync.emulator.services_model import ServiceIntegrations
from datadog_sync.emulator.services_v2 import attributes, new_uuid, resource

BASE = "/api/v2/integrations"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_REQUIRED = "{'_schema': ['Email address is required if providing an api key and not an api token.']}"
CF_INVALID = "Invalid account. Your Cloudflare configuration is invalid. Impossible to get zones for the account {}: {}"
CONFLUENT_TYPES = ("kafka", "connector", "ksql", "schema_registry")


def _store(request: web.Request) -> ServiceIntegrations:
    return org_of(request).services


def _name_hash(request: web.Request, name: str) -> str:
    """Fastly and Cloudflare ids are "a hash of the account name" (spec); 32 hex as recorded in 2023-2024."""
    return hashlib.md5(f"{org_of(request).name}:{name}".encode()).hexdigest()


def _account(items: list[dict[str, Any]], request: web.Request, message: str = "Account not found") -> dict[str, Any]:
    account = ServiceIntegrations.by_id(items, request.match_info["id"])
    if account is None:
        raise ApiError(404, message)  # assumed wording unless stated
    return account


def _strings(attrs: dict[str, Any], key: str) -> list[str]:
    value = attrs.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"Invalid request: {key!r} must be a list of strings")  # assumed
    return list(value)


def _duplicate(items: list[dict[str, Any]], key: str, value: str, current: dict[str, Any] | None = None) -> None:
    other = ServiceIntegrations.by_name(items, value, key=key)
    if other is not None and other is not current:
        raise ApiError(409, f"An account with this {key} already exists")  # assumed (not recorded)


# --- Fastly -------------------------------------------------------------------------------------------------------


def _fastly_view(account: dict[str, Any]) -> dict[str, Any]:
    services = [{"id": s["id"], "tags": list(s.get("tags", []))} for s in account["services"]]
    return resource("fastly-accounts", account["id"], {"name": account["name"], "services": services})


def _fastly_services(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    services = attrs.get("services", [])
    if not isinstance(services, list) or not all(isinstance(s, dict) and isinstance(s.get("id"), str) for s in services):
        raise ApiError(400, "Invalid request: 'services' must be a list of objects with an id")  # assumed
    return [{"id": s["id"], "tags": _strings(s, "tags")} for s in services]


@endpoint(permission=INTEGRATIONS_READ)
async def list_fastly(request: web.Request) -> web.Response:
    return web.json_response({"data": [_fastly_view(a) for a in _store(request).fastly]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_fastly(request: web.Request) -> web.Response:
    store = _store(request)
    attrs, _ = await attributes(request, "fastly-accounts", ("name", "api_key"))
    _duplicate(store.fastly, "name", attrs["name"])
    account = {"id": _name_hash(request, attrs["name"]), "name": attrs["name"], "api_key": attrs["api_key"]}
    account["services"] = _fastly_services(attrs)
    store.fastly.append(account)
    return web.json_response({"data": _fastly_view(account)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_fastly(request: web.Request) -> web.Response:
    return web.json_response({"data": _fastly_view(_account(_store(request).fastly, request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_fastly(request: web.Request) -> web.Response:
    store = _store(request)
    account = _account(store.fastly, request)
    attrs, _ = await attributes(request, "fastly-accounts")
    if isinstance(attrs.get("name"), str) and attrs["name"]:
        _duplicate(store.fastly, "name", attrs["name"], account)
        account["name"] = attrs["name"]
    if isinstance(attrs.get("api_key"), str) and attrs["api_key"]:
        account["api_key"] = attrs["api_key"]
    return web.json_response({"data": _fastly_view(account)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_fastly(request: web.Request) -> web.Response:
    store = _store(request)
    store.fastly.remove(_account(store.fastly, request))
    return web.Response(status=204)


def _fastly_service(account: dict[str, Any], request: web.Request) -> dict[str, Any]:
    service = ServiceIntegrations.by_id(account["services"], request.match_info["service"])
    if service is None:
        raise ApiError(404, "Service not found")  # assumed wording
    return service


def _service_view(service: dict[str, Any]) -> dict[str, Any]:
    return resource("fastly-services", service["id"], {"tags": list(service.get("tags", []))})


@endpoint(permission=INTEGRATIONS_READ)
async def list_fastly_services(request: web.Request) -> web.Response:
    account = _account(_store(request).fastly, request)
    return web.json_response({"data": [_service_view(s) for s in account["services"]]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_fastly_service(request: web.Request) -> web.Response:
    account = _account(_store(request).fastly, request)
    attrs, service_id = await attributes(request, "fastly-services")
    if not isinstance(service_id, str) or not service_id:
        raise ApiError(400, "Invalid request: 'data.id' (the Fastly service id) is required")  # assumed
    if ServiceIntegrations.by_id(account["services"], service_id):
        raise ApiError(409, f"Service {service_id} already exists")  # assumed
    service = {"id": service_id, "tags": _strings(attrs, "tags")}
    account["services"].append(service)
    return web.json_response({"data": _service_view(service)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_fastly_service(request: web.Request) -> web.Response:
    account = _account(_store(request).fastly, request)
    return web.json_response({"data": _service_view(_fastly_service(account, request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_fastly_service(request: web.Request) -> web.Response:
    service = _fastly_service(_account(_store(request).fastly, request), request)
    attrs, _ = await attributes(request, "fastly-services")
    if "tags" in attrs:
        service["tags"] = _strings(attrs, "tags")
    return web.json_response({"data": _service_view(service)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_fastly_service(request: web.Request) -> web.Response:
    account = _account(_store(request).fastly, request)
    account["services"].remove(_fastly_service(account, request))
    return web.Response(status=204)


# --- Cloudflare ---------------------------------------------------------------------------------------------------


def _cloudflare_view(account: dict[str, Any]) -> dict[str, Any]:
    attrs = {k: account[k] for k in ("name", "email", "resources", "zones")}
    return resource("cloudflare-accounts", account["id"], attrs)


def _check_credentials(name: str, attrs: dict[str, Any]) -> None:
    """A 40-character key is an API token (no email needed), anything else a global key (email required). Datadog
    checks credentials against Cloudflare; the emulator treats a token of one repeated character as unknown (the
    recorded `aaaa...`) and an email without a domain as malformed (the recorded `new@email`)."""
    key, email = attrs["api_key"], attrs.get("email")
    if email is not None and (not isinstance(email, str) or not EMAIL.match(email)):
        raise ApiError(400, CF_INVALID.format(name, "API key or email is not in the correct format."))
    if len(key) == 40 and len(set(key)) == 1:
        raise ApiError(400, CF_INVALID.format(name, "API key or email is unknown."))
    if len(key) != 40 and not email:
        raise ApiError(400, EMAIL_REQUIRED)


@endpoint(permission=INTEGRATIONS_READ)
async def list_cloudflare(request: web.Request) -> web.Response:
    return web.json_response({"data": [_cloudflare_view(a) for a in _store(request).cloudflare]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_cloudflare(request: web.Request) -> web.Response:
    store = _store(request)
    attrs, _ = await attributes(request, "cloudflare-accounts", ("name", "api_key"))
    _check_credentials(attrs["name"], attrs)
    _duplicate(store.cloudflare, "name", attrs["name"])
    account = {
        "id": _name_hash(request, attrs["name"]),
        "name": attrs["name"],
        "api_key": attrs["api_key"],
        "email": attrs.get("email") or "",  # token accounts list with "email": "" (recorded)
        "resources": _strings(attrs, "resources"),
        "zones": _strings(attrs, "zones"),
    }
    store.cloudflare.append(account)
    return web.json_response({"data": _cloudflare_view(account)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_cloudflare(request: web.Request) -> web.Response:
    return web.json_response({"data": _cloudflare_view(_account(_store(request).cloudflare, request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_cloudflare(request: web.Request) -> web.Response:
    """`api_key` is required on every PATCH; omitted `resources` become [] (recorded); omitted `zones` are kept
    (not recorded either way)."""
    store = _store(request)
    account = _account(store.cloudflare, request)
    attrs, _ = await attributes(request, "cloudflare-accounts", ("api_key",))
    name = attrs.get("name") or account["name"]
    _check_credentials(account["name"], attrs)
    _duplicate(store.cloudflare, "name", name, account)
    account.update(name=name, api_key=attrs["api_key"], resources=_strings(attrs, "resources"))
    if "email" in attrs:
        account["email"] = attrs["email"] or ""
    if "zones" in attrs:
        account["zones"] = _strings(attrs, "zones")
    return web.json_response({"data": _cloudflare_view(account)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_cloudflare(request: web.Request) -> web.Response:
    store = _store(request)
    store.cloudflare.remove(_account(store.cloudflare, request))
    return web.Response(status=204)


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
        res["tags"] = [t.lower() for t in _strings(attrs, "tags")]  # the server lower-cases resource tags
    if "enable_custom_metrics" in attrs:
        res["enable_custom_metrics"] = bool(attrs["enable_custom_metrics"])
    return res


@endpoint(permission=INTEGRATIONS_READ)
async def list_confluent(request: web.Request) -> web.Response:
    store = _store(request)
    return web.json_response({"data": [_confluent_view(store, a) for a in store.confluent_cloud]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_confluent(request: web.Request) -> web.Response:
    store = _store(request)
    attrs, _ = await attributes(request, "confluent-cloud-accounts", ("api_key", "api_secret"))
    _duplicate(store.confluent_cloud, "api_key", attrs["api_key"])
    inline = attrs.get("resources", [])
    if not isinstance(inline, list) or not all(isinstance(r, dict) for r in inline):
        raise ApiError(400, "Invalid request: 'resources' must be a list of objects")  # assumed
    account = {
        "id": core_of(request).new_external_id(),  # "randomly generated"; 32 hex since Jul 2023
        "api_key": attrs["api_key"],
        "api_secret": attrs["api_secret"],
        "tags": _strings(attrs, "tags"),
        # inline resources keep their tags as sent (test_add_resource_to_confluent_account_returns_ok_response #0)
        "resources": [{**_confluent_resource(r, r.get("id")), "tags": _strings(r, "tags")} for r in inline],
    }
    store.confluent_cloud.append(account)
    return web.json_response({"data": _confluent_view(store, account)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_confluent(request: web.Request) -> web.Response:
    store = _store(request)
    return web.json_response({"data": _confluent_view(store, _account(store.confluent_cloud, request, CONFLUENT_GONE))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_confluent(request: web.Request) -> web.Response:
    """`api_key` and `api_secret` are required on every PATCH (UpdateConfluentAccount's schema); resources stay."""
    store = _store(request)
    account = _account(store.confluent_cloud, request, CONFLUENT_GONE)
    attrs, _ = await attributes(request, "confluent-cloud-accounts", ("api_key", "api_secret"))
    _duplicate(store.confluent_cloud, "api_key", attrs["api_key"], account)
    account.update(api_key=attrs["api_key"], api_secret=attrs["api_secret"])
    if "tags" in attrs:
        account["tags"] = _strings(attrs, "tags")
    return web.json_response({"data": _confluent_view(store, account)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_confluent(request: web.Request) -> web.Response:
    store = _store(request)
    store.confluent_cloud.remove(_account(store.confluent_cloud, request, CONFLUENT_GONE))
    return web.Response(status=204)


def _resource_of(account: dict[str, Any], request: web.Request) -> dict[str, Any]:
    res = ServiceIntegrations.by_id(account["resources"], request.match_info["resource"])
    if res is None:
        raise ApiError(404, "Resource not found")  # assumed wording
    return res


def _resource_view(store: ServiceIntegrations, res: dict[str, Any]) -> dict[str, Any]:
    attrs = _confluent_resource_attrs(store, res)
    attrs.setdefault("enable_custom_metrics", res.get("enable_custom_metrics", False))
    return resource("confluent-cloud-resources", res["id"], attrs)


@endpoint(permission=INTEGRATIONS_READ)
async def list_confluent_resources(request: web.Request) -> web.Response:
    store = _store(request)
    account = _account(store.confluent_cloud, request, CONFLUENT_GONE)
    return web.json_response({"data": [_resource_view(store, r) for r in account["resources"]]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_confluent_resource(request: web.Request) -> web.Response:
    store = _store(request)
    account = _account(store.confluent_cloud, request, CONFLUENT_GONE)
    attrs, resource_id = await attributes(request, "confluent-cloud-resources")
    if ServiceIntegrations.by_id(account["resources"], str(resource_id)):
        raise ApiError(409, f"Resource {resource_id} already exists")  # assumed
    res = _confluent_resource(attrs, resource_id)
    account["resources"].append(res)
    return web.json_response({"data": _resource_view(store, res)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_confluent_resource(request: web.Request) -> web.Response:
    store = _store(request)
    res = _resource_of(_account(store.confluent_cloud, request, CONFLUENT_GONE), request)
    return web.json_response({"data": _resource_view(store, res)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_confluent_resource(request: web.Request) -> web.Response:
    store = _store(request)
    account = _account(store.confluent_cloud, request, CONFLUENT_GONE)
    res = _resource_of(account, request)
    attrs, _ = await attributes(request, "confluent-cloud-resources")
    updated = _confluent_resource(attrs, res["id"], res)  # the resource_type may change (recorded)
    account["resources"][account["resources"].index(res)] = updated
    return web.json_response({"data": _resource_view(store, updated)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_confluent_resource(request: web.Request) -> web.Response:
    account = _account(_store(request).confluent_cloud, request, CONFLUENT_GONE)
    account["resources"].remove(_resource_of(account, request))
    return web.Response(status=204)


# --- Okta ---------------------------------------------------------------------------------------------------------

OKTA_FIELDS = ("domain", "auth_method", "client_id", "client_secret", "api_key")


def _okta_view(account: dict[str, Any]) -> dict[str, Any]:
    attrs = {k: account[k] for k in ("name", "domain", "auth_method") if k in account}
    if account.get("client_id") is not None:
        attrs["client_id"] = account["client_id"]
    return resource("okta-accounts", account["id"], attrs)  # client_secret and api_key are writeOnly


def _okta(request: web.Request) -> dict[str, Any]:
    store = _store(request)
    account = store.by_id(store.okta, request.match_info["id"])
    if account is None:
        if request.match_info["id"] in store.okta_retired:
            raise ApiError(400, "Unknown error occurred: ")  # the old id after a PATCH (recorded, DELETE)
        raise ApiError(404, "Account not found")  # assumed wording
    return account


@endpoint(permission=INTEGRATIONS_READ)
async def list_okta(request: web.Request) -> web.Response:
    return web.json_response({"data": [_okta_view(a) for a in _store(request).okta]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_okta(request: web.Request) -> web.Response:
    store = _store(request)
    attrs, _ = await attributes(request, "okta-accounts", ("name", "domain", "auth_method"))
    _duplicate(store.okta, "name", attrs["name"])
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
    store = _store(request)
    account = _okta(request)
    attrs, _ = await attributes(request, "okta-accounts", ("domain", "auth_method"))
    account.update({k: attrs[k] for k in OKTA_FIELDS if isinstance(attrs.get(k), str)})
    store.okta_retired.add(account["id"])
    account["id"] = new_uuid(request)
    return web.json_response({"data": _okta_view(account)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_okta(request: web.Request) -> web.Response:
    store = _store(request)
    store.okta.remove(_okta(request))
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    routes = []
    for name, handlers in (
        ("fastly", (list_fastly, create_fastly, get_fastly, update_fastly, delete_fastly)),
        ("cloudflare", (list_cloudflare, create_cloudflare, get_cloudflare, update_cloudflare, delete_cloudflare)),
        ("confluent-cloud", (list_confluent, create_confluent, get_confluent, update_confluent, delete_confluent)),
        ("okta", (list_okta, create_okta, get_okta, update_okta, delete_okta)),
    ):
        accounts = f"{BASE}/{name}/accounts"
        routes += [
            web.get(accounts, handlers[0], allow_head=False),
            web.post(accounts, handlers[1]),
            web.get(f"{accounts}/{{id}}", handlers[2], allow_head=False),
            web.patch(f"{accounts}/{{id}}", handlers[3]),
            web.delete(f"{accounts}/{{id}}", handlers[4]),
        ]
    for sub, key, handlers in (
        (
            "fastly/accounts/{id}/services",
            "service",
            (list_fastly_services, create_fastly_service, get_fastly_service, update_fastly_service),
        ),
        (
            "confluent-cloud/accounts/{id}/resources",
            "resource",
            (list_confluent_resources, create_confluent_resource, get_confluent_resource, update_confluent_resource),
        ),
    ):
        path = f"{BASE}/{sub}"
        delete = delete_fastly_service if key == "service" else delete_confluent_resource
        routes += [
            web.get(path, handlers[0], allow_head=False),
            web.post(path, handlers[1]),
            web.get(f"{path}/{{{key}}}", handlers[2], allow_head=False),
            web.patch(f"{path}/{{{key}}}", handlers[3]),
            web.delete(f"{path}/{{{key}}}", delete),
        ]
    app.router.add_routes(routes)

"""v2 account-based integrations, part one: Fastly (accounts and services) and Cloudflare, under
`/api/v2/integrations/...` (Confluent Cloud and Okta: services_confluent_okta.py).

Recorded behaviours (datadog-api-client-python `tests/v2/cassettes/test_scenarios/`, terraform-provider-datadog
`datadog/tests/cassettes/`): a Fastly PATCH with only `api_key` keeps the rest
(`test_update_fastly_account_returns_ok_response`); Cloudflare answers omitted `resources`/`zones` as `[]`, a PATCH
without `resources` resets them, every PATCH needs `api_key`, a global key needs `email`, and credentials are checked
(`test_update_cloudflare_account_returns_ok_response`, `..._due_to_missing_email`, `..._using_invalid_auth_key`).
Permissions are the spec's `x-permission`s (https://docs.datadoghq.com/api/latest/fastly-integration/ and
https://docs.datadoghq.com/api/latest/cloudflare-integration/).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from aiohttp import web

from datadog_sync.emulator.common import ApiError, endpoint, org_of
from datadog_sync.emulator.permissions import INTEGRATIONS_READ, MANAGE_INTEGRATIONS
from datadog_sync.emulator.services_common import attributes, collection_routes, item_of, resource, store_of, unique
from datadog_sync.emulator.services_model import ServiceIntegrations

BASE = "/api/v2/integrations"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_REQUIRED = "{'_schema': ['Email address is required if providing an api key and not an api token.']}"
CF_INVALID = "Invalid account. Your Cloudflare configuration is invalid. Impossible to get zones for the account {}: {}"


def _name_hash(request: web.Request, name: str) -> str:
    """Fastly and Cloudflare ids are "a hash of the account name" (spec); 32 hex as recorded in 2023-2024."""
    return hashlib.md5(f"{org_of(request).name}:{name}".encode()).hexdigest()


def account_of(items: list[dict[str, Any]], request: web.Request, message: str = "Account not found") -> dict[str, Any]:
    return item_of(items, request, message)  # assumed wording unless stated


def strings(attrs: dict[str, Any], key: str) -> list[str]:
    value = attrs.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"Invalid request: {key!r} must be a list of strings")  # assumed
    return list(value)


def duplicate(items: list[dict[str, Any]], key: str, value: str, current: dict[str, Any] | None = None) -> None:
    unique([items], value, f"An account with this {key} already exists", current, key)  # assumed (not recorded)


# --- Fastly -------------------------------------------------------------------------------------------------------


def _fastly_view(account: dict[str, Any]) -> dict[str, Any]:
    services = [{"id": s["id"], "tags": list(s.get("tags", []))} for s in account["services"]]
    return resource("fastly-accounts", account["id"], {"name": account["name"], "services": services})


def _fastly_services(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    services = attrs.get("services", [])
    if not isinstance(services, list) or not all(
        isinstance(s, dict) and isinstance(s.get("id"), str) for s in services
    ):
        raise ApiError(400, "Invalid request: 'services' must be a list of objects with an id")  # assumed
    return [{"id": s["id"], "tags": strings(s, "tags")} for s in services]


@endpoint(permission=INTEGRATIONS_READ)
async def list_fastly(request: web.Request) -> web.Response:
    return web.json_response({"data": [_fastly_view(a) for a in store_of(request).fastly]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_fastly(request: web.Request) -> web.Response:
    store = store_of(request)
    attrs, _ = await attributes(request, "fastly-accounts", ("name", "api_key"))
    duplicate(store.fastly, "name", attrs["name"])
    account = {"id": _name_hash(request, attrs["name"]), "name": attrs["name"], "api_key": attrs["api_key"]}
    account["services"] = _fastly_services(attrs)
    store.fastly.append(account)
    return web.json_response({"data": _fastly_view(account)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_fastly(request: web.Request) -> web.Response:
    return web.json_response({"data": _fastly_view(account_of(store_of(request).fastly, request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_fastly(request: web.Request) -> web.Response:
    store = store_of(request)
    account = account_of(store.fastly, request)
    attrs, _ = await attributes(request, "fastly-accounts")
    if isinstance(attrs.get("name"), str) and attrs["name"]:
        duplicate(store.fastly, "name", attrs["name"], account)
        account["name"] = attrs["name"]
    if isinstance(attrs.get("api_key"), str) and attrs["api_key"]:
        account["api_key"] = attrs["api_key"]
    return web.json_response({"data": _fastly_view(account)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_fastly(request: web.Request) -> web.Response:
    store = store_of(request)
    store.fastly.remove(account_of(store.fastly, request))
    return web.Response(status=204)


def _fastly_service(account: dict[str, Any], request: web.Request) -> dict[str, Any]:
    return item_of(account["services"], request, "Service not found", "service")  # assumed wording


def _service_view(service: dict[str, Any]) -> dict[str, Any]:
    return resource("fastly-services", service["id"], {"tags": list(service.get("tags", []))})


@endpoint(permission=INTEGRATIONS_READ)
async def list_fastly_services(request: web.Request) -> web.Response:
    account = account_of(store_of(request).fastly, request)
    return web.json_response({"data": [_service_view(s) for s in account["services"]]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_fastly_service(request: web.Request) -> web.Response:
    account = account_of(store_of(request).fastly, request)
    attrs, service_id = await attributes(request, "fastly-services")
    if not isinstance(service_id, str) or not service_id:
        raise ApiError(400, "Invalid request: 'data.id' (the Fastly service id) is required")  # assumed
    if ServiceIntegrations.by_id(account["services"], service_id):
        raise ApiError(409, f"Service {service_id} already exists")  # assumed
    service = {"id": service_id, "tags": strings(attrs, "tags")}
    account["services"].append(service)
    return web.json_response({"data": _service_view(service)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_fastly_service(request: web.Request) -> web.Response:
    account = account_of(store_of(request).fastly, request)
    return web.json_response({"data": _service_view(_fastly_service(account, request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_fastly_service(request: web.Request) -> web.Response:
    service = _fastly_service(account_of(store_of(request).fastly, request), request)
    attrs, _ = await attributes(request, "fastly-services")
    if "tags" in attrs:
        service["tags"] = strings(attrs, "tags")
    return web.json_response({"data": _service_view(service)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_fastly_service(request: web.Request) -> web.Response:
    account = account_of(store_of(request).fastly, request)
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
    return web.json_response({"data": [_cloudflare_view(a) for a in store_of(request).cloudflare]})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_cloudflare(request: web.Request) -> web.Response:
    store = store_of(request)
    attrs, _ = await attributes(request, "cloudflare-accounts", ("name", "api_key"))
    _check_credentials(attrs["name"], attrs)
    duplicate(store.cloudflare, "name", attrs["name"])
    account = {
        "id": _name_hash(request, attrs["name"]),
        "name": attrs["name"],
        "api_key": attrs["api_key"],
        "email": attrs.get("email") or "",  # token accounts list with "email": "" (recorded)
        "resources": strings(attrs, "resources"),
        "zones": strings(attrs, "zones"),
    }
    store.cloudflare.append(account)
    return web.json_response({"data": _cloudflare_view(account)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_cloudflare(request: web.Request) -> web.Response:
    return web.json_response({"data": _cloudflare_view(account_of(store_of(request).cloudflare, request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_cloudflare(request: web.Request) -> web.Response:
    """`api_key` is required on every PATCH; omitted `resources` become [] (recorded); omitted `zones` are kept
    (not recorded either way)."""
    store = store_of(request)
    account = account_of(store.cloudflare, request)
    attrs, _ = await attributes(request, "cloudflare-accounts", ("api_key",))
    name = attrs.get("name") or account["name"]
    _check_credentials(account["name"], attrs)
    duplicate(store.cloudflare, "name", name, account)
    account.update(name=name, api_key=attrs["api_key"], resources=strings(attrs, "resources"))
    if "email" in attrs:
        account["email"] = attrs["email"] or ""
    if "zones" in attrs:
        account["zones"] = strings(attrs, "zones")
    return web.json_response({"data": _cloudflare_view(account)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_cloudflare(request: web.Request) -> web.Response:
    store = store_of(request)
    store.cloudflare.remove(account_of(store.cloudflare, request))
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    fastly = f"{BASE}/fastly/accounts"
    accounts = (list_fastly, create_fastly, get_fastly, update_fastly, delete_fastly)
    services = (
        list_fastly_services,
        create_fastly_service,
        get_fastly_service,
        update_fastly_service,
        delete_fastly_service,
    )
    cloudflare = (list_cloudflare, create_cloudflare, get_cloudflare, update_cloudflare, delete_cloudflare)
    app.router.add_routes(
        collection_routes(fastly, accounts)
        + collection_routes(f"{BASE}/cloudflare/accounts", cloudflare)
        + collection_routes(f"{fastly}/{{id}}/services", services, item="service")
    )

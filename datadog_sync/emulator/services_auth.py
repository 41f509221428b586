"""Webhooks OAuth2 client-credentials auth methods (v2,
`/api/v2/integration/webhooks/configuration/auth-method/...`).

Recorded (terraform-provider-datadog `TestAccDatadogWebhookOauth2ClientCredentials_Basic`): a create answers 201 with
a UUID id, `scope: null` when not sent and never the `client_secret`; a PATCH with `audience: null` clears it; a GET
after DELETE is `404 "The requested auth method does not exist."`. The operations were added to the API after the
published spec the reference read, so no `x-permission` is known: the emulator asks `integrations_read` and
`manage_integrations` (docs/emulator.md). 409 on a duplicate name is among the feature file's codes; its wording is
assumed. `GET .../auth-method` lists them as `webhooks-auth-method` items, the full objects under `included` when
`?include=oauth2-client-credentials` (GetAllAuthMethods in datadog-api-client-python).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from datadog_sync.emulator.common import ApiError, endpoint
from datadog_sync.emulator.permissions import INTEGRATIONS_READ, MANAGE_INTEGRATIONS
from datadog_sync.emulator.services_common import attributes, item_of, new_uuid, resource, store_of, unique
from datadog_sync.emulator.services_model import ServiceIntegrations

BASE = "/api/v2/integration/webhooks/configuration/auth-method"
OAUTH2 = "oauth2-client-credentials"
KIND = f"webhooks-auth-method-{OAUTH2}"
GONE = "The requested auth method does not exist."
LIMITS = {"name": 100, "access_token_url": 2048, "client_id": 2048, "client_secret": 2048, "scope": 2048}
LIMITS["audience"] = 2048


def _view(method: dict[str, Any]) -> dict[str, Any]:
    attrs = {"name": method["name"], "protocol": OAUTH2, "access_token_url": method["access_token_url"]}
    attrs.update(client_id=method["client_id"], scope=method.get("scope"), audience=method.get("audience"))
    return resource(KIND, method["id"], attrs)


def _method(request: web.Request) -> dict[str, Any]:
    return item_of(store_of(request).auth_methods, request, GONE)


def _apply(attrs: dict[str, Any], method: dict[str, Any]) -> None:
    for key, limit in LIMITS.items():
        if key not in attrs:
            continue
        value = attrs[key]
        nullable = key in ("scope", "audience")
        if value is None and nullable:
            method[key] = None
            continue
        if not isinstance(value, str) or not 1 <= len(value) <= limit:
            raise ApiError(400, f"Invalid attribute {key!r}: a string of 1 to {limit} characters")  # assumed
        method[key] = value


def _unique(store: ServiceIntegrations, name: str, current: dict[str, Any] | None = None) -> None:
    unique([store.auth_methods], name, f"An auth method named {name} already exists", current)  # assumed wording


@endpoint(permission=INTEGRATIONS_READ)
async def list_methods(request: web.Request) -> web.Response:
    methods = store_of(request).auth_methods
    data = [
        {
            "type": "webhooks-auth-method",
            "id": m["id"],
            "attributes": {"protocol": OAUTH2},
            "relationships": {OAUTH2: {"data": {"id": m["id"], "type": KIND}}},
        }
        for m in methods
    ]
    body: dict[str, Any] = {"data": data}
    if OAUTH2 in request.query.get("include", "").split(","):
        body["included"] = [_view(m) for m in methods]
    return web.json_response(body)


@endpoint(permission=MANAGE_INTEGRATIONS)
async def create_method(request: web.Request) -> web.Response:
    store = store_of(request)
    attrs, _ = await attributes(request, KIND, ("name", "access_token_url", "client_id", "client_secret"))
    _unique(store, attrs["name"])
    method: dict[str, Any] = {"id": new_uuid(request), "scope": None, "audience": None}
    _apply(attrs, method)
    store.auth_methods.append(method)
    return web.json_response({"data": _view(method)}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_method(request: web.Request) -> web.Response:
    return web.json_response({"data": _view(_method(request))})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def update_method(request: web.Request) -> web.Response:
    store, method = store_of(request), _method(request)
    attrs, _ = await attributes(request, KIND)
    updated = dict(method)
    _apply(attrs, updated)
    _unique(store, updated["name"], method)
    method.update(updated)
    return web.json_response({"data": _view(method)})


@endpoint(permission=MANAGE_INTEGRATIONS)
async def delete_method(request: web.Request) -> web.Response:
    store_of(request).auth_methods.remove(_method(request))
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get(BASE, list_methods, allow_head=False),
            web.post(f"{BASE}/{OAUTH2}", create_method),
            web.get(f"{BASE}/{OAUTH2}/{{id}}", get_method, allow_head=False),
            web.patch(f"{BASE}/{OAUTH2}/{{id}}", update_method),
            web.delete(f"{BASE}/{OAUTH2}/{{id}}", delete_method),
        ]
    )

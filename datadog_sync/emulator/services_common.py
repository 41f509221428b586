"""What the service-integration handlers (services_v1.py, services_v2.py, services_accounts.py,
services_confluent_okta.py, services_auth.py) share: the org's store, JSON:API bodies and items, lookups that answer
404, the 409 on a taken name, and the five routes of a collection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from aiohttp import web

from datadog_sync.emulator.common import ApiError, Handler, core_of, json_body, org_of
from datadog_sync.emulator.services_model import ServiceIntegrations

T = TypeVar("T")


def store_of(request: web.Request) -> ServiceIntegrations:
    return org_of(request).services


def new_uuid(request: web.Request) -> str:
    """A UUID drawn from the core's seeded id generator (reproducible runs)."""
    return str(uuid.UUID(int=int(core_of(request).new_external_id(), 16), version=4))


async def attributes(request: web.Request, kind: str, required: tuple[str, ...] = ()) -> tuple[dict[str, Any], Any]:
    """The `data.attributes` of a JSON:API body of type `kind` (and `data.id`); 400 when malformed (assumed)."""
    body = await json_body(request)
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("attributes", {}), dict):
        raise ApiError(400, "Invalid request: 'data' must be an object")
    if data.get("type") != kind:
        raise ApiError(400, f"Invalid request: 'data.type' must be {kind!r}")
    attrs = data.get("attributes") or {}
    for key in required:
        if not isinstance(attrs.get(key), str) or not attrs[key]:
            raise ApiError(400, f"Invalid request: attribute {key!r} is required")
    return attrs, data.get("id")


def resource(kind: str, item_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "id": item_id, "attributes": attrs}


def found(item: T | None, message: str) -> T:
    """`item`, or a 404 with `message` when the lookup found none."""
    if item is None:
        raise ApiError(404, message)
    return item


def item_of(items: list[dict[str, Any]], request: web.Request, message: str, param: str = "id") -> dict[str, Any]:
    """The item whose `id` is the path's `param`; 404 with `message` when there is none."""
    return found(ServiceIntegrations.by_id(items, request.match_info[param]), message)


def unique(
    groups: Sequence[list[dict[str, Any]]],
    value: str,
    message: str,
    current: dict[str, Any] | None = None,
    key: str = "name",
) -> None:
    """409 with `message` when an item of `groups` other than `current` has `value` under `key`."""
    for items in groups:
        other = ServiceIntegrations.by_name(items, value, key=key)
        if other is not None and other is not current:
            raise ApiError(409, message)


def collection_routes(path: str, handlers: Sequence[Handler], item: str = "id") -> list[web.RouteDef]:
    """`GET`/`POST` on `path` and `GET`/`PATCH`/`DELETE` on `path/{item}`, served by `handlers` in that order."""
    list_, create, get, update, delete = handlers
    one = f"{path}/{{{item}}}"
    return [
        web.get(path, list_, allow_head=False),
        web.post(path, create),
        web.get(one, get, allow_head=False),
        web.patch(one, update),
        web.delete(one, delete),
    ]

"""Small HTTP helpers shared by the API and admin handlers: endpoint metadata, error bodies, JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from datadog_sync.emulator.core import EmulatorCore
from datadog_sync.emulator.state import Org

CORE: web.AppKey[EmulatorCore] = web.AppKey("emulator_core", EmulatorCore)
ORG: web.RequestKey[Org | None] = web.RequestKey("emulator_org", Org)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Endpoint:
    """What the middleware enforces before a handler runs."""

    auth: str = "app"  # "app": DD-API-KEY + DD-APPLICATION-KEY pair; "api": DD-API-KEY only
    permission: str | None = None  # the operation's x-permission
    rate_limited: bool = True
    aws_write: bool = False  # takes the org's AWS write slot (409 on overlap)
    aws_v2: bool = False  # a v2 AWS endpoint: its writes take the slot only while the knob v2_write_slot is on
    serial: str | None = None  # an integration whose writes Terraform serialises: overlaps are counted (app.py)


def endpoint(**kwargs: Any) -> Callable[[Handler], Handler]:
    def mark(fn: Handler) -> Handler:
        fn.endpoint = Endpoint(**kwargs)  # type: ignore[attr-defined]
        return fn

    return mark


#: An element of `errors`: a string (v1, and the front end's 403/429) or a JSON:API error object (v2 handlers).
ErrorItem = str | dict[str, Any]


class ApiError(Exception):
    """Raised by handlers; becomes `{"errors": [...messages]}` with `status`."""

    def __init__(self, status: int, *messages: ErrorItem) -> None:
        super().__init__(status, messages)
        self.status = status
        self.messages = list(messages)


def json_error(status: int, *messages: ErrorItem, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"errors": list(messages)}, status=status, headers=headers)


def ok(body: Any = None, status: int = 200) -> web.Response:
    return web.json_response({} if body is None else body, status=status)


def org_of(request: web.Request) -> Org:
    org = request[ORG]
    assert org is not None, "handler reached without an authenticated org"
    return org


def core_of(request: web.Request) -> EmulatorCore:
    return request.app[CORE]


async def json_body(request: web.Request, kind: type = dict) -> Any:
    """The request's JSON body, which must be a `kind`; 400 otherwise."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise ApiError(400, "Invalid JSON in request body") from None
    if not isinstance(body, kind):
        raise ApiError(400, f"Request body must be a JSON {'object' if kind is dict else 'array'}")
    return body

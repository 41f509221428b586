"""Unauthenticated admin API under /_emulator/: seed/dump state, org settings, knobs, request log, counters.

Admin calls bypass auth, knobs and the request log. Errors: 404 for an unknown org, 400 for an invalid body.
"""

from __future__ import annotations

from aiohttp import web

from datadog_sync.emulator.common import ApiError, core_of, json_body, ok
from datadog_sync.emulator.core import OrgSpec

PREFIX = "/_emulator"


async def list_orgs(request: web.Request) -> web.Response:
    return ok({"orgs": [o.settings() for o in core_of(request).orgs.values()]})


async def create_org(request: web.Request) -> web.Response:
    body = await json_body(request)
    allowed = {"name", "api_key", "app_key", "permissions", "read_only", "app_key_scopes", "ddr_status", "state"}
    if set(body) - allowed or not all(isinstance(body.get(k), str) for k in ("name", "api_key", "app_key")):
        raise ApiError(400, f"expected an object with name, api_key, app_key and optionally {sorted(allowed)}")
    org = core_of(request).add_org(OrgSpec(**body))
    return ok(org.settings(), status=201)


async def get_org(request: web.Request) -> web.Response:
    return ok(core_of(request).org(request.match_info["name"]).settings())


async def patch_org(request: web.Request) -> web.Response:
    org = core_of(request).org(request.match_info["name"])
    org.update_settings(await json_body(request))
    return ok(org.settings())


async def get_state(request: web.Request) -> web.Response:
    return ok(core_of(request).dump(request.match_info["name"]))


async def put_state(request: web.Request) -> web.Response:
    core = core_of(request)
    name = request.match_info["name"]
    core.seed(name, await json_body(request))
    return ok(core.dump(name))


async def delete_state(request: web.Request) -> web.Response:
    core_of(request).wipe(request.match_info["name"])
    return ok()


async def get_requests(request: web.Request) -> web.Response:
    return ok({"requests": core_of(request).requests(request.query.get("org"))})


async def delete_requests(request: web.Request) -> web.Response:
    core_of(request).clear_requests(request.query.get("org"))
    return ok()


async def get_knobs(request: web.Request) -> web.Response:
    return ok(core_of(request).knobs.to_json())


async def patch_knobs(request: web.Request) -> web.Response:
    return ok(core_of(request).set_knobs(await json_body(request)).to_json())


async def get_counters(request: web.Request) -> web.Response:
    return ok(core_of(request).counters.to_json())


async def delete_counters(request: web.Request) -> web.Response:
    core_of(request).counters.reset()
    return ok()


def add_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get(f"{PREFIX}/orgs", list_orgs, allow_head=False),
            web.post(f"{PREFIX}/orgs", create_org),
            web.get(f"{PREFIX}/orgs/{{name}}", get_org, allow_head=False),
            web.patch(f"{PREFIX}/orgs/{{name}}", patch_org),
            web.get(f"{PREFIX}/orgs/{{name}}/state", get_state, allow_head=False),
            web.put(f"{PREFIX}/orgs/{{name}}/state", put_state),
            web.delete(f"{PREFIX}/orgs/{{name}}/state", delete_state),
            web.get(f"{PREFIX}/requests", get_requests, allow_head=False),
            web.delete(f"{PREFIX}/requests", delete_requests),
            web.get(f"{PREFIX}/knobs", get_knobs, allow_head=False),
            web.patch(f"{PREFIX}/knobs", patch_knobs),
            web.get(f"{PREFIX}/counters", get_counters, allow_head=False),
            web.delete(f"{PREFIX}/counters", delete_counters),
        ]
    )

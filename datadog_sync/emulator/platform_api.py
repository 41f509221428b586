"""Non-AWS endpoints the CLI touches: key validation, DDR status, metrics, and the permission pre-flight."""

from __future__ import annotations

from aiohttp import web

from datadog_sync.emulator.common import ApiError, endpoint, json_body, ok, org_of
from datadog_sync.emulator.permissions import USER_ACCESS_READ, USER_APP_KEYS, permission_resource

_CREATED_AT = "2024-01-15T09:30:00.000000+00:00"
MAX_PAGE_SIZE = 100


@endpoint(auth="api")
async def validate(request: web.Request) -> web.Response:
    # Checks the API key only (docs.datadoghq.com/api/latest/authentication/); the middleware already rejected
    # missing or unknown keys.
    return ok({"valid": True})


@endpoint()
async def hamr(request: web.Request) -> web.Response:
    org = org_of(request)
    attributes: dict[str, object] = {}
    if org.ddr_status is not None:  # None models "no DDR status could be retrieved"
        attributes = {
            "HamrStatus": org.ddr_status,
            "IsPrimary": True,
            "ModifiedAt": _CREATED_AT,
            "ModifiedBy": "emulator",
            "TargetOrgDatacenter": "us1",
            "TargetOrgName": f"{org.name}-ddr",
            "TargetOrgUuid": org.org_uuid,
        }
    return ok({"data": {"type": "hamr_org_connections", "id": org.org_uuid, "attributes": attributes}})


@endpoint(auth="api", rate_limited=False)
async def submit_series(request: web.Request) -> web.Response:
    # Metric intake needs only the API key and is not rate limited (docs.datadoghq.com/api/latest/rate-limits/).
    await json_body(request)
    return ok({"errors": []}, status=202)


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid value for parameter '{name}'") from None
    if not low <= value <= high:
        raise ApiError(400, f"Parameter '{name}' must be between {low} and {high}")
    return value


@endpoint(permission=USER_APP_KEYS)
async def current_user_application_keys(request: web.Request) -> web.Response:
    """The calling app key, the only key its emulated owner has (shape of ListApplicationKeysResponse)."""
    org = org_of(request)
    size = _int_param(request, "page[size]", 10, 1, MAX_PAGE_SIZE)
    number = _int_param(request, "page[number]", 0, 0, 1_000_000)
    name = f"{org.name} emulator key"
    needle = request.query.get("filter", "")
    matches = [name] if needle.lower() in name.lower() else []
    page = matches[number * size : (number + 1) * size]
    data = [
        {
            "type": "application_keys",
            "id": org.app_key_id,
            "attributes": {
                "name": key_name,
                "last4": org.app_key[-4:],
                "created_at": _CREATED_AT,
                "last_used_at": None,
                "scopes": None if org.app_key_scopes is None else list(org.app_key_scopes),
            },
            "relationships": {"owned_by": {"data": {"type": "users", "id": org.user_id}}},
        }
        for key_name in page
    ]
    body: dict[str, object] = {
        "data": data,
        "meta": {"max_allowed_per_user": 1000, "page": {"total_filtered_count": len(matches)}},
    }
    if "owned_by" in request.query.get("include", "").split(",") and data:
        body["included"] = [_user(org.user_id, org.name, org.org_uuid)]
    return ok(body)


def _user(user_id: str, org_name: str, org_uuid: str) -> dict[str, object]:
    email = f"owner@{org_name}.emulator.example"
    return {
        "type": "users",
        "id": user_id,
        "attributes": {
            "name": f"{org_name} owner",
            "handle": email,
            "email": email,
            "created_at": _CREATED_AT,
            "modified_at": _CREATED_AT,
            "disabled": False,
            "verified": True,
            "status": "Active",
            "service_account": False,
            "mfa_enabled": False,
            "icon": "https://secure.gravatar.com/avatar/00000000000000000000000000000000?s=48&d=retro",
            "title": None,
            "uuid": user_id,
            "last_login_time": None,
        },
        "relationships": {"org": {"data": {"type": "orgs", "id": org_uuid}}},
    }


@endpoint(permission=USER_ACCESS_READ)
async def user_permissions(request: web.Request) -> web.Response:
    org = org_of(request)
    if request.match_info["user_id"] != org.user_id:
        raise ApiError(404, "Not found")  # assumed wording
    return ok({"data": [permission_resource(name) for name in sorted(org.permissions)]})


def add_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get("/api/v1/validate", validate, allow_head=False),
            web.get("/api/v2/hamr", hamr, allow_head=False),
            web.post("/api/v2/series", submit_series),
            web.get("/api/v2/current_user/application_keys", current_user_application_keys, allow_head=False),
            web.get("/api/v2/users/{user_id}/permissions", user_permissions, allow_head=False),
        ]
    )

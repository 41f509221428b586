"""v1 service-integration APIs: webhooks and custom variables, PagerDuty services (and the legacy whole-config
GET/PUT), Slack channels (and the legacy account install), plus the monitors listing used to discover handles.

Recorded behaviours (cassette names of datadog-api-client-python `tests/v1/cassettes/test_scenarios/` and
terraform-provider-datadog `datadog/tests/cassettes/`): a webhook created without `payload` gets the server's default
payload (`test_create_a_webhooks_integration_returns_ok_response`); a PUT keeps omitted fields and `name` renames
(`TestAccDatadogWebhook_Basic`, `TestAccDatadogWebhookCustomVariable_Basic`); a secret variable's `value` key is absent
(`test_create_a_custom_variable_returns_ok_response`); deletes answer 200 `{}` then 404; PagerDuty services answer
only their name, the legacy GET shows every key as "*****" and a legacy PUT without `services` keeps them
(`TestAccDatadogIntegrationPagerdutyServiceObject_Basic`); Slack channel names keep their `#`, `%23` in paths
(`TestAccDatadogIntegrationSlackChannel_Basic`). Permissions are the spec's `x-permission`s
(https://docs.datadoghq.com/api/latest/webhooks-integration/, .../pagerduty-integration/, .../slack-integration/).
Answers marked "assumed" were never recorded (docs/emulator.md, Service integrations).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from datadog_sync.emulator.common import ApiError, endpoint, json_body, ok, org_of
from datadog_sync.emulator.permissions import CREATE_WEBHOOKS, INTEGRATIONS_READ, MANAGE_INTEGRATIONS, MONITORS_READ
from datadog_sync.emulator.services_common import collection_routes, found, store_of
from datadog_sync.emulator.services_model import DEFAULT_PAYLOAD, SLACK_DEFAULTS, SLACK_DISPLAY, ServiceIntegrations

HOOKS = "/api/v1/integration/webhooks/configuration/webhooks"
VARS = "/api/v1/integration/webhooks/configuration/custom-variables"
PD = "/api/v1/integration/pagerduty"
SLACK = "/api/v1/integration/slack"
MONITORS = "/api/v1/monitor"
MASK = "*****"


def _str(body: dict[str, Any], key: str, required: bool = True) -> Any:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise ApiError(400, f"Invalid '{key}': a string is required")  # assumed wording
    return value


# --- webhooks ---------------------------------------------------------------------------------------------------


def _hook(store: ServiceIntegrations, name: str) -> dict[str, Any]:
    # test_delete_a_webhook_returns_ok_response #2
    return found(store.by_name(store.webhooks, name), "Webhook does not exist")


def _hook_fields(body: dict[str, Any], hook: dict[str, Any]) -> None:
    for key in ("url", "payload", "custom_headers"):
        if key in body:
            hook[key] = _str(body, key, required=key == "url")
    if "encode_as" in body:
        if body["encode_as"] not in ("json", "form"):
            raise ApiError(400, "Invalid 'encode_as': expected 'json' or 'form'")  # assumed
        hook["encode_as"] = body["encode_as"]
    if hook.get("payload") is None:
        hook["payload"] = DEFAULT_PAYLOAD


def _hook_view(store: ServiceIntegrations, hook: dict[str, Any]) -> dict[str, Any]:
    view = {k: hook.get(k) for k in ("name", "url", "payload", "custom_headers", "encode_as")}
    if (store.api_date or "9999") >= "2025":  # shown since 2025 (TestAccDatadogWebhook_Basic), not in 2022 answers
        view["auth_method_id"] = hook.get("auth_method_id")
    return view


@endpoint(permission=CREATE_WEBHOOKS, serial="webhooks")
async def create_webhook(request: web.Request) -> web.Response:
    store, body = store_of(request), await json_body(request)
    name = _str(body, "name")
    _str(body, "url")
    if store.by_name(store.webhooks, name):
        raise ApiError(409, f"Webhook {name} already exists")  # assumed
    hook: dict[str, Any] = {"name": name, "custom_headers": None, "encode_as": "json", "payload": None}
    _hook_fields(body, hook)
    store.webhooks.append(hook)
    return ok(_hook_view(store, hook), status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_webhook(request: web.Request) -> web.Response:
    store = store_of(request)
    return ok(_hook_view(store, _hook(store, request.match_info["name"])))


@endpoint(permission=MANAGE_INTEGRATIONS, serial="webhooks")
async def update_webhook(request: web.Request) -> web.Response:
    store, body = store_of(request), await json_body(request)
    hook = _hook(store, request.match_info["name"])
    new_name = _str(body, "name", required=False)
    if new_name and new_name != hook["name"] and store.by_name(store.webhooks, new_name):
        raise ApiError(409, f"Webhook {new_name} already exists")  # assumed
    updated = dict(hook)
    _hook_fields(body, updated)
    if new_name:
        updated["name"] = new_name  # TestAccDatadogWebhook_Basic #8: a PUT with a new name renames
    store.webhooks[store.webhooks.index(hook)] = updated
    return ok(_hook_view(store, updated))


@endpoint(permission=MANAGE_INTEGRATIONS, serial="webhooks")
async def delete_webhook(request: web.Request) -> web.Response:
    store = store_of(request)
    store.webhooks.remove(_hook(store, request.match_info["name"]))
    return ok()


# --- custom variables -------------------------------------------------------------------------------------------


def _var(store: ServiceIntegrations, name: str) -> dict[str, Any]:
    # test_delete_a_custom_variable_returns_ok_response #2
    return found(store.by_name(store.custom_variables, name), "Custom variable does not exist")


def _var_view(var: dict[str, Any]) -> dict[str, Any]:
    view = {"name": var["name"], "is_secret": var["is_secret"]}
    if not var["is_secret"]:
        view["value"] = var["value"]  # absent (not null) when secret
    return view


def _secret_flag(body: dict[str, Any]) -> bool:
    if not isinstance(body.get("is_secret"), bool):
        raise ApiError(400, "Invalid 'is_secret': a boolean is required")  # assumed
    return bool(body["is_secret"])


@endpoint(permission=MANAGE_INTEGRATIONS, serial="webhooks")
async def create_variable(request: web.Request) -> web.Response:
    store, body = store_of(request), await json_body(request)
    name, value = _str(body, "name"), _str(body, "value")
    is_secret = _secret_flag(body)
    if store.by_name(store.custom_variables, name):
        raise ApiError(409, f"Custom variable {name} already exists")  # assumed
    var = {"name": name, "value": value, "is_secret": is_secret}
    store.custom_variables.append(var)
    return ok(_var_view(var), status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_variable(request: web.Request) -> web.Response:
    return ok(_var_view(_var(store_of(request), request.match_info["name"])))


@endpoint(permission=MANAGE_INTEGRATIONS, serial="webhooks")
async def update_variable(request: web.Request) -> web.Response:
    store, body = store_of(request), await json_body(request)
    var = _var(store, request.match_info["name"])
    updated = dict(var)
    new_name = _str(body, "name", required=False)
    if new_name and new_name != var["name"] and store.by_name(store.custom_variables, new_name):
        raise ApiError(409, f"Custom variable {new_name} already exists")  # assumed
    if new_name:
        updated["name"] = new_name
    if "value" in body:
        updated["value"] = _str(body, "value")
    if "is_secret" in body:
        updated["is_secret"] = _secret_flag(body)
    store.custom_variables[store.custom_variables.index(var)] = updated
    return ok(_var_view(updated))


@endpoint(permission=MANAGE_INTEGRATIONS, serial="webhooks")
async def delete_variable(request: web.Request) -> web.Response:
    store = store_of(request)
    store.custom_variables.remove(_var(store, request.match_info["name"]))
    return ok()


# --- PagerDuty --------------------------------------------------------------------------------------------------


def _pd_service(store: ServiceIntegrations, name: str) -> dict[str, Any]:
    service = store.by_name(store.pagerduty_services, name, key="service_name")
    return found(service, "Service not found")  # terraform-provider-datadog GH#299


@endpoint(permission=INTEGRATIONS_READ)
async def get_pagerduty(request: web.Request) -> web.Response:
    """The legacy whole config, every secret as "*****" (TestAccDatadogIntegrationPagerdutyServiceObject_Basic #1)."""
    store = store_of(request)
    config = store.pagerduty
    return ok(
        {
            "show_all_incidents": config.get("show_all_incidents", False),
            "filter_services": config.get("filter_services", []),
            "subdomain": config.get("subdomain", ""),
            "schedules": config.get("schedules", []),
            "api_token": MASK,
            "services": [{"service_name": s["service_name"], "service_key": MASK} for s in store.pagerduty_services],
        }
    )


@endpoint(permission=MANAGE_INTEGRATIONS, serial="pagerduty")
async def put_pagerduty(request: web.Request) -> web.Response:
    """The legacy whole-config write, as recorded: a body without `services` keeps them (#26 -> #27). A body with
    `services` replaces them all (Datadog stopped documenting it for that reason, documentation PR #6930)."""
    store, body = store_of(request), await json_body(request)
    for key in ("subdomain", "schedules", "api_token", "show_all_incidents", "filter_services"):
        if key in body:
            store.pagerduty[key] = body[key]
    if isinstance(body.get("services"), list):
        store.pagerduty_services = [
            {"service_name": s.get("service_name", s.get("service")), "service_key": s.get("service_key", s.get("key"))}
            for s in body["services"]
            if isinstance(s, dict)
        ]
    return web.Response(status=204)


@endpoint(permission=MANAGE_INTEGRATIONS, serial="pagerduty")
async def create_pd_service(request: web.Request) -> web.Response:
    store, body = store_of(request), await json_body(request)
    name, key = _str(body, "service_name"), _str(body, "service_key")
    if store.by_name(store.pagerduty_services, name, key="service_name"):
        raise ApiError(409, f"Service {name} already exists")  # assumed
    store.pagerduty_services.append({"service_name": name, "service_key": key})
    return ok({"service_name": name}, status=201)


@endpoint(permission=INTEGRATIONS_READ)
async def get_pd_service(request: web.Request) -> web.Response:
    return ok({"service_name": _pd_service(store_of(request), request.match_info["name"])["service_name"]})


@endpoint(permission=MANAGE_INTEGRATIONS, serial="pagerduty")
async def update_pd_service(request: web.Request) -> web.Response:
    """Only the key changes (PagerDutyServiceKey); not recorded, so the answer body is assumed to be the name."""
    store, body = store_of(request), await json_body(request)
    service = _pd_service(store, request.match_info["name"])
    service["service_key"] = _str(body, "service_key")
    return ok({"service_name": service["service_name"]})


@endpoint(permission=MANAGE_INTEGRATIONS, serial="pagerduty")
async def delete_pd_service(request: web.Request) -> web.Response:
    store = store_of(request)
    store.pagerduty_services.remove(_pd_service(store, request.match_info["name"]))
    return web.Response(status=204)


# --- Slack ------------------------------------------------------------------------------------------------------


def _account(request: web.Request) -> list[dict[str, Any]]:
    store, account = store_of(request), request.match_info["account"]
    if account not in store.slack:
        raise ApiError(404, f"Slack account {account} not found")  # assumed wording
    return store.slack[account]


def _channel(channels: list[dict[str, Any]], name: str) -> dict[str, Any]:
    channel = next((c for c in channels if c["name"] == name), None)
    return found(channel, f"Channel {name} not found")  # assumed wording


def _display(body: dict[str, Any], base: dict[str, bool]) -> dict[str, bool]:
    display = body.get("display") or {}
    if not isinstance(display, dict) or not all(isinstance(display.get(k, True), bool) for k in SLACK_DISPLAY):
        raise ApiError(400, "Invalid 'display'")  # assumed
    return {k: display.get(k, base[k]) for k in SLACK_DISPLAY}


@endpoint(permission=MANAGE_INTEGRATIONS, serial="slack")
async def install_slack(request: web.Request) -> web.Response:
    """The deprecated legacy call TF tests use to create accounts (`service_hooks`); it installs the named accounts
    (TestAccDatadogIntegrationSlackChannel_Basic #1: 204). Real installs are OAuth in the UI."""
    store, body = store_of(request), await json_body(request)
    for hook in body.get("service_hooks") or []:
        if isinstance(hook, dict) and isinstance(hook.get("account"), str):
            store.slack.setdefault(hook["account"], [])
    return web.Response(status=204)


@endpoint(permission=INTEGRATIONS_READ)
async def list_channels(request: web.Request) -> web.Response:
    return web.json_response([dict(c) for c in _account(request)])


@endpoint(permission=MANAGE_INTEGRATIONS, serial="slack")
async def create_channel(request: web.Request) -> web.Response:
    channels, body = _account(request), await json_body(request)
    name = _str(body, "name")
    if any(c["name"] == name for c in channels):
        raise ApiError(409, f"Channel {name} already exists")  # assumed
    channel = {"name": name, "display": _display(body, SLACK_DEFAULTS)}
    channels.append(channel)
    return ok(channel, status=201)  # recorded 201 (the spec says 200)


@endpoint(permission=INTEGRATIONS_READ)
async def get_channel(request: web.Request) -> web.Response:
    return ok(_channel(_account(request), request.match_info["channel"]))


@endpoint(permission=MANAGE_INTEGRATIONS, serial="slack")
async def update_channel(request: web.Request) -> web.Response:
    channels, body = _account(request), await json_body(request)
    channel = _channel(channels, request.match_info["channel"])
    new_name = _str(body, "name", required=False) or channel["name"]
    if new_name != channel["name"] and any(c["name"] == new_name for c in channels):
        raise ApiError(409, f"Channel {new_name} already exists")  # assumed
    channel.update(name=new_name, display=_display(body, channel["display"]))
    return ok(channel)


@endpoint(permission=MANAGE_INTEGRATIONS, serial="slack")
async def delete_channel(request: web.Request) -> web.Response:
    channels = _account(request)
    channels.remove(_channel(channels, request.match_info["channel"]))
    return web.Response(status=204)


# --- monitors (read-only: enough to discover notification handles) -----------------------------------------------


@endpoint(permission=MONITORS_READ)
async def list_monitors(request: web.Request) -> web.Response:
    """`GET /api/v1/monitor` (https://docs.datadoghq.com/api/latest/monitors/#get-all-monitor-details): `name`
    (substring) and `monitor_tags` filters, `page` / `page_size` paging (no paging when `page` is absent)."""
    monitors = org_of(request).monitors
    name = request.query.get("name")
    if name:
        monitors = [m for m in monitors if name.lower() in m["name"].lower()]
    tags = [t for t in request.query.get("monitor_tags", "").split(",") if t]
    if tags:
        monitors = [m for m in monitors if set(tags) <= set(m.get("tags", []))]
    if "page" in request.query:
        try:
            page, size = int(request.query["page"]), int(request.query.get("page_size", "100"))
        except ValueError:
            raise ApiError(400, "page and page_size must be integers") from None
        if page < 0 or not 1 <= size <= 1000:
            raise ApiError(400, "page must be >= 0 and page_size within [1, 1000]")
        monitors = monitors[page * size : (page + 1) * size]
    return web.json_response(monitors)


@endpoint(permission=MONITORS_READ)
async def get_monitor(request: web.Request) -> web.Response:
    wanted = request.match_info["id"]
    monitor = next((m for m in org_of(request).monitors if str(m["id"]) == wanted), None)
    if monitor is None:
        raise ApiError(404, "Monitor not found")
    return ok(monitor)


def add_routes(app: web.Application) -> None:
    channels = (list_channels, create_channel, get_channel, update_channel, delete_channel)
    app.router.add_routes(
        [
            web.post(HOOKS, create_webhook),
            web.get(f"{HOOKS}/{{name}}", get_webhook, allow_head=False),
            web.put(f"{HOOKS}/{{name}}", update_webhook),
            web.delete(f"{HOOKS}/{{name}}", delete_webhook),
            web.post(VARS, create_variable),
            web.get(f"{VARS}/{{name}}", get_variable, allow_head=False),
            web.put(f"{VARS}/{{name}}", update_variable),
            web.delete(f"{VARS}/{{name}}", delete_variable),
            web.get(PD, get_pagerduty, allow_head=False),
            web.put(PD, put_pagerduty),
            web.post(f"{PD}/configuration/services", create_pd_service),
            web.get(f"{PD}/configuration/services/{{name}}", get_pd_service, allow_head=False),
            web.put(f"{PD}/configuration/services/{{name}}", update_pd_service),
            web.delete(f"{PD}/configuration/services/{{name}}", delete_pd_service),
            web.post(SLACK, install_slack),
            *collection_routes(f"{SLACK}/configuration/accounts/{{account}}/channels", channels, item="channel"),
            web.get(MONITORS, list_monitors, allow_head=False),
            web.get(f"{MONITORS}/{{id}}", get_monitor, allow_head=False),
        ]
    )

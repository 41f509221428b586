"""Handlers of the GCP integration APIs: v2 STS accounts and principal (`/api/v2/integration/gcp/*`) and the
deprecated v1 service-account-key API (`/api/v1/integration/gcp`), over one per-org store (gcp_model.py).

Auth, rate limit, permission, faults and latency come from the middleware (app.py) through the `@endpoint` marks,
with the `x-permission` of each operation in the public spec
(https://docs.datadoghq.com/api/latest/gcp-integration/). Error bodies are `{"errors": [string]}` as recorded
(datadog-api-client-python cassette
`test_create_a_new_entry_for_your_service_account_with_resource_collection_enabled_disabled_and_cspm_enabled_returns_bad_request_response`);
messages marked "assumed" were never recorded (docs/emulator.md, GCP and Azure deviations).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from aiohttp import web

from datadog_sync.emulator import gcp_model as model
from datadog_sync.emulator.common import ApiError, endpoint, json_body, ok, org_of
from datadog_sync.emulator.gcp_model import GcpAccount, GcpIntegration
from datadog_sync.emulator.permissions import GCP_EDIT, GCP_MANAGE, GCP_READ

V2 = "/api/v2/integration/gcp"
V1 = "/api/v1/integration/gcp"
KIND = "gcp_service_account"
V1_BOOLS = (
    "automute",
    "is_cspm_enabled",
    "resource_collection_enabled",
    "is_security_command_center_enabled",
    "is_resource_change_collection_enabled",
)


def _store(request: web.Request) -> GcpIntegration:
    return org_of(request).gcp


def _invalid(exc: ValueError) -> ApiError:
    return ApiError(400, str(exc))  # assumed wording


def _check(account: GcpAccount, api_date: str | None) -> None:
    if account.value("is_cspm_enabled", api_date) and not account.value("resource_collection_enabled", api_date):
        raise ApiError(400, model.CSPM_NEEDS_RC)  # recorded


def _pin_defaults(account: GcpAccount, api_date: str | None) -> None:
    """A create fixes the server default of its day, so a later change of `api_date` does not flip it."""
    account.settings.setdefault("resource_collection_enabled", account.value("resource_collection_enabled", api_date))


def _conflict(email: str) -> ApiError:
    return ApiError(409, f"GCP service account {email} already exists in integration")  # assumed


def account_json(account: GcpAccount, api_date: str | None, listed: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": account.id, "type": KIND, "attributes": account.v2_attributes(api_date)}
    if listed:  # only the list has `meta` (TestAccIntegrationGcpStsBasic)
        out["meta"] = {"accessible_projects": list(account.accessible_projects)}
    return out


async def _attributes(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    body = await json_body(request)
    data = body.get("data")
    if not isinstance(data, dict) or data.get("type", KIND) != KIND or not isinstance(data.get("attributes"), dict):
        raise ApiError(400, "Invalid request body: expected data.type gcp_service_account and data.attributes")
    return data, dict(data["attributes"])


def _account(request: web.Request) -> GcpAccount:
    raw = request.match_info["account_id"]
    try:
        account = _store(request).find_id(str(uuid.UUID(raw)))
    except ValueError:
        account = None
    if account is None:
        raise ApiError(404, "GCP STS account not found")  # assumed (the spec lists 404, never recorded)
    return account


# --- v2 STS accounts -------------------------------------------------------------------------------------------------


@endpoint(permission=GCP_READ)
async def list_accounts(request: web.Request) -> web.Response:
    store = _store(request)
    return ok({"data": [account_json(a, store.api_date, listed=True) for a in store.accounts if a.is_sts]})


@endpoint(permission=GCP_MANAGE)
async def create_account(request: web.Request) -> web.Response:
    store = _store(request)
    _, attrs = await _attributes(request)
    try:
        account = GcpAccount(client_email=model.string("client_email", attrs.get("client_email")))
        account.apply(attrs)
    except model.Invalid as exc:
        raise _invalid(exc) from None
    if not account.namespaces:  # the injected default (TestAccIntegrationGcpStsDefault; TF GH#3199)
        account.namespaces = [copy.deepcopy(model.PROMETHEUS)]
    _pin_defaults(account, store.api_date)
    _check(account, store.api_date)
    if store.find_email(account.client_email):
        raise _conflict(account.client_email)
    store.accounts.append(account)
    return ok({"data": account_json(account, store.api_date)}, status=201)  # 201, as recorded


@endpoint(permission=GCP_EDIT)
async def update_account(request: web.Request) -> web.Response:
    store = _store(request)
    current = _account(request)
    data, attrs = await _attributes(request)
    if data.get("id") not in (None, current.id):
        raise ApiError(400, "data.id does not match the account id in the path")  # assumed
    if attrs.get("client_email") not in (None, current.client_email):
        # Not established whether the API accepts it; TF replaces the resource instead (RequiresReplace).
        raise ApiError(400, "client_email cannot be changed: delete and create the account instead")  # assumed
    updated = copy.deepcopy(current)
    try:
        updated.apply(attrs)
    except model.Invalid as exc:
        raise _invalid(exc) from None
    _check(updated, store.api_date)
    store.accounts[store.accounts.index(current)] = updated
    return ok({"data": account_json(updated, store.api_date)}, status=201)  # PATCH answers 201 too (recorded)


@endpoint(permission=GCP_MANAGE)
async def delete_account(request: web.Request) -> web.Response:
    account = _account(request)
    _store(request).accounts.remove(account)
    return web.Response(status=204, content_type="text/html")  # recorded: 204, empty, text/html


# --- v2 principal ----------------------------------------------------------------------------------------------------


def _delegate_json(email: str) -> dict[str, Any]:
    return {"data": {"id": email, "type": "gcp_sts_delegate", "attributes": {"delegate_account_email": email}}}


@endpoint(permission=GCP_READ)
async def get_delegate(request: web.Request) -> web.Response:
    store = _store(request)
    if store.delegate is None:  # an org whose principal was never made (seeded "delegate": null); assumed
        raise ApiError(404, "GCP STS delegate not found")
    return ok(_delegate_json(store.delegate))


@endpoint(permission=GCP_EDIT)
async def make_delegate(request: web.Request) -> web.Response:
    """Creates the principal if absent, else answers the existing one: TF calls it before every create and always
    got the same email (TestAccIntGcpStsMetricNamespaceConfigs interactions 0, 9, 18)."""
    store = _store(request)
    if store.delegate is None:
        store.delegate = model.default_delegate(org_of(request).name)
    return ok(_delegate_json(store.delegate))


# --- v1 service-account keys (deprecated) ----------------------------------------------------------------------------


def _v1_apply(account: GcpAccount, body: dict[str, Any]) -> None:
    attrs = {k: body[k] for k in (*V1_BOOLS, "cloud_run_revision_filters", "monitored_resource_configs") if k in body}
    host = model.split_filters(body["host_filters"]) if body.get("host_filters") is not None else None
    account.apply(attrs, host)
    for name in model.KEY_FIELDS:
        if body.get(name) is not None:
            assert account.key is not None
            account.key[name] = model.string(name, body[name])


def _v1_target(store: GcpIntegration, body: dict[str, Any]) -> GcpAccount | None:
    found = store.find_email(body.get("client_email"))
    if found is None or found.is_sts or body.get("project_id") not in (None, found.project_id):
        return None
    return found


@endpoint(permission=GCP_READ)
async def v1_list(request: web.Request) -> web.Response:
    store = _store(request)
    return ok([a.v1_listed(store.api_date) for a in store.accounts])


@endpoint(permission=GCP_MANAGE)
async def v1_create(request: web.Request) -> web.Response:
    store = _store(request)
    body = await json_body(request)
    try:
        account = GcpAccount(client_email=model.string("client_email", body.get("client_email")), key={})
        account.project_id = model.string("project_id", body.get("project_id"))
        model.string("private_key", body.get("private_key"))
        _v1_apply(account, body)
    except model.Invalid as exc:
        raise _invalid(exc) from None
    _pin_defaults(account, store.api_date)
    if store.find_email(account.client_email):
        raise _conflict(account.client_email)
    store.accounts.append(account)
    return ok()  # {} (recorded)


@endpoint(permission=GCP_EDIT)
async def v1_update(request: web.Request) -> web.Response:
    store = _store(request)
    body = await json_body(request)
    current = _v1_target(store, body)
    if current is None or body.get("project_id") is None:
        email, project = body.get("client_email"), body.get("project_id")
        raise ApiError(400, f"GCP integration {project}/{email} does not exist")  # assumed
    updated = copy.deepcopy(current)
    try:
        _v1_apply(updated, body)
    except model.Invalid as exc:
        raise _invalid(exc) from None
    store.accounts[store.accounts.index(current)] = updated
    return ok()


@endpoint(permission=GCP_MANAGE)
async def v1_delete(request: web.Request) -> web.Response:
    store = _store(request)
    account = _v1_target(store, await json_body(request))
    if account is not None:
        store.accounts.remove(account)
    return ok()  # 200 {} also when absent (test_delete_a_gcp_integration_returns_ok_response, interaction 2)


def add_routes(app: web.Application) -> None:
    one = f"{V2}/accounts/{{account_id}}"
    app.router.add_routes(
        [
            web.get(f"{V2}/accounts", list_accounts, allow_head=False),
            web.post(f"{V2}/accounts", create_account),
            web.patch(one, update_account),
            web.delete(one, delete_account),
            web.get(f"{V2}/sts_delegate", get_delegate, allow_head=False),
            web.post(f"{V2}/sts_delegate", make_delegate),
            web.get(V1, v1_list, allow_head=False),
            web.post(V1, v1_create),
            web.put(V1, v1_update),
            web.delete(V1, v1_delete),
        ]
    )

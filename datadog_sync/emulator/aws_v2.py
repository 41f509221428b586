"""Handlers of the v2 AWS integration API (`/api/v2/integration/aws/*`) over the same per-org store as v1.

Auth, rate limit, permission, latency, faults and the write slot are applied by the middleware in app.py from each
handler's `@endpoint(...)` marks, as for v1. v2 writes take the org's write slot while the knob `v2_write_slot` is
on (the default): whether v2 shares v1's "conflicting updates" 409 has not been recorded. Error bodies are JSON:API
objects, as recorded (the spec's string list is not what the server sends); messages marked "assumed" were never
recorded (docs/emulator.md, Deviations). The cassettes named are datadog-api-client-python's
tests/v2/cassettes/test_scenarios and terraform-provider-datadog's datadog/tests/cassettes.
"""

from __future__ import annotations

import copy
import string
import uuid
from typing import Any

from aiohttp import web

from datadog_sync.emulator import aws_v2_model as model
from datadog_sync.emulator.common import ApiError, core_of, endpoint, json_body, ok, org_of
from datadog_sync.emulator.permissions import AWS_EDIT, AWS_MANAGE, AWS_READ
from datadog_sync.emulator.state import AwsAccount, AwsIntegration, now_iso

BASE = "/api/v2/integration/aws"
ACCOUNTS = f"{BASE}/accounts"


def error(
    status: int, title: str, detail: str, meta: dict[str, Any] | None = None, with_status: bool = True
) -> ApiError:
    """A JSON:API error as the v2 server sends it (2025 shape: with `status`; some recorded ones have none)."""
    item: dict[str, Any] = {"status": str(status)} if with_status else {}
    item.update({"title": title, "detail": detail})
    if meta is not None:
        item["meta"] = meta
    return ApiError(status, item)


def not_found() -> ApiError:  # test_get_an_aws_integration_by_config_id_returns_not_found_response
    return error(404, "Account not found", "AWS account with provided id is not integrated")


def invalid(exc: model.Invalid) -> ApiError:  # test_create_an_aws_integration_returns_bad_request_response
    return error(400, "Bad Request", "invalid value", {exc.field: str(exc)})


def _aws(request: web.Request) -> AwsIntegration:
    return org_of(request).aws


def _account(request: web.Request) -> AwsAccount:
    raw = request.match_info["config_id"]
    # TF sends the id wrapped in quotes and production answers 200 (TestAccIntegrationAwsAccountKeyBased).
    if len(raw) > 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    try:
        config_id = str(uuid.UUID(raw))
    except ValueError:  # test_delete_an_aws_integration_returns_bad_request_response
        detail = 'invalid parameter "aws_account_config_id" in "path"; expected type "uuid"'
        raise error(400, "Invalid Parameter", detail) from None
    account = _aws(request).find_config(config_id)
    if account is None:
        raise not_found()
    return account


def account_json(account: AwsAccount) -> dict[str, Any]:
    return {"id": account.config_id, "type": "account", "attributes": model.attributes(account)}


async def _attributes(request: web.Request, kind: str = "account") -> dict[str, Any]:
    """`data.attributes` of a JSON:API request body whose `data.type` is `kind`."""
    body = await json_body(request)
    data = body.get("data")
    if not isinstance(data, dict) or data.get("type") != kind or not isinstance(data.get("attributes"), dict):
        meta = {"data": f"expected {{type: {kind}, attributes: {{...}}}}"}
        raise error(400, "Bad Request", "invalid value", meta)  # assumed wording
    return dict(data["attributes"])


def _required_str(path: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise error(400, "Bad Request", "invalid value", {path: "required"})  # assumed wording
    return value


def _apply_auth(request: web.Request, account: AwsAccount, auth: Any, creating: bool) -> None:
    if not isinstance(auth, dict):
        raise error(400, "Bad Request", "invalid value", {"auth_config": "expected an object"})
    # The variant sent; a PATCH naming neither keeps the account's (and its credentials).
    is_key = "access_key_id" in auth or (not creating and "role_name" not in auth and account.is_key_account)
    if not creating and is_key != account.is_key_account:
        # test_update_an_aws_integration_returns_bad_request_response: the 2024-style body, no status.
        raise error(400, "Generic Error", "cannot switch between role and key based auth", with_status=False)
    if is_key:
        key_id = auth.get("access_key_id", account.access_key_id)
        account.access_key_id = _required_str("auth_config.access_key_id", key_id)
        secret = auth.get("secret_access_key")
        if creating or secret is not None:  # a PATCH without the secret keeps it (not recorded)
            account.secret_access_key = _required_str("auth_config.secret_access_key", secret)
        account.role_name = account.external_id = None
        return
    if "role_name" in auth or creating:
        account.role_name = _required_str("auth_config.role_name", auth.get("role_name"))
    external_id = auth.get("external_id")
    if external_id is not None and external_id != account.external_id:
        # "must be generated by Datadog" (TF GH#2946); rejected like an expired one (TF GH#3133).
        if not isinstance(external_id, str) or not _aws(request).external_id_valid(external_id):
            raise error(400, "Bad Request", "invalid External ID")
        account.external_id = external_id
    if account.external_id is None:
        account.external_id = core_of(request).new_external_id()


def _apply(account: AwsAccount, attrs: dict[str, Any]) -> None:
    try:
        model.apply(account, attrs)
    except model.Invalid as exc:
        raise invalid(exc) from None


# --- accounts ------------------------------------------------------------------------------------------------------


@endpoint(permission=AWS_READ, aws_v2=True)
async def list_accounts(request: web.Request) -> web.Response:
    accounts = _aws(request).accounts
    wanted = request.query.get("aws_account_id")
    if wanted is not None:  # the TF ExternalID data source looks accounts up this way
        accounts = [a for a in accounts if a.account_id == wanted]
    return ok({"data": [account_json(a) for a in accounts]})


@endpoint(permission=AWS_MANAGE, aws_write=True, aws_v2=True)
async def create_account(request: web.Request) -> web.Response:
    attrs = await _attributes(request)
    aws = _aws(request)
    account = AwsAccount(config_id=str(uuid.UUID(core_of(request).new_external_id(), version=4)))
    account.settings["extended_resource_collection_enabled"] = True  # the v2 default (spec; recorded creates)
    # Partition first: the recorded 400 for a bad one comes before anything else is looked at.
    _apply(account, {"aws_partition": attrs.get("aws_partition")})
    account.account_id = _required_str("aws_account_id", attrs.get("aws_account_id"))
    _apply_auth(request, account, attrs.get("auth_config"), creating=True)
    _apply(account, attrs)
    if aws.account_id_in_use(account.account_id):  # test_create_an_aws_integration_returns_conflict_response
        raise error(409, "Account already exists", "AWS account with provided id already exists")
    if account.is_key_account and aws.find_key(account.access_key_id):
        raise error(409, "Account already exists", "AWS account with provided id already exists")  # assumed
    aws.add(account)
    aws.installed = True
    out = account_json(account)
    if attrs.get("account_tags") == []:  # echoed as null by the create only (TestAccIntegrationAwsEventBridgeBasic)
        out["attributes"]["account_tags"] = None
    return ok({"data": out})


@endpoint(permission=AWS_READ, aws_v2=True)
async def get_account(request: web.Request) -> web.Response:
    return ok({"data": account_json(_account(request))})


@endpoint(permission=AWS_EDIT, aws_write=True, aws_v2=True)
async def update_account(request: web.Request) -> web.Response:
    current = _account(request)
    attrs = await _attributes(request)
    aws = _aws(request)
    updated = copy.deepcopy(current)  # a rejected body changes nothing
    if "auth_config" in attrs:
        _apply_auth(request, updated, attrs["auth_config"], creating=False)
    if "aws_account_id" in attrs:
        updated.account_id = _required_str("aws_account_id", attrs["aws_account_id"])
        if aws.account_id_in_use(updated.account_id, ignore=current):
            raise error(409, "Account already exists", "AWS account with provided id already exists")  # assumed
    if (
        updated.is_key_account
        and updated.access_key_id != current.access_key_id
        and aws.find_key(updated.access_key_id)
    ):
        raise error(409, "Account already exists", "AWS account with provided id already exists")  # assumed
    _apply(updated, attrs)
    updated.modified_at = now_iso()
    aws.replace(current, updated)
    return ok({"data": account_json(updated)})


@endpoint(permission=AWS_MANAGE, aws_write=True, aws_v2=True)
async def delete_account(request: web.Request) -> web.Response:
    account = _account(request)
    aws = _aws(request)
    aws.remove(account)
    return web.Response(status=204)


# --- lookups -------------------------------------------------------------------------------------------------------


@endpoint(permission=AWS_EDIT, aws_v2=True)
async def generate_new_external_id(request: web.Request) -> web.Response:
    """Not tied to an account: valid for a later create in this org only (test_generate_new_external_id_...)."""
    external_id = core_of(request).new_external_id()
    _aws(request).external_ids.add(external_id)
    return ok({"data": {"id": external_id, "type": "external_id", "attributes": {"external_id": external_id}}})


@endpoint(permission=AWS_READ, aws_v2=True)
async def available_namespaces(request: web.Request) -> web.Response:
    attributes = {"namespaces": list(model.AVAILABLE_NAMESPACES)}
    return ok({"data": {"id": "namespaces", "type": "namespaces", "attributes": attributes}})


@endpoint(permission=AWS_READ, aws_v2=True)
async def logs_services(request: web.Request) -> web.Response:
    attributes = {"logs_services": list(model.LOGS_SERVICES)}
    return ok({"data": {"id": "logs_services", "type": "logs_services", "attributes": attributes}})


# The first entries of each recorded list (TestAccDatadogIntegrationAWSIAMPermissions*Datasource); see Deviations.
IAM_PERMISSIONS = {
    "": ["account:GetAccountInformation", "account:GetContactInformation", "airflow:GetEnvironment"],
    "/standard": ["account:GetAccountInformation", "airflow:GetEnvironment", "apigateway:GET"],
    "/resource_collection": ["account:GetContactInformation", "amplify:ListApps", "amplify:ListBranches"],
}


@endpoint(aws_v2=True)  # no permission listed in the spec
async def iam_permissions(request: web.Request) -> web.Response:
    listed = IAM_PERMISSIONS[request.path[len(f"{BASE}/iam_permissions") :]]
    return ok({"data": {"id": "permissions", "type": "permissions", "attributes": {"permissions": listed}}})


# --- EventBridge sources and CCM config (TestAccIntegrationAwsEventBridgeBasic, ...AccountCcmConfigBasic) -----------


async def _event_bridge_attributes(request: web.Request) -> dict[str, Any]:
    attrs = await _attributes(request, "event_bridge")
    account_id = attrs.get("account_id")
    account = next((a for a in _aws(request).accounts if a.account_id == account_id), None)
    if account is None:
        raise not_found()
    attrs["_account"] = account
    return attrs


@endpoint(permission=AWS_READ, aws_v2=True)
async def list_event_bridge(request: web.Request) -> web.Response:
    accounts = [
        {"account_id": a.account_id, "tags": [], "event_hubs": copy.deepcopy(a.v2.get("event_hubs", []))}
        for a in _aws(request).accounts
    ]
    attributes = {"accounts": accounts, "is_installed": True}
    return ok({"data": {"id": "get_event_bridge", "type": "event_bridge", "attributes": attributes}})


@endpoint(permission=AWS_MANAGE, aws_write=True, aws_v2=True)
async def create_event_bridge(request: web.Request) -> web.Response:
    attrs = await _event_bridge_attributes(request)
    region, name = attrs.get("region"), attrs.get("event_generator_name")
    if not isinstance(region, str) or not isinstance(name, str):
        raise error(400, "Bad Request", "invalid value", {"event_generator_name": "required"})  # assumed
    suffix = "".join(core_of(request).rng.choices(string.ascii_lowercase + string.digits, k=8))
    hub = {"name": f"{name}-{suffix}", "region": region}
    attrs["_account"].v2.setdefault("event_hubs", []).append(hub)
    created = {"event_source_name": hub["name"], "has_bus": False, "region": region, "status": "created"}
    return ok({"data": {"id": "create_event_bridge", "type": "event_bridge", "attributes": created}})


@endpoint(permission=AWS_MANAGE, aws_write=True, aws_v2=True)
async def delete_event_bridge(request: web.Request) -> web.Response:
    attrs = await _event_bridge_attributes(request)
    hubs = attrs["_account"].v2.get("event_hubs", [])
    hubs[:] = [h for h in hubs if (h["name"], h["region"]) != (attrs.get("event_generator_name"), attrs.get("region"))]
    deleted = {"status": "empty"}
    return ok({"data": {"id": "delete_event_bridge", "type": "event_bridge", "attributes": deleted}})


def _ccm(account: AwsAccount) -> dict[str, Any]:
    return {"id": account.config_id, "type": "ccm_config", "attributes": copy.deepcopy(account.v2["ccm_config"])}


@endpoint(permission=AWS_READ, aws_v2=True)
async def get_ccm_config(request: web.Request) -> web.Response:
    account = _account(request)
    if "ccm_config" not in account.v2:
        raise not_found()  # assumed
    return ok({"data": _ccm(account)})


@endpoint(permission=AWS_EDIT, aws_write=True, aws_v2=True)
async def create_ccm_config(request: web.Request) -> web.Response:
    account = _account(request)
    ccm = (await _attributes(request, "ccm_config")).get("ccm_config")
    if not isinstance(ccm, dict) or not isinstance(ccm.get("data_export_configs"), list):
        raise error(400, "Bad Request", "invalid value", {"ccm_config": "expected data_export_configs"})  # assumed
    order = ("report_name", "report_prefix", "report_type", "bucket_name", "bucket_region")  # as recorded
    configs = [{k: c[k] for k in order if k in c} if isinstance(c, dict) else c for c in ccm["data_export_configs"]]
    account.v2["ccm_config"] = {"data_export_configs": configs}
    return ok({"data": _ccm(account)})


@endpoint(permission=AWS_EDIT, aws_write=True, aws_v2=True)
async def delete_ccm_config(request: web.Request) -> web.Response:
    account = _account(request)
    if account.v2.pop("ccm_config", None) is None:
        raise not_found()
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    one = f"{ACCOUNTS}/{{config_id}}"
    app.router.add_routes(
        [
            web.get(ACCOUNTS, list_accounts, allow_head=False),
            web.post(ACCOUNTS, create_account),
            web.get(one, get_account, allow_head=False),
            web.patch(one, update_account),
            web.delete(one, delete_account),
            web.get(f"{one}/ccm_config", get_ccm_config, allow_head=False),
            web.post(f"{one}/ccm_config", create_ccm_config),
            web.delete(f"{one}/ccm_config", delete_ccm_config),
            web.post(f"{BASE}/generate_new_external_id", generate_new_external_id),
            web.get(f"{BASE}/available_namespaces", available_namespaces, allow_head=False),
            web.get(f"{BASE}/logs/services", logs_services, allow_head=False),
            web.get(f"{BASE}/iam_permissions", iam_permissions, allow_head=False),
            web.get(f"{BASE}/iam_permissions/standard", iam_permissions, allow_head=False),
            web.get(f"{BASE}/iam_permissions/resource_collection", iam_permissions, allow_head=False),
            web.get(f"{BASE}/event_bridge", list_event_bridge, allow_head=False),
            web.post(f"{BASE}/event_bridge", create_event_bridge),
            web.delete(f"{BASE}/event_bridge", delete_event_bridge),
        ]
    )

"""Handlers of the v1 AWS integration API (`/api/v1/integration/aws*`), following the recorded v1 cassettes of
datadog-api-client-python and terraform-provider-datadog (docs/emulator.md, Conformance).

Auth, rate limit, permission (`x-permission` of datadog-api-client-python's v1 OpenAPI spec), latency, faults and
the write slot are applied by the middleware in app.py according to each handler's `@endpoint(...)` marks; handlers
only implement semantics.
Messages marked "assumed" were never recorded from the real API (see docs/emulator.md, Deviations).
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from datadog_sync.emulator.common import ApiError, core_of, endpoint, json_body, ok, org_of
from datadog_sync.emulator.permissions import AWS_EDIT, AWS_MANAGE, AWS_READ
from datadog_sync.emulator.state import (
    FILTER_NAMESPACES,
    LOG_SERVICE_IDS,
    LOG_SERVICES,
    NAMESPACE_RULES,
    AwsAccount,
    AwsIntegration,
    InvalidField,
    check_field,
    now_iso,
)

BASE = "/api/v1/integration/aws"


def not_found(account: Any) -> ApiError:
    """The recorded 400 for any operation naming an account the org does not have (cassettes
    test_delete_an_aws_integration_returns_ok_response, TestAccDatadogIntegrationAwsTagFilter_Basic)."""
    return ApiError(400, f"AWS account {account} does not exist in integration")


def duplicate(account: str) -> ApiError:
    return ApiError(409, f"AWS account {account} already exists in integration")  # assumed wording


def _aws(request: web.Request) -> AwsIntegration:
    return org_of(request).aws


def _str(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"'{name}' is required")  # assumed wording
        return None
    try:
        return check_field(name, "str", value)
    except InvalidField as exc:
        raise ApiError(400, str(exc)) from None


def _apply(account: AwsAccount, body: dict[str, Any]) -> None:
    try:
        account.apply_settings(body)
    except InvalidField as exc:
        raise ApiError(400, str(exc)) from None


# --- accounts ------------------------------------------------------------------------------------------------------


@endpoint(permission=AWS_READ)
async def list_accounts(request: web.Request) -> web.Response:
    aws = _aws(request)
    if not aws.installed:
        raise ApiError(400, "AWS integration is not installed")  # assumed wording (TF reads a 400 as not installed)
    q = request.query
    accounts = aws.accounts
    # Filters only match what the listed element shows: key accounts are listed without account_id.
    if "account_id" in q:
        accounts = [a for a in accounts if not a.is_key_account and a.account_id == q["account_id"]]
    if "role_name" in q:
        accounts = [a for a in accounts if not a.is_key_account and a.role_name == q["role_name"]]
    if "access_key_id" in q:
        accounts = [a for a in accounts if a.access_key_id == q["access_key_id"]]
    return ok({"accounts": [a.listed() for a in accounts]})


@endpoint(permission=AWS_MANAGE, aws_write=True)
async def create_account(request: web.Request) -> web.Response:
    body = await json_body(request)
    aws = _aws(request)
    account = AwsAccount()
    if body.get("access_key_id") is not None:
        if body.get("role_name") is not None:
            raise ApiError(400, "Only one of role_name or access_key_id can be set")  # assumed wording
        account.access_key_id = _str(body, "access_key_id")
        account.secret_access_key = _str(body, "secret_access_key")
        # The numeric account id sent with a key is kept: /logs addresses key accounts by it (recorded:
        # TestAccDatadogIntegrationAWSLambdaArnAccessKey cassette; terraform-provider-datadog GH#2154).
        account.account_id = _str(body, "account_id", required=False)
        if aws.find_key(account.access_key_id):
            raise duplicate(account.access_key_id)  # type: ignore[arg-type]
    else:
        account.account_id = _str(body, "account_id")
        account.role_name = _str(body, "role_name")
        account.external_id = core_of(request).new_external_id()
    if aws.account_id_in_use(account.account_id):
        raise duplicate(account.account_id)  # type: ignore[arg-type]
    _apply(account, body)
    aws.add(account)
    aws.installed = True
    return ok({"external_id": account.external_id} if account.external_id else {})


def _addressed_by_query(request: web.Request) -> AwsAccount:
    """PUT names the account in the query: account_id + role_name, or access_key_id (UpdateAWSAccount in the
    v1 OpenAPI spec; test_update_an_aws_integration_returns_ok_response cassette)."""
    q = request.query
    aws = _aws(request)
    if "access_key_id" in q:
        account = aws.find_key(q["access_key_id"])
        if account is None:
            raise not_found(q["access_key_id"])
        return account
    if "account_id" in q:
        if "role_name" not in q:
            raise ApiError(400, "'role_name' is required when 'account_id' is specified")  # assumed wording
        account = aws.find_role(q["account_id"])
        if account is None or account.role_name != q["role_name"]:
            raise not_found(q["account_id"])
        return account
    raise ApiError(400, "Either 'account_id' and 'role_name', or 'access_key_id' is required")  # assumed wording


@endpoint(permission=AWS_EDIT, aws_write=True)
async def update_account(request: web.Request) -> web.Response:
    current = _addressed_by_query(request)
    body = await json_body(request)
    aws = _aws(request)
    switching = body.get("role_name") is not None if current.is_key_account else body.get("access_key_id") is not None
    if switching:
        # v2's recorded message (test_update_an_aws_integration_returns_bad_request_response); v1 never recorded it.
        raise ApiError(400, "cannot switch between role and key based auth")
    # Work on a copy so a rejected body changes nothing.
    updated = copy.deepcopy(current)
    if current.is_key_account:
        updated.access_key_id = _str(body, "access_key_id", required=False) or current.access_key_id
        updated.secret_access_key = _str(body, "secret_access_key", required=False) or current.secret_access_key
        if updated.access_key_id != current.access_key_id and aws.find_key(updated.access_key_id):
            raise duplicate(updated.access_key_id)  # type: ignore[arg-type]
    else:
        # A rename through the body is allowed: query = old name, body = new name (TF's v1 resource does this).
        updated.role_name = _str(body, "role_name", required=False) or current.role_name
    updated.account_id = _str(body, "account_id", required=False) or current.account_id
    if updated.account_id != current.account_id and aws.account_id_in_use(updated.account_id, ignore=current):
        raise duplicate(updated.account_id)  # type: ignore[arg-type]
    _apply(updated, body)
    updated.modified_at = now_iso()  # what v2 shows
    aws.replace(current, updated)
    return ok()


@endpoint(permission=AWS_MANAGE, aws_write=True)
async def delete_account(request: web.Request) -> web.Response:
    body = await json_body(request)
    aws = _aws(request)
    if body.get("access_key_id") is not None:
        account = aws.find_key(body["access_key_id"])
        if account is None:
            raise not_found(body["access_key_id"])
    elif body.get("account_id") is not None:
        role_name = _str(body, "role_name")
        account = aws.find_role(body["account_id"])
        if account is None or account.role_name != role_name:
            raise not_found(body["account_id"])
    else:
        raise ApiError(400, "Either 'account_id' and 'role_name', or 'access_key_id' is required")  # assumed
    # Tag filters and logs config live in the account, so they go with it (the real GET /logs is [] afterwards).
    aws.remove(account)
    return ok()


@endpoint(permission=AWS_EDIT, aws_write=True)
async def generate_new_external_id(request: web.Request) -> web.Response:
    body = await json_body(request)
    account_id, role_name = _str(body, "account_id"), _str(body, "role_name")
    account = _aws(request).find_role(account_id)
    if account is None or account.role_name != role_name:
        raise not_found(account_id)
    account.external_id = core_of(request).new_external_id()
    return ok({"external_id": account.external_id})


@endpoint(permission=AWS_READ)
async def available_namespace_rules(request: web.Request) -> web.Response:
    return ok(list(NAMESPACE_RULES))


# --- tag filters ---------------------------------------------------------------------------------------------------


def _namespace(body: dict[str, Any]) -> str:
    namespace = body.get("namespace")
    if namespace not in FILTER_NAMESPACES:
        allowed = ", ".join(FILTER_NAMESPACES)
        raise ApiError(400, f"Invalid namespace '{namespace}': must be one of {allowed}")  # assumed wording
    return namespace  # type: ignore[return-value]


def _filtering_account(request: web.Request, account_id: str) -> AwsAccount:
    account = _aws(request).find_for_filtering(account_id)
    if account is None:
        raise not_found(account_id)
    return account


@endpoint(permission=AWS_READ)
async def list_tag_filters(request: web.Request) -> web.Response:
    account_id = request.query.get("account_id")
    if not account_id:
        raise ApiError(400, "'account_id' is required")  # assumed wording
    account = _filtering_account(request, account_id)
    # Every namespace is listed; unset ones carry null (recorded: TestAccDatadogIntegrationAwsTagFilter_Basic).
    filters = [{"namespace": ns, "tag_filter_str": account.tag_filters.get(ns)} for ns in FILTER_NAMESPACES]
    return ok({"filters": filters})


@endpoint(permission=AWS_EDIT, aws_write=True)
async def create_tag_filter(request: web.Request) -> web.Response:
    body = await json_body(request)
    account_id = _str(body, "account_id")
    namespace = _namespace(body)
    tag_filter_str = body.get("tag_filter_str")
    if not isinstance(tag_filter_str, str):
        raise ApiError(400, "Invalid value for 'tag_filter_str': expected a string")  # assumed wording
    _filtering_account(request, account_id).tag_filters[namespace] = tag_filter_str  # type: ignore[arg-type]
    return ok()


@endpoint(permission=AWS_EDIT, aws_write=True)
async def delete_tag_filter(request: web.Request) -> web.Response:
    body = await json_body(request)
    account_id = _str(body, "account_id")
    namespace = _namespace(body)
    _filtering_account(request, account_id).tag_filters.pop(namespace, None)  # type: ignore[arg-type]
    return ok()


# --- logs ----------------------------------------------------------------------------------------------------------


def _logs_account(request: web.Request, account_id: str) -> AwsAccount:
    account = _aws(request).find_for_logs(account_id)
    if account is None:
        raise not_found(account_id)
    return account


@endpoint(permission=AWS_READ)
async def list_logs(request: web.Request) -> web.Response:
    return ok([a.logs_listed() for a in _aws(request).accounts if a.has_logs_config()])


@endpoint(permission=AWS_EDIT, aws_write=True)
async def add_lambda_arn(request: web.Request) -> web.Response:
    body = await json_body(request)
    account_id, arn = _str(body, "account_id"), _str(body, "lambda_arn")
    account = _logs_account(request, account_id)  # type: ignore[arg-type]
    if arn not in account.lambdas:  # adding an ARN twice is a no-op 200
        account.lambdas.append(arn)  # type: ignore[arg-type]
    return ok()


@endpoint(permission=AWS_EDIT, aws_write=True)
async def delete_lambda_arn(request: web.Request) -> web.Response:
    body = await json_body(request)
    account_id, arn = _str(body, "account_id"), _str(body, "lambda_arn")
    account = _logs_account(request, account_id)  # type: ignore[arg-type]
    if arn in account.lambdas:
        account.lambdas.remove(arn)  # type: ignore[arg-type]
    return ok()


@endpoint(permission=AWS_READ)
async def list_log_services(request: web.Request) -> web.Response:
    return ok([{"id": sid, "label": label} for sid, label in LOG_SERVICES])


@endpoint(permission=AWS_EDIT, aws_write=True)
async def enable_log_services(request: web.Request) -> web.Response:
    body = await json_body(request)
    account_id = _str(body, "account_id")
    services = body.get("services")
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise ApiError(400, "Invalid value for 'services': expected a list of strings")  # assumed wording
    for service in services:
        if service not in LOG_SERVICE_IDS:
            raise ApiError(400, f"Invalid service '{service}'")  # assumed wording
    # The call replaces the whole set; [] turns everything off (recorded: TestAccDatadogIntegrationAWSLogCollection).
    _logs_account(request, account_id).log_services = list(dict.fromkeys(services))  # type: ignore[arg-type]
    return ok()


def add_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get(BASE, list_accounts, allow_head=False),
            web.post(BASE, create_account),
            web.put(BASE, update_account),
            web.delete(BASE, delete_account),
            web.put(f"{BASE}/generate_new_external_id", generate_new_external_id),
            web.get(f"{BASE}/available_namespace_rules", available_namespace_rules, allow_head=False),
            web.get(f"{BASE}/filtering", list_tag_filters, allow_head=False),
            web.post(f"{BASE}/filtering", create_tag_filter),
            web.delete(f"{BASE}/filtering", delete_tag_filter),
            web.get(f"{BASE}/logs", list_logs, allow_head=False),
            web.post(f"{BASE}/logs", add_lambda_arn),
            web.delete(f"{BASE}/logs", delete_lambda_arn),
            web.get(f"{BASE}/logs/services", list_log_services, allow_head=False),
            web.post(f"{BASE}/logs/services", enable_log_services),
        ]
    )

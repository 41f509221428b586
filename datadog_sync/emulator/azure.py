"""The Azure integration (v1, `/api/v1/integration/azure` and `/host_filters`): the handlers (the store is azure_model.py).

An app registration is addressed by `tenant_name` + `client_id` in the JSON body (there is no path id). Recorded
behaviours (terraform-provider-datadog `datadog/tests/cassettes/TestAccDatadogIntegrationAzure*`,
`TestAccDatadogLogsArchiveAzure_basic`; datadog-api-client-python `tests/v1/cassettes/test_scenarios/` Azure ones):
writes answer `{}`; the list never shows `client_secret` nor `new_*`; an org without app registrations answers the
list with 400 "Azure Integration not yet installed"; deleting an absent pair is 200; `new_tenant_name` /
`new_client_id` are ignored (datadog-api-client-go GH#2561: ignored on purpose since 2024), so a rename is a delete
and a create. Permissions are the spec's `x-permission`s
(https://docs.datadoghq.com/api/latest/azure-integration/). Messages marked "assumed" were never recorded.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from datadog_sync.emulator.azure_model import NOT_INSTALLED, AzureAccount, AzureIntegration, check, secret
from datadog_sync.emulator.common import ApiError, endpoint, json_body, ok, org_of
from datadog_sync.emulator.permissions import AZURE_EDIT, AZURE_MANAGE, AZURE_READ
from datadog_sync.emulator.state import InvalidField

BASE = "/api/v1/integration/azure"


# --- handlers --------------------------------------------------------------------------------------------------------


def _store(request: web.Request) -> AzureIntegration:
    return org_of(request).azure


def _pair(body: dict[str, Any]) -> tuple[str, str]:
    tenant, client = body.get("tenant_name"), body.get("client_id")
    if not isinstance(tenant, str) or not tenant or not isinstance(client, str) or not client:
        raise ApiError(400, "tenant_name and client_id are required")  # assumed
    return tenant, client


def _existing(store: AzureIntegration, body: dict[str, Any]) -> AzureAccount:
    tenant, client = _pair(body)
    if not store.accounts:
        raise ApiError(400, NOT_INSTALLED)  # as the list answers; assumed for writes
    account = store.find(body)
    if account is None:
        raise ApiError(400, f"Azure integration for tenant {tenant} and client {client} does not exist")  # assumed
    return account


@endpoint(permission=AZURE_READ)
async def list_accounts(request: web.Request) -> web.Response:
    store = _store(request)
    if not store.accounts:  # TestAccDatadogLogsArchiveAzure_basic, last interaction; TF GH#2695
        raise ApiError(400, NOT_INSTALLED)
    return web.json_response([a.listed(store.api_date) for a in store.accounts])


@endpoint(permission=AZURE_MANAGE)
async def create_account(request: web.Request) -> web.Response:
    """A new pair is added; an existing pair is updated ("adding your new configuration to the existing one", the
    spec's wording; not recorded). Read-only and ignored fields (`errors`, `new_*`) are accepted and dropped."""
    store = _store(request)
    body = await json_body(request)
    tenant, client = _pair(body)
    try:
        existing = store.find(body)
        if existing is None:
            account = AzureAccount(tenant, client, secret(body.get("client_secret")))
            account.apply(body)
            store.accounts.append(account)
        else:
            updated = copy.deepcopy(existing)
            updated.apply(body)
            store.accounts[store.accounts.index(existing)] = updated
    except InvalidField as exc:
        raise ApiError(400, str(exc)) from None  # assumed wording
    return ok()


@endpoint(permission=AZURE_EDIT)
async def update_account(request: web.Request) -> web.Response:
    """Fields supplied overwrite, others stay; `new_tenant_name` / `new_client_id` are ignored (see above); a PUT
    without `client_secret` keeps the stored one (not recorded: TF always re-sends it)."""
    store = _store(request)
    body = await json_body(request)
    current = _existing(store, body)
    updated = copy.deepcopy(current)
    try:
        updated.apply(body)
    except InvalidField as exc:
        raise ApiError(400, str(exc)) from None
    store.accounts[store.accounts.index(current)] = updated
    return ok()


@endpoint(permission=AZURE_MANAGE)
async def delete_account(request: web.Request) -> web.Response:
    store = _store(request)
    body = await json_body(request)
    _pair(body)
    account = store.find(body)
    if account is not None:
        store.accounts.remove(account)
    return ok()  # 200 {} for an absent pair too (test_delete_an_azure_integration_returns_ok_response)


@endpoint(permission=AZURE_EDIT)
async def update_host_filters(request: web.Request) -> web.Response:
    """Sets only `host_filters` of the pair (the spec's "Update the defined list of host filters"; not recorded)."""
    store = _store(request)
    body = await json_body(request)
    current = _existing(store, body)
    try:
        host_filters = check("host_filters", body.get("host_filters"))
    except InvalidField as exc:
        raise ApiError(400, str(exc)) from None
    current.settings["host_filters"] = host_filters
    return ok()


def add_routes(app: web.Application) -> None:
    app.router.add_routes(
        [
            web.get(BASE, list_accounts, allow_head=False),
            web.post(BASE, create_account),
            web.put(BASE, update_account),
            web.delete(BASE, delete_account),
            web.post(f"{BASE}/host_filters", update_host_filters),
        ]
    )

"""The emulator's GCP and Azure bodies, and the tests' request bodies, against datadog-api-client's models."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.conftest import Api
from tests.emulator.test_azure import APP, PAIR
from tests.emulator.test_gcp import ACCOUNTS, DELEGATE, EMAIL, V1, V1_ACCOUNT, body

pytest.importorskip("datadog_api_client")

from datadog_api_client.v1.model.api_error_response import APIErrorResponse  # noqa: E402
from datadog_api_client.v1.model.azure_account import AzureAccount  # noqa: E402
from datadog_api_client.v1.model.azure_account_list_response import AzureAccountListResponse  # noqa: E402
from datadog_api_client.v1.model.gcp_account import GCPAccount  # noqa: E402
from datadog_api_client.v1.model.gcp_account_list_response import GCPAccountListResponse  # noqa: E402
from datadog_api_client.v2.model.gcpsts_delegate_account_response import GCPSTSDelegateAccountResponse  # noqa: E402
from datadog_api_client.v2.model.gcpsts_service_account_create_request import (  # noqa: E402
    GCPSTSServiceAccountCreateRequest,
)
from datadog_api_client.v2.model.gcpsts_service_account_response import GCPSTSServiceAccountResponse  # noqa: E402
from datadog_api_client.v2.model.gcpsts_service_account_update_request import (  # noqa: E402
    GCPSTSServiceAccountUpdateRequest,
)
from datadog_api_client.v2.model.gcpsts_service_accounts_response import GCPSTSServiceAccountsResponse  # noqa: E402

from tests.client_models import assert_deep_parsed, deserialize  # noqa: E402

#: A create using every documented attribute (the spec's GCPSTSServiceAccountAttributes).
FULL: dict[str, Any] = {
    "client_email": EMAIL,
    "account_tags": ["env:prod"],
    "automute": True,
    "is_cspm_enabled": True,
    "resource_collection_enabled": True,
    "is_security_command_center_enabled": True,
    "is_resource_change_collection_enabled": True,
    "is_global_location_enabled": False,
    "is_per_project_quota_enabled": True,
    "region_filter_configs": ["us-east1"],
    "metric_namespace_configs": [{"id": "pubsub", "disabled": False, "filters": ["snapshot.*"]}],
    "monitored_resource_configs": [{"type": "gce_instance", "filters": ["env:prod"]}],
}


async def test_gcp_v2_bodies_match_official_models(api: Api) -> None:
    assert_deep_parsed(deserialize(body(**FULL), (GCPSTSServiceAccountCreateRequest,)))
    update = {"data": {"type": "gcp_service_account", "attributes": {"automute": False}}}
    assert_deep_parsed(deserialize(update, (GCPSTSServiceAccountUpdateRequest,)))
    created = await api.post(ACCOUNTS, body(**FULL))
    assert_deep_parsed(deserialize(created.body, (GCPSTSServiceAccountResponse,)))
    minimal = await api.post(ACCOUNTS, body(client_email="minimal@x.iam.gserviceaccount.com"))
    assert_deep_parsed(deserialize(minimal.body, (GCPSTSServiceAccountResponse,)))
    patched = await api.patch(f"{ACCOUNTS}/{created.body['data']['id']}", update)
    assert_deep_parsed(deserialize(patched.body, (GCPSTSServiceAccountResponse,)))
    listed = deserialize((await api.get(ACCOUNTS)).body, (GCPSTSServiceAccountsResponse,))
    assert_deep_parsed(listed)
    assert len(listed.data) == 2 and listed.data[0].meta.accessible_projects == []
    assert_deep_parsed(deserialize((await api.get(DELEGATE)).body, (GCPSTSDelegateAccountResponse,)))
    assert_deep_parsed(deserialize((await api.post(DELEGATE)).body, (GCPSTSDelegateAccountResponse,)))
    error = await api.post(ACCOUNTS, body(client_email=EMAIL))
    assert error.status == 409 and deserialize(error.body, (APIErrorResponse,)).errors


async def test_gcp_v1_bodies_match_official_models(api: Api) -> None:
    assert_deep_parsed(deserialize(V1_ACCOUNT, (GCPAccount,)))
    assert (await api.post(V1, V1_ACCOUNT)).status == 200
    assert (await api.post(ACCOUNTS, body(**FULL))).status == 201
    rows = deserialize((await api.get(V1)).body, (GCPAccountListResponse,))
    assert_deep_parsed(rows.value)
    assert [r.client_email for r in rows.value] == [V1_ACCOUNT["client_email"], EMAIL]


async def test_azure_bodies_match_official_models(api: Api) -> None:
    assert_deep_parsed(deserialize(APP, (AzureAccount,)))
    empty = await api.get("/api/v1/integration/azure")
    assert_deep_parsed(deserialize(empty.body, (APIErrorResponse,)))
    rpc = [{"namespace": "Microsoft.Compute", "metrics_enabled": False}]
    assert (await api.post("/api/v1/integration/azure", {**APP, "resource_provider_configs": rpc})).body == {}
    rows = deserialize((await api.get("/api/v1/integration/azure")).body, (AzureAccountListResponse,))
    assert_deep_parsed(rows.value)
    assert rows.value[0].tenant_name == PAIR["tenant_name"]
    assert rows.value[0].resource_provider_configs[0].namespace == "Microsoft.Compute"

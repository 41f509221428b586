"""The ``cloudflare`` subtype's pure parts: stored shape, comparison and payloads (checked against
datadog-api-client's models)."""

from __future__ import annotations

from datadog_api_client.v2.model.cloudflare_account_create_request import CloudflareAccountCreateRequest
from datadog_api_client.v2.model.cloudflare_account_update_request import CloudflareAccountUpdateRequest
from datadog_api_client.v2.model.cloudflare_accounts_response import CloudflareAccountsResponse

from datadog_sync.resources.integrations.cloudflare import model
from tests.client_models import valid

#: A token account as listed (datadog-api-client-python cassette test_list_cloudflare_accounts_returns_ok_response).
ITEM = {
    "type": "cloudflare-accounts",
    "id": "c1a8e059bfd1e911e81c4b1f3ed5bbd1",
    "attributes": {"email": "", "name": "test-name", "resources": ["web", "dns"], "zones": []},
}


def test_from_api_and_server_defaults_are_no_drift():
    valid({"data": [ITEM]}, CloudflareAccountsResponse)
    obj = model.from_api(ITEM)
    assert obj == {
        "name": "cloudflare",
        "account_name": "test-name",
        "id": ITEM["id"],
        "email": "",
        "resources": ["web", "dns"],
        "zones": [],
    }
    # omitted lists answer [], a token account's email is "", list order means nothing
    assert model.differences({**obj, "resources": ["dns", "web"]}, {**obj, "email": None, "zones": None}) == []
    assert model.differences(obj, {**obj, "zones": ["z"]})


def test_payloads_send_the_key_and_every_list():
    obj = {**model.from_api(ITEM), "email": "ops@example.com"}
    create = model.create_payload(obj, "key")
    valid(create, CloudflareAccountCreateRequest)
    assert create["data"]["attributes"] == {
        "name": "test-name",
        "api_key": "key",
        "resources": ["dns", "web"],
        "zones": [],
        "email": "ops@example.com",
    }
    update = model.update_payload(model.from_api(ITEM), "key")
    valid(update, CloudflareAccountUpdateRequest)
    assert "email" not in update["data"]["attributes"] and update["data"]["attributes"]["resources"] == ["dns", "web"]

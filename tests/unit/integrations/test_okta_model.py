"""The ``okta`` subtype's pure parts: stored shape, comparison and payloads (checked against datadog-api-client's
models)."""

from __future__ import annotations

from datadog_api_client.v2.model.okta_account_request import OktaAccountRequest
from datadog_api_client.v2.model.okta_account_update_request import OktaAccountUpdateRequest
from datadog_api_client.v2.model.okta_accounts_response import OktaAccountsResponse

from datadog_sync.resources.integrations.okta import model
from tests.client_models import valid

#: As recorded (datadog-api-client-python cassette test_list_okta_accounts_returns_ok_response).
ITEM = {
    "type": "okta-accounts",
    "attributes": {
        "client_id": "fakeclientid",
        "name": "testlistoktaaccountsreturnsokresponse1700585986",
        "auth_method": "oauth",
        "domain": "https://dev-test.okta.com/",
    },
    "id": "a5e9a04b-ac5b-4a5c-a4d5-c697deb232aa",
}


def test_from_api_and_comparison_ignore_the_id():
    valid({"data": [ITEM]}, OktaAccountsResponse)
    obj = model.from_api(ITEM)
    assert obj["account_name"] == ITEM["attributes"]["name"] and obj["id"] == ITEM["id"]
    assert model.differences({**obj, "id": "new"}, obj) == []
    assert model.differences(obj, {**obj, "domain": "https://x.okta.com/"})


def test_payloads_put_the_secret_where_the_auth_method_wants_it():
    obj = model.from_api(ITEM)
    create = model.create_payload(obj, "secret")
    valid(create, OktaAccountRequest)
    assert create["data"]["attributes"]["client_secret"] == "secret" and "id" not in create["data"]
    api_key = model.create_payload({**obj, "auth_method": "token"}, "k")["data"]["attributes"]
    assert api_key["api_key"] == "k" and "client_secret" not in api_key
    update = model.update_payload(obj, None)
    valid(update, OktaAccountUpdateRequest)
    assert set(update["data"]["attributes"]) == {"client_id", "auth_method", "domain"}
    assert model.update_payload(obj, "s")["data"]["attributes"]["client_secret"] == "s"

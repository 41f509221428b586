"""The ``confluent_cloud`` subtype's pure parts: stored shape, comparison (lower-cased resource tags,
``enable_custom_metrics`` default) and payloads (checked against datadog-api-client's models)."""

from __future__ import annotations

from datadog_api_client.v2.model.confluent_account_create_request import ConfluentAccountCreateRequest
from datadog_api_client.v2.model.confluent_account_response import ConfluentAccountResponse
from datadog_api_client.v2.model.confluent_account_update_request import ConfluentAccountUpdateRequest
from datadog_api_client.v2.model.confluent_resource_request import ConfluentResourceRequest

from datadog_sync.resources.integrations.confluent_cloud import model
from tests.client_models import valid

#: As recorded (datadog-api-client-python cassette test_get_confluent_account_returns_ok_response).
ITEM = {
    "type": "confluent-cloud-accounts",
    "id": "8a03a240e4d322d42edf6d4f4654a624",
    "attributes": {
        "resources": [
            {"resource_type": "kafka", "tags": ["tag1", "tag2:val2"], "enable_custom_metrics": False, "id": "r1"}
        ],
        "api_key": "TestGetConfluentaccountreturnsOKresponse1688395121",
        "tags": ["tag1", "tag2:val2"],
    },
}


def test_from_api_and_the_recorded_quirks_are_no_drift():
    valid({"data": ITEM}, ConfluentAccountResponse)
    obj = model.from_api(ITEM)
    assert (
        obj["api_key"] == ITEM["attributes"]["api_key"] and obj["id"] == ITEM["id"] and obj["name"] == "confluent_cloud"
    )
    desired = {**obj, "resources": [{"id": "r1", "resource_type": "kafka", "tags": ["Tag2:Val2", "TAG1"]}]}
    assert model.differences(obj, desired) == []  # lower-cased tags, enable_custom_metrics defaulting to false
    assert model.resource({"id": "r2", "type": "confluent-cloud-resources", "attributes": {"tags": []}}) == {
        "id": "r2",
        "tags": [],
    }
    assert model.differences(obj, {**obj, "tags": ["tag1"]}) and model.account_differences(obj, {**obj, "tags": []})


def test_payloads_and_minimal_resource_writes():
    obj = model.from_api(ITEM)
    create = model.create_payload(obj, "secret")
    valid(create, ConfluentAccountCreateRequest)
    assert (
        create["data"]["attributes"]["api_secret"] == "secret"
        and create["data"]["attributes"]["resources"][0]["id"] == "r1"
    )
    update = model.update_payload(obj, "secret")
    valid(update, ConfluentAccountUpdateRequest)
    assert "resources" not in update["data"]["attributes"]
    current = {**obj, "resources": [*obj["resources"], {"id": "old", "resource_type": "ksql"}]}
    desired = {
        **obj,
        "resources": [
            {**obj["resources"][0], "enable_custom_metrics": True},
            {"id": "new", "resource_type": "connector"},
        ],
    }
    writes = model.resource_writes(current, desired)
    assert [(m, i) for m, i, _ in writes] == [("PATCH", "r1"), ("POST", "new"), ("DELETE", "old")]
    assert writes[0][2]["data"]["attributes"]["tags"] == ["tag1", "tag2:val2"]
    for _, _, body in writes[:2]:
        valid(body, ConfluentResourceRequest)
    assert model.resource_writes(obj, obj) == []


def test_payloads_send_tags_as_the_source_has_them():
    obj = {
        **model.from_api(ITEM),
        "tags": ["Team:Data", "a"],
        "resources": [{"id": "r1", "resource_type": "kafka", "tags": ["myTag", "Env:Prod"]}],
    }
    create = model.create_payload(obj, "secret")["data"]["attributes"]
    assert create["tags"] == ["Team:Data", "a"] and create["resources"][0]["tags"] == ["myTag", "Env:Prod"]
    assert model.update_payload(obj, "secret")["data"]["attributes"]["tags"] == ["Team:Data", "a"]
    current = {**obj, "resources": [{"id": "r1", "resource_type": "kafka", "tags": ["mytag"]}]}
    ((method, _, body),) = model.resource_writes(current, obj)
    assert method == "PATCH" and body["data"]["attributes"]["tags"] == ["myTag", "Env:Prod"]

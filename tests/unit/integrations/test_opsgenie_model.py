"""The ``opsgenie`` stored shape, comparison, checks and payloads; payloads validated against
datadog-api-client's models."""

from __future__ import annotations

import pytest
from datadog_api_client.v2.model.opsgenie_service_create_request import OpsgenieServiceCreateRequest
from datadog_api_client.v2.model.opsgenie_service_response import OpsgenieServiceResponse
from datadog_api_client.v2.model.opsgenie_service_update_request import OpsgenieServiceUpdateRequest
from datadog_api_client.v2.model.opsgenie_services_response import OpsgenieServicesResponse

from datadog_sync.resources.integrations.opsgenie import model
from tests.client_models import deserialize

ID = "596da4af-0563-4097-90ff-07230c3f9db3"
#: An item as recorded (test_create_a_new_service_object_returns_created_response #0): custom_url null when unset.
ITEM = {"type": "opsgenie-service", "id": ID, "attributes": {"name": "payments", "region": "us", "custom_url": None}}


def test_a_listed_item_in_the_stored_shape():
    assert deserialize({"data": [ITEM]}, OpsgenieServicesResponse)
    assert deserialize({"data": ITEM}, OpsgenieServiceResponse)
    obj = model.from_api(ITEM)
    assert obj == {"name": "opsgenie", "service_name": "payments", "custom_url": None, "region": "us", "id": ID}
    assert model.state_key(obj) == "opsgenie:payments" and model.handle(obj) == "@opsgenie-payments"
    assert model.from_api({"attributes": {"name": "x", "opsgenie_api_key": "k", "new": 1}}) == {
        "name": "opsgenie",
        "service_name": "x",
        "new": 1,
    }
    assert model.from_api({"attributes": None}) == {"name": "opsgenie", "service_name": ""}


def test_payloads_fit_the_client_models():
    obj = model.from_api(ITEM)
    create = deserialize(model.create_payload(obj, "key"), OpsgenieServiceCreateRequest)
    assert create.data.attributes.name == "payments" and create.data.attributes.opsgenie_api_key == "key"
    assert "custom_url" not in model.create_payload(obj, "key")["data"]["attributes"]
    custom = {**obj, "region": "custom", "custom_url": "https://og.example.com"}
    assert model.create_payload(custom, "k")["data"]["attributes"]["custom_url"] == "https://og.example.com"
    update = deserialize(model.update_payload(obj, "dest-id"), OpsgenieServiceUpdateRequest)
    assert update.data.id == "dest-id" and update.data.attributes.custom_url is None
    assert "opsgenie_api_key" not in model.update_payload(obj, "dest-id")["data"]["attributes"]
    with_key = deserialize(model.update_payload(obj, "dest-id", "key"), OpsgenieServiceUpdateRequest)
    assert with_key.data.attributes.opsgenie_api_key == "key"


def test_comparison_ignores_ids_and_null_custom_url_but_not_a_rename():
    obj = model.from_api(ITEM)
    other_org = {**obj, "id": "another", "source_id": ID}
    assert model.differences(other_org, obj) == []
    assert model.differences({k: v for k, v in obj.items() if k != "custom_url"}, obj) == []
    assert [d.path for d in model.differences({**obj, "custom_url": "https://x"}, obj)] == ["custom_url"]
    assert [d.path for d in model.differences(obj, {**obj, "service_name": "new"})] == ["service_name"]
    assert model.differences({**obj, "extra": 1}, obj) == []


@pytest.mark.parametrize(
    ("key", "changes", "problem"),
    [
        ("opsgenie:payments", {}, None),
        ("opsgenie:payments", {"region": 1}, "region: expected a string"),
        ("opsgenie:payments", {"opsgenie_api_key": "k"}, "never kept in state"),
        ("opsgenie:payments", {"region": "moon"}, "region: one of us, eu, custom"),
        ("opsgenie:", {"service_name": ""}, "service_name: needed"),
        ("opsgenie:other", {}, "stored under opsgenie:other"),
    ],
)
def test_problems(key, changes, problem):
    found = model.problems(key, {**model.from_api(ITEM), **changes})
    assert (found == []) if problem is None else (problem in found[0])

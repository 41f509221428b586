"""The ``fastly`` subtype's pure parts: stored shape, comparison, payloads (checked against datadog-api-client's
models) and hand-edited entries."""

from __future__ import annotations

from datadog_api_client.v2.model.fastly_account_create_request import FastlyAccountCreateRequest
from datadog_api_client.v2.model.fastly_account_response import FastlyAccountResponse
from datadog_api_client.v2.model.fastly_service_request import FastlyServiceRequest

from datadog_sync.resources.integrations.fastly import model
from tests.client_models import valid

#: As recorded (datadog-api-client-python cassette test_add_fastly_account_returns_created_response).
ITEM = {
    "type": "fastly-accounts",
    "id": "0427b05b6f56f454ca1477aa8df5e75d",
    "attributes": {"name": "test-name", "services": [{"id": "s1", "tags": ["b", "a"]}]},
}


def test_from_api_keeps_the_name_under_account_name_and_never_the_key():
    valid({"data": ITEM}, FastlyAccountResponse)
    obj = model.from_api({**ITEM, "attributes": {**ITEM["attributes"], "api_key": "k", "new": 1}})
    assert obj == {
        "name": "fastly",
        "account_name": "test-name",
        "id": ITEM["id"],
        "new": 1,
        "services": [{"id": "s1", "tags": ["b", "a"]}],
    }
    assert model.service({"id": "s2", "attributes": {"tags": ["x"]}}) == {"id": "s2", "tags": ["x"]}


def test_tag_order_and_the_id_are_no_drift_a_service_is():
    obj = model.from_api(ITEM)
    other = {**obj, "id": "f" * 32, "services": [{"id": "s1", "tags": ["a", "b"]}], "extra": "dest-only"}
    assert model.differences(other, obj) == []
    assert model.differences(other, {**obj, "services": []})


def test_payloads_are_valid_requests_and_writes_are_minimal():
    obj = model.from_api(ITEM)
    body = model.create_payload(obj, "key")
    valid(body, FastlyAccountCreateRequest)
    assert body["data"]["attributes"] == {
        "name": "test-name",
        "api_key": "key",
        "services": [{"id": "s1", "tags": ["a", "b"]}],
    }
    valid(model.service_payload("s1", ["a"]), FastlyServiceRequest)
    current = {**obj, "services": [{"id": "s1", "tags": ["a", "b"]}, {"id": "old", "tags": []}]}
    desired = {**obj, "services": [{"id": "s1", "tags": ["c"]}, {"id": "new", "tags": []}]}
    assert [(m, i) for m, i, _ in model.service_writes(current, desired)] == [
        ("PATCH", "s1"),
        ("POST", "new"),
        ("DELETE", "old"),
    ]
    assert model.service_writes(obj, obj) == []


def test_hand_edited_entries(harness):
    fastly = harness().resource.subtypes["fastly"]
    obj = model.from_api(ITEM)
    assert fastly.problems("fastly:test-name", obj) == []
    assert fastly.problems("fastly:other", obj) == [
        "account_name: the entry is stored under fastly:other, but it makes it fastly:test-name"
    ]
    assert fastly.problems("fastly:test-name", {**obj, "api_key": "k"})[0].startswith("api_key: never kept")
    assert fastly.problems("fastly:", {"name": "fastly"}) == ["account_name: needed"]
    assert fastly.problems("fastly:x", {**obj, "services": "x"})

"""The v2 stored shape: normalisation, comparison, payloads (validated against datadog-api-client's v2 models),
schema problems and keys."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from datadog_api_client.v2.model.aws_account_create_request import AWSAccountCreateRequest
from datadog_api_client.v2.model.aws_account_update_request import AWSAccountUpdateRequest

from datadog_sync.resources.integrations.aws import v2_model as model
from tests.client_models import assert_deep_parsed, deserialize

# The create answer of datadog-api-client-python's cassette test_create_an_aws_account_returns_aws_account_object_
# response (2025-08-06), plus metric_name_filters as terraform-provider-datadog's TestAccIntegrationAwsAccount_
# RoleBased cassette sets them.
ROLE_ITEM: dict[str, Any] = {
    "id": "4ee52a3f-d0e9-487b-bde9-cd1cbc0e4cb0",
    "type": "account",
    "attributes": {
        "account_tags": ["key:value", "a:b"],
        "auth_config": {"role_name": "DatadogIntegrationRole", "external_id": "a4e4a6b4c2cf4638a58b1febc6b856e9"},
        "aws_account_id": "123456789012",
        "aws_partition": "aws",
        "aws_regions": {"include_only": ["us-west-2", "us-east-1"]},
        "created_at": "2025-08-06T17:41:41.111886478Z",
        "logs_config": {
            "lambda_forwarder": {
                "lambdas": [
                    "arn:aws:lambda:us-east-1:123456789012:function:B",
                    "arn:aws:lambda:us-east-1:1:function:A",
                ],
                "sources": ["s3", "lambda"],
                "log_source_config": {"tag_filters": [{"source": "s3", "tags": ["z:1", "test:test"]}]},
            }
        },
        "metrics_config": {
            "enabled": True,
            "automute_enabled": True,
            "collect_custom_metrics": True,
            "collect_cloudwatch_alarms": True,
            "tag_filters": [{"namespace": "AWS/RDS", "tags": None}, {"namespace": "AWS/EC2", "tags": ["k:v", "a:b"]}],
            "namespace_filters": {"exclude_only": ["AWS/SQS", "AWS/ElasticMapReduce"]},
            "metric_name_filters": [{"namespace": "AWS/EC2", "include_only": ["b", "aws.ec2.network_in"]}],
        },
        "modified_at": "2025-08-06T17:41:41.111886478Z",
        "resources_config": {"cloud_security_posture_management_collection": False, "extended_collection": False},
        "traces_config": {"xray_services": {"include_only": ["svc-b", "svc-a"]}},
    },
}
# datadog-api-client-python cassette test_create_an_aws_integration_returns_aws_account_object_response: a key
# account's auth_config holds only its access key id.
KEY_ITEM: dict[str, Any] = {
    "id": "0a3b1c2d-0000-4000-8000-000000000001",
    "type": "account",
    "attributes": {
        "account_tags": None,
        "auth_config": {"access_key_id": "AKIAIOSFODNN7EXAMPLE"},
        "aws_account_id": "210987654321",
        "aws_partition": "aws-us-gov",
        "aws_regions": {"include_all": True},
    },
}


def test_from_api_keeps_every_attribute_but_the_per_org_ones_and_normalises_lists():
    obj = model.from_api(ROLE_ITEM)
    assert obj["name"] == "aws" and obj["account_id"] == obj["aws_account_id"] == "123456789012"
    for dropped in ("id", "type", "created_at", "modified_at", "external_id"):
        assert dropped not in obj
    assert obj["auth_config"] == {"role_name": "DatadogIntegrationRole"}
    assert obj["account_tags"] == ["a:b", "key:value"]
    assert obj["aws_regions"] == {"include_only": ["us-east-1", "us-west-2"]}
    forwarder = obj["logs_config"]["lambda_forwarder"]
    assert forwarder["lambdas"] == sorted(forwarder["lambdas"]) and forwarder["sources"] == ["lambda", "s3"]
    assert forwarder["log_source_config"]["tag_filters"] == [{"source": "s3", "tags": ["test:test", "z:1"]}]
    metrics = obj["metrics_config"]
    assert metrics["tag_filters"] == [
        {"namespace": "AWS/EC2", "tags": ["a:b", "k:v"]},
        {"namespace": "AWS/RDS", "tags": []},
    ]
    assert metrics["namespace_filters"] == {"exclude_only": ["AWS/ElasticMapReduce", "AWS/SQS"]}
    assert metrics["metric_name_filters"] == [{"namespace": "AWS/EC2", "include_only": ["aws.ec2.network_in", "b"]}]
    assert obj["traces_config"] == {"xray_services": {"include_only": ["svc-a", "svc-b"]}}
    assert list(obj)[:4] == ["name", "account_id", "aws_account_id", "aws_partition"]
    assert model.live_external_id(ROLE_ITEM) == "a4e4a6b4c2cf4638a58b1febc6b856e9"
    # The input is left as it was.
    assert ROLE_ITEM["attributes"]["account_tags"] == ["key:value", "a:b"]


def test_unknown_attributes_are_carried_unchanged_and_unexpected_values_untouched():
    item = copy.deepcopy(ROLE_ITEM)
    item["attributes"]["future_setting"] = {"b": [3, 1], "nested": None}
    item["attributes"]["metrics_config"]["future_flag"] = True
    item["attributes"]["account_tags"] = "not-a-list"
    item["attributes"]["aws_regions"] = {"include_only": [1, "a"]}
    obj = model.from_api(item)
    assert obj["future_setting"] == {"b": [3, 1], "nested": None}
    assert obj["metrics_config"]["future_flag"] is True
    assert obj["account_tags"] == "not-a-list" and obj["aws_regions"] == {"include_only": [1, "a"]}
    assert model.from_api({"attributes": ["junk"]}) == {"name": "aws", "account_id": ""}


def test_null_lists_are_empty_and_key_accounts_keep_their_access_key_only():
    obj = model.from_api(KEY_ITEM)
    assert obj["account_tags"] == [] and obj["auth_config"] == {"access_key_id": "AKIAIOSFODNN7EXAMPLE"}
    assert model.is_key_account(obj) and model.access_key_id(obj) == "AKIAIOSFODNN7EXAMPLE"
    assert model.role_name(obj) is None and model.live_external_id(KEY_ITEM) is None
    assert model.state_key(obj) == "aws:210987654321"
    assert model.label(obj) == "AWS key account 210987654321"
    assert model.label(model.from_api(ROLE_ITEM)) == "AWS account 123456789012"


def test_equal_configurations_compare_equal_whatever_the_order_and_nulls():
    desired = model.from_api(ROLE_ITEM)
    shuffled = copy.deepcopy(ROLE_ITEM)
    attrs = shuffled["attributes"]
    attrs["account_tags"].reverse()
    attrs["metrics_config"]["tag_filters"].reverse()
    attrs["metrics_config"]["tag_filters"][1]["tags"] = []  # null and [] are one thing
    attrs["auth_config"]["external_id"] = "another-org-id"  # never compared
    current = {**model.from_api(shuffled), "id": "dest-uuid", "external_id": "dest-id"}
    assert model.differences(current, desired) == []


def test_fields_the_source_does_not_have_are_not_owned():
    desired = model.from_api(ROLE_ITEM)
    del desired["metrics_config"]["automute_enabled"]
    del desired["traces_config"]
    current = model.from_api(ROLE_ITEM)
    current["metrics_config"]["automute_enabled"] = False  # a server default the source never set
    current["traces_config"] = {"xray_services": {"include_all": True}}
    current["server_only"] = 1
    assert model.differences(current, desired) == []
    # A list the destination does not have equals an empty one the source has.
    desired["logs_config"]["lambda_forwarder"]["lambdas"] = []
    del current["logs_config"]["lambda_forwarder"]["lambdas"]
    assert model.differences(current, desired) == []


def test_real_differences_show_and_one_of_objects_compare_whole():
    desired = model.from_api(ROLE_ITEM)
    current = model.from_api(ROLE_ITEM)
    current["aws_regions"] = {"include_all": True}
    current["metrics_config"]["collect_custom_metrics"] = False
    current["auth_config"] = {"role_name": "Old"}
    desired["new_field"] = "x"
    shown = {(d.path, d.kind) for d in model.differences(current, desired)}
    assert ("metrics_config.collect_custom_metrics", "changed") in shown
    assert ("auth_config.role_name", "changed") in shown
    assert ("new_field", "added") in shown
    assert any(path.startswith("aws_regions") for path, _ in shown)
    assert model.auth_changed(current, desired) and not model.auth_switch(current, desired)
    key = model.from_api(KEY_ITEM)
    assert model.auth_switch(key, desired) and model.auth_switch(desired, key)


def test_create_payload_is_a_valid_request_without_external_id_or_local_fields():
    role = {**model.from_api(ROLE_ITEM), "external_id": "x", "id": "y"}
    role["auth_config"]["external_id"] = "from-the-source-org"
    payload = model.create_payload(role)
    attributes = payload["data"]["attributes"]
    assert payload["data"]["type"] == "account"
    assert attributes["auth_config"] == {"role_name": "DatadogIntegrationRole"}
    assert not {"name", "account_id", "id", "external_id", "created_at"} & set(attributes)
    assert_deep_parsed(deserialize(payload, AWSAccountCreateRequest))
    key = model.create_payload(model.from_api(KEY_ITEM), "s3cr3t")
    assert key["data"]["attributes"]["auth_config"] == {
        "access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "secret_access_key": "s3cr3t",
    }
    assert_deep_parsed(deserialize(key, AWSAccountCreateRequest))


def test_update_payload_sends_the_complete_owned_object_and_auth_only_when_asked():
    obj = model.from_api(ROLE_ITEM)
    plain = model.update_payload(obj)
    assert "auth_config" not in plain["data"]["attributes"]
    assert plain["data"]["attributes"]["traces_config"] == obj["traces_config"]
    assert_deep_parsed(deserialize(plain, AWSAccountUpdateRequest))
    renamed = model.update_payload(obj, with_auth=True)
    assert renamed["data"]["attributes"]["auth_config"] == {"role_name": "DatadogIntegrationRole"}
    assert_deep_parsed(deserialize(renamed, AWSAccountUpdateRequest))
    rotated = model.update_payload(model.from_api(KEY_ITEM), "new-secret", with_auth=True)
    assert rotated["data"]["attributes"]["auth_config"]["secret_access_key"] == "new-secret"
    assert_deep_parsed(deserialize(rotated, AWSAccountUpdateRequest))


@pytest.mark.parametrize(
    ("key", "obj", "problem"),
    [
        ("aws:123456789012", None, "the entry: expected an object, got null"),
        (
            "aws:123456789012",
            {"name": "aws", "account_id": "123456789012", "role_name": "R"},
            "imported with --integrations-aws-api=v1: run import again (or pass --integrations-aws-api=v1)",
        ),
        (
            "aws:1",
            {"name": "aws", "aws_account_id": 1, "auth_config": {"role_name": "R"}},
            "aws_account_id: expected a string, got a number",
        ),
        (
            "aws:1",
            {"name": "aws", "aws_account_id": "1", "account_tags": "x", "auth_config": {"role_name": "R"}},
            "account_tags: expected a list of strings, got a string",
        ),
        ("aws:1", {"name": "aws", "auth_config": {"role_name": "R"}}, "aws_account_id: missing"),
        ("aws:1", {"name": "aws", "aws_account_id": "1", "auth_config": {}}, "auth_config: an account has either"),
        (
            "aws:1",
            {"name": "aws", "aws_account_id": "1", "auth_config": {"role_name": "R", "access_key_id": "AKIA1"}},
            "auth_config: an account has either",
        ),
        (
            "aws:1",
            {"name": "aws", "aws_account_id": "1", "account_id": "2", "auth_config": {"role_name": "R"}},
            "account_id: 2 is not",
        ),
        ("aws:2", {"name": "aws", "aws_account_id": "1", "auth_config": {"role_name": "R"}}, "stored under aws:2, but"),
        (
            "aws:1",
            {
                "name": "aws",
                "aws_account_id": "1",
                "auth_config": {"role_name": "R"},
                "metrics_config": {"tag_filters": [{"namespace": 3}]},
            },
            "metrics_config.tag_filters[0].namespace: expected a string, got a number",
        ),
    ],
)
def test_problems_name_what_is_wrong(key, obj, problem):
    found = model.problems(key, obj)
    assert found and problem in found[0], found


def test_a_valid_entry_has_no_problems_and_unknown_fields_are_allowed():
    obj = {**model.from_api(ROLE_ITEM), "brand_new": {"x": 1}, "id": "u", "external_id": "e"}
    assert model.problems("aws:123456789012", obj) == []
    assert model.problems("aws:210987654321", model.from_api(KEY_ITEM)) == []

"""Normalisation, identity and payloads of the aws subtype; payloads validate against the official v1 models."""

from __future__ import annotations

import pytest
from datadog_api_client.configuration import Configuration
from datadog_api_client.model_utils import validate_and_convert_types
from datadog_api_client.v1.model.aws_account import AWSAccount
from datadog_api_client.v1.model.aws_account_and_lambda_request import AWSAccountAndLambdaRequest
from datadog_api_client.v1.model.aws_account_delete_request import AWSAccountDeleteRequest
from datadog_api_client.v1.model.aws_logs_services_request import AWSLogsServicesRequest
from datadog_api_client.v1.model.aws_namespace import AWSNamespace
from datadog_api_client.v1.model.aws_tag_filter_create_request import AWSTagFilterCreateRequest
from datadog_api_client.v1.model.aws_tag_filter_delete_request import AWSTagFilterDeleteRequest

from datadog_sync.resources.integrations.aws import model

# Real bodies (terraform-provider-datadog cassettes at 498907e7: TestAccDatadogIntegrationAWS,
# TestAccDatadogIntegrationAwsTagFilter_Basic, TestAccDatadogIntegrationAWSLambdaArn).
ROLE_ITEM = {
    "account_id": "515099481005",
    "role_name": "1234@testacc-datadog-integration-role",
    "filter_tags": ["b:2", "a:1", "a:1"],
    "host_tags": [],
    "account_specific_namespace_rules": {"sqs": True, "auto_scaling": False},
    "excluded_regions": ["us-west-2", "us-east-1"],
    "metrics_collection_enabled": True,
    "errors": ["Datadog is not authorized to perform action sts:AssumeRole"],
    "cspm_resource_collection_enabled": False,
    "extended_resource_collection_enabled": False,
    "resource_collection_enabled": False,
}
KEY_ITEM = {
    "access_key_id": "AKIA995299505053",
    "filter_tags": None,
    "host_tags": ["x"],
    "account_specific_namespace_rules": None,
    "excluded_regions": [],
    "errors": [],
}
FILTERING = {
    "filters": [
        {"namespace": "elb", "tag_filter_str": None},
        {"namespace": "application_elb", "tag_filter_str": "test:filter"},
        {"namespace": "sqs", "tag_filter_str": ""},
        {"namespace": "lambda", "tag_filter_str": "env:prod"},
    ]
}
LOGS = [
    {
        "account_id": "515254975698",
        "lambdas": [{"arn": "arn:b"}, {"arn": "arn:a"}],
        "services": ["s3", "lambda"],
        "services_with_triggers_present": [],
        "synced_by_service_id": [],
        "touched": False,
    },
    {"account_id": None, "lambdas": []},
    "junk",
]


def validate(payload: dict, cls) -> None:
    """Keys are the model's, and values have the model's types (what the official client would send)."""
    assert set(payload) <= set(cls.attribute_map), set(payload) - set(cls.attribute_map)
    validate_and_convert_types(payload, (cls,), ["body"], True, True, configuration=Configuration())


def test_normalize_role_account_drops_errors_sorts_lists_and_fills_defaults():
    obj = model.normalize_account(ROLE_ITEM)
    assert obj == {
        "name": "aws",
        "account_id": "515099481005",
        "role_name": "1234@testacc-datadog-integration-role",
        "filter_tags": ["a:1", "b:2"],
        "host_tags": [],
        "excluded_regions": ["us-east-1", "us-west-2"],
        "account_specific_namespace_rules": {"auto_scaling": False, "sqs": True},
        "metrics_collection_enabled": True,
        "resource_collection_enabled": False,
        "extended_resource_collection_enabled": False,
        "cspm_resource_collection_enabled": False,
    }
    assert model.identity(obj) == ("account_id", "515099481005")
    assert model.state_key(obj) == "aws:515099481005"
    assert model.label(obj) == "AWS account 515099481005"


def test_normalize_key_account_nulls_become_empty():
    obj = model.normalize_account(KEY_ITEM)
    assert obj["filter_tags"] == [] and obj["account_specific_namespace_rules"] == {}
    assert obj["metrics_collection_enabled"] is True
    assert "account_id" not in obj and "role_name" not in obj
    assert model.is_key_account(obj)
    assert model.state_key(obj) == "aws:AKIA995299505053"
    assert model.label(obj) == "AWS key account AKIA995299505053"
    assert model.filtering_id(obj) == "AKIA995299505053"
    assert model.logs_id(obj) is None
    assert model.logs_id({**obj, "account_id": "995299505053"}) == "995299505053"


def test_tag_filters_keep_set_namespaces_only():
    assert model.normalize_tag_filters(FILTERING) == {"application_elb": "test:filter", "lambda": "env:prod"}
    assert model.normalize_tag_filters(FILTERING["filters"]) == {"application_elb": "test:filter", "lambda": "env:prod"}
    assert model.normalize_tag_filters({}) == {} and model.normalize_tag_filters(None) == {}


def test_logs_index_ignores_extra_fields_and_junk():
    assert model.index_logs(LOGS) == {"515254975698": {"lambda_arns": ["arn:a", "arn:b"], "services": ["lambda", "s3"]}}
    assert model.index_logs(None) == {}


def test_normalize_is_idempotent_and_keeps_external_id():
    stored = {
        **model.normalize_account(ROLE_ITEM),
        "tag_filters": {"sqs": "a", "elb": None},
        "logs": {"lambda_arns": ["z", "a"], "services": None},
        "external_id": "abc",
    }
    once = model.normalize(stored)
    assert once["tag_filters"] == {"sqs": "a"}
    assert once["logs"] == {"lambda_arns": ["a", "z"], "services": []}
    assert once["external_id"] == "abc"
    assert model.normalize(once) == once


def test_comparable_ignores_external_id_and_unknown_key_account_fields():
    role = {**model.normalize_account(ROLE_ITEM), "external_id": "abc"}
    assert "external_id" not in model.comparable(role, {})
    key = {**model.normalize_account(KEY_ITEM), "account_id": "1", "logs": model.empty_logs()}
    other = model.normalize_account(KEY_ITEM)
    assert "account_id" not in model.comparable(key, other) and "logs" not in model.comparable(key, other)
    assert model.comparable(key, key)["account_id"] == "1"


def test_role_account_payloads_validate_against_official_models():
    obj = model.normalize({**model.normalize_account(ROLE_ITEM), "access_key_id": "ignored"})
    obj.pop("access_key_id")
    body = model.account_payload(obj)
    validate(body, AWSAccount)
    assert "name" not in body and "errors" not in body and "secret_access_key" not in body
    assert body["filter_tags"] == ["a:1", "b:2"] and body["host_tags"] == []  # empty lists are sent to clear
    assert model.update_selector({**obj, "role_name": "old"}) == {"account_id": "515099481005", "role_name": "old"}
    delete = model.delete_payload(obj)
    validate(delete, AWSAccountDeleteRequest)
    assert delete == {"account_id": "515099481005", "role_name": "1234@testacc-datadog-integration-role"}
    assert model.role_arn("1", "r") == "arn:aws:iam::1:role/r"


def test_key_account_payloads_carry_the_secret_only_when_given():
    obj = model.normalize_account(KEY_ITEM)
    assert "secret_access_key" not in model.account_payload(obj)
    body = model.account_payload({**obj, "account_id": "995299505053"}, secret="s3cr3t")
    validate(body, AWSAccount)
    assert body["secret_access_key"] == "s3cr3t" and body["account_id"] == "995299505053"
    assert "role_name" not in body
    assert model.update_selector(obj) == {"access_key_id": "AKIA995299505053"}
    validate(model.delete_payload(obj), AWSAccountDeleteRequest)
    assert model.delete_payload({**obj, "account_id": "9"}) == {"access_key_id": "AKIA995299505053", "account_id": "9"}


@pytest.mark.parametrize("namespace", sorted(AWSNamespace.allowed_values))
def test_tag_filter_payloads(namespace):
    create = model.tag_filter_payload("123", namespace, "env:prod")
    validate(create, AWSTagFilterCreateRequest)
    delete = model.tag_filter_payload("123", namespace)
    validate(delete, AWSTagFilterDeleteRequest)
    assert delete == {"account_id": "123", "namespace": namespace}


def test_logs_payloads():
    validate(model.lambda_payload("123", "arn:aws:lambda:us-east-1:123:function:f"), AWSAccountAndLambdaRequest)
    body = model.services_payload("123", ["s3", "lambda"])
    validate(body, AWSLogsServicesRequest)
    assert model.services_payload("123", []) == {"account_id": "123", "services": []}

"""The emulator's bodies deserialize into datadog-api-client's official models, type-checked, with nothing unparsed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator.conftest import KEY_ACCOUNT, ROLE_ACCOUNT, Api

pytest.importorskip("datadog_api_client")

from datadog_api_client import ApiClient, Configuration  # noqa: E402
from datadog_api_client.model_utils import OpenApiModel  # noqa: E402
from datadog_api_client.v1.model.api_error_response import APIErrorResponse  # noqa: E402
from datadog_api_client.v1.model.authentication_validation_response import (  # noqa: E402
    AuthenticationValidationResponse,
)
from datadog_api_client.v1.model.aws_account_create_response import AWSAccountCreateResponse  # noqa: E402
from datadog_api_client.v1.model.aws_account_list_response import AWSAccountListResponse  # noqa: E402
from datadog_api_client.v1.model.aws_logs_list_response import AWSLogsListResponse  # noqa: E402
from datadog_api_client.v1.model.aws_logs_list_services_response import AWSLogsListServicesResponse  # noqa: E402
from datadog_api_client.v1.model.aws_tag_filter_list_response import AWSTagFilterListResponse  # noqa: E402
from datadog_api_client.v2.model.list_application_keys_response import ListApplicationKeysResponse  # noqa: E402
from datadog_api_client.v2.model.permissions_response import PermissionsResponse  # noqa: E402

BASE = "/api/v1/integration/aws"


def deserialize(body: Any, response_type: tuple) -> Any:
    """What the official client does with a response body (ApiClient.deserialize, check_type=True)."""
    return ApiClient(Configuration()).deserialize(json.dumps(body), response_type, True)


def assert_parsed(value: Any) -> None:
    values = value if isinstance(value, list) else [value]
    assert values, "nothing to check"
    for item in values:
        assert isinstance(item, OpenApiModel | str), type(item)
        if isinstance(item, OpenApiModel):
            assert not item._unparsed, item


async def seeded(api: Api) -> None:
    assert (await api.post(BASE, ROLE_ACCOUNT)).status == 200
    assert (await api.post(BASE, KEY_ACCOUNT)).status == 200
    filt = {"account_id": ROLE_ACCOUNT["account_id"], "namespace": "elb", "tag_filter_str": "env:prod"}
    assert (await api.post(f"{BASE}/filtering", filt)).status == 200
    arn = "arn:aws:lambda:us-east-1:171234183000:function:datadog-forwarder-Forwarder"
    assert (await api.post(f"{BASE}/logs", {"account_id": ROLE_ACCOUNT["account_id"], "lambda_arn": arn})).status == 200
    body = {"account_id": ROLE_ACCOUNT["account_id"], "services": ["lambda", "s3"]}
    assert (await api.post(f"{BASE}/logs/services", body)).status == 200


async def test_v1_aws_bodies_match_official_models(api: Api) -> None:
    created = await api.post(BASE, {"account_id": "123456789012", "role_name": "R"})
    model = deserialize(created.body, (AWSAccountCreateResponse,))
    assert_parsed(model)
    assert len(model.external_id) == 32
    await seeded(api)

    accounts = deserialize((await api.get(BASE)).body, (AWSAccountListResponse,))
    assert_parsed(accounts)
    assert len(accounts.accounts) == 3
    assert_parsed(accounts.accounts)

    filters = deserialize(
        (await api.get(f"{BASE}/filtering", params={"account_id": ROLE_ACCOUNT["account_id"]})).body,
        (AWSTagFilterListResponse,),
    )
    assert_parsed(filters)
    assert_parsed(filters.filters)

    logs = deserialize((await api.get(f"{BASE}/logs")).body, ([AWSLogsListResponse],))
    assert_parsed(logs)
    assert logs[0].lambdas[0].arn.startswith("arn:aws:lambda")

    services = deserialize((await api.get(f"{BASE}/logs/services")).body, ([AWSLogsListServicesResponse],))
    assert_parsed(services)
    assert len(services) == 10

    rules = deserialize((await api.get(f"{BASE}/available_namespace_rules")).body, ([str],))
    assert "collect_custom_metrics" in rules

    error = deserialize((await api.delete(BASE, {"account_id": "1", "role_name": "x"})).body, (APIErrorResponse,))
    assert_parsed(error)


async def test_platform_bodies_match_official_models(api: Api) -> None:
    valid = deserialize((await api.get("/api/v1/validate")).body, (AuthenticationValidationResponse,))
    assert_parsed(valid)
    assert valid.valid is True

    keys_reply = await api.get(
        "/api/v2/current_user/application_keys", params={"include": "owned_by", "page[size]": "100"}
    )
    keys = deserialize(keys_reply.body, (ListApplicationKeysResponse,))
    assert_parsed(keys)
    assert_parsed(keys.data)
    assert_parsed(keys.included)
    user_id = keys.data[0].relationships.owned_by.data.id

    perms = deserialize((await api.get(f"/api/v2/users/{user_id}/permissions")).body, (PermissionsResponse,))
    assert_parsed(perms)
    assert_parsed(perms.data)
    assert "aws_configuration_edit" in {p.attributes.name for p in perms.data}

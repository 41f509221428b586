"""The emulator's bodies deserialize into datadog-api-client's official models, type-checked, with nothing unparsed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.conftest import KEY_ACCOUNT, ROLE_ACCOUNT, V2_KEY_ACCOUNT, V2_ROLE_ACCOUNT, Api, v2_body

pytest.importorskip("datadog_api_client")

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

from tests.client_models import assert_deep_parsed, deserialize  # noqa: E402

BASE = "/api/v1/integration/aws"


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


async def test_v2_aws_bodies_match_official_models(api: Api) -> None:
    from datadog_api_client.v2.model.aws_account_create_request import AWSAccountCreateRequest
    from datadog_api_client.v2.model.aws_account_response import AWSAccountResponse
    from datadog_api_client.v2.model.aws_account_update_request import AWSAccountUpdateRequest
    from datadog_api_client.v2.model.aws_accounts_response import AWSAccountsResponse
    from datadog_api_client.v2.model.aws_ccm_config_response import AWSCcmConfigResponse
    from datadog_api_client.v2.model.aws_event_bridge_create_response import AWSEventBridgeCreateResponse
    from datadog_api_client.v2.model.aws_event_bridge_delete_response import AWSEventBridgeDeleteResponse
    from datadog_api_client.v2.model.aws_event_bridge_list_response import AWSEventBridgeListResponse
    from datadog_api_client.v2.model.aws_integration_iam_permissions_response import (
        AWSIntegrationIamPermissionsResponse,
    )
    from datadog_api_client.v2.model.aws_logs_services_response import AWSLogsServicesResponse
    from datadog_api_client.v2.model.aws_namespaces_response import AWSNamespacesResponse
    from datadog_api_client.v2.model.aws_new_external_id_response import AWSNewExternalIDResponse

    v2 = "/api/v2/integration/aws"
    # The request bodies the v2 tests send are valid requests...
    for attributes in (V2_ROLE_ACCOUNT, V2_KEY_ACCOUNT):
        assert_deep_parsed(deserialize(v2_body(**attributes), (AWSAccountCreateRequest,)))
    assert_deep_parsed(deserialize(v2_body(aws_account_id="1", account_tags=["a"]), (AWSAccountUpdateRequest,)))
    # ...and every answer is a valid response, for accounts created through either API generation.
    role = (await api.post(f"{v2}/accounts", v2_body(**V2_ROLE_ACCOUNT))).body
    assert_deep_parsed(deserialize(role, (AWSAccountResponse,)))
    assert (await api.post(f"{v2}/accounts", v2_body(**V2_KEY_ACCOUNT))).status == 200
    await seeded(api)
    listed = deserialize((await api.get(f"{v2}/accounts")).body, (AWSAccountsResponse,))
    assert_deep_parsed(listed)
    assert len(listed.data) == 4
    patched = await api.patch(f"{v2}/accounts/{role['data']['id']}", v2_body(aws_account_id="123456789012"))
    assert_deep_parsed(deserialize(patched.body, (AWSAccountResponse,)))
    external = deserialize((await api.post(f"{v2}/generate_new_external_id")).body, (AWSNewExternalIDResponse,))
    assert_deep_parsed(external)
    assert_deep_parsed(deserialize((await api.get(f"{v2}/available_namespaces")).body, (AWSNamespacesResponse,)))
    assert_deep_parsed(deserialize((await api.get(f"{v2}/logs/services")).body, (AWSLogsServicesResponse,)))
    iam = (await api.get(f"{v2}/iam_permissions")).body
    assert_deep_parsed(deserialize(iam, (AWSIntegrationIamPermissionsResponse,)))

    source = {"account_id": "123456789012", "event_generator_name": "gen", "region": "us-east-1"}
    made = await api.post(f"{v2}/event_bridge", {"data": {"type": "event_bridge", "attributes": source}})
    assert_deep_parsed(deserialize(made.body, (AWSEventBridgeCreateResponse,)))
    assert_deep_parsed(deserialize((await api.get(f"{v2}/event_bridge")).body, (AWSEventBridgeListResponse,)))
    gone = {**source, "event_generator_name": made.body["data"]["attributes"]["event_source_name"]}
    deleted = await api.delete(f"{v2}/event_bridge", {"data": {"type": "event_bridge", "attributes": gone}})
    assert_deep_parsed(deserialize(deleted.body, (AWSEventBridgeDeleteResponse,)))
    configs = [
        {
            "bucket_name": "b",
            "bucket_region": "us-east-1",
            "report_name": "r",
            "report_prefix": "p",
            "report_type": "CUR2.0",
        }
    ]
    ccm = {"data": {"type": "ccm_config", "attributes": {"ccm_config": {"data_export_configs": configs}}}}
    made = await api.post(f"{v2}/accounts/{role['data']['id']}/ccm_config", ccm)
    assert_deep_parsed(deserialize(made.body, (AWSCcmConfigResponse,)))


def test_deep_check_catches_a_malformed_v2_account() -> None:
    from datadog_api_client.v2.model.aws_account_response import AWSAccountResponse

    attributes = {"auth_config": {"nope": 1}, "aws_account_id": "1", "aws_partition": "aws"}
    body = {"data": {"id": "4ee52a3f-d0e9-487b-bde9-cd1cbc0e4cb0", "type": "account", "attributes": attributes}}
    with pytest.raises(AssertionError):
        assert_deep_parsed(deserialize(body, (AWSAccountResponse,)))

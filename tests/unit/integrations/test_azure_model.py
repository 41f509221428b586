"""The ``azure`` subtype's pure parts: stored shape, comparison, payloads (checked against datadog-api-client's
``AzureAccount``), hand-edited entries and the secrets-file section."""

from __future__ import annotations

import pytest
from datadog_api_client.v1.model.azure_account import AzureAccount
from datadog_api_client.v1.model.azure_account_list_response import AzureAccountListResponse

from datadog_sync.redact import redact_text
from datadog_sync.resources.integrations.azure import model
from datadog_sync.resources.integrations.azure import secrets as azure_secrets
from datadog_sync.resources.integrations.secrets import SecretsFileError
from tests.client_models import deserialize

TENANT, CLIENT = "testc7f6-1234-5678-9101-3fcbf464test", "testc7f6-1234-5678-9101-3fcbf464test"
SECRET = "testingx./Sw*g/Y33t..R1cH+hScMDt"
#: A listed app registration as recorded (terraform-provider-datadog cassette TestAccDatadogIntegrationAzure, 2026).
ITEM = {
    "app_service_plan_filters": "key:value,filter:example",
    "automute": True,
    "client_id": CLIENT,
    "container_app_filters": "key:value,filter:example",
    "cspm_enabled": True,
    "custom_metrics_enabled": True,
    "errors": ["Invalid credentials. Datadog could not authenticate with Azure."],
    "host_filters": "key:value,filter:example",
    "metrics_enabled": False,
    "metrics_enabled_default": False,
    "resource_collection_enabled": True,
    "resource_provider_configs": [
        {"namespace": "Microsoft.Web", "metrics_enabled": False},
        {"namespace": "Microsoft.Compute", "metrics_enabled": True},
    ],
    "secretless_auth_enabled": False,
    "tenant_name": TENANT,
    "usage_metrics_enabled": False,
    "warnings": [],
}
KEY = f"azure:{TENANT}:{CLIENT}"


def test_from_api_drops_per_org_status_and_what_is_never_returned_and_carries_the_rest():
    obj = model.from_api({**ITEM, "client_secret": "x", "new_client_id": "y", "brand_new": {"on": True}})
    assert obj["name"] == "azure" and list(obj)[:3] == ["name", "tenant_name", "client_id"]
    for dropped in ("errors", "warnings", "client_secret", "new_client_id", "new_tenant_name"):
        assert dropped not in obj
    assert obj["brand_new"] == {"on": True} and obj["host_filters"] == ITEM["host_filters"]
    assert model.state_key(obj) == KEY and model.pair_id(obj) == f"{TENANT}:{CLIENT}"
    # The recorded listing is a valid AzureAccountListResponse.
    assert deserialize([ITEM], AzureAccountListResponse)


def test_errors_warnings_filter_order_and_provider_order_are_no_drift():
    current = model.from_api(ITEM)
    desired = {
        **current,
        "host_filters": "filter:example, key:value",
        "resource_provider_configs": list(reversed(ITEM["resource_provider_configs"])),
        "errors": [],
    }
    assert model.differences({**current, "warnings": ["w"]}, desired) == []
    changed = {**desired, "host_filters": "key:value", "automute": False}
    lines = {(d.path, d.kind) for d in model.differences(current, changed)}
    assert lines == {("host_filters", "changed"), ("automute", "changed")}


def test_fields_of_one_org_only_are_no_drift_unless_the_source_sets_them():
    older = {k: v for k, v in model.from_api(ITEM).items() if k != "secretless_auth_enabled"}
    newer = model.from_api(ITEM)
    # The destination's API predates secretless_auth_enabled: the source's default false is not drift...
    assert model.differences(older, newer) == []
    # ...but the source turning it on is.
    assert [d.path for d in model.differences(older, {**newer, "secretless_auth_enabled": True})] == [
        "secretless_auth_enabled"
    ]
    # A field only the destination lists was never set by the source: not owned, not drift.
    assert model.differences({**newer, "brand_new": True}, newer) == []
    assert [d.path for d in model.differences(newer, {**newer, "brand_new": True})] == ["brand_new"]


def test_payloads_are_valid_azure_accounts_without_renames_and_with_the_secret_only_where_needed():
    obj = model.from_api(ITEM)
    create = model.create_payload(obj, SECRET)
    assert create["client_secret"] == SECRET and create["tenant_name"] == TENANT and "name" not in create
    assert "errors" not in create and "new_tenant_name" not in create and "new_client_id" not in create
    update = model.update_payload(obj)
    assert "client_secret" not in update and update["host_filters"] == ITEM["host_filters"]
    assert model.update_payload(obj, SECRET)["client_secret"] == SECRET
    assert model.delete_payload(obj) == {"tenant_name": TENANT, "client_id": CLIENT}
    for body in (create, update, model.delete_payload(obj)):
        parsed = deserialize(body, AzureAccount)
        assert not parsed._unparsed and parsed.tenant_name == TENANT


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"host_filters": ["a"]}, "host_filters: expected a string, got a list"),
        ({"automute": "yes"}, "automute: expected true or false, got a string"),
        ({"resource_provider_configs": [{"namespace": 1}]}, "resource_provider_configs[0].namespace: expected a"),
        ({"client_secret": "s"}, "client_secret: never kept in state files"),
        ({"new_client_id": "c2"}, "new_client_id: the API ignores renames"),
        ({"client_id": ""}, "tenant_name and client_id: both are needed"),
        ({"client_id": "other"}, f"the entry is stored under {KEY}, but its pair makes it azure:{TENANT}:other"),
    ],
)
def test_a_hand_edited_entry_is_refused_field_by_field(entry, problem):
    found = model.problems(KEY, {**model.from_api(ITEM), **entry})
    assert found and problem in found[0], found


def test_a_valid_entry_and_an_unknown_field_pass():
    assert model.problems(KEY, {**model.from_api(ITEM), "brand_new": 1}) == []
    assert model.problems(KEY, "str") == ["the entry: expected an object, got a string"]


def test_the_secrets_section_is_parsed_registered_and_checked_without_quoting_values(tmp_path):
    parsed = azure_secrets.parse({f"{TENANT}:{CLIENT}": SECRET}, tmp_path / "s.json")
    assert parsed.get(f"{TENANT}:{CLIENT}") == SECRET and parsed.get("t:c") is None
    assert SECRET not in redact_text(f"leaked {SECRET}") and SECRET not in repr(parsed)
    assert azure_secrets.parse(None, None).get("t:c") is None
    for section, fragment in [
        ("flat", '"azure" must be an object'),
        ({"no-colon": "s"}, 'keyed "<tenant_name>:<client_id>"'),
        ({"t:": "s"}, 'keyed "<tenant_name>:<client_id>"'),
        ({"t:c": ""}, "must be a non-empty string"),
        ({"t:c": {"client_secret": "notQuoted1"}}, "must be a non-empty string"),
    ]:
        with pytest.raises(SecretsFileError) as info:
            azure_secrets.parse(section, tmp_path / "s.json")
        assert fragment in str(info.value) and "notQuoted1" not in str(info.value)


def test_the_missing_secret_message_says_how_to_give_it():
    message = azure_secrets.missing_secret_message(azure_secrets.empty(), f"{TENANT}:{CLIENT}")
    assert f"no client secret for Azure app registration {CLIENT} of tenant {TENANT}" in message
    assert f'{{"azure": {{"{TENANT}:{CLIENT}": "<client secret>"}}}}' in message
    assert "--integrations-secrets-file" in message and "DD_INTEGRATIONS_SECRETS_FILE" in message


def test_values_of_an_unexpected_type_are_left_for_the_schema_check():
    obj = {**model.from_api(ITEM), "host_filters": None, "resource_provider_configs": None}
    assert model.canonical(obj)["host_filters"] is None and model.canonical(obj)["resource_provider_configs"] is None

"""The gcp stored shape: normalisation, comparison (server defaults, the injected prometheus entry, mirrored filter
lists, fields one org lacks), payloads validated against datadog-api-client's models, schema problems, secrets."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from datadog_api_client.v1.model.gcp_account import GCPAccount
from datadog_api_client.v2.model.gcpsts_service_account_create_request import GCPSTSServiceAccountCreateRequest
from datadog_api_client.v2.model.gcpsts_service_account_update_request import GCPSTSServiceAccountUpdateRequest

from datadog_sync.redact import redact_text
from datadog_sync.resources.integrations.gcp import handoff, model
from datadog_sync.resources.integrations.gcp import secrets as gcp_secrets
from datadog_sync.resources.integrations.secrets import SecretsFileError
from tests.client_models import deep_parsed

EMAIL = "datadog@payments-prod.iam.gserviceaccount.com"
# The create answer of terraform-provider-datadog's cassette TestAccIntegrationGcpStsDefault (2026-01-15): the
# server defaults, the injected prometheus entry and the undocumented is_bq_* fields; plus a list's `meta`.
STS_ITEM: dict[str, Any] = {
    "id": "5e3b3e4a-2f0c-4d0b-9a39-4f7d1b7c0e11",
    "type": "gcp_service_account",
    "attributes": {
        "account_tags": ["team:b", "env:prod"],
        "automute": False,
        "client_email": EMAIL,
        "cloud_run_revision_filters": ["rev:two", "rev:one"],
        "host_filters": ["host:one"],
        "is_bq_datasets_monitoring_enabled": False,
        "is_bq_jobs_monitoring_enabled": False,
        "is_cspm_enabled": False,
        "is_global_location_enabled": True,
        "is_per_project_quota_enabled": False,
        "is_resource_change_collection_enabled": False,
        "is_security_command_center_enabled": False,
        "metric_namespace_configs": [{"id": "prometheus", "disabled": True, "filters": []}],
        "monitored_resource_configs": [
            {"type": "gce_instance", "filters": ["host:one"]},
            {"type": "cloud_run_revision", "filters": ["rev:two", "rev:one"]},
        ],
        "region_filter_configs": [],
        "resource_collection_enabled": True,
    },
    "meta": {"accessible_projects": ["payments-prod"]},
}
# A v1 list item as terraform-provider-datadog's TestAccDatadogIntegrationGCP cassette shows it (2026-02).
V1_ITEM: dict[str, Any] = {
    "project_id": "legacy-project",
    "client_email": "legacy@legacy-project.iam.gserviceaccount.com",
    "id": "0c8f1e2a-0000-4000-8000-000000000002",
    "host_filters": "foo:bar,buzz:lightyear",
    "automute": True,
    "is_cspm_enabled": False,
    "resource_collection_enabled": True,
    "is_security_command_center_enabled": False,
    "is_resource_change_collection_enabled": False,
    "cloud_run_revision_filters": [],
    "monitored_resource_configs": [{"type": "gce_instance", "filters": ["foo:bar", "buzz:lightyear"]}],
    "errors": ["Datadog could not authenticate"],
}
KEY_FILE = {
    "type": "service_account",
    "project_id": "legacy-project",
    "private_key_id": "0123456789abcdef0123456789abcdef01234567",
    "private_key": "-----BEGIN PRIVATE KEY-----\nTESTKEYMATERIAL0001\n-----END PRIVATE KEY-----\n",
    "client_email": V1_ITEM["client_email"],
    "client_id": "123456789012345678901",
    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
    "token_uri": "https://oauth2.googleapis.com/token",
}


def test_an_sts_item_is_stored_without_its_per_org_values_and_with_sorted_lists():
    obj = model.from_api(STS_ITEM)
    assert list(obj)[:2] == ["name", "client_email"] and obj["name"] == "gcp"
    for dropped in ("id", "type", "meta", "project_id"):
        assert dropped not in obj
    assert obj["account_tags"] == ["env:prod", "team:b"]
    assert obj["monitored_resource_configs"] == [
        {"type": "cloud_run_revision", "filters": ["rev:one", "rev:two"]},
        {"type": "gce_instance", "filters": ["host:one"]},
    ]
    assert obj["is_bq_jobs_monitoring_enabled"] is False  # undocumented, carried
    assert model.state_key(obj) == f"gcp:{EMAIL}" and not model.is_key_account(obj)
    assert model.label(obj) == f"GCP service account {EMAIL}"
    assert STS_ITEM["attributes"]["account_tags"] == ["team:b", "env:prod"]  # the input is left as it was


def test_a_v1_item_is_a_key_account_with_list_host_filters_and_no_per_org_status():
    obj = model.from_api(V1_ITEM)
    assert model.is_key_account(obj) and list(obj)[:3] == ["name", "client_email", "project_id"]
    assert obj["host_filters"] == ["buzz:lightyear", "foo:bar"] and "errors" not in obj and "id" not in obj
    assert model.label(obj) == f"GCP key account {V1_ITEM['client_email']} (project legacy-project)"
    assert model.is_listed_sts_in_v1({**V1_ITEM, "project_id": ""}) and not model.is_listed_sts_in_v1(V1_ITEM)


def test_nulls_and_order_do_not_make_a_difference_and_odd_values_are_left_to_the_schema():
    desired = model.from_api(STS_ITEM)
    shuffled = copy.deepcopy(STS_ITEM)
    shuffled["attributes"]["account_tags"].reverse()
    shuffled["attributes"]["monitored_resource_configs"].reverse()
    shuffled["attributes"]["region_filter_configs"] = None
    assert model.differences(model.from_api(shuffled), desired) == []
    odd = model.normalize({"account_tags": "x", MRC_PATH: "y", "metric_namespace_configs": None})
    assert odd == {"account_tags": "x", MRC_PATH: "y", "metric_namespace_configs": []}
    assert model.normalize({MRC_PATH: [{"type": "gce_instance"}]}) == {MRC_PATH: [{"type": "gce_instance"}]}


MRC_PATH = "monitored_resource_configs"


def test_server_defaults_the_source_never_set_and_fields_the_destination_lacks_are_not_drift():
    # A source from the 2024 API: 8 attributes (datadog-api-client-python 2024-03-11 cassettes).
    old = {"name": "gcp", "client_email": EMAIL, "account_tags": ["env:prod", "team:b"], "automute": False}
    assert model.differences(model.from_api(STS_ITEM), old) == []
    # The destination runs the older API: a field only the source's lists is not drift.
    newer = {**model.from_api(STS_ITEM), "is_org_folder_resource_collection_enabled": True}
    assert model.differences(model.from_api(STS_ITEM), newer) == []
    changed = {**old, "automute": True}
    assert [d.path for d in model.differences(model.from_api(STS_ITEM), changed)] == ["automute"]


def test_the_injected_prometheus_entry_is_not_drift_unless_the_source_configures_prometheus():
    current = model.from_api(STS_ITEM)
    assert model.differences(current, {**current, "metric_namespace_configs": []}) == []
    enabled = {**current, "metric_namespace_configs": [{"id": "prometheus", "disabled": False, "filters": []}]}
    assert model.differences(current, enabled)
    other = {**current, "metric_namespace_configs": [{"id": "pubsub", "disabled": True, "filters": []}]}
    assert model.differences(current, other)
    # A PATCH sends the entry back as the destination has it: sync changes exactly what diffs shows.
    payload = model.sts_update_payload({**other, "automute": True}, {**current, "id": "abc"})
    assert payload["data"]["id"] == "abc"
    assert payload["data"]["attributes"]["metric_namespace_configs"] == [
        {"id": "prometheus", "disabled": True, "filters": []},
        {"id": "pubsub", "disabled": True, "filters": []},
    ]
    assert model.sts_update_payload(enabled, current)["data"]["attributes"]["metric_namespace_configs"] == [
        {"id": "prometheus", "disabled": False, "filters": []}
    ]


def test_the_deprecated_filter_lists_mirror_monitored_resource_configs():
    current = model.from_api(STS_ITEM)
    # With monitored_resource_configs, the mirrors are neither compared nor sent (the API derives them).
    stale = {**current, "host_filters": ["something:else"]}
    assert model.differences(current, stale) == []
    assert "host_filters" not in model.sts_create_payload(stale)["data"]["attributes"]
    moved = {**current, MRC_PATH: [{"type": "gce_instance", "filters": ["host:two"]}]}
    assert [d.path for d in model.differences(current, moved)] != []
    # Without it (a source on the older API), the deprecated lists are what is compared and sent.
    old = {"name": "gcp", "client_email": EMAIL, "host_filters": ["host:two"]}
    assert [d.path for d in model.differences(current, old)] != []
    assert model.sts_create_payload(old)["data"]["attributes"]["host_filters"] == ["host:two"]


def test_sts_payloads_are_valid_for_the_official_client():
    obj = model.from_api(STS_ITEM)
    create = deep_parsed(model.sts_create_payload(obj), GCPSTSServiceAccountCreateRequest)
    assert create.data.attributes.client_email == EMAIL
    assert "name" not in model.sts_create_payload(obj)["data"]["attributes"]
    update = deep_parsed(
        model.sts_update_payload(obj, {**obj, "id": STS_ITEM["id"]}), GCPSTSServiceAccountUpdateRequest
    )
    assert update.data.id == STS_ITEM["id"]


def test_v1_payloads_are_valid_for_the_official_client_and_carry_the_key_on_create_only():
    obj = model.from_api(V1_ITEM)
    create = model.v1_create_payload(obj, KEY_FILE)
    parsed = deep_parsed(create, GCPAccount)
    assert parsed.private_key == KEY_FILE["private_key"] and parsed.project_id == "legacy-project"
    assert "host_filters" not in create and create["monitored_resource_configs"] == obj["monitored_resource_configs"]
    update = model.v1_update_payload(obj)
    deep_parsed(update, GCPAccount)
    assert not set(model.KEY_FIELDS) & set(update) and update["client_email"] == V1_ITEM["client_email"]
    assert model.v1_delete_payload(obj) == {"client_email": V1_ITEM["client_email"], "project_id": "legacy-project"}
    plain = {"name": "gcp", "client_email": "a@b.iam.gserviceaccount.com", "project_id": "b", "host_filters": ["x:y"]}
    assert model.v1_update_payload(plain)["host_filters"] == "x:y"


def test_a_kind_or_project_change_is_a_replace_and_shows_in_the_diff():
    sts, key = model.from_api(STS_ITEM), {**model.from_api(STS_ITEM), "project_id": "payments-prod"}
    assert model.kind_switch(sts, key) and model.kind_switch(key, sts)
    assert model.kind_switch(key, {**key, "project_id": "elsewhere"}) and not model.kind_switch(key, key)
    assert [d.path for d in model.differences(sts, key)] == ["project_id"]
    assert [d.path for d in model.differences(key, sts)] == ["project_id"]


@pytest.mark.parametrize(
    ("key", "obj", "problem"),
    [
        (f"gcp:{EMAIL}", {"name": "gcp", "client_email": EMAIL, "automute": "yes"}, "automute: expected true or false"),
        ("gcp:x", {"name": "gcp"}, "client_email: missing"),
        ("gcp:other@x", {"name": "gcp", "client_email": EMAIL}, "stored under gcp:other@x, but its client_email"),
        (f"gcp:{EMAIL}", "junk", "the entry: expected an object"),
        (f"gcp:{EMAIL}", {"client_email": EMAIL, MRC_PATH: [{"type": 1}]}, "monitored_resource_configs[0].type"),
    ],
)
def test_problems_name_the_field(key, obj, problem):
    (found,) = model.problems(key, obj)
    assert problem in found


def test_a_valid_entry_with_unknown_fields_has_no_problem():
    assert model.problems(f"gcp:{EMAIL}", {**model.from_api(STS_ITEM), "brand_new": {"x": 1}}) == []


def test_the_secrets_section_gives_json_keys_by_email_and_masks_them(tmp_path):
    parsed = gcp_secrets.parse({V1_ITEM["client_email"]: KEY_FILE}, tmp_path / "s.json")
    assert parsed.key(V1_ITEM["client_email"])["private_key"] == KEY_FILE["private_key"]
    assert parsed.key("nobody@x") is None and gcp_secrets.parse(None, None).keys == {}
    assert "TESTKEYMATERIAL0001" not in redact_text(f"oops {KEY_FILE['private_key']}")
    assert KEY_FILE["private_key_id"] not in redact_text(KEY_FILE["private_key_id"])
    assert KEY_FILE["private_key"] not in repr(parsed)
    message = gcp_secrets.missing_key_message("sa@p.iam.gserviceaccount.com")
    assert '{"gcp": {"sa@p.iam.gserviceaccount.com": {...' in message and "--integrations-secrets-file" in message


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("not-an-object", '"gcp" must be an object'),
        ({"a@b": "just-a-string"}, 'gcp entry "a@b" must be the service account\'s JSON key file'),
        ({"a@b": {"private_key": ""}}, "must be the service account's JSON key file"),
        ({"a@b": {"private_key": "k-1234", "client_email": "c@d"}}, "holds the key of another service account"),
        ({"a@b": {"private_key": "k-1234", "client_id": 12}}, "client_id must be strings"),
    ],
)
def test_a_malformed_gcp_section_names_the_entry_never_the_key(tmp_path, section, expected):
    with pytest.raises(SecretsFileError) as exc:
        gcp_secrets.parse(section, tmp_path / "s.json")
    assert expected in str(exc.value) and "k-1234" not in str(exc.value)


def test_the_gcloud_command_is_ready_to_run():
    command = handoff.gcloud_command(EMAIL, "ddgci-1@datadog-gci-sts-us1-prod.iam.gserviceaccount.com")
    assert command == (
        f"gcloud iam service-accounts add-iam-policy-binding {EMAIL} "
        "--member=serviceAccount:ddgci-1@datadog-gci-sts-us1-prod.iam.gserviceaccount.com "
        "--role=roles/iam.serviceAccountTokenCreator --project=payments-prod"
    )
    default = handoff.gcloud_command("123-compute@developer.gserviceaccount.com", "p@x")
    assert "--project" not in default
    assert handoff.gcloud_command("a@b", handoff.UNKNOWN_PRINCIPAL).count("'") == 2  # quoted for the shell

"""The ``webhooks`` subtype's pure parts: stored shape, comparison (server defaults are no drift), payloads (checked
against datadog-api-client's webhooks models), hand-edited entries, the secrets-file section, and the monitor
handles parser the subtype discovers its names with."""

from __future__ import annotations

import json

import pytest
from datadog_api_client.v1.model.webhooks_integration import WebhooksIntegration
from datadog_api_client.v1.model.webhooks_integration_custom_variable import WebhooksIntegrationCustomVariable
from datadog_api_client.v1.model.webhooks_integration_custom_variable_response import (
    WebhooksIntegrationCustomVariableResponse,
)
from datadog_api_client.v1.model.webhooks_integration_custom_variable_update_request import (
    WebhooksIntegrationCustomVariableUpdateRequest,
)
from datadog_api_client.v1.model.webhooks_integration_update_request import WebhooksIntegrationUpdateRequest

from datadog_sync.resources.integrations import handles
from datadog_sync.resources.integrations.secrets import SecretsFileError
from datadog_sync.resources.integrations.webhooks import model
from datadog_sync.resources.integrations.webhooks.subtype import WebhooksSubtype, is_built_in
from tests.client_models import deserialize

#: A webhook created without payload, as answered (datadog-api-client-python cassette
#: test_create_a_webhooks_integration_returns_ok_response #0; auth_method_id as in TestAccDatadogWebhook_Basic).
CREATED = {
    "name": "Example-Webhooks-Integration",
    "url": "https://example.com/webhook",
    "encode_as": "json",
    "custom_headers": None,
    "payload": '{"body": "$EVENT_MSG", "last_updated": "$LAST_UPDATED", "event_type": "$EVENT_TYPE", "title": '
    '"$EVENT_TITLE", "date": "$DATE", "org": {"id": "$ORG_ID", "name": "$ORG_NAME"}, "id": "$ID"}',
    "auth_method_id": None,
}
SECRET_VAR = {"name": "EXAMPLECUSTOMVARIABLE", "is_secret": True}  # test_create_a_custom_variable_returns_ok_response
KEY = "webhooks:webhook:Example-Webhooks-Integration"


def test_from_api_keeps_the_answer_under_its_kind_without_auth_method_id():
    obj = model.from_api(model.WEBHOOK, {**CREATED, "brand_new": 1})
    assert obj == {
        "name": "webhooks",
        "webhook": {**{k: v for k, v in CREATED.items() if k != "auth_method_id"}, "brand_new": 1},
    }
    assert model.key_of(obj) == KEY and model.split_key(KEY) == ("webhook", CREATED["name"])
    assert model.label("webhook", "x") == 'webhook "x"' and model.split_key("aws:1") == ("", "")
    assert deserialize(CREATED, WebhooksIntegration)  # the recorded answer is a valid WebhooksIntegration
    var = model.from_api(model.VARIABLE, {**SECRET_VAR, "value": "echoed?"})
    assert var == {"name": "webhooks", "custom_variable": SECRET_VAR}  # a secret value is never kept
    assert deserialize(SECRET_VAR, WebhooksIntegrationCustomVariableResponse)


def test_the_server_default_payload_and_encoding_are_no_drift_and_json_texts_compare_parsed():
    sent = {"name": "webhooks", "webhook": {"name": CREATED["name"], "url": CREATED["url"], "payload": None}}
    answered = model.from_api(model.WEBHOOK, CREATED)
    assert model.differences(answered, sent) == []
    assert model.differences(answered, {**sent, "webhook": {**sent["webhook"], "encode_as": "json"}}) == []
    spaced = {**answered, "webhook": {**answered["webhook"], "payload": json.dumps(json.loads(CREATED["payload"]))}}
    assert model.differences(answered, spaced) == []
    changed = {**sent, "webhook": {**sent["webhook"], "encode_as": "form", "custom_headers": '{"A": "b"}'}}
    paths = sorted(str(d) for d in model.differences(answered, changed))
    assert len(paths) == 2 and "form" in " ".join(paths)
    not_json = {**sent, "webhook": {**sent["webhook"], "payload": "plain $EVENT_MSG"}}
    assert model.differences(answered, not_json)


def test_a_secret_value_is_never_compared_but_a_plain_one_and_the_flag_are():
    stored = {"name": "webhooks", "custom_variable": SECRET_VAR}
    assert model.differences(stored, stored) == []
    plain = {"name": "webhooks", "custom_variable": {"name": "A", "value": "1", "is_secret": False}}
    assert model.differences(plain, {**plain, "custom_variable": {**plain["custom_variable"], "value": "2"}})
    assert model.differences(stored, {**stored, "custom_variable": {**SECRET_VAR, "is_secret": False}})


def test_payloads_are_valid_requests_of_the_official_client():
    hook = model.from_api(model.WEBHOOK, {**CREATED, "brand_new": 1})
    body = model.webhook_payload(hook)
    assert "brand_new" not in body and "auth_method_id" not in body
    assert deserialize(body, WebhooksIntegration) and deserialize(body, WebhooksIntegrationUpdateRequest)
    secret = {"name": "webhooks", "custom_variable": SECRET_VAR}
    create = model.variable_payload(secret, "the-value")
    assert create == {"name": SECRET_VAR["name"], "is_secret": True, "value": "the-value"}
    assert deserialize(create, WebhooksIntegrationCustomVariable)
    assert model.variable_payload(secret, None) == {"name": SECRET_VAR["name"], "is_secret": True}
    assert deserialize(model.variable_payload(secret, None), WebhooksIntegrationCustomVariableUpdateRequest)
    plain = {"name": "webhooks", "custom_variable": {"name": "A", "value": "1", "is_secret": False}}
    assert model.variable_payload(plain, "ignored")["value"] == "1"


def test_variable_tokens_and_built_ins():
    hook = {
        "name": "webhooks",
        "webhook": {
            "url": "https://x/$MY_TOKEN",
            "payload": '{"a": "$EVENT_MSG $ORG_ID"}',
            "custom_headers": '{"Authorization": "Bearer $API_KEY_2"}',
        },
    }
    tokens = model.variable_tokens(hook)
    assert tokens == ["MY_TOKEN", "EVENT_MSG", "ORG_ID", "API_KEY_2"]
    assert [t for t in tokens if not is_built_in(t)] == ["MY_TOKEN", "API_KEY_2"]
    assert model.variable_tokens({"name": "webhooks", "custom_variable": SECRET_VAR}) == []


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"name": "webhooks"}, 'exactly one of "webhook" or "custom_variable"'),
        ({"name": "webhooks", "webhook": {"url": "u"}, "custom_variable": {}}, "exactly one"),
        ({"name": "webhooks", "webhook": {"url": "u"}}, "webhook.name: a name is needed"),
        ({"name": "webhooks", "webhook": {"name": "x"}}, "webhook.url: a URL is needed"),
        ({"name": "webhooks", "webhook": {"name": "x", "url": 3}}, "webhook.url: expected a string, got a number"),
        ({"name": "webhooks", "custom_variable": {"name": "V"}}, "is_secret: true or false is needed"),
        ({"name": "webhooks", "custom_variable": {**SECRET_VAR, "value": "v"}}, "never kept in state files"),
        ({"name": "webhooks", "webhook": {"name": "other", "url": "u"}}, "but its name makes it"),
    ],
)
def test_problems_of_hand_edited_entries(entry, problem):
    key = KEY if "webhook" in entry else "webhooks:custom_variable:V"
    found = model.problems(key, entry)
    assert found and problem in found[0]


def test_a_valid_entry_has_no_problem():
    assert model.problems(KEY, model.from_api(model.WEBHOOK, CREATED)) == []


def test_the_secrets_section_is_keyed_by_variable_name():
    parsed = WebhooksSubtype.parse_secrets({"MY_TOKEN": "s3cret"}, None)
    assert parsed.get("MY_TOKEN") == "s3cret"
    with pytest.raises(SecretsFileError, match='webhooks entry "my-token" is not a custom variable name'):
        WebhooksSubtype.parse_secrets({"my-token": "s3cret"}, None)
    with pytest.raises(SecretsFileError, match="must be a non-empty string"):
        WebhooksSubtype.parse_secrets({"MY_TOKEN": ""}, None)


def test_handles_are_parsed_as_datadog_documents_them():
    message = (
        "{{#is_alert}}@webhook-deploy-bot{{/is_alert}} @slack-ops-alerts. (@pagerduty-Pay_1) "
        "mail @bob@example.com, @all; x@not-a-handle @teams-ops-room\n@opsgenie-core"
    )
    assert handles.parse_handles(message) == [
        "@webhook-deploy-bot",
        "@slack-ops-alerts",
        "@pagerduty-Pay_1",
        "@bob@example.com",
        "@all",
        "@teams-ops-room",
        "@opsgenie-core",
    ]
    assert handles.parse_handles(None) == []
    kinds = [handles.kind(h) for h in handles.parse_handles(message)]
    assert kinds == ["webhook", "slack", "pagerduty", None, None, "teams", "opsgenie"]
    monitor = {
        "id": 7,
        "name": "m",
        "message": "@webhook-a",
        "options": {"escalation_message": "@webhook-b @webhook-a"},
    }
    assert handles.monitor_handles(monitor) == ["@webhook-a", "@webhook-b"]
    assert handles.monitor_handles({"message": "@webhook-a", "options": None}) == ["@webhook-a"]


def test_handles_completed_by_a_template_variable_are_left_out_not_cut_at_the_brace():
    message = (
        "@webhook-name-with-{{var}} @slack-{{team}}-alerts @pagerduty-{{service.name}} @slack-ops-{{ channel }} "
        "{{#is_alert}}@webhook-static{{/is_alert}} {{^is_warning}}@opsgenie-core{{else}}@teams-room{{~/is_warning}}"
    )
    assert handles.parse_handles(message) == ["@webhook-static", "@opsgenie-core", "@teams-room"]


def test_unrouted_lists_service_handles_nobody_provides_case_insensitively():
    referenced = {
        "@webhook-A": ["monitor 1"],
        "@webhook-b": ["monitor 2"],
        "@bob@example.com": ["monitor 3"],
        "@hipchat-room": [f"monitor {i}" for i in range(5)],
    }
    found = handles.unrouted(referenced, ["@webhook-a"], {"@webhook-b": "skipped: no value"})
    assert [u.handle for u in found] == ["@hipchat-room", "@webhook-b"]  # sorted
    assert found[1].reason == "skipped: no value" and found[1].as_event()["kind"] == "webhook"
    assert found[0].line().endswith("and 2 more)") and "not in source state" in found[0].reason

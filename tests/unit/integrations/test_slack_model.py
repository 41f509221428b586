"""The ``slack`` stored shape, comparison, payloads (validated against datadog-api-client's models) and handles."""

from __future__ import annotations

import pytest
from datadog_api_client.v1.model.slack_integration_channel import SlackIntegrationChannel
from datadog_api_client.v1.model.slack_integration_channels import SlackIntegrationChannels

from datadog_sync.resources.integrations.handles import parse_handles
from datadog_sync.resources.integrations.slack import api, model
from datadog_sync.resources.integrations.slack.subtype import SlackSubtype
from tests.client_models import deserialize

ITEM = {
    "name": "#alerts",
    "display": {"message": True, "mute_buttons": False, "notified": True, "snapshot": False, "tags": True},
}


def test_from_api_keeps_the_hash_and_a_key_without_it():
    obj = model.from_api("ops", {**ITEM, "brand_new": 1})
    assert list(obj)[:3] == ["name", "account_name", "channel_name"]
    assert obj["channel_name"] == "#alerts" and obj["brand_new"] == 1
    assert model.state_key(obj) == "slack:ops:alerts"
    assert model.handle(obj) == "@slack-ops-alerts"
    assert model.from_api("ops", {"name": "general"})["channel_name"] == "#general"
    assert deserialize([ITEM], SlackIntegrationChannels)


def test_display_defaults_are_no_drift_and_changed_flags_are():
    current = model.from_api("ops", {"name": "#a", "display": dict(model.DISPLAY_DEFAULTS)})
    desired = {"name": "slack", "account_name": "ops", "channel_name": "#a"}
    assert model.differences(current, desired) == []
    assert model.differences({**current, "extra": 1}, desired) == []
    changed = model.differences(current, {**desired, "display": {"tags": False}})
    assert [d.path for d in changed] == ["display.tags"]


def test_the_payload_is_a_valid_channel_with_every_flag():
    body = model.payload({"account_name": "ops", "channel_name": "alerts", "display": {"snapshot": False}})
    assert body == {"name": "#alerts", "display": {**model.DISPLAY_DEFAULTS, "snapshot": False}}
    parsed = deserialize(body, SlackIntegrationChannel)
    assert not parsed._unparsed and parsed.display.snapshot is False


def test_paths_encode_the_hash_and_the_account():
    assert api.channels_path("ops team", "#alerts") == f"{api.BASE}/ops%20team/channels/%23alerts"
    assert api.channels_path("a/b") == f"{api.BASE}/a%2Fb/channels"


def test_handle_accounts_are_every_prefix_shortest_first():
    messages = ["@slack-ops-workspace-alerts-1 and {{#is_alert}}@slack-Datadog-general{{/is_alert}}", None, "@slack-x"]
    found = [h for message in messages for h in parse_handles(message)]
    assert model.handle_accounts(found) == ["Datadog", "ops", "ops-workspace", "ops-workspace-alerts"]
    assert model.handles_in(parse_handles("ping @slack-ops-alerts.")) == {"@slack-ops-alerts"}


@pytest.mark.parametrize(
    ("key", "entry", "problem"),
    [
        (
            "slack:ops:a",
            {"name": "slack", "account_name": "ops", "channel_name": "#a", "display": {"tags": "no"}},
            "display.tags",
        ),
        ("slack:ops:a", {"name": "slack", "account_name": "ops"}, "both are needed"),
        ("slack:o:p:a", {"name": "slack", "account_name": "o:p", "channel_name": "#a"}, 'cannot hold ":"'),
        ("slack:ops:b", {"name": "slack", "account_name": "ops", "channel_name": "#a"}, "stored under slack:ops:b"),
    ],
)
def test_problems(key, entry, problem):
    (found,) = model.problems(key, entry)
    assert problem in found


def test_valid_entries_have_no_problem_and_name_their_handle():
    entry = {"name": "slack", "account_name": "ops", "channel_name": "#a"}
    assert model.problems("slack:ops:a", entry) == []
    assert SlackSubtype.handles(None, entry) == ["@slack-ops-a"]  # type: ignore[arg-type]
    assert SlackSubtype.secret_names(None, entry) == []  # type: ignore[arg-type]
    assert SlackSubtype.handles(None, {"name": "slack"}) == []  # type: ignore[arg-type]

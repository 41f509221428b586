"""The ``slack`` subtype's reads and writes through the real HTTP client, against the emulator or a real HTTP server
answering fixed answers (no mocks of our classes): what a whole CLI run cannot reach easily."""

from __future__ import annotations

import logging

import pytest

from datadog_sync.emulator.testing import DESTINATION
from datadog_sync.http.client import Client
from datadog_sync.resources.base import ResourceError, SkipResource
from datadog_sync.resources.integrations.handles import MONITORS, list_monitors
from datadog_sync.resources.integrations.slack import model
from datadog_sync.resources.integrations.slack.api import SlackApi, channels_path
from tests.e2e.test_cli_answers import portal
from tests.unit.integrations.conftest import FAST, writes

ALERTS = {"name": "slack", "account_name": "ops", "channel_name": "#alerts"}
KEY = "slack:ops:alerts"


def client_at(url: str) -> Client:
    return Client(url, api_key=DESTINATION.api_key, app_key=DESTINATION.app_key, org="destination", retry=FAST)


async def test_writes_to_an_account_or_channel_gone_meanwhile(emu, clients, harness, caplog):
    _, dst = clients
    slack = harness().resource.subtypes["slack"]
    with pytest.raises(SkipResource, match='the destination has no Slack account "ops"'):
        await slack.create(dst, KEY, ALERTS)
    emu.seed("destination", {"services": {"slack": {"ops": []}}})
    with pytest.raises(ResourceError, match="Slack channel #alerts of account ops: it is gone from the destination"):
        await slack.update(dst, KEY, ALERTS, ALERTS)
    with caplog.at_level(logging.INFO):
        await slack.delete(dst, KEY, ALERTS)
    assert "already absent from the destination" in caplog.text
    with pytest.raises(ResourceError, match="Slack channel #alerts of account ops: 400"):
        await slack.create(dst, KEY, {**ALERTS, "display": {"tags": "no"}})
    created = await slack.create(dst, KEY, ALERTS)
    assert created["display"] == model.DISPLAY_DEFAULTS
    assert [m for m, _ in writes(emu)] == ["POST", "PATCH", "DELETE", "POST", "POST"]


async def test_offline_planning_bookkeeping_and_answers_of_other_shapes(harness, caplog):
    slack = harness().resource.subtypes["slack"]
    state = {KEY: ALERTS}
    assert await slack.current_destination(None, {}, state) == state
    assert slack.key_of({"name": "slack", "account_name": "ops"}) is None
    assert slack.same_object(ALERTS, {"account_name": "ops", "channel_name": "#alerts"})
    assert not slack.same_object(ALERTS, {})
    assert slack.skip_reason(KEY, ALERTS, None) is None
    with portal({channels_path("ops"): None, MONITORS: {"monitors": []}, f"{channels_path('ops')}/#alerts": []}) as url:
        client = client_at(url)
        try:
            assert await SlackApi(client).list_channels("ops") == []  # a null body: no channel
            with pytest.raises(ResourceError, match="does not look like a Datadog API answer"):
                await list_monitors(client)
            # A write answered with something else than the channel: the object as sent.
            assert await slack.update(client, KEY, ALERTS, ALERTS) == ALERTS
        finally:
            await client.close()
    with portal({channels_path("ops"): {"channels": []}}, status=403) as url:
        client = client_at(url)
        try:
            with pytest.raises(ResourceError, match="does not look like a Datadog API answer"):
                await SlackApi(client).list_channels("ops")
            with caplog.at_level(logging.WARNING):
                assert await slack.list_resources(client) == []  # monitors unreadable: only known accounts
            assert "cannot read the monitors" in caplog.text
            with pytest.raises(Exception, match="403"):
                await SlackApi(client).list_channels("other")
            with pytest.raises(ResourceError, match="403"):
                await slack.update(client, KEY, ALERTS, ALERTS)
            with pytest.raises(ResourceError, match="403"):
                await slack.delete(client, KEY, ALERTS)
        finally:
            await client.close()

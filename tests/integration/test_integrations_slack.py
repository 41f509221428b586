"""End-to-end tests of ``--resources=integrations`` (subtype slack): the CLI through CliRunner, VCR cassettes of the
v1 Slack integration API and the monitors listing, assertions on the destination's channels as its API lists them.

What only the UI can do is seeded into the emulator while recording (the Slack workspace install and the monitors
naming ``@slack-<account>-<channel>``); against real orgs, both orgs must have installed the Slack account "ops"
and the source must hold a monitor notifying ``@slack-ops-alerts``."""

from __future__ import annotations

import pytest

from datadog_sync.resources.integrations.slack import model
from datadog_sync.resources.integrations.slack.api import SlackApi
from tests.integration.helpers import Orgs

SUBTYPES = ("slack",)  # only the slack subtype is registered while these cassettes replay

ACCOUNT = "ops"
ALERTS = {"name": "#alerts", "display": {"snapshot": False}}
DEPLOYS = {"name": "#deploys-prod"}
K_ALERTS, K_DEPLOYS = "slack:ops:alerts", "slack:ops:deploys-prod"
PATH = f"/api/v1/integration/slack/configuration/accounts/{ACCOUNT}/channels"


class SlackOrgs(Orgs):
    make_api = SlackApi

    def ui(self, org: str, installed: bool = True, monitors: tuple[str, ...] = ()) -> None:
        """What only the UI does (install the workspace) and the monitors, seeded into the emulator while recording."""
        if self.emulator is not None:
            state: dict = {"services": {"slack": {ACCOUNT: []} if installed else {}}}
            state["monitors"] = [{"name": f"m{i}", "message": m} for i, m in enumerate(monitors)]
            self.emulator.seed(org, state)

    def prepare(self) -> None:
        """The workspace installed in both orgs, the source's monitor naming a channel; the channels the tests make
        are deleted after each test."""
        self.ui("source", monitors=(f"CPU high @slack-{ACCOUNT}-alerts",))
        self.ui("destination")

    def channels(self, org: str = "destination") -> dict[str, dict]:
        async def work(api: SlackApi):
            items = await api.list_channels(ACCOUNT) or []
            return {model.state_key(o): o for o in (model.from_api(ACCOUNT, i) for i in items)}

        return self._run(org, work)

    def seed(self, org: str, *channels: dict) -> None:
        async def work(api: SlackApi):
            for channel in channels:
                await api.create_channel(ACCOUNT, model.payload({**channel, "channel_name": channel["name"]}))

        self._run(org, work)

    def wipe(self, org: str) -> None:
        async def work(api: SlackApi):
            for item in await api.list_channels(ACCOUNT) or []:
                await api.delete_channel(ACCOUNT, item["name"])

        self._run(org, work)


ORGS = SlackOrgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsSlack:
    def test_discovery_sync_and_noop_resync(self, orgs: SlackOrgs):
        orgs.seed("source", ALERTS, DEPLOYS)
        result = orgs.cli("import")
        assert result.exit_code == 0, result.stderr
        source = orgs.state("source")
        assert source == orgs.channels("source") and set(source) == {K_ALERTS, K_DEPLOYS}
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert orgs.writes_since(mark) == [("POST", PATH)] * 2
        assert orgs.channels("destination") == source == orgs.state("destination")
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0 and "2 unchanged" in result.stdout
        assert orgs.writes_since(mark) == []

    def test_update_cleanup_and_reset(self, orgs: SlackOrgs):
        orgs.seed("source", ALERTS, DEPLOYS)
        orgs.cli("migrate")
        source = orgs.state("source")
        source[K_ALERTS]["display"]["tags"] = False
        del source[K_DEPLOYS]
        orgs.write_source_state(source)
        mark = orgs.mark()
        result = orgs.cli("sync", "--cleanup=force")
        assert result.exit_code == 0 and "1 updated" in result.stdout and "1 deleted" in result.stdout
        assert sorted(orgs.writes_since(mark)) == [
            ("DELETE", f"{PATH}/%23deploys-prod"),
            ("PATCH", f"{PATH}/%23alerts"),
        ]
        assert orgs.channels("destination")[K_ALERTS]["display"]["tags"] is False
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0 and orgs.channels("destination") == {}

    def test_a_workspace_the_destination_lacks_is_skipped(self, orgs: SlackOrgs):
        orgs.ui("destination", installed=False)
        orgs.seed("source", ALERTS)
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 1 and "1 skipped" in result.stdout
        assert f'the destination has no Slack account "{ACCOUNT}": install that Slack workspace' in result.stderr
        assert orgs.writes_since(mark) == []

"""End-to-end tests of ``--resources=integrations`` (subtype ms_teams): the CLI through CliRunner, VCR cassettes of
the v2 Microsoft Teams integration API, assertions on the destination's handles as its API lists them. Workflows
URLs are masked in the recorded requests (conftest.py).

The tenant connection is UI-only: it is seeded into the emulator while recording; against real orgs, both must have
connected the tenant "Example, Inc." with the Datadog app in its team "Ops" (channels "General" and "Alerts")."""

from __future__ import annotations

import json

import pytest

from datadog_sync.resources.integrations.ms_teams import model
from datadog_sync.resources.integrations.ms_teams.api import PATHS, MsTeamsApi
from tests.integration.conftest import SECRET_MASK
from tests.integration.helpers import Orgs

SUBTYPES = ("ms_teams",)  # only the ms_teams subtype is registered while these cassettes replay

URL = "https://prod-01.westus.logic.azure.com:443/workflows/ddsync0000/triggers/manual/paths/invoke"
TENANTS = [
    {
        "tenant_id": "0b0c0d0e-0000-4000-8000-000000000001",
        "tenant_name": "Example, Inc.",
        "teams": [
            {
                "team_id": "1a1b1c1d-0000-4000-8000-000000000002",
                "team_name": "Ops",
                "channels": [
                    {"channel_id": "19:general@thread.tacv2", "channel_name": "General", "is_primary": True},
                    {"channel_id": "19:alerts@thread.tacv2", "channel_name": "Alerts", "is_primary": False},
                ],
            }
        ],
    }
]
OPS = {
    "name": "ms_teams",
    "handle_name": "ddsync-ops",
    "handle_type": "tenant",
    "tenant_name": "Example, Inc.",
    "team_name": "Ops",
    "channel_name": "General",
}
FLOW = {"name": "ms_teams", "handle_name": "ddsync-wf", "handle_type": "workflows"}
K_OPS, K_FLOW = "ms_teams:ddsync-ops", "ms_teams:ddsync-wf"
WF, TH = PATHS[model.WORKFLOWS], PATHS[model.TENANT]


class TeamsOrgs(Orgs):
    make_api = MsTeamsApi

    def ui(self, org: str, connected: bool = True) -> None:
        if self.emulator is not None:
            tenants = json.loads(json.dumps(TENANTS)) if connected else []
            self.emulator.seed(org, {"services": {"ms_teams_tenants": tenants}})

    def prepare(self) -> None:
        """The tenant connected in both orgs; the handles the tests make are deleted after each test."""
        self.ui("source")
        self.ui("destination")

    def handles(self, org: str = "destination") -> dict[str, dict]:
        async def work(api: MsTeamsApi):
            items = [i for kind in (model.WORKFLOWS, model.TENANT) for i in await api.list_handles(kind)]
            return {model.state_key(o): o for o in map(model.from_api, items)}

        return self._run(org, work)

    def seed(self, org: str, *handles: dict) -> None:
        async def work(api: MsTeamsApi):
            for obj in handles:
                if obj["handle_type"] == model.WORKFLOWS:
                    await api.create(model.WORKFLOWS, model.workflows_payload(obj, URL))
                else:
                    ids = await api.channel_ids(*(obj[n] for n in model.NAMES))
                    await api.create(model.TENANT, model.tenant_payload(obj, ids or {}))

        self._run(org, work)

    def wipe(self, org: str) -> None:
        async def work(api: MsTeamsApi):
            for kind in (model.WORKFLOWS, model.TENANT):
                for item in await api.list_handles(kind):
                    if str((item.get("attributes") or {}).get("name", "")).startswith("ddsync-"):
                        await api.delete(kind, item["id"])

        self._run(org, work)

    def secrets(self) -> dict[str, str]:
        return self.write_secrets({"ms_teams": {FLOW["handle_name"]: URL}})


ORGS = TeamsOrgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsMsTeams:
    def test_import_sync_and_noop_resync(self, orgs: TeamsOrgs):
        orgs.seed("source", OPS, FLOW)
        env = orgs.secrets()
        result = orgs.cli("import", **env)
        assert result.exit_code == 0, result.stderr
        source = orgs.state("source")
        assert source == orgs.handles("source") == {K_OPS: OPS, K_FLOW: FLOW}
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0, result.stderr
        assert sorted(orgs.writes_since(mark)) == [("POST", TH), ("POST", WF)]
        assert orgs.handles("destination") == source == orgs.state("destination")
        sent = [r for r, _ in orgs.cassette.data if r.method == "POST" and r.path == WF]
        assert sent and all(json.loads(r.body)["data"]["attributes"]["url"] == SECRET_MASK for r in sent)
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0 and "2 unchanged" in result.stdout
        assert orgs.writes_since(mark) == []

    def test_update_cleanup_and_reset(self, orgs: TeamsOrgs):
        orgs.seed("source", OPS, FLOW)
        env = orgs.secrets()
        orgs.cli("migrate", **env)
        source = orgs.state("source")
        source[K_OPS]["channel_name"] = "Alerts"
        del source[K_FLOW]
        orgs.write_source_state(source)
        mark = orgs.mark()
        result = orgs.cli("sync", "--cleanup=force")
        assert result.exit_code == 0 and "1 updated" in result.stdout and "1 deleted" in result.stdout
        assert sorted(m for m, _ in orgs.writes_since(mark)) == ["DELETE", "PATCH"]
        assert orgs.handles("destination") == {K_OPS: {**OPS, "channel_name": "Alerts"}}
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0 and orgs.handles("destination") == {}

    def test_without_tenant_or_url_skipped(self, orgs: TeamsOrgs):
        orgs.ui("destination", connected=False)
        orgs.seed("source", OPS, FLOW)
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 1 and "2 skipped" in result.stdout
        assert 'connect the Microsoft tenant "Example, Inc."' in result.stderr
        assert '{"ms_teams": {"ddsync-wf": "<workflow url>"}}' in result.stderr
        assert orgs.writes_since(mark) == []

"""End-to-end tests of ``--resources=integrations`` (subtype pagerduty): the CLI through CliRunner, VCR cassettes of
the PagerDuty integration API, assertions on the destination as its legacy listing shows it. Service keys are
scrubbed from the recorded requests (conftest.py)."""

from __future__ import annotations

import json

import pytest

from datadog_sync.resources.integrations.pagerduty import model
from datadog_sync.resources.integrations.pagerduty.api import SERVICES, PagerDutyApi
from tests.integration.conftest import SECRET_MASK
from tests.integration.helpers import Orgs

SUBTYPES = ("pagerduty",)  # only the pagerduty subtype is registered while these cassettes replay

SERVICE_KEY = "ddsyncpagerdutytestservicekey001"
A, B = "pagerduty:payments", "pagerduty:ops team"


class PagerDutyOrgs(Orgs):
    make_api = PagerDutyApi

    def services(self, org: str = "destination") -> dict[str, dict]:
        async def work(api: PagerDutyApi):
            return {model.state_key(s): s for s in await api.list_services()}

        return self._run(org, work)

    def seed(self, org: str, *names: str) -> None:
        async def work(api: PagerDutyApi):
            for name in names:
                await api.create_service(model.create_payload({model.NAME: name}, SERVICE_KEY))

        self._run(org, work)

    def wipe(self, org: str) -> None:
        async def work(api: PagerDutyApi):
            for service in await api.list_services():
                await api.delete_service(model.service_name(service))

        self._run(org, work)

    def secrets(self, *names: str) -> dict[str, str]:
        return self.write_secrets({"pagerduty": {name: SERVICE_KEY for name in names}})


ORGS = PagerDutyOrgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsPagerDuty:
    def test_import_diffs_sync_and_noop_resync(self, orgs: PagerDutyOrgs):
        orgs.seed("source", "payments", "ops team")
        env = orgs.secrets("payments", "ops team")
        result = orgs.cli("import", **env)
        assert result.exit_code == 0, result.stderr
        assert orgs.state("source") == orgs.services("source") and set(orgs.state("source")) == {A, B}
        result = orgs.cli("diffs", **env)
        assert "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged." in result.stdout
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0, result.stderr
        assert orgs.writes_since(mark) == [("POST", SERVICES)] * 2
        assert set(orgs.services("destination")) == {A, B} == set(orgs.state("destination"))
        sent = [r for r, _ in orgs.cassette.data if r.method == "POST" and r.host.startswith("destination")]
        assert sent and all(json.loads(r.body)["service_key"] == SECRET_MASK for r in sent)
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0 and "2 unchanged" in result.stdout
        assert orgs.writes_since(mark) == []

    def test_missing_key_adoption_cleanup_and_reset(self, orgs: PagerDutyOrgs):
        orgs.seed("source", "payments", "ops team")
        orgs.seed("destination", "payments")  # made by hand: adopted, no write
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 1 and "1 skipped" in result.stdout
        assert '{"pagerduty": {"ops team": "<service key>"}}' in result.stderr
        assert orgs.writes_since(mark) == []
        result = orgs.cli("sync", **orgs.secrets("ops team"))
        assert result.exit_code == 0, result.stderr
        orgs.wipe("source")
        orgs.seed("source", "payments")
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync", "--cleanup=force")
        assert result.exit_code == 0 and orgs.writes_since(mark) == [("DELETE", f"{SERVICES}/ops%20team")]
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0, result.stderr
        assert orgs.services("destination") == {}

"""End-to-end tests of ``--resources=integrations`` (subtype opsgenie): the CLI through CliRunner, VCR cassettes of
the Opsgenie integration API, assertions on the destination as its API lists it. API keys are scrubbed from the
recorded requests (conftest.py)."""

from __future__ import annotations

import json

import pytest

from datadog_sync.resources.integrations.opsgenie import model
from datadog_sync.resources.integrations.opsgenie.api import BASE, OpsgenieApi
from tests.integration.conftest import SECRET_MASK
from tests.integration.helpers import Orgs

SUBTYPES = ("opsgenie",)  # only the opsgenie subtype is registered while these cassettes replay

API_KEY = "00000000-aaaa-4bbb-8ccc-ddsyncopsgen"
PAYMENTS = {"service_name": "payments", "region": "us"}
SEARCH = {"service_name": "search", "region": "custom", "custom_url": "https://opsgenie.example.com"}
A, B = "opsgenie:payments", "opsgenie:search"


def comparable(objs: dict[str, dict]) -> dict[str, dict]:
    return {k: {f: v for f, v in o.items() if f not in ("id", "source_id")} for k, o in objs.items()}


class OpsgenieOrgs(Orgs):
    make_api = OpsgenieApi

    def services(self, org: str = "destination") -> dict[str, dict]:
        async def work(api: OpsgenieApi):
            return {model.state_key(o): o for o in map(model.from_api, await api.list_services())}

        return self._run(org, work)

    def seed(self, org: str, *services: dict) -> None:
        async def work(api: OpsgenieApi):
            for service in services:
                await api.create_service(model.create_payload(service, API_KEY))

        self._run(org, work)

    def wipe(self, org: str) -> None:
        async def work(api: OpsgenieApi):
            for item in await api.list_services():
                await api.delete_service(item["id"])

        self._run(org, work)

    def secrets(self, *services: dict) -> dict[str, str]:
        return self.write_secrets({"opsgenie": {s["service_name"]: API_KEY for s in services}})


ORGS = OpsgenieOrgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsOpsgenie:
    def test_import_sync_noop_and_update(self, orgs: OpsgenieOrgs):
        orgs.seed("source", PAYMENTS, SEARCH)
        env = orgs.secrets(PAYMENTS, SEARCH)
        result = orgs.cli("import", **env)
        assert result.exit_code == 0, result.stderr
        assert set(orgs.state("source")) == {A, B}
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0, result.stderr
        assert orgs.writes_since(mark) == [("POST", BASE)] * 2
        assert comparable(orgs.services("destination")) == comparable(orgs.state("source"))
        sent = [r for r, _ in orgs.cassette.data if r.method == "POST" and r.host.startswith("destination")]
        assert sent and all(json.loads(r.body)["data"]["attributes"]["opsgenie_api_key"] == SECRET_MASK for r in sent)
        mark = orgs.mark()
        assert "2 unchanged" in orgs.cli("sync", **env).stdout and orgs.writes_since(mark) == []
        source = orgs.state("source")
        source[A]["region"] = "eu"
        orgs.write_source_state(source)
        mark = orgs.mark()
        result = orgs.cli("sync")  # no secrets file: an update does not need the API key
        assert result.exit_code == 0 and "1 updated" in result.stdout
        (write,) = orgs.writes_since(mark)
        assert write[0] == "PATCH" and orgs.services("destination")[A]["region"] == "eu"

    def test_rename_missing_key_cleanup_and_reset(self, orgs: OpsgenieOrgs):
        orgs.seed("source", PAYMENTS)
        orgs.cli("migrate", **orgs.secrets(PAYMENTS))
        orgs.wipe("source")
        orgs.seed("source", {**PAYMENTS, "service_name": "payments-oncall"}, SEARCH)
        source = orgs.state("source")
        # the same source service under its new name: its source id is the one the first sync wrote from
        (old,) = source.values()
        orgs.cli("import")
        renamed = orgs.state("source")
        renamed["opsgenie:payments-oncall"]["id"] = old["id"]
        orgs.write_source_state(renamed)
        mark = orgs.mark()
        result = orgs.cli("sync", "--cleanup=force")
        assert result.exit_code == 1 and "1 skipped" in result.stdout  # search: no API key
        assert '{"opsgenie": {"search": "<API key>"}}' in result.stderr
        (write,) = orgs.writes_since(mark)
        assert write[0] == "PATCH"
        assert set(orgs.services("destination")) == {"opsgenie:payments-oncall"}
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0, result.stderr
        assert orgs.services("destination") == {}

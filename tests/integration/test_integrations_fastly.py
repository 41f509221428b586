"""End-to-end tests of ``--resources=integrations`` (subtype fastly): the CLI through CliRunner, VCR cassettes of
the v2 Fastly integration API, assertions on the destination as its API lists it. API keys are masked in the
recorded requests (conftest.py)."""

from __future__ import annotations

import json

import pytest

from datadog_sync.resources.integrations.fastly import FastlySubtype
from tests.integration.conftest import SECRET_MASK
from tests.integration.service_accounts import AccountOrgs, same

SUBTYPES = ("fastly",)

KEY = "ddSyncFastlyTestKey000000000001"
EDGE = {"name": "fastly", "account_name": "edge", "services": [{"id": "6abc7def8ghi9jkl0mno1p", "tags": ["team:a"]}]}
CDN = {"name": "fastly", "account_name": "cdn", "services": []}
PATH = "/api/v2/integrations/fastly/accounts"


class FastlyOrgs(AccountOrgs):
    subtype = FastlySubtype


ORGS = FastlyOrgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsFastly:
    def test_sync_then_noop_resync(self, orgs: FastlyOrgs):
        writes, env = orgs.first_sync((EDGE, KEY), (CDN, KEY))
        assert writes == [("POST", PATH)] * 2
        assert same(orgs.accounts("destination"), orgs.state("source"))
        sent = [r for r, _ in orgs.cassette.data if r.method == "POST" and r.host.startswith("destination")]
        assert sent and all(json.loads(r.body)["data"]["attributes"]["api_key"] == SECRET_MASK for r in sent)
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0 and "2 unchanged" in result.stdout and orgs.writes_since(mark) == []

    def test_service_update_without_secret_and_missing_secret_skip(self, orgs: FastlyOrgs):
        orgs.seed("source", (EDGE, KEY), (CDN, KEY))
        orgs.seed("destination", ({**EDGE, "services": []}, KEY))  # made by hand: adopted
        assert orgs.cli("import").exit_code == 0
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 1 and "1 updated" in result.stdout and "1 skipped" in result.stdout
        (write,) = orgs.writes_since(mark)
        assert write[0] == "POST" and write[1].endswith("/services")
        assert '{"fastly": {"cdn": "<API key>"}}' in result.stderr
        assert set(orgs.accounts("destination")) == {"fastly:edge"}

    def test_cleanup_and_reset(self, orgs: FastlyOrgs):
        orgs.seed("source", (EDGE, KEY), (CDN, KEY))
        env = orgs.secrets((EDGE, KEY), (CDN, KEY))
        assert orgs.cli("migrate", **env).exit_code == 0
        orgs.write_source_state({"fastly:edge": orgs.state("source")["fastly:edge"]})
        mark = orgs.mark()
        result = orgs.cli("sync", "--cleanup=force", **env)
        assert result.exit_code == 0 and "1 deleted" in result.stdout
        assert [m for m, _ in orgs.writes_since(mark)] == ["DELETE"]
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0 and orgs.accounts("destination") == {}

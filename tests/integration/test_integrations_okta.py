"""End-to-end tests of ``--resources=integrations`` (subtype okta): the CLI through CliRunner, VCR cassettes of the
v2 Okta integration API. Client secrets are masked in the recorded requests (conftest.py)."""

from __future__ import annotations

import pytest

from datadog_sync.resources.integrations.okta import OktaSubtype
from tests.integration.service_accounts import AccountOrgs, same

SUBTYPES = ("okta",)

SECRET = "ddSyncOktaTestClientSecret0001"
CORP = {
    "name": "okta",
    "account_name": "corp",
    "domain": "https://corp.okta.com/",
    "auth_method": "oauth",
    "client_id": "0oaDdSyncTest",
}
PATH = "/api/v2/integrations/okta/accounts"


class OktaOrgs(AccountOrgs):
    subtype = OktaSubtype


ORGS = OktaOrgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsOkta:
    def test_sync_then_noop_resync(self, orgs: OktaOrgs):
        writes, env = orgs.first_sync((CORP, SECRET))
        assert writes == [("POST", PATH)]
        assert same(orgs.accounts("destination"), orgs.state("source"))
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0 and "1 unchanged" in result.stdout and orgs.writes_since(mark) == []

    def test_an_update_answering_a_new_id_then_reset(self, orgs: OktaOrgs):
        orgs.seed("source", (CORP, SECRET))
        assert orgs.cli("migrate", **orgs.secrets((CORP, SECRET))).exit_code == 0
        before = orgs.accounts("destination")["okta:corp"]["id"]
        source = orgs.state("source")
        source["okta:corp"]["domain"] = "https://corp-2.okta.com/"
        orgs.write_source_state(source)
        result = orgs.cli("sync")  # an update may go without the secret
        assert result.exit_code == 0 and "1 updated" in result.stdout
        after = orgs.accounts("destination")["okta:corp"]
        assert after["domain"] == "https://corp-2.okta.com/" and after["id"] != before
        assert orgs.state("destination")["okta:corp"]["id"] == after["id"]
        result = orgs.cli("diffs")
        assert "Plan: 0 to create, 0 to update, 0 to delete, 1 unchanged." in result.stdout
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0 and orgs.accounts("destination") == {}

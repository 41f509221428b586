"""End-to-end tests of ``--resources=integrations`` (subtype cloudflare): the CLI through CliRunner, VCR cassettes
of the v2 Cloudflare integration API. API keys are masked in the recorded requests (conftest.py)."""

from __future__ import annotations

import json

import pytest

from datadog_sync.resources.integrations.cloudflare import CloudflareSubtype
from tests.integration.conftest import SECRET_MASK
from tests.integration.service_accounts import AccountOrgs, same

SUBTYPES = ("cloudflare",)

TOKEN = "ddSyncCloudflareTestToken000000000000001"  # 40 characters: an API token, no email needed
PROD = {"name": "cloudflare", "account_name": "cf-prod", "resources": ["web", "dns"], "zones": []}
DEV = {"name": "cloudflare", "account_name": "cf-dev", "resources": [], "zones": ["zone-1"]}
PATH = "/api/v2/integrations/cloudflare/accounts"


class CloudflareOrgs(AccountOrgs):
    subtype = CloudflareSubtype


ORGS = CloudflareOrgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsCloudflare:
    def test_sync_then_noop_resync(self, orgs: CloudflareOrgs):
        writes, _ = orgs.first_sync((PROD, TOKEN), (DEV, TOKEN))
        assert writes == [("POST", PATH)] * 2
        assert same(orgs.accounts("destination"), orgs.state("source"))
        mark = orgs.mark()
        result = orgs.cli("sync")  # nothing differs: nothing needs the key
        assert result.exit_code == 0 and "2 unchanged" in result.stdout and orgs.writes_since(mark) == []

    def test_an_update_needs_the_key_and_sends_every_list(self, orgs: CloudflareOrgs):
        orgs.seed("source", (PROD, TOKEN))
        env = orgs.secrets((PROD, TOKEN))
        assert orgs.cli("migrate", **env).exit_code == 0
        source = orgs.state("source")
        source["cloudflare:cf-prod"]["zones"] = ["zone-9"]
        orgs.write_source_state(source)
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 1 and "1 skipped" in result.stdout and orgs.writes_since(mark) == []
        assert "(the API needs it on every update)" in result.stderr
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0 and "1 updated" in result.stdout
        (patch,) = [r for r, _ in orgs.cassette.data if r.method == "PATCH"]
        attrs = json.loads(patch.body)["data"]["attributes"]
        assert attrs["api_key"] == SECRET_MASK and attrs["resources"] == ["dns", "web"] and attrs["zones"] == ["zone-9"]
        assert orgs.accounts("destination")["cloudflare:cf-prod"]["zones"] == ["zone-9"]

    def test_reset(self, orgs: CloudflareOrgs):
        orgs.seed("destination", (PROD, TOKEN), (DEV, TOKEN))
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0 and orgs.accounts("destination") == {}
        (backup,) = orgs.backups()
        assert set(json.loads(backup.read_text())) == {"cloudflare:cf-prod", "cloudflare:cf-dev"}

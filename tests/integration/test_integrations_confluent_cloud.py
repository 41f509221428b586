"""End-to-end tests of ``--resources=integrations`` (subtype confluent_cloud): the CLI through CliRunner, VCR
cassettes of the v2 Confluent Cloud integration API. API secrets are masked in the recorded requests
(conftest.py)."""

from __future__ import annotations

import pytest

from datadog_sync.resources.integrations.confluent_cloud import ConfluentCloudSubtype
from tests.integration.service_accounts import AccountOrgs, same

SUBTYPES = ("confluent_cloud",)

SECRET = "ddSyncConfluentTestSecret0001"
KAFKA = {"id": "lkc-abc123", "resource_type": "kafka", "tags": ["env:prod"], "enable_custom_metrics": False}
ONE = {"name": "confluent_cloud", "api_key": "DDSYNCTESTKEY001", "tags": ["team:data"], "resources": [KAFKA]}
TWO = {"name": "confluent_cloud", "api_key": "DDSYNCTESTKEY002", "tags": [], "resources": []}
KEY_ONE = "confluent_cloud:DDSYNCTESTKEY001"
PATH = "/api/v2/integrations/confluent-cloud/accounts"


class ConfluentOrgs(AccountOrgs):
    subtype = ConfluentCloudSubtype


ORGS = ConfluentOrgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsConfluentCloud:
    def test_sync_then_noop_resync(self, orgs: ConfluentOrgs):
        writes, env = orgs.first_sync((ONE, SECRET), (TWO, SECRET))
        assert writes == [("POST", PATH)] * 2
        assert same(orgs.accounts("destination"), orgs.state("source"))
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0 and "2 unchanged" in result.stdout and orgs.writes_since(mark) == []

    def test_resources_without_the_secret_and_lower_cased_tags(self, orgs: ConfluentOrgs):
        orgs.seed("source", (ONE, SECRET))
        env = orgs.secrets((ONE, SECRET))
        assert orgs.cli("migrate", **env).exit_code == 0
        source = orgs.state("source")
        source[KEY_ONE]["resources"] = [{**KAFKA, "tags": ["env:prod", "Tier:Gold"]}]
        orgs.write_source_state(source)
        mark = orgs.mark()
        result = orgs.cli("sync")  # a resource write needs no secret
        assert result.exit_code == 0 and "1 updated" in result.stdout
        assert [m for m, _ in orgs.writes_since(mark)] == ["PATCH"]
        assert orgs.accounts("destination")[KEY_ONE]["resources"][0]["tags"] == ["env:prod", "tier:gold"]
        mark = orgs.mark()
        result = orgs.cli("sync")  # the server lower-cased the tags: no drift
        assert result.exit_code == 0 and "1 unchanged" in result.stdout and orgs.writes_since(mark) == []
        source[KEY_ONE]["tags"] = ["team:data", "tier:1"]
        orgs.write_source_state(source)
        result = orgs.cli("sync")
        assert result.exit_code == 1 and '{"confluent_cloud": {"DDSYNCTESTKEY001": "<API secret>"}}' in result.stderr
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0 and orgs.accounts("destination")[KEY_ONE]["tags"] == ["team:data", "tier:1"]

    def test_reset(self, orgs: ConfluentOrgs):
        orgs.seed("destination", (ONE, SECRET), (TWO, SECRET))
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0 and orgs.accounts("destination") == {}

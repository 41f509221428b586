"""End-to-end tests of ``--resources=integrations`` (subtype gcp), upstream style: the CLI through CliRunner, VCR
cassettes of the v2 STS accounts, principal and v1 key endpoints, assertions on the destination's real state."""

from __future__ import annotations

import json

import pytest

from datadog_sync.resources.integrations.gcp import model
from datadog_sync.resources.integrations.gcp.api import GcpApi
from datadog_sync.resources.integrations.gcp.subtype import _merged
from tests.integration.conftest import SECRET_MASK
from tests.integration.helpers import Orgs
from tests.support import write_secrets

#: Only the gcp subtype runs in these tests (tests/integration/conftest.py).
SUBTYPES = ("gcp",)

EMAIL_A = "ddsync-a@ddsync-test-a.iam.gserviceaccount.com"
EMAIL_B = "ddsync-b@ddsync-test-b.iam.gserviceaccount.com"
EMAIL_K = "ddsync-k@ddsync-legacy.iam.gserviceaccount.com"
STS_A = {
    "client_email": EMAIL_A,
    "account_tags": ["team:a", "env:prod"],
    "automute": True,
    "resource_collection_enabled": True,
    "is_cspm_enabled": True,
    "region_filter_configs": ["us-east1"],
    "metric_namespace_configs": [{"id": "pubsub", "disabled": True, "filters": []}],
    "monitored_resource_configs": [{"type": "gce_instance", "filters": ["env:prod"]}],
}
STS_B = {"client_email": EMAIL_B, "host_filters": ["team:b"]}
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nDDSYNCCASSETTEKEY0003\n-----END PRIVATE KEY-----\n"
KEY_FILE = {
    "type": "service_account",
    "project_id": "ddsync-legacy",
    "private_key_id": "ddsync0000000000000000000000000000000003",
    "private_key": PRIVATE_KEY,
    "client_email": EMAIL_K,
    "client_id": "100000000000000000003",
}
KEY_K = {"client_email": EMAIL_K, "project_id": "ddsync-legacy", "host_filters": "env:legacy", "automute": True}
A, B, K = f"gcp:{EMAIL_A}", f"gcp:{EMAIL_B}", f"gcp:{EMAIL_K}"
HANDOFF = "resources/destination/handoff/gcp-sts-principal.json"


class GcpOrgs(Orgs):
    """The orgs of one test, read and written through the GCP APIs."""

    make_api = GcpApi

    def accounts(self, org: str = "destination") -> dict[str, dict]:
        """The org's service accounts in the stored shape, keyed like state (no ids, no keys)."""

        async def work(api: GcpApi):
            sts, v1 = await api.list_all()
            return {model.state_key(o): o for o in map(model.from_api, _merged(sts, v1))}

        return self._run(org, work)

    def principal(self, org: str = "destination") -> str | None:
        return self._run(org, lambda api: api.delegate())

    def seed(self, org: str, *accounts: dict) -> None:
        async def work(api: GcpApi):
            for account in accounts:
                if account.get("project_id"):
                    await api.create_v1({**KEY_FILE, **account})
                else:
                    await api.create_account(model.sts_create_payload(account))

        self._run(org, work)

    def wipe(self, org: str) -> None:
        """Delete every GCP integration of the org (real test orgs must be dedicated to these tests)."""

        async def work(api: GcpApi):
            sts, v1 = await api.list_all()
            for item in _merged(sts, v1):
                if "attributes" in item:
                    await api.delete_account(item["id"])
                else:
                    await api.delete_v1(model.v1_delete_payload(item))

        self._run(org, work)


ORGS = GcpOrgs


def secrets_file(tmp_path) -> str:
    return write_secrets(tmp_path, {"gcp": {EMAIL_K: KEY_FILE}})


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsGcp:
    def test_import_and_diffs(self, orgs: GcpOrgs):
        orgs.seed("source", STS_A, STS_B, KEY_K)
        result = orgs.cli("import")
        assert result.exit_code == 0, result.stderr
        source = orgs.state("source")
        assert set(source) == {A, B, K} and source == orgs.accounts("source")  # each email once
        assert source[A]["account_tags"] == ["env:prod", "team:a"] and source[K]["host_filters"] == ["env:legacy"]
        mark = orgs.mark()
        result = orgs.cli("diffs")
        assert f"+ integrations {A}: create" in result.stdout and f"! integrations {K}: skip" in result.stdout
        assert "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged, 1 skipped." in result.stdout
        assert orgs.writes_since(mark) == []

    def test_sync_then_noop_resync(self, orgs: GcpOrgs):
        orgs.seed("source", STS_A, STS_B, KEY_K)
        secrets = secrets_file(orgs.tmp_path)
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert result.exit_code == 0, result.stderr
        assert sorted(orgs.writes_since(mark)) == [
            ("POST", "/api/v1/integration/gcp"),
            ("POST", "/api/v2/integration/gcp/accounts"),
            ("POST", "/api/v2/integration/gcp/accounts"),
        ]
        destination = orgs.accounts("destination")
        assert set(destination) == {A, B} | {K}
        assert not model.differences(destination[A], orgs.state("source")[A])
        for text in (result.stdout, result.stderr, json.dumps(orgs.state("destination"))):
            assert PRIVATE_KEY not in text
        recorded = json.dumps([str(r.body) for r in orgs.cassette.requests])
        assert "DDSYNCCASSETTEKEY0003" not in recorded and SECRET_MASK in recorded
        handoff = json.loads((orgs.tmp_path / HANDOFF).read_text())
        principal = orgs.principal("destination")
        assert handoff["datadog_principal"] == principal and principal != orgs.principal("source")
        assert [a["state_key"] for a in handoff["service_accounts"]] == [A, B]
        assert "2 GCP service account(s) were created" in result.stderr and principal in result.stderr

        mark = orgs.mark()
        result = orgs.cli("diffs", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert "Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged." in result.stdout
        result = orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert result.exit_code == 0 and orgs.writes_since(mark) == []

    def test_update_after_source_change(self, orgs: GcpOrgs):
        orgs.seed("source", STS_A)
        orgs.cli("migrate")
        source = orgs.state("source")
        source[A]["account_tags"].append("updated")
        source[A]["metric_namespace_configs"] = []
        orgs.write_source_state(source)
        result = orgs.cli("diffs")
        assert f"~ integrations {A}: update" in result.stdout and '+ account_tags: "updated"' in result.stdout
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        ((method, path),) = orgs.writes_since(mark)
        assert method == "PATCH" and path == f"/api/v2/integration/gcp/accounts/{orgs.state('destination')[A]['id']}"
        live = orgs.accounts("destination")[A]
        assert "updated" in live["account_tags"] and live["metric_namespace_configs"] == []
        (backup,) = orgs.backups()
        assert "updated" not in json.loads(backup.read_text())[A]["account_tags"]

    def test_cleanup_and_reset(self, orgs: GcpOrgs):
        orgs.seed("source", STS_A, STS_B)
        orgs.cli("migrate")
        orgs.write_source_state({B: orgs.state("source")[B]})
        result = orgs.cli("sync", "--cleanup=force")
        assert result.exit_code == 0, result.stderr
        assert "1 deleted" in result.stdout
        assert set(orgs.accounts("destination")) == {B}
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0, result.stderr
        assert orgs.accounts("destination") == {}
        assert json.loads((orgs.tmp_path / HANDOFF).read_text())["service_accounts"] == []

    def test_migrate_adopts_an_existing_account(self, orgs: GcpOrgs):
        orgs.seed("source", STS_A, STS_B)
        orgs.seed("destination", {**STS_A, "automute": False})
        mark = orgs.mark()
        result = orgs.cli("migrate")
        assert result.exit_code == 0, result.stderr
        writes = orgs.writes_since(mark)
        assert writes.count(("POST", "/api/v2/integration/gcp/accounts")) == 1  # only B is created
        assert [m for m, _ in writes].count("PATCH") == 1
        assert orgs.accounts("destination")[A]["automute"] is True

    def test_resource_per_file_and_filters(self, orgs: GcpOrgs):
        orgs.seed("source", STS_A, STS_B)
        orgs.cli("import", "--resource-per-file", "--filter", "Type=integrations;Name=host_filters;Value=team:b")
        files = orgs.state_files("source")
        assert files == [f"integrations.gcp.{EMAIL_B}.json"]
        result = orgs.cli("sync", "--resource-per-file")
        assert result.exit_code == 0, result.stderr
        assert set(orgs.state("destination")) == {B} and set(orgs.accounts("destination")) == {B}

    def test_key_account_without_its_key_is_skipped_the_others_proceed(self, orgs: GcpOrgs):
        orgs.seed("source", STS_B, KEY_K)
        orgs.cli("import")
        result = orgs.cli("sync")
        assert f"no JSON key for GCP service account {EMAIL_K}" in result.stderr
        assert "1 created" in result.stdout and "1 skipped" in result.stdout and result.exit_code == 1
        assert set(orgs.accounts("destination")) == {B}

    def test_a_key_account_moved_to_sts_is_replaced(self, orgs: GcpOrgs):
        orgs.seed("source", {"client_email": EMAIL_K, "automute": True})
        orgs.seed("destination", KEY_K)
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert orgs.writes_since(mark) == [
            ("DELETE", "/api/v1/integration/gcp"),
            ("POST", "/api/v2/integration/gcp/accounts"),
        ]
        live = orgs.accounts("destination")[K]
        assert not model.is_key_account(live) and live["automute"] is True

    def test_the_empty_org(self, orgs: GcpOrgs):
        result = orgs.cli("import")
        assert result.exit_code == 0 and orgs.state("source") == {}
        result = orgs.cli("sync")
        assert result.exit_code == 0 and "Plan: 0 to create" in result.stdout
        assert not (orgs.tmp_path / HANDOFF).exists()

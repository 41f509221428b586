"""End-to-end tests of ``--resources=integrations`` (subtype aws), upstream style: the CLI through CliRunner,
VCR cassettes of the v1 AWS, filtering and logs endpoints, assertions on the destination's real state."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import SECRET_MASK
from tests.integration.helpers import Orgs
from tests.support import write_secrets

ROLE_A = {
    "account_id": "999000000001",
    "role_name": "DatadogAWSIntegrationRole",
    "filter_tags": ["datadog:monitored"],
    "host_tags": ["team:a", "env:prod"],
    "account_specific_namespace_rules": {"auto_scaling": False},
    "excluded_regions": ["us-east-1"],
    "extended_resource_collection_enabled": True,
    "cspm_resource_collection_enabled": True,
    "tag_filters": {"application_elb": "env:prod", "lambda": "team:a"},
    "logs": {"lambda_arns": ["arn:aws:lambda:us-east-1:999000000001:function:datadog-forwarder"], "services": ["s3"]},
}
ROLE_B = {"account_id": "999000000002", "role_name": "DatadogIntegrationRole", "excluded_regions": ["us-west-2"]}
SECRET = "ddSyncTestSecretAccessKey/0000000000000003"
KEY_C = {
    "access_key_id": "AKIADDSYNCTEST000003",
    "account_id": "999000000003",
    "secret_access_key": SECRET,
    "host_tags": ["partition:gov"],
    "tag_filters": {"rds": "env:gov"},
    "logs": {"lambda_arns": ["arn:aws-us-gov:lambda:us-gov-west-1:999000000003:function:fwd"], "services": []},
}
FILES = ["integrations.aws.999000000001.json", "integrations.aws.999000000002.json"]  # --resource-per-file
A, B, C = "aws:999000000001", "aws:999000000002", "aws:AKIADDSYNCTEST000003"


def comparable(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k != "external_id"}


def secrets_file(tmp_path, with_account_id: bool = True) -> str:
    entry = {"secret_access_key": SECRET, "account_id": KEY_C["account_id"]} if with_account_id else SECRET
    return write_secrets(tmp_path, {"aws": {KEY_C["access_key_id"]: entry}})


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsAws:
    def test_import_and_diffs(self, orgs: Orgs):
        orgs.seed("source", ROLE_A, ROLE_B)
        result = orgs.cli("import")
        assert result.exit_code == 0, result.stderr
        source = orgs.state("source")
        assert set(source) == {A, B}
        assert source[A]["tag_filters"] == ROLE_A["tag_filters"]
        assert source[A]["logs"] == ROLE_A["logs"] and source[A]["host_tags"] == ["env:prod", "team:a"]
        assert source == orgs.accounts("source")  # exactly what the source API reports

        mark = orgs.mark()
        result = orgs.cli("diffs")
        assert f"+ integrations {A}: create" in result.stdout and f"+ integrations {B}: create" in result.stdout
        assert "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged." in result.stdout
        assert orgs.writes_since(mark) == []

    def test_sync_then_noop_resync(self, orgs: Orgs):
        orgs.seed("source", ROLE_A, ROLE_B)
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        writes = orgs.writes_since(mark)
        # Minimum writes: 2 accounts + 2 tag filters + 1 Lambda ARN + 1 services POST.
        assert sorted(writes) == sorted(
            [("POST", "/api/v1/integration/aws")] * 2
            + [("POST", "/api/v1/integration/aws/filtering")] * 2
            + [("POST", "/api/v1/integration/aws/logs"), ("POST", "/api/v1/integration/aws/logs/services")]
        )
        destination = orgs.accounts("destination")
        assert destination == orgs.state("source")
        state = orgs.state("destination")
        assert {k: comparable(v) for k, v in state.items()} == destination
        assert orgs.handed_off_external_ids() == {A: state[A]["external_id"], B: state[B]["external_id"]}
        assert "got a new external ID" in result.stderr and state[A]["external_id"] in result.stderr

        orgs.assert_resync_is_noop(state, unchanged=2)

    def test_update_after_source_change(self, orgs: Orgs):
        orgs.seed("source", ROLE_A)
        orgs.cli("import")
        orgs.cli("sync")
        source = orgs.state("source")
        source[A]["host_tags"].append("updated")
        source[A]["tag_filters"]["lambda"] = "team:b"
        source[A]["logs"]["lambda_arns"] = []
        orgs.write_source_state(source)

        result = orgs.cli("diffs")
        assert f"~ integrations {A}: update" in result.stdout
        assert '+ host_tags: "updated"' in result.stdout and "tag_filters.lambda" in result.stdout
        assert "external_id" not in result.stdout
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert sorted(orgs.writes_since(mark)) == [
            ("DELETE", "/api/v1/integration/aws/logs"),
            ("POST", "/api/v1/integration/aws/filtering"),
            ("PUT", "/api/v1/integration/aws"),
        ]
        assert orgs.accounts("destination")[A] == {k: v for k, v in orgs.state("source")[A].items()}
        backups = orgs.backups()
        assert len(backups) == 1  # the destination's previous configuration, saved before the update
        backed_up = json.loads(backups[0].read_text())[A]
        assert "updated" not in backed_up["host_tags"] and "external_id" not in backed_up

    def test_cleanup(self, orgs: Orgs):
        orgs.seed("source", ROLE_A, ROLE_B)
        orgs.cli("import")
        orgs.cli("sync")
        orgs.write_source_state({})
        result = orgs.cli("sync", "--cleanup=force")
        assert result.exit_code == 0, result.stderr
        assert orgs.accounts("destination") == {}
        assert orgs.state("destination") == {}

    def test_reset(self, orgs: Orgs):
        orgs.seed("destination", ROLE_A, ROLE_B)
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0, result.stderr
        assert orgs.accounts("destination") == {}
        (backup,) = orgs.backups()
        saved = json.loads(backup.read_text())
        assert set(saved) == {A, B} and saved[A]["tag_filters"] == ROLE_A["tag_filters"]

    def test_resource_per_file(self, orgs: Orgs):
        orgs.seed("source", ROLE_A, ROLE_B)
        orgs.assert_per_file_import_and_sync(FILES, A)
        assert set(orgs.state("destination")) == {A, B}
        assert set(orgs.accounts("destination")) == {A, B}

    def test_filters(self, orgs: Orgs):
        orgs.seed("source", ROLE_A, ROLE_B)
        orgs.cli("import", "--filter", "Type=integrations;Name=excluded_regions;Value=us-west-2")
        assert set(orgs.state("source")) == {B}
        # tag_filters are read per account: such a filter runs after that read, on the full object.
        orgs.cli("import", "--filter", "Type=integrations;Name=tag_filters.lambda;Value=team:.*")
        assert set(orgs.state("source")) == {A}
        orgs.cli("import", "--filter", "Type=integrations;Name=name;Value=aws")
        assert set(orgs.state("source")) == {A, B}
        result = orgs.cli("sync", "--filter", "Type=integrations;Name=account_id;Value=999000000001")
        assert result.exit_code == 0, result.stderr
        assert set(orgs.accounts("destination")) == {A}

    def test_key_account_without_secret_is_skipped(self, orgs: Orgs):
        orgs.seed("source", ROLE_B, KEY_C)
        orgs.cli("import")
        result = orgs.cli("sync")
        assert "AKIADDSYNCTEST000003" in result.stderr and "--integrations-secrets-file" in result.stderr
        assert "1 created" in result.stdout and "1 skipped" in result.stdout
        assert result.exit_code == 1, "an account left behind makes the run fail, so CI notices"
        assert set(orgs.accounts("destination")) == {B}  # the others proceed
        assert C not in orgs.state("destination")

    def test_key_account_with_secret(self, orgs: Orgs):
        orgs.seed("source", KEY_C)
        secrets = secrets_file(orgs.tmp_path)
        orgs.cli("import", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert orgs.state("source")[C]["logs"] == KEY_C["logs"]
        result = orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert result.exit_code == 0, result.stderr
        destination = orgs.accounts("destination")
        assert destination[C]["tag_filters"] == {"rds": "env:gov"}
        assert destination[C]["host_tags"] == ["partition:gov"]
        for text in (result.stdout, result.stderr, json.dumps(orgs.state("destination"))):
            assert SECRET not in text
        recorded = json.dumps([str(r.body) for r in orgs.cassette.requests])
        assert SECRET not in recorded and (SECRET_MASK in recorded)
        result = orgs.cli("diffs", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert "1 unchanged" in result.stdout

    def test_role_rename(self, orgs: Orgs):
        orgs.seed("source", ROLE_A)
        orgs.cli("import")
        orgs.cli("sync")
        external_id = orgs.state("destination")[A]["external_id"]
        before = orgs.accounts("source")[A]
        orgs.update("source", before, {**before, "role_name": "RenamedDatadogRole"})
        orgs.cli("import")
        result = orgs.cli("diffs")
        assert '~ role_name: "DatadogAWSIntegrationRole" -> "RenamedDatadogRole"' in result.stdout
        mark = orgs.mark()
        orgs.cli("sync")
        assert orgs.writes_since(mark) == [("PUT", "/api/v1/integration/aws")]
        destination = orgs.accounts("destination")
        assert list(destination) == [A] and destination[A]["role_name"] == "RenamedDatadogRole"
        assert orgs.state("destination")[A]["external_id"] == external_id

    def test_migrate_adopts_an_existing_account(self, orgs: Orgs):
        orgs.seed("source", ROLE_A, ROLE_B)
        orgs.seed("destination", {**ROLE_A, "host_tags": ["made:by-hand"]})
        mark = orgs.mark()
        result = orgs.cli("migrate")
        assert result.exit_code == 0, result.stderr
        writes = orgs.writes_since(mark)
        assert writes.count(("POST", "/api/v1/integration/aws")) == 1  # only B is created; A is adopted
        assert ("PUT", "/api/v1/integration/aws") in writes
        destination = orgs.accounts("destination")
        assert set(destination) == {A, B} and destination[A]["host_tags"] == ["env:prod", "team:a"]
        assert "external_id" not in orgs.state("destination")[A]  # pre-existing: its external id is not ours

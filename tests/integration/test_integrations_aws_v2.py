"""End-to-end tests of ``--resources=integrations`` (subtype aws) over the v2 AWS accounts API
(``/api/v2/integration/aws/accounts``, https://docs.datadoghq.com/api/latest/aws-integration/): the CLI through
CliRunner, VCR cassettes, assertions on the orgs' real state as the v2 API reports it.

Every request body recorded here is checked against datadog-api-client's v2 models after each test (conftest.py,
``recorded_problems``), and so is every cassette of this module on disk (``test_every_recorded_v2_body_...``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import SCRUBBED_ID, SECRET_MASK, v2_body_problems
from tests.integration.helpers import V2_ACCOUNTS, V2Orgs
from tests.support import write_secrets

pytestmark = pytest.mark.aws_api("v2")

ROLE_A = {
    "aws_account_id": "999000000001",
    "aws_partition": "aws",
    "auth_config": {"role_name": "DatadogAWSIntegrationRole"},
    "account_tags": ["team:a", "env:prod"],
    "aws_regions": {"include_only": ["us-east-1", "eu-west-1"]},
    "logs_config": {
        "lambda_forwarder": {
            "lambdas": ["arn:aws:lambda:us-east-1:999000000001:function:datadog-forwarder"],
            "sources": ["s3", "lambda"],
            "log_source_config": {"tag_filters": [{"source": "s3", "tags": ["env:prod", "team:a"]}]},
        }
    },
    "metrics_config": {
        "enabled": True,
        "automute_enabled": False,
        "collect_custom_metrics": True,
        "collect_cloudwatch_alarms": True,
        "namespace_filters": {"include_only": ["AWS/EC2", "AWS/S3", "AWS/Lambda"]},
        "tag_filters": [{"namespace": "AWS/EC2", "tags": ["datadog:monitored"]}],
        "metric_name_filters": [{"namespace": "AWS/EC2", "include_only": ["CPUUtilization", "NetworkIn"]}],
    },
    "resources_config": {"cloud_security_posture_management_collection": True, "extended_collection": True},
    "traces_config": {"xray_services": {"include_only": ["AWS/AppSync"]}},
}
ROLE_B = {
    "aws_account_id": "999000000002",
    "aws_partition": "aws",
    "auth_config": {"role_name": "DatadogIntegrationRole"},
    "aws_regions": {"include_only": ["us-west-2"]},
}
SECRET = "ddSyncTestSecretAccessKey/0000000000000003"
KEY_ID = "AKIADDSYNCTEST000003"
KEY_C = {
    "aws_account_id": "999000000003",
    "aws_partition": "aws-us-gov",
    "auth_config": {"access_key_id": KEY_ID, "secret_access_key": SECRET},
    "account_tags": ["partition:gov"],
    "aws_regions": {"include_all": True},
    "logs_config": {"lambda_forwarder": {"lambdas": [], "sources": ["s3"]}},
}
FILES = ["integrations.aws.999000000001.json", "integrations.aws.999000000002.json"]  # --resource-per-file
A, B, C = "aws:999000000001", "aws:999000000002", "aws:999000000003"
#: What the tool adds to the API's attributes in state.
LOCAL = ("name", "account_id", "id", "external_id")
CASSETTES = Path(__file__).parent / "cassettes" / "test_integrations_aws_v2"


def canonical(value):
    """Order-free form of a JSON value (every list sorted), to compare the API's answers with state."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def attributes(obj: dict) -> dict:
    """A stored object (or ``raw_accounts`` entry) without what the tool or the destination org add."""
    return canonical({k: v for k, v in obj.items() if k not in LOCAL})


def same_accounts(raw: dict[str, dict], state: dict[str, dict]) -> None:
    """The API's accounts and a state hold the same attributes, each under ``aws:<aws_account_id>``."""
    assert {f"aws:{k}": attributes(v) for k, v in raw.items()} == {k: attributes(v) for k, v in state.items()}


def secrets_file(tmp_path: Path) -> str:
    entry = {"secret_access_key": SECRET, "account_id": KEY_C["aws_account_id"]}
    return write_secrets(tmp_path, {"aws": {KEY_ID: entry}})


def aws_requests(orgs: V2Orgs, mark, org: str) -> list[tuple[str, str]]:
    return [(m, p) for m, host, p in orgs.requests_since(mark) if host == org and "/integration/aws" in p]


def account_writes(orgs: V2Orgs, mark) -> list[tuple[str, str]]:
    """The destination's writes since ``mark``, config ids shown as ``{id}``."""
    return [(m, p if p == V2_ACCOUNTS else V2_ACCOUNTS + "/{id}") for m, p in orgs.writes_since(mark)]


ORGS = V2Orgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsAwsV2:
    def test_import_and_diffs(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A, ROLE_B)
        mark = orgs.mark()
        result = orgs.cli("import")
        assert result.exit_code == 0, result.stderr
        # One listing, whatever the number of accounts: no per-account read.
        assert aws_requests(orgs, mark, "source") == [("GET", V2_ACCOUNTS)]
        source = orgs.state("source")
        assert set(source) == {A, B}
        assert source[A]["name"] == "aws" and source[A]["account_id"] == "999000000001"
        assert source[A]["account_tags"] == ["env:prod", "team:a"]  # sorted: their order means nothing
        assert source[A]["auth_config"] == {"role_name": "DatadogAWSIntegrationRole"}  # no external id
        same_accounts(orgs.raw_accounts("source"), source)  # every attribute the source API reports
        assert not {"created_at", "modified_at", "id", "external_id"} & set(source[A])

        mark = orgs.mark()
        result = orgs.cli("diffs")
        assert result.exit_code == 0, result.stderr
        assert f"+ integrations {A}: create" in result.stdout and f"+ integrations {B}: create" in result.stdout
        assert "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged." in result.stdout
        assert aws_requests(orgs, mark, "destination") == [("GET", V2_ACCOUNTS)]
        assert orgs.writes_since(mark) == []

    def test_sync_then_noop_resync(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A, ROLE_B)
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert account_writes(orgs, mark) == [("POST", V2_ACCOUNTS)] * 2  # one request per account
        sent = orgs.bodies_since(mark, "POST")
        assert [b["data"]["attributes"]["aws_account_id"] for b in sent] == ["999000000001", "999000000002"]
        assert all("external_id" not in b["data"]["attributes"]["auth_config"] for b in sent)  # Datadog makes it

        destination = orgs.raw_accounts("destination")
        same_accounts(destination, orgs.state("source"))
        state = orgs.state("destination")
        same_accounts(destination, state)
        assert {k: v["id"] for k, v in state.items()} == {f"aws:{k}": v["id"] for k, v in destination.items()}
        live_ids = orgs.external_ids("destination")
        assert {k: v["external_id"] for k, v in state.items()} == {f"aws:{k}": v for k, v in live_ids.items()}
        assert orgs.handed_off_external_ids() == {A: state[A]["external_id"], B: state[B]["external_id"]}
        assert "got a new external ID" in result.stderr and state[A]["external_id"] in result.stderr

        orgs.assert_resync_is_noop(state, unchanged=2)

    def test_v2_only_settings_arrive(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A)
        orgs.cli("import")
        orgs.cli("sync")
        metrics = orgs.raw_accounts("destination")["999000000001"]["metrics_config"]
        assert metrics["automute_enabled"] is False and metrics["collect_cloudwatch_alarms"] is True
        assert metrics["metric_name_filters"] == [
            {"namespace": "AWS/EC2", "include_only": ["CPUUtilization", "NetworkIn"]}
        ]
        account = orgs.raw_accounts("destination")["999000000001"]
        assert account["traces_config"] == {"xray_services": {"include_only": ["AWS/AppSync"]}}
        log_filters = account["logs_config"]["lambda_forwarder"]["log_source_config"]["tag_filters"]
        assert canonical(log_filters) == [{"source": "s3", "tags": ["env:prod", "team:a"]}]

        # A later change of a v2-only setting alone in the source: shown, then one PATCH carries it.
        orgs.patch_v2(
            "source",
            "999000000001",
            {"aws_account_id": "999000000001", "traces_config": {"xray_services": {"include_all": True}}},
        )
        orgs.cli("import")
        result = orgs.cli("diffs")
        assert f"~ integrations {A}: update" in result.stdout and "traces_config.xray_services" in result.stdout
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert account_writes(orgs, mark) == [("PATCH", V2_ACCOUNTS + "/{id}")]
        account = orgs.raw_accounts("destination")["999000000001"]
        assert account["traces_config"] == {"xray_services": {"include_all": True}}

    def test_update_after_source_change(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A)
        orgs.cli("import")
        orgs.cli("sync")
        source = orgs.state("source")
        source[A]["account_tags"].append("updated")
        source[A]["metrics_config"]["automute_enabled"] = True
        source[A]["aws_regions"] = {"include_only": ["eu-west-1", "us-east-1", "us-east-2"]}
        orgs.write_source_state(source)

        result = orgs.cli("diffs")
        assert f"~ integrations {A}: update" in result.stdout
        assert '+ account_tags: "updated"' in result.stdout
        assert "metrics_config.automute_enabled" in result.stdout and "aws_regions" in result.stdout
        assert "external_id" not in result.stdout
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert account_writes(orgs, mark) == [("PATCH", V2_ACCOUNTS + "/{id}")]
        # The complete owned object: the API keeps every sub-object a PATCH leaves out.
        (patch,) = orgs.bodies_since(mark, "PATCH")
        sent = patch["data"]["attributes"]
        assert set(sent) == set(source[A]) - {"name", "account_id", "auth_config"}  # auth unchanged: not sent
        assert canonical(sent["logs_config"]) == canonical(ROLE_A["logs_config"])
        same_accounts(orgs.raw_accounts("destination"), orgs.state("source"))
        backups = orgs.backups()
        assert len(backups) == 1  # the destination's previous configuration, saved before the update
        backed_up = json.loads(backups[0].read_text())[A]
        assert "updated" not in backed_up["account_tags"] and backed_up["metrics_config"]["automute_enabled"] is False
        assert "external_id" not in json.dumps(backed_up)

    def test_cleanup(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A, ROLE_B)
        orgs.cli("import")
        orgs.cli("sync")
        orgs.write_source_state({})
        mark = orgs.mark()
        result = orgs.cli("sync", "--cleanup=force")
        assert result.exit_code == 0, result.stderr
        assert account_writes(orgs, mark) == [("DELETE", V2_ACCOUNTS + "/{id}")] * 2
        assert orgs.raw_accounts("destination") == {}
        assert orgs.state("destination") == {}

    def test_reset(self, orgs: V2Orgs):
        orgs.seed_v2("destination", ROLE_A, ROLE_B)
        before = orgs.raw_accounts("destination")
        mark = orgs.mark()
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0, result.stderr
        assert sorted(orgs.writes_since(mark)) == sorted(
            ("DELETE", f"{V2_ACCOUNTS}/{before[n]['id']}") for n in ("999000000001", "999000000002")
        )
        assert orgs.raw_accounts("destination") == {}
        (backup,) = orgs.backups()
        saved = json.loads(backup.read_text())
        assert set(saved) == {A, B}
        same_accounts(before, saved)  # the whole v2 configuration, v2-only settings included
        assert "external_id" not in json.dumps(saved)

    def test_resource_per_file(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A, ROLE_B)
        orgs.assert_per_file_import_and_sync(FILES, A)
        assert orgs.state_files("destination") == FILES
        assert set(orgs.raw_accounts("destination")) == {"999000000001", "999000000002"}
        mark = orgs.mark()
        result = orgs.cli("sync", "--resource-per-file")
        assert result.exit_code == 0, result.stderr
        assert orgs.writes_since(mark) == []

    def test_filters(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A, ROLE_B, KEY_C)
        orgs.cli("import", "--filter", "Type=integrations;Name=name;Value=aws")
        assert set(orgs.state("source")) == {A, B, C}
        orgs.cli("import", "--filter", "Type=integrations;Name=account_id;Value=999000000002")
        assert set(orgs.state("source")) == {B}
        orgs.cli("import", "--filter", "Type=integrations;Name=aws_partition;Value=aws-us-gov")
        assert set(orgs.state("source")) == {C}
        orgs.cli("import", "--filter", "Type=integrations;Name=aws_regions.include_only;Value=eu-west-.*")
        assert set(orgs.state("source")) == {A}
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync", "--filter", "Type=integrations;Name=aws_account_id;Value=999000000001")
        assert result.exit_code == 0, result.stderr
        assert account_writes(orgs, mark) == [("POST", V2_ACCOUNTS)]
        assert set(orgs.raw_accounts("destination")) == {"999000000001"}

    def test_key_account_without_secret_is_skipped(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_B, KEY_C)
        orgs.cli("import")
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert KEY_ID in result.stderr and "--integrations-secrets-file" in result.stderr
        assert "1 created" in result.stdout and "1 skipped" in result.stdout
        assert result.exit_code == 1, "an account left behind makes the run fail, so CI notices"
        assert account_writes(orgs, mark) == [("POST", V2_ACCOUNTS)]  # the others proceed
        assert set(orgs.raw_accounts("destination")) == {"999000000002"}
        assert C not in orgs.state("destination")

    def test_key_account_with_secret(self, orgs: V2Orgs):
        orgs.seed_v2("source", KEY_C)
        secrets = secrets_file(orgs.tmp_path)
        orgs.cli("import", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert orgs.state("source")[C]["auth_config"] == {"access_key_id": KEY_ID}
        mark = orgs.mark()
        result = orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert result.exit_code == 0, result.stderr
        (sent,) = orgs.bodies_since(mark, "POST")
        assert sent["data"]["attributes"]["auth_config"] == {"access_key_id": KEY_ID, "secret_access_key": SECRET_MASK}
        destination = orgs.raw_accounts("destination")
        assert destination["999000000003"]["aws_partition"] == "aws-us-gov"
        assert destination["999000000003"]["auth_config"] == {"access_key_id": KEY_ID}
        same_accounts(destination, orgs.state("source"))
        state = orgs.state("destination")
        assert "external_id" not in state[C]
        for text in (result.stdout, result.stderr, json.dumps(state)):
            assert SECRET not in text
        recorded = json.dumps([str(r.body) for r in orgs.cassette.requests])
        assert SECRET not in recorded and SECRET_MASK in recorded

        # An unchanged key account: no write. A change that keeps the access key: a PATCH without the secret.
        mark = orgs.mark()
        result = orgs.cli("diffs", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert "1 unchanged" in result.stdout
        source = orgs.state("source")
        source[C]["account_tags"] = ["partition:gov", "tier:1"]
        orgs.write_source_state(source)
        result = orgs.cli("sync")  # no secrets file: not needed for it
        assert result.exit_code == 0, result.stderr
        (patch,) = orgs.bodies_since(mark, "PATCH")
        assert "auth_config" not in patch["data"]["attributes"]
        assert orgs.raw_accounts("destination")["999000000003"]["account_tags"] == ["partition:gov", "tier:1"]

    def test_auth_switch_replaces_the_account(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_B)
        orgs.cli("import")
        orgs.cli("sync")
        old_id = orgs.raw_accounts("destination")["999000000002"]["id"]
        # The source account now authenticates with an access key: the API cannot switch it in a PATCH.
        orgs.delete_v2("source", "999000000002")
        key_b = {**ROLE_B, "auth_config": {"access_key_id": KEY_ID, "secret_access_key": SECRET}}
        orgs.seed_v2("source", key_b)
        secrets = secrets_file(orgs.tmp_path)
        orgs.cli("import")

        result = orgs.cli("diffs", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert f"~ integrations {B}: update" in result.stdout
        assert "cannot switch an account between role and key auth" in result.stdout
        assert "deletes it and creates it again" in result.stdout
        assert "auth_config" in result.stdout and SECRET not in result.stdout
        mark = orgs.mark()
        result = orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert result.exit_code == 0, result.stderr
        assert account_writes(orgs, mark) == [("DELETE", V2_ACCOUNTS + "/{id}"), ("POST", V2_ACCOUNTS)]
        assert orgs.writes_since(mark)[0] == ("DELETE", f"{V2_ACCOUNTS}/{old_id}")
        destination = orgs.raw_accounts("destination")
        assert list(destination) == ["999000000002"] and destination["999000000002"]["id"] != old_id
        assert destination["999000000002"]["auth_config"] == {"access_key_id": KEY_ID}
        state = orgs.state("destination")
        assert state[B]["id"] == destination["999000000002"]["id"] and "external_id" not in state[B]
        (backup,) = orgs.backups()
        assert json.loads(backup.read_text())[B]["auth_config"] == {"role_name": "DatadogIntegrationRole"}

        mark = orgs.mark()
        result = orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert "1 unchanged" in result.stdout and orgs.writes_since(mark) == []

    def test_auth_switch_key_to_role(self, orgs: V2Orgs):
        orgs.seed_v2("source", KEY_C)
        secrets = secrets_file(orgs.tmp_path)
        orgs.cli("import")
        orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        source = orgs.state("source")
        source[C]["auth_config"] = {"role_name": "DatadogIntegrationRole"}
        orgs.write_source_state(source)

        result = orgs.cli("diffs")  # no secret needed: the role account is created without one
        assert f"~ integrations {C}: update" in result.stdout and "deletes it and creates it again" in result.stdout
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert account_writes(orgs, mark) == [("DELETE", V2_ACCOUNTS + "/{id}"), ("POST", V2_ACCOUNTS)]
        destination = orgs.raw_accounts("destination")
        assert destination["999000000003"]["auth_config"] == {"role_name": "DatadogIntegrationRole"}
        assert destination["999000000003"]["aws_partition"] == "aws-us-gov"
        # The new role account got its external id from Datadog: kept in state, handed off.
        state = orgs.state("destination")
        assert state[C]["external_id"] == orgs.external_ids("destination")["999000000003"]
        assert orgs.handed_off_external_ids() == {C: state[C]["external_id"]}

    def test_api_refusal_names_the_account_and_the_others_proceed(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A, ROLE_B)
        orgs.cli("import")
        source = orgs.state("source")
        source[A]["metrics_config"]["namespace_filters"] = {"include_only": ["AWS/EC2", "AWS/NotANamespace"]}
        orgs.write_source_state(source)
        mark = orgs.mark()
        result = orgs.cli("sync", "--json")
        assert result.exit_code == 1, result.stderr
        events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        outcomes = {e["id"]: e for e in events if e["type"] == "outcome" and e["command"] == "sync"}
        assert outcomes[B]["status"] == "success" and outcomes[B]["action_sub_type"] == "create"
        failed = outcomes[A]
        assert failed["status"] == "failure" and "999000000001" in failed["reason"]
        # The JSON:API error's title, detail and meta, as the API sent them.
        assert (
            "Bad Request: invalid value (metrics_config.namespace_filters.include_only: invalid namespaces: "
            "[AWS/NotANamespace])" in failed["reason"]
        )
        assert account_writes(orgs, mark) == [("POST", V2_ACCOUNTS)] * 2
        assert set(orgs.raw_accounts("destination")) == {"999000000002"}
        assert set(orgs.state("destination")) == {B}

    def test_lost_state_adopts_the_live_accounts(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A, ROLE_B)
        orgs.cli("import")
        orgs.cli("sync")
        live = orgs.raw_accounts("destination")
        (orgs.tmp_path / "resources/destination/integrations.json").unlink()
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert orgs.writes_since(mark) == []  # matched live by AWS account id: nothing created twice
        assert orgs.raw_accounts("destination") == live
        state = orgs.state("destination")
        assert {k: v["id"] for k, v in state.items()} == {f"aws:{k}": v["id"] for k, v in live.items()}
        live_ids = orgs.external_ids("destination")
        assert {k: v["external_id"] for k, v in state.items()} == {f"aws:{k}": v for k, v in live_ids.items()}

    def test_migrate_adopts_an_existing_account(self, orgs: V2Orgs):
        orgs.seed_v2("source", ROLE_A, ROLE_B)
        orgs.seed_v2("destination", {**ROLE_A, "account_tags": ["made:by-hand"]})
        mark = orgs.mark()
        result = orgs.cli("migrate")
        assert result.exit_code == 0, result.stderr
        assert sorted(account_writes(orgs, mark)) == [("PATCH", V2_ACCOUNTS + "/{id}"), ("POST", V2_ACCOUNTS)]
        (created,) = orgs.bodies_since(mark, "POST")
        assert created["data"]["attributes"]["aws_account_id"] == "999000000002"  # only B; A is adopted
        destination = orgs.raw_accounts("destination")
        assert set(destination) == {"999000000001", "999000000002"}
        assert destination["999000000001"]["account_tags"] == ["env:prod", "team:a"]
        same_accounts(destination, orgs.state("source"))

    def test_create_refused_as_already_exists_after_another_writer(self, orgs: V2Orgs):
        """Another writer's identical create got there first (the emulator's "rival": applied, answered 409
        "conflicting updates", which proves this run's attempt was not applied): the retry gets 409 "Account
        already exists", and the account is adopted and updated, with a warning; this run issued no id."""
        orgs.seed_v2("source", ROLE_A)
        orgs.cli("import")
        orgs.script({"fault": "rival", "method": "POST", "path": V2_ACCOUNTS, "org": "destination"})
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert [m for m, _ in orgs.writes_since(mark)] == ["POST", "POST", "PATCH"]
        assert "created by another writer" in result.stderr
        destination = orgs.raw_accounts("destination")
        assert list(destination) == ["999000000001"]
        same_accounts(destination, orgs.state("source"))
        assert "got a new external ID" not in result.stderr

    def test_create_answered_already_exists_is_adopted(self, orgs: V2Orgs):
        """A create whose answer was lost (applied, answered 504): its retry gets 409 "Account already exists",
        and the account is read back, adopted and updated, with the external id this run made recorded."""
        orgs.seed_v2("source", ROLE_A)
        orgs.cli("import")
        orgs.script({"fault": "lost", "method": "POST", "path": V2_ACCOUNTS, "org": "destination"})
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 0, result.stderr
        requests = aws_requests(orgs, mark, "destination")
        assert requests.count(("POST", V2_ACCOUNTS)) == 2  # the lost attempt and the refused retry
        assert ("GET", V2_ACCOUNTS) in requests[requests.index(("POST", V2_ACCOUNTS)) :]  # the read-back
        assert [m for m, _ in orgs.writes_since(mark)] == ["POST", "POST", "PATCH"]
        destination = orgs.raw_accounts("destination")
        assert list(destination) == ["999000000001"]  # no duplicate
        same_accounts(destination, orgs.state("source"))
        state = orgs.state("destination")
        assert state[A]["id"] == destination["999000000001"]["id"]
        assert state[A]["external_id"] == orgs.external_ids("destination")["999000000001"]
        handoff = json.loads((orgs.tmp_path / "resources/destination/handoff/aws-external-ids.json").read_text())
        assert [a["external_id"] for a in handoff["accounts"]] == [state[A]["external_id"]]

    def test_v1_written_state(self, orgs: V2Orgs):
        """A v1 sync, then a v2 sync over its state: no duplicate, nothing forgotten or deleted, no write."""
        v1_role = {"account_id": "999000000002", "role_name": "DatadogIntegrationRole", "host_tags": ["team:b"]}
        v1_key = {"access_key_id": KEY_ID, "account_id": "999000000003", "secret_access_key": SECRET}
        orgs.seed("source", v1_role, v1_key)  # through the v1 API
        secrets = secrets_file(orgs.tmp_path)
        orgs.cli("import", DD_INTEGRATIONS_AWS_API="v1", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        result = orgs.cli("sync", DD_INTEGRATIONS_AWS_API="v1", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert result.exit_code == 0, result.stderr
        v1_state = orgs.state("destination")
        assert set(v1_state) == {B, f"aws:{KEY_ID}"}
        live = orgs.raw_accounts("destination")

        orgs.cli("import", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert set(orgs.state("source")) == {B, C}
        result = orgs.cli("diffs", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert "0 to create" in result.stdout and "0 to delete" in result.stdout
        mark = orgs.mark()
        result = orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert result.exit_code == 0, result.stderr
        assert orgs.writes_since(mark) == []
        assert orgs.raw_accounts("destination") == live  # same accounts, same config ids
        state = orgs.state("destination")
        assert set(state) == {B, C}  # the key account re-keyed by its AWS account id, not forgotten
        assert state[B]["external_id"] == v1_state[B]["external_id"]  # the id v1 was given, kept
        assert state[C]["id"] == live["999000000003"]["id"] and state[C]["auth_config"] == {"access_key_id": KEY_ID}

        mark = orgs.mark()
        result = orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert "2 unchanged" in result.stdout and orgs.writes_since(mark) == []

        # The v1-written role entry (kept as v1 wrote it until it changes) is updated in place by its next write.
        source = orgs.state("source")
        source[B]["account_tags"] = ["team:b", "updated"]
        orgs.write_source_state(source)
        mark = orgs.mark()
        result = orgs.cli("sync", DD_INTEGRATIONS_SECRETS_FILE=secrets)
        assert result.exit_code == 0, result.stderr
        assert orgs.writes_since(mark) == [("PATCH", f"{V2_ACCOUNTS}/{live['999000000002']['id']}")]
        state = orgs.state("destination")
        assert state[B]["id"] == live["999000000002"]["id"] and state[B]["account_tags"] == ["team:b", "updated"]
        assert state[B]["external_id"] == v1_state[B]["external_id"]
        assert set(orgs.raw_accounts("destination")) == {"999000000002", "999000000003"}


def test_every_recorded_v2_body_matches_the_official_models():
    """Every v2 account request body in this module's cassettes deserializes into datadog-api-client's
    ``AWSAccountCreateRequest`` / ``AWSAccountUpdateRequest``; every external id they hold is scrubbed; no
    secret and no external id is sent unmasked."""
    checked = sent = 0
    for path in sorted(CASSETTES.glob("*.yaml")):
        text = path.read_text()
        assert SECRET not in text, path.name
        for interaction in yaml.safe_load(text)["interactions"]:
            request, response = interaction["request"], interaction["response"]
            uri_path = "/" + request["uri"].split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
            body = request["body"] or ""
            assert v2_body_problems(request["method"], uri_path, body) == [], path.name
            if uri_path.startswith(V2_ACCOUNTS) and request["method"] in ("POST", "PATCH"):
                checked += 1
                sent += request["uri"].startswith("https://destination.")
                attributes = json.loads(body)["data"]["attributes"]
                assert attributes.get("auth_config", {}).get("secret_access_key") in (None, SECRET_MASK)
                assert "external_id" not in attributes.get("auth_config", {})
            answer = response["body"]["string"]
            answer = answer.decode() if isinstance(answer, bytes) else answer
            for value in _external_ids(json.loads(answer)) if answer else []:
                assert SCRUBBED_ID.fullmatch(value), (path.name, value)
    assert checked >= 40 and sent >= 25, f"only {checked} v2 bodies recorded, {sent} of them sent by the CLI"


def _external_ids(value) -> list[str]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k == "external_id" and v]
        return found + [x for v in value.values() for x in _external_ids(v)]
    if isinstance(value, list):
        return [x for v in value for x in _external_ids(v)]
    return []


@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        ("POST", V2_ACCOUNTS, {"data": {"type": "account", "attributes": {"aws_account_id": "1"}}}, "missing"),
        (
            "POST",
            V2_ACCOUNTS,
            {"data": {"type": "account", "attributes": {**ROLE_B, "auth_config": {"nope": "x"}}}},
            "not a valid",
        ),
        (
            "POST",
            V2_ACCOUNTS,
            {"data": {"type": "account", "attributes": {**ROLE_B, "aws_partition": "aws-invalid"}}},
            "not a valid",
        ),
        ("POST", V2_ACCOUNTS, {"data": {"type": "accounts", "attributes": ROLE_B}}, "not a valid"),
        (
            "PATCH",
            V2_ACCOUNTS + "/4ee52a3f-d0e9-487b-bde9-cd1cbc0e4cb0",
            {"data": {"type": "account", "attributes": {"aws_account_id": "1", "host_tags": ["v1:name"]}}},
            "host_tags: not an attribute",
        ),
        (
            "PATCH",
            V2_ACCOUNTS + "/4ee52a3f-d0e9-487b-bde9-cd1cbc0e4cb0",
            {"data": {"type": "account", "attributes": {"aws_account_id": "1", "account_tags": "notalist"}}},
            "not a AWSAccountUpdateRequest",
        ),
        ("POST", "/api/v2/integration/aws/event_bridge", {"data": {}}, "no model"),
    ],
)
def test_the_body_check_refuses_what_the_models_refuse(method, path, body, problem):
    problems = v2_body_problems(method, path, json.dumps(body))
    assert problems and problem in problems[0], problems
    assert v2_body_problems("POST", V2_ACCOUNTS, json.dumps({"data": {"type": "account", "attributes": ROLE_B}})) == []

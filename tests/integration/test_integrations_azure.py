"""End-to-end tests of ``--resources=integrations`` (subtype azure): the CLI through CliRunner, VCR cassettes of the v1
Azure integration API, assertions on the destination's real state as its API lists it. Client secrets are
scrubbed from the recorded requests (conftest.py)."""

from __future__ import annotations

import json

import pytest

from datadog_sync.resources.integrations.azure import model
from datadog_sync.resources.integrations.azure.api import AzureApi
from tests.integration.conftest import SECRET_MASK
from tests.integration.helpers import Orgs

SUBTYPES = ("azure",)  # only the azure subtype is registered while these cassettes replay

TENANT = "d0d0d0d0-1111-4222-8333-444444444444"
SECRET = "ddSyncAzureTestSecret.0001"
APP_A = {
    "tenant_name": TENANT,
    "client_id": "a0a0a0a0-0000-4000-8000-00000000000a",
    "host_filters": "env:prod,team:a",
    "app_service_plan_filters": "tier:premium",
    "container_app_filters": "",
    "automute": True,
    "cspm_enabled": True,
    "custom_metrics_enabled": False,
    "resource_collection_enabled": True,
    "metrics_enabled": True,
    "metrics_enabled_default": False,
    "usage_metrics_enabled": True,
    "resource_provider_configs": [{"namespace": "Microsoft.Compute", "metrics_enabled": False}],
}
APP_B = {"tenant_name": TENANT, "client_id": "b0b0b0b0-0000-4000-8000-00000000000b", "host_filters": "env:dev"}
A, B = f"azure:{TENANT}:{APP_A['client_id']}", f"azure:{TENANT}:{APP_B['client_id']}"


class AzureOrgs(Orgs):
    """The orgs of one test, their Azure app registrations read and written through the API."""

    make_api = AzureApi

    def accounts(self, org: str = "destination") -> dict[str, dict]:
        """The org's app registrations in the stored shape, keyed like state (no secrets, no per-org status)."""

        async def work(api: AzureApi):
            return {model.state_key(i): model.from_api(i) for i in await api.list_accounts()}

        return self._run(org, work)

    def seed(self, org: str, *apps: dict) -> None:
        async def work(api: AzureApi):
            for app in apps:
                await api.create_account(model.create_payload(app, SECRET))

        self._run(org, work)

    def wipe(self, org: str) -> None:
        """Delete every Azure app registration of the org (real test orgs must be dedicated to these tests)."""

        async def work(api: AzureApi):
            for item in await api.list_accounts():
                await api.delete_account(model.delete_payload(item))

        self._run(org, work)

    def secrets(self, *apps: dict) -> dict[str, str]:
        return self.write_secrets({"azure": {model.pair_id(app): SECRET for app in apps}})


ORGS = AzureOrgs


def writes(orgs: AzureOrgs, mark) -> list[tuple[str, str]]:
    return orgs.writes_since(mark)


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsAzure:
    def test_empty_org_import_and_diffs(self, orgs: AzureOrgs):
        result = orgs.cli("import")  # "Azure Integration not yet installed": no app registration, no failure
        assert result.exit_code == 0, result.stderr
        assert orgs.state("source") == {}
        orgs.seed("source", APP_A, APP_B)
        result = orgs.cli("import")
        assert result.exit_code == 0, result.stderr
        source = orgs.state("source")
        assert set(source) == {A, B} and source == orgs.accounts("source")
        assert not {"errors", "warnings", "client_secret"} & set(source[A])
        mark = orgs.mark()
        result = orgs.cli("diffs", **orgs.secrets(APP_A, APP_B))
        assert "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged." in result.stdout
        assert f"+ integrations {A}: create" in result.stdout and SECRET not in result.output
        assert writes(orgs, mark) == []

    def test_sync_then_noop_resync(self, orgs: AzureOrgs):
        orgs.seed("source", APP_A, APP_B)
        env = orgs.secrets(APP_A, APP_B)
        orgs.cli("import", **env)
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0, result.stderr
        assert writes(orgs, mark) == [("POST", "/api/v1/integration/azure")] * 2
        # One listing after the writes: destination state is what the destination lists.
        assert orgs.accounts("destination") == orgs.state("source") == orgs.state("destination")
        sent = [r for r, _ in orgs.cassette.data if r.method == "POST" and r.host.startswith("destination")]
        assert sent and all(json.loads(r.body)["client_secret"] == SECRET_MASK for r in sent)
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0 and "2 unchanged" in result.stdout
        assert writes(orgs, mark) == []

    def test_update_after_source_change(self, orgs: AzureOrgs):
        orgs.seed("source", APP_A)
        env = orgs.secrets(APP_A)
        orgs.cli("migrate", **env)
        source = orgs.state("source")
        source[A]["host_filters"] = "env:prod,team:b"
        source[A]["automute"] = False
        orgs.write_source_state(source)
        result = orgs.cli("diffs")
        assert '~ host_filters: "env:prod,team:a" -> "env:prod,team:b"' in result.stdout
        mark = orgs.mark()
        result = orgs.cli("sync")  # no secrets file: an update does not need the secret
        assert result.exit_code == 0 and "1 updated" in result.stdout
        assert writes(orgs, mark) == [("PUT", "/api/v1/integration/azure")]
        assert orgs.accounts("destination")[A] == source[A]
        (backup,) = orgs.backups()
        assert json.loads(backup.read_text())[A]["host_filters"] == "env:prod,team:a"

    def test_cleanup_and_rename(self, orgs: AzureOrgs):
        orgs.seed("source", APP_A, APP_B)
        renamed = {**APP_B, "client_id": "c0c0c0c0-0000-4000-8000-00000000000c"}
        env = orgs.secrets(APP_A, APP_B, renamed)
        orgs.cli("migrate", **env)
        orgs.wipe("source")
        orgs.seed("source", APP_A, renamed)
        orgs.cli("import", **env)
        mark = orgs.mark()
        result = orgs.cli("sync", "--cleanup=force", **env)
        assert result.exit_code == 0, result.stderr
        assert writes(orgs, mark) == [("POST", "/api/v1/integration/azure"), ("DELETE", "/api/v1/integration/azure")]
        key_c = f"azure:{TENANT}:{renamed['client_id']}"
        assert set(orgs.accounts("destination")) == {A, key_c} == set(orgs.state("destination"))

    def test_reset(self, orgs: AzureOrgs):
        orgs.seed("destination", APP_A, APP_B)
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0, result.stderr
        assert orgs.accounts("destination") == {}
        (backup,) = orgs.backups()
        assert set(json.loads(backup.read_text())) == {A, B}

    def test_resource_per_file_and_filters(self, orgs: AzureOrgs):
        orgs.seed("source", APP_A, APP_B)
        orgs.cli("import", "--resource-per-file", "--filter", "Type=integrations;Name=host_filters;Value=env:dev")
        files = orgs.state_files("source")
        assert files == [f"integrations.azure.{TENANT}.{APP_B['client_id']}.json"]
        result = orgs.cli("sync", "--resource-per-file", **orgs.secrets(APP_B))
        assert result.exit_code == 0, result.stderr
        assert set(orgs.accounts("destination")) == {B} == set(orgs.state("destination"))

    def test_without_secret_skipped_and_adoption(self, orgs: AzureOrgs):
        orgs.seed("source", APP_A, APP_B)
        orgs.seed("destination", {**APP_A, "automute": False})  # made by hand, never synced
        orgs.cli("import")
        result = orgs.cli("sync")
        assert result.exit_code == 1 and "1 updated" in result.stdout and "1 skipped" in result.stdout
        assert f'{{"azure": {{"{model.pair_id(APP_B)}": "<client secret>"}}}}' in result.stderr
        assert orgs.accounts("destination")[A]["automute"] is True and B not in orgs.accounts("destination")

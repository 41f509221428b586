"""End-to-end tests of ``--resources=integrations`` (subtype webhooks): the CLI through CliRunner, VCR cassettes of
the webhooks integration API, assertions on the destination's real state as its API answers it. Secret custom
variable values are scrubbed from the recorded requests (conftest.py, ``value``)."""

from __future__ import annotations

import json

import pytest

from datadog_sync.resources.integrations.webhooks import model
from datadog_sync.resources.integrations.webhooks.api import WebhooksApi
from datadog_sync.resources.integrations.webhooks.model import VARIABLE, WEBHOOK
from tests.integration.conftest import SECRET_MASK
from tests.integration.helpers import Orgs

SUBTYPES = ("webhooks",)  # only the webhooks subtype is registered while these cassettes replay

HOOKS = "/api/v1/integration/webhooks/configuration/webhooks"
VARS = "/api/v1/integration/webhooks/configuration/custom-variables"
TOKEN = "ddSyncWebhookTestToken0001"
HOOK_A = {
    "name": "dd-sync-test-deploy",
    "url": "https://example.com/deploy?token=$DD_SYNC_TEST_TOKEN",
    "payload": '{"text": "$EVENT_TITLE"}',
    "encode_as": "json",
}
HOOK_B = {"name": "dd-sync-test-plain", "url": "https://example.com/plain"}
VAR_SECRET = {"name": "DD_SYNC_TEST_TOKEN", "value": TOKEN, "is_secret": True}
VAR_PLAIN = {"name": "DD_SYNC_TEST_ENV", "value": "production", "is_secret": False}
NAMES = {WEBHOOK: [HOOK_A["name"], HOOK_B["name"]], VARIABLE: [VAR_SECRET["name"], VAR_PLAIN["name"]]}
LISTED = ",".join([*NAMES[WEBHOOK], VAR_PLAIN["name"]])
A, B = model.state_key(WEBHOOK, HOOK_A["name"]), model.state_key(WEBHOOK, HOOK_B["name"])
S, P = model.state_key(VARIABLE, VAR_SECRET["name"]), model.state_key(VARIABLE, VAR_PLAIN["name"])


class WebhookOrgs(Orgs):
    """The orgs of one test, their webhooks and custom variables read and written through the API."""

    make_api = WebhooksApi

    def objects(self, org: str = "destination") -> dict[str, dict]:
        """The test's webhooks and variables the org has, in the stored shape, keyed like state."""

        async def work(api: WebhooksApi):
            out = {}
            for kind, names in NAMES.items():
                for name in names:
                    found = await api.get(kind, name)
                    if found is not None:
                        out[model.state_key(kind, name)] = model.from_api(kind, found)
            return out

        return self._run(org, work)

    def seed(self, org: str, *hooks: dict, variables: tuple[dict, ...] = ()) -> None:
        async def work(api: WebhooksApi):
            for var in variables:
                await api.create(VARIABLE, dict(var))
            for hook in hooks:
                await api.create(WEBHOOK, dict(hook))

        self._run(org, work)

    def wipe(self, org: str) -> None:
        """Delete the test's names (there is no listing; real test orgs must not use them otherwise)."""

        async def work(api: WebhooksApi):
            for kind, names in NAMES.items():
                for name in names:
                    if await api.get(kind, name) is not None:
                        await api.delete(kind, name)

        self._run(org, work)

    def secrets(self) -> dict[str, str]:
        return self.write_secrets({"webhooks": {VAR_SECRET["name"]: TOKEN}})


ORGS = WebhookOrgs


@pytest.mark.vcr
@pytest.mark.integration
class TestIntegrationsWebhooks:
    def test_import_sync_and_noop_resync(self, orgs: WebhookOrgs):
        orgs.seed("source", HOOK_A, HOOK_B, variables=(VAR_SECRET, VAR_PLAIN))
        env = {**orgs.secrets(), "DD_INTEGRATIONS_WEBHOOKS": LISTED}
        result = orgs.cli("import", **env)
        assert result.exit_code == 0, result.stderr
        source = orgs.state("source")
        assert set(source) == {A, B, S, P}  # S: named in the secrets file and used by HOOK_A's url
        assert source[S] == {"name": "webhooks", VARIABLE: {"name": VAR_SECRET["name"], "is_secret": True}}
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0, result.stderr
        assert sorted(orgs.writes_since(mark)) == sorted([("POST", HOOKS)] * 2 + [("POST", VARS)] * 2)
        sent = [r for r, _ in orgs.cassette.data if r.method == "POST" and r.host.startswith("destination")]
        secret_posts = [json.loads(r.body) for r in sent if r.path == VARS and json.loads(r.body)["is_secret"]]
        assert secret_posts and all(body["value"] == SECRET_MASK for body in secret_posts)
        assert orgs.objects("destination") == orgs.state("destination")
        assert TOKEN not in result.output + json.dumps(orgs.state("destination"))
        mark = orgs.mark()
        result = orgs.cli("sync", **env)
        assert result.exit_code == 0 and "4 unchanged" in result.stdout
        assert orgs.writes_since(mark) == []

    def test_update_cleanup_and_reset(self, orgs: WebhookOrgs):
        orgs.seed("source", HOOK_A, HOOK_B)
        env = {"DD_INTEGRATIONS_WEBHOOKS": LISTED}
        orgs.cli("migrate", **env)
        source = orgs.state("source")
        source[A][WEBHOOK]["url"] = "https://example.com/deploy-v2"
        del source[B]
        orgs.write_source_state(source)
        mark = orgs.mark()
        result = orgs.cli("sync", "--cleanup=force")
        assert result.exit_code == 0, result.stderr
        assert orgs.writes_since(mark) == [
            ("PUT", f"{HOOKS}/{HOOK_A['name']}"),
            ("DELETE", f"{HOOKS}/{HOOK_B['name']}"),
        ]
        assert set(orgs.objects("destination")) == {A}
        assert orgs.objects("destination")[A][WEBHOOK]["url"] == "https://example.com/deploy-v2"
        result = orgs.cli("reset", "--yes")
        assert result.exit_code == 0, result.stderr
        assert orgs.objects("destination") == {}

    def test_adoption_and_missing_secret(self, orgs: WebhookOrgs):
        orgs.seed("source", HOOK_B, variables=(VAR_SECRET,))
        orgs.seed("destination", {**HOOK_B, "url": "https://example.com/by-hand"})  # made by hand, never synced
        orgs.cli("import", DD_INTEGRATIONS_WEBHOOKS=f"{HOOK_B['name']},{VAR_SECRET['name']}")
        mark = orgs.mark()
        result = orgs.cli("sync")
        assert result.exit_code == 1 and "1 updated" in result.stdout and "1 skipped" in result.stdout
        assert orgs.writes_since(mark) == [("PUT", f"{HOOKS}/{HOOK_B['name']}")]
        assert f'{{"webhooks": {{"{VAR_SECRET["name"]}": "<value>"}}}}' in result.stderr
        assert orgs.objects("destination")[B][WEBHOOK]["url"] == HOOK_B["url"]

"""Drive ``datadog-sync`` end to end (click's CliRunner) and look at the orgs through the real HTTP API.

Everything that touches an org goes over HTTP, seeding and checks included, so the cassette of a test holds the
whole story: replaying it re-runs the CLI against what the orgs answered when it was recorded, and the checks
assert on the destination's real state as the API reported it (plus state files and the requests made).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs
from datadog_sync.http.client import Client
from datadog_sync.http.retry import RetryPolicy
from datadog_sync.resources.integrations.aws import model
from datadog_sync.resources.integrations.aws.api import AwsV1Api
from tests.integration.conftest import REAL_ORGS, RECORDING
from tests.support import QUIET, invoke, secrets_file_env

REPLAY_URL = "https://api.datadog-sync.test"
COMMON = ["--resources=integrations", "--validate=false", "--verify-ddr-status=false"]


class Orgs:
    """The source and destination orgs of one test: the emulator or real orgs while recording, nothing in replay.

    A test module names its subclass in ``ORGS`` (the ``orgs`` fixture, conftest.py); a subclass says which API its
    reads and writes go through (``make_api``) and how a test's orgs start (``prepare``)."""

    #: What ``_run`` hands its work: the subtype's API over the HTTP client.
    make_api: Callable[[Client], Any] = AwsV1Api

    def __init__(self, cassette, tmp_path: Path):
        self.cassette = cassette
        self.tmp_path = tmp_path
        self.emulator = None
        self._stack = ExitStack()
        if RECORDING and not REAL_ORGS:
            self.emulator = self._stack.enter_context(emulated_orgs(seed=1))
        if REAL_ORGS:
            self.keys = {
                org: (os.environ[f"DD_{org.upper()}_API_KEY"], os.environ[f"DD_{org.upper()}_APP_KEY"])
                for org in ("source", "destination")
            }
            self.urls = {
                org: os.environ.get(f"DD_{org.upper()}_API_URL", "https://api.datadoghq.com")
                for org in ("source", "destination")
            }
        else:
            self.keys = {spec.name: (spec.api_key, spec.app_key) for spec in (SOURCE, DESTINATION)}
            url = self.emulator.url if self.emulator else REPLAY_URL
            self.urls = {"source": url, "destination": url}

    def close(self) -> None:
        self._stack.close()

    def prepare(self) -> None:
        """Before a test: both orgs emptied of what the tests write (the ``orgs`` fixture empties them after it)."""
        self.wipe("source")
        self.wipe("destination")

    # ---------------------------------------------------------------------------------------------- the CLI
    def env(self, **extra: str) -> dict[str, str]:
        env = dict(QUIET)
        for org in ("source", "destination"):
            env[f"DD_{org.upper()}_API_KEY"], env[f"DD_{org.upper()}_APP_KEY"] = self.keys[org]
            env[f"DD_{org.upper()}_API_URL"] = self.urls[org]
        return {**env, **extra}

    def cli(self, *args: str, input: str | None = None, **env: str) -> Result:
        command, *rest = args
        result = invoke([command, *COMMON, *rest], self.env(**env), input=input, catch_exceptions=True)
        assert "No match for the request" not in (result.stderr + result.stdout), "cassette is missing a request"
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def state(self, origin: str) -> dict:
        """All ``integrations`` entries of a state root (combined or per-file layout)."""
        out: dict = {}
        for path in sorted((self.tmp_path / "resources" / origin).glob("integrations*.json")):
            out.update(json.loads(path.read_text()))
        return out

    def write_source_state(self, entries: dict) -> None:
        (self.tmp_path / "resources" / "source" / "integrations.json").write_text(json.dumps(entries))

    def state_files(self, origin: str) -> list[str]:
        """The names of the JSON files of a state root, sorted."""
        return sorted(p.name for p in (self.tmp_path / "resources" / origin).glob("*.json"))

    def backups(self) -> list[Path]:
        """The destination's saved ``integrations`` states (an update or a reset saves the one it replaces)."""
        return list((self.tmp_path / "resources/destination/.backup").glob("*/integrations.json"))

    def handed_off_external_ids(self) -> dict[str, str]:
        """``{state key: external id}`` of the AWS hand-off file a sync writes beside destination state."""
        handoff = json.loads((self.tmp_path / "resources/destination/handoff/aws-external-ids.json").read_text())
        return {a["state_key"]: a["external_id"] for a in handoff["accounts"]}

    def assert_per_file_import_and_sync(self, files: list[str], first: str) -> None:
        """``import`` and ``sync`` with ``--resource-per-file``: the source state is ``files``, the first holding the
        entry ``first``, and the sync succeeds without writing the combined destination file."""
        self.cli("import", "--resource-per-file")
        assert self.state_files("source") == files
        assert set(json.loads((self.tmp_path / "resources/source" / files[0]).read_text())) == {first}
        result = self.cli("sync", "--resource-per-file")
        assert result.exit_code == 0, result.stderr
        assert not (self.tmp_path / "resources/destination/integrations.json").exists()

    def assert_resync_is_noop(self, state: dict, unchanged: int) -> None:
        """After a complete sync: ``diffs`` plans nothing, and a sync writes nothing and keeps ``state``."""
        mark = self.mark()
        result = self.cli("diffs")
        assert f"Plan: 0 to create, 0 to update, 0 to delete, {unchanged} unchanged." in result.stdout
        result = self.cli("sync")
        assert result.exit_code == 0, result.stderr
        assert self.writes_since(mark) == []  # unchanged accounts: not a single write
        assert self.state("destination") == state  # config and external ids kept, never drift

    # ------------------------------------------------------------------------------------- requests made
    def mark(self) -> tuple[int, dict]:
        return len(self.cassette.data), dict(self.cassette.play_counts)

    def recorded_since(self, mark: tuple[int, dict]) -> list:
        """The cassette's requests made since ``mark`` (recorded, or replayed), in the order they were made."""
        count, plays = mark
        if RECORDING:
            return [r for r, _ in self.cassette.data[count:]]
        played = [i for i, n in self.cassette.play_counts.items() if n > plays.get(i, 0)]
        return [self.cassette.data[i][0] for i in sorted(played)]

    def requests_since(self, mark: tuple[int, dict]) -> list[tuple[str, str, str]]:
        """(method, org host, path) of the requests made since ``mark``, recorded or replayed."""
        return [(r.method, r.host.split(".")[0], r.path) for r in self.recorded_since(mark)]

    def writes_since(self, mark, org: str = "destination") -> list[tuple[str, str]]:
        return [(m, p) for m, host, p in self.requests_since(mark) if host == org and m != "GET"]

    # -------------------------------------------------------------------------------- the orgs over HTTP
    def _run(self, org: str, work, api: Callable[[Client], Any] | None = None):
        """``await work(api)`` against ``org`` through the real HTTP client (``api`` by default ``make_api``)."""

        async def go():
            api_key, app_key = self.keys[org]
            policy = RetryPolicy(retry_timeout=30, backoff_base=0.05, backoff_max=1)
            async with Client(self.urls[org], api_key=api_key, app_key=app_key, org=org, retry=policy) as client:
                return await work((api or self.make_api)(client))

        return asyncio.run(go())

    def write_secrets(self, entries: dict) -> dict[str, str]:
        """The CLI's environment naming an integrations secrets file that holds ``entries`` (owner-only)."""
        return secrets_file_env(self.tmp_path, entries)

    def accounts(self, org: str = "destination") -> dict[str, dict]:
        """The org's accounts as the API reports them, in the stored shape, keyed like state (no secrets)."""

        async def work(api: AwsV1Api):
            accounts, logs = await asyncio.gather(api.list_accounts(), api.list_logs())
            by_id = model.index_logs(logs)
            out = {}
            for raw in sorted(accounts, key=lambda a: model.state_key(a)):
                obj = model.normalize_account(raw)
                obj[model.TAG_FILTERS] = model.normalize_tag_filters(await api.tag_filters(model.filtering_id(obj)))
                if model.logs_id(obj):
                    obj[model.LOGS] = by_id.get(model.logs_id(obj), model.empty_logs())
                out[model.state_key(obj)] = obj
            return out

        return self._run(org, work)

    def seed(self, org: str, *accounts: dict) -> None:
        """Create accounts (with their tag filters and logs) in an org through the API."""

        async def work(api: AwsV1Api):
            for account in accounts:
                obj = model.normalize(account)
                await api.create_account(model.account_payload(obj, account.get("secret_access_key")))
                for namespace, value in obj.get(model.TAG_FILTERS, {}).items():
                    await api.put_tag_filter(model.tag_filter_payload(model.filtering_id(obj), namespace, value))
                logs = obj.get(model.LOGS)
                if logs and model.logs_id(obj):
                    for arn in logs[model.LAMBDA_ARNS]:
                        await api.add_lambda_arn(model.lambda_payload(model.logs_id(obj), arn))
                    if logs[model.SERVICES]:
                        await api.set_log_services(model.services_payload(model.logs_id(obj), logs[model.SERVICES]))

        self._run(org, work)

    def update(self, org: str, current: dict, desired: dict) -> None:
        async def work(api: AwsV1Api):
            await api.update_account(model.update_selector(current), model.account_payload(desired))

        self._run(org, work)

    def wipe(self, org: str) -> None:
        """Delete every AWS account of the org (real test orgs must be dedicated to these tests)."""

        async def work(api: AwsV1Api):
            for raw in await api.list_accounts():
                await api.delete_account(model.delete_payload(model.normalize_account(raw)))

        self._run(org, work)


V2_ACCOUNTS = "/api/v2/integration/aws/accounts"
#: What the v2 API answers that is per org or read-only (never part of a stored object).
V2_READ_ONLY = ("created_at", "modified_at")


def v2_body(attributes: dict) -> dict:
    return {"data": {"type": "account", "attributes": attributes}}


class V2Orgs(Orgs):
    """The same orgs seen through the v2 AWS accounts API (``/api/v2/integration/aws/accounts``), raw JSON:API.

    The CLI runs with ``--integrations-aws-api=v2`` (the env variable, set explicitly, whatever the default)."""

    def __init__(self, cassette, tmp_path: Path, api: str = "v2"):
        super().__init__(cassette, tmp_path)
        self.api = api

    def env(self, **extra: str) -> dict[str, str]:
        return {"DD_INTEGRATIONS_AWS_API": self.api, **super().env(**extra)}

    def script(self, *rules: dict) -> None:
        """Scripted faults of the emulator (docs/emulator.md) for the next requests; a replay needs none, and a
        recording against real orgs cannot have them (the test is skipped)."""
        if REAL_ORGS:
            pytest.skip("needs the emulator's scripted faults")
        if self.emulator is not None:
            self.emulator.set_knobs(script=list(rules))

    def bodies_since(self, mark, method: str) -> list[dict]:
        """The JSON bodies of the destination's ``method`` requests to the v2 accounts API since ``mark``, as
        recorded (scrubbed: secrets masked), in the order they were made."""
        return [
            json.loads(r.body)
            for r in self.recorded_since(mark)
            if r.method == method and r.host.startswith("destination.") and r.path.startswith(V2_ACCOUNTS)
        ]

    def _client_run(self, org: str, work):
        return self._run(org, work, api=lambda client: client)

    def raw_accounts(self, org: str = "destination") -> dict[str, dict]:
        """``{aws_account_id: {"id": config id, **attributes}}`` as the v2 list reports them (read-only values and
        the external id left out)."""

        async def work(client: Client):
            return (await client.get(V2_ACCOUNTS))["data"]

        out = {}
        for item in self._client_run(org, work):
            attributes = {k: v for k, v in item["attributes"].items() if k not in V2_READ_ONLY}
            attributes["auth_config"] = {k: v for k, v in attributes["auth_config"].items() if k != "external_id"}
            out[attributes["aws_account_id"]] = {"id": item["id"], **attributes}
        return out

    def external_ids(self, org: str = "destination") -> dict[str, str]:
        """``{aws_account_id: external_id}`` of the org's role accounts, as the v2 list reports them."""

        async def work(client: Client):
            return (await client.get(V2_ACCOUNTS))["data"]

        return {
            item["attributes"]["aws_account_id"]: item["attributes"]["auth_config"]["external_id"]
            for item in self._client_run(org, work)
            if "external_id" in item["attributes"]["auth_config"]
        }

    def seed_v2(self, org: str, *accounts: dict) -> None:
        """Create accounts through ``POST /api/v2/integration/aws/accounts`` (attributes as the API takes them)."""

        async def work(client: Client):
            for attributes in accounts:
                await client.post(V2_ACCOUNTS, json=v2_body(attributes))

        self._client_run(org, work)

    def patch_v2(self, org: str, aws_account_id: str, attributes: dict) -> None:
        config_id = self.raw_accounts(org)[aws_account_id]["id"]

        async def work(client: Client):
            await client.patch(f"{V2_ACCOUNTS}/{config_id}", json=v2_body(attributes))

        self._client_run(org, work)

    def delete_v2(self, org: str, aws_account_id: str) -> None:
        config_id = self.raw_accounts(org)[aws_account_id]["id"]

        async def work(client: Client):
            await client.delete(f"{V2_ACCOUNTS}/{config_id}")

        self._client_run(org, work)

    def wipe(self, org: str) -> None:
        """Delete every AWS account of the org through v2 (real test orgs must be dedicated to these tests)."""

        async def work(client: Client):
            for item in (await client.get(V2_ACCOUNTS))["data"]:
                await client.delete(f"{V2_ACCOUNTS}/{item['id']}")

        self._client_run(org, work)

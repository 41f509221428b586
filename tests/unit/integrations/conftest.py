"""Fixtures driving the integrations resource against the emulator through the real HTTP client."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from datadog_sync.config import Configuration, OrgConfig
from datadog_sync.context import RunContext
from datadog_sync.emulator import Emulator
from datadog_sync.emulator.testing import DESTINATION, SOURCE
from datadog_sync.filters import Filters
from datadog_sync.http.client import Client
from datadog_sync.http.retry import RetryPolicy
from datadog_sync.report import Reporter
from datadog_sync.resources.integrations import IntegrationsResource
from datadog_sync.state import StateStore

FAST = RetryPolicy(retry_timeout=10, backoff_base=0.005, backoff_max=0.05, max_attempts=10)

ROLE = {
    "account_id": "123456789012",
    "role_name": "DatadogAWSIntegrationRole",
    "filter_tags": ["env:prod", "datadog:monitored"],
    "host_tags": ["team:a"],
    "account_specific_namespace_rules": {"auto_scaling": False},
    "excluded_regions": ["us-west-2", "us-east-1"],
    "metrics_collection_enabled": True,
    "extended_resource_collection_enabled": True,
    "cspm_resource_collection_enabled": True,
    "errors": ["Datadog is not authorized to perform action sts:AssumeRole"],
    "tag_filters": {"application_elb": "env:prod", "lambda": "team:a"},
    "logs": {"lambdas": ["arn:aws:lambda:us-east-1:123456789012:function:fwd"], "services": ["s3", "lambda"]},
}
KEY = {
    "access_key_id": "AKIAEXAMPLEKEY000001",
    "account_id": "210987654321",
    "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET001",
    "host_tags": ["partition:gov"],
    "tag_filters": {"rds": "env:gov"},
    "logs": {"lambdas": ["arn:aws-us-gov:lambda:us-gov-west-1:210987654321:function:fwd"], "services": []},
}
SECRET = KEY["secret_access_key"]


def org_state(*accounts: dict) -> dict:
    return {"aws": {"installed": True, "accounts": [json.loads(json.dumps(a)) for a in accounts]}}


@pytest.fixture
async def emu():
    async with Emulator([SOURCE, DESTINATION], seed=7) as emulator:
        yield emulator


def make_client(emu: Emulator, spec, **kw) -> Client:
    return Client(emu.url, api_key=spec.api_key, app_key=spec.app_key, org=spec.name, **{"retry": FAST, **kw})


@pytest.fixture
async def clients(emu):
    src, dst = make_client(emu, SOURCE), make_client(emu, DESTINATION)
    yield src, dst
    await src.close()
    await dst.close()


class Harness:
    """One run's context and resource, as the host builds them."""

    def __init__(
        self, tmp_path: Path, emu: Emulator, command: str = "sync", secrets: dict | None = None, api: str = "v1", **kw
    ):
        self.tmp_path = tmp_path
        secrets_file = None
        if secrets is not None:
            secrets_file = tmp_path / "secrets.json"
            secrets_file.write_text(json.dumps(secrets))
        self.config = Configuration(
            command=command,
            source=OrgConfig("source", emu.url, SOURCE.api_key, SOURCE.app_key),
            destination=OrgConfig("destination", emu.url, DESTINATION.api_key, DESTINATION.app_key),
            resources=("integrations",),
            filters=Filters(),
            destination_resources_path=tmp_path / "resources" / "destination",
            source_resources_path=tmp_path / "resources" / "source",
            integrations_secrets_file=secrets_file,
            integrations_aws_api=api,
            **kw,
        )
        self.state = StateStore(self.config.source_resources_path, self.config.destination_resources_path)
        self.reporter = Reporter(command, stream=io.StringIO())
        self.ctx = RunContext(config=self.config, state=self.state, reporter=self.reporter)
        self.resource = IntegrationsResource(self.ctx)

    @property
    def aws(self):
        return self.resource.subtypes["aws"]


@pytest.fixture
def harness(tmp_path, emu):
    def make(command: str = "sync", secrets: dict | None = None, api: str = "v1", **kw) -> Harness:
        return Harness(tmp_path, emu, command, secrets, api, **kw)

    return make


def writes(emu: Emulator, org: str = "destination") -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emu.requests(org) if r["method"] != "GET"]


def reads(emu: Emulator, org: str = "destination") -> list[str]:
    return [r["path"] for r in emu.requests(org) if r["method"] == "GET"]

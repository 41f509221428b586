"""Fixtures for the emulator's own tests: an async emulator with standard orgs and a tiny JSON HTTP client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from datadog_sync.emulator import Emulator, OrgSpec

MAIN = OrgSpec("main", "main-api-key", "main-app-key")
OTHER = OrgSpec("other", "other-api-key", "other-app-key")
READONLY = OrgSpec("readonly", "ro-api-key", "ro-app-key", read_only=True)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


class Api:
    """Calls the emulator as one org (or with explicit headers), returning status, parsed body and headers."""

    def __init__(self, session: aiohttp.ClientSession, url: str, org: OrgSpec | None) -> None:
        self.session, self.url, self.org = session, url, org

    def as_org(self, org: OrgSpec | None) -> Api:
        return Api(self.session, self.url, org)

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if headers is None and self.org is not None:
            sent = {"DD-API-KEY": self.org.api_key, "DD-APPLICATION-KEY": self.org.app_key}
        data = None if body is None else json.dumps(body)
        if data is not None:
            sent["Content-Type"] = "application/json"
        async with self.session.request(method, self.url + path, data=data, params=params, headers=sent) as resp:
            text = await resp.text()
            parsed = json.loads(text) if text else None
            return Reply(resp.status, parsed, dict(resp.headers))

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.call("POST", path, body, **kw)

    async def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.call("PUT", path, body, **kw)

    async def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.call("PATCH", path, body, **kw)

    async def delete(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.call("DELETE", path, body, **kw)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator([MAIN, OTHER, READONLY], seed=1) as emulator:
        yield emulator


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, emu.url, MAIN)


ROLE_ACCOUNT = {
    "account_id": "171234183000",
    "role_name": "DatadogAWSIntegrationRole",
    "account_specific_namespace_rules": {"auto_scaling": False},
    "cspm_resource_collection_enabled": True,
    "excluded_regions": ["us-east-1", "us-west-2"],
    "extended_resource_collection_enabled": True,
    "filter_tags": ["$KEY:$VALUE"],
    "host_tags": ["$KEY:$VALUE"],
    "metrics_collection_enabled": False,
}
KEY_ACCOUNT = {
    "access_key_id": "AKIA995299505053",
    "account_id": "995299505053",
    "secret_access_key": "testacc-datadog-integration-secret",
    "host_tags": ["env:gov"],
}


def v2_body(**attributes: Any) -> dict[str, Any]:
    """A v2 create/update request body."""
    return {"data": {"type": "account", "attributes": attributes}}


#: The role account of datadog-api-client-python's v2 create example (cassette
#: test_create_an_aws_account_returns_aws_account_object_response), with a v2-only setting or two.
V2_ROLE_ACCOUNT: dict[str, Any] = {
    "account_tags": ["key:value"],
    "auth_config": {"role_name": "DatadogIntegrationRole"},
    "aws_account_id": "123456789012",
    "aws_partition": "aws",
    "aws_regions": {"include_only": ["us-east-1"]},
    "logs_config": {
        "lambda_forwarder": {
            "lambdas": ["arn:aws:lambda:us-east-1:123456789012:function:DatadogLambdaLogForwarder"],
            "log_source_config": {"tag_filters": [{"source": "s3", "tags": ["test:test"]}]},
            "sources": ["s3"],
        }
    },
    "metrics_config": {
        "automute_enabled": False,
        "collect_cloudwatch_alarms": True,
        "collect_custom_metrics": True,
        "enabled": True,
        "namespace_filters": {"include_only": ["AWS/EC2"]},
        "tag_filters": [{"namespace": "AWS/EC2", "tags": ["key:value"]}],
    },
    "resources_config": {"cloud_security_posture_management_collection": False, "extended_collection": False},
    "traces_config": {"xray_services": {"include_only": ["AWS/AppSync"]}},
}
V2_KEY_ACCOUNT: dict[str, Any] = {
    "auth_config": {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG"},
    "aws_account_id": "210987654321",
    "aws_partition": "aws-us-gov",
}

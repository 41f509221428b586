from __future__ import annotations

from pathlib import Path

import pytest

from datadog_sync.resources.base import BaseResource, ResourceConfig
from tests.support import invoke, read_state, registered, serve_orgs, served_env


class Gadgets(BaseResource):
    resource_type = "gadgets"
    config = ResourceConfig(base_path="/api/v1/gadgets", excluded_attributes=("id",), mapping_key="name")


class Widgets(BaseResource):
    resource_type = "widgets"
    config = ResourceConfig(
        base_path="/api/v1/widgets",
        excluded_attributes=("id",),
        dependencies={"gadgets": ("gadget_id",)},
        concurrent=False,
    )


@pytest.fixture
def test_resources():
    with registered(Gadgets, Widgets):
        yield


@pytest.fixture
def server(test_resources):
    with serve_orgs() as srv:
        yield srv


class Cli:
    """Runs datadog-sync commands against the test server from a temporary working directory."""

    def __init__(self, server, workdir: Path):
        self.server = server
        self.workdir = workdir

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None):
        command, *rest = args
        if not any(a.startswith(("--resources", "--config")) for a in rest):
            rest = ["--resources=gadgets,widgets", *rest]
        full = [command, *rest]
        return invoke(full, served_env(self.server, **(env or {})), input=input)

    def state(self, origin: str, rtype: str) -> dict:
        return read_state(self.workdir, origin, rtype)


@pytest.fixture
def run(server, workdir):
    return Cli(server, workdir)

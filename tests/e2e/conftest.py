from __future__ import annotations

import json
from pathlib import Path

import pytest

from datadog_sync.resources import register, unregister
from datadog_sync.resources.base import BaseResource, ResourceConfig
from tests.e2e.crud_server import serve
from tests.support import invoke


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
    register(Gadgets)
    register(Widgets)
    yield
    unregister("gadgets")
    unregister("widgets")


@pytest.fixture
def server(test_resources):
    with serve({"src-api": "source", "dst-api": "destination"}) as srv:
        yield srv


class Cli:
    """Runs datadog-sync commands against the test server from a temporary working directory."""

    def __init__(self, server, workdir: Path):
        self.server = server
        self.workdir = workdir

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None):
        base_env = {
            "DD_SOURCE_API_KEY": "src-api",
            "DD_SOURCE_APP_KEY": "src-app",
            "DD_SOURCE_API_URL": self.server.url,
            "DD_DESTINATION_API_KEY": "dst-api",
            "DD_DESTINATION_APP_KEY": "dst-app",
            "DD_DESTINATION_API_URL": self.server.url,
            "DD_SHOW_PROGRESS_BAR": "false",
            **(env or {}),
        }
        command, *rest = args
        if not any(a.startswith(("--resources", "--config")) for a in rest):
            rest = ["--resources=gadgets,widgets", *rest]
        full = [command, *rest]
        return invoke(full, base_env, input=input)

    def state(self, origin: str, rtype: str) -> dict:
        path = self.workdir / "resources" / origin / f"{rtype}.json"
        return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
def run(server, workdir):
    return Cli(server, workdir)

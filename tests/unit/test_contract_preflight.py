"""The one host pre-flight checks what any resource type declares per action, not only the aws subtype."""

from __future__ import annotations

from typing import ClassVar

import pytest
from click.testing import CliRunner

from datadog_sync.cli import cli
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs
from datadog_sync.resources import register, unregister
from datadog_sync.resources.base import BaseResource, ResourceConfig
from tests.e2e.crud_server import serve


class Gadgets(BaseResource):
    resource_type: ClassVar[str] = "gadgets"
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path="/api/v1/gadgets",
        excluded_attributes=("id",),
        # The emulator grants the AWS permissions, never this one.
        permissions={"read": "aws_configuration_read", "create": "gadgets_write"},
        permission_purposes={"gadgets_write": "create gadgets"},
        noun="gadget(s)",
    )


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    register(Gadgets)
    with emulated_orgs() as emu:
        with serve({SOURCE.api_key: "source", DESTINATION.api_key: "destination"}, upstream=emu.url) as srv:
            yield srv
    unregister("gadgets")


def invoke(server, *args: str):
    env = {
        "DD_SOURCE_API_KEY": SOURCE.api_key,
        "DD_SOURCE_APP_KEY": SOURCE.app_key,
        "DD_SOURCE_API_URL": server.url,
        "DD_DESTINATION_API_KEY": DESTINATION.api_key,
        "DD_DESTINATION_APP_KEY": DESTINATION.app_key,
        "DD_DESTINATION_API_URL": server.url,
        "DD_SHOW_PROGRESS_BAR": "false",
    }
    return CliRunner().invoke(cli, [*args, "--resources=gadgets"], env=env, catch_exceptions=False)


def test_a_declared_permission_the_key_lacks_stops_the_type_before_any_write(server):
    server.data["source"]["gadgets"] = {"1": {"id": "1", "name": "a"}, "2": {"id": "2", "name": "b"}}
    assert invoke(server, "import").exit_code == 0
    result = invoke(server, "sync")
    assert result.exit_code == 1
    assert "permission pre-flight: 2 gadget(s) need `gadgets_write`: 1, 2" in result.stderr
    assert "lacks the `gadgets_write` permission, needed to create gadgets" in result.stderr
    assert server.data["destination"]["gadgets"] == {}
    assert "2 failed" in result.stdout

"""The one host pre-flight checks what any resource type declares per action, not only the aws subtype."""

from __future__ import annotations

from typing import ClassVar

import pytest

from datadog_sync.emulator.testing import emulated_orgs
from datadog_sync.resources.base import BaseResource, ResourceConfig
from tests.support import invoke_served, registered, serve_orgs


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
def server(workdir):
    with registered(Gadgets), emulated_orgs() as emu, serve_orgs(upstream=emu.url) as srv:
        yield srv


def test_a_declared_permission_the_key_lacks_stops_the_type_before_any_write(server):
    server.data["source"]["gadgets"] = {"1": {"id": "1", "name": "a"}, "2": {"id": "2", "name": "b"}}
    assert invoke_served(server, "import", resources="gadgets").exit_code == 0
    result = invoke_served(server, "sync", resources="gadgets")
    assert result.exit_code == 1
    assert "permission pre-flight: 2 gadget(s) need `gadgets_write`: 1, 2" in result.stderr
    assert "lacks the `gadgets_write` permission, needed to create gadgets" in result.stderr
    assert server.data["destination"]["gadgets"] == {}
    assert "2 failed" in result.stdout

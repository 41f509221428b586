"""The contract's state rule, through the real CLI and ``apply_plan``: what a plugin's ``create`` returns is what
destination state keeps, and a ``PartialFailure`` makes the host keep its object before recording the failure.
Also: the one host pre-flight checks the permissions a plain resource type declares per action."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from datadog_sync.resources.base import BaseResource, PartialFailure, ResourceConfig, ResourceError
from tests.support import invoke_served, read_state, registered, serve_orgs


class Gadgets(BaseResource):
    """Creates each gadget, then fails a later write of the one named ``half``: the gadget exists anyway."""

    resource_type: ClassVar[str] = "gadgets"
    config: ClassVar[ResourceConfig] = ResourceConfig(base_path="/api/v1/gadgets", excluded_attributes=("id",))

    async def create(self, client, key: str, desired: dict) -> dict:
        created = await super().create(client, key, desired)
        if desired["name"] == "half":
            raise PartialFailure(ResourceError("its second write failed"), keep={**created, "kept": True})
        return created


@pytest.fixture
def server(workdir):
    with registered(Gadgets), serve_orgs() as srv:
        yield srv


def test_a_partial_failure_keeps_its_object_in_state_and_counts_as_a_failure(server):
    server.data["source"]["gadgets"] = {"1": {"id": "1", "name": "whole"}, "2": {"id": "2", "name": "half"}}
    assert invoke_served(server, "import", resources="gadgets").exit_code == 0
    result = invoke_served(server, "sync", resources="gadgets")
    assert result.exit_code == 1
    assert "1 created, 0 updated, 0 deleted, 0 unchanged, 1 failed" in result.stdout
    assert "its second write failed" in result.stderr
    state = read_state(Path.cwd(), "destination", "gadgets")
    assert state["1"]["name"] == "whole" and "kept" not in state["1"]
    assert state["2"]["kept"] is True and state["2"]["id"] in server.data["destination"]["gadgets"]

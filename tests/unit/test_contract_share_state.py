"""The contract's memory hook through the real CLI: before planning (``diffs``, ``sync``, and ``migrate`` after its
import), the host hands each type's source and destination state to ``share_state``; ``import`` and ``reset`` plan
nothing and do not call it. Sharing sub-objects changes no content: the plan and the state files stay the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from datadog_sync.jsonshare import share_fields
from datadog_sync.resources.base import BaseResource, ResourceConfig
from tests.support import invoke_served, registered, serve_orgs


class Gadgets(BaseResource):
    resource_type: ClassVar[str] = "gadgets"
    config: ClassVar[ResourceConfig] = ResourceConfig(base_path="/api/v1/gadgets", excluded_attributes=("id",))
    calls: ClassVar[list[tuple[str, list[str], list[str]]]] = []

    def share_state(self, source: Any, destination: Any) -> None:
        self.calls.append((self.ctx.config.command, sorted(source), sorted(destination)))
        for key, stored in destination.items():
            if key in source:
                share_fields(stored, source[key])


@pytest.fixture
def server(workdir):
    Gadgets.calls.clear()
    with registered(Gadgets), serve_orgs() as srv:
        yield srv


def test_share_state_runs_before_every_plan_and_changes_no_content(server):
    server.data["source"]["gadgets"] = {
        "1": {"id": "1", "name": "alpha", "tags": ["a", "b"], "spec": {"size": 1}},
        "2": {"id": "2", "name": "beta", "tags": [], "spec": {"size": 2}},
    }
    assert invoke_served(server, "migrate", resources="gadgets").exit_code == 0
    state = Path.cwd() / "resources/destination/gadgets.json"
    written = state.read_bytes()
    assert invoke_served(server, "import", resources="gadgets").exit_code == 0
    diffs = invoke_served(server, "diffs", resources="gadgets")
    sync = invoke_served(server, "sync", resources="gadgets")
    after_sync = state.read_bytes()
    assert invoke_served(server, "reset", "--yes", "--do-not-backup", resources="gadgets").exit_code == 0
    assert Gadgets.calls == [
        ("migrate", ["1", "2"], []),  # after its import, before its plan
        ("diffs", ["1", "2"], ["1", "2"]),
        ("sync", ["1", "2"], ["1", "2"]),
    ]
    assert "Plan: 0 to create, 0 to update, 0 to delete, 2 unchanged." in diffs.stdout
    assert sync.exit_code == 0 and "0 created, 0 updated, 0 deleted, 2 unchanged" in sync.stdout
    assert after_sync == written

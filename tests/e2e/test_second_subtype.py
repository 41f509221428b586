"""A second integrations subtype, registered by this test only, runs end to end through the CLI beside ``aws``.

``widgets`` lives at ``/api/v1/integration/widgets`` on the test REST server, which forwards every other path
(the AWS v1 integration API, the permission pre-flight's reads) to the emulator. Adding it takes one plugin
class and one ``register_subtype`` line: no change to the host, the CLI or the ``integrations`` type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from datadog_sync.resources.base import ResourceConfig
from datadog_sync.resources.composite import SubtypeResource
from datadog_sync.resources.integrations import IntegrationsResource
from datadog_sync.resources.integrations.secrets import load_secrets
from tests.support import invoke_served, read_state, serve_orgs

WIDGETS = "widgets"
ONLY_WIDGETS = "--filter=Type=integrations;Name=name;Value=widgets"


class WidgetsSubtype(SubtypeResource):
    """A plugin like any other: its own config, key, normalisation; the defaults do the writes."""

    resource_type: ClassVar[str] = "integrations"
    subtype: ClassVar[str] = WIDGETS
    schema: ClassVar[dict[str, Any]] = {"title": str, "size": int}
    has_secrets: ClassVar[bool] = True
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path="/api/v1/integration/widgets", excluded_attributes=("id",), mapping_key="title", max_concurrent=2
    )

    async def list_resources(self, client) -> list[dict]:
        return [{**item, "name": self.subtype} for item in await super().list_resources(client)]

    def key_of(self, raw: dict) -> str:
        return f"{self.subtype}:{raw['title']}"  # the natural id, never the API's

    async def import_resource(self, raw: dict, client) -> tuple[str, dict]:
        return self.key_of(raw), {"name": self.subtype, "id": raw["id"], "title": raw["title"], "size": raw["size"]}

    @classmethod
    def parse_secrets(cls, section: Any, path) -> dict:
        return dict(section or {})


@pytest.fixture
def widgets_subtype():
    IntegrationsResource.register_subtype(WidgetsSubtype)
    yield
    IntegrationsResource.unregister_subtype(WIDGETS)


@pytest.fixture
def orgs(widgets_subtype, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with emulated_orgs(source_state=make_aws_org(2, seed=1, key_account_share=0)) as emu:
        with serve_orgs(upstream=emu.url) as server:
            yield emu, server


def state(origin: str) -> dict:
    return read_state(Path.cwd(), origin, "integrations")


def widget_writes(server) -> list[tuple[str, str, str]]:
    return [r for r in server.requests if r[0] == "destination" and r[1] != "GET" and "/integration/" in r[2]]


def aws_writes(emu) -> list[str]:
    return [r["path"] for r in emu.requests("destination") if r["method"] != "GET"]


def test_a_second_subtype_goes_end_to_end_beside_aws(orgs):
    emu, server = orgs
    server.data["source"]["integration_widgets"] = {
        "1": {"id": "1", "title": "w1", "size": 1},
        "2": {"id": "2", "title": "w2", "size": 2},
    }

    result = invoke_served(server, "import")
    assert result.exit_code == 0, result.stderr
    keys = set(state("source"))
    assert {"widgets:w1", "widgets:w2"} < keys and len([k for k in keys if k.startswith("aws:")]) == 2
    assert state("source")["widgets:w1"] == {"name": "widgets", "id": "1", "title": "w1", "size": 1}

    result = invoke_served(server, "diffs")
    assert "integrations widgets:w1: create" in result.stdout
    assert "Plan: 4 to create, 0 to update, 0 to delete, 0 unchanged." in result.stdout

    result = invoke_served(server, "sync")
    assert result.exit_code == 0, result.stderr
    assert "Applied: 4 created, 0 updated" in result.stdout
    assert {w["title"] for w in server.data["destination"]["integration_widgets"].values()} == {"w1", "w2"}
    assert len(emu.dump("destination")["aws"]["accounts"]) == 2
    stored = state("destination")["widgets:w2"]
    assert server.data["destination"]["integration_widgets"][stored["id"]]["size"] == 2

    # Re-sync: nothing to do, nothing written (widgets nor aws).
    server.requests.clear()
    emu.clear_requests()
    result = invoke_served(server, "diffs")
    assert "Plan: 0 to create, 0 to update, 0 to delete, 4 unchanged." in result.stdout
    assert invoke_served(server, "sync").exit_code == 0
    assert widget_writes(server) == [] and aws_writes(emu) == []

    # Filter by subtype: only the widget changes, aws is neither imported nor written.
    server.data["source"]["integration_widgets"]["1"]["size"] = 10
    assert invoke_served(server, "import", ONLY_WIDGETS).exit_code == 0
    assert set(state("source")) == {"widgets:w1", "widgets:w2"}
    result = invoke_served(server, "sync", ONLY_WIDGETS)
    assert result.exit_code == 0, result.stderr
    assert "Applied: 0 created, 1 updated" in result.stdout
    assert [(m, p.rsplit("/", 1)[0]) for _, m, p in widget_writes(server)] == [("PUT", "/api/v1/integration/widgets")]
    assert aws_writes(emu) == []

    # Reset of the subtype only: the widgets go, the aws accounts stay.
    result = invoke_served(server, "reset", "--yes", ONLY_WIDGETS)
    assert result.exit_code == 0, result.stderr
    assert server.data["destination"]["integration_widgets"] == {}
    assert len(emu.dump("destination")["aws"]["accounts"]) == 2
    assert not any(k.startswith("widgets:") for k in state("destination"))


def test_each_subtype_parses_its_own_secrets_section(widgets_subtype, tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"aws": {"AKIAONE": "secret-one"}, "widgets": {"token": "t"}}))
    secrets = load_secrets(path)
    assert secrets.section("widgets") == {"token": "t"}
    assert secrets.section("aws").aws_key("AKIAONE").secret_access_key == "secret-one"


def test_an_unclaimed_secrets_section_is_still_an_error(tmp_path):
    from datadog_sync.resources.integrations.secrets import SecretsFileError

    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"widgets": {}}))
    with pytest.raises(SecretsFileError, match='unknown section "widgets"'):
        load_secrets(path)


def test_reset_forgets_a_deleted_widget_by_its_own_id(orgs):
    """reset drops the state entry pointing at a deleted widget, matched by the widget's id (not ``account_id``),
    even when the destination object no longer has the key it was synced under."""
    emu, server = orgs
    server.data["source"]["integration_widgets"] = {"1": {"id": "1", "title": "w1", "size": 1}}
    assert invoke_served(server, "import", ONLY_WIDGETS).exit_code == 0
    assert invoke_served(server, "sync", ONLY_WIDGETS).exit_code == 0
    dest_id = state("destination")["widgets:w1"]["id"]
    server.data["destination"]["integration_widgets"][dest_id]["title"] = "renamed"  # edited in the destination

    result = invoke_served(server, "reset", "--yes", ONLY_WIDGETS)
    assert result.exit_code == 0, result.stderr
    assert server.data["destination"]["integration_widgets"] == {}
    assert "widgets:w1" not in state("destination")


@pytest.fixture
def read_only_orgs(widgets_subtype, tmp_path, monkeypatch):
    """The destination key may read cloud integrations but not write them; widgets declare no permission."""
    monkeypatch.chdir(tmp_path)
    read_only = org_spec(DESTINATION, read_only=True)
    with emulated_orgs(
        source_state=make_aws_org(2, seed=1, key_account_share=0),
        destination_state=make_aws_org(1, seed=3, key_account_share=0),
        orgs=[SOURCE, read_only],
    ) as emu:
        with serve_orgs(upstream=emu.url) as server:
            yield emu, server


def test_the_permission_preflight_blocks_only_the_lacking_subtype(read_only_orgs):
    emu, server = read_only_orgs
    server.data["source"]["integration_widgets"] = {"1": {"id": "1", "title": "w1", "size": 1}}
    assert invoke_served(server, "import").exit_code == 0

    result = invoke_served(server, "sync")
    assert result.exit_code == 1
    assert "aws_configurations_manage" in result.stderr
    assert "1 created" in result.stdout and "2 failed" in result.stdout
    assert [w["title"] for w in server.data["destination"]["integration_widgets"].values()] == ["w1"]
    assert aws_writes(emu) == []

    # reset runs the same pre-flight before deleting: the widget goes, the AWS account is not even tried.
    result = invoke_served(server, "reset", "--yes")
    assert result.exit_code == 1
    assert "permission pre-flight failed" in result.stderr and "aws_configurations_manage" in result.stderr
    assert server.data["destination"]["integration_widgets"] == {}
    assert len(emu.dump("destination")["aws"]["accounts"]) == 1
    assert aws_writes(emu) == []

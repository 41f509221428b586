"""The ``fastly`` subtype end to end: the CLI against the emulator, every command, counted writes."""

from __future__ import annotations

import json

import pytest

from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.support import edit_source, read_state
from tests.support import invoke_emulated as invoke
from tests.unit.integrations.service_accounts import live, secrets_env, services, writes

EDGE = {
    "id": "a" * 32,
    "name": "edge",
    "api_key": "fastlyKeyEdge0000000000000000001",
    "services": [{"id": "6abc7def8ghi9jkl0mno1p", "tags": ["team:edge", "env:prod"]}],
}
CDN = {"id": "b" * 32, "name": "cdn", "api_key": "fastlyKeyCdn00000000000000000002", "services": []}
STATE = services(fastly=[EDGE, CDN])


def test_sync_creates_with_services_inline_and_a_resync_writes_nothing(workdir):
    env = secrets_env(workdir, STATE)
    with emulated_orgs(source_state=STATE) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        source = read_state(workdir, "source", "integrations")
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        posts = writes(emu, "fastly")
        dest = live(emu, "fastly")
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        second = writes(emu, "fastly")
    assert set(source) == {"fastly:edge", "fastly:cdn"}
    assert source["fastly:edge"] == {
        "name": "fastly",
        "account_name": "edge",
        "id": "a" * 32,
        "services": [{"id": "6abc7def8ghi9jkl0mno1p", "tags": ["team:edge", "env:prod"]}],
    }
    assert sync.exit_code == 0, sync.output
    assert sorted((w["method"], w["path"]) for w in posts) == [("POST", "/api/v2/integrations/fastly/accounts")] * 2
    assert dest["edge"]["api_key"] == EDGE["api_key"] and dest["edge"]["services"] == [
        {"id": "6abc7def8ghi9jkl0mno1p", "tags": ["env:prod", "team:edge"]}
    ]
    assert EDGE["api_key"] not in sync.output + json.dumps(read_state(workdir, "destination", "integrations"))
    assert again.exit_code == 0 and second == [] and "2 unchanged" in again.stdout


def test_an_update_writes_only_the_services_that_differ_without_a_secret(workdir):
    extra = {"id": "svc-extra", "tags": []}
    dest_state = services(fastly=[{**EDGE, "id": "c" * 32, "services": [*EDGE["services"], extra]}])
    with emulated_orgs(source_state=STATE, destination_state=dest_state) as emu:
        assert invoke(emu, "import").exit_code == 0
        edit_source(
            workdir,
            "fastly:edge",
            services=[
                {"id": "6abc7def8ghi9jkl0mno1p", "tags": ["env:prod", "team:edge", "tier:1"]},
                {"id": "svc-new", "tags": ["a"]},
            ],
        )
        diffs = invoke(emu, "diffs", "--filter=Type=integrations;Name=account_name;Value=edge")
        emu.clear_requests()
        sync = invoke(emu, "sync", "--filter=Type=integrations;Name=account_name;Value=edge")
        made = sorted((w["method"], w["path"].rsplit("/", 1)[-1]) for w in writes(emu, "fastly"))
        account = live(emu, "fastly")["edge"]
        again = invoke(emu, "diffs", "--filter=Type=integrations;Name=account_name;Value=edge")
    assert diffs.exit_code == 0 and "Plan: 0 to create, 1 to update" in diffs.stdout
    assert sync.exit_code == 0, sync.output
    assert made == [("DELETE", "svc-extra"), ("PATCH", "6abc7def8ghi9jkl0mno1p"), ("POST", "services")]
    assert sorted(s["id"] for s in account["services"]) == ["6abc7def8ghi9jkl0mno1p", "svc-new"]
    assert account["id"] == "c" * 32 and account["api_key"] == EDGE["api_key"]  # adopted, never re-created
    assert "1 unchanged" in again.stdout


def test_a_missing_api_key_skips_the_create_with_the_line_to_add(workdir):
    env = secrets_env(workdir, STATE, drop=("cdn",))
    with emulated_orgs(source_state=STATE) as emu:
        assert invoke(emu, "import").exit_code == 0
        sync = invoke(emu, "sync", **env)
        created = live(emu, "fastly")
    assert set(created) == {"edge"}
    assert "no API key for Fastly account cdn" in sync.output
    assert '{"fastly": {"cdn": "<API key>"}}' in sync.output


@pytest.mark.parametrize("per_file", [False, True])
def test_cleanup_and_reset_delete_once_and_back_up(workdir, per_file):
    env = secrets_env(workdir, STATE)
    flags = ["--resource-per-file"] if per_file else []
    with emulated_orgs(source_state=STATE) as emu:
        assert invoke(emu, "import", *flags, **env).exit_code == 0
        assert invoke(emu, "sync", *flags, **env).exit_code == 0
        state = json.loads((workdir / "resources/source/integrations.json").read_text()) if not per_file else None
        if per_file:
            (workdir / "resources/source/integrations.fastly.cdn.json").unlink()
        else:
            del state["fastly:cdn"]
            (workdir / "resources/source/integrations.json").write_text(json.dumps(state))
        emu.clear_requests()
        cleanup = invoke(emu, "sync", "--cleanup=force", *flags, **env)
        deleted = [w["path"] for w in writes(emu, "fastly")]
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes", *flags, **env)
        reset_writes = writes(emu, "fastly")
        left = live(emu, "fastly")
    assert cleanup.exit_code == 0 and "1 deleted" in cleanup.stdout
    assert len(deleted) == 1 and deleted[0].startswith("/api/v2/integrations/fastly/accounts/")
    assert reset.exit_code == 0 and len(reset_writes) == 1 and left == {}
    assert list((workdir / "resources/destination/.backup").glob("*-sync/integrations*.json"))


def test_a_renamed_account_is_a_create_and_cleanup_deletes_the_old_one(workdir):
    env = secrets_env(workdir, services(fastly=[EDGE, {**EDGE, "name": "edge-2"}]))
    with emulated_orgs(source_state=services(fastly=[EDGE])) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        assert invoke(emu, "sync", **env).exit_code == 0
        path = workdir / "resources/source/integrations.json"
        state = json.loads(path.read_text())
        state["fastly:edge-2"] = {**state.pop("fastly:edge"), "account_name": "edge-2"}
        path.write_text(json.dumps(state))
        sync = invoke(emu, "sync", "--cleanup=force", **env)
        names = set(live(emu, "fastly"))
    assert sync.exit_code == 0, sync.output
    assert "1 created" in sync.stdout and "1 deleted" in sync.stdout and names == {"edge-2"}


def test_filters_select_the_subtype_and_an_account(workdir):
    okta = {"id": "u1", "name": "corp", "domain": "https://corp.okta.com/", "auth_method": "oauth", "client_id": "c"}
    with emulated_orgs(source_state=services(fastly=[EDGE, CDN], okta=[okta])) as emu:
        assert invoke(emu, "import", "--filter=Type=integrations;Name=name;Value=fastly").exit_code == 0
        fastly = set(read_state(workdir, "source", "integrations"))
        assert invoke(emu, "import", "--filter=Type=integrations;Name=account_name;Value=cdn").exit_code == 0
        cdn = set(read_state(workdir, "source", "integrations"))
    assert fastly == {"fastly:edge", "fastly:cdn"} and cdn == {"fastly:cdn"}


def test_the_permission_pre_flight_names_manage_integrations(workdir):
    read_only = org_spec(DESTINATION, read_only=True)
    with emulated_orgs(source_state=STATE, orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        sync = invoke(emu, "sync", destination=read_only, **secrets_env(workdir, STATE))
        assert writes(emu, "fastly") == []
    assert sync.exit_code == 1
    assert "2 Fastly account(s) need `manage_integrations`" in sync.stderr


@pytest.fixture
def only_accounts_subtypes():
    """Only the subtypes whose objects notify nobody (cloud and account integrations) are registered."""
    from datadog_sync.resources.integrations import IntegrationsResource

    registered = dict(IntegrationsResource.subtype_classes)
    for name, cls in registered.items():
        if cls.handle_kind:
            IntegrationsResource.unregister_subtype(name)
    try:
        yield
    finally:
        for name in registered:
            IntegrationsResource.unregister_subtype(name)
        for cls in registered.values():
            IntegrationsResource.register_subtype(cls)


def test_a_run_whose_subtypes_provide_no_handle_reads_no_monitor(workdir, only_accounts_subtypes):
    env = secrets_env(workdir, STATE)
    state = {**STATE, "monitors": [{"name": "m", "message": "@pagerduty-payments @webhook-deploy-bot"}]}
    with emulated_orgs(source_state=state) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        synced = invoke(emu, "migrate", **env)
        reads = [r for org in ("source", "destination") for r in emu.requests(org) if r["path"] == "/api/v1/monitor"]
    assert synced.exit_code == 0, synced.output
    assert reads == [] and "@pagerduty-payments" not in synced.output

"""The v2 ``aws`` subtype's writes and plans through the real HTTP client against the emulator (no mocks of our
classes): what a whole CLI run cannot reach easily (an account deleted between plan and write), and the
external-ID journal of a killed run."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from datadog_sync.resources.base import ResourceError, Superseded
from datadog_sync.resources.integrations.aws import AwsV1Subtype, AwsV2Subtype, handoff
from tests.support import invoke_emulated as invoke
from tests.support import read_state
from tests.unit.integrations.conftest import org_state, writes
from tests.unit.integrations.test_aws_subtype import apply, import_all, plan
from tests.unit.integrations.test_v2_cli import ACCOUNTS, KEY, ROLE, SECRET, org, secrets_file

pytestmark = pytest.mark.aws_api("v2")

V2_ROLE = {
    "name": "aws",
    "account_id": "123456789012",
    "aws_account_id": "123456789012",
    "aws_partition": "aws",
    "auth_config": {"role_name": "R"},
    "account_tags": ["a"],
}


def test_the_run_picks_the_generation_from_the_options(harness):
    assert type(harness(api="v2").aws) is AwsV2Subtype
    assert type(harness(api="v1").aws) is AwsV1Subtype
    assert AwsV2Subtype.variant(object()) is AwsV2Subtype  # a configuration without the option: the default


async def test_an_update_of_an_account_gone_meanwhile_fails_clearly_and_a_delete_counts_it_absent(
    emu, clients, harness, caplog
):
    caplog.set_level(logging.INFO)
    _, dst = clients
    h = harness(api="v2")
    gone = {**V2_ROLE, "id": str(uuid.uuid4())}
    with pytest.raises(ResourceError) as err:
        await h.aws.update(dst, "aws:123456789012", V2_ROLE, gone)
    assert str(err.value).startswith("AWS account 123456789012: it is gone from the destination (404 ")
    assert "Account not found" in str(err.value) and "run sync again, its next plan creates the account" in str(
        err.value
    )
    await h.aws.delete(dst, "aws:123456789012", gone)
    assert "already absent from the destination" in caplog.text
    assert [m for m, _ in writes(emu)] == ["PATCH", "DELETE"]


async def test_a_delete_refused_otherwise_names_the_account(emu, clients, harness):
    _, dst = clients
    with pytest.raises(ResourceError) as err:
        await harness(api="v2").aws.delete(dst, "aws:123456789012", {**V2_ROLE, "id": "not-a-uuid"})
    assert str(err.value).startswith("AWS account 123456789012: 400 Bad Request on DELETE")
    assert 'Invalid Parameter: invalid parameter "aws_account_config_id" in "path"' in str(err.value)


async def test_without_a_destination_client_the_plan_trusts_v2_state_only(harness):
    aws = harness("diffs", api="v2").aws
    state = {"aws:123456789012": {**V2_ROLE, "account_tags": None}, "aws:1": {"name": "aws", "account_id": "1"}}
    assert await aws.current_destination(None, {}, state) == {"aws:123456789012": {**V2_ROLE, "account_tags": []}}


async def test_a_v1_key_entry_not_claimed_by_the_source_stays_a_destination_account(emu, clients, harness):
    emu.seed("destination", org_state({"access_key_id": KEY["access_key_id"], "secret_access_key": SECRET}))
    _, dst = clients
    aws = harness(api="v2").aws
    v1_entry = {"name": "aws", "access_key_id": KEY["access_key_id"]}
    current = await aws.current_destination(dst, {}, {"aws:AKIAEXAMPLEKEY000001": v1_entry})
    (obj,) = current.values()
    assert not isinstance(obj, Superseded) and obj["auth_config"] == {"access_key_id": KEY["access_key_id"]}
    assert obj["id"]


def test_a_killed_create_is_recorded_from_datadog_by_the_next_run_without_a_request(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        (account,) = emu.dump("destination")["aws"]["accounts"]
        # As a run killed after sending its create leaves it: the attempt journaled, no id, no state.
        (workdir / "resources/destination/integrations.json").unlink()
        (workdir / "resources/destination/handoff/aws-external-ids.journal").write_text(
            json.dumps({"account_id": "123456789012", "role_name": ROLE["role_name"], "intent": "create"}) + "\n"
        )
        (workdir / "resources/destination/handoff/aws-external-ids.json").unlink()
        diffs = invoke(emu, "diffs")
        emu.clear_requests()
        sync = invoke(emu, "sync")
        done = writes(emu)
    assert '~ external_id: "(never received)" -> "(read from Datadog)"' in diffs.stdout
    assert account["external_id"] not in diffs.output
    assert sync.exit_code == 0 and done == []
    handoff_file = json.loads((workdir / "resources/destination/handoff/aws-external-ids.json").read_text())
    (entry,) = handoff_file["accounts"]
    assert entry["external_id"] == account["external_id"] and entry["new_in_last_sync"] is True
    assert handoff.journal_load(workdir / "resources/destination")[("123456789012", ROLE["role_name"])] == (
        account["external_id"]
    )


def test_an_unrecorded_account_that_also_changed_is_patched_once(workdir):
    with emulated_orgs(source_state=org(ROLE)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        state_path = workdir / "resources/destination/integrations.json"
        state = json.loads(state_path.read_text())
        state["aws:123456789012"]["external_id"] = "(never received)"
        state_path.write_text(json.dumps(state))
        source = read_state(workdir, "source", "integrations")
        source["aws:123456789012"]["account_tags"] = ["changed"]
        (workdir / "resources/source/integrations.json").write_text(json.dumps(source))
        emu.clear_requests()
        sync = invoke(emu, "sync")
        done = writes(emu)
    assert sync.exit_code == 0 and [m for m, _ in done] == ["PATCH"]
    assert read_state(workdir, "destination", "integrations")["aws:123456789012"]["external_id"] != "(never received)"


def test_a_key_account_made_meanwhile_by_another_writer_is_adopted(workdir):
    env = {"DD_INTEGRATIONS_SECRETS_FILE": secrets_file(workdir)}
    with emulated_orgs(source_state=org(KEY)) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        emu.set_knobs(script=[{"fault": "rival", "method": "POST", "path": ACCOUNTS, "org": "destination"}])
        sync = invoke(emu, "sync", **env)
        done = [(r["method"], r["status"]) for r in emu.requests("destination") if r["method"] != "GET"]
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", 409), ("POST", 409), ("PATCH", 200)]
    assert "already exists in the destination: adopting and updating it instead of creating it" in sync.stderr
    assert SECRET not in sync.output


def test_reset_over_v1_written_state_deletes_each_account_once_and_forgets_every_entry(workdir):
    path = workdir / "secrets.json"
    path.write_text(json.dumps({"aws": {KEY["access_key_id"]: SECRET}}))
    path.chmod(0o600)
    plain_key = {k: v for k, v in KEY.items() if k != "aws_partition"}
    env = {"DD_INTEGRATIONS_SECRETS_FILE": str(path)}
    with emulated_orgs(source_state=org({k: v for k, v in ROLE.items() if k != "v2"}, plain_key)) as emu:
        assert invoke(emu, "migrate", DD_INTEGRATIONS_AWS_API="v1", **env).exit_code == 0
        assert set(read_state(workdir, "destination", "integrations")) == {
            "aws:123456789012",
            "aws:AKIAEXAMPLEKEY000001",
        }
        emu.clear_requests()
        reset = invoke(emu, "reset", "--yes", **env)
        deletes = writes(emu)
        left = emu.dump("destination")["aws"]["accounts"]
    assert reset.exit_code == 0 and "Reset: 2 deleted" in reset.stdout
    assert sorted(m for m, _ in deletes) == ["DELETE", "DELETE"] and len(set(deletes)) == 2 and left == []
    assert read_state(workdir, "destination", "integrations") == {}


def test_an_api_error_of_the_string_list_shape_names_the_account(workdir):
    # No manage permission, and no way to check permissions first: the create's 403 body is a list of strings.
    no_manage = org_spec(DESTINATION, permissions=["aws_configuration_read", "aws_configuration_edit"])
    with emulated_orgs(source_state=org(ROLE), orgs=[SOURCE, no_manage]) as emu:
        assert invoke(emu, "import", destination=no_manage).exit_code == 0
        sync = invoke(emu, "sync", destination=no_manage)
    assert sync.exit_code == 1
    assert f"AWS account 123456789012: 403 Forbidden on POST {ACCOUNTS} (destination):" in sync.stderr
    assert "lacks the `aws_configurations_manage` permission" in sync.stderr


@pytest.mark.parametrize("body", [{"valid": True}, ["x"]])
async def test_a_listing_of_the_wrong_shape_is_not_a_datadog_answer(body, harness):
    from aiohttp import web

    from datadog_sync.http.client import Client

    async def answer(_request):
        return web.json_response(body)

    app = web.Application()
    app.router.add_get(ACCOUNTS, answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = Client(f"http://127.0.0.1:{port}", api_key="k", app_key="a", org="destination")
    try:
        with pytest.raises(ResourceError) as err:
            await harness(api="v2").aws.list_resources(client)
    finally:
        await client.close()
        await runner.cleanup()
    assert "does not look like a Datadog API answer" in str(err.value)


async def test_an_unchanged_account_is_planned_from_its_state_entry_which_shares_the_source_settings(
    emu, clients, harness
):
    """Memory only (docs/performance.md): before planning, a destination state entry shares every setting equal to
    its source entry's (``share_state``), and an account unchanged since the last sync is planned with its state
    entry itself, not a second copy made from the listing. Nothing changes in content or in the plan."""
    emu.seed("source", org_state(ROLE))
    src, dst = clients
    h = harness(api="v2")
    source = h.state.source["integrations"] = await import_all(h, src)
    await apply(h, dst, await plan(h, dst, source))
    stored = h.state.destination["integrations"]
    (key,) = stored
    text = json.dumps(stored)
    settings = [field for field, value in source[key].items() if isinstance(value, (dict, list))]
    assert settings and not any(stored[key][field] is source[key][field] for field in settings)
    h.resource.share_state(h.state.source["integrations"], stored)
    assert json.dumps(stored) == text
    assert all(stored[key][field] is source[key][field] for field in settings)
    (change,) = await plan(h, dst, source)
    assert change.action == "noop" and change.current is stored[key]

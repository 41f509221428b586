"""The ``gcp`` subtype's writes and plans through the real HTTP client against the emulator (no mocks of our
classes): what a whole CLI run cannot reach easily (an account gone or made between plan and write, refusals)."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from datadog_sync.emulator import make_gcp_org
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from datadog_sync.resources.base import ResourceError, SkipResource
from datadog_sync.resources.integrations.gcp import GcpSubtype, handoff
from tests.support import invoke_emulated as invoke
from tests.unit.integrations.conftest import make_client, writes
from tests.unit.integrations.test_gcp_cli import (
    ACCOUNTS,
    DELEGATE,
    HANDOFF,
    K_KEY,
    K_STS,
    KEY,
    KEY_EMAIL,
    STS,
    STS_EMAIL,
    V1,
    org,
)

STORED_STS = {"name": "gcp", "client_email": STS_EMAIL, "automute": True, "account_tags": ["a:b"]}
STORED_KEY = {"name": "gcp", "client_email": KEY_EMAIL, "project_id": "legacy-project", "automute": True}
KEY_SECRETS = {"gcp": {KEY_EMAIL: {k: KEY[k] for k in ("type", "project_id", "private_key_id", "private_key")}}}


def gcp(harness, command: str = "sync", secrets: dict | None = None) -> GcpSubtype:
    return harness(command, secrets=secrets).resource.subtypes["gcp"]


def accounts(emu) -> dict[str, dict]:
    return {a["client_email"]: a for a in emu.dump("destination").get("gcp", {}).get("accounts", [])}


async def test_an_update_of_an_account_gone_meanwhile_fails_clearly_and_a_delete_counts_it_absent(
    emu, clients, harness, caplog
):
    caplog.set_level(logging.INFO)
    _, dst = clients
    sub = gcp(harness)
    gone = {**STORED_STS, "id": str(uuid.uuid4())}
    with pytest.raises(ResourceError) as err:
        await sub.update(dst, K_STS, STORED_STS, gone)
    assert str(err.value).startswith(f"GCP service account {STS_EMAIL}: it is gone from the destination (404 ")
    assert "run sync again, its next plan creates the account" in str(err.value)
    await sub.delete(dst, K_STS, gone)
    assert "already absent from the destination" in caplog.text
    assert [m for m, _ in writes(emu)] == ["PATCH", "DELETE"]


async def test_refused_writes_name_the_account(emu, clients, harness):
    _, dst = clients
    sub = gcp(harness)
    with pytest.raises(ResourceError) as err:
        await sub.create(dst, K_STS, {**STORED_STS, "monitored_resource_configs": [{"type": "nope"}]})
    assert str(err.value).startswith(f"GCP service account {STS_EMAIL}: 400 Bad Request on POST {ACCOUNTS}")
    live = await sub.create(dst, K_STS, STORED_STS)
    with pytest.raises(ResourceError) as err:
        await sub.update(dst, K_STS, {**STORED_STS, "automute": "yes"}, live)
    assert "400 Bad Request on PATCH" in str(err.value) and "automute" in str(err.value)
    bad_key = gcp(harness, secrets=KEY_SECRETS)
    with pytest.raises(ResourceError) as err:
        await bad_key.create(dst, K_KEY, {**STORED_KEY, "automute": "yes"})
    assert str(err.value).startswith(f"GCP key account {KEY_EMAIL} (project legacy-project): 400 Bad Request on POST")
    assert KEY["private_key"] not in str(err.value)


async def test_a_delete_refused_otherwise_names_the_account(emu, harness):
    read_only = org_spec(DESTINATION, name="ro", permissions=["gcp_configuration_read"])
    async with emu_with(read_only) as (emu2, dst):
        with pytest.raises(ResourceError) as err:
            await gcp(harness).delete(dst, K_STS, {**STORED_STS, "id": str(uuid.uuid4())})
    assert str(err.value).startswith(f"GCP service account {STS_EMAIL}: 403 Forbidden on DELETE")


class emu_with:  # noqa: N801 - an async context manager read like a function
    """A second emulator with one extra org, and a client of it."""

    def __init__(self, spec):
        self.spec = spec

    async def __aenter__(self):
        from datadog_sync.emulator import Emulator

        self.emu = Emulator([SOURCE, self.spec], seed=3)
        await self.emu.__aenter__()
        self.client = make_client(self.emu, self.spec)
        return self.emu, self.client

    async def __aexit__(self, *exc):
        await self.client.close()
        await self.emu.__aexit__(*exc)


async def test_a_create_meeting_an_existing_account_adopts_it_and_updates_it(emu, clients, harness, caplog):
    _, dst = clients
    emu.seed("destination", org({"client_email": STS_EMAIL, "automute": False}))
    stored = await gcp(harness).create(dst, K_STS, STORED_STS)
    live = accounts(emu)[STS_EMAIL]
    assert writes(emu) == [("POST", DELEGATE), ("POST", ACCOUNTS), ("PATCH", f"{ACCOUNTS}/{live['id']}")]
    assert "adopted, not created twice" in caplog.text
    assert stored["id"] == live["id"] and live["automute"] is True and live["account_tags"] == ["a:b"]


async def test_a_create_meeting_a_key_account_of_that_email_says_so(emu, clients, harness):
    _, dst = clients
    emu.seed("destination", org(KEY))
    with pytest.raises(ResourceError) as err:
        await gcp(harness).create(dst, f"gcp:{KEY_EMAIL}", {**STORED_STS, "client_email": KEY_EMAIL})
    assert "the destination has it as a v1 key integration (project legacy-project)" in str(err.value)


async def test_a_v1_create_meeting_an_existing_account_adopts_it_or_names_the_sts_twin(emu, clients, harness):
    _, dst = clients
    sub = gcp(harness, secrets=KEY_SECRETS)
    emu.seed("destination", org({**KEY, "automute": False}))
    stored = await sub.create(dst, K_KEY, STORED_KEY)
    assert [m for m, _ in writes(emu)] == ["POST", "PUT"] and stored["automute"] is True
    assert accounts(emu)[KEY_EMAIL]["automute"] is True
    emu.seed("destination", org({"client_email": KEY_EMAIL}))
    with pytest.raises(ResourceError) as err:
        await sub.create(dst, K_KEY, STORED_KEY)
    assert f"GCP key account {KEY_EMAIL} (project legacy-project): 409 Conflict on POST {V1}" in str(err.value)


async def test_a_key_account_write_without_its_key_is_a_skip(emu, clients, harness):
    _, dst = clients
    sub = gcp(harness)
    with pytest.raises(SkipResource) as skip:
        await sub.create(dst, K_KEY, STORED_KEY)
    assert "no JSON key for GCP service account" in skip.value.reason
    with pytest.raises(SkipResource):
        await sub.update(dst, K_KEY, STORED_KEY, {**STORED_STS, "client_email": KEY_EMAIL, "id": "x"})
    assert writes(emu) == []


async def test_without_a_destination_client_the_plan_trusts_state(harness):
    sub = gcp(harness, "diffs")
    state = {K_STS: {**STORED_STS, "account_tags": None}}
    assert await sub.current_destination(None, {}, state) == {K_STS: {**STORED_STS, "account_tags": []}}


def test_a_principal_that_cannot_be_made_leaves_a_placeholder_in_the_hand_off(workdir):
    no_edit = org_spec(DESTINATION, permissions=["gcp_configuration_read", "gcp_configurations_manage"])
    with emulated_orgs(source_state=org(STS), orgs=[SOURCE, no_edit]) as emu:
        emu.seed("destination", org(delegate=None))
        assert invoke(emu, "import", destination=no_edit).exit_code == 0
        sync = invoke(emu, "sync", destination=no_edit)
        done = [(r["method"], r["path"], r["status"]) for r in emu.requests("destination") if r["method"] != "GET"]
    assert sync.exit_code == 0, sync.output
    assert done == [("POST", DELEGATE, 403), ("POST", ACCOUNTS, 201)]
    assert "cannot make the destination org's Datadog GCP principal" in sync.stderr
    assert "names it by a placeholder" in sync.stderr
    document = json.loads((workdir / HANDOFF).read_text())
    assert document["datadog_principal"] is None
    assert handoff.UNKNOWN_PRINCIPAL in document["service_accounts"][0]["gcloud"]


def test_a_principal_that_cannot_be_read_is_a_warning(workdir):
    with emulated_orgs(source_state=org(STS)) as emu:
        assert invoke(emu, "import").exit_code == 0
        emu.set_knobs(script=[{"fault": "conflict", "method": "GET", "path": DELEGATE}])  # a 4xx: not retried
        diffs = invoke(emu, "diffs")
    assert diffs.exit_code == 0 and "cannot read the destination org's Datadog GCP principal" in diffs.stderr


def test_a_big_creation_lists_the_first_commands_and_points_at_the_file(workdir):
    with emulated_orgs(source_state=make_gcp_org(handoff.MAX_LISTED + 2, seed=9)) as emu:
        assert invoke(emu, "import").exit_code == 0
        sync = invoke(emu, "sync")
        reset = invoke(emu, "reset", "--yes")
    assert sync.exit_code == 0, sync.output
    assert sync.stderr.count("gcloud iam service-accounts add-iam-policy-binding") == handoff.MAX_LISTED
    assert "... and 2 more in" in sync.stderr
    assert reset.exit_code == 0 and json.loads((workdir / HANDOFF).read_text())["service_accounts"] == []


def test_a_reset_without_a_hand_off_file_writes_none(workdir):
    with emulated_orgs(destination_state=org(STS)) as emu:
        reset = invoke(emu, "reset", "--yes")
        assert accounts(emu) == {}
    assert reset.exit_code == 0 and not (workdir / HANDOFF).exists()

"""External IDs under faults: rotated only for an account this tool provably created, and the hand-off file,
destination state and Datadog (the emulator) always agree in the end.

Faults are the emulator's scripted one-shot rules (knob ``script``), so every test is deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from urllib.parse import urlsplit

import pytest

from datadog_sync.http.errors import ConnectionFailed, HTTPError, NotConnected
from datadog_sync.http.retry import RetryPolicy
from datadog_sync.http.transport import AiohttpTransport
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.aws import handoff
from tests.unit.http_support import closed_port
from tests.unit.integrations.conftest import DESTINATION, ROLE, SOURCE, make_client, org_state, writes
from tests.unit.integrations.test_aws_subtype import apply, import_all, plan

CREATE = {"method": "POST", "path": "/api/v1/integration/aws", "org": "destination"}
ROTATE = ("PUT", "/api/v1/integration/aws/generate_new_external_id")
ARN = "arn:aws:iam::123456789012:role/DatadogAWSIntegrationRole"


def emulator_ids(emu) -> dict[str, str]:
    return {a["account_id"]: a["external_id"] for a in emu.dump("destination")["aws"]["accounts"] if "role_name" in a}


def handoff_doc(h) -> dict:
    return json.loads(handoff.handoff_path(h.config.destination_resources_path).read_text())


def assert_agree(h, emu, unknown=()):
    """Hand-off file == destination state == the emulator, for every role account; ``unknown`` are adopted
    accounts whose external ID nobody told us (listed for a deliberate rotation)."""
    ids = emulator_ids(emu)
    state = {o["account_id"]: o.get("external_id") for o in h.state.destination["integrations"].values()}
    doc = handoff_doc(h)
    in_file = {a["account_id"]: a["external_id"] for a in doc["accounts"]}
    assert set(state) == set(ids)
    assert in_file == {a: ids[a] for a in ids if a not in unknown}
    assert {a: state[a] for a in in_file} == in_file
    assert all(state[a] is None for a in unknown)
    assert doc["roles_with_unknown_external_id"] == sorted(
        f"arn:aws:iam::{a}:role/{ROLE['role_name']}" for a in unknown
    )


async def created(emu, clients, harness, script):
    emu.seed("source", org_state(ROLE))
    h = harness()
    changes = await plan(h, clients[1], await import_all(h, clients[0]))
    emu.set_knobs(script=script)
    emu.clear_requests()
    return h, changes


@pytest.mark.parametrize(
    "script",
    [
        [{**CREATE, "fault": "rival"}],  # another writer's create won: ours got 409 "conflicting updates"
        [{**CREATE, "fault": "rate_limited"}, {**CREATE, "fault": "rival"}],  # 429, then the same
        [{**CREATE, "fault": "conflict"}, {**CREATE, "fault": "rival"}],
    ],
    ids=["409-conflict", "429-then-409", "two-409s"],
)
async def test_an_account_another_writer_created_between_attempts_is_adopted_never_rotated(
    emu, clients, harness, caplog, script
):
    h, changes = await created(emu, clients, harness, script)
    with caplog.at_level(logging.WARNING):
        await apply(h, clients[1], changes)
    assert emu.counters()["scripted_faults"] == len(script)
    assert ROTATE not in writes(emu), "the other writer's external ID must never be rotated"
    assert "created by another writer" in caplog.text and "rotate it deliberately" in caplog.text
    assert ARN in caplog.text
    assert h.aws.issued == {}
    assert_agree(h, emu, unknown=["123456789012"])
    # Nor by a later run: the journal says the account is someone else's.
    (later,) = await plan(harness(), clients[1], await import_all(h, clients[0]))
    assert later.action == "noop"


@pytest.mark.parametrize(
    "script",
    [
        [{**CREATE, "fault": "lost"}],  # applied, answered 504: the external ID was lost
        # A 503 may have been applied for all the client knows (here another writer made the account meanwhile):
        # rotating is the safe side, the account cannot have a trust policy that uses an ID nobody saw.
        [{**CREATE, "fault": "fault"}, {**CREATE, "fault": "rival"}],
        [{**CREATE, "fault": "conflict"}, {**CREATE, "fault": "lost"}],
    ],
    ids=["504", "503-then-409", "409-then-504"],
)
async def test_a_create_whose_attempt_may_have_been_applied_gets_a_known_external_id(emu, clients, harness, script):
    h, changes = await created(emu, clients, harness, script)
    await apply(h, clients[1], changes)
    assert ROTATE in writes(emu)
    assert h.aws.issued["aws:123456789012"]["external_id"] == emulator_ids(emu)["123456789012"]
    assert_agree(h, emu)


@pytest.mark.parametrize(
    "script",
    [
        [{**CREATE, "fault": "conflict", "times": 99}],  # refused until the client gave up
        [{**CREATE, "fault": "rate_limited"}, {**CREATE, "fault": "conflict", "times": 99}],
    ],
    ids=["409s-until-give-up", "429-then-409s"],
)
async def test_a_journaled_create_that_was_refused_never_leads_to_a_rotation(emu, clients, harness, script):
    h, changes = await created(emu, clients, harness, script)
    with pytest.raises(ResourceError, match="conflicting updates"):
        await h.resource.create(clients[1], changes[0].key, changes[0].desired)
    emu.set_knobs(script=[])
    assert emu.dump("destination")["aws"]["accounts"] == []
    emu.seed("destination", org_state(ROLE))  # then someone else creates the account
    (later,) = await plan(harness(), clients[1], await import_all(h, clients[0]))
    assert later.action == "noop" and later.adopted, "not ours: its external ID must not be rotated"


async def test_a_journaled_create_refused_by_a_4xx_never_leads_to_a_rotation(emu, clients, harness):
    h, changes = await created(emu, clients, harness, [])
    emu.set_permissions("destination", ["aws_configuration_read", "aws_configuration_edit"])
    with pytest.raises(ResourceError, match="403"):
        await h.resource.create(clients[1], changes[0].key, changes[0].desired)
    emu.set_permissions(
        "destination", ["aws_configuration_read", "aws_configuration_edit", "aws_configurations_manage"]
    )
    emu.seed("destination", org_state(ROLE))
    (later,) = await plan(harness(), clients[1], await import_all(h, clients[0]))
    assert later.action == "noop"


@pytest.mark.parametrize(
    ("script", "uncertain"),
    [
        ([{**CREATE, "fault": "conflict"}], False),
        ([{**CREATE, "fault": "rate_limited"}], False),
        ([{**CREATE, "fault": "fault"}], True),
        ([{**CREATE, "fault": "lost"}], True),
        ([{**CREATE, "fault": "conflict"}, {**CREATE, "fault": "lost"}], True),
        ([], False),
    ],
)
async def test_the_client_says_whether_an_earlier_attempt_may_have_been_applied(emu, clients, script, uncertain):
    emu.seed("destination", org_state(ROLE))  # every create that reaches the handler is a duplicate
    emu.set_knobs(script=script)
    with pytest.raises(HTTPError) as info:
        await clients[1].post(
            "/api/v1/integration/aws",
            json={"account_id": ROLE["account_id"], "role_name": "R"},
            idempotent=True,
            retry_on=lambda err: "conflicting" in str(err),
        )
    assert "already exists" in str(info.value)
    assert info.value.earlier_attempt_may_have_applied is uncertain


class FirstAttemptToAClosedPort(AiohttpTransport):
    """The real transport, whose first request goes to a port nobody listens on: a connection that is never made."""

    def __init__(self, closed_port: int) -> None:
        super().__init__()
        self.closed_port = closed_port
        self.sent = 0

    async def send(self, method, url, headers, body, timeout):
        self.sent += 1
        if self.sent == 1:
            parts = urlsplit(url)
            url = parts._replace(netloc=f"127.0.0.1:{self.closed_port}").geturl()
        return await super().send(method, url, headers, body, timeout)


async def test_a_connection_that_was_never_made_proves_the_attempt_was_not_applied(emu):
    """Connection refused means nothing was sent: the "already exists" that follows is another writer's account."""
    emu.seed("destination", org_state(ROLE))
    transport = FirstAttemptToAClosedPort(closed_port())
    client = make_client(emu, DESTINATION, transport=transport)
    try:
        with pytest.raises(HTTPError) as info:
            await client.post(
                "/api/v1/integration/aws", json={"account_id": ROLE["account_id"], "role_name": "R"}, idempotent=True
            )
    finally:
        await client.close()
    assert transport.sent == 2 and "already exists" in str(info.value)
    assert info.value.earlier_attempt_may_have_applied is False


async def test_a_connect_failure_is_never_sent_and_a_broken_answer_may_have_been(emu):
    transport = AiohttpTransport()
    try:
        with pytest.raises(NotConnected) as refused:
            await transport.send("POST", f"http://127.0.0.1:{closed_port()}/api/v1/x", {}, b"{}", 5)
    finally:
        await transport.close()
    assert refused.value.may_have_been_sent is False
    assert ConnectionFailed("connection reset").may_have_been_sent is True


async def test_a_run_killed_while_waiting_to_retry_a_refused_create_never_leads_to_a_rotation(emu, harness):
    """Killed between attempts after a definite refusal: the journal already says no attempt was applied."""
    waits_an_hour = RetryPolicy(retry_timeout=7200, backoff_base=3600, backoff_max=3600, jitter=0, max_attempts=5)
    source, destination = make_client(emu, SOURCE), make_client(emu, DESTINATION, retry=waits_an_hour)
    try:
        emu.seed("source", org_state(ROLE))
        h = harness()
        changes = await plan(h, destination, await import_all(h, source))
        emu.set_knobs(script=[{**CREATE, "fault": "conflict"}])
        create = asyncio.create_task(h.resource.create(destination, changes[0].key, changes[0].desired))
        journal = handoff.journal_path(h.config.destination_resources_path)
        for _ in range(10_000):  # until the refusal is journaled; the client then waits an hour to retry
            if journal.exists() and '"refused"' in journal.read_text():
                break
            await asyncio.sleep(0.01)
        assert not create.done()
        create.cancel()  # the run dies here, as under SIGKILL: nothing after the journal line runs
        with contextlib.suppress(asyncio.CancelledError):
            await create
        h.aws.journal.close()
        assert [json.loads(line).get("intent") for line in journal.read_text().splitlines()] == ["create", "refused"]
        emu.seed("destination", org_state(ROLE))  # then someone else creates the account
        (later,) = await plan(harness(), destination, await import_all(h, source))
    finally:
        await source.close()
        await destination.close()
    assert later.action == "noop" and later.adopted, "not ours: its external ID must not be rotated"

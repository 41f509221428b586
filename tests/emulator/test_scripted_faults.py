"""The ``script`` knob: one-shot faults on chosen requests, for deterministic tests."""

from __future__ import annotations

import asyncio

import pytest

from datadog_sync.emulator import Emulator
from tests.emulator.conftest import ROLE_ACCOUNT, Api

BASE = "/api/v1/integration/aws"
CREATE = {"method": "POST", "path": BASE}


def accounts(emu: Emulator) -> list[str]:
    return [a["account_id"] for a in emu.dump("main")["aws"]["accounts"]]


@pytest.mark.parametrize(
    ("fault", "status", "applied"),
    [("fault", 503, False), ("conflict", 409, False), ("rate_limited", 429, False), ("lost", 504, True)],
)
async def test_each_fault_answers_once_and_is_applied_or_not(api: Api, emu: Emulator, fault, status, applied):
    emu.set_knobs(script=[{**CREATE, "fault": fault}])
    reply = await api.post(BASE, ROLE_ACCOUNT)
    assert reply.status == status and accounts(emu) == ([ROLE_ACCOUNT["account_id"]] if applied else [])
    assert emu.requests("main")[-1]["injected"] == f"scripted_{fault}"
    again = await api.post(BASE, ROLE_ACCOUNT)
    assert again.status == (409 if applied else 200)  # used up: a duplicate, or the create itself
    assert emu.counters()["scripted_faults"] == 1 and emu.knobs()["script"][0]["times"] == 0


async def test_rival_applies_the_write_and_answers_conflicting_updates(api: Api, emu: Emulator):
    emu.set_knobs(script=[{**CREATE, "fault": "rival"}])
    reply = await api.post(BASE, ROLE_ACCOUNT)
    assert reply.status == 409 and "conflicting updates" in reply.body["errors"][0]
    assert accounts(emu) == [ROLE_ACCOUNT["account_id"]]


async def test_rules_match_method_path_and_account_skip_and_count(api: Api, emu: Emulator):
    other = {**ROLE_ACCOUNT, "account_id": "171234183001"}
    emu.set_knobs(script=[{**CREATE, "account_id": other["account_id"], "skip": 1, "times": 2, "fault": "fault"}])
    assert (await api.get(BASE)).status == 200
    assert (await api.post(BASE, ROLE_ACCOUNT)).status == 200  # another account
    assert (await api.post(BASE, other)).status == 200  # skipped once
    await api.delete(BASE, {"account_id": other["account_id"], "role_name": other["role_name"]})
    assert [(await api.post(BASE, other)).status for _ in range(3)] == [503, 503, 200]


async def test_hang_is_applied_and_answered_lost_once_the_script_changes(api: Api, emu: Emulator):
    emu.set_knobs(script=[{**CREATE, "fault": "hang"}])
    pending = asyncio.ensure_future(api.post(BASE, ROLE_ACCOUNT))
    while not emu.counters()["scripted_faults"]:
        await asyncio.sleep(0.01)
    assert accounts(emu) == [ROLE_ACCOUNT["account_id"]] and not pending.done()
    emu.set_knobs(script=[])
    assert (await pending).status == 504


@pytest.mark.parametrize(
    "rule",
    [{"fault": "explode"}, {"fault": "lost", "colour": "red"}, {"fault": "lost", "times": -1}, "lost"],
)
def test_bad_rules_are_refused(emu: Emulator, rule):
    with pytest.raises(ValueError, match="knob script"):
        emu.set_knobs(script=[rule])

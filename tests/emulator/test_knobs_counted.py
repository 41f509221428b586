"""Knobs that act at a count of requests, not at a time: forced 429s, an outage and a hold after N writes."""

from __future__ import annotations

import asyncio

import pytest

from datadog_sync.emulator import Emulator
from tests.emulator.conftest import OTHER, ROLE_ACCOUNT, Api

BASE = "/api/v1/integration/aws"


async def test_rate_limit_every_nth_request_of_an_org(api: Api, emu: Emulator) -> None:
    emu.set_knobs(rate_limit_every=3)
    statuses = [(await api.get(BASE)).status for _ in range(6)]
    assert statuses == [200, 200, 429, 200, 200, 429]
    limited = await api.get(BASE)  # 7th: allowed
    assert limited.status == 200
    assert (await api.as_org(OTHER).get(BASE)).status == 200  # counted per org
    reply = [r for r in emu.requests("main") if r["status"] == 429]
    assert len(reply) == 2 and all(r["injected"] == "rate_limited" for r in reply)
    assert emu.counters()["rate_limited"] == 2


async def test_rate_limit_every_answers_a_real_429(api: Api, emu: Emulator) -> None:
    emu.set_knobs(rate_limit_every=1)
    limited = await api.post(BASE, ROLE_ACCOUNT)
    assert (limited.status, limited.body) == (429, {"errors": ["Rate limit exceeded"]})
    assert limited.headers["X-RateLimit-Remaining"] == "0" and limited.headers["X-RateLimit-Reset"] == "0"
    assert emu.dump("main")["aws"]["accounts"] == []  # not applied


async def test_outage_after_writes(api: Api, emu: Emulator) -> None:
    emu.set_knobs(outage_after_writes=1)
    assert (await api.get(BASE)).status == 200  # reads do not count
    assert (await api.post(BASE, ROLE_ACCOUNT)).status == 200
    down = [await api.get(BASE), await api.post(BASE, {**ROLE_ACCOUNT, "account_id": "123456789013"})]
    assert [(r.status, r.body) for r in down] == [(503, {"errors": ["Service Unavailable"]})] * 2
    assert len(emu.dump("main")["aws"]["accounts"]) == 1  # not applied
    assert (await api.as_org(OTHER).get(BASE)).status == 200  # per org
    counters = emu.counters()["by_org"]["main"]
    assert counters["writes"] == 1 and counters["outage_answers"] == 2
    assert [r["injected"] for r in emu.requests("main")][-2:] == ["outage", "outage"]


async def test_hold_after_writes_until_the_knob_changes(api: Api, emu: Emulator) -> None:
    emu.set_knobs(hold_after_writes=1)
    assert (await api.post(BASE, ROLE_ACCOUNT)).status == 200
    held = asyncio.create_task(api.get(BASE))
    while emu.counters()["held"] < 1:
        await asyncio.sleep(0.01)
    assert not held.done() and emu.requests("main")[-1]["method"] == "POST"  # not answered yet
    emu.set_knobs(hold_after_writes=None)
    reply = await held
    assert reply.status == 200 and len(reply.body["accounts"]) == 1


@pytest.mark.parametrize("knob", ["rate_limit_every", "outage_after_writes", "hold_after_writes"])
def test_counted_knobs_are_validated(emu: Emulator, knob: str) -> None:
    with pytest.raises(ValueError, match=knob):
        emu.set_knobs(**{knob: -1})
    with pytest.raises(ValueError, match=knob):
        emu.set_knobs(**{knob: "3"})

"""Knobs: latency, fixed-window rate limit with X-RateLimit-* headers, faults, lost responses, write conflicts."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from datadog_sync.emulator import Emulator, app
from datadog_sync.emulator.knobs import FixedWindowRateLimiter
from tests.emulator.conftest import MAIN, OTHER, ROLE_ACCOUNT, Api

BASE = "/api/v1/integration/aws"


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_latency_applies_to_reads_and_writes(api: Api, emu: Emulator) -> None:
    emu.set_knobs(latency_ms=80, write_latency_ms=150)
    t0 = time.perf_counter()
    await api.get(BASE)
    t1 = time.perf_counter()
    await api.post(BASE, ROLE_ACCOUNT)
    t2 = time.perf_counter()
    assert t1 - t0 >= 0.08 and t2 - t1 >= 0.15
    read, write = emu.requests("main")
    assert read["duration_ms"] >= 80 and write["duration_ms"] >= 150


async def test_latency_counts_from_arrival_and_is_never_cut_short(monkeypatch) -> None:
    # The answer leaves L after the request arrived (its handling is inside L), never before ...
    arrived = time.perf_counter()
    await app._answer_after(arrived, 30)
    assert time.perf_counter() - arrived >= 0.030
    # ... and at once when the handling (or a hold) took longer than L: nothing is added on top.
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, *args: object) -> None:
        slept.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    await app._answer_after(time.perf_counter() - 1.0, 30)
    assert slept == []


async def test_rate_limit_headers_429_and_calendar_reset(api: Api, emu: Emulator) -> None:
    clock = FakeClock(1000.3)
    emu.core.limiter = FixedWindowRateLimiter(clock)
    emu.set_knobs(rate_limit=3, rate_period=10, rate_limit_name="integration_aws")
    emu.core.limiter = FixedWindowRateLimiter(clock)  # set_knobs resets the limiter; keep the fake clock
    remaining = []
    for _ in range(3):
        reply = await api.get(BASE)
        assert reply.status == 200
        assert reply.headers["X-RateLimit-Limit"] == "3" and reply.headers["X-RateLimit-Period"] == "10"
        assert reply.headers["X-RateLimit-Reset"] == "9" and reply.headers["X-RateLimit-Name"] == "integration_aws"
        remaining.append(reply.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    limited = await api.post(BASE, ROLE_ACCOUNT)
    assert (limited.status, limited.body) == (429, {"errors": ["Rate limit exceeded"]})
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert emu.dump("main")["aws"]["accounts"] == []  # not applied
    assert (await api.as_org(OTHER).get(BASE)).status == 200  # per org
    clock.now = 1009.6
    assert (await api.get(BASE)).headers["X-RateLimit-Reset"] == "0"  # last second of the window
    clock.now = 1010.0  # the window is aligned on multiples of the period
    fresh = await api.get(BASE)
    assert fresh.status == 200 and fresh.headers["X-RateLimit-Remaining"] == "2"
    assert emu.counters()["rate_limited"] == 2
    assert emu.requests("main")[3]["injected"] == "rate_limited"


async def test_rate_limit_with_the_real_clock_and_exemptions(api: Api, emu: Emulator) -> None:
    # A window of ~32 years (aligned on the epoch): the two requests cannot straddle a window boundary.
    emu.set_knobs(rate_limit=1, rate_period=10**9)
    first, second = await api.get(BASE), await api.get(BASE)
    assert first.status == 200 and second.status == 429
    assert 0 <= int(second.headers["X-RateLimit-Reset"]) < 10**9
    series = await api.post("/api/v2/series", {"series": []}, headers={"DD-API-KEY": MAIN.api_key})
    assert series.status == 202 and "X-RateLimit-Limit" not in series.headers  # intake is not rate limited
    emu.set_knobs(rate_limit=None)
    assert "X-RateLimit-Limit" not in (await api.get(BASE)).headers


async def test_faults_are_not_applied(api: Api, emu: Emulator) -> None:
    emu.set_knobs(fault_rate=1.0)
    statuses = {(await api.post(BASE, {**ROLE_ACCOUNT, "account_id": str(100 + i)})).status for i in range(30)}
    assert statuses <= {500, 502, 503} and len(statuses) > 1
    emu.set_knobs(fault_rate=0.0)
    assert (await api.get(BASE)).body == {"accounts": []}
    assert emu.counters()["faults_injected"] == 30


async def test_fault_path_prefix_limits_faults(api: Api, emu: Emulator) -> None:
    emu.set_knobs(fault_rate=1.0, fault_path_prefix=BASE)
    assert (await api.get("/api/v1/validate")).status == 200
    assert (await api.get("/api/v2/hamr")).status == 200
    assert (await api.get(BASE)).status >= 500


async def test_fault_sequence_is_reproducible_with_a_seed() -> None:
    async def run() -> list[int]:
        async with Emulator([MAIN], fault_rate=0.4, seed=42) as emu:
            async with aiohttp.ClientSession() as session:
                api = Api(session, emu.url, MAIN)
                return [(await api.get(BASE)).status for _ in range(40)]

    first, second = await run(), await run()
    assert first == second and 200 in first and any(s >= 500 for s in first)


async def test_lost_responses_are_applied_but_answered_504(api: Api, emu: Emulator) -> None:
    emu.set_knobs(lost_response_rate=1.0)
    lost = await api.post(BASE, ROLE_ACCOUNT)
    assert (lost.status, lost.body) == (504, {"errors": ["Gateway Timeout"]})
    assert (await api.get(BASE)).status == 200  # reads are never lost
    assert len(emu.dump("main")["aws"]["accounts"]) == 1
    retry = await api.post(BASE, ROLE_ACCOUNT)
    assert retry.status == 504  # the retried create hit a 409, but its answer was lost too
    emu.set_knobs(lost_response_rate=0.0)
    assert (await api.post(BASE, ROLE_ACCOUNT)).status == 409
    assert emu.counters()["lost_responses"] == 2
    assert [e["injected"] for e in emu.requests("main")][:2] == ["lost", None]


async def test_overlapping_writes_conflict(api: Api, emu: Emulator) -> None:
    # The first write keeps the slot until the knob is cleared: the overlap is certain, not a race against latency.
    emu.set_knobs(hold_write_slot=True)
    first = asyncio.ensure_future(api.post(BASE, ROLE_ACCOUNT))
    other_org = asyncio.ensure_future(api.as_org(OTHER).post(BASE, ROLE_ACCOUNT))
    while emu.counters()["by_org"].get("main", {}).get("slot_held", 0) < 1:
        await asyncio.sleep(0.01)
    conflict = await api.post(BASE, {**ROLE_ACCOUNT, "account_id": "222222222222"})
    read = await api.get(BASE)
    assert not first.done()
    emu.set_knobs(hold_write_slot=False)
    assert (await first).status == 200 and conflict.status == 409
    assert conflict.body == {"errors": ["Could not update AWS Integration due to conflicting updates"]}
    assert read.status == 200 and (await other_org).status == 200  # reads and other orgs are unaffected
    assert len(emu.dump("main")["aws"]["accounts"]) == 1
    # once the slot is free, the next write goes through
    assert (await api.post(BASE, {**ROLE_ACCOUNT, "account_id": "333333333333"})).status == 200
    assert emu.counters()["write_conflicts"] == 1


async def test_serialized_writes_never_conflict(api: Api, emu: Emulator) -> None:
    emu.set_knobs(write_latency_ms=5)
    for i in range(10):
        assert (await api.post(BASE, {**ROLE_ACCOUNT, "account_id": str(500 + i)})).status == 200


def test_knob_validation(emu: Emulator) -> None:
    with pytest.raises(ValueError):
        emu.set_knobs(bogus=1)
    with pytest.raises(ValueError):
        emu.set_knobs(fault_rate=1.5)
    with pytest.raises(ValueError):
        emu.set_knobs(rate_limit=0)
    with pytest.raises(ValueError):
        emu.set_knobs(latency_ms="slow")
    assert emu.knobs()["fault_rate"] == 0.0

"""map_bounded: results in order, never more than the limit in flight, exceptions handed back or raised."""

from __future__ import annotations

import asyncio

import pytest

from datadog_sync.pool import map_bounded


class Probe:
    def __init__(self, fail: set[int] = frozenset()) -> None:
        self.running = self.most = 0
        self.started: list[int] = []
        self.fail = fail

    async def __call__(self, item: int) -> int:
        self.started.append(item)
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.001 * (item % 3))
        self.running -= 1
        if item in self.fail:
            raise ValueError(f"item {item}")
        return item * 10


async def test_results_come_back_in_item_order_with_at_most_limit_in_flight():
    probe = Probe()
    assert await map_bounded(probe, range(50), 7) == [i * 10 for i in range(50)]
    assert probe.most == 7
    assert sorted(probe.started) == list(range(50))


async def test_exceptions_are_results_when_asked():
    results = await map_bounded(Probe(fail={3, 8}), range(10), 4, return_exceptions=True)
    assert [type(r).__name__ for r in results if not isinstance(r, int)] == ["ValueError", "ValueError"]
    assert str(results[3]) == "item 3" and results[4] == 40


async def test_the_first_exception_propagates_and_no_new_item_starts():
    probe = Probe(fail={0})
    with pytest.raises(ValueError, match="item 0"):
        await map_bounded(probe, range(100), 2)
    assert len(probe.started) < 10


async def test_no_items_and_a_limit_below_one():
    assert await map_bounded(Probe(), [], 5) == []
    assert await map_bounded(Probe(), range(3), 0) == [0, 10, 20]

"""Run one coroutine per item with at most N in flight, results in item order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.config import Configuration
    from datadog_sync.planner import Change
    from datadog_sync.resources.base import BaseResource

T = TypeVar("T")

__all__ = ["map_bounded", "plugin_limits", "type_cap"]


def type_cap(config: Configuration, res: BaseResource) -> int:
    """Requests one plugin (a type, or one subtype of a composite) may have in flight, for import, apply and reset.

    A plugin that is not ``concurrent`` runs one at a time whatever the options; otherwise
    ``--max-workers-per-type`` (by type: ``integrations=N`` caps each subtype) wins over the plugin's own
    ``max_concurrent``, and ``--max-workers`` is the default.
    """
    if not res.config.concurrent:
        return 1
    return config.max_workers_per_type.get(res.resource_type) or res.config.max_concurrent or config.max_workers


def plugin_limits(config: Configuration, res: BaseResource, changes: list[Change]) -> dict[str, asyncio.Semaphore]:
    """Change key -> the semaphore of the plugin applying it: one per plugin, sized by :func:`type_cap`."""
    limits: dict[str, asyncio.Semaphore] = {}
    for plugin, part in res.plugins(changes):
        limit = asyncio.Semaphore(type_cap(config, plugin))
        limits.update((change.key, limit) for change in part)
    return limits


async def map_bounded(
    fn: Callable[[T], Awaitable[Any]], items: Iterable[T], limit: int, *, return_exceptions: bool = False
) -> list[Any]:
    """``[await fn(item) for item in items]``, ``limit`` at a time.

    A pool of ``limit`` workers rather than a task per item behind a semaphore: a worker starts its next item as
    soon as one is done, not a loop iteration later, and 10,000 items do not make 10,000 tasks.
    With ``return_exceptions`` an item's exception is its result (as :func:`asyncio.gather`); without, the first
    one propagates once the workers stop taking new items.
    """
    todo = list(enumerate(items))
    results: list[Any] = [None] * len(todo)
    pending = iter(todo)
    failed: list[BaseException] = []

    async def worker() -> None:
        for index, item in pending:
            if failed:
                return
            try:
                results[index] = await fn(item)
            except Exception as exc:  # noqa: BLE001 - handed back or re-raised below
                if not return_exceptions:
                    failed.append(exc)
                    return
                results[index] = exc

    await asyncio.gather(*(worker() for _ in range(min(max(limit, 1), len(todo)))))
    if failed:
        raise failed[0]
    return results

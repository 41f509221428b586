"""``reset``: confirm per type, back up what will be deleted, then delete it."""

from __future__ import annotations

import asyncio
import contextlib

import click

from datadog_sync.applier import preflight
from datadog_sync.context import RunContext
from datadog_sync.ordering import type_order
from datadog_sync.planner import Change
from datadog_sync.pool import plugin_limits, type_cap
from datadog_sync.report import Outcome
from datadog_sync.resources.base import BaseResource, ResourceError, SkipResource


async def reset_resources(ctx: RunContext, resources: dict[str, BaseResource]) -> None:
    found: dict[str, dict[str, dict]] = {}
    for rtype in type_order(resources, resources):
        res = resources[rtype]
        try:
            found[rtype] = await _read_destination(ctx, res)
        except Exception as exc:  # noqa: BLE001
            res.log.error("cannot list the destination's %s, not resetting it: %s", rtype, exc)
            ctx.reporter.record(Outcome.failure(ctx.config.command, rtype, "", "delete", str(exc), exc))
    if ctx.config.do_not_backup:
        ctx.logger.warning(click.style("ABOUT TO RESET WITHOUT BACKUP", fg="red"))

    confirmed: dict[str, dict[str, dict]] = {}
    for rtype in reversed(type_order(resources, found)):  # dependents first
        objects = found[rtype]
        res = resources[rtype]
        if not objects:
            res.log.info("nothing to delete")
            continue
        for key in objects:
            res.log.warning("Resource will be deleted: %s", key, id=key)
        if ctx.config.assume_yes or click.confirm(
            f"Delete above {len(objects)} resources from destination org?", err=True
        ):
            confirmed[rtype] = objects
            continue
        res.log.info("not deleting %s: not confirmed", rtype)
        for key in objects:
            ctx.reporter.record(Outcome.skipped(ctx.config.command, rtype, key, "delete", "not confirmed"))

    if confirmed and not ctx.config.do_not_backup:  # only what is about to be deleted
        backup = {t: {k: resources[t].redacted(v) for k, v in objs.items()} for t, objs in confirmed.items()}
        path = ctx.state.write_backup(backup, label="reset")
        ctx.logger.info("backed up the destination's resources to %s", path)

    deletes = [Change(t, key, "delete", current=obj) for t, objs in confirmed.items() for key, obj in objs.items()]
    blocked = await preflight(ctx, deletes, resources)
    for (rtype, key), reason in blocked.items():
        ctx.logger.error("[%s - %s] - delete failed: %s", rtype, key, reason)
        ctx.reporter.record(Outcome.failure(ctx.config.command, rtype, key, "delete", reason, None))

    for rtype in reversed(type_order(resources, confirmed)):  # dependents first
        objects, res = confirmed[rtype], resources[rtype]
        objects = {key: obj for key, obj in objects.items() if (rtype, key) not in blocked}
        limits = plugin_limits(ctx.config, res, [c for c in deletes if c.resource_type == rtype])
        done = await asyncio.gather(*(_delete(ctx, res, key, obj, limits[key]) for key, obj in objects.items()))
        res.after_reset([key for key, deleted in zip(objects, done, strict=True) if deleted])
        res.log.info("finished deleting resources")


async def _read_destination(ctx: RunContext, res: BaseResource) -> dict[str, dict]:
    """The destination's objects of one type, keyed like state, after the user's filters."""
    limits: dict[int, asyncio.Semaphore] = {}  # one per plugin (a composite's subtypes each have their own cap)

    async def read(raw: dict) -> tuple[str, dict] | None:
        plugin = res.plugin_of(obj=raw)
        async with limits.setdefault(id(plugin), asyncio.Semaphore(type_cap(ctx.config, plugin))):
            try:
                return await res.import_resource(raw, ctx.destination_client)
            except SkipResource:
                return None

    items = await asyncio.gather(*(read(raw) for raw in await res.list_resources(ctx.destination_client)))
    return {key: obj for key, obj in filter(None, items) if ctx.config.filters.matches(res.resource_type, obj)}


async def _delete(ctx: RunContext, res: BaseResource, key: str, obj: dict, limit: asyncio.Semaphore) -> bool:
    rtype = res.resource_type
    async with limit:
        try:
            res.log.info("deleting resource", id=key)
            await res.delete(ctx.destination_client, key, obj)
        except Exception as exc:  # noqa: BLE001
            res.log.error("delete failed: %s", exc, id=key)
            ctx.reporter.record(Outcome.failure(ctx.config.command, rtype, key, "delete", str(exc), exc))
            return False
    _forget(ctx, res, key, obj)
    ctx.reporter.record(Outcome.success(ctx.config.command, rtype, key, "delete"))
    return True


def _forget(ctx: RunContext, res: BaseResource, key: str, obj: dict) -> None:
    """Drop destination-state entries pointing at a deleted object (state is keyed by source id)."""
    type_state = ctx.state.destination.get(res.resource_type, {})
    type_state.pop(key, None)
    plugin = res.plugin_of(key, obj)  # the owning subtype's id attribute, not its composite's
    for state_key in [k for k, v in type_state.items() if _owned(res, plugin, k, v, obj)]:
        del type_state[state_key]


def _owned(res: BaseResource, plugin: BaseResource, key: str, stored: dict, deleted: dict) -> bool:
    """Whether a state entry is ``plugin``'s and points at the deleted object (an entry of an unknown subtype, or
    one that is not an object, is not)."""
    with contextlib.suppress(ResourceError):
        return isinstance(stored, dict) and plugin.same_object(stored, deleted) and res.plugin_of(key, stored) is plugin
    return False

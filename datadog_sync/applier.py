"""``sync``: apply a plan (backups, permission pre-flight, dependency order, concurrency caps, checkpoints).

The plan is not changed: each change's result is returned, and destination state is what the writes returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

from datadog_sync.checkpoints import Checkpoints
from datadog_sync.context import RunContext
from datadog_sync.log import HintedText
from datadog_sync.ordering import type_order
from datadog_sync.planner import Change, Plan
from datadog_sync.pool import plugin_limits
from datadog_sync.preflight import PermissionCheck
from datadog_sync.progress import Progress
from datadog_sync.report import Outcome
from datadog_sync.resources.base import BaseResource, PartialFailure, SkipResource
from datadog_sync.state import StateFileError

#: Seconds between destination-state checkpoints while applying, so a killed run loses little.
CHECKPOINT_INTERVAL = 5.0
#: Also checkpoint after this many applied changes: a fast run is covered too, and tests need no clock.
CHECKPOINT_EVERY = 100
#: ... or after this share of the checkpointed entries, whichever is more: each checkpoint re-encodes the whole
#: state, so a fixed count costs O(N^2) bytes over a sync of N objects (6.5 GB of JSON at 10,000 AWS accounts);
#: a share keeps the total linear (about N x CHECKPOINT_SHARE entries) while a kill still loses at most
#: 1/CHECKPOINT_SHARE of the state, and at most CHECKPOINT_INTERVAL seconds of work. What a kill loses is state
#: only: the next plan reads the destination and matches what was created, and external IDs are journaled at once.
CHECKPOINT_SHARE = 10


@dataclass(frozen=True)
class Result:
    """What applying one change did: ``success``, ``failure`` or ``skipped``, and why when not a success."""

    change: Change
    status: str
    error: str = ""


async def apply_plan(ctx: RunContext, plan: Plan, resources: Mapping[str, BaseResource]) -> list[Result]:
    """Apply ``plan``: creates and updates in dependency order, then deletes in reverse order."""
    results = [_settle_without_write(ctx, change) for change in plan.changes if not change.writes]
    writes = [c for c in plan.changes if c.writes]
    if not writes:
        _after_sync(plan, resources)
        return results
    _backup_before_write(ctx, writes, resources)

    blocked = await preflight(ctx, writes, resources)
    runnable = [c for c in writes if (c.resource_type, c.key) not in blocked]
    results += [
        _fail(ctx, c, blocked[c.resource_type, c.key], None) for c in writes if (c.resource_type, c.key) in blocked
    ]

    order = type_order(resources, resources)
    global_limit = asyncio.Semaphore(ctx.config.max_workers)
    limits = {rtype: plugin_limits(ctx.config, resources[rtype], _of_type(runnable, rtype)) for rtype in order}
    done = {(c.resource_type, c.key): asyncio.Event() for c in runnable}
    progress = Progress("sync", total=len(runnable), enabled=ctx.config.show_progress_bar and not ctx.config.emit_json)
    checkpointed = {c.resource_type for c in runnable}
    checkpoints = Checkpoints(ctx, checkpointed)
    checkpoint = asyncio.create_task(_checkpoint(ctx, checkpoints))
    since_checkpoint = [0]
    unapplied = [len(runnable)]

    def checkpoint_due() -> bool:
        since_checkpoint[0] += 1
        unapplied[0] -= 1
        if not unapplied[0]:
            return False  # the last change: the run's final save follows at once
        entries = sum(len(ctx.state.destination.get(rtype) or {}) for rtype in checkpointed)
        if since_checkpoint[0] < max(CHECKPOINT_EVERY, entries // CHECKPOINT_SHARE):
            return False
        since_checkpoint[0] = 0
        return True

    async def run(change: Change) -> None:
        try:
            for dep in change.depends_on:
                if dep in done:
                    await done[dep].wait()
            async with global_limit, limits[change.resource_type][change.key]:
                results.append(await _apply_one(ctx, resources[change.resource_type], change))
                if checkpoint_due():
                    with contextlib.suppress(StateFileError):  # the final save reports it, as it always did
                        await checkpoints.save()
        finally:
            done[(change.resource_type, change.key)].set()
            progress.update()

    try:
        await asyncio.gather(*(run(c) for c in runnable if c.action != "delete"))
        for rtype in reversed(order):  # dependents are deleted before what they depend on
            await asyncio.gather(*(run(c) for c in runnable if c.action == "delete" and c.resource_type == rtype))
        await _settle(ctx, resources, results)
    finally:
        checkpoint.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checkpoint
        await checkpoints.close()
        progress.close()
        for rtype in order:  # also when interrupted: the external-ID hand-off lists what was created
            touched = [c for c in plan.changes if c.resource_type == rtype]
            if touched:
                resources[rtype].after_apply(touched)
        ctx.sidechannel.close()
        _after_sync(plan, resources)
    return results


def _after_sync(plan: Plan, resources: Mapping[str, BaseResource]) -> None:
    """Every planned type's end-of-sync report, also when nothing was written (``BaseResource.after_sync``)."""
    for rtype, resource in resources.items():
        touched = [c for c in plan.changes if c.resource_type == rtype]
        if touched:
            resource.after_sync(touched, frozenset(part for of, part in plan.unread_parts if of == rtype))


async def _settle(ctx: RunContext, resources: Mapping[str, BaseResource], results: list[Result]) -> None:
    """Once every write is made, each type may replace what its creates and updates returned by what the destination
    now holds (``BaseResource.settle``: one read per type, not one per object). A failed read leaves state as the
    writes returned it: the writes were made, and the next plan reads the destination anyway."""
    written: dict[str, dict[str, dict]] = {}
    for result in results:
        change = result.change
        state = ctx.state.destination.get(change.resource_type, {})
        if result.status == "success" and change.action in ("create", "update") and change.key in state:
            written.setdefault(change.resource_type, {})[change.key] = state[change.key]
    for rtype, objects in written.items():
        try:
            settled = await resources[rtype].settle(ctx.destination_client, objects)
        except Exception as exc:  # noqa: BLE001 - the writes succeeded; only the read-back failed
            ctx.logger.warning(
                "[%s - ] - reading back the destination after the writes failed; state keeps what was written: %s",
                rtype,
                HintedText(str(exc), exc),
            )
            continue
        ctx.state.destination[rtype].update({key: obj for key, obj in settled.items() if key in objects})


def _settle_without_write(ctx: RunContext, change: Change) -> Result:
    """Record the outcome and state of a change that needs no write."""
    command = ctx.config.command
    state = ctx.state.destination.setdefault(change.resource_type, {})
    if change.action == "skip" and change.invalid:  # a bad source entry: a failed resource, nothing written
        ctx.logger.error("[%s - %s] - %s", change.resource_type, change.key, change.reason)
        ctx.reporter.record(
            Outcome.failure(command, change.resource_type, change.key, "sync", change.reason, None, "invalid")
        )
        return Result(change, "failure", change.reason)
    if change.action == "skip":
        ctx.logger.error("[%s - %s] - %s", change.resource_type, change.key, change.reason)
        ctx.reporter.record(Outcome.skipped(command, change.resource_type, change.key, "sync", change.reason))
        return Result(change, "skipped", change.reason)
    if change.forget:
        if change.reason:
            ctx.logger.info("[%s - %s] - %s", change.resource_type, change.key, change.reason)
        state.pop(change.key, None)
    elif change.adopted and change.current is not None:
        state[change.key] = change.current  # adopt an identical destination object: no write needed
    ctx.reporter.record(Outcome.unchanged(command, change.resource_type, change.key))
    return Result(change, "skipped")


def _backup_before_write(ctx: RunContext, writes: list[Change], resources: Mapping[str, BaseResource]) -> None:
    """Save the destination's current objects that sync is about to change or delete."""
    objects: dict[str, dict[str, dict]] = {}
    for change in writes:
        if change.action in ("update", "delete") and change.current is not None:
            res = resources[change.resource_type]
            objects.setdefault(change.resource_type, {})[change.key] = res.redacted(change.current)
    if objects:
        path = ctx.state.write_backup(objects, label="sync")
        ctx.logger.info(
            "backed up %d destination resources about to change to %s", sum(map(len, objects.values())), path
        )


def _of_type(changes: list[Change], rtype: str) -> list[Change]:
    return [c for c in changes if c.resource_type == rtype]


async def preflight(
    ctx: RunContext, writes: list[Change], resources: Mapping[str, BaseResource]
) -> dict[tuple[str, str], str]:
    """Ask each plugin whether the destination key may make its writes (sync and reset); return the blocked
    changes' (type, key) and why. Only the changes whose own writes need a lacking permission are blocked: other
    subtypes of the type, and other actions of the same plugin, go on. Each blocked change fails with its own line,
    the pre-flight having explained each missing permission once."""
    blocked: dict[tuple[str, str], str] = {}
    check = PermissionCheck(ctx, ctx.destination_client)
    for rtype in dict.fromkeys(c.resource_type for c in writes):
        found = await check.blocked(resources[rtype], _of_type(writes, rtype))
        blocked.update(((rtype, key), "permission pre-flight failed: " + "; ".join(why)) for key, why in found.items())
    return blocked


async def _apply_one(ctx: RunContext, res: BaseResource, change: Change) -> Result:
    command = ctx.config.command
    rtype, key = change.resource_type, change.key
    type_state = ctx.state.destination.setdefault(rtype, {})
    client, desired, current = ctx.destination_client, change.desired or {}, change.current or {}
    try:
        if change.action == "delete":
            res.log.info("deleting resource", id=key)
            await res.delete(client, key, current)
            type_state.pop(key, None)
            ctx.reporter.record(Outcome.success(command, rtype, key, "delete"))
            return Result(change, "success")
        if change.pending:
            # The plan's references to resources created in this run: their destination ids exist now.
            desired, unresolved = res.remap(ctx.state.source[rtype][key])
            if unresolved:
                raise SkipResource(f"dependencies failed to sync: {unresolved}")
        try:
            if change.action == "create":
                res.log.info("creating resource", id=key)
                result = await res.create(client, key, desired)
            else:
                res.log.info("updating resource", id=key)
                result = await res.update(client, key, desired, current)
        except PartialFailure as partial:
            type_state[key] = partial.keep  # the destination changed before the failure: state keeps what it holds
            raise partial.error from None
        type_state[key] = result
        ctx.reporter.record(Outcome.success(command, rtype, key, "sync", change.action))
        return Result(change, "success")
    except SkipResource as skip:
        res.log.warning("skipping resource: %s", skip.reason, id=key)
        ctx.reporter.record(Outcome.skipped(command, rtype, key, "sync", skip.reason))
        return Result(change, "skipped", skip.reason)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - one resource failing never stops the others
        return _fail(ctx, change, str(exc), exc)


def _fail(ctx: RunContext, change: Change, reason: str, exc: BaseException | None) -> Result:
    shown = HintedText(reason, exc)  # an HTTP error's hint line stays a line of its own
    ctx.logger.error("[%s - %s] - %s failed: %s", change.resource_type, change.key, change.action, shown)
    deleting = change.action == "delete"
    action_type, sub = ("delete", "") if deleting else ("sync", change.action)
    ctx.reporter.record(
        Outcome.failure(ctx.config.command, change.resource_type, change.key, action_type, reason, exc, sub)
    )
    return Result(change, "failure", reason)


async def _checkpoint(ctx: RunContext, checkpoints: Checkpoints) -> None:
    """Save destination state every few seconds while applying (a SIGKILL then loses only seconds of work)."""
    while True:
        await asyncio.sleep(CHECKPOINT_INTERVAL)
        started = time.monotonic()
        try:
            await checkpoints.save()
        except StateFileError as exc:  # e.g. a bucket briefly unreachable: the next checkpoint or final save retries
            ctx.logger.warning("could not checkpoint destination state (retried): %s", exc)
            continue
        ctx.logger.debug("checkpointed destination state in %.0f ms", (time.monotonic() - started) * 1000)

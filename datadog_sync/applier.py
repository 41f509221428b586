"""``diffs`` and ``sync``: build the plan from state and the destination, then print or apply it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from pprint import pformat

from datadog_sync.context import RunContext
from datadog_sync.diffing import upstream_diff
from datadog_sync.filters import PathCheck
from datadog_sync.log import MULTILINE, escape_control
from datadog_sync.ordering import type_order
from datadog_sync.planner import Change, Plan, plan_type
from datadog_sync.progress import Progress
from datadog_sync.report import Outcome, failure_class
from datadog_sync.resources.base import BaseResource, SkipResource
from datadog_sync.state import StateFileError

#: Seconds between destination-state checkpoints while applying, so a killed run loses little.
CHECKPOINT_INTERVAL = 5.0
#: Also checkpoint after this many applied changes: a fast run is covered too, and tests need no clock.
CHECKPOINT_EVERY = 100


async def build_plan(ctx: RunContext, resources: dict[str, BaseResource]) -> Plan:
    """Plan every requested type, dependencies first."""
    plan = Plan()
    in_plan: dict[str, set[str]] = {}
    cleanup = ctx.config.cleanup != "false"
    for rtype in type_order(resources, resources):
        res = resources[rtype]
        all_source = ctx.state.source.get(rtype, {})
        source = {k: v for k, v in all_source.items() if ctx.config.filters.matches(rtype, v)}
        plan.filtered += len(all_source) - len(source)
        if ctx.config.command != "migrate":  # migrate's import has checked the filters already
            _warn_unmatched_filters(ctx, res, all_source.values())
        destination_state = ctx.state.destination.get(rtype, {})
        try:
            current = await res.current_destination(ctx.destination, source, destination_state)
        except Exception as exc:  # noqa: BLE001 - reported per type; the other types are still planned
            reason = f"reading the destination's current {rtype} failed, so none was planned or applied: {exc}"
            res.log.error("%s", reason)
            plan.unread.add(rtype)
            ctx.reporter.record(
                Outcome(ctx.config.command, rtype, "", "sync", "failure", "", reason, failure_class(exc))
            )
            continue
        changes = plan_type(
            res,
            source,
            current,
            destination_state,
            cleanup=cleanup,
            all_source_keys=all_source.keys(),
            in_plan=in_plan,
        )
        in_plan[rtype] = {c.key for c in changes if c.action in ("create", "update")}
        # An adopted object is the destination counterpart from now on: dependents remap to it.
        type_state = ctx.state.destination.setdefault(rtype, {})
        for change in changes:
            if change.adopted and change.current is not None:
                type_state[change.key] = change.current
        plan.changes.extend(changes)
        plan.planned.add(rtype)
    return plan


def _warn_unmatched_filters(ctx: RunContext, res: BaseResource, objects: Iterable[dict]) -> None:
    check = PathCheck(res.resource_type, ctx.config.filters.for_type(res.resource_type))
    for obj in objects:
        check.see(obj)
        if not check.pending:
            return
    for warning in check.warnings():
        res.log.warning("%s", warning)


def print_plan(ctx: RunContext, plan: Plan, resources: dict[str, BaseResource]) -> None:
    """Terraform-style plan on stdout (or one ``plan`` event per change with ``--json``)."""
    out = ctx.reporter
    for change in plan.changes:
        if change.action == "noop":
            continue
        _log_upstream_diff(ctx, change, resources[change.resource_type])
        if ctx.config.emit_json:
            out.emit(
                {
                    "type": "plan",
                    "resource_type": change.resource_type,
                    "id": change.key,
                    "action": change.action,
                    "adopted": change.adopted,
                    "reason": change.reason,
                    "differences": [d.as_dict() for d in change.differences],
                }
            )
            continue
        symbol = {"create": "+", "update": "~", "delete": "-", "skip": "!"}[change.action]
        note = f"  ({change.reason})" if change.reason else ""
        lines = [escape_control(f"{symbol} {change.resource_type} {change.key}: {change.action}{note}")]  # API data
        if change.action == "create":
            shown = resources[change.resource_type].redacted(resources[change.resource_type].prepare(change.desired))
            lines += [f"    + {k}: {_short(v)}" for k, v in sorted(shown.items())]
        lines += [f"    {d.render()}" for d in change.differences]
        out.stream.write("\n".join(lines) + "\n")
    if ctx.config.emit_json:
        out.emit({"type": "summary", "command": "diffs", **_plan_counts(plan)})
    else:
        out.stream.write(plan.summary() + "\n")
    out.stream.flush()


def _log_upstream_diff(ctx: RunContext, change: Change, res: BaseResource) -> None:
    """datadog-sync-cli's ``diffs`` lines (INFO, on stderr), for scripts that grep them; secrets stay redacted."""
    if change.action == "create":
        ctx.logger.info("to be created: %s %s", change.resource_type, change.key)
    elif change.action == "update" and change.differences:
        text = pformat(upstream_diff(change.differences))
        res.log.info("diff: \n %s", text, id=escape_control(change.key), extra=MULTILINE)
    elif change.action == "delete" and change.current is not None:
        text = pformat(res.redacted(change.current))
        res.log.info("to be deleted: \n %s", text, id=escape_control(change.key), extra=MULTILINE)


def _plan_counts(plan: Plan) -> dict[str, object]:
    return {
        "create": plan.count("create"),
        "update": plan.count("update"),
        "delete": plan.count("delete"),
        "unchanged": plan.count("noop"),
        "skipped": plan.count("skip"),
        "filtered": plan.filtered,
        "unknown": sorted(plan.unread),
    }


def _short(value: object) -> str:
    import json

    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


async def apply_plan(ctx: RunContext, plan: Plan, resources: dict[str, BaseResource]) -> None:
    """Apply ``plan``: creates and updates in dependency order, then deletes in reverse order."""
    command = ctx.config.command
    state = ctx.state.destination
    for change in plan.changes:
        _settle_without_write(ctx, change, command)
    writes = [c for c in plan.changes if c.writes]
    if not writes:
        return
    _backup_before_write(ctx, writes, resources)

    blocked = await _preflight(ctx, writes, resources)
    runnable = [c for c in writes if c.resource_type not in blocked]
    for change in writes:
        if change.resource_type in blocked:
            _fail(ctx, change, blocked[change.resource_type], None)

    order = type_order(resources, resources)
    global_limit = asyncio.Semaphore(ctx.config.max_workers)
    type_limits = {rtype: _type_limit(ctx, resources[rtype]) for rtype in order}
    done = {(c.resource_type, c.key): asyncio.Event() for c in runnable}
    progress = Progress("sync", total=len(runnable), enabled=ctx.config.show_progress_bar and not ctx.config.emit_json)
    checkpointed = {c.resource_type for c in runnable}
    checkpoint = asyncio.create_task(_checkpoint(ctx, checkpointed))
    applied = [0]

    async def run(change: Change) -> None:
        try:
            for dep in change.depends_on:
                if dep in done:
                    await done[dep].wait()
            async with global_limit, type_limits[change.resource_type]:
                await _apply_one(ctx, resources[change.resource_type], change, state)
                applied[0] += 1
                if applied[0] % CHECKPOINT_EVERY == 0:
                    with contextlib.suppress(StateFileError):  # the final save reports it, as it always did
                        ctx.state.dump("destination", checkpointed)
        finally:
            done[(change.resource_type, change.key)].set()
            progress.update()

    try:
        await asyncio.gather(*(run(c) for c in runnable if c.action != "delete"))
        for rtype in reversed(order):  # dependents are deleted before what they depend on
            await asyncio.gather(*(run(c) for c in runnable if c.action == "delete" and c.resource_type == rtype))
    finally:
        checkpoint.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checkpoint
        progress.close()
        for rtype in order:  # also when interrupted: the external-ID hand-off lists what was created
            touched = [c for c in plan.changes if c.resource_type == rtype]
            if touched:
                resources[rtype].after_apply(touched)


def _settle_without_write(ctx: RunContext, change: Change, command: str) -> None:
    """Record outcomes and state of changes that need no write."""
    state = ctx.state.destination.setdefault(change.resource_type, {})
    if change.action == "noop":
        if change.forget:
            state.pop(change.key, None)
        elif change.adopted and change.current is not None:
            state[change.key] = change.current  # adopt an identical destination object: no write needed
        change.status = "skipped"
        ctx.reporter.record(
            Outcome(command, change.resource_type, change.key, "sync", "skipped", "", "No differences detected.")
        )
    elif change.action == "skip":
        change.status = "skipped"
        ctx.logger.error("[%s - %s] - %s", change.resource_type, change.key, change.reason)
        ctx.reporter.record(Outcome(command, change.resource_type, change.key, "sync", "skipped", "", change.reason))


def _backup_before_write(ctx: RunContext, writes: list[Change], resources: dict[str, BaseResource]) -> None:
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


async def _preflight(ctx: RunContext, writes: list[Change], resources: dict[str, BaseResource]) -> dict[str, str]:
    """Ask each type whether the destination key may make its writes; return blocked types and why."""
    blocked: dict[str, str] = {}
    by_type: dict[str, list[Change]] = {}
    for change in writes:
        by_type.setdefault(change.resource_type, []).append(change)
    for rtype, changes in by_type.items():
        problems = await resources[rtype].preflight(ctx.destination, changes)
        if problems:
            for problem in problems:
                ctx.logger.error("[%s - ] - permission pre-flight: %s", rtype, problem)
            blocked[rtype] = "permission pre-flight failed: " + "; ".join(problems)
    return blocked


def _type_limit(ctx: RunContext, res: BaseResource):
    if not res.config.concurrent:
        return asyncio.Lock()
    cap = ctx.config.max_workers_per_type.get(res.resource_type) or res.config.max_concurrent
    return asyncio.Semaphore(cap) if cap else contextlib.nullcontext()


async def _apply_one(ctx: RunContext, res: BaseResource, change: Change, state: dict[str, dict[str, dict]]) -> None:
    command = ctx.config.command
    rtype, key = change.resource_type, change.key
    type_state = state.setdefault(rtype, {})
    try:
        if change.action == "delete":
            res.log.info("deleting resource", id=key)
            await res.delete(ctx.destination, key, change.current)
            type_state.pop(key, None)
            change.status = "success"
            ctx.reporter.record(Outcome(command, rtype, key, "delete", "success"))
            return
        desired = change.desired
        if change.depends_on:
            # Dependencies created in this run now have destination ids: remap again.
            desired, unresolved = res.remap(ctx.state.source[rtype][key])
            if unresolved:
                raise SkipResource(f"dependencies failed to sync: {unresolved}")
            if change.action == "update" and not res.diff(change.current, desired):
                change.status = "skipped"
                if change.adopted:
                    type_state[key] = change.current
                ctx.reporter.record(Outcome(command, rtype, key, "sync", "skipped", "", "No differences detected."))
                return
        if change.action == "create":
            res.log.info("creating resource", id=key)
            result = await res.create(ctx.destination, key, desired)
        else:
            res.log.info("updating resource", id=key)
            result = await res.update(ctx.destination, key, desired, change.current)
        type_state[key] = result
        change.status = "success"
        ctx.reporter.record(Outcome(command, rtype, key, "sync", "success", change.action))
    except SkipResource as skip:
        change.status = "skipped"
        change.error = skip.reason
        res.log.warning("skipping resource: %s", skip.reason, id=key)
        ctx.reporter.record(Outcome(command, rtype, key, "sync", "skipped", "", skip.reason))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - one resource failing never stops the others
        _fail(ctx, change, str(exc), exc)


def _fail(ctx: RunContext, change: Change, reason: str, exc: BaseException | None) -> None:
    change.status = "failure"
    change.error = reason
    ctx.logger.error("[%s - %s] - %s failed: %s", change.resource_type, change.key, change.action, reason)
    action_type = "delete" if change.action == "delete" else "sync"
    sub = "" if change.action == "delete" else change.action
    ctx.reporter.record(
        Outcome(
            ctx.config.command,
            change.resource_type,
            change.key,
            action_type,
            "failure",
            sub,
            reason,
            failure_class(exc) if exc else "unknown",
        )
    )


async def _checkpoint(ctx: RunContext, types: set[str]) -> None:
    """Save destination state every few seconds while applying (a SIGKILL then loses only seconds of work)."""
    while True:
        await asyncio.sleep(CHECKPOINT_INTERVAL)
        started = time.monotonic()
        ctx.state.dump("destination", types)
        ctx.logger.debug("checkpointed destination state in %.0f ms", (time.monotonic() - started) * 1000)


def applied_summary(ctx: RunContext, plan: Plan | None = None) -> str:
    rep = ctx.reporter
    filtered = f", {plan.filtered} filtered" if plan is not None and plan.filtered else ""
    return (
        f"Applied: {rep.total('sync', 'success', 'create')} created, {rep.total('sync', 'success', 'update')} updated, "
        f"{rep.total('delete', 'success')} deleted, {rep.unchanged} unchanged, {rep.failures} failed, "
        f"{rep.skipped_with_reason} skipped{filtered}."
    )

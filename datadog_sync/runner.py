"""Runs one command: configuration -> state + clients -> import / plan / apply / reset -> summary."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from datadog_sync.applier import apply_plan
from datadog_sync.config import Cleanup, Configuration
from datadog_sync.context import LOGGER_NAME, RunContext
from datadog_sync.http.client import Client
from datadog_sync.importer import import_resources
from datadog_sync.lock import FileLockStore, LockError, LockStore, ObjectLockStore, RunLock, read_holder
from datadog_sync.log import setup_logging
from datadog_sync.orgs import DDR_SOURCE_COMMANDS, DESTINATION_COMMANDS, SOURCE_COMMANDS, check_orgs, make_client
from datadog_sync.plan_output import applied_summary, print_plan, print_summary
from datadog_sync.planner import Plan, build_plan
from datadog_sync.redact import register_secret
from datadog_sync.report import Reporter
from datadog_sync.resetter import reset_resources
from datadog_sync.resources import registry
from datadog_sync.state import ORIGINS, Origin, StateFileError, StateStore
from datadog_sync.storage import StorageError, open_store

EXIT_OK, EXIT_FAILURE, EXIT_DIFFERENCES = 0, 1, 2

#: The state directories each command writes, and so locks for the run (docs/state.md). diffs takes no lock.
LOCKED_ORIGINS: dict[str, tuple[Origin, ...]] = {
    "import": ("source",),
    "sync": ("destination",),
    "reset": ("destination",),
    "migrate": ("source", "destination"),
}

#: The state origins each command reads (docs/state.md); every other command reads both. ``import`` replaces source
#: state from the source org and uses nothing of the destination's, so at 10,000 AWS accounts it does not hold
#: destination state's ~40 MB (docs/performance.md).
LOADED_ORIGINS: dict[str, tuple[Origin, ...]] = {"import": ("source",)}

#: A lock in a bucket is a lease of this many seconds, renewed every LEASE_RENEW_EVERY while the run works: a run
#: killed outright blocks the state for at most this long (or until --force-unlock).
LEASE_SECONDS = 600.0
LEASE_RENEW_EVERY = 120.0

#: Garbage-collector thresholds during a run (CPython's default is 700, 10, 10); see :func:`fewer_gc_pauses`.
RUN_GC_THRESHOLDS = (10_000, 10, 10)


#: What the command line checks per command, named here too since cli.py imports them from this module.
__all__ = ["DDR_SOURCE_COMMANDS", "DESTINATION_COMMANDS", "SOURCE_COMMANDS", "run_command"]


class RunFailed(Exception):
    """Stops a run early with a message that was already logged."""


def run_command(config: Configuration) -> int:
    """Run ``config.command`` and return the process exit code."""
    errors = setup_logging(verbose=config.verbose, emit_json=config.emit_json)
    for secret in (
        config.source.api_key,
        config.source.app_key,
        config.destination.api_key,
        config.destination.app_key,
        *config.storage.secrets(),
    ):
        if secret:
            register_secret(secret)
    logger = logging.getLogger(LOGGER_NAME)
    reporter = Reporter(config.command, emit_json=config.emit_json)
    try:
        with fewer_gc_pauses():
            code, signum = asyncio.run(_run_until_signal(config, reporter))
    except KeyboardInterrupt:  # a second Ctrl-C, while the first one's clean-up ran
        signum = signal.SIGINT
    if signum is not None:
        logger.warning("Process interrupted (%s); the state of what was done is saved", signal.Signals(signum).name)
        return EXIT_FAILURE
    if code == EXIT_OK and (errors.count or reporter.failures):
        code = EXIT_FAILURE
    return code


#: Signals that stop a run the way Ctrl-C does: SIGTERM is what `kill`, systemd, Docker and CI runners send.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def _run_until_signal(config: Configuration, reporter: Reporter) -> tuple[int, int | None]:
    """Run the command; SIGINT or SIGTERM cancels it, so every ``finally`` runs (state saved, ``Applied:`` summary,
    external-ID hand-off). Returns the exit code and the signal received, if any. A second signal is not caught."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None:  # pragma: no cover - asyncio.run always runs this in a task
        raise RuntimeError("not running in a task")
    received: list[int] = []
    installed: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        _remove_handlers(loop, installed)
        logging.getLogger(LOGGER_NAME).warning(
            "%s received: stopping, saving what was done (send it again to quit at once)", signal.Signals(signum).name
        )
        task.cancel()

    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, stop, signum)
            installed.append(signum)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread, or not on this platform
            pass
    try:
        code = await _run(config, reporter)
    except asyncio.CancelledError:
        if not received:
            raise
        if hasattr(task, "uncancel"):  # Python 3.11+: the task goes on normally
            task.uncancel()
        code = EXIT_FAILURE
    finally:
        _remove_handlers(loop, installed)
    return code, (received[0] if received else None)


def _remove_handlers(loop: asyncio.AbstractEventLoop, installed: list[int]) -> None:
    while installed:
        loop.remove_signal_handler(installed.pop())


@contextmanager
def fewer_gc_pauses() -> Iterator[None]:
    """Run the cyclic garbage collector every 10,000 allocations instead of every 700, then restore it.

    Each request allocates hundreds of short-lived objects, so at the default threshold a young collection ran
    about every request and an old one walked the whole state (a dict per account) again and again: 40% of an
    import's CPU at 10,000 accounts (docs/performance.md). Cycles are still collected, in larger batches.
    What :func:`_sync` freezes out of the collector's walks is handed back to it at the end.
    """
    previous = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


async def _run(config: Configuration, reporter: Reporter) -> int:
    logger = logging.getLogger(LOGGER_NAME)
    logger.info("Starting %s...", config.command)
    if not config.verify_ssl_certificates:
        logger.warning(
            "TLS certificate verification is off (--verify-ssl-certificates=false): the API keys go to "
            "whoever answers at the API URL"
        )
    try:
        state = _open_state(config, logger)
        locks = _lock_state(config, state, logger)
    except RunFailed:
        return EXIT_FAILURE
    task = asyncio.current_task()
    clients: list[Client] = []
    lost: list[str] = []

    def stop(message: str) -> None:
        """The lock is another run's now: write nothing more, to Datadog or to the bucket, and stop like Ctrl-C."""
        if lost:
            return
        lost.append(message)
        logger.error("%s", message)
        for client in clients:
            client.stopped = message
        for origin in ("source", "destination"):
            remote = state.object_root(origin)
            if remote is not None:
                remote.store.stop_writes(message)
        if task is not None:
            task.cancel()

    renewal = asyncio.create_task(_renew_leases(locks, logger, stop)) if state.remote and locks else None
    try:  # the locks are released on every exit path, Ctrl-C (task cancellation) included
        return await _run_locked(config, reporter, state, logger, clients)
    except asyncio.CancelledError:
        if not lost:
            raise
        if task is not None and hasattr(task, "uncancel"):  # Python 3.11+: the task goes on normally
            task.uncancel()
        return EXIT_FAILURE
    finally:
        if renewal is not None:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
        for lock in reversed(locks):
            lock.release()


def _open_state(config: Configuration, logger: logging.Logger) -> StateStore:
    """Local state directories, or the bucket of ``--storage-type`` (whose client is set up here)."""
    storage = config.storage
    if not storage.remote:
        return StateStore(
            config.source_resources_path, config.destination_resources_path, resource_per_file=config.resource_per_file
        )
    try:
        store = open_store(storage)
    except StorageError as exc:
        logger.error("%s; nothing was done", exc)
        raise RunFailed from None
    state = StateStore(
        storage.source_prefix, storage.destination_prefix, resource_per_file=config.resource_per_file, store=store
    )
    logger.info("state is in %s (source) and %s (destination)", state.root("source"), state.root("destination"))
    return state


def _lock_store(state: StateStore, origin: Origin) -> LockStore:
    remote = state.object_root(origin)
    if remote is not None:
        return ObjectLockStore(remote.store, remote.key)
    return FileLockStore(state.root(origin))


async def _renew_leases(locks: list[RunLock], logger: logging.Logger, stop: Callable[[str], None]) -> None:
    """Extend the leases of the locks in a bucket while the run works (a killed run stops renewing them).

    A lease that is no longer ours (another run took it with --force-unlock, or after it expired while renewals
    failed) calls ``stop``: the run must not write anything more while another one holds the lock.
    """
    while True:
        await asyncio.sleep(LEASE_RENEW_EVERY)
        for lock in locks:
            try:
                kept = await asyncio.to_thread(lock.renew)
            except StorageError as exc:
                if lock.lease_ended():
                    stop(
                        f"the lock of the {lock.what} could not be renewed before its lease ended ({exc}): another "
                        "run may hold it now; stopping, nothing more is written (the state was last saved at the "
                        "previous checkpoint)"
                    )
                    return
                logger.warning("could not renew the lock of the %s (retried): %s", lock.what, exc)
                continue
            if not kept:
                holder = await asyncio.to_thread(lock.current_holder)
                stop(
                    f"the lock of the {lock.what} was taken by another run: {holder} (--force-unlock, or this "
                    "run's lease expired); stopping, nothing more is written to Datadog or to the state (the "
                    "state was last saved at the previous checkpoint)"
                )
                return


def _lock_state(config: Configuration, state: StateStore, logger: logging.Logger) -> list[RunLock]:
    """Lock the state directories the command writes, which also proves they are writable before any request."""
    if config.command == "diffs":
        _warn_if_locked(state, logger)
        return []
    locks: list[RunLock] = []
    roots: dict[object, Origin] = {}
    for origin in LOCKED_ORIGINS.get(config.command, ()):
        roots.setdefault(state.root(origin), origin)  # one lock when both origins share a directory
    for origin in roots.values():
        try:
            root = state.prepare_root(origin, config.resources)  # and the state files it will write
            where = "state directory" if not state.remote else "state"
            lease = LEASE_SECONDS if state.remote else None
            lock = RunLock(_lock_store(state, origin), f"{origin} {where} {root}", config.command, lease)
            lock.acquire(force=config.force_unlock, warn=logger.warning)
            locks.append(lock)
        except (StateFileError, LockError, OSError, StorageError) as exc:
            for taken in locks:
                taken.release()
            if isinstance(exc, LockError):
                logger.error("%s", exc)
            elif state.remote:
                reason = exc.reason if isinstance(exc, StateFileError) else str(exc)
                logger.error("%s; nothing was done. Check the bucket name, prefixes and credentials.", reason)
            else:
                reason = (
                    exc.reason
                    if isinstance(exc, StateFileError)
                    else f"it cannot be written ({getattr(exc, 'strerror', exc)})"
                )
                logger.error(
                    "%s: %s; nothing was done. Use a writable --%s-resources-path.",
                    state.root(origin),
                    reason,
                    origin,
                )
            raise RunFailed from None
    return locks


def _warn_if_locked(state: StateStore, logger: logging.Logger) -> None:
    """diffs reads state without locking it (it writes nothing), but says when a run may be changing it."""
    for origin in ("source", "destination"):
        try:
            found = read_holder(_lock_store(state, origin))
        except (OSError, StorageError):
            continue  # unreadable: loading the state says why
        if found is not None:
            who = found[1].describe() if found[1] else "an unknown run"
            logger.warning(
                "the %s state %s%s is locked by %s: the plan may change when that run ends",
                origin,
                "" if state.remote else "directory ",
                state.root(origin),
                who,
            )


async def _run_locked(
    config: Configuration, reporter: Reporter, state: StateStore, logger: logging.Logger, clients: list[Client]
) -> int:
    try:
        state.load(config.resources, LOADED_ORIGINS.get(config.command, ORIGINS))
    except StateFileError as exc:
        logger.error("%s", exc)
        return EXIT_FAILURE
    ctx = RunContext(config=config, state=state, reporter=reporter, logger=logger)
    if state.remote:
        try:
            ctx.sidechannel  # noqa: B018 - copies the bucket's hand-off files and journals here before plugins read them
        except (StorageError, OSError) as exc:
            logger.error("cannot copy the external-ID hand-off files from the bucket: %s", exc)
            return EXIT_FAILURE
    if config.command in SOURCE_COMMANDS:
        ctx.source = make_client(config, config.source)
    if config.command in DESTINATION_COMMANDS:
        ctx.destination = make_client(config, config.destination)
    clients.extend(c for c in (ctx.source, ctx.destination) if c is not None)  # stopped if the lock is lost
    classes = registry()
    resources = {rtype: classes[rtype](ctx) for rtype in config.resources}
    try:
        if not await check_orgs(ctx):
            raise RunFailed
        code = await _dispatch(ctx, resources)
    except RunFailed:
        code = EXIT_FAILURE
    except StateFileError as exc:  # e.g. a checkpoint in per-file mode meeting an id that cannot be a file name
        logger.error("%s", exc)
        code = EXIT_FAILURE
    finally:
        for client in (ctx.source, ctx.destination):
            if client is not None:
                await client.close()
    logger.info("Finished %s", config.command)
    return code


async def _dispatch(ctx: RunContext, resources: dict) -> int:
    command = ctx.config.command
    if command == "import":
        await _import(ctx, resources)
        return EXIT_OK
    if command == "reset":
        try:
            await reset_resources(ctx, resources)
        finally:
            _save(ctx, "destination", resources)
        rep = ctx.reporter
        _summary(
            ctx,
            f"Reset: {rep.total('delete', 'success')} deleted, {rep.total('delete', 'failure')} failed, "
            f"{rep.total('delete', 'skipped')} skipped.",
            "reset",
        )
        return EXIT_OK
    if command == "migrate":
        await _import(ctx, resources)
    for rtype, res in resources.items():  # memory only: see BaseResource.share_state
        res.share_state(ctx.state.source.get(rtype, {}), ctx.state.destination.get(rtype, {}))
    plan = await build_plan(ctx, resources)
    for problem in plan.problems:
        ctx.reporter.record(problem)
    if command == "diffs":
        print_plan(ctx, plan, resources)
        if plan.unknown:
            return EXIT_FAILURE  # an unknown plan is a failure, not "differences" (--exit-code)
        return EXIT_DIFFERENCES if ctx.config.diff_exit_code and plan.has_changes else EXIT_OK
    return await _sync(ctx, plan, resources)


async def _import(ctx: RunContext, resources: dict) -> None:
    imported = await import_resources(ctx, resources)
    _save(ctx, "source", imported)
    rep = ctx.reporter
    _summary(
        ctx,
        f"Imported: {rep.total('import', 'success')} resources, {rep.total('import', 'failure')} failed, "
        f"{rep.total('import', 'skipped')} skipped, {rep.total('import', 'filtered')} filtered.",
        "import",
    )


async def _sync(ctx: RunContext, plan: Plan, resources: dict) -> int:
    deletes = [c for c in plan.changes if c.action == "delete"]
    if deletes and ctx.config.cleanup is Cleanup.ASK and not ctx.config.assume_yes:
        for change in deletes:
            ctx.logger.warning("[%s - %s] - Resource will be deleted", change.resource_type, change.key)
        if not click.confirm(f"Delete above {len(deletes)} resources from destination org?", err=True):
            ctx.logger.info("cleanup not confirmed: nothing will be deleted")
            plan = plan.without_deletes()
    print_summary(ctx, plan)
    # State and plan live until the run ends: a full collection while writes go out (45 ms at 1,000 AWS
    # accounts, delaying the write behind it) walks only what the writes make.
    gc.freeze()
    try:
        await apply_plan(ctx, plan, resources)
    finally:  # also when interrupted: what was done is saved and summed up
        _save(ctx, "destination", resources)
        _summary(ctx, applied_summary(ctx, plan), "sync")
    return EXIT_OK


def _save(ctx: RunContext, origin, types) -> None:
    """Write state; a problem is logged (the run fails) instead of hiding the summary behind a traceback."""
    remote = ctx.state.object_root(origin)
    if remote is not None and remote.store.stopped:  # the lock is another run's now: its state is not ours to write
        ctx.logger.warning("the %s state was not saved: this run lost its lock", origin)
        return
    try:
        ctx.state.dump(origin, types)
    except StateFileError as exc:
        ctx.logger.error("%s", exc)


def _summary(ctx: RunContext, line: str, command: str) -> None:
    rep = ctx.reporter
    if ctx.config.emit_json:
        rep.emit(
            {"type": "summary", "command": command, "message": line, "problems": [o.as_event() for o in rep.problems]}
        )
        return
    text = "\n".join([line, *rep.problem_lines()]) + "\n"
    rep.stream.write(text)
    rep.stream.flush()

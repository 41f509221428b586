"""Runs one command: configuration -> state + clients -> import / plan / apply / reset -> summary."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import click

from datadog_sync.applier import applied_summary, apply_plan, build_plan, print_plan
from datadog_sync.config import Configuration, OrgConfig
from datadog_sync.context import LOGGER_NAME, RunContext
from datadog_sync.http.client import Client
from datadog_sync.http.retry import RetryPolicy
from datadog_sync.http.transport import AiohttpTransport
from datadog_sync.importer import import_resources
from datadog_sync.log import setup_logging
from datadog_sync.redact import register_secret
from datadog_sync.report import Reporter
from datadog_sync.resetter import reset_resources
from datadog_sync.resources import registry
from datadog_sync.state import StateFileError, StateStore

EXIT_OK, EXIT_FAILURE, EXIT_DIFFERENCES = 0, 1, 2

#: DDR statuses that allow a run (upstream): ONBOARDING, PASSIVE, RECOVERY.
DDR_ALLOWED = {1: "ONBOARDING", 2: "PASSIVE", 5: "RECOVERY"}
DDR_NAMES = {**DDR_ALLOWED, 3: "FAILOVER", 4: "ACTIVE"}

#: Which orgs each command reads from (validation, DDR) and talks to.
SOURCE_COMMANDS = {"import", "migrate"}
DESTINATION_COMMANDS = {"sync", "migrate", "diffs", "reset"}
DDR_SOURCE_COMMANDS = {"import", "diffs", "migrate"}

#: Garbage-collector thresholds during a run (CPython's default is 700, 10, 10); see :func:`fewer_gc_pauses`.
RUN_GC_THRESHOLDS = (10_000, 10, 10)


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
    """
    previous = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


async def _run(config: Configuration, reporter: Reporter) -> int:
    logger = logging.getLogger(LOGGER_NAME)
    logger.info("Starting %s...", config.command)
    if not config.verify_ssl_certificates:
        logger.warning(
            "TLS certificate verification is off (--verify-ssl-certificates=false): the API keys go to "
            "whoever answers at the API URL"
        )
    state = StateStore(
        config.source_resources_path, config.destination_resources_path, resource_per_file=config.resource_per_file
    )
    try:
        state.load(config.resources)
    except StateFileError as exc:
        logger.error("%s", exc)
        return EXIT_FAILURE
    ctx = RunContext(config=config, state=state, reporter=reporter, logger=logger)
    if config.command in SOURCE_COMMANDS:
        ctx.source = _client(config, config.source)
    if config.command in DESTINATION_COMMANDS:
        ctx.destination = _client(config, config.destination)
    classes = registry()
    resources = {rtype: classes[rtype](ctx) for rtype in config.resources}
    try:
        await _check_orgs(ctx)
        code = await _dispatch(ctx, resources)
    except RunFailed:
        code = EXIT_FAILURE
    finally:
        for client in (ctx.source, ctx.destination):
            if client is not None:
                await client.close()
    logger.info("Finished %s", config.command)
    return code


def _client(config: Configuration, org: OrgConfig) -> Client:
    return Client(
        org.api_url,
        api_key=org.api_key,
        app_key=org.app_key,
        org=org.name,
        timeout=config.http_client_timeout,
        retry=RetryPolicy(retry_timeout=config.http_client_retry_timeout),
        transport=AiohttpTransport(
            ssl=None if config.verify_ssl_certificates else False, trust_env=config.http_client_trust_env
        ),
    )


async def _check_orgs(ctx: RunContext) -> None:
    """``--validate`` (API keys) and ``--verify-ddr-status`` (disaster-recovery status) before any work."""
    config, logger = ctx.config, ctx.logger
    command = config.command
    pairs = []
    if command in SOURCE_COMMANDS and ctx.source:
        pairs.append(ctx.source)
    if command in DESTINATION_COMMANDS and ctx.destination:
        pairs.append(ctx.destination)
    if config.validate:
        for client in pairs:
            try:
                await client.get("/api/v1/validate")
            except Exception as exc:  # noqa: BLE001
                logger.error("invalid api key: %s", exc)
                raise RunFailed from exc
        logger.info("clients validated successfully")
    if not config.verify_ddr_status:
        logger.warning("DDR verification skipped.")
        return
    checks = []
    if command in DDR_SOURCE_COMMANDS:
        checks.append(("source", config.source))
    if command in DESTINATION_COMMANDS:
        checks.append(("destination", config.destination))
    for name, org in checks:
        client = ctx.source if name == "source" and ctx.source else ctx.destination if name == "destination" else None
        owned = client is None
        if owned:
            client = _client(config, org)
        try:
            reason = await _ddr_problem(client)
        finally:
            if owned:
                await client.close()
        if reason:
            logger.error(
                "The %s DDR verification failed. %s Use the --verify-ddr-status flag to override.", name, reason
            )
            raise RunFailed
    logger.info("DDR verified successfully")


async def _ddr_problem(client: Client) -> str | None:
    try:
        body = await client.get("/api/v2/hamr")
    except Exception as exc:  # noqa: BLE001
        return f"Could not read the DDR status: {exc}."
    status = (((body or {}).get("data") or {}).get("attributes") or {}).get("HamrStatus")
    if status is None or status == "":
        return "no DDR status could be retrieved."
    if status not in DDR_ALLOWED:
        return f"disaster recovery is in progress. DDR status retrieved: {DDR_NAMES.get(status, status)}."
    return None


async def _dispatch(ctx: RunContext, resources: dict) -> int:
    command = ctx.config.command
    if command == "import":
        await _import(ctx, resources)
        return EXIT_OK
    if command == "reset":
        try:
            await reset_resources(ctx, resources)
        finally:
            ctx.state.dump("destination", resources)
        return EXIT_OK
    if command == "migrate":
        await _import(ctx, resources)
    plan = await build_plan(ctx, resources)
    if command == "diffs":
        print_plan(ctx, plan, resources)
        return EXIT_DIFFERENCES if ctx.config.diff_exit_code and plan.has_changes else EXIT_OK
    return await _sync(ctx, plan, resources)


async def _import(ctx: RunContext, resources: dict) -> None:
    imported = await import_resources(ctx, resources)
    ctx.state.dump("source", imported)
    rep = ctx.reporter
    _summary(
        ctx,
        f"Imported: {rep.total('import', 'success')} resources, {rep.total('import', 'failure')} failed, "
        f"{rep.total('import', 'skipped')} skipped, {rep.total('import', 'filtered')} filtered.",
        "import",
    )


async def _sync(ctx: RunContext, plan, resources: dict) -> int:
    deletes = [c for c in plan.changes if c.action == "delete"]
    if deletes and ctx.config.cleanup == "true" and not ctx.config.assume_yes:
        for change in deletes:
            ctx.logger.warning("[%s - %s] - Resource will be deleted", change.resource_type, change.key)
        if not click.confirm(f"Delete above {len(deletes)} resources from destination org?", err=True):
            ctx.logger.info("cleanup not confirmed: nothing will be deleted")
            for change in deletes:
                change.action = "noop"
    if not ctx.config.emit_json:
        ctx.reporter.stream.write(plan.summary() + "\n")
    try:
        await apply_plan(ctx, plan, resources)
    finally:  # also when interrupted: what was done is saved and summed up
        ctx.state.dump("destination", resources)
        _summary(ctx, applied_summary(ctx), "sync")
    return EXIT_OK


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

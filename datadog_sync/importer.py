"""``import``: read every requested type from the source org into source state."""

from __future__ import annotations

import asyncio

from datadog_sync.context import RunContext
from datadog_sync.filters import PathCheck
from datadog_sync.http.errors import HTTPError
from datadog_sync.pool import map_bounded, type_cap
from datadog_sync.progress import Progress
from datadog_sync.report import Outcome
from datadog_sync.resources.base import BaseResource, PartialListing, ResourceError, SkipResource


async def import_resources(ctx: RunContext, resources: dict[str, BaseResource], client=None) -> set[str]:
    """Import all types concurrently into ``ctx.state.source``; return the types imported without a listing failure.

    A type whose listing fails keeps its previous state (upstream empties it, and a later cleanup would
    then delete the whole type in the destination).
    """
    client = client or ctx.source
    ctx.logger.info("importing resources: %s", ", ".join(resources))
    progress = Progress("import", enabled=ctx.config.show_progress_bar and not ctx.config.emit_json)
    try:
        results = await asyncio.gather(*(_import_type(ctx, res, client, progress) for res in resources.values()))
    finally:
        progress.close()
    ok = {rtype for rtype, success in zip(resources, results, strict=True) if success}
    rep = ctx.reporter
    ctx.logger.info(
        "finished importing individual resource items: Successes: %d, Failures: %d, Skipped: %d, Filtered: %d.",
        rep.total("import", "success"),
        rep.total("import", "failure"),
        rep.total("import", "skipped"),
        rep.total("import", "filtered"),
    )
    return ok


async def _import_type(ctx: RunContext, res: BaseResource, client, progress: Progress) -> bool:
    rtype = res.resource_type
    log = res.log
    log.info("getting resources")
    partial: PartialListing | None = None
    try:
        raw_items = await res.list_resources(client)
    except PartialListing as exc:
        partial, raw_items = exc, exc.items
        report_unlisted(ctx, res, exc, "import", "keeping its previous state")
    except Exception as exc:  # noqa: BLE001 - one type failing must not stop the others
        log.error("Error while getting resources %s: %s; keeping its previous state", rtype, exc)
        ctx.reporter.record(Outcome.failure(ctx.config.command, rtype, "", "import", str(exc), exc))
        return False
    progress.add_total(len(raw_items))
    filters = ctx.config.filters
    # Filters that only name list-item attributes can drop items before their extra reads.
    prefilter = bool(filters.for_type(rtype)) and not (filters.names_for_type(rtype) & res.config.fetched_attributes)
    paths = PathCheck(rtype, filters.for_type(rtype))
    previous = ctx.state.source.get(rtype, {})
    imported: dict[str, dict] = {}

    async def one(raw: dict) -> None:
        key = res.key_of(raw)
        try:
            if prefilter:
                preview = res.preview(raw)
                paths.see(preview)
                if not filters.matches(rtype, preview):
                    ctx.reporter.record(Outcome.filtered(ctx.config.command, rtype, key or ""))
                    return
            key, obj = await res.import_resource(raw, client)
            paths.see(obj)
            if not filters.matches(rtype, obj):
                ctx.reporter.record(Outcome.filtered(ctx.config.command, rtype, key))
                return
            if problem := ctx.state.file_name_problem(rtype, key):  # --resource-per-file: fail this one only
                raise ResourceError(problem)
            imported[key] = obj
            ctx.reporter.record(Outcome.success(ctx.config.command, rtype, key, "import"))
        except SkipResource as skip:
            log.info("skipping resource: %s", skip.reason, id=key or "")
            ctx.reporter.record(Outcome.skipped(ctx.config.command, rtype, key or "", "import", skip.reason))
        except Exception as exc:  # noqa: BLE001
            log.error("error while importing resource: %s", exc, id=key or "")
            ctx.reporter.record(Outcome.failure(ctx.config.command, rtype, key or "", "import", str(exc), exc))
            if key and key in previous:
                imported[key] = previous[key]  # a failed read must not lose what was imported before
        finally:
            progress.update()

    by_plugin: dict[int, tuple[BaseResource, list[dict | None]]] = {}  # a composite's subtypes have their own caps
    for raw in raw_items:
        plugin = res.plugin_of(obj=raw)
        by_plugin.setdefault(id(plugin), (plugin, []))[1].append(raw)
    del raw_items

    async def drain(items: list[dict | None], cap: int) -> None:
        """Import each listed item, dropping it from the listing as it is taken: the listing and what it becomes
        are not both held whole (at 10,000 AWS accounts, about 50 and 35 MB)."""

        async def take(index: int) -> None:
            raw, items[index] = items[index], None
            if raw is not None:
                await one(raw)

        await map_bounded(take, range(len(items)), cap)

    await asyncio.gather(*(drain(items, type_cap(ctx.config, p)) for p, items in by_plugin.values()))
    for warning in paths.warnings():
        log.warning("%s", warning)
    if partial is not None:  # what could not be listed keeps its previous state, so no cleanup deletes it
        imported.update({key: obj for key, obj in previous.items() if partial.keeps(key) and key not in imported})
    ctx.state.source[rtype] = imported
    return True


def report_unlisted(ctx: RunContext, res: BaseResource, partial: PartialListing, action: str, outcome: str) -> None:
    """Say what a partial listing left out. A part the key may not read (403) is a warning, so a key meant for one
    cloud runs clean; any other failure fails the run (the rest of the type still goes)."""
    for name, err in partial.unlisted.items():
        if isinstance(err, HTTPError) and err.status == 403:
            res.log.warning("%s left out, the key may not read it: %s; %s", name, err, outcome)
        else:
            res.log.error("cannot list %s: %s; %s", name, err, outcome)
            ctx.reporter.record(Outcome.failure(ctx.config.command, res.resource_type, "", action, str(err), err))

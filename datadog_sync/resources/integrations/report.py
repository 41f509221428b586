"""The end-of-``sync`` report of notifications that would go nowhere.

The source's monitors name integration handles (``@webhook-deploy-bot``, ``@pagerduty-payments``); each subtype says
which handles a stored object provides (``SubtypeResource.handles``). After a ``sync`` or ``migrate``, the handles of
service kinds (:data:`..handles.SERVICE_KINDS`) that the monitors use but that no object of destination state
provides are listed once, with why (skipped and the skip's reason, a failed write, not in source state), as one
warning and, with ``--json``, one ``{"type": "unrouted_handles", ...}`` event.

``sync`` alone has no source client: the monitors are then read with the source keys when they are given
(``--source-api-key`` / ``--source-app-key``), and the report is left out, saying so, when they are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from datadog_sync.http.errors import HTTPError, TransportError
from datadog_sync.log import OwnLines
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.handles import Unrouted, unrouted

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.planner import Change
    from datadog_sync.resources.composite import CompositeResource


class UnroutedReport:
    def __init__(self, resource: CompositeResource):
        self.resource = resource
        #: handle -> monitors naming it, once read (None: the source's monitors could not be read).
        self.referenced: dict[str, list[str]] | None = None

    async def read_monitors(self) -> None:
        """Read the source's monitors (once per run) for :meth:`emit`."""
        ctx, log = self.resource.ctx, self.resource.log
        monitors = getattr(self.resource, "monitors", None)
        if self.referenced is not None or monitors is None or not self.provides_handles():
            return
        client, owned = ctx.source, False
        if client is None:
            org = ctx.config.source
            if not (org.api_key and org.app_key):
                log.info(
                    "the source org's keys are not given: notification handles of its monitors are not checked "
                    "(give --source-api-key and --source-app-key, or run migrate)"
                )
                return
            from datadog_sync.orgs import make_client

            client, owned = make_client(ctx.config, org), True
        try:
            self.referenced = await monitors.read(client)
        except (HTTPError, TransportError, ResourceError) as exc:
            log.warning(
                "cannot read the source org's monitors (%s): notifications that would go nowhere are not listed",
                str(exc).splitlines()[0],
            )
        finally:
            if owned:
                await client.close()

    def provides_handles(self) -> bool:
        """Whether a subtype the run's filters select provides notification handles (``handle_kind``): without one
        (cloud integrations only: AWS, GCP, Azure, Fastly, Cloudflare, Confluent Cloud, Okta), the monitors are not
        read."""
        return any(sub.handle_kind for sub in self.resource.selected.values())

    def kinds(self) -> set[str] | None:
        """The handle kinds the report covers: those of the selected subtypes when the filters select only some
        (``--filter 'Type=integrations;Name=name;Value=pagerduty'`` reports PagerDuty handles alone), else every
        service kind (None), also those no subtype copies (``@jira-...``)."""
        selected, every = self.resource.selected, self.resource.subtypes
        if len(selected) == len(every):
            return None
        return {sub.handle_kind for sub in selected.values() if sub.handle_kind}

    def unrouted(self, changes: list[Change], unread: frozenset[str]) -> list[Unrouted]:
        """The referenced handles of service kinds that no destination state object provides, with why (``unread``:
        the subtypes whose destination could not be read)."""
        if self.referenced is None:
            return []
        resource = self.resource
        rtype = resource.resource_type
        destination: Mapping[str, dict] = resource.ctx.state.destination.get(rtype, {})
        provided = {h for key, obj in destination.items() for h in self._handles(key, obj)}
        reasons: dict[str, str] = {}
        for key, obj in resource.ctx.state.source.get(rtype, {}).items():
            for handle in self._handles(key, obj):
                not_read = resource.subtype_of(key, obj).subtype in unread
                why = "its subtype could not be read in the destination" if not_read else "filtered out of this run"
                reasons.setdefault(handle.lower(), why)
        for change in changes:
            for handle in self._handles(change.key, change.desired):
                if change.action == "skip":
                    reasons[handle.lower()] = f"skipped: {change.reason}" if change.reason else "skipped"
                elif change.key not in destination:
                    reasons[handle.lower()] = f"its {change.action} failed"
        kinds = self.kinds()
        return [u for u in unrouted(self.referenced, provided, reasons) if kinds is None or u.kind in kinds]

    def _handles(self, key: str, obj: Any) -> list[str]:
        if not isinstance(obj, dict):
            return []
        try:
            return self.resource.subtype_of(key, obj).handles(obj)
        except ResourceError:  # an entry of no known subtype provides nothing
            return []

    def emit(self, changes: list[Change], unread: frozenset[str]) -> None:
        found = self.unrouted(changes, unread)
        ctx = self.resource.ctx
        if ctx.config.emit_json and self.referenced is not None:
            ctx.reporter.emit(
                {
                    "type": "unrouted_handles",
                    "command": ctx.config.command,
                    "count": len(found),
                    "handles": [u.as_event() for u in found],
                }
            )
        if found:
            # One line per handle: the handles, reasons and monitor names are API data, escaped; the breaks are ours.
            header = (
                "%d notification handle(s) of the source's monitors have no integration in the destination: these "
                "notifications would go nowhere:"
            )
            lines = OwnLines(header + "\n  %s" * len(found), len(found), *(u.line() for u in found))
            self.resource.log.warning("%s", lines)

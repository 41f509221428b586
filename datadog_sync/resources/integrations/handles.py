"""Notification handles in the source org's monitors: what the service-integration subtypes must provide.

A monitor notifies an integration by naming it in its message: ``@<INTEGRATION_NAME>-<VALUES>``, e.g.
``@webhook-deploy-bot``, ``@pagerduty-payments``, ``@slack-ops-alerts`` (https://docs.datadoghq.com/monitors/notify/
"Integrations"; handles holding ``(`` or ``)`` are not parsed there). :class:`MonitorHandles` reads the monitors once
per run and org (``GET /api/v1/monitor``, paginated, https://docs.datadoghq.com/api/latest/monitors/) and parses every
handle of ``message`` and ``options.escalation_message``; the webhooks subtype discovers its names from it, and the
integrations resource reports, at the end of ``sync`` / ``migrate``, the handles that no synced destination object
provides (:func:`unrouted`): the notifications that would go nowhere.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.common import not_an_answer

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

MONITORS = "/api/v1/monitor"
MONITORS_READ = "monitors_read"
PAGE_SIZE = 1000  # the API's largest page_size

#: Handle prefixes of notification integrations (https://docs.datadoghq.com/monitors/notify/#integrations): a handle
#: of another prefix (a user's e-mail, ``@team-...``, ``@all``) is no integration datadog-sync could copy.
SERVICE_KINDS = (
    "webhook",
    "pagerduty",
    "slack",
    "opsgenie",
    "teams",
    "jira",
    "servicenow",
    "victorops",
    "flowdock",
    "hipchat",
)

# "@" at the start or after a blank or a template brace, then the handle up to a blank, brace, quote or bracket.
_HANDLE = re.compile(r"(?<![^\s{}>(\[,;])@([^\s{}()\[\],;\"'<>@][^\s{}()\[\],;\"'<>]*)")
_TRAILING = ".:!?"
#: A template tag that ends a handle: a block (``{{#is_alert}}``, ``{{/is_alert}}``, ``{{^is_warning}}``,
#: ``{{else}}``) or a comment. Any other ``{{...}}`` right after a handle is a variable completing its name.
_BLOCK_TAG = re.compile(r"\{\{~?\s*(?:[#/^!]|else\b)")


def parse_handles(text: Any) -> list[str]:
    """Every ``@handle`` of a monitor message, in order, once each, with its ``@`` (``[]`` for a non-string).

    A handle completed by a template variable (``@webhook-hook-{{service.name}}``, ``@slack-{{team}}-alerts``:
    https://docs.datadoghq.com/monitors/notify/variables/) names an integration only when the monitor notifies, so
    its name cannot be known here: it is left out, never cut at the brace into a name that does not exist."""
    if not isinstance(text, str):
        return []
    found = (m.group(1).rstrip(_TRAILING) for m in _HANDLE.finditer(text) if not _dynamic(text, m.end()))
    return list(dict.fromkeys(f"@{h}" for h in found if h))


def _dynamic(text: str, end: int) -> bool:
    """Whether the handle ending at ``end`` goes on with a template variable."""
    return text.startswith("{{", end) and not _BLOCK_TAG.match(text, end)


def kind(handle: str) -> str | None:
    """The integration a handle notifies (``webhook`` for ``@webhook-x``), None for handles of no service kind."""
    prefix, dash, rest = handle.lstrip("@").partition("-")
    prefix = prefix.lower()
    return prefix if dash and rest and prefix in SERVICE_KINDS else None


def monitor_handles(monitor: Mapping[str, Any]) -> list[str]:
    options = monitor.get("options") if isinstance(monitor.get("options"), Mapping) else {}
    texts = [monitor.get("message"), (options or {}).get("escalation_message")]
    return list(dict.fromkeys(h for text in texts for h in parse_handles(text)))


def monitor_label(monitor: Mapping[str, Any]) -> str:
    return f'monitor {monitor.get("id")} "{monitor.get("name") or ""}"'


class MonitorHandles:
    """The handles of an org's monitors, read once per run and org: handle -> the monitors naming it."""

    def __init__(self) -> None:
        self._read: dict[str, dict[str, list[str]]] = {}
        #: One lock per org: subtypes listing concurrently (webhooks, slack) wait for the first read, not make theirs.
        self._locks: dict[str, asyncio.Lock] = {}

    async def read(self, client: Client) -> dict[str, list[str]]:
        """The org's handles; an error (a 403 without ``monitors_read``) is raised to every caller, not kept."""
        org = getattr(client, "org", "source")
        async with self._locks.setdefault(org, asyncio.Lock()):
            if org not in self._read:
                found: dict[str, list[str]] = {}
                for monitor in await list_monitors(client):
                    for handle in monitor_handles(monitor):
                        found.setdefault(handle, []).append(monitor_label(monitor))
                self._read[org] = found
        return self._read[org]


async def list_monitors(client: Client) -> list[dict]:
    """Every monitor of the org, page by page."""
    monitors: list[dict] = []
    page = 0
    while True:
        params = {"page": page, "page_size": PAGE_SIZE}
        # An HTTPError as it is: its text names the path and the permission, and a 403 lets the caller leave the
        # subtype out ("the key may not read it") instead of failing the run.
        body = await client.get(MONITORS, params=params, permission=MONITORS_READ)
        if not isinstance(body, list):
            raise ResourceError(not_an_answer(client, MONITORS, body, "a list"))
        monitors.extend(m for m in body if isinstance(m, dict))
        if len(body) < PAGE_SIZE:
            return monitors
        page += 1


class UsesMonitors:
    """A subtype that discovers its objects from monitor handles: the integrations resource hands it the run's
    :class:`MonitorHandles` (one read per org, whatever the number of subtypes using it)."""

    monitors: MonitorHandles | None = None


@dataclass(frozen=True)
class Unrouted:
    """A handle the source's monitors use that no destination object provides after the run."""

    handle: str
    kind: str
    monitors: tuple[str, ...]
    reason: str

    def as_event(self) -> dict[str, Any]:
        return {"handle": self.handle, "kind": self.kind, "monitors": list(self.monitors), "reason": self.reason}

    def line(self) -> str:
        shown = ", ".join(self.monitors[:3]) + (f" and {len(self.monitors) - 3} more" if len(self.monitors) > 3 else "")
        return f"{self.handle} ({self.reason}; used by {shown})"


def unrouted(
    referenced: Mapping[str, Iterable[str]], provided: Iterable[str], reasons: Mapping[str, str]
) -> list[Unrouted]:
    """The handles of service kinds in ``referenced`` (handle -> monitors) that ``provided`` lacks (handles compare
    case-insensitively), each with the reason ``reasons`` gives for it (by lower-cased handle) or a default."""
    have = {h.lower() for h in provided}
    out: list[Unrouted] = []
    for handle, monitors in sorted(referenced.items(), key=lambda item: item[0].lower()):
        what = kind(handle)
        if what is None or handle.lower() in have:
            continue
        reason = reasons.get(handle.lower()) or "not in source state: not found in the source org, or not copied"
        out.append(Unrouted(handle, what, tuple(monitors), reason))
    return out

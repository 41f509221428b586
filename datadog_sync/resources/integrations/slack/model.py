"""The stored shape of one Slack channel of a Slack account, its comparison and the payloads built from it.

Pure: no HTTP here. The stored object is an item of
``GET /api/v1/integration/slack/configuration/accounts/{account_name}/channels``
(https://docs.datadoghq.com/api/latest/slack-integration/) with its account, plus ``"name": "slack"``::

    {
      "name": "slack", "account_name": "ops-workspace", "channel_name": "#alerts",
      "display": {"message": true, "mute_buttons": false, "notified": true, "snapshot": false, "tags": true}
    }

The identity is the pair ``account_name`` + ``channel_name`` (terraform-provider-datadog imports
``account:#channel``). Channel names keep their ``#`` (``#general`` in the API's examples); the state key drops it,
``slack:<account_name>:<channel without #>``, so a per-file state file name needs no ``#``. Monitors notify a channel
with ``@slack-<account_name>-<channel without #>`` (https://docs.datadoghq.com/monitors/notify/).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.resources.schema import Fields, schema_problems

RESOURCE_TYPE = "integrations"
SUBTYPE = "slack"
ACCOUNT = "account_name"
CHANNEL = "channel_name"
DISPLAY = "display"
#: The spec's ``SlackIntegrationChannelDisplay`` defaults: a flag the server fills in is no drift.
DISPLAY_DEFAULTS: dict[str, bool] = {
    "message": True,
    "mute_buttons": False,
    "notified": True,
    "snapshot": True,
    "tags": True,
}
SCHEMA: dict[str, Any] = {
    "name": str,
    ACCOUNT: str,
    CHANNEL: str,
    DISPLAY: Fields(dict.fromkeys(DISPLAY_DEFAULTS, bool)),
}
#: ``@slack-<account>-<channel>`` in a monitor message (https://docs.datadoghq.com/monitors/notify/).
HANDLE = re.compile(r"@slack-([\w.\-]+)")


# ----------------------------------------------------------------------------------------------- identity
def pair(obj: Mapping[str, Any]) -> tuple[str, str]:
    return str(obj.get(ACCOUNT) or ""), str(obj.get(CHANNEL) or "")


def bare(channel: str) -> str:
    """A channel name without its leading ``#``."""
    return channel[1:] if channel.startswith("#") else channel


def state_key(obj: Mapping[str, Any]) -> str:
    account, channel = pair(obj)
    return f"{SUBTYPE}:{account}:{bare(channel)}"


def label(obj: Mapping[str, Any]) -> str:
    account, channel = pair(obj)
    return f"Slack channel {channel} of account {account}"


def handle(obj: Mapping[str, Any]) -> str:
    account, channel = pair(obj)
    return f"@slack-{account}-{bare(channel)}"


def channel_name(name: str) -> str:
    """The API's form of a channel name: with its ``#``."""
    return name if name.startswith("#") else f"#{name}"


# ------------------------------------------------------------------------------------------- normalising
def from_api(account: str, item: Mapping[str, Any]) -> dict:
    """A listed channel of ``account`` in the stored shape (unknown fields are carried unchanged)."""
    rest = {k: copy.deepcopy(v) for k, v in item.items() if k not in ("name", ACCOUNT, CHANNEL)}
    return ordered({"name": SUBTYPE, ACCOUNT: account, CHANNEL: channel_name(str(item.get("name") or "")), **rest})


def ordered(obj: Mapping[str, Any]) -> dict:
    head = [k for k in ("name", ACCOUNT, CHANNEL) if k in obj]
    return {k: obj[k] for k in [*head, *sorted(k for k in obj if k not in head)]}


def display(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The five display flags, the spec's default where a flag is absent."""
    given = obj.get(DISPLAY) if isinstance(obj.get(DISPLAY), Mapping) else {}
    return {**DISPLAY_DEFAULTS, **dict(given or {})}


def canonical(obj: Mapping[str, Any]) -> dict:
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("name", ACCOUNT, CHANNEL)}
    out[DISPLAY] = display(obj)
    return out


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    """Only what the source owns: a destination field the source never had is no drift."""
    have, want = canonical(current), canonical(desired)
    return compute_diff({k: v for k, v in have.items() if k in want}, want)


# --------------------------------------------------------------------------------------------- payloads
def payload(obj: Mapping[str, Any]) -> dict:
    """Body of the channel POST and PATCH (``SlackIntegrationChannel``): the name with its ``#`` and every flag."""
    return {"name": channel_name(pair(obj)[1]), DISPLAY: display(obj)}


# ------------------------------------------------------------------------------------------------ handles
def handle_accounts(handles: Iterable[str]) -> list[str]:
    """Every account a ``@slack-<account>-<channel>`` handle (as :func:`..handles.parse_handles` finds them) could
    name, shortest first. The split is ambiguous (both names may hold ``-``): each prefix ending before a ``-`` is a
    candidate."""
    seen: dict[str, None] = {}
    for handle in handles_in(handles):
        parts = handle[len("@slack-") :].split("-")
        for end in range(1, len(parts)):
            seen.setdefault("-".join(parts[:end]))
    return sorted(seen, key=lambda a: (a.count("-"), a))


def unexplained(handles: Iterable[str], found: Mapping[str, Iterable[Mapping[str, Any]]]) -> set[str]:
    """The ``handles`` that no listed channel (``found``: account -> its listed channels) provides; handles compare
    case-insensitively, as the end-of-run report compares them."""
    provided = {handle(from_api(account, item)).lower() for account, items in found.items() for item in items}
    return {h for h in handles if h.lower() not in provided}


def handles_in(handles: Iterable[str]) -> set[str]:
    """The Slack handles among monitor handles, cut to the characters a Slack account and channel name hold."""
    found = (HANDLE.match(h or "") for h in handles)
    return {"@slack-" + m.group(1).rstrip(".-") for m in found if m and m.group(1).rstrip(".-")}


# ------------------------------------------------------------------------------------------------ checks
def problems(key: str, obj: Any) -> list[str]:
    found = schema_problems(obj, SCHEMA)
    if found:
        return found
    account, channel = pair(obj)
    if not account or not bare(channel):
        return [f"{ACCOUNT} and {CHANNEL}: both are needed"]
    if ":" in account or "/" in account:
        return [f'{ACCOUNT}: "{account}" cannot hold ":" or "/"']
    if key != state_key(obj):
        return [f"{ACCOUNT}/{CHANNEL}: the entry is stored under {key}, but its pair makes it {state_key(obj)}"]
    return []

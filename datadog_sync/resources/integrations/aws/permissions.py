"""Permission pre-flight: before the first write, check that the destination key may make the plan's writes.

There is no "check my permissions" endpoint (reference §8). We read the application key's scopes
(``GET /api/v2/current_user/application_keys?include=owned_by``, matched by its last 4 characters) and, when the
key is unscoped (it inherits its owner's permissions) or to narrow scopes to what the owner has, the owner's
permissions (``GET /api/v2/users/{id}/permissions``). If the check itself is not allowed, we say so and go on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datadog_sync.http.errors import HTTPError, TransportError
from datadog_sync.resources.integrations.aws import model
from datadog_sync.resources.integrations.aws.api import EDIT, MANAGE

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import ResourceLogger
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change

APP_KEYS = "/api/v2/current_user/application_keys"
USER_PERMISSIONS = "/api/v2/users/{user_id}/permissions"
PAGE_SIZE = 100
MAX_PAGES = 20

_WHAT = {MANAGE: "add or remove AWS accounts", EDIT: "edit AWS accounts, their tag filters and logs configuration"}


def needed_permissions(changes: list[Change]) -> dict[str, list[str]]:
    """``{permission: [state keys needing it]}`` for the writes of ``changes``."""
    needed: dict[str, list[str]] = {}
    for change in changes:
        if change.action in ("create", "delete"):
            needed.setdefault(MANAGE, []).append(change.key)
        if change.action == "update" or (change.action == "create" and _has_children(change.desired or {})):
            needed.setdefault(EDIT, []).append(change.key)
    return needed


def _has_children(obj: dict) -> bool:
    """Tag filters, Lambda ARNs and log services are written with ``aws_configuration_edit``."""
    logs = obj.get(model.LOGS) or {}
    return bool(obj.get(model.TAG_FILTERS) or logs.get(model.LAMBDA_ARNS) or logs.get(model.SERVICES))


async def preflight(client: Client, changes: list[Change], app_key: str | None, log: ResourceLogger) -> list[str]:
    needed = needed_permissions(changes)
    if not needed:
        return []
    try:
        granted = await effective_permissions(client, app_key)
    except (HTTPError, TransportError) as err:
        log.warning("cannot check the destination key's permissions before writing (%s); going on", _first_line(err))
        return []
    if granted is None:
        log.warning("cannot tell which application key this is, so its permissions were not checked; going on")
        return []
    problems = []
    for permission in (MANAGE, EDIT):
        keys = needed.get(permission)
        if keys and permission not in granted:
            # The accounts are named here, once: the host repeats each problem for every account it blocks.
            shown = ", ".join(sorted(keys)[:10]) + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")
            log.error("permission pre-flight: %d account(s) need `%s`: %s", len(keys), permission, shown)
            problems.append(
                f"the destination application key lacks the `{permission}` permission, needed to {_WHAT[permission]}"
            )
    return problems


async def effective_permissions(client: Client, app_key: str | None) -> set[str] | None:
    """What the application key may do: its scopes (if scoped) narrowed by its owner's permissions.

    None when the key is not found among the current user's keys. Raises HTTPError when a read is refused.
    """
    if not app_key or len(app_key) < 4:
        return None
    candidates = [key for key in await _list_app_keys(client) if key.get("attributes", {}).get("last4") == app_key[-4:]]
    if not candidates:
        return None
    granted: set[str] = set()
    owner_cache: dict[str, set[str] | None] = {}
    for key in candidates:  # several keys may share the last 4 characters: be generous, never block wrongly
        scopes = key.get("attributes", {}).get("scopes")
        owner_id = ((key.get("relationships") or {}).get("owned_by") or {}).get("data", {}).get("id")
        owner = None
        if owner_id:
            if owner_id not in owner_cache:
                owner_cache[owner_id] = await _owner_permissions(client, owner_id, scoped=scopes is not None)
            owner = owner_cache[owner_id]
        if scopes is None:
            if owner is None:
                return None
            granted |= owner
        else:
            granted |= set(scopes) if owner is None else set(scopes) & owner
    return granted


async def _list_app_keys(client: Client) -> list[dict]:
    keys: list[dict] = []
    for page in range(MAX_PAGES):
        body = await client.get(
            APP_KEYS,
            params={"include": "owned_by", "page[size]": PAGE_SIZE, "page[number]": page},
            permission="user_app_keys",
        )
        data = (body or {}).get("data") or []
        keys.extend(data)
        if len(data) < PAGE_SIZE:
            break
    return keys


async def _owner_permissions(client: Client, user_id: str, *, scoped: bool) -> set[str] | None:
    """The owner's permission names; None if we may not read them and the key's scopes can stand alone."""
    try:
        body = await client.get(USER_PERMISSIONS.format(user_id=user_id), permission="user_access_read")
    except HTTPError as err:
        if scoped and err.status in (403, 404):
            return None
        raise
    return {item.get("attributes", {}).get("name") for item in (body or {}).get("data") or []} - {None}


def _first_line(err: Exception) -> str:
    return "; ".join(line.strip() for line in str(err).splitlines() if line.strip())

"""The permission pre-flight: before the first write, check that the destination key may make the plan's writes.

Each plugin declares ``{action: permission}`` in its ``ResourceConfig.permissions``; this one host step checks
them all. There is no "check my permissions" endpoint: we read the application key's scopes
(``GET /api/v2/current_user/application_keys?include=owned_by``, matched by its last 4 characters) and, when the
key is unscoped (it inherits its owner's permissions) or to narrow scopes to what the owner has, the owner's
permissions (``GET /api/v2/users/{id}/permissions``), once per run. If the check itself is not allowed, we say so
and go on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datadog_sync.http.errors import HTTPError, TransportError

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change
    from datadog_sync.resources.base import BaseResource

APP_KEYS = "/api/v2/current_user/application_keys"
USER_PERMISSIONS = "/api/v2/users/{user_id}/permissions"
PAGE_SIZE = 100
MAX_PAGES = 20


def needed_permissions(plugin: BaseResource, changes: list[Change]) -> dict[str, list[str]]:
    """``{permission: [state keys needing it]}`` for the writes of ``changes``, in the order the config declares."""
    declared = plugin.config.permissions
    needed: dict[str, list[str]] = {permission: [] for permission in declared.values()}
    for change in changes:
        for permission in dict.fromkeys(declared[a] for a in plugin.write_actions(change) if a in declared):
            needed[permission].append(change.key)
    return {permission: keys for permission, keys in needed.items() if keys}


def short_problem(permission: str) -> str:
    """The per-object reason of a blocked write: the permission alone, its explanation having been logged once."""
    return f"the destination key lacks `{permission}` (see the permission pre-flight above)"


class PermissionCheck:
    """One run's pre-flight: the key's permissions are read once, then every type's writes are checked."""

    def __init__(self, ctx: RunContext, client: Client | None):
        self.ctx = ctx
        self.client = client
        self._granted: set[str] | None = None
        self._checked = False

    async def blocked(self, res: BaseResource, changes: list[Change]) -> dict[str, list[str]]:
        """The state keys of ``changes`` (of one type) whose own writes need a permission the destination key lacks,
        each with those permissions only (a webhook custom variable is not blocked for lacking `create_webhooks`).
        The full explanation is logged here, once per run and plugin, naming the objects that need it; each
        blocked object's own failure then only names the permission."""
        blocked: dict[str, list[str]] = {}
        for plugin, plugin_changes in res.plugins(changes):
            needed = needed_permissions(plugin, plugin_changes)
            if not needed:
                continue
            granted = await self._granted_for(plugin)
            if granted is None:
                continue
            for permission, keys in needed.items():
                if permission in granted:
                    continue
                shown = ", ".join(sorted(keys)[:10]) + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")
                purpose = plugin.config.permission_purposes.get(permission)
                plugin.log.error(
                    "permission pre-flight: %d %s need `%s`: %s; the destination application key lacks the `%s` "
                    "permission%s",
                    len(keys),
                    plugin.config.noun,
                    permission,
                    shown,
                    permission,
                    f", needed to {purpose}" if purpose else "",
                )
                for key in keys:
                    blocked.setdefault(key, []).append(short_problem(permission))
        return blocked

    async def _granted_for(self, plugin: BaseResource) -> set[str] | None:
        if not self._checked:
            self._checked = True
            org = getattr(self.client, "org", "destination")
            app_key = getattr(getattr(self.ctx.config, org, None), "app_key", None)
            try:
                self._granted = await effective_permissions(self.client, app_key)
            except (HTTPError, TransportError) as err:
                plugin.log.warning(
                    "cannot check the destination key's permissions before writing (%s); going on", _first_line(err)
                )
                self._granted = None
            else:
                if self._granted is None:
                    plugin.log.warning(
                        "cannot tell which application key this is, so its permissions were not checked; going on"
                    )
        return self._granted


async def effective_permissions(client: Client | None, app_key: str | None) -> set[str] | None:
    """What the application key may do: its scopes (if scoped) narrowed by its owner's permissions.

    None when the key is not found among the current user's keys. Raises HTTPError when a read is refused.
    """
    if client is None or not app_key or len(app_key) < 4:
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

"""What one integration subtype (``aws``, later ``gcp``, ``azure``) implements.

:class:`~datadog_sync.resources.integrations.IntegrationsResource` is the one ``integrations`` resource the host
knows; it hands every call to the subtype that owns the key (``<subtype>:<id>``) or object (``name``). A subtype
mirrors the resource hooks for its own objects only, so adding a subtype (or a second API generation of one,
such as AWS v2 accounts) changes neither the host nor the CLI surface.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from datadog_sync.diffing import Difference, compute_diff

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import ResourceLogger, RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change
    from datadog_sync.resources.integrations.secrets import IntegrationSecrets

RESOURCE_TYPE = "integrations"


class Subtype:
    """Base of a subtype. ``name`` is the key prefix and the stored objects' ``name``."""

    name: ClassVar[str]

    def __init__(self, ctx: RunContext, log: ResourceLogger, secrets: IntegrationSecrets):
        self.ctx = ctx
        self.log = log
        self.secrets = secrets

    # import
    async def list_resources(self, client: Client) -> list[dict]:
        raise NotImplementedError

    def key_of(self, raw: dict) -> str | None:
        raise NotImplementedError

    def preview(self, raw: dict) -> dict:
        raise NotImplementedError

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        raise NotImplementedError

    # plan
    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        raise NotImplementedError

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return compute_diff(current, desired)

    def redacted(self, obj: dict) -> dict:
        return obj

    # apply
    async def preflight(self, client: Client, changes: list[Change]) -> list[str]:
        return []

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        raise NotImplementedError

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        raise NotImplementedError

    async def delete(self, client: Client, key: str, current: dict) -> None:
        raise NotImplementedError

    def after_apply(self, changes: list[Change]) -> None:
        """Runs once after ``sync`` with this subtype's changes (reports, hand-off files)."""

    def after_reset(self, deleted: list[str]) -> None:
        """Runs once after ``reset`` deleted these keys from the destination."""

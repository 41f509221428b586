"""The ``aws`` subtype over the v1 AWS integration API: one stored object per AWS account.

Import reads 1 account list + 1 ``/logs`` list + 1 ``/filtering`` GET per account (concurrently, bounded).
Sync writes the least it can: create = 1 account POST + 1 POST per tag filter + 1 per Lambda ARN + 1 services
POST when services are set; update touches only what differs; an unchanged account gets no write at all.
This module reads and plans; the writes are in ``aws/writes.py`` (the base class).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.pool import map_bounded, type_cap
from datadog_sync.resources.base import ResourceConfig
from datadog_sync.resources.integrations.aws import handoff, model
from datadog_sync.resources.integrations.aws import secrets as aws_secrets
from datadog_sync.resources.integrations.aws.api import EDIT, MANAGE, READ, AwsV1Api
from datadog_sync.resources.integrations.aws.secrets import AwsSecrets, missing_aws_secret_message
from datadog_sync.resources.integrations.aws.writes import AwsV1Writes, ordered

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change


class AwsV1Subtype(AwsV1Writes):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    #: The state-key prefix: the same for every API generation, so a v2 subtype can take over this state.
    subtype: ClassVar[str] = model.SUBTYPE
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    has_secrets: ClassVar[bool] = True
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path="/api/v1/integration/aws",
        list_key="accounts",
        id_key="account_id",
        # Only the tag filters cost a read per account; filters on anything else run on the list item first.
        fetched_attributes=frozenset({model.TAG_FILTERS}),
        permissions={"read": READ, "create": MANAGE, "delete": MANAGE, "update": EDIT},
        permission_purposes={
            MANAGE: "add or remove AWS accounts",
            EDIT: "edit AWS accounts, their tag filters and logs configuration",
        },
        noun="account(s)",
    )

    def __init__(self, ctx: RunContext, secrets: AwsSecrets | None = None):
        super().__init__(ctx, secrets if secrets is not None else AwsSecrets())
        self.issued = {}
        self.journal = handoff.Journal(ctx.sidechannel.journal(handoff.JOURNAL_FILE))
        # Shared by every caller of _tag_filters, so concurrent callers together stay within the limit. Made here,
        # not on first use, so planning changes nothing (an asyncio lock binds to a loop only once it has waiters).
        self._reads = asyncio.Semaphore(type_cap(ctx.config, self))

    @classmethod
    def parse_secrets(cls, section: Any, path: Path | None) -> AwsSecrets:
        return aws_secrets.parse(section, path)

    # ------------------------------------------------------------------------------------------- import
    async def list_resources(self, client: Client) -> list[dict]:
        """The org's accounts as raw API items tagged ``name: aws``, each with its ``logs`` when attributable."""
        api = AwsV1Api(client)
        accounts, logs = await asyncio.gather(api.list_accounts(), api.list_logs())
        logs_by_id = model.index_logs(logs)
        items, unattributed = [], 0
        for account in accounts:
            item = {**account, "name": self.subtype}
            if model.is_key_account(item) and not item.get("account_id"):
                account_id = self.secrets.aws_account_id(item["access_key_id"])
                if account_id:
                    item["account_id"] = account_id
                else:
                    unattributed += 1
            logs_id = model.logs_id(item)
            if logs_id:
                item[model.LOGS] = logs_by_id.get(logs_id, model.empty_logs())
            items.append(item)
        if unattributed and self.secrets.path is not None:
            # Said once per import; the destination listings of diffs/sync/reset keep it at debug level. Without
            # a secrets file key accounts are skipped anyway, with a message saying how to give their secret.
            level = logging.INFO if getattr(client, "org", "") == "source" else logging.DEBUG
            self.log.log(
                level,
                "%d key account(s) have no account_id in the integrations secrets file: their logs configuration "
                "(Lambda ARNs, services) is keyed by the numeric AWS account id and is not synced",
                unattributed,
            )
        return items

    def key_of(self, raw: dict) -> str | None:
        return model.state_key(raw)

    def preview(self, raw: dict) -> dict:
        obj = model.normalize_account(raw)
        if model.LOGS in raw:
            obj[model.LOGS] = raw[model.LOGS]
        return obj

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        obj = self.preview(raw)
        obj[model.TAG_FILTERS] = await self._tag_filters(AwsV1Api(client), obj)
        return model.state_key(obj), ordered(obj)

    async def _tag_filters(self, api: AwsV1Api, obj: dict) -> dict[str, str]:
        async with self._reads:
            return model.normalize_tag_filters(await api.tag_filters(model.filtering_id(obj)))

    # --------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        return super().problems(key, obj) or model.unknown_field_problems(obj) or model.identity_problems(key, obj)

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """Read the destination live and match accounts by identity (account id, or access key id).

        So hand-made drift shows, a role rename addresses the destination's current role name, and an account
        that exists already (lost state, made by hand, lost create response) is adopted, never duplicated.
        """
        if client is None:
            return {key: model.normalize(obj) for key, obj in destination_state.items()}
        live = {model.identity(self.preview(raw)): raw for raw in await self.list_resources(client)}
        api = AwsV1Api(client)
        matched: dict[str, dict] = {}
        for key in {**destination_state, **source}:
            ref = source.get(key) or destination_state[key]
            ident = _identity(ref)
            raw = live.get(ident) if ident is not None else None
            if raw is not None:
                matched[key] = self.preview(raw)
        # One account's failed read must not stop the plan of all the others.
        filters = await map_bounded(
            lambda obj: self._tag_filters(api, obj),
            matched.values(),
            type_cap(self.ctx.config, self),
            return_exceptions=True,
        )
        current: dict[str, dict] = {}
        journal: dict[tuple[str, str], str | None] | None = None
        for (key, obj), tag_filters in zip(matched.items(), filters, strict=True):
            read_error = None
            if isinstance(tag_filters, BaseException):
                if not isinstance(tag_filters, Exception):
                    raise tag_filters
                read_error = f"cannot read its tag filters in the destination: {tag_filters}"
                tag_filters = {}
            obj[model.TAG_FILTERS] = tag_filters
            known = destination_state.get(key) or {}
            if known.get(model.EXTERNAL_ID) and _identity(known) == model.identity(obj):
                obj[model.EXTERNAL_ID] = known[model.EXTERNAL_ID]
            elif not model.is_key_account(obj):
                # Created by a run killed before it saved its state: the journal kept the id, or shows that the
                # create was sent but its answer (the id) never arrived.
                if journal is None:
                    journal = handoff.journal_load(self.ctx.config.destination_resources_path)
                account = (obj["account_id"], obj["role_name"])
                if account in journal:
                    obj[model.EXTERNAL_ID] = journal[account] or model.LOST_EXTERNAL_ID
            current[key] = ordered(obj) if read_error is None else _Unread(ordered(obj), read_error)
        return current

    def secret_names(self, obj: dict) -> list[str]:
        """A key account needs the secret access key of its access key id."""
        return [str(obj["access_key_id"])] if model.is_key_account(obj) else []

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        """A key account whose write needs its secret, and the secrets file lacks it, is planned as a skip."""
        if isinstance(current, _Unread):
            return current.read_error
        if model.is_key_account(desired) and self._needs_secret(desired, current):
            if not self.secrets.aws_key(desired["access_key_id"]):
                return missing_aws_secret_message(desired["access_key_id"])
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        differences = compute_diff(model.comparable(current, desired), model.comparable(desired, current))
        if current.get(model.EXTERNAL_ID) == model.LOST_EXTERNAL_ID:
            # This tool created the account but was killed before Datadog's answer arrived: nobody can use the
            # unseen id, so sync asks Datadog for a new one (the only drift ever shown for an external id).
            differences.append(Difference(model.EXTERNAL_ID, "changed", "(never received)", "(new from Datadog)"))
        return differences

    def redacted(self, obj: dict) -> dict:
        return {k: v for k, v in obj.items() if k not in (model.EXTERNAL_ID, model.SECRET)}

    # -------------------------------------------------------------------------------------------- apply
    def write_actions(self, change: Change) -> tuple[str, ...]:
        """A create with tag filters, Lambda ARNs or log services also writes them, with the edit permission."""
        if change.action == "create" and _has_children(change.desired or {}):
            return ("create", "update")
        return super().write_actions(change)

    def after_apply(self, changes: list[Change]) -> None:
        handoff.report(self.ctx, self.log, self.issued)

    def after_reset(self, deleted: list[str]) -> None:
        handoff.forget(self.ctx.sidechannel, deleted)


class _Unread(dict[str, Any]):
    """A current account whose tag filters could not be read, planned as a skip with ``read_error``. The marker
    rides on the type, not in the items, so it is never diffed, printed or stored."""

    def __init__(self, obj: dict, read_error: str):
        super().__init__(obj)
        self.read_error = read_error


def _has_children(obj: dict) -> bool:
    """Tag filters, Lambda ARNs and log services are written with ``aws_configuration_edit``."""
    logs = obj.get(model.LOGS) or {}
    return bool(obj.get(model.TAG_FILTERS) or logs.get(model.LAMBDA_ARNS) or logs.get(model.SERVICES))


def _identity(obj: Mapping) -> tuple[str, str] | None:
    """The identity of a state entry, or None for one too malformed to have one (it then matches nothing)."""
    try:
        return model.identity(obj)
    except (KeyError, TypeError, AttributeError):
        return None

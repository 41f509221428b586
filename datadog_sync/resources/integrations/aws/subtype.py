"""The ``aws`` subtype over the v1 AWS integration API: one stored object per AWS account.

Import reads 1 account list + 1 ``/logs`` list + 1 ``/filtering`` GET per account (concurrently, bounded).
Sync writes the least it can: create = 1 account POST + 1 POST per tag filter + 1 per Lambda ARN + 1 services
POST when services are set; update touches only what differs; an unchanged account gets no write at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.http.errors import HTTPError
from datadog_sync.pool import map_bounded
from datadog_sync.redact import redact_text
from datadog_sync.resources.base import PartialFailure, ResourceConfig, ResourceError, SkipResource
from datadog_sync.resources.composite import SubtypeResource
from datadog_sync.resources.integrations.aws import handoff, model
from datadog_sync.resources.integrations.aws import secrets as aws_secrets
from datadog_sync.resources.integrations.aws.api import (
    EDIT,
    MANAGE,
    NEW_EXTERNAL_ID,
    READ,
    AwsV1Api,
    is_absent,
    is_duplicate,
)
from datadog_sync.resources.integrations.aws.secrets import AwsSecrets, missing_aws_secret_message

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change


_T = TypeVar("_T")


class AwsV1Subtype(SubtypeResource):
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
        self.secrets: AwsSecrets
        #: Role accounts that got a new external id in this run: key -> hand-off entry.
        self.issued: dict[str, dict] = {}
        self.journal = handoff.Journal(ctx.sidechannel.journal(handoff.JOURNAL_FILE))
        # Shared by every caller of _tag_filters, so concurrent callers together stay within the limit. Made here,
        # not on first use, so planning changes nothing (an asyncio lock binds to a loop only once it has waiters).
        self._reads = asyncio.Semaphore(self._read_limit_size())

    @classmethod
    def parse_secrets(cls, section: Any, path: Path | None) -> AwsSecrets:
        return aws_secrets.parse(section, path)

    def _read_limit_size(self) -> int:
        """Per-account reads in flight: --max-workers-per-type integrations=N, else --max-workers."""
        config = self.ctx.config
        return config.max_workers_per_type.get(self.resource_type) or config.max_workers

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
        return model.state_key(obj), _ordered(obj)

    async def _tag_filters(self, api: AwsV1Api, obj: dict) -> dict[str, str]:
        async with self._reads:
            return model.normalize_tag_filters(await api.tag_filters(model.filtering_id(obj)))

    # --------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        return super().problems(key, obj) or model.identity_problems(key, obj)

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
            lambda obj: self._tag_filters(api, obj), matched.values(), self._read_limit_size(), return_exceptions=True
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
            current[key] = _ordered(obj) if read_error is None else _Unread(_ordered(obj), read_error)
        return current

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        """A key account whose write needs its secret, and the secrets file lacks it, is planned as a skip."""
        if isinstance(current, _Unread):
            return current.read_error
        if model.is_key_account(desired) and self._needs_secret(desired, current):
            if not self.secrets.aws_key(desired["access_key_id"]):
                return missing_aws_secret_message(desired["access_key_id"])
        return None

    @staticmethod
    def _needs_secret(desired: dict, current: dict | None) -> bool:
        """Creating or PUT-ing a key account sends its secret; tag filter and logs writes do not."""
        if current is None:
            return True
        return model.account_part(model.comparable(desired, current)) != model.account_part(
            model.comparable(current, desired)
        )

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

    def _secret(self, key: str, obj: dict) -> str | None:
        if not model.is_key_account(obj):
            return None
        entry = self.secrets.aws_key(obj["access_key_id"])
        if entry is None:
            raise SkipResource(missing_aws_secret_message(obj["access_key_id"]))
        return entry.secret_access_key

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        obj = model.normalize(desired)
        obj.pop(model.EXTERNAL_ID, None)
        secret = self._secret(key, obj)
        api = AwsV1Api(client)
        journal_attempt = None
        if not model.is_key_account(obj):
            # Each attempt is journaled before it is sent ("create"), and each one refused while none so far can
            # have been applied as "refused": if this run dies before Datadog's answer (the only copy of the new
            # external id) arrives, the next run knows whether this tool made the account and may rotate its id.
            def journal_attempt(event: str) -> None:
                intent = "create" if event == "sending" else "refused"
                self.journal.append(obj["account_id"], obj["role_name"], intent=intent)

        try:
            body = await api.create_account(model.account_payload(obj, secret), on_attempt=journal_attempt)
        except HTTPError as err:
            if not is_duplicate(err):
                raise ResourceError(_message(obj, err)) from err
            return await self._adopt_after_duplicate(api, key, obj, secret, err)
        external_id = body.get(model.EXTERNAL_ID)
        if external_id:
            self._remember_external_id(key, obj, external_id)
        try:
            await self._write_children(api, obj, {})
        except Exception as err:  # noqa: BLE001 - the account exists: state keeps its external id
            if external_id:
                raise PartialFailure(err, self._kept(key, obj, external_id)) from err
            raise
        return _ordered({**obj, **({model.EXTERNAL_ID: external_id} if external_id else {})})

    async def _adopt_after_duplicate(
        self, api: AwsV1Api, key: str, obj: dict, secret: str | None, err: HTTPError
    ) -> dict:
        """The create answered "already exists": read the account back and update it instead."""
        current = await self._read_back(api, obj)
        if current is None:
            raise ResourceError(
                f"{model.label(obj)}: the create was refused as a duplicate, yet no such account is listed: {err}"
            )
        external_id = None
        if err.earlier_attempt_may_have_applied and not model.is_key_account(obj):
            # An earlier attempt of this create got no answer (or a 5xx): it made the account and its answer,
            # the external id, was lost. Rotating is safe only for an account this run created: no trust policy
            # can use its id yet. A 409 "conflicting updates" or 429 proves an attempt was not applied.
            self.log.warning(
                "created by a retried request whose response was lost: asking Datadog for its external id", id=key
            )
            external_id = await self._call(
                obj, api.generate_new_external_id(current["account_id"], current["role_name"])
            )
            if external_id:
                self._remember_external_id(key, obj, external_id)
        elif model.is_key_account(obj):
            self.log.warning(
                "already exists in the destination: adopting and updating it instead of creating it", id=key
            )
        else:
            # Made by another writer (none of our attempts can have been applied): its id is theirs, never rotated.
            self.log.warning(
                "already exists in the destination (created by another writer): adopting and updating it. Its "
                "external ID is unknown to datadog-sync and was not changed; if Datadog cannot assume %s, rotate it "
                "deliberately (Datadog AWS integration page, or PUT %s) and put the new ID in the role's trust policy",
                model.role_arn(obj["account_id"], obj["role_name"]),
                NEW_EXTERNAL_ID,
                id=key,
            )
            self.journal.append(obj["account_id"], obj["role_name"], intent="adopted")
        if external_id:
            current[model.EXTERNAL_ID] = external_id
        try:
            return await self._update(api, key, obj, current, secret)
        except PartialFailure:
            raise
        except Exception as err:  # noqa: BLE001 - the new external id must survive the account's later writes
            if external_id:
                raise PartialFailure(err, self._kept(key, obj, external_id)) from err
            raise

    async def _read_back(self, api: AwsV1Api, obj: dict) -> dict | None:
        field, value = model.identity(obj)
        for raw in await api.list_accounts(**{field: value}):
            raw = {**raw, "name": self.subtype}
            if model.identity(raw) == (field, value):
                current = self.preview(raw)
                if obj.get("account_id") and model.is_key_account(obj):
                    current["account_id"] = obj["account_id"]
                current[model.TAG_FILTERS] = await self._tag_filters(api, current)
                logs_id = model.logs_id(current)
                if logs_id:
                    current[model.LOGS] = model.index_logs(await api.list_logs()).get(logs_id, model.empty_logs())
                return current
        return None

    def _remember_external_id(self, key: str, obj: dict, external_id: str) -> None:
        """Journal a new external id the moment Datadog issues it: it is never returned again, so it must
        survive a run killed before its state is saved (the next run adopts the account with it)."""
        self.issued[key] = handoff.entry(obj["account_id"], obj["role_name"], external_id)
        self.journal.append(obj["account_id"], obj["role_name"], external_id)

    def _kept(self, key: str, obj: dict, external_id: str) -> dict:
        """What destination state keeps for an account whose later writes failed: its known entry, new id."""
        known = self.ctx.state.destination.get(self.resource_type, {}).get(key)
        return {**(known or {"name": self.subtype, **model.account_part(obj)}), model.EXTERNAL_ID: external_id}

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        obj = model.normalize(desired)
        obj.pop(model.EXTERNAL_ID, None)
        return await self._update(AwsV1Api(client), key, obj, model.normalize(current), None)

    async def _update(self, api: AwsV1Api, key: str, obj: dict, current: dict, secret: str | None) -> dict:
        if current.get(model.EXTERNAL_ID) == model.LOST_EXTERNAL_ID:
            self.log.warning("its external id never arrived (interrupted run): asking Datadog for a new one", id=key)
            external_id = await self._call(
                obj, api.generate_new_external_id(current["account_id"], current["role_name"])
            )
            current[model.EXTERNAL_ID] = external_id
            if external_id:
                self._remember_external_id(key, obj, external_id)
                try:
                    return await self._write_account(api, key, obj, current, secret)
                except Exception as err:  # noqa: BLE001 - the new external id must survive the later writes
                    raise PartialFailure(err, self._kept(key, obj, external_id)) from err
        return await self._write_account(api, key, obj, current, secret)

    async def _write_account(self, api: AwsV1Api, key: str, obj: dict, current: dict, secret: str | None) -> dict:
        if self._needs_secret(obj, current):
            if model.is_key_account(obj) and secret is None:
                secret = self._secret(key, obj)
            # Addressed by the destination's current identity: a role rename sends the old name in the query.
            await self._call(
                obj, api.update_account(model.update_selector(current), model.account_payload(obj, secret))
            )
        await self._write_children(api, obj, current)
        external_id = current.get(model.EXTERNAL_ID)
        return _ordered({**obj, **({model.EXTERNAL_ID: external_id} if external_id else {})})

    async def _write_children(self, api: AwsV1Api, obj: dict, current: dict) -> None:
        """Tag filters, Lambda ARNs and log services that differ from ``current``: add, change, remove."""
        filtering_id = model.filtering_id(obj)
        want, have = obj.get(model.TAG_FILTERS) or {}, current.get(model.TAG_FILTERS) or {}
        for namespace, value in want.items():
            if have.get(namespace) != value:  # POST /filtering is an upsert
                await self._call(obj, api.put_tag_filter(model.tag_filter_payload(filtering_id, namespace, value)))
        for namespace in have.keys() - want.keys():
            await self._call(obj, api.delete_tag_filter(model.tag_filter_payload(filtering_id, namespace)))
        logs_id = model.logs_id(obj)
        if model.LOGS not in obj or not logs_id:
            return
        want_logs, have_logs = obj[model.LOGS], current.get(model.LOGS) or model.empty_logs()
        for arn in sorted(set(want_logs[model.LAMBDA_ARNS]) - set(have_logs[model.LAMBDA_ARNS])):
            await self._call(obj, api.add_lambda_arn(model.lambda_payload(logs_id, arn)))
        for arn in sorted(set(have_logs[model.LAMBDA_ARNS]) - set(want_logs[model.LAMBDA_ARNS])):
            await self._call(obj, api.remove_lambda_arn(model.lambda_payload(logs_id, arn)))
        if set(want_logs[model.SERVICES]) != set(have_logs[model.SERVICES]):  # the POST replaces the whole set
            await self._call(obj, api.set_log_services(model.services_payload(logs_id, want_logs[model.SERVICES])))

    async def delete(self, client: Client, key: str, current: dict) -> None:
        try:
            await AwsV1Api(client).delete_account(model.delete_payload(current))
        except HTTPError as err:
            if is_absent(err):
                self.log.info("already absent from the destination", id=key)
                return
            raise ResourceError(_message(current, err)) from err

    @staticmethod
    async def _call(obj: dict, request: Awaitable[_T]) -> _T:
        """Await an API call, naming the account in its error (400s carry the API's message)."""
        try:
            return await request
        except HTTPError as err:
            raise ResourceError(_message(obj, err)) from err

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


def _message(obj: dict, err: HTTPError) -> str:
    """The API's error with the account it concerns; masked in case an API ever echoes a secret back."""
    return redact_text(f"{model.label(obj)}: {err}")


def _ordered(obj: dict) -> dict:
    """Stored objects read the same in every state file: name, account fields, tag filters, logs, external id."""
    order = ("name", *model.ACCOUNT_FIELDS, model.TAG_FILTERS, model.LOGS, model.EXTERNAL_ID)
    return {k: obj[k] for k in order if k in obj}

"""The write path of the ``aws`` subtype: create (journaled attempts, adoption after a duplicate), update,
the account's children (tag filters, Lambda ARNs, log services) and delete. :class:`AwsV1Writes` is the base
of :class:`~datadog_sync.resources.integrations.aws.subtype.AwsV1Subtype`, which adds the reads and planning.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from datadog_sync.http.errors import HTTPError
from datadog_sync.report import Outcome
from datadog_sync.resources.base import PartialFailure, ResourceError, SkipResource
from datadog_sync.resources.composite import SubtypeResource
from datadog_sync.resources.integrations.aws import handoff, model
from datadog_sync.resources.integrations.aws.api import NEW_EXTERNAL_ID, AwsV1Api, is_absent, is_duplicate
from datadog_sync.resources.integrations.aws.secrets import AwsSecrets, missing_aws_secret_message
from datadog_sync.resources.integrations.common import call, error_message

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client


_T = TypeVar("_T")


class AwsV1Writes(SubtypeResource):
    """Writes one AWS account and its children with the fewest requests; state keeps what they return."""

    secrets: AwsSecrets
    #: Role accounts that got a new external id in this run: key -> hand-off entry.
    issued: dict[str, dict]
    journal: handoff.Journal

    if TYPE_CHECKING:  # a read the subclass provides, used to read an account back after a duplicate

        async def _tag_filters(self, api: AwsV1Api, obj: dict) -> dict[str, str]: ...

    @staticmethod
    def _needs_secret(desired: dict, current: dict | None) -> bool:
        """Creating or PUT-ing a key account sends its secret; tag filter and logs writes do not."""
        if current is None:
            return True
        return model.account_part(model.comparable(desired, current)) != model.account_part(
            model.comparable(current, desired)
        )

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
                raise ResourceError(error_message(model.label(obj), err)) from err
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
        except BaseException:  # Ctrl-C, SIGTERM (a CancelledError): keep the new id before stopping
            if external_id:
                self._keep_on_interrupt(key, obj, external_id)
            raise
        return ordered({**obj, **({model.EXTERNAL_ID: external_id} if external_id else {})})

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
        except BaseException:
            if external_id:
                self._keep_on_interrupt(key, obj, external_id)
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

    def _keep_on_interrupt(self, key: str, obj: dict, external_id: str, action: str = "create") -> None:
        """The run is being interrupted (a CancelledError, which no ``except Exception`` sees) after Datadog issued
        this account's external id: keep the account in destination state now, as a PartialFailure would, so the
        interrupted run's summary, warning and hand-off include it, then let the cancellation go on."""
        self.ctx.state.destination.setdefault(self.resource_type, {})[key] = self._kept(key, obj, external_id)
        self.ctx.reporter.record(
            Outcome.failure(
                self.ctx.config.command,
                self.resource_type,
                key,
                "sync",
                "interrupted after Datadog issued its new external ID: the ID is kept, the account's other "
                "settings are written by the next sync",
                None,
                action,
            )
        )

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
                except BaseException:
                    self._keep_on_interrupt(key, obj, external_id, "update")
                    raise
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
        return ordered({**obj, **({model.EXTERNAL_ID: external_id} if external_id else {})})

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
            raise ResourceError(error_message(model.label(current), err)) from err

    @staticmethod
    async def _call(obj: dict, request: Awaitable[_T]) -> _T:
        """Await an API call, naming the account in its error (400s carry the API's message)."""
        return await call(model.label(obj), request)


def ordered(obj: dict) -> dict:
    """Stored objects read the same in every state file: name, account fields, tag filters, logs, external id."""
    order = ("name", *model.ACCOUNT_FIELDS, model.TAG_FILTERS, model.LOGS, model.EXTERNAL_ID)
    return {k: obj[k] for k in order if k in obj}

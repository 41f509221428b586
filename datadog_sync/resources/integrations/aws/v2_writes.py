"""The write path of the ``aws`` subtype over the v2 accounts API: one request per account that changes.

* **Create**: one ``POST .../accounts`` with the whole owned object. A role account is sent without an external
  id; Datadog generates the destination's, which is read from the answer's ``auth_config.external_id``, journaled
  at once and reported in the hand-off file (``handoff.py``, shared with v1). A key account is sent with its
  secret from the secrets file (without it the plan skips the account).
* **Update**: one ``PATCH .../accounts/{destination config id}`` with the COMPLETE owned object (the API keeps
  the sub-objects a PATCH leaves out), ``auth_config`` only when the role name or access key id changes. A PATCH
  without ``auth_config`` keeps the account's credentials, so a key account whose access key is unchanged is
  updated without its secret; a new access key needs it.
* **Replace**: role <-> key auth cannot be switched by a PATCH; the change is planned as an update that deletes
  the account and creates it again (the applier backs the account up first, as for every update).
* **Delete**: ``DELETE .../accounts/{id}``; a 404 means it is gone already.
* **No duplicates**: a create answered 409 "Account already exists" reads the account back
  (``GET ?aws_account_id=``), adopts it and PATCHes it to the desired state. If an earlier attempt of that create
  may have been applied, this run made the account: v2 returns the external id on reads, so it is recorded as
  issued, never rotated. Otherwise another writer made it: it is adopted with a warning, its id left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import PartialFailure, ResourceError, SkipResource
from datadog_sync.resources.composite import SubtypeResource
from datadog_sync.resources.integrations.aws import handoff
from datadog_sync.resources.integrations.aws import v2_model as model
from datadog_sync.resources.integrations.aws.secrets import AwsSecrets, missing_aws_secret_message
from datadog_sync.resources.integrations.aws.v2_api import AwsV2Api, WriteMode, is_absent, is_duplicate
from datadog_sync.resources.integrations.common import call, error_message

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

#: The note of an update that replaces the account.
REPLACE_NOTE = (
    "the API cannot switch an account between role and key auth: sync backs it up, deletes it and creates it again"
)


class Unrecorded(dict[str, Any]):
    """A current role account that this tool created in a run killed before Datadog's answer (its external id)
    arrived, or that a v1 run left with an unknown id: v2 reads the id, so the plan records it (an update whose
    write makes no request when nothing else differs). The marker rides on the type, never diffed or stored."""

    def __init__(self, obj: dict, external_id: str):
        super().__init__(obj)
        self.external_id = external_id


class AwsV2Writes(SubtypeResource):
    """Writes one AWS account with one request; destination state keeps what the API answered."""

    secrets: AwsSecrets
    #: Role accounts that got a new external id in this run: key -> hand-off entry.
    issued: dict[str, dict]
    journal: handoff.Journal
    mode: WriteMode

    def _api(self, client: Client) -> AwsV2Api:
        return AwsV2Api(client, self.mode)

    @staticmethod
    def _needs_secret(desired: dict, current: dict | None) -> bool:
        """A key account's create, replace, or new access key sends its secret; other PATCHes do not."""
        return current is None or model.auth_switch(current, desired) or model.auth_changed(current, desired)

    def _secret(self, obj: dict) -> str:
        access_key_id = model.access_key_id(obj) or ""
        entry = self.secrets.aws_key(access_key_id)
        if entry is None:
            raise SkipResource(missing_aws_secret_message(access_key_id))
        return entry.secret_access_key

    # ------------------------------------------------------------------------------------------- create
    async def create(self, client: Client, key: str, desired: dict) -> dict:
        obj = model.normalize(desired)
        secret = self._secret(obj) if model.is_key_account(obj) else None
        api = self._api(client)
        journal_attempt = None
        role = model.role_name(obj)
        if role is not None:
            # Each attempt is journaled before it is sent, and each one refused while none can have been applied
            # as "refused": a run killed before the answer arrives lets the next run know the account is its own.
            def journal_attempt(event: str) -> None:
                self.journal.append(
                    obj[model.AWS_ACCOUNT_ID], role, intent="create" if event == "sending" else "refused"
                )

        try:
            payload = model.create_payload(obj, secret, normalized=True)
            data = await api.create_account(payload, on_attempt=journal_attempt)
        except HTTPError as err:
            if not is_duplicate(err):
                raise ResourceError(error_message(model.label(obj), err)) from err
            return await self._adopt_after_duplicate(api, key, obj, secret, err)
        external_id = model.live_external_id(data)
        if external_id and role is not None:
            self._remember_external_id(key, obj, external_id)
        return self._stored(obj, data)

    async def _adopt_after_duplicate(
        self, api: AwsV2Api, key: str, obj: dict, secret: str | None, err: HTTPError
    ) -> dict:
        """The create answered 409 "Account already exists": read the account back, adopt it, PATCH it."""
        found = [
            item
            for item in await call(model.label(obj), api.list_accounts(obj[model.AWS_ACCOUNT_ID]))
            if model.from_api(item).get(model.AWS_ACCOUNT_ID) == obj[model.AWS_ACCOUNT_ID]
        ]
        if not found:
            raise ResourceError(
                f"{model.label(obj)}: the create was refused as a duplicate, yet no such account is listed: {err}"
            )
        item = found[0]
        current = {**model.from_api(item), model.CONFIG_ID: item.get("id")}
        external_id = model.live_external_id(item)
        ours = err.earlier_attempt_may_have_applied and external_id is not None
        if ours:
            # An earlier attempt of this create got no answer (or a 5xx): it made the account. v2 returns the
            # external id on reads, so the one issued is read back, never rotated.
            self.log.warning(
                "created by a retried request whose response was lost: its external ID is read back", id=key
            )
            self._remember_external_id(key, obj, external_id or "")
        elif model.role_name(obj) is not None:
            self.log.warning(
                "already exists in the destination (created by another writer): adopting and updating it. Its "
                "external ID was issued to that writer, not by datadog-sync, and is left unchanged; it is kept in "
                "destination state and the hand-off file, check that the role's trust policy requires it",
                id=key,
            )
            self.journal.append(obj[model.AWS_ACCOUNT_ID], model.role_name(obj) or "", intent="adopted")
        else:
            self.log.warning(
                "already exists in the destination: adopting and updating it instead of creating it", id=key
            )
        if external_id and not model.is_key_account(current):
            current[model.EXTERNAL_ID] = external_id
        if model.auth_switch(current, obj):
            raise ResourceError(
                f"{model.label(obj)}: already exists in the destination with the other auth type (role or key); "
                "run sync again: its next plan replaces it"
            )
        try:
            return await self._patch(api, obj, current, secret)
        except Exception as failure:  # noqa: BLE001 - an id recorded as issued must stay in destination state
            if ours:
                raise PartialFailure(failure, current) from failure
            raise

    def _remember_external_id(self, key: str, obj: dict, external_id: str) -> None:
        """Journal a new external id the moment it is known, and list it in this run's hand-off."""
        account_id, role = obj[model.AWS_ACCOUNT_ID], model.role_name(obj) or ""
        self.issued[key] = handoff.entry(account_id, role, external_id, str(obj.get("aws_partition") or "aws"))
        self.journal.append(account_id, role, external_id)

    # ------------------------------------------------------------------------------------------- update
    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        obj = model.normalize(desired)
        api = self._api(client)
        if model.auth_switch(current, obj):
            await self.delete(client, key, current)
            return await self.create(client, key, obj)
        if isinstance(current, Unrecorded):
            # Created by this tool in a run that never received (or, on v1, could not read) its external id.
            self._remember_external_id(key, obj, current.external_id)
            current = {**current, model.EXTERNAL_ID: current.external_id}
            if not model.differences(current, obj):
                return self._stored(obj, {}, current)
            try:
                return await self._patch(api, obj, current, None)
            except Exception as failure:  # noqa: BLE001 - the recorded id stays in destination state
                raise PartialFailure(failure, dict(current)) from failure
        return await self._patch(api, obj, current, None)

    async def _patch(self, api: AwsV2Api, obj: dict, current: dict, secret: str | None) -> dict:
        with_auth = model.auth_changed(current, obj)
        if with_auth and model.is_key_account(obj) and secret is None:
            secret = self._secret(obj)
        config_id = current.get(model.CONFIG_ID)
        try:
            data = await api.update_account(
                str(config_id), model.update_payload(obj, secret, with_auth, current, normalized=True)
            )
        except HTTPError as err:
            if is_absent(err):
                raise ResourceError(
                    f"{model.label(obj)}: it is gone from the destination ({err.status} "
                    f"{'; '.join(err.messages) or 'not found'}): nothing was written; run sync again, its next "
                    "plan creates the account"
                ) from err
            raise ResourceError(error_message(model.label(obj), err)) from err
        return self._stored(obj, data, current)

    def _stored(self, obj: dict, data: dict, current: dict | None = None) -> dict:
        """What destination state keeps: the account as the API answered it (else as sent), its config id and,
        for a role account, its external id."""
        current = current or {}
        stored = model.from_api(data) if data.get("attributes") else model.normalize(obj)
        config_id = data.get("id") or current.get(model.CONFIG_ID)
        external_id = model.live_external_id(data) or current.get(model.EXTERNAL_ID)
        if config_id:
            stored[model.CONFIG_ID] = config_id
        if external_id and not model.is_key_account(stored) and external_id != model.LOST_EXTERNAL_ID:
            stored[model.EXTERNAL_ID] = external_id
        return model.ordered(stored)

    # ------------------------------------------------------------------------------------------- delete
    async def delete(self, client: Client, key: str, current: dict) -> None:
        api = self._api(client)
        config_id = current.get(model.CONFIG_ID)
        try:
            await api.delete_account(str(config_id))
        except HTTPError as err:
            if is_absent(err):
                self.log.info("already absent from the destination", id=key)
                return
            raise ResourceError(error_message(model.label(current), err)) from err

"""The write path of the ``gcp`` subtype: one request per service account that changes.

* **STS create**: one ``POST /api/v2/integration/gcp/accounts`` (201) with everything the source owns. Before the
  run's first one, when the destination has no Datadog principal yet, ``POST .../sts_delegate`` makes it (when the
  user may: a refusal is a warning, the hand-off then names the principal by a placeholder).
* **STS update**: one ``PATCH .../accounts/{destination id}`` (201) with everything the source owns (the API keeps
  what a PATCH leaves out and replaces the lists it sends).
* **Key accounts** (v1): ``POST`` with the JSON key from the secrets file (without it the plan skips the account),
  ``PUT`` without it (the API keeps the key), ``DELETE`` with ``{client_email, project_id}``. They answer ``{}``:
  state keeps what was sent, and once the run's writes are made one v1 listing reads back what the destination
  holds (``settle``), whatever the number of key accounts written (a listing per write read N x keys entries).
* **Replace**: STS <-> key, or a key account's ``project_id``, cannot change in place: delete, then create (the
  applier backs the account up first, as for every update).
* **Delete**: a 404 means it is gone already (v1 answers 200 either way).
* **No duplicates**: a create answered 409 (a create whose answer was lost, or an account made meanwhile) lists the
  destination, adopts the account and updates it to the desired state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError, SkipResource
from datadog_sync.resources.composite import SubtypeResource
from datadog_sync.resources.integrations.common import call, error_message
from datadog_sync.resources.integrations.gcp import model
from datadog_sync.resources.integrations.gcp.api import GcpApi, is_absent, is_duplicate
from datadog_sync.resources.integrations.gcp.secrets import GcpSecrets, missing_key_message

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

REPLACE_NOTE = (
    "the API cannot switch a service account between STS and a v1 key, or move a key account to another project: "
    "sync backs it up, deletes it and creates it again"
)


class GcpWrites(SubtypeResource):
    secrets: GcpSecrets
    #: The destination's Datadog principal (read while planning, made by the first STS create when missing).
    principal: str | None
    #: Whether this run asked for the principal with a POST already (once per run).
    principal_asked: bool
    #: STS accounts created in this run (state keys).
    created: set[str]

    # ------------------------------------------------------------------------------------------- create
    async def create(self, client: Client, key: str, desired: dict) -> dict:
        obj = model.normalize(desired)
        api = GcpApi(client)
        if model.is_key_account(obj):
            return await self._create_v1(api, key, obj)
        await self._ensure_principal(api)
        try:
            data = await api.create_account(model.sts_create_payload(obj))
        except HTTPError as err:
            if not is_duplicate(err):
                raise ResourceError(error_message(model.label(obj), err)) from err
            return await self._adopt(api, key, obj, err)
        self.created.add(key)
        return self._stored(obj, data)

    async def _ensure_principal(self, api: GcpApi) -> None:
        if self.principal is not None or self.principal_asked:
            return
        self.principal_asked = True
        try:
            self.principal = await api.make_delegate()
        except HTTPError as err:
            self.log.warning(
                "cannot make the destination org's Datadog GCP principal (%s): the service accounts are created, "
                "but the hand-off cannot name the principal to grant",
                err,
            )

    async def _adopt(self, api: GcpApi, key: str, obj: dict, err: HTTPError) -> dict:
        """A 409 on create: the account is there already; adopt it (never a second one) and update it."""
        sts, v1 = await call(model.label(obj), api.list_all())
        email = obj[model.EMAIL]
        item = next((i for i in sts if (i.get("attributes") or {}).get(model.EMAIL) == email), None)
        if item is None:
            other = next((i for i in v1 if i.get(model.EMAIL) == email and not model.is_listed_sts_in_v1(i)), None)
            if other is not None:
                raise ResourceError(
                    f"{model.label(obj)}: the destination has it as a v1 key integration (project "
                    f"{other.get(model.PROJECT)}) that appeared during this run; run sync again to replace it"
                ) from err
            raise ResourceError(error_message(model.label(obj), err)) from err
        self.log.warning("the service account exists in the destination already: adopted, not created twice", id=key)
        current = {**model.from_api(item), model.CONFIG_ID: item.get("id")}
        if not model.differences(current, obj):
            return model.ordered(current)
        return await self._patch(api, obj, current)

    async def _create_v1(self, api: GcpApi, key: str, obj: dict) -> dict:
        secret = self.secrets.key(obj[model.EMAIL])
        if secret is None:
            raise SkipResource(missing_key_message(obj[model.EMAIL]))
        try:
            await api.create_v1(model.v1_create_payload(obj, secret))
        except HTTPError as err:
            if not is_duplicate(err):
                raise ResourceError(error_message(model.label(obj), err)) from err
            self.log.warning("the key account exists in the destination already: adopted, not created twice", id=key)
            current = await self._read_v1(api, obj)
            if current is None:
                raise ResourceError(error_message(model.label(obj), err)) from err
            if model.differences(current, obj):
                return await self._put_v1(api, obj)
            return current
        return _sent(obj)

    # ------------------------------------------------------------------------------------------- update
    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        obj = model.normalize(desired)
        api = GcpApi(client)
        if model.kind_switch(current, obj):
            if model.is_key_account(obj) and self.secrets.key(obj[model.EMAIL]) is None:
                raise SkipResource(missing_key_message(obj[model.EMAIL]))
            await self.delete(client, key, current)
            return await self.create(client, key, obj)
        if model.is_key_account(obj):
            return await self._put_v1(api, obj)
        return await self._patch(api, obj, current)

    async def _patch(self, api: GcpApi, obj: dict, current: dict) -> dict:
        config_id = current.get(model.CONFIG_ID)
        try:
            data = await api.update_account(str(config_id), model.sts_update_payload(obj, current))
        except HTTPError as err:
            if is_absent(err):
                raise ResourceError(
                    f"{model.label(obj)}: it is gone from the destination ({err.status} "
                    f"{'; '.join(err.messages) or 'not found'}): nothing was written; run sync again, its next "
                    "plan creates the account"
                ) from err
            raise ResourceError(error_message(model.label(obj), err)) from err
        return self._stored(obj, data, current)

    async def _put_v1(self, api: GcpApi, obj: dict) -> dict:
        await call(model.label(obj), api.update_v1(model.v1_update_payload(obj)))
        return _sent(obj)

    # ------------------------------------------------------------------------------------------- delete
    async def delete(self, client: Client, key: str, current: dict) -> None:
        api = GcpApi(client)
        if model.is_key_account(current):
            await call(model.label(current), api.delete_v1(model.v1_delete_payload(current)))
            return
        try:
            await api.delete_account(str(current.get(model.CONFIG_ID)))
        except HTTPError as err:
            if is_absent(err):
                self.log.info("already absent from the destination", id=key)
                return
            raise ResourceError(error_message(model.label(current), err)) from err

    # ------------------------------------------------------------------------------------------- helpers
    @staticmethod
    def _stored(obj: dict, data: dict, current: dict | None = None) -> dict:
        """What destination state keeps: the account as the API answered it (else as sent) and its id."""
        stored = model.from_api(data) if data.get("attributes") else {"name": model.SUBTYPE, **model.owned(obj)}
        config_id = data.get("id") or (current or {}).get(model.CONFIG_ID)
        if config_id:
            stored[model.CONFIG_ID] = config_id
        return model.ordered(stored)

    async def _read_v1(self, api: GcpApi, obj: dict) -> dict | None:
        for item in await call(model.label(obj), api.list_v1()):
            if item.get(model.EMAIL) == obj[model.EMAIL] and not model.is_listed_sts_in_v1(item):
                return model.from_api(item)
        return None

    # -------------------------------------------------------------------------------------------- settle
    async def settle(self, client: Client, written: Mapping[str, dict]) -> dict[str, dict]:
        """v1 writes answer ``{}``: one v1 listing after the run's writes, and destination state keeps what it shows
        for the key accounts written (STS writes answer the account: nothing to read). A run that dies before it
        keeps what was sent; the next plan lists the destination and matches by email either way."""
        keys = {key: obj for key, obj in written.items() if model.is_key_account(obj)}
        if not keys:
            return {}
        live = {
            item.get(model.EMAIL): model.from_api(item)
            for item in await GcpApi(client).list_v1()
            if not model.is_listed_sts_in_v1(item)
        }
        settled: dict[str, dict] = {}
        for key, obj in keys.items():
            found = live.get(obj.get(model.EMAIL))
            if found is None:
                self.log.warning("not listed by the destination after its write: state keeps what was sent", id=key)
            else:
                settled[key] = found
        return settled


def _sent(obj: dict) -> dict:
    """What destination state keeps for a v1 write until ``settle`` reads it back: what was sent, without the key."""
    return model.ordered({"name": model.SUBTYPE, **model.owned(obj)})

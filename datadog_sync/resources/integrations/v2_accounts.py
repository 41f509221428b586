"""What the account-based service integrations share (``fastly``, ``cloudflare``, ``confluent_cloud``, ``okta``):
one JSON:API accounts collection under ``/api/v2/integrations/<integration>/accounts``, an account keyed by a
natural key that every org shares (a name, or Confluent's API key), an API secret that is never returned, and, for
Fastly and Confluent, child objects under the account (``/accounts/{id}/services``, ``/accounts/{id}/resources``).

Each subtype is a subclass of :class:`AccountsSubtype` wiring its pure model (stored shape, comparison, payloads);
this module holds the HTTP calls and the plan/apply logic they have in common:

* **Import** is one listing per org; the stored object carries the org's own account ``id`` (never compared, never
  sent), so ``reset`` can delete what it listed.
* **Plan** lists the destination once and matches accounts by natural key, never by id: drift shows, an existing
  account is adopted, and an id that changed (Okta answers a PATCH with a new one) is found again.
* **Create** is one ``POST`` with the secret from the secrets file (without it, a skip saying what to add), children
  inline. **Update** ``PATCH``es the account only when an account field differs (with the secret when the API needs
  it on every update: an update without it is a skip with the same message), then writes only the children that
  differ. **Delete** of an absent account is done already.
* **What no write carries**: a subtype declares the fields its updates can write (``writable_fields``: its update
  schema's attributes and its child collection). A difference in any other field is never planned as an update
  that writes nothing: alone, it is a skip saying so; beside writable ones, the update writes those and its note
  says what stays as it is. So ``diffs`` shows exactly what ``sync`` writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceConfig, ResourceError, SkipResource
from datadog_sync.resources.integrations.common import call, error_message, matched, not_an_answer
from datadog_sync.resources.integrations.secrets import KeyedSecretsSubtype

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

RESOURCE_TYPE = "integrations"
BASE = "/api/v2/integrations"
#: The ``x-permission`` of every operation of these APIs (https://docs.datadoghq.com/api/latest/fastly-integration/
#: and the Cloudflare, Confluent Cloud and Okta pages).
READ = "integrations_read"
MANAGE = "manage_integrations"


def account_config(path: str, noun: str) -> ResourceConfig:
    return ResourceConfig(
        base_path=path,
        list_key="data",
        id_key="id",
        permissions={"read": READ, "create": MANAGE, "update": MANAGE, "delete": MANAGE},
        permission_purposes={MANAGE: f"add, edit or remove {noun}"},
        noun=f"{noun}(s)",
    )


class AccountsApi:
    """The calls of one accounts collection (``path``) and, optionally, its child collection (``children``)."""

    def __init__(self, client: Client, path: str, children: str = ""):
        self.client = client
        self.path = path
        self.children = children

    async def list_accounts(self) -> list[dict]:
        answer = await self.client.get(self.path, permission=READ)
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list):
            raise ResourceError(not_an_answer(self.client, self.path, answer, 'an object with a "data" list'))
        return [item for item in data if isinstance(item, dict) and isinstance(item.get("attributes"), dict)]

    async def get_account(self, account_id: str) -> dict:
        return _data(await self.client.get(f"{self.path}/{account_id}", permission=READ))

    async def create_account(self, payload: dict) -> dict:
        # not idempotent: a POST whose answer was lost is found by the next plan's listing (matched by natural key)
        return _data(await self.client.request("POST", self.path, permission=MANAGE, json=payload))

    async def update_account(self, account_id: str, payload: dict) -> dict:
        path = f"{self.path}/{account_id}"
        return _data(await self.client.request("PATCH", path, permission=MANAGE, json=payload, idempotent=True))

    async def delete_account(self, account_id: str) -> None:
        await self.client.request("DELETE", f"{self.path}/{account_id}", permission=MANAGE)

    def _child(self, account_id: str, child_id: str | None = None) -> str:
        path = f"{self.path}/{account_id}/{self.children}"
        return path if child_id is None else f"{path}/{child_id}"

    async def create_child(self, account_id: str, payload: dict) -> None:
        await self.client.request("POST", self._child(account_id), permission=MANAGE, json=payload)

    async def update_child(self, account_id: str, child_id: str, payload: dict) -> None:
        path = self._child(account_id, child_id)
        await self.client.request("PATCH", path, permission=MANAGE, json=payload, idempotent=True)

    async def delete_child(self, account_id: str, child_id: str) -> None:
        await self.client.request("DELETE", self._child(account_id, child_id), permission=MANAGE)


def top_field(difference: Difference) -> str:
    """The stored field a difference is in (``services`` for ``services.<id>``)."""
    return difference.path.split(".", 1)[0]


def _data(answer: Any) -> dict:
    data = answer.get("data") if isinstance(answer, dict) else None
    return data if isinstance(data, dict) else {}


class AccountsSubtype(KeyedSecretsSubtype):
    """A subtype made of the accounts of one v2 integration (see the module doc); subclasses wire the model."""

    resource_type: ClassVar[str] = RESOURCE_TYPE
    #: The accounts collection, and the child collection's last path segment ("" when the API has none).
    path: ClassVar[str]
    children: ClassVar[str] = ""
    #: How messages name one account ("Fastly account"), and the secrets-file section's key and value.
    title: ClassVar[str]
    key_doc: ClassVar[str] = "<account name>"
    value_doc: ClassVar[str] = "API key"
    #: The stored field holding the natural key.
    natural_field: ClassVar[str] = "account_name"
    #: Stored fields that are secrets (never shown: a hand-edited state file may hold one).
    secret_fields: ClassVar[tuple[str, ...]] = ()
    #: The stored fields an update can write: the attributes of the API's account update schema, and the child
    #: collection. A difference in any other field (one the update schema lacks) cannot be copied in place.
    writable_fields: ClassVar[frozenset[str]]

    #: The subtype's model module: its ``from_api``, ``differences`` and ``create_payload`` serve the hooks below.
    model: ClassVar[ModuleType]

    # ----------------------------------------------------------------------------------- model hooks
    def from_api(self, item: Mapping[str, Any]) -> dict:
        """A listed (or answered) JSON:API account in the stored shape, with the org's ``id``."""
        return self.model.from_api(item)

    def differences(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
        return self.model.differences(current, desired)

    def create_payload(self, obj: Mapping[str, Any], secret: str) -> dict:
        return self.model.create_payload(obj, secret)

    def account_patch(self, current: Mapping[str, Any], desired: Mapping[str, Any], secret: str | None) -> dict | None:
        """The PATCH body an update sends to the account itself, None when no account field differs and no secret
        is to be written (``secret_unknown(current)``: an adoption writes the file's once)."""
        raise NotImplementedError  # pragma: no cover

    def update_needs_secret(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
        """Whether updating ``current`` to ``desired`` needs the secret (the API asks for it on every PATCH)."""
        return False

    def child_writes(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
        """The child writes an update makes: ``(method, child id, body or None)`` (none by default)."""
        return []

    def model_problems(self, key: str, obj: Mapping[str, Any]) -> list[str]:
        return []

    # ------------------------------------------------------------------------------------ identity
    def natural(self, obj: Mapping[str, Any]) -> str:
        value = obj.get(self.natural_field)
        return value if isinstance(value, str) else ""

    def state_key(self, obj: Mapping[str, Any]) -> str:
        return f"{self.subtype}:{self.natural(obj)}"

    def label(self, obj: Mapping[str, Any]) -> str:
        return f"{self.title} {self.natural(obj)}"

    def secret_names(self, obj: Mapping[str, Any]) -> list[str]:
        """The keys of this subtype's secrets-file section that ``obj`` needs."""
        return [self.natural(obj)] if self.natural(obj) else []

    def secret_path(self, obj: Mapping[str, Any]) -> str:
        return self.secret_fields[0]

    def _api(self, client: Client) -> AccountsApi:
        return AccountsApi(client, self.path, self.children)

    def _missing(self, obj: Mapping[str, Any], why: str = "") -> str:
        return self.secrets.missing_message(self.natural(obj), f"{self.label(obj)}{why}")

    # ------------------------------------------------------------------------------------------ import
    async def list_resources(self, client: Client) -> list[dict]:
        return [{**item, "name": self.subtype} for item in await self._api(client).list_accounts()]

    def key_of(self, raw: dict) -> str | None:
        obj = self.from_api(raw)
        return self.state_key(obj) if self.natural(obj) else None

    def preview(self, raw: dict) -> dict:
        return self.from_api(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        obj = self.from_api(raw)
        if not self.natural(obj):
            raise SkipResource(f"a {self.title} without {self.natural_field} was listed")
        return self.state_key(obj), obj

    # -------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        found = super().problems(key, obj)
        if found:
            return found
        stored_secret = [name for name in self.secret_fields if obj.get(name) is not None]
        if stored_secret:
            return [f"{stored_secret[0]}: never kept in state files: give it in the integrations secrets file"]
        if not self.natural(obj):
            return [f"{self.natural_field}: needed"]
        if key != self.state_key(obj):
            return [f"{self.natural_field}: the entry is stored under {key}, but it makes it {self.state_key(obj)}"]
        return self.model_problems(key, obj)

    async def _live(self, client: Client) -> dict[str, dict]:
        live: dict[str, dict] = {}
        for item in await self._api(client).list_accounts():
            obj = self.from_api(item)
            live.setdefault(self.natural(obj), obj)
        return live

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """List the destination once and match accounts by natural key (never by id)."""
        if client is None:
            return dict(destination_state)
        return matched(await self._live(client), source, destination_state, self.natural)

    def unwritable(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[str]:
        """The fields in which ``current`` differs from ``desired`` that no update can write, sorted."""
        return sorted({top_field(d) for d in self.differences(current, desired)} - self.writable_fields)

    def writable_part(self, obj: Mapping[str, Any]) -> dict:
        """``obj`` with only what an account update sends: its identity and the writable fields (a PATCH never
        carries a field the plan says it cannot write)."""
        keep = {"name", "id", self.natural_field, *self.writable_fields}
        return {k: v for k, v in obj.items() if k in keep}

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        if current is not None:
            fixed = self.unwritable(current, desired)
            if fixed and not self.diff(current, desired):
                return self._unwritable_message(desired, fixed)
        if self.secrets.get(self.natural(desired)):
            return None
        if current is None:
            return self._missing(desired)
        if self.update_needs_secret(current, desired):
            return self._missing(desired, " (the API needs it on every update)")
        return None

    def _unwritable_message(self, obj: Mapping[str, Any], fields: list[str]) -> str:
        names = ", ".join(fields)
        can = ", ".join(sorted(self.writable_fields))
        return (
            f"{self.label(obj)}: {names} {'differs' if len(fields) == 1 else 'differ'} in the destination, and the "
            f"API cannot change {'it' if len(fields) == 1 else 'them'} in place (an update writes only {can}): "
            "nothing to write. To copy it, delete the account in the destination and sync again, which creates it"
        )

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        """What an update writes: the differences in writable fields only (``unwritable`` tells the others), and an
        adoption's one write of the secret."""
        fixed = set(self.unwritable(current, desired))
        found = [d for d in self.differences(current, desired) if top_field(d) not in fixed]
        return found + self.secret_differences(current, desired)

    def update_note(self, key: str, desired: dict, current: dict) -> str:
        fixed = self.unwritable(current, desired)
        names = ", ".join(fixed)
        note = f"{names} {'differs' if len(fixed) == 1 else 'differ'} too, which the API cannot change: not written"
        return "; ".join(n for n in (super().update_note(key, desired, current), note if fixed else "") if n)

    def redacted(self, obj: dict) -> dict:
        return {k: v for k, v in obj.items() if k not in self.secret_fields}

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        return bool(self.natural(deleted)) and self.natural(stored) == self.natural(deleted)

    # ------------------------------------------------------------------------------------------- apply
    async def create(self, client: Client, key: str, desired: dict) -> dict:
        secret = self.secrets.get(self.natural(desired))
        if not secret:
            raise SkipResource(self._missing(desired))
        api = self._api(client)
        try:
            answer = await api.create_account(self.create_payload(desired, secret))
        except HTTPError as err:
            if err.status != 409:
                raise ResourceError(error_message(self.label(desired), err)) from err
            current = (await self._live(client)).get(self.natural(desired))
            if current is None:
                raise ResourceError(error_message(self.label(desired), err)) from err
            self.log.warning("already exists in the destination: updating it instead of creating it", id=key)
            return await self.update(client, key, desired, current)
        # an answer without the account (never recorded): state keeps what was sent; the next plan lists it
        return self.from_api(answer) if answer.get("attributes") else dict(desired)

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        secret = self.secrets.get(self.natural(desired))
        if not secret and self.update_needs_secret(current, desired):
            raise SkipResource(self._missing(desired, " (the API needs it on every update)"))
        api, label, account_id = self._api(client), self.label(desired), str(current.get("id") or "")
        result = dict(current)
        patch = self.account_patch(current, desired, secret)
        if patch is not None:
            result = self.from_api(await call(label, api.update_account(account_id, patch)))
            account_id = str(result.get("id") or account_id)  # Okta answers a PATCH with a new id (recorded)
        writes = self.child_writes(current, desired)
        for method, child_id, payload in writes:
            what = f"{label}, {self.children[:-1]} {child_id}"
            if method == "POST":
                await call(what, api.create_child(account_id, payload))
            elif method == "PATCH":
                await call(what, api.update_child(account_id, child_id, payload))
            else:
                await self._delete_child(api, what, account_id, child_id)
        if writes:
            result = self.from_api(await call(label, api.get_account(account_id)))
        return result

    async def _delete_child(self, api: AccountsApi, what: str, account_id: str, child_id: str) -> None:
        try:
            await api.delete_child(account_id, child_id)
        except HTTPError as err:
            if err.status != 404:
                raise ResourceError(error_message(what, err)) from err

    async def delete(self, client: Client, key: str, current: dict) -> None:
        api, label = self._api(client), self.label(current)
        try:
            await api.delete_account(str(current.get("id") or ""))
            return
        except HTTPError as err:
            if err.status not in (400, 404, 405):
                raise ResourceError(error_message(label, err)) from err
            first = err
        # The id is gone (404), or stale (Okta answers a PATCH with a new id and then 400 "Unknown error occurred"
        # for the old one, recorded): the listing says whether the account is still there under another id.
        found = (await self._live(client)).get(self.natural(current))
        if found is None:
            self.log.info("already absent from the destination", id=key)
            return
        if found.get("id") == current.get("id"):
            raise ResourceError(error_message(label, first)) from first
        await call(label, api.delete_account(str(found.get("id"))))

"""The ``webhooks`` integrations subtype: webhooks and their custom variables, keyed by name.

* **Discovery** (import): the API lists neither, so the names come from the source org's monitors
  (``@webhook-<name>`` handles, :mod:`..handles`), from ``--integrations-webhooks NAME,...`` (env
  ``DD_INTEGRATIONS_WEBHOOKS``, webhooks or custom variables), from the ``webhooks`` section of the secrets file
  (secret custom variables) and from the ``$NAME`` tokens of the webhooks found (custom variables they use; Datadog's
  built-in variables are not looked up). One ``GET`` per name; a name a monitor, the option or the secrets file
  gives but the source lacks is reported.
* **Plan**: one ``GET`` per name in the destination: drift shows, an existing object is adopted.
* **Writes**: ``POST`` to create (409: adopted with a ``PUT``), ``PUT`` of the stored fields to update, ``DELETE``
  (404: already absent); all of one org serialised. The server's default payload is no drift. A secret custom
  variable is created with its value from the secrets file (without it, the plan skips it with the line to add);
  its value is never compared, so it is written again only when another field changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.http.errors import HTTPError
from datadog_sync.log import HintedText
from datadog_sync.pool import type_cap
from datadog_sync.resources.base import ResourceConfig, ResourceError, SkipResource
from datadog_sync.resources.integrations.common import error_message
from datadog_sync.resources.integrations.handles import MONITORS_READ, UsesMonitors
from datadog_sync.resources.integrations.secrets import KeyedSecretsSubtype
from datadog_sync.resources.integrations.webhooks import model
from datadog_sync.resources.integrations.webhooks.api import (
    BASE,
    CREATE_WEBHOOKS,
    MANAGE,
    READ,
    WebhooksApi,
    is_absent,
    is_duplicate,
)
from datadog_sync.resources.integrations.webhooks.model import VARIABLE, WEBHOOK

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change

HANDLE_PREFIX = "@webhook-"
#: Datadog's built-in webhook variables (https://docs.datadoghq.com/integrations/webhooks/#variables): never custom.
BUILT_IN = frozenset(
    "AGGREG_KEY DATE EMAIL HOSTNAME ID LAST_UPDATED LINK LOGS_SAMPLE METRIC_NAMESPACE ORG_ID ORG_NAME PRIORITY "
    "SNAPSHOT TAGS TEXT_ONLY_MSG USER USERNAME".split()
)
BUILT_IN_PREFIXES = ("ALERT_", "EVENT_", "INCIDENT_", "SECURITY_", "SYNTHETICS_", "CASE_", "TAGS_")


def _variable_key_problem(name: str) -> str | None:
    return None if model.VARIABLE_NAME.match(name) else "is not a custom variable name (A-Z, 0-9 and _ only)"


def is_built_in(token: str) -> bool:
    return token in BUILT_IN or token.startswith(BUILT_IN_PREFIXES)


class WebhooksSubtype(KeyedSecretsSubtype, UsesMonitors):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    subtype: ClassVar[str] = model.SUBTYPE
    handle_kind: ClassVar[str | None] = "webhook"
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    key_doc: ClassVar[str] = "<CUSTOM_VARIABLE_NAME>"
    value_doc: ClassVar[str] = "value"
    secret_field: ClassVar[str] = f"{VARIABLE}.value"
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path=BASE,
        list_key=None,
        id_key="name",
        permissions={
            "read": READ,
            "create": CREATE_WEBHOOKS,
            "create_variable": MANAGE,
            "update": MANAGE,
            "delete": MANAGE,
        },
        permission_purposes={CREATE_WEBHOOKS: "create webhooks", MANAGE: "edit and delete webhooks and variables"},
        noun="webhook(s) and custom variable(s)",
    )

    @classmethod
    def key_problem(cls, key: str) -> str | None:
        return _variable_key_problem(key)

    def handles(self, obj: dict) -> list[str]:
        return [HANDLE_PREFIX + model.object_name(obj)] if model.kind_of(obj) == WEBHOOK else []

    def secret_names(self, obj: dict) -> list[str]:
        return [model.object_name(obj)] if model.is_secret(obj) else []

    # ------------------------------------------------------------------------------------------- import
    def listed_names(self) -> list[str]:
        """``--integrations-webhooks`` (env ``DD_INTEGRATIONS_WEBHOOKS``): names to import besides the monitors'."""
        return list(getattr(self.ctx.config, "integrations_webhooks", ()) or ())

    async def list_resources(self, client: Client) -> list[dict]:
        """Every webhook the monitors name or the user lists, and the custom variables they (or the secrets file,
        or the user) name: one GET per name, the names found nowhere reported."""
        referenced: dict[str, list[str]] = {}
        monitors_read = True
        if self.monitors is not None:
            try:
                found = await self.monitors.read(client)
            except HTTPError as err:
                if err.status != 403:  # only a key without monitors_read; anything else is no Datadog answer
                    raise
                self._monitors_refused(client, err)
                found, monitors_read = {}, False
            for handle, monitors in found.items():
                if handle.lower().startswith(HANDLE_PREFIX):
                    referenced.setdefault(handle[len(HANDLE_PREFIX) :], []).extend(monitors)
        listed = self.listed_names()
        # reset: what destination state says this tool made there; without the monitors, also what the org's
        # state holds already, so what was discovered before is refreshed, not dropped.
        known = self._known(client, with_own_state=not monitors_read)
        wanted_hooks = {**dict.fromkeys(referenced), **dict.fromkeys(listed), **dict.fromkeys(known[WEBHOOK])}
        wanted_vars = {n: "listed" for n in listed if model.VARIABLE_NAME.match(n)}
        wanted_vars.update({n: "secrets" for n in self.secrets.secrets if n not in wanted_vars})
        wanted_vars.update({n: "token" for n in known[VARIABLE] if n not in wanted_vars})
        api = WebhooksApi(client)
        hooks = await self._read_all(api, WEBHOOK, list(wanted_hooks))
        for hook in hooks.values():
            for token in model.variable_tokens(hook):
                if not is_built_in(token):
                    wanted_vars.setdefault(token, "token")
        variables = await self._read_all(api, VARIABLE, list(wanted_vars))
        for name in wanted_hooks:
            if name not in hooks and name not in known[WEBHOOK] and (name in referenced or name in listed):
                if name in listed and model.VARIABLE_NAME.match(name):
                    continue  # a listed variable name: reported below if it is no variable either
                self._not_found(WEBHOOK, name, referenced.get(name), name in listed)
        for name, why in wanted_vars.items():
            if name not in variables and why != "token" and not (why == "listed" and name in hooks):
                self._not_found(VARIABLE, name, None, why == "listed")
        return [*variables.values(), *hooks.values()]

    def _known(self, client: Client, with_own_state: bool = False) -> dict[str, list[str]]:
        """The names destination state holds, when ``client`` is the destination's (``reset`` lists it), and, with
        ``with_own_state``, those the state of ``client``'s org holds (source state for an import)."""
        org = getattr(client, "org", None)
        states = [self.ctx.state.destination] if org == "destination" else []
        if with_own_state and org == "source":
            states.append(self.ctx.state.source)
        out: dict[str, list[str]] = {WEBHOOK: [], VARIABLE: []}
        for state in states:
            for key in state.get(self.resource_type, {}):
                kind, name = model.split_key(key)
                if kind and name not in out[kind]:
                    out[kind].append(name)
        return out

    def _monitors_refused(self, client: Client, err: HTTPError) -> None:
        org = getattr(client, "org", "source")
        self.log.warning(
            "webhook discovery through the %s's monitors was skipped: its key lacks `%s`, so only the webhooks and "
            "variables listed with --integrations-webhooks, named in the secrets file or already in %s state are "
            "read: %s",
            org,
            MONITORS_READ,
            org,
            HintedText(error_message("monitors", err), err),
        )

    def _not_found(self, kind: str, name: str, monitors: list[str] | None, listed: bool) -> None:
        where = []
        if monitors:
            shown = ", ".join(monitors[:3]) + (f" and {len(monitors) - 3} more" if len(monitors) > 3 else "")
            where.append(f"referenced by {shown}")
        if listed:
            where.append("listed with --integrations-webhooks")
        if not where:
            where.append("named in the secrets file")
        self.log.warning(
            "%s is %s, but the source org has none of that name: not imported",
            model.label(kind, name),
            "; ".join(where),
        )

    async def _read_all(self, api: WebhooksApi, kind: str, names: list[str]) -> dict[str, dict]:
        # One GET per name (there is no listing), as many in flight as the subtype's cap, like every per-object read.
        slots = asyncio.Semaphore(type_cap(self.ctx.config, self))

        async def one(name: str) -> dict | None:
            async with slots:  # an HTTPError names the path; a 403 leaves the subtype out of a listing
                found = await api.get(kind, name)
            return None if found is None else model.from_api(kind, found)

        got = await asyncio.gather(*(one(n) for n in names))
        return {name: obj for name, obj in zip(names, got, strict=True) if obj is not None}

    def key_of(self, raw: dict) -> str | None:
        return model.key_of(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        key = model.key_of(raw)
        if key is None:
            raise SkipResource("a webhook or custom variable without a name was read")
        return key, raw

    # --------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        return model.problems(key, obj)

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """One GET per name in the destination: drift shows, an object made there by hand is adopted."""
        if client is None:
            return dict(destination_state)
        api = WebhooksApi(client)
        wanted: dict[str, list[str]] = {WEBHOOK: [], VARIABLE: []}
        for key in {**destination_state, **source}:
            kind, name = model.split_key(key)
            if kind:
                wanted[kind].append(name)
        found = {kind: await self._read_all(api, kind, names) for kind, names in wanted.items()}
        current: dict[str, dict] = {}
        for kind, objs in found.items():
            for name, obj in objs.items():
                current[model.state_key(kind, name)] = obj
        return current

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        """A secret custom variable is created with its value from the secrets file: without it, it is skipped."""
        name = model.object_name(desired)
        if current is None and model.is_secret(desired) and not self.secrets.get(name):
            return self.secrets.missing_message(name, f"the secret webhook custom variable {name}")
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return model.differences(current, desired) + self.secret_differences(current, desired)

    def redacted(self, obj: dict) -> dict:
        if not model.is_secret(obj):
            return obj
        return {**obj, VARIABLE: {k: v for k, v in model.inner(obj).items() if k != "value"}}

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        key = model.key_of(deleted)
        return key is not None and model.key_of(stored) == key

    def write_actions(self, change: Change) -> tuple[str, ...]:
        if change.action == "create" and model.kind_of(change.desired or {}) == VARIABLE:
            return ("create_variable",)
        return super().write_actions(change)

    # -------------------------------------------------------------------------------------------- apply
    def _payload(self, obj: Mapping[str, Any]) -> dict:
        if model.kind_of(obj) == WEBHOOK:
            return model.webhook_payload(obj)
        return model.variable_payload(obj, self.secrets.get(model.object_name(obj)))

    def _answer(self, kind: str, answer: Any, sent: Mapping[str, Any]) -> dict:
        """What state keeps: the write's answer (the server's defaults filled in), or what was sent."""
        if isinstance(answer, Mapping) and answer.get("name"):
            return model.from_api(kind, answer)
        return model.from_api(kind, model.inner(sent))

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        kind, name = model.kind_of(desired) or "", model.object_name(desired)
        if model.is_secret(desired) and not self.secrets.get(name):
            raise SkipResource(self.secrets.missing_message(name, f"the secret webhook custom variable {name}"))
        api = WebhooksApi(client)
        try:
            answer = await api.create(kind, self._payload(desired))
        except HTTPError as err:
            if not is_duplicate(err):
                raise ResourceError(error_message(model.label(kind, name), err)) from err
            self.log.warning("already exists in the destination: updating it instead of creating it", id=key)
            answer = await self._put(api, kind, name, desired)
        return self._answer(kind, answer, desired)

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        kind, name = model.kind_of(desired) or "", model.object_name(desired)
        return self._answer(kind, await self._put(WebhooksApi(client), kind, name, desired), desired)

    async def _put(self, api: WebhooksApi, kind: str, name: str, desired: Mapping[str, Any]) -> Any:
        try:
            return await api.update(kind, name, self._payload(desired))
        except HTTPError as err:
            if is_absent(err):
                raise ResourceError(
                    f"{model.label(kind, name)}: it is gone from the destination: nothing was written; run sync "
                    "again, its next plan creates it"
                ) from err
            raise ResourceError(error_message(model.label(kind, name), err)) from err

    async def delete(self, client: Client, key: str, current: dict) -> None:
        kind, name = model.split_key(key)
        kind, name = kind or model.kind_of(current) or "", name or model.object_name(current)
        try:
            await WebhooksApi(client).delete(kind, name)
        except HTTPError as err:
            if is_absent(err):
                self.log.info("already absent from the destination", id=key)
                return
            raise ResourceError(error_message(model.label(kind, name), err)) from err

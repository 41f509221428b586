"""The ``gcp`` subtype: GCP service accounts over the v2 STS API, and the deprecated v1 key integrations.

Import is two requests per org whatever the number of accounts: ``GET /api/v2/integration/gcp/accounts`` and
``GET /api/v1/integration/gcp``. Both generations share one key space, ``gcp:<client_email>``: an org lists an
email once (its v1 list also shows the STS accounts, with ``project_id: ""``; those come from the v2 list only, so
nothing is listed twice). A plan lists the destination the same way and matches by email, so drift shows and
nothing is created twice, and reads the destination's Datadog principal for the trust hand-off (``handoff.py``).
Writes: ``writes.py``; stored objects: ``model.py``; JSON keys of key accounts: ``secrets.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceConfig
from datadog_sync.resources.integrations.gcp import handoff, model
from datadog_sync.resources.integrations.gcp import secrets as gcp_secrets
from datadog_sync.resources.integrations.gcp.api import ACCOUNTS, EDIT, MANAGE, READ, GcpApi
from datadog_sync.resources.integrations.gcp.secrets import GcpSecrets, missing_key_message
from datadog_sync.resources.integrations.gcp.writes import REPLACE_NOTE, GcpWrites

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change


class GcpSubtype(GcpWrites):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    subtype: ClassVar[str] = model.SUBTYPE
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    has_secrets: ClassVar[bool] = True
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path=ACCOUNTS,
        list_key="data",
        id_key=model.CONFIG_ID,
        permissions={"read": READ, "create": MANAGE, "delete": MANAGE, "update": EDIT},
        permission_purposes={MANAGE: "add or remove GCP service accounts", EDIT: "edit GCP service accounts"},
        noun="service account(s)",
    )

    def __init__(self, ctx: RunContext, secrets: GcpSecrets | None = None):
        super().__init__(ctx, secrets if secrets is not None else GcpSecrets())
        self.principal = None
        self.principal_asked = False
        self.created = set()

    @classmethod
    def parse_secrets(cls, section: Any, path: Path | None) -> GcpSecrets:
        return gcp_secrets.parse(section, path)

    # ------------------------------------------------------------------------------------------- import
    async def list_resources(self, client: Client) -> list[dict]:
        """STS accounts (v2 items) and key accounts (v1 items), tagged ``name: gcp``; each email once. A key that may
        not read GCP integrations (403) leaves GCP out of the run with a warning, and its state is kept (the
        composite's ``PartialListing``), so the other clouds still go."""
        sts, v1 = await GcpApi(client).list_all()
        return [{**item, "name": self.subtype} for item in _merged(sts, v1)]

    def key_of(self, raw: dict) -> str | None:
        email = (raw.get("attributes") or {}).get(model.EMAIL) if "attributes" in raw else raw.get(model.EMAIL)
        return f"{self.subtype}:{email}" if email else None

    def preview(self, raw: dict) -> dict:
        return model.from_api(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        obj = self.preview(raw)
        if client is not None and client is self.ctx.destination and raw.get("attributes") is not None:
            obj = model.ordered({**obj, model.CONFIG_ID: raw.get("id")})  # reset: the destination's own id
        return model.state_key(obj), obj

    # --------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        return model.problems(key, obj)

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """List the destination once (both generations), match by email, and read its principal."""
        if client is None:
            return {k: model.normalize(v) for k, v in destination_state.items()}
        api = GcpApi(client)
        sts, v1 = await api.list_all()
        by_email: dict[str, dict] = {}
        for item in _merged(sts, v1):
            obj = model.from_api(item)
            if "attributes" in item and item.get("id"):
                obj[model.CONFIG_ID] = item["id"]
            by_email[str(obj.get(model.EMAIL))] = model.ordered(obj)
        if any(not model.is_key_account(o) for o in (*source.values(), *by_email.values())):
            try:
                self.principal = await api.delegate()
            except HTTPError as err:
                self.log.warning("cannot read the destination org's Datadog GCP principal: %s", err)
        current: dict[str, dict] = {}
        for key in {**destination_state, **source}:
            ref = source.get(key) or destination_state.get(key)
            found = by_email.get(str(ref.get(model.EMAIL))) if isinstance(ref, Mapping) else None
            if found is not None:
                current[key] = found
        return current

    def secret_names(self, obj: dict) -> list[str]:
        """A v1 key account needs its JSON key, by service-account email; STS accounts need nothing."""
        return [str(obj.get(model.EMAIL))] if model.is_key_account(obj) and obj.get(model.EMAIL) else []

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        """A key account whose write sends its JSON key (a create or a replace), without the key in the secrets
        file, is planned as a skip. Updates of a key account in place send none (the API keeps it)."""
        if model.is_key_account(desired) and (current is None or model.kind_switch(current, desired)):
            email = str(desired.get(model.EMAIL))
            if self.secrets.key(email) is None:
                return missing_key_message(email)
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return model.differences(current, desired)

    def update_note(self, key: str, desired: dict, current: dict) -> str:
        return REPLACE_NOTE if model.kind_switch(current, desired) else ""

    # -------------------------------------------------------------------------------------------- apply
    def write_actions(self, change: Change) -> tuple[str, ...]:
        """A replace deletes and creates: it needs the manage permission."""
        if change.action == "update" and change.current and model.kind_switch(change.current, change.desired or {}):
            return ("delete", "create")
        return super().write_actions(change)

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        """A state entry naming the deleted service account (one email per org, whichever API holds it)."""
        return bool(deleted.get(model.EMAIL)) and stored.get(model.EMAIL) == deleted.get(model.EMAIL)

    def after_apply(self, changes: list[Change]) -> None:
        handoff.report(self.ctx, self.log, self.principal, self.created)

    def after_reset(self, deleted: list[str]) -> None:
        handoff.forget(self.ctx.sidechannel, deleted)


def _merged(sts: list[dict], v1: list[dict]) -> list[dict]:
    """STS accounts from the v2 list, key accounts from the v1 list: each email once (STS first, should an org
    ever list an email in both)."""
    emails = {(item.get("attributes") or {}).get(model.EMAIL) for item in sts}
    keys = [i for i in v1 if not model.is_listed_sts_in_v1(i) and i.get(model.EMAIL) not in emails]
    return [*sts, *keys]

"""The ``aws`` subtype over the v2 AWS accounts API (the default; ``--integrations-aws-api=v1`` selects
:class:`~datadog_sync.resources.integrations.aws.subtype.AwsV1Subtype`).

Import is one ``GET /api/v2/integration/aws/accounts`` per org, whatever the number of accounts (no per-account
reads). A plan lists the destination once and matches accounts by AWS account id. Sync makes one request per
account that changes (``v2_writes.py``), none for an unchanged one. Stored objects: ``v2_model.py``.

**State written by the v1 generation** keeps working, once, without a write:

* v1 role accounts are kept under ``aws:<account id>``, the v2 key too: they are matched live, keep their
  external id, and are rewritten in the v2 shape by their next write.
* v1 key accounts were kept under ``aws:<access key id>``; v2 keys every account by its AWS account id. Such an
  entry is matched live by its access key id, and when the source's ``aws:<account id>`` claims the same account,
  the old key is planned as a forget without any write (``Superseded``), with or without ``--cleanup``, never as
  a delete; the account itself is adopted under its new key.
* A v1 entry whose external id never arrived (``(never received)``) is recorded from the live account, without a
  rotation: v2 can read the id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.jsonshare import share_fields
from datadog_sync.resources.base import ResourceConfig, Superseded
from datadog_sync.resources.composite import SubtypeResource
from datadog_sync.resources.integrations.aws import handoff
from datadog_sync.resources.integrations.aws import secrets as aws_secrets
from datadog_sync.resources.integrations.aws import v2_model as model
from datadog_sync.resources.integrations.aws.secrets import AwsSecrets, missing_aws_secret_message
from datadog_sync.resources.integrations.aws.subtype import AwsV1Subtype
from datadog_sync.resources.integrations.aws.v2_api import ACCOUNTS, EDIT, MANAGE, READ, AwsV2Api, WriteMode
from datadog_sync.resources.integrations.aws.v2_writes import REPLACE_NOTE, AwsV2Writes, Unrecorded

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change

#: ``--integrations-aws-api`` values.
V1, V2 = "v1", "v2"


class AwsV2Subtype(AwsV2Writes):
    resource_type: ClassVar[str] = model.RESOURCE_TYPE
    subtype: ClassVar[str] = model.SUBTYPE
    schema: ClassVar[Mapping[str, Any]] = model.SCHEMA
    has_secrets: ClassVar[bool] = True
    config: ClassVar[ResourceConfig] = ResourceConfig(
        base_path=ACCOUNTS,
        list_key="data",
        id_key=model.CONFIG_ID,
        permissions={"read": READ, "create": MANAGE, "delete": MANAGE, "update": EDIT},
        permission_purposes={MANAGE: "add or remove AWS accounts", EDIT: "edit AWS accounts"},
        noun="account(s)",
    )

    def __init__(self, ctx: RunContext, secrets: AwsSecrets | None = None):
        super().__init__(ctx, secrets if secrets is not None else AwsSecrets())
        self.issued = {}
        self.journal = handoff.Journal(ctx.sidechannel.journal(handoff.JOURNAL_FILE))
        # Concurrent writes only when asked for explicitly (--max-workers-per-type integrations=N).
        self.mode = WriteMode(concurrent=self.resource_type in ctx.config.max_workers_per_type, log=self.log)

    @classmethod
    def variant(cls, config: Any) -> type[SubtypeResource]:
        return AwsV1Subtype if getattr(config, "integrations_aws_api", V2) == V1 else cls

    @classmethod
    def variants(cls) -> tuple[type[SubtypeResource], ...]:
        return (cls, AwsV1Subtype)

    @classmethod
    def parse_secrets(cls, section: Any, path: Path | None) -> AwsSecrets:
        return aws_secrets.parse(section, path)

    # ------------------------------------------------------------------------------------------- import
    async def list_resources(self, client: Client) -> list[dict]:
        """The org's accounts as v2 list items tagged ``name: aws``: one request."""
        return [{**item, "name": self.subtype} for item in await AwsV2Api(client).list_accounts()]

    def key_of(self, raw: dict) -> str | None:
        account_id = (raw.get("attributes") or {}).get(model.AWS_ACCOUNT_ID)
        return f"{self.subtype}:{account_id}" if account_id else None

    def preview(self, raw: dict) -> dict:
        return model.from_api(raw)

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        obj = self.preview(raw)
        if client is not None and client is self.ctx.destination:  # reset: the destination's own object
            obj = self._with_destination_ids(obj, raw)
        return model.state_key(obj), obj

    @staticmethod
    def _with_destination_ids(obj: dict, raw: Mapping) -> dict:
        obj = {**obj, model.CONFIG_ID: raw.get("id")}
        external_id = model.live_external_id(raw)
        if external_id and not model.is_key_account(obj):
            obj[model.EXTERNAL_ID] = external_id
        return model.ordered(obj)

    # --------------------------------------------------------------------------------------------- plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        return model.problems(key, obj)

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        """List the destination once and match accounts by AWS account id (v1-written key-account entries by
        access key id), so drift shows, nothing is created twice, and v1-written state is taken over."""
        if client is None:
            return {k: model.normalize(v) for k, v in destination_state.items() if not model.is_v1_shaped(v)}
        listed = await AwsV2Api(client).list_accounts()
        by_account = {str((i.get("attributes") or {}).get(model.AWS_ACCOUNT_ID)): n for n, i in enumerate(listed)}
        by_access_key = {model.access_key_id(i.get("attributes") or {}): n for n, i in enumerate(listed)}
        items: list[dict | None] = list(listed)
        del listed
        converted: dict[int, dict] = {}

        def live(index: int) -> dict:
            """The listed account in the stored shape; its raw item is dropped once converted, so the listing
            and its conversion are not both held whole (at 10,000 accounts, about 40 MB each)."""
            if index in converted:
                return model.ordered(converted[index])  # matched twice (v1 and v2 keys): its own top level
            item = items[index] or {}
            items[index] = None
            converted[index] = obj = self._with_destination_ids(model.from_api(item), item)
            return obj

        claimed = set(source) | set(self.ctx.state.source.get(self.resource_type, {}))
        journal: dict[tuple[str, str], str | None] | None = None
        current: dict[str, dict] = {}
        for key in {**destination_state, **source}:
            ref = source.get(key) or destination_state.get(key)
            index = _match(ref, by_account, by_access_key) if isinstance(ref, Mapping) else None
            if index is None:
                continue
            obj = live(index)
            new_key = model.state_key(obj)
            if key != new_key and new_key in claimed:
                current[key] = Superseded(
                    new_key, f"now kept under {new_key}: v2 keys every account by its AWS account id"
                )
                continue
            known = destination_state.get(key)
            known_id = known.get(model.EXTERNAL_ID) if isinstance(known, Mapping) else None
            external_id = obj.get(model.EXTERNAL_ID)
            unrecorded = known_id == model.LOST_EXTERNAL_ID
            if external_id and not known_id:
                if journal is None:
                    journal = handoff.journal_load(self.ctx.config.destination_resources_path)
                account = (obj[model.AWS_ACCOUNT_ID], model.role_name(obj) or "")
                unrecorded = account in journal and journal[account] is None
            if unrecorded and external_id:
                current[key] = Unrecorded(obj, external_id)
            elif isinstance(known, dict) and known == obj:
                # Unchanged since the last sync: its state entry stands for it, and the listed copy is dropped.
                current[key] = converted[index] = known
            else:
                current[key] = obj
        return current

    def share_state(self, source: Mapping[str, Any], destination: Mapping[str, Any]) -> None:
        """Stored accounts are never changed in place (``normalize``, ``owned`` and the payloads copy what they
        change), so a destination entry shares every setting equal to its source entry's: at 10,000 accounts
        destination state then holds ~8 instead of ~41 MB."""
        for key, stored in destination.items():
            mine = source.get(key)
            if isinstance(stored, dict) and isinstance(mine, Mapping):
                share_fields(stored, mine)

    def secret_names(self, obj: dict) -> list[str]:
        """A key account needs its access key id's secret (state of either generation)."""
        if model.is_v1_shaped(obj):
            return AwsV1Subtype.secret_names(self, obj)  # type: ignore[arg-type]
        key_id = model.access_key_id(obj)
        return [key_id] if key_id and model.is_key_account(obj) else []

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        """A key account whose write needs its secret, and the secrets file lacks it, is planned as a skip."""
        if model.is_key_account(desired) and self._needs_secret(desired, current):
            access_key_id = model.access_key_id(desired) or ""
            if not self.secrets.aws_key(access_key_id):
                return missing_aws_secret_message(access_key_id)
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        differences = model.differences(current, desired)
        if isinstance(current, Unrecorded):
            # This tool created the account but never recorded its external id: v2 reads it (never shown).
            differences.append(Difference(model.EXTERNAL_ID, "changed", "(never received)", "(read from Datadog)"))
        return differences

    def update_note(self, key: str, desired: dict, current: dict) -> str:
        return REPLACE_NOTE if model.auth_switch(current, desired) else ""

    def redacted(self, obj: dict) -> dict:
        out = {k: v for k, v in obj.items() if k not in (model.EXTERNAL_ID, model.SECRET)}
        auth = out.get(model.AUTH)
        if isinstance(auth, Mapping):
            out[model.AUTH] = {k: v for k, v in auth.items() if k not in (model.EXTERNAL_ID, model.SECRET)}
        return out

    # -------------------------------------------------------------------------------------------- apply
    def write_actions(self, change: Change) -> tuple[str, ...]:
        """A replace (role <-> key auth) deletes and creates: it needs the manage permission."""
        if change.action == "update" and change.current and model.auth_switch(change.current, change.desired or {}):
            return ("delete", "create")
        return super().write_actions(change)

    def same_object(self, stored: Mapping, deleted: Mapping) -> bool:
        """A state entry of either API generation naming the deleted account (by config id, AWS account id or,
        for a v1 key account, access key id)."""
        if stored.get(model.CONFIG_ID) and stored.get(model.CONFIG_ID) == deleted.get(model.CONFIG_ID):
            return True
        account_id = deleted.get(model.AWS_ACCOUNT_ID)
        if account_id and account_id in (stored.get(model.AWS_ACCOUNT_ID), stored.get(model.ACCOUNT_ID)):
            return True
        access_key_id = model.access_key_id(deleted)
        return bool(access_key_id) and stored.get(model.ACCESS_KEY_ID) == access_key_id

    def after_apply(self, changes: list[Change]) -> None:
        handoff.report(self.ctx, self.log, self.issued)

    def after_reset(self, deleted: list[str]) -> None:
        handoff.forget(self.ctx.sidechannel, deleted)


def _match(ref: Mapping, by_account: Mapping[str, int], by_access_key: Mapping[Any, int]) -> int | None:
    """The live account a state entry of either generation names: v2 entries and v1 role entries by AWS account
    id, v1 key entries by access key id (v1 never had a key account's AWS account id)."""
    if model.is_v1_shaped(ref):
        if ref.get(model.ACCESS_KEY_ID) and not ref.get(model.ROLE_NAME):
            return by_access_key.get(str(ref[model.ACCESS_KEY_ID]))
        return by_account.get(str(ref.get(model.ACCOUNT_ID)))
    return by_account.get(str(ref.get(model.AWS_ACCOUNT_ID)))

"""Calls to the v2 AWS accounts API (https://docs.datadoghq.com/api/latest/aws-integration/, v2 endpoints):
``/api/v2/integration/aws/accounts`` and ``/accounts/{config id}``.

Writes are serialized per org by default, with the v1 subtype's ``aws-integration`` client lock: v1 rejects
overlapping writes (409 "Could not update AWS Integration due to conflicting updates", TF GH#2066), and whether v2
shares that 409 is not established. Reads take no lock. ``--max-workers-per-type integrations=N`` (given
explicitly) lets up to N writes run at once (the per-plugin cap bounds them); the first "conflicting updates" 409
then switches the rest of the run back to serialized writes, with one warning, and the refused write is retried
under the lock, so nothing fails for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from datadog_sync.http.errors import HTTPError
from datadog_sync.jsonshare import share_strings
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.aws.api import EDIT, LOCK, MANAGE, READ, is_conflict
from datadog_sync.resources.integrations.common import not_an_answer

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import ResourceLogger
    from datadog_sync.http.client import Client

BASE = "/api/v2/integration/aws"
ACCOUNTS = f"{BASE}/accounts"

__all__ = ["ACCOUNTS", "EDIT", "MANAGE", "READ", "AwsV2Api", "WriteMode", "is_absent", "is_duplicate"]


def _text(err: HTTPError) -> str:
    return " ".join(err.messages).lower()


def is_duplicate(err: HTTPError) -> bool:
    """409 "Account already exists" (cassette test_create_an_aws_integration_returns_conflict_response)."""
    return err.status == 409 and not is_conflict(err)


def is_absent(err: HTTPError) -> bool:
    """404 "Account not found" (cassette test_delete_an_aws_integration_returns_not_found_response)."""
    return err.status == 404


class WriteMode:
    """How one run's v2 writes to the destination go: serialized (the default), or concurrent until the first
    "conflicting updates" 409, after which they are serialized for the rest of the run."""

    def __init__(self, concurrent: bool, log: ResourceLogger | None = None):
        self.serialized = not concurrent
        self.log = log

    def fall_back(self, err: HTTPError) -> None:
        if self.serialized:
            return
        self.serialized = True
        if self.log is not None:
            self.log.warning(
                "the destination refused overlapping AWS integration writes (%s): serializing the rest of this "
                "run's AWS writes and retrying the refused one",
                "; ".join(err.messages) or err.status,
            )


class AwsV2Api:
    def __init__(self, client: Client, mode: WriteMode | None = None):
        self.client = client
        self.mode = mode or WriteMode(concurrent=False)

    # ---------------------------------------------------------------------------------------------- reads
    async def list_accounts(self, aws_account_id: str | None = None) -> list[dict]:
        """Every account of the org in one request (the API has no pagination), or the one with that id."""
        params = {"aws_account_id": aws_account_id} if aws_account_id else None
        body = await self.client.get(ACCOUNTS, params=params, permission=READ)
        if body is None:
            return []
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ResourceError(not_an_answer(self.client, ACCOUNTS, body, 'an object with a "data" list'))
        # Shared strings: 10,000 accounts repeat the same regions, namespaces and sources (see jsonshare).
        return [share_strings(item) for item in body["data"] if isinstance(item, dict)]

    # --------------------------------------------------------------------------------------------- writes
    async def _write(self, method: str, path: str, permission: str, **kw: Any) -> Any:
        if self.mode.serialized:
            # The lock is held only while an attempt is on the wire (see AwsV1Api._write).
            return await self.client.request(
                method,
                path,
                permission=permission,
                retry_on=is_conflict,
                idempotent=True,
                exclusive=self.client.lock(LOCK),
                **kw,
            )
        try:
            return await self.client.request(method, path, permission=permission, idempotent=True, **kw)
        except HTTPError as err:
            if not is_conflict(err):
                raise
            self.mode.fall_back(err)
            uncertain = err.earlier_attempt_may_have_applied
        try:
            return await self._write(method, path, permission, **kw)
        except HTTPError as err:
            # One request to the caller: an attempt before the fall-back may have been applied too.
            err.earlier_attempt_may_have_applied = err.earlier_attempt_may_have_applied or uncertain
            raise

    async def create_account(self, payload: dict, on_attempt: Callable[[str], None] | None = None) -> dict:
        """The created account (``data``). idempotent=True: a create whose response was lost is retried, and the
        retry's 409 "Account already exists" is turned into an adoption by the caller."""
        body = await self._write("POST", ACCOUNTS, MANAGE, json=payload, on_attempt=on_attempt)
        return _data(body)

    async def update_account(self, config_id: str, payload: dict) -> dict:
        return _data(await self._write("PATCH", f"{ACCOUNTS}/{config_id}", EDIT, json=payload))

    async def delete_account(self, config_id: str) -> None:
        await self._write("DELETE", f"{ACCOUNTS}/{config_id}", MANAGE)


def _data(body: Any) -> dict:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}

"""Calls to the v1 AWS integration API (https://docs.datadoghq.com/api/latest/aws-integration/, v1 endpoints).

Writes to the AWS integration of one org are serialized with the client's ``aws-integration`` lock: Datadog
rejects concurrent ones (409 "Could not update AWS Integration due to conflicting updates", TF GH#2066), and
that 409 is retried. Reads take no lock, so listings and per-account filter reads run concurrently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from datadog_sync.http.errors import HTTPError
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations.common import not_an_answer

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

BASE = "/api/v1/integration/aws"
FILTERING = f"{BASE}/filtering"
LOGS = f"{BASE}/logs"
LOG_SERVICES = f"{BASE}/logs/services"
NEW_EXTERNAL_ID = f"{BASE}/generate_new_external_id"
LOCK = "aws-integration"

READ = "aws_configuration_read"
EDIT = "aws_configuration_edit"
MANAGE = "aws_configurations_manage"


def _text(err: HTTPError) -> str:
    return " ".join(err.messages).lower()


def is_conflict(err: HTTPError) -> bool:
    """409 "conflicting updates": another write to the org's AWS integration was in flight; retry it."""
    return err.status == 409 and "conflicting" in _text(err)


def is_duplicate(err: HTTPError) -> bool:
    """The account exists already (a create whose response was lost, or made by someone else meanwhile)."""
    if err.status == 409 and not is_conflict(err):
        return True
    return err.status == 400 and "already exist" in _text(err)


def is_absent(err: HTTPError) -> bool:
    """400 "AWS account <id> does not exist in integration" as recorded (cassettes
    test_delete_an_aws_integration_returns_ok_response, TestAccDatadogIntegrationAwsTagFilter_Basic); 404 as well."""
    return err.status == 404 or (err.status == 400 and "does not exist" in _text(err))


class AwsV1Api:
    def __init__(self, client: Client):
        self.client = client

    # ---------------------------------------------------------------------------------------------- reads
    async def list_accounts(self, **params: str) -> list[dict]:
        try:
            body = await self.client.get(BASE, params=params or None, permission=READ)
        except HTTPError as err:
            if err.status == 400:  # the integration is not installed in this org (TF treats it so)
                return []
            raise
        if not isinstance(body, dict) or not isinstance(body.get("accounts"), list):
            raise ResourceError(not_an_answer(self.client, BASE, body, 'an object with an "accounts" list'))
        return list(body["accounts"])

    async def list_logs(self) -> list[dict]:
        try:
            body = await self.client.get(LOGS, permission=READ)
        except HTTPError as err:
            if err.status == 400:
                return []
            raise
        if body is None:  # an empty answer: no log collection configured
            return []
        if not isinstance(body, list):
            raise ResourceError(not_an_answer(self.client, LOGS, body, "a list"))
        return body

    async def tag_filters(self, account_id: str) -> Any:
        try:
            return await self.client.get(FILTERING, params={"account_id": account_id}, permission=READ)
        except HTTPError as err:
            if is_absent(err):  # deleted between the listing and this read
                return {"filters": []}
            raise

    # --------------------------------------------------------------------------------------------- writes
    async def _write(self, method: str, path: str, permission: str, **kw: Any) -> Any:
        # The lock is held only while an attempt is on the wire: a write backing off (5xx, 429) does not
        # hold up the org's other writes, and no two writes ever overlap.
        return await self.client.request(
            method,
            path,
            permission=permission,
            retry_on=is_conflict,
            idempotent=True,
            exclusive=self.client.lock(LOCK),
            **kw,
        )

    async def create_account(self, payload: dict, on_attempt: Callable[[str], None] | None = None) -> dict:
        # idempotent=True: a create whose response was lost is retried; the retry answers "duplicate",
        # which the caller turns into an update of the account it just made.
        return await self._write("POST", BASE, MANAGE, json=payload, on_attempt=on_attempt) or {}

    async def update_account(self, selector: dict, payload: dict) -> None:
        await self._write("PUT", BASE, EDIT, params=selector, json=payload)

    async def delete_account(self, payload: dict) -> None:
        await self._write("DELETE", BASE, MANAGE, json=payload)

    async def generate_new_external_id(self, account_id: str, role_name: str) -> str | None:
        body = await self._write("PUT", NEW_EXTERNAL_ID, EDIT, json={"account_id": account_id, "role_name": role_name})
        return (body or {}).get("external_id")

    async def put_tag_filter(self, payload: dict) -> None:
        await self._write("POST", FILTERING, EDIT, json=payload)

    async def delete_tag_filter(self, payload: dict) -> None:
        await self._write("DELETE", FILTERING, EDIT, json=payload)

    async def add_lambda_arn(self, payload: dict) -> None:
        _check_status(await self._write("POST", LOGS, EDIT, json=payload), payload)

    async def remove_lambda_arn(self, payload: dict) -> None:
        _check_status(await self._write("DELETE", LOGS, EDIT, json=payload), payload)

    async def set_log_services(self, payload: dict) -> None:
        _check_status(await self._write("POST", LOG_SERVICES, EDIT, json=payload), payload)


def _check_status(body: Any, payload: dict) -> None:
    """The logs endpoints may answer 200 ``{"status": "error"}`` (TF checks for it)."""
    if isinstance(body, dict) and body.get("status") == "error":
        detail = "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in body.get("errors") or []
        )
        raise ResourceError(f"the logs API refused {payload}: {detail or 'status error'}")

"""The orgs of an account-based service subtype's cassette tests (fastly, cloudflare, confluent_cloud, okta), read
and written through the real HTTP client and the subtype's own API paths (recorded like the CLI's requests)."""

from __future__ import annotations

import asyncio
import json

from datadog_sync.http.client import Client
from datadog_sync.http.retry import RetryPolicy
from datadog_sync.resources.integrations.v2_accounts import AccountsApi, AccountsSubtype
from tests.integration.helpers import Orgs


class AccountOrgs(Orgs):
    """``subtype``'s accounts in both orgs. ``accounts`` are ``(stored object, secret)`` pairs in the seeds."""

    subtype: type[AccountsSubtype]

    def _api(self, org: str, work):
        async def go():
            api_key, app_key = self.keys[org]
            policy = RetryPolicy(retry_timeout=30, backoff_base=0.05, backoff_max=1)
            async with Client(self.urls[org], api_key=api_key, app_key=app_key, org=org, retry=policy) as client:
                return await work(AccountsApi(client, self.subtype.path, self.subtype.children))

        return asyncio.run(go())

    def _plugin(self) -> AccountsSubtype:
        return self.subtype.__new__(self.subtype)  # the pure model hooks only: no run context needed

    def accounts(self, org: str = "destination") -> dict[str, dict]:
        plugin = self._plugin()

        async def work(api: AccountsApi):
            return {plugin.state_key(o): o for o in map(plugin.from_api, await api.list_accounts())}

        return self._api(org, work)

    def seed(self, org: str, *accounts: tuple[dict, str]) -> None:
        plugin = self._plugin()

        async def work(api: AccountsApi):
            for obj, secret in accounts:
                await api.create_account(plugin.create_payload(obj, secret))

        self._api(org, work)

    def wipe(self, org: str) -> None:
        async def work(api: AccountsApi):
            for item in await api.list_accounts():
                await api.delete_account(item["id"])

        self._api(org, work)

    def secrets(self, *accounts: tuple[dict, str]) -> dict[str, str]:
        plugin = self._plugin()
        path = self.tmp_path / "secrets.json"
        path.write_text(json.dumps({self.subtype.subtype: {plugin.natural(o): s for o, s in accounts}}))
        path.chmod(0o600)
        return {"DD_INTEGRATIONS_SECRETS_FILE": str(path)}


def same(a: dict, b: dict) -> bool:
    """Equal stored objects but for the per-org account id."""
    strip = lambda objs: {k: {f: v for f, v in o.items() if f != "id"} for k, o in objs.items()}  # noqa: E731
    return strip(a) == strip(b)

"""The orgs of an account-based service subtype's cassette tests (fastly, cloudflare, confluent_cloud, okta), read
and written through the real HTTP client and the subtype's own API paths (recorded like the CLI's requests)."""

from __future__ import annotations

from datadog_sync.http.client import Client
from datadog_sync.resources.integrations.v2_accounts import AccountsApi, AccountsSubtype
from tests.integration.helpers import Orgs


class AccountOrgs(Orgs):
    """``subtype``'s accounts in both orgs. ``accounts`` are ``(stored object, secret)`` pairs in the seeds."""

    subtype: type[AccountsSubtype]

    def make_api(self, client: Client) -> AccountsApi:
        return AccountsApi(client, self.subtype.path, self.subtype.children)

    def _plugin(self) -> AccountsSubtype:
        return self.subtype.__new__(self.subtype)  # the pure model hooks only: no run context needed

    def accounts(self, org: str = "destination") -> dict[str, dict]:
        plugin = self._plugin()

        async def work(api: AccountsApi):
            return {plugin.state_key(o): o for o in map(plugin.from_api, await api.list_accounts())}

        return self._run(org, work)

    def seed(self, org: str, *accounts: tuple[dict, str]) -> None:
        plugin = self._plugin()

        async def work(api: AccountsApi):
            for obj, secret in accounts:
                await api.create_account(plugin.create_payload(obj, secret))

        self._run(org, work)

    def wipe(self, org: str) -> None:
        async def work(api: AccountsApi):
            for item in await api.list_accounts():
                await api.delete_account(item["id"])

        self._run(org, work)

    def secrets(self, *accounts: tuple[dict, str]) -> dict[str, str]:
        plugin = self._plugin()
        return self.write_secrets({self.subtype.subtype: {plugin.natural(o): s for o, s in accounts}})

    def first_sync(self, *accounts: tuple[dict, str]) -> tuple[list[tuple[str, str]], dict[str, str]]:
        """``accounts`` seeded in the source and imported, then a sync with their secrets, which must succeed: the
        destination writes it made, and the secrets' environment."""
        self.seed("source", *accounts)
        env = self.secrets(*accounts)
        assert self.cli("import").exit_code == 0
        mark = self.mark()
        result = self.cli("sync", **env)
        assert result.exit_code == 0, result.stderr
        return self.writes_since(mark), env


def same(a: dict, b: dict) -> bool:
    """Equal stored objects but for the per-org account id."""
    strip = lambda objs: {k: {f: v for f, v in o.items() if f != "id"} for k, o in objs.items()}  # noqa: E731
    return strip(a) == strip(b)

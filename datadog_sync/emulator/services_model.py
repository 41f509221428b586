"""The per-org store of the service integrations (webhooks, PagerDuty, Slack, Opsgenie, Microsoft Teams, Fastly,
Cloudflare, Confluent Cloud, Okta) and of the monitors whose messages name their handles.

Plain JSON values keyed the way each API addresses them. Secrets (`service_key`, `opsgenie_api_key`, `api_key`,
`api_secret`, `client_secret`, secret custom-variable values, Workflows URLs) are stored, shown by the admin dump
(so tests can check what a sync sent) and never by the API. The seed/dump shape is documented in docs/emulator.md.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from datadog_sync.emulator.state import InvalidField

#: The payload the server fills in when a webhook is created without one (recorded in
#: datadog-api-client-python `test_create_a_webhooks_integration_returns_ok_response` and TF `TestAccDatadogWebhook_Basic`).
DEFAULT_PAYLOAD = (
    '{"body": "$EVENT_MSG", "last_updated": "$LAST_UPDATED", "event_type": "$EVENT_TYPE", "title": "$EVENT_TITLE", '
    '"date": "$DATE", "org": {"id": "$ORG_ID", "name": "$ORG_NAME"}, "id": "$ID"}'
)
SLACK_DISPLAY = ("message", "mute_buttons", "notified", "snapshot", "tags")
#: What Datadog's spec gives as the `display` defaults (SlackIntegrationChannelDisplay); omitted flags take these.
SLACK_DEFAULTS = {"message": True, "mute_buttons": False, "notified": True, "snapshot": True, "tags": True}

#: Keys of the "services" seed object: each a list of JSON objects (see docs/emulator.md).
LIST_KEYS = (
    "webhooks",
    "custom_variables",
    "auth_methods",
    "opsgenie",
    "tenant_handles",
    "workflows_handles",
    "fastly",
    "cloudflare",
    "confluent_cloud",
    "okta",
)
#: What each list item must carry (and its type) when seeded.
REQUIRED: dict[str, tuple[str, ...]] = {
    "webhooks": ("name", "url"),
    "custom_variables": ("name", "value"),
    "auth_methods": ("id", "name", "access_token_url", "client_id", "client_secret"),
    "opsgenie": ("id", "name", "region"),
    "tenant_handles": ("id", "name", "tenant_id", "team_id", "channel_id"),
    "workflows_handles": ("id", "name", "url"),
    "fastly": ("id", "name"),
    "cloudflare": ("id", "name"),
    "confluent_cloud": ("id", "api_key"),
    "okta": ("id", "name", "domain", "auth_method"),
}


def _check_list(key: str, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidField(f"services.{key} must be a list of objects")
    for item in value:
        missing = [k for k in REQUIRED[key] if not isinstance(item.get(k), str) or not item.get(k)]
        if missing:
            raise InvalidField(f"services.{key}: each item needs the string fields {list(REQUIRED[key])}")
    ids = [v.get("id", v.get("name")) for v in value]
    if len(ids) != len(set(ids)):
        raise InvalidField(f"services.{key}: duplicate ids or names")
    return copy.deepcopy(value)


@dataclass
class ServiceIntegrations:
    """One org's service integrations. Lists keep insertion order (what the list endpoints answer)."""

    webhooks: list[dict[str, Any]] = field(default_factory=list)  # {name, url, payload, custom_headers, encode_as}
    custom_variables: list[dict[str, Any]] = field(default_factory=list)  # {name, value, is_secret}
    # OAuth2 client-credentials auth methods: {id, name, access_token_url, client_id, client_secret, scope, audience}
    auth_methods: list[dict[str, Any]] = field(default_factory=list)
    # Legacy whole config: {subdomain, schedules, api_token} and services [{service_name, service_key}]
    pagerduty: dict[str, Any] = field(default_factory=dict)
    pagerduty_services: list[dict[str, Any]] = field(default_factory=list)
    # Slack workspaces installed (UI-only in Datadog) -> their channels [{name, display}]
    slack: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    opsgenie: list[dict[str, Any]] = field(default_factory=list)  # {id, name, region, custom_url, opsgenie_api_key}
    # Microsoft tenants connected (UI-only): [{tenant_id, tenant_name, teams: [{team_id, team_name,
    # channels: [{channel_id, channel_name, is_primary}]}]}]
    ms_teams_tenants: list[dict[str, Any]] = field(default_factory=list)
    tenant_handles: list[dict[str, Any]] = field(default_factory=list)  # {id, name, tenant_id, team_id, channel_id}
    workflows_handles: list[dict[str, Any]] = field(default_factory=list)  # {id, name, url}
    fastly: list[dict[str, Any]] = field(default_factory=list)  # {id, name, api_key, services: [{id, tags}]}
    cloudflare: list[dict[str, Any]] = field(default_factory=list)  # {id, name, api_key, email, resources, zones}
    confluent_cloud: list[dict[str, Any]] = field(default_factory=list)  # {id, api_key, api_secret, tags, resources}
    okta: list[dict[str, Any]] = field(default_factory=list)  # {id, name, domain, auth_method, client_id, ...}
    okta_retired: set[str] = field(default_factory=set)  # ids an Okta PATCH replaced (see services_accounts.py)
    api_date: str | None = None  # as for GCP and Azure: answers show the fields the API showed that day

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: copy.deepcopy(getattr(self, k)) for k in LIST_KEYS if getattr(self, k)}
        if self.pagerduty or self.pagerduty_services:
            out["pagerduty"] = {**copy.deepcopy(self.pagerduty), "services": copy.deepcopy(self.pagerduty_services)}
        if self.slack:
            out["slack"] = copy.deepcopy(self.slack)
        if self.ms_teams_tenants:
            out["ms_teams_tenants"] = copy.deepcopy(self.ms_teams_tenants)
        if self.api_date:
            out["api_date"] = self.api_date
        return out

    @classmethod
    def from_json(cls, data: Any) -> ServiceIntegrations:
        if data is None:
            return cls()
        known = set(LIST_KEYS) | {"pagerduty", "slack", "ms_teams_tenants", "api_date"}
        if not isinstance(data, dict) or set(data) - known:
            raise InvalidField(f"services must be an object whose keys are among {sorted(known)}")
        store = cls()
        for key in LIST_KEYS:
            setattr(store, key, _check_list(key, data.get(key)))
        if data.get("api_date") is not None and not isinstance(data["api_date"], str):
            raise InvalidField("services.api_date must be a YYYY-MM-DD string")
        store.api_date = data.get("api_date")
        for hook in store.webhooks:
            hook.setdefault("payload", DEFAULT_PAYLOAD)
            hook.setdefault("custom_headers", None)
            hook.setdefault("encode_as", "json")
        for var in store.custom_variables:
            var.setdefault("is_secret", False)
        for method in store.auth_methods:
            method.setdefault("scope", None)
            method.setdefault("audience", None)
        for service in store.opsgenie:
            service.setdefault("custom_url", None)
        for account in store.fastly:
            account.setdefault("services", [])
        for account in store.cloudflare:
            account.setdefault("email", "")
            account.setdefault("resources", [])
            account.setdefault("zones", [])
        for account in store.confluent_cloud:
            account.setdefault("tags", [])
            account.setdefault("resources", [])
            for resource in account["resources"]:
                resource.setdefault("enable_custom_metrics", False)
                resource["tags"] = [t.lower() for t in resource.get("tags", [])]
        pd = data.get("pagerduty") or {}
        if not isinstance(pd, dict) or not isinstance(pd.get("services", []), list):
            raise InvalidField("services.pagerduty must be an object with an optional list 'services'")
        pd = copy.deepcopy(pd)
        services = pd.pop("services", [])
        if not all(isinstance(s, dict) and isinstance(s.get("service_name"), str) for s in services):
            raise InvalidField("services.pagerduty.services: each item needs service_name (and service_key)")
        store.pagerduty, store.pagerduty_services = pd, services
        slack = data.get("slack") or {}
        if not isinstance(slack, dict) or not all(isinstance(v, list) for v in slack.values()):
            raise InvalidField("services.slack must map account names to lists of channels")
        store.slack = {
            account: [
                {"name": c["name"], "display": {**SLACK_DEFAULTS, **(c.get("display") or {})}}
                for c in channels
                if isinstance(c, dict) and isinstance(c.get("name"), str)
            ]
            for account, channels in slack.items()
        }
        tenants = data.get("ms_teams_tenants") or []
        if not isinstance(tenants, list) or not all(
            isinstance(t, dict) and isinstance(t.get("tenant_id"), str) for t in tenants
        ):
            raise InvalidField("services.ms_teams_tenants must be a list of objects with tenant_id")
        store.ms_teams_tenants = copy.deepcopy(tenants)
        return store

    # --- look-ups -------------------------------------------------------------------------------------------------

    @staticmethod
    def by_id(items: list[dict[str, Any]], item_id: str) -> dict[str, Any] | None:
        return next((i for i in items if i.get("id") == item_id), None)

    @staticmethod
    def by_name(items: list[dict[str, Any]], name: str, key: str = "name") -> dict[str, Any] | None:
        return next((i for i in items if i.get(key) == name), None)

    def tenant_names(self, tenant_id: str, team_id: str, channel_id: str) -> dict[str, str] | None:
        """The human-readable names of a connected (tenant, team, channel), or None when not connected."""
        for tenant in self.ms_teams_tenants:
            if tenant["tenant_id"] != tenant_id:
                continue
            for team in tenant.get("teams", []):
                if team.get("team_id") != team_id:
                    continue
                for channel in team.get("channels", []):
                    if channel.get("channel_id") == channel_id:
                        return {
                            "tenant_name": tenant.get("tenant_name", ""),
                            "team_name": team.get("team_name", ""),
                            "channel_name": channel.get("channel_name", ""),
                        }
        return None


def check_monitors(value: Any) -> list[dict[str, Any]]:
    """Seeded monitors: objects with at least `name` and `message`; ids are given in order when absent."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("message", ""), str) for m in value
    ):
        raise InvalidField("monitors must be a list of objects with a string name and message")
    out = []
    for n, monitor in enumerate(copy.deepcopy(value), start=1):
        monitor.setdefault("id", n)
        monitor.setdefault("type", "metric alert")
        monitor.setdefault("query", "avg(last_5m):avg:system.cpu.user{*} > 90")
        monitor.setdefault("message", "")
        monitor.setdefault("tags", [])
        monitor.setdefault("options", {})
        monitor.setdefault("priority", None)
        monitor.setdefault("overall_state", "OK")
        out.append(monitor)
    return out

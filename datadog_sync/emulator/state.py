"""The emulated org model: who an org is (keys, permissions, DDR status) and what its AWS integration holds.

This module knows nothing about HTTP. It owns the one JSON format used both to seed an org and to dump it
(documented in docs/emulator.md), and the field validation shared by the seed loader and the API handlers.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from datadog_sync.emulator.aws_catalog import FILTER_NAMESPACES as FILTER_NAMESPACES
from datadog_sync.emulator.aws_catalog import LOG_SERVICE_IDS as LOG_SERVICE_IDS
from datadog_sync.emulator.aws_catalog import LOG_SERVICES as LOG_SERVICES
from datadog_sync.emulator.aws_catalog import NAMESPACE_RULES as NAMESPACE_RULES
from datadog_sync.emulator.aws_catalog import V2_LOGS_SERVICES
from datadog_sync.emulator.permissions import DEFAULT_PERMISSIONS

if TYPE_CHECKING:  # imported lazily below: both modules use InvalidField from here
    from datadog_sync.emulator.azure_model import AzureIntegration
    from datadog_sync.emulator.gcp_model import GcpIntegration
    from datadog_sync.emulator.services_model import ServiceIntegrations

DDR_PASSIVE = 2

# Settable AWSAccount fields: name -> (kind, default). Kinds are checked by `check_field`.
SETTINGS: dict[str, tuple[str, Any]] = {
    "filter_tags": ("str_list", []),
    "host_tags": ("str_list", []),
    "account_specific_namespace_rules": ("bool_map", {}),
    "excluded_regions": ("str_list", []),
    "metrics_collection_enabled": ("bool", True),
    "resource_collection_enabled": ("bool", False),
    "extended_resource_collection_enabled": ("bool", False),
    "cspm_resource_collection_enabled": ("bool", False),
}
# Key order of a real GET list element (TestAccDatadogIntegrationAWS cassette); `errors` sits in the middle.
_LISTED_ORDER = (
    "filter_tags",
    "host_tags",
    "account_specific_namespace_rules",
    "excluded_regions",
    "metrics_collection_enabled",
    "errors",
    "cspm_resource_collection_enabled",
    "extended_resource_collection_enabled",
    "resource_collection_enabled",
)


_IDENTITY = ("account_id", "role_name", "access_key_id", "secret_access_key", "external_id")
# What only the v2 API shows (see aws_v2_model.py); seeded and dumped as is.
_V2_KEYS = ("config_id", "aws_partition", "created_at", "modified_at", "v2")
ACCOUNT_KEYS: frozenset[str] = (
    frozenset(_IDENTITY) | frozenset(SETTINGS) | frozenset(_V2_KEYS) | {"errors", "tag_filters", "logs"}
)


class InvalidField(ValueError):
    """A request or seed field has the wrong type; the message is what the API returns."""


def check_field(name: str, kind: str, value: Any) -> Any:
    """Validate one field and return a private copy of it."""
    if kind == "str":
        if not isinstance(value, str) or not value:
            raise InvalidField(f"Invalid value for '{name}': expected a non-empty string")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidField(f"Invalid value for '{name}': expected a boolean")
        return value
    if kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidField(f"Invalid value for '{name}': expected a list of strings")
        return list(value)
    if kind == "bool_map":
        if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
            raise InvalidField(f"Invalid value for '{name}': expected an object of booleans")
        return dict(value)
    raise AssertionError(kind)


def now_iso() -> str:
    """A v2 timestamp: RFC 3339, UTC, microseconds (as GET answers them)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_external_id() -> str:
    """32 lowercase hex characters, like the real ones."""
    return uuid.uuid4().hex


@dataclass
class AwsAccount:
    """One AWS account integration, seen by both API generations: a role account (account_id + role_name) or a
    key account (access_key_id)."""

    account_id: str | None = None
    role_name: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    external_id: str | None = None
    settings: dict[str, Any] = field(default_factory=lambda: {k: _copy(d) for k, (_, d) in SETTINGS.items()})
    errors: list[str] = field(default_factory=list)
    tag_filters: dict[str, str] = field(default_factory=dict)  # namespace -> tag_filter_str
    lambdas: list[str] = field(default_factory=list)
    log_services: list[str] = field(default_factory=list)
    # v2: the per-org config id, the partition, timestamps, and the v2-only settings (aws_v2_model.py).
    config_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    aws_partition: str = "aws"
    created_at: str = field(default_factory=now_iso)
    modified_at: str = ""
    v2: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.modified_at = self.modified_at or self.created_at

    @property
    def is_key_account(self) -> bool:
        return self.access_key_id is not None

    @property
    def identifier(self) -> str:
        """How /filtering and error messages name the account: access key id for key accounts."""
        return self.access_key_id if self.is_key_account else self.account_id  # type: ignore[return-value]

    @property
    def logs_id(self) -> str:
        """How /logs names the account: the numeric id sent with the key, or the key id if none was sent."""
        return self.account_id or self.access_key_id  # type: ignore[return-value]

    def apply_settings(self, body: dict[str, Any]) -> None:
        """Set every settable field present in `body`; absent ones are kept (see docs: PUT keeps omitted fields)."""
        for name, (kind, _) in SETTINGS.items():
            if name in body:
                self.settings[name] = check_field(name, kind, body[name])
        # A v1 write of a field that v2 shows differently makes the v1 value the one v2 derives its view from.
        if "excluded_regions" in body:
            self.v2.pop("aws_regions", None)
        if "account_specific_namespace_rules" in body:
            for name in ("namespace_filters", "collect_custom_metrics", "collect_cloudwatch_alarms"):
                self.v2.pop(name, None)

    def listed(self) -> dict[str, Any]:
        """The account as GET /api/v1/integration/aws shows it: never a secret nor the external id."""
        out: dict[str, Any] = (
            {"access_key_id": self.access_key_id}
            if self.is_key_account
            else {"account_id": self.account_id, "role_name": self.role_name}
        )
        for name in _LISTED_ORDER:
            out[name] = list(self.errors) if name == "errors" else _copy(self.settings[name])
        return out

    def has_logs_config(self) -> bool:
        return bool(self.lambdas or self.log_services)

    def logs_listed(self) -> dict[str, Any]:
        """One element of GET /logs, with the undocumented extra fields the real API adds."""
        return {
            "account_id": self.logs_id,
            "lambdas": [{"arn": arn} for arn in self.lambdas],
            "services": list(self.log_services),
            "services_with_triggers_present": [],
            "synced_by_service_id": [],
            "touched": False,
        }

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _IDENTITY:
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        out.update({k: _copy(v) for k, v in self.settings.items()})
        out["errors"] = list(self.errors)
        out["tag_filters"] = dict(self.tag_filters)
        out["logs"] = {"lambdas": list(self.lambdas), "services": list(self.log_services)}
        out.update({name: copy.deepcopy(getattr(self, name)) for name in _V2_KEYS})
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any], make_external_id: Callable[[], str] = new_external_id) -> AwsAccount:
        """Load a seeded account; raises InvalidField on a malformed entry."""
        if not isinstance(data, dict):
            raise InvalidField("each account must be an object")
        unknown = set(data) - ACCOUNT_KEYS
        if unknown:  # most likely a typo in a test seed: refuse rather than silently drop it
            raise InvalidField(f"unknown account fields: {sorted(unknown)}")
        acc = cls()
        for name in _IDENTITY:
            if data.get(name) is not None:
                setattr(acc, name, check_field(name, "str", data[name]))
        if acc.is_key_account:
            if acc.role_name is not None:
                raise InvalidField("an account has either role_name or access_key_id, not both")
            acc.external_id = None  # key accounts have no external id
        elif acc.account_id is None or acc.role_name is None:
            raise InvalidField("a role account needs account_id and role_name")
        elif acc.external_id is None:
            acc.external_id = make_external_id()
        acc.apply_settings(data)
        acc.errors = check_field("errors", "str_list", data.get("errors", []))
        filters = data.get("tag_filters", {})
        if not isinstance(filters, dict) or not all(isinstance(v, str) for v in filters.values()):
            raise InvalidField("tag_filters must map namespaces to strings")
        bad = set(filters) - set(FILTER_NAMESPACES)
        if bad:
            raise InvalidField(f"unknown tag filter namespaces: {sorted(bad)}")
        acc.tag_filters = dict(filters)
        logs = data.get("logs", {})
        if not isinstance(logs, dict):
            raise InvalidField("logs must be an object")
        acc.lambdas = check_field("logs.lambdas", "str_list", logs.get("lambdas", []))
        acc.log_services = check_field("logs.services", "str_list", logs.get("services", []))
        unknown = set(acc.log_services) - LOG_SERVICE_IDS - set(V2_LOGS_SERVICES)
        if unknown:
            raise InvalidField(f"unknown log services: {sorted(unknown)}")
        for name in _V2_KEYS[:-1]:
            if data.get(name) is not None:
                setattr(acc, name, check_field(name, "str", data[name]))
        if not isinstance(data.get("v2", {}), dict):
            raise InvalidField("v2 must be an object")
        acc.v2 = copy.deepcopy(data.get("v2", {}))
        return acc


@dataclass
class AwsIntegration:
    """All AWS data of one org, seen by both API generations. `accounts` keeps creation order (the listing order)."""

    accounts: list[AwsAccount] = field(default_factory=list)
    #: External IDs this org generated through v2 `generate_new_external_id`; a v2 create accepts these and the
    #: ones its accounts already use, nothing else (TF GH#2946, GH#2785: "must be generated by Datadog").
    external_ids: set[str] = field(default_factory=set)
    # TF treats a 400 on list as "integration not installed" (resource_datadog_integration_aws.go, Read);
    # False reproduces that.
    installed: bool = True
    #: Bumped by every change to `accounts` (see `changed`); the lookup indexes below follow it, so the
    #: per-account reads of a 10,000-account org cost O(1) instead of a scan each.
    version: int = 0
    _indexed_version: int = field(default=-1, repr=False, compare=False)
    _by_identifier: dict[str, AwsAccount] = field(default_factory=dict, repr=False, compare=False)
    _by_logs_id: dict[str, AwsAccount] = field(default_factory=dict, repr=False, compare=False)
    _by_config_id: dict[str, AwsAccount] = field(default_factory=dict, repr=False, compare=False)
    _by_key: dict[str | None, AwsAccount] = field(default_factory=dict, repr=False, compare=False)
    _position: dict[str, int] = field(default_factory=dict, repr=False, compare=False)  # config id -> list index
    _account_ids: dict[str | None, int] = field(default_factory=dict, repr=False, compare=False)  # id -> accounts

    def changed(self) -> None:
        """Call after adding, replacing or removing an account other than by `add` or `replace`."""
        self.version += 1

    def _index(self) -> None:
        if self._indexed_version == self.version:
            return
        self._by_identifier, self._by_logs_id, self._by_config_id, self._by_key = {}, {}, {}, {}
        self._position, self._account_ids = {}, {}
        for position, account in enumerate(self.accounts):
            self._add_to_index(position, account)
        self._indexed_version = self.version

    def _add_to_index(self, position: int, account: AwsAccount) -> None:
        # The first match wins, as a scan would find it (config ids are unique: the last one is the only one).
        self._by_config_id[account.config_id] = account
        self._position[account.config_id] = position
        self._by_identifier.setdefault(account.identifier, account)
        if account.logs_id:
            self._by_logs_id.setdefault(account.logs_id, account)
        self._by_key.setdefault(account.access_key_id, account)
        self._account_ids[account.account_id] = self._account_ids.get(account.account_id, 0) + 1

    def add(self, account: AwsAccount) -> None:
        """Append an account; the lookup indexes follow it without a rebuild (a create stays O(1) in a large org)."""
        fresh = self._indexed_version == self.version
        self.accounts.append(account)
        self.version += 1
        if fresh:
            self._add_to_index(len(self.accounts) - 1, account)
            self._indexed_version = self.version

    def replace(self, old: AwsAccount, new: AwsAccount) -> None:
        """Put `new` where `old` is (found by identity: `list.index` compares every field of every account)."""
        self._index()
        position = self._position.get(old.config_id)
        if position is None or self.accounts[position] is not old:
            position = next(i for i, a in enumerate(self.accounts) if a is old)
        self.accounts[position] = new
        self.version += 1

        def keys(a: AwsAccount) -> tuple:
            return a.config_id, a.identifier, a.logs_id, a.access_key_id, a.account_id

        if keys(old) == keys(new):  # same lookup keys: swap the entries, no rebuild
            lookups: list[tuple[dict[Any, AwsAccount], Any]] = [
                (self._by_config_id, new.config_id),
                (self._by_identifier, new.identifier),
                (self._by_logs_id, new.logs_id),
                (self._by_key, new.access_key_id),
            ]
            for index, key in lookups:
                if index.get(key) is old:
                    index[key] = new
            self._indexed_version = self.version

    def remove(self, account: AwsAccount) -> None:
        """Remove an account (by identity, like `replace`)."""
        self._index()
        position = self._position.get(account.config_id)
        if position is None or self.accounts[position] is not account:
            position = next(i for i, a in enumerate(self.accounts) if a is account)
        del self.accounts[position]
        self.version += 1

    def find_role(self, account_id: str | None) -> AwsAccount | None:
        return next((a for a in self.accounts if not a.is_key_account and a.account_id == account_id), None)

    def find_key(self, access_key_id: str | None) -> AwsAccount | None:
        self._index()
        return self._by_key.get(access_key_id)

    def find_for_filtering(self, account_id: str) -> AwsAccount | None:
        """Role accounts by account id, key accounts by access key id (recorded:
        TestAccDatadogIntegrationAwsTagFilter_BasicAccessKey cassette)."""
        self._index()
        return self._by_identifier.get(account_id)

    def find_for_logs(self, account_id: str) -> AwsAccount | None:
        """Role accounts by account id, key accounts by the numeric id sent at create time (recorded:
        TestAccDatadogIntegrationAWSLambdaArnAccessKey cassette)."""
        self._index()
        return self._by_logs_id.get(account_id)

    def find_config(self, config_id: str) -> AwsAccount | None:
        """v2: the account with this config id (a UUID, different in every org)."""
        self._index()
        return self._by_config_id.get(config_id)

    def external_id_valid(self, external_id: str) -> bool:
        return external_id in self.external_ids or any(a.external_id == external_id for a in self.accounts)

    def account_id_in_use(self, account_id: str | None, ignore: AwsAccount | None = None) -> bool:
        if account_id is None:
            return False
        self._index()
        count = self._account_ids.get(account_id, 0)
        if ignore is not None and ignore.account_id == account_id and self.find_config(ignore.config_id) is ignore:
            count -= 1
        return count > 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"installed": self.installed, "accounts": [a.to_json() for a in self.accounts]}
        if self.external_ids:
            out["external_ids"] = sorted(self.external_ids)
        return out

    @classmethod
    def from_json(
        cls, data: dict[str, Any] | None, make_external_id: Callable[[], str] = new_external_id
    ) -> AwsIntegration:
        data = data or {}
        if not isinstance(data, dict) or set(data) - {"installed", "accounts", "external_ids"}:
            raise InvalidField("aws must be an object with 'installed', 'accounts' and/or 'external_ids'")
        accounts = data.get("accounts", [])
        if not isinstance(accounts, list):
            raise InvalidField("aws.accounts must be a list")
        aws = cls(installed=check_field("installed", "bool", data.get("installed", True)))
        aws.external_ids = set(check_field("external_ids", "str_list", data.get("external_ids", [])))
        for raw in accounts:
            acc = AwsAccount.from_json(raw, make_external_id)
            duplicate = aws.find_config(acc.config_id) is not None
            if (
                duplicate
                or (acc.is_key_account and aws.find_key(acc.access_key_id))
                or aws.account_id_in_use(acc.account_id)
            ):
                raise InvalidField(f"duplicate account {acc.identifier}")
            aws.add(acc)
        aws.changed()
        return aws


@dataclass
class Org:
    """An emulated org: its credentials, its user's permissions, the app key's scopes, DDR status and data."""

    name: str
    api_key: str
    app_key: str
    permissions: set[str] = field(default_factory=lambda: set(DEFAULT_PERMISSIONS))
    app_key_scopes: list[str] | None = None  # None = unscoped key (inherits all the owner's permissions)
    ddr_status: int | None = DDR_PASSIVE
    aws: AwsIntegration = field(default_factory=AwsIntegration)
    gcp: GcpIntegration = field(default=None)  # type: ignore[assignment]  # set by __post_init__ (needs the name)
    azure: AzureIntegration = field(default=None)  # type: ignore[assignment]
    services: ServiceIntegrations = field(default=None)  # type: ignore[assignment]  # services_model.py
    monitors: list[dict[str, Any]] = field(default_factory=list)  # read-only: handles in messages (services_v1.py)
    # True while an AWS write holds the org's write slot (see app.py); a second write then gets 409.
    aws_write_busy: bool = False
    # Writes in flight per serialised service integration (Endpoint.serial): see app.py's _serial_writes.
    serial_writes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.wipe_clouds()

    def wipe_clouds(self) -> None:
        """Empty GCP and Azure stores (the GCP principal exists: see gcp.py)."""
        from datadog_sync.emulator.azure_model import AzureIntegration
        from datadog_sync.emulator.gcp_model import GcpIntegration
        from datadog_sync.emulator.services_model import ServiceIntegrations

        self.gcp, self.azure = GcpIntegration.from_json(None, self.name), AzureIntegration()
        self.services, self.monitors = ServiceIntegrations(), []

    @property
    def user_id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"emulator-user:{self.name}"))

    @property
    def app_key_id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"emulator-app-key:{self.name}:{self.app_key}"))

    @property
    def org_uuid(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"emulator-org:{self.name}"))

    def settings(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "api_key": self.api_key,
            "app_key": self.app_key,
            "permissions": sorted(self.permissions),
            "app_key_scopes": None if self.app_key_scopes is None else list(self.app_key_scopes),
            "ddr_status": self.ddr_status,
            "user_id": self.user_id,
        }

    def update_settings(self, data: dict[str, Any]) -> None:
        """Apply a partial settings update (admin API); validates everything before changing anything."""
        unknown = set(data) - {"permissions", "app_key_scopes", "ddr_status"}
        if unknown:
            raise InvalidField(f"unknown org settings: {sorted(unknown)}")
        perms = self.permissions
        if "permissions" in data:
            perms = set(check_field("permissions", "str_list", data["permissions"]))
        scopes = self.app_key_scopes
        if "app_key_scopes" in data:
            scopes = (
                None
                if data["app_key_scopes"] is None
                else check_field("app_key_scopes", "str_list", data["app_key_scopes"])
            )
        ddr = self.ddr_status
        if "ddr_status" in data:
            ddr = data["ddr_status"]
            if ddr is not None and (isinstance(ddr, bool) or not isinstance(ddr, int)):
                raise InvalidField("ddr_status must be an integer or null")
        self.permissions, self.app_key_scopes, self.ddr_status = perms, scopes, ddr


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


#: Fields whose values are secrets wherever a request body holds them (the request log shows them as "***").
SECRET_FIELDS = frozenset(
    {
        "secret_access_key",
        "client_secret",
        "private_key",
        "private_key_id",
        "service_key",
        "opsgenie_api_key",
        "api_secret",
        "api_token",
        "api_key",  # Fastly, Cloudflare and Okta accounts
    }
)
#: JSON:API types whose ``attributes`` hold more secrets, or fewer: a Workflows handle's ``url`` is its secret; a
#: Confluent account's ``api_key`` is its natural key (shown in state keys and diffs; its ``api_secret`` is the secret).
_TYPED_SECRETS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "workflows-webhook-handle": (frozenset({"url"}), frozenset()),
    "confluent-cloud-accounts": (frozenset(), frozenset({"api_key"})),
}
_PLAIN: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())


def redact_secrets(value: Any, keys: frozenset[str] = SECRET_FIELDS) -> Any:
    """Deep copy of a JSON value with secret values replaced by "***" (for the request log): ``keys`` anywhere, the
    ``value`` of a secret webhook custom variable (``is_secret: true``), and the secrets of typed JSON:API bodies."""
    if isinstance(value, list):
        return [redact_secrets(v, keys) for v in value]
    if not isinstance(value, dict):
        return value
    masked = keys | {"value"} if value.get("is_secret") is True else keys
    kind = value.get("type")
    more, fewer = _TYPED_SECRETS.get(kind, _PLAIN) if isinstance(kind, str) else _PLAIN
    inner = (keys | more) - fewer
    return {
        k: "***" if k in masked and v is not None else redact_secrets(v, inner if k == "attributes" else keys)
        for k, v in value.items()
    }

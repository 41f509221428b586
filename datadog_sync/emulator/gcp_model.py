"""The GCP integration store of an org: service accounts of the v2 STS API and key accounts of the deprecated v1 API.

Both API generations list from the same store (the recorded v1 list shows STS accounts with `project_id: ""`,
datadog-api-client-python cassette `test_list_all_gcp_integrations_returns_ok_response`). The filters live in one
form, `monitored_resource_configs`; the deprecated `host_filters` / `cloud_run_revision_filters` are views of it and
writes to them are mirrored into it, as recorded (terraform-provider-datadog `TestAccIntegrationGcpStsBasic`,
`TestAccDatadogIntegrationGCP`). Which fields a listing shows depends on the store's `api_date` (see `shown`): the
recorded API grew fields over time, so an org can look like the 2024 API while another looks like today's.
Cassettes named here are under datadog-api-client-python `tests/v{1,2}/cassettes/test_scenarios/` and
terraform-provider-datadog `datadog/tests/cassettes/`. No HTTP here.
"""

from __future__ import annotations

import copy
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from datadog_sync.emulator.state import InvalidField

MRC_TYPES = ("cloud_function", "cloud_run_revision", "gce_instance")
_DEPRECATED = {"host_filters": "gce_instance", "cloud_run_revision_filters": "cloud_run_revision"}
BOOLS = (
    "automute",
    "is_cspm_enabled",
    "resource_collection_enabled",
    "is_security_command_center_enabled",
    "is_resource_change_collection_enabled",
    "is_global_location_enabled",
    "is_per_project_quota_enabled",
    "is_bq_datasets_monitoring_enabled",
    "is_bq_jobs_monitoring_enabled",
    "is_org_folder_resource_collection_enabled",
)
LISTS = ("account_tags", "region_filter_configs")
#: Server defaults (TestAccIntegrationGcpStsDefault, 2026-01). `resource_collection_enabled` depends on the date.
DEFAULTS: dict[str, Any] = {
    "automute": False,
    "is_cspm_enabled": False,
    "is_security_command_center_enabled": False,
    "is_resource_change_collection_enabled": False,
    "is_global_location_enabled": True,
    "is_per_project_quota_enabled": False,
    "is_bq_datasets_monitoring_enabled": False,
    "is_bq_jobs_monitoring_enabled": False,
}
#: Injected when a create sends no metric namespace config (TestAccIntegrationGcpStsDefault; TF GH#3199).
PROMETHEUS = {"id": "prometheus", "disabled": True, "filters": []}
#: The JSON key fields of a v1 account: stored, never listed (test_list_all_gcp_integrations_returns_ok_response).
KEY_FIELDS = (
    "type",
    "private_key_id",
    "private_key",
    "client_id",
    "auth_uri",
    "token_uri",
    "auth_provider_x509_cert_url",
    "client_x509_cert_url",
)
CSPM_NEEDS_RC = "Resource Collection must be enabled for CSM to be enabled"  # recorded, see gcp.py

# --- which fields a listing shows, by api_date (the date of the first recording showing them) -----------------------
#: `resource_collection_enabled` omitted on create: false in the 2024-03-11 recordings, true from the 2024-10-07 ones.
RC_DEFAULT_TRUE_SINCE = "2024-10-07"
#: v2 attributes in their recorded order (2026, alphabetical) -> first date shown (None: always). The 2024-03-11
#: recordings show the 8 unmarked ones; `is_resource_change_collection_enabled` first shows on 2024-10-07; the rest
#: on 2026-01-15 (datadog-api-client-python #2983 added the global location and region filter fields on 2026-01-13).
V2_SINCE: dict[str, str | None] = {
    "account_tags": None,
    "automute": None,
    "client_email": None,
    "cloud_run_revision_filters": None,
    "host_filters": None,
    "is_bq_datasets_monitoring_enabled": "2026-01-13",
    "is_bq_jobs_monitoring_enabled": "2026-01-13",
    "is_cspm_enabled": None,
    "is_global_location_enabled": "2026-01-13",
    "is_per_project_quota_enabled": "2026-01-13",
    "is_resource_change_collection_enabled": "2024-10-07",
    "is_security_command_center_enabled": None,
    "metric_namespace_configs": "2026-01-13",
    "monitored_resource_configs": "2026-01-13",
    "region_filter_configs": "2026-01-13",
    "resource_collection_enabled": None,
}
#: v1 list keys in their recorded order (2026) -> first date shown. 2023-02-01 (TestAccDatadogLogsArchiveGCS_basic)
#: shows no `resource_collection_enabled` but `monitored_resource_configs` when there are filters; 2023-12-20
#: (test_list_all_gcp_integrations_returns_ok_response) the reverse; 2026-02 (TestAccDatadogIntegrationGCP) all 12.
V1_SINCE: dict[str, str | None] = {
    "project_id": None,
    "client_email": None,
    "id": "2026-01-13",
    "host_filters": None,
    "automute": None,
    "is_cspm_enabled": None,
    "resource_collection_enabled": "2023-12-20",
    "is_security_command_center_enabled": None,
    "is_resource_change_collection_enabled": "2026-01-13",
    "cloud_run_revision_filters": "2026-01-13",
    "monitored_resource_configs": "2026-01-13",
    "errors": None,
}
V1_OLD_MRC_UNTIL = "2023-12-20"  # before: v1 shows monitored_resource_configs when not empty
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Invalid(InvalidField):
    """A request or seed value is malformed; the message names the field."""


def shown(since: str | None, api_date: str | None) -> bool:
    return since is None or api_date is None or api_date >= since


def check_api_date(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not _DATE.fullmatch(value)):
        raise Invalid("api_date must be null or a YYYY-MM-DD date")
    return value


def default_delegate(org_name: str) -> str:
    """A stable per-org principal shaped like the recorded ones (`ddgci-` + 20 hex, site project)."""
    digest = hashlib.sha256(f"emulator-gcp-delegate:{org_name}".encode()).hexdigest()[:20]
    return f"ddgci-{digest}@datadog-gci-sts-us1-prod.iam.gserviceaccount.com"


# --- value checks ----------------------------------------------------------------------------------------------------


def strs(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(f"Invalid value for '{name}': expected a list of strings")
    return list(value)


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"Invalid value for '{name}': expected a boolean")
    return value


def string(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"Invalid value for '{name}': expected a non-empty string")
    return value


def monitored_resource_configs(value: Any) -> list[dict[str, Any]]:
    """Validated and in the recorded order: one entry per type, sorted by type (TestAccIntegrationGcpStsBasic)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid("Invalid value for 'monitored_resource_configs': expected a list")
    by_type: dict[str, list[str]] = {}
    for item in value:
        if not isinstance(item, dict) or item.get("type") not in MRC_TYPES:
            raise Invalid(f"Invalid value for 'monitored_resource_configs': type must be one of {list(MRC_TYPES)}")
        by_type[item["type"]] = strs("monitored_resource_configs.filters", item.get("filters"))
    return [{"type": t, "filters": by_type[t]} for t in sorted(by_type)]


def metric_namespace_configs(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid("Invalid value for 'metric_namespace_configs': expected a list")
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise Invalid("Invalid value for 'metric_namespace_configs': each entry needs a string id")
        disabled = boolean("metric_namespace_configs.disabled", item.get("disabled", False))
        out.append(
            {"id": item["id"], "disabled": disabled, "filters": strs("metric_namespace_configs", item.get("filters"))}
        )
    return out


def split_filters(value: Any) -> list[str]:
    """v1 `host_filters` is one comma-separated string (recorded: "foo:bar,buzz:lightyear")."""
    if not isinstance(value, str):
        raise Invalid("Invalid value for 'host_filters': expected a comma-separated string")
    return [part.strip() for part in value.split(",") if part.strip()]


# --- the store -------------------------------------------------------------------------------------------------------


@dataclass
class GcpAccount:
    """A service account: STS (v2, keyless) or a v1 key account (`key` holds the JSON key, never listed)."""

    client_email: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    project_id: str = ""
    key: dict[str, str] | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # the BOOLS and LISTS that were set
    mrc: list[dict[str, Any]] = field(default_factory=list)  # monitored_resource_configs, normalised
    namespaces: list[dict[str, Any]] = field(default_factory=list)  # metric_namespace_configs
    accessible_projects: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def is_sts(self) -> bool:
        return self.key is None

    def value(self, name: str, api_date: str | None) -> Any:
        if name in self.settings:
            return copy.deepcopy(self.settings[name])
        if name == "resource_collection_enabled":
            return api_date is None or api_date >= RC_DEFAULT_TRUE_SINCE
        return [] if name in LISTS else DEFAULTS.get(name, False)

    def filters_of(self, mrc_type: str) -> list[str]:
        return next((list(m["filters"]) for m in self.mrc if m["type"] == mrc_type), [])

    def apply(self, attrs: dict[str, Any], host_filters: list[str] | None = None) -> None:
        """Set what `attrs` sends (PATCH keeps the rest; sent lists replace). `host_filters`: v1's, already split.
        A non-empty `monitored_resource_configs` wins over the deprecated lists sent with it; otherwise those are
        mirrored into it (TestAccIntegrationGcpStsBasic interactions 1 and 5)."""
        for name in BOOLS:
            if attrs.get(name) is not None:
                self.settings[name] = boolean(name, attrs[name])
        for name in LISTS:
            if name in attrs:
                self.settings[name] = strs(name, attrs[name])
        if "metric_namespace_configs" in attrs:
            self.namespaces = metric_namespace_configs(attrs["metric_namespace_configs"])
        sent = {"host_filters": host_filters} if host_filters is not None else {}
        for name in _DEPRECATED:
            if name in attrs and not (name == "host_filters" and host_filters is not None):
                sent[name] = strs(name, attrs[name])
        mrc = monitored_resource_configs(attrs.get("monitored_resource_configs"))
        if mrc:
            self.mrc = mrc
            return
        by_type = {m["type"]: m["filters"] for m in ([] if "monitored_resource_configs" in attrs else self.mrc)}
        for name, filters in sent.items():
            by_type[_DEPRECATED[name]] = filters
        self.mrc = [{"type": t, "filters": f} for t, f in sorted(by_type.items()) if f]

    def v2_attributes(self, api_date: str | None) -> dict[str, Any]:
        full = {
            "client_email": self.client_email,
            "host_filters": self.filters_of("gce_instance"),
            "cloud_run_revision_filters": self.filters_of("cloud_run_revision"),
            "metric_namespace_configs": copy.deepcopy(self.namespaces),
            "monitored_resource_configs": copy.deepcopy(self.mrc),
        }
        out = {}
        for name, since in V2_SINCE.items():
            if shown(since, api_date) or name in self.settings:
                out[name] = full[name] if name in full else self.value(name, api_date)
        if "is_org_folder_resource_collection_enabled" in self.settings:  # in the spec, never recorded
            out["is_org_folder_resource_collection_enabled"] = self.settings[
                "is_org_folder_resource_collection_enabled"
            ]
        return out

    def v1_listed(self, api_date: str | None) -> dict[str, Any]:
        full = {
            "project_id": self.project_id,
            "client_email": self.client_email,
            "id": self.id,
            "host_filters": ",".join(self.filters_of("gce_instance")),
            "cloud_run_revision_filters": self.filters_of("cloud_run_revision"),
            "monitored_resource_configs": copy.deepcopy(self.mrc),
            "errors": list(self.errors),
        }
        out = {}
        for name, since in V1_SINCE.items():
            old_mrc = name == "monitored_resource_configs" and api_date is not None and api_date < V1_OLD_MRC_UNTIL
            if shown(since, api_date) or (old_mrc and self.mrc):
                out[name] = full[name] if name in full else self.value(name, api_date)
        return out

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "client_email": self.client_email}
        if not self.is_sts:
            out["project_id"] = self.project_id
            out.update(self.key or {})
        out.update(copy.deepcopy(self.settings))
        out["monitored_resource_configs"] = copy.deepcopy(self.mrc)
        out["metric_namespace_configs"] = copy.deepcopy(self.namespaces)
        out["accessible_projects"] = list(self.accessible_projects)
        out["errors"] = list(self.errors)
        return out

    @classmethod
    def from_json(cls, data: Any) -> GcpAccount:
        if not isinstance(data, dict):
            raise Invalid("each gcp account must be an object")
        allowed = {"id", "client_email", "project_id", *KEY_FIELDS, *BOOLS, *LISTS, *_DEPRECATED}
        allowed |= {"monitored_resource_configs", "metric_namespace_configs", "accessible_projects", "errors"}
        unknown = set(data) - allowed
        if unknown:
            raise Invalid(f"unknown gcp account fields: {sorted(unknown)}")
        acc = cls(client_email=string("client_email", data.get("client_email")))
        if data.get("id") is not None:
            try:
                acc.id = str(uuid.UUID(string("id", data["id"])))
            except ValueError:
                raise Invalid(f"gcp account id {data['id']!r} is not a UUID") from None
        if data.get("private_key") is not None:  # a v1 key account
            acc.project_id = string("project_id", data.get("project_id"))
            acc.key = {k: string(k, data[k]) for k in KEY_FIELDS if data.get(k) is not None}
        host = data.get("host_filters")
        acc.apply(data, split_filters(host) if isinstance(host, str) else None)
        acc.accessible_projects = strs("accessible_projects", data.get("accessible_projects"))
        acc.errors = strs("errors", data.get("errors"))
        return acc


@dataclass
class GcpIntegration:
    """All GCP data of one org. `accounts` keeps creation order (the listing order)."""

    accounts: list[GcpAccount] = field(default_factory=list)
    delegate: str | None = None  # the org's Datadog principal; None until created (see gcp.py)
    api_date: str | None = None  # None: today's API

    def find_id(self, account_id: str) -> GcpAccount | None:
        return next((a for a in self.accounts if a.id == account_id and a.is_sts), None)

    def find_email(self, email: str | None) -> GcpAccount | None:
        return next((a for a in self.accounts if a.client_email == email), None)

    def to_json(self) -> dict[str, Any]:
        return {"api_date": self.api_date, "delegate": self.delegate, "accounts": [a.to_json() for a in self.accounts]}

    @classmethod
    def from_json(cls, data: Any, org_name: str) -> GcpIntegration:
        data = {} if data is None else data
        if not isinstance(data, dict) or set(data) - {"api_date", "delegate", "accounts"}:
            raise Invalid("gcp must be an object with 'accounts', 'delegate' and/or 'api_date'")
        store = cls(api_date=check_api_date(data.get("api_date")))
        store.delegate = data["delegate"] if "delegate" in data else default_delegate(org_name)
        if store.delegate is not None:
            string("delegate", store.delegate)
        accounts = data.get("accounts", [])
        if not isinstance(accounts, list):
            raise Invalid("gcp.accounts must be a list")
        for raw in accounts:
            acc = GcpAccount.from_json(raw)
            if store.find_email(acc.client_email) or any(a.id == acc.id for a in store.accounts):
                raise Invalid(f"duplicate gcp account {acc.client_email}")
            store.accounts.append(acc)
        return store

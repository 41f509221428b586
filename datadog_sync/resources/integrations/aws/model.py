"""The stored shape of one AWS account (v1 API) and the payloads built from it.

One stored object per AWS account::

    {
      "name": "aws",
      "account_id": "123456789012", "role_name": "DatadogAWSIntegrationRole",   # role accounts
      "access_key_id": "AKIA...",                                              # key accounts (GovCloud/China)
      "filter_tags": [...], "host_tags": [...], "excluded_regions": [...],     # sorted: order means nothing
      "account_specific_namespace_rules": {"auto_scaling": false},
      "metrics_collection_enabled": true, "resource_collection_enabled": false,
      "extended_resource_collection_enabled": false, "cspm_resource_collection_enabled": false,
      "tag_filters": {"application_elb": "env:prod"},                          # only namespaces that are set
      "logs": {"lambda_arns": [...], "services": [...]},                       # sorted
    }

Read-only data (``errors``) and secrets (``secret_access_key``) are never part of it. Destination state may
add ``external_id``: the one Datadog issued when this tool created the account (never compared).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from datadog_sync.resources.schema import Fields, ListOf, MapOf

SUBTYPE = "aws"
#: The composite type the ``aws`` subtype belongs to.
RESOURCE_TYPE = "integrations"

#: Fields of the v1 ``AWSAccount`` that the stored object keeps (everything the API returns, minus ``errors``).
IDENTITY_FIELDS = ("account_id", "role_name", "access_key_id")
LIST_FIELDS = ("filter_tags", "host_tags", "excluded_regions")
#: Booleans and the value the API uses when they are not set (the AWSAccount defaults of the v1 OpenAPI spec).
BOOL_DEFAULTS = {
    "metrics_collection_enabled": True,
    "resource_collection_enabled": False,
    "extended_resource_collection_enabled": False,
    "cspm_resource_collection_enabled": False,
}
ACCOUNT_FIELDS = IDENTITY_FIELDS + LIST_FIELDS + ("account_specific_namespace_rules",) + tuple(BOOL_DEFAULTS)

TAG_FILTERS = "tag_filters"
LOGS = "logs"
LAMBDA_ARNS = "lambda_arns"
SERVICES = "services"
#: Kept in destination state only; never compared, never shown in diffs or backups.
EXTERNAL_ID = "external_id"
#: Stands for the external id of an account this tool created in a run that died before Datadog's answer came.
LOST_EXTERNAL_ID = "(never received)"
SECRET = "secret_access_key"

#: The JSON type of every stored field: a state file edited by hand is checked against it before planning.
SCHEMA = {
    "name": str,
    **{field: str for field in IDENTITY_FIELDS},
    **{field: ListOf(str) for field in LIST_FIELDS},
    "account_specific_namespace_rules": MapOf(bool),
    **{field: bool for field in BOOL_DEFAULTS},
    TAG_FILTERS: MapOf(str),
    LOGS: Fields({LAMBDA_ARNS: ListOf(str), SERVICES: ListOf(str)}),
    EXTERNAL_ID: str,
}


def unknown_field_problems(obj: Mapping[str, Any]) -> list[str]:
    """A v1 stored object holds only the fields of :data:`SCHEMA` (what import stores): any other field is a typo
    or hand edit that would otherwise be sent to the API as is."""
    unknown = sorted(str(field) for field in obj if field not in SCHEMA)
    if not unknown:
        return []
    return [f"{', '.join(unknown)}: unknown field{'s' if len(unknown) > 1 else ''} of an aws account"]


def identity_problems(key: str, obj: Mapping[str, Any]) -> list[str]:
    """A stored object must be a role account (account_id + role_name) or a key account (access_key_id alone),
    stored under its own key."""
    if obj.get("access_key_id") and obj.get("role_name"):
        return [
            "role_name and access_key_id: an account is either a role account (account_id, role_name) or a key "
            "account (access_key_id, no role_name)"
        ]
    if not obj.get("access_key_id"):
        missing = [field for field in ("account_id", "role_name") if not obj.get(field)]
        if missing:
            return [
                f"{' and '.join(missing)}: missing (a role account needs account_id and role_name, a key account "
                "access_key_id)"
            ]
    expected = state_key(obj)
    if key != expected:
        return [f"{identity(obj)[0]}: the entry is stored under {key}, but its {identity(obj)[0]} makes it {expected}"]
    return []


def _sorted_unique(values: Iterable[Any] | None) -> list:
    return sorted({str(v) for v in values or () if v is not None})


def is_key_account(obj: Mapping[str, Any]) -> bool:
    """Key accounts (GovCloud/China) authenticate with an access key instead of a role."""
    return bool(obj.get("access_key_id")) and not obj.get("role_name")


def identity(obj: Mapping[str, Any]) -> tuple[str, str]:
    """What names the account in an org: ``("account_id", id)`` for role accounts, ``("access_key_id", id)``."""
    if is_key_account(obj):
        return "access_key_id", str(obj["access_key_id"])
    return "account_id", str(obj["account_id"])


def state_key(obj: Mapping[str, Any]) -> str:
    """``aws:<account_id>`` for role accounts, ``aws:<access_key_id>`` for key accounts."""
    return f"{SUBTYPE}:{identity(obj)[1]}"


def label(obj: Mapping[str, Any]) -> str:
    """How messages name an account."""
    field, value = identity(obj)
    return f"AWS account {value}" if field == "account_id" else f"AWS key account {value}"


def filtering_id(obj: Mapping[str, Any]) -> str:
    """The ``account_id`` that ``/filtering`` expects: the access key id for key accounts (recorded:
    TestAccDatadogIntegrationAwsTagFilter_BasicAccessKey cassette, terraform-provider-datadog)."""
    return identity(obj)[1]


def logs_id(obj: Mapping[str, Any]) -> str | None:
    """The numeric account id ``/logs`` entries are keyed by; unknown for key accounts without one."""
    value = obj.get("account_id")
    return str(value) if value else None


def normalize_account(raw: Mapping[str, Any]) -> dict:
    """An account from ``GET /api/v1/integration/aws`` in the stored shape (without tag filters and logs)."""
    out: dict[str, Any] = {"name": SUBTYPE}
    for field in IDENTITY_FIELDS:
        if raw.get(field):
            out[field] = str(raw[field])
    for field in LIST_FIELDS:
        out[field] = _sorted_unique(raw.get(field))
    rules = raw.get("account_specific_namespace_rules") or {}
    out["account_specific_namespace_rules"] = {str(k): bool(v) for k, v in sorted(rules.items())}
    for field, default in BOOL_DEFAULTS.items():
        value = raw.get(field)
        out[field] = default if value is None else bool(value)
    return out


def normalize_tag_filters(body: Any) -> dict[str, str]:
    """``GET /filtering`` lists every namespace, unset ones with ``tag_filter_str: null``: keep the set ones."""
    filters = body.get("filters") if isinstance(body, Mapping) else body
    out = {}
    for item in filters or []:
        value = item.get("tag_filter_str")
        if item.get("namespace") and value not in (None, ""):
            out[str(item["namespace"])] = str(value)
    return dict(sorted(out.items()))


def empty_logs() -> dict:
    return {LAMBDA_ARNS: [], SERVICES: []}


def index_logs(body: Any) -> dict[str, dict]:
    """``GET /logs`` (an array with undocumented extra fields) as ``{account_id: {"lambda_arns", "services"}}``."""
    out: dict[str, dict] = {}
    for item in body or []:
        if not isinstance(item, Mapping) or not item.get("account_id"):
            continue
        out[str(item["account_id"])] = {
            LAMBDA_ARNS: _sorted_unique(
                lam.get("arn") for lam in item.get("lambdas") or [] if isinstance(lam, Mapping)
            ),
            SERVICES: _sorted_unique(item.get("services")),
        }
    return out


def normalize(obj: Mapping[str, Any]) -> dict:
    """Any stored-shape object (e.g. edited by hand) in canonical form, so equal configurations compare equal."""
    out = normalize_account(obj)
    if TAG_FILTERS in obj:
        tag_filters = obj.get(TAG_FILTERS) or {}
        out[TAG_FILTERS] = {str(k): str(v) for k, v in sorted(tag_filters.items()) if v not in (None, "")}
    if LOGS in obj:
        logs = obj.get(LOGS) or {}
        out[LOGS] = {LAMBDA_ARNS: _sorted_unique(logs.get(LAMBDA_ARNS)), SERVICES: _sorted_unique(logs.get(SERVICES))}
    if obj.get(EXTERNAL_ID):
        out[EXTERNAL_ID] = obj[EXTERNAL_ID]
    return out


def account_part(obj: Mapping[str, Any]) -> dict:
    """The fields one ``PUT /api/v1/integration/aws`` writes."""
    return {field: obj[field] for field in ACCOUNT_FIELDS if field in obj}


def comparable(obj: Mapping[str, Any], other: Mapping[str, Any]) -> dict:
    """``obj`` as diffs compare it with ``other``: no external id or secret, and for key accounts no
    ``account_id``/``logs`` unless both sides know them (the API never returns a key account's account id;
    it comes from the secrets file)."""
    out = {k: v for k, v in normalize(obj).items() if k not in (EXTERNAL_ID, SECRET)}
    if is_key_account(obj):
        for field in ("account_id", LOGS):
            if field not in other:
                out.pop(field, None)
    return out


# ------------------------------------------------------------------------------------------------ payloads
def account_payload(obj: Mapping[str, Any], secret: str | None = None) -> dict:
    """Body of ``POST``/``PUT /api/v1/integration/aws`` (``AWSAccount``): every field, empty ones included,
    because a PUT only clears what it is sent (recorded: TestAccDatadogIntegrationAWS cassette)."""
    body = account_part(normalize(obj))
    body.pop("name", None)
    if is_key_account(obj):
        body.pop("role_name", None)
        if secret:
            body[SECRET] = secret
    else:
        body.pop("access_key_id", None)
    return body


def update_selector(current: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters naming the account a PUT updates: its *current* identity, so a role rename works."""
    if is_key_account(current):
        return {"access_key_id": str(current["access_key_id"])}
    return {"account_id": str(current["account_id"]), "role_name": str(current["role_name"])}


def delete_payload(current: Mapping[str, Any]) -> dict[str, str]:
    """Body of ``DELETE /api/v1/integration/aws`` (``AWSAccountDeleteRequest``)."""
    if is_key_account(current):
        body = {"access_key_id": str(current["access_key_id"])}
        if current.get("account_id"):
            body["account_id"] = str(current["account_id"])
        return body
    return {"account_id": str(current["account_id"]), "role_name": str(current["role_name"])}


def tag_filter_payload(account_id: str, namespace: str, tag_filter_str: str | None = None) -> dict[str, str]:
    """Body of ``POST`` (with a filter) or ``DELETE`` (without) ``/filtering``."""
    body = {"account_id": account_id, "namespace": namespace}
    if tag_filter_str is not None:
        body["tag_filter_str"] = tag_filter_str
    return body


def lambda_payload(account_id: str, arn: str) -> dict[str, str]:
    """Body of ``POST``/``DELETE /logs`` (``AWSAccountAndLambdaRequest``)."""
    return {"account_id": account_id, "lambda_arn": arn}


def services_payload(account_id: str, services: list[str]) -> dict[str, Any]:
    """Body of ``POST /logs/services`` (``AWSLogsServicesRequest``); it replaces the whole set."""
    return {"account_id": account_id, "services": list(services)}


def role_arn(account_id: str, role_name: str, partition: str = "aws") -> str:
    """The role's ARN in its partition (``aws``, ``aws-cn``, ``aws-us-gov``: v2's ``aws_partition``)."""
    return f"arn:{partition or 'aws'}:iam::{account_id}:role/{role_name}"

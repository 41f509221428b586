"""The stored shape of one AWS account over the v2 accounts API, its comparison and the payloads built from it.

Pure: no HTTP here. The stored object is the account's ``attributes`` as ``GET /api/v2/integration/aws/accounts``
returns them (https://docs.datadoghq.com/api/latest/aws-integration/), minus per-org or read-only values
(:data:`DROPPED`: ``created_at``, ``modified_at``, ``auth_config.external_id``, ``auth_config.secret_access_key``,
and the envelope's ``id``/``type``), plus ``"name": "aws"`` and ``"account_id"``, a copy of ``aws_account_id``
under its v1 name so ``Name=account_id`` filters keep working (never sent)::

    {
      "name": "aws", "account_id": "123456789012",
      "aws_account_id": "123456789012", "aws_partition": "aws",
      "account_tags": ["team:a"],
      "auth_config": {"role_name": "DatadogAWSIntegrationRole"},          # or {"access_key_id": "AKIA..."}
      "aws_regions": {"include_all": true},
      "logs_config": {"lambda_forwarder": {"lambdas": [...], "sources": [...],
                                           "log_source_config": {"tag_filters": [{"source": ..., "tags": [...]}]}}},
      "metrics_config": {"enabled": true, "automute_enabled": true, "collect_custom_metrics": false,
                         "collect_cloudwatch_alarms": false, "namespace_filters": {"exclude_only": [...]},
                         "tag_filters": [{"namespace": "AWS/EC2", "tags": [...]}], "metric_name_filters": [...]},
      "resources_config": {"cloud_security_posture_management_collection": false, "extended_collection": true},
      "traces_config": {"xray_services": {"include_only": []}},
    }

Every other attribute, known or not, nested or not, is carried unchanged: Datadog adds fields, and a new one
must never silently disappear (``diffs`` shows it). Normalised so equal configurations compare equal: ``null``
lists are ``[]`` and lists whose order means nothing are sorted. Destination state adds ``"id"`` (the
destination's config UUID) and, for role accounts, a top-level ``"external_id"`` (the destination's; never
compared, never shown).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.jsonshare import shared_copy
from datadog_sync.resources.integrations.aws.model import EXTERNAL_ID, LOST_EXTERNAL_ID, RESOURCE_TYPE, SUBTYPE
from datadog_sync.resources.schema import Fields, ListOf, schema_problems

__all__ = ["EXTERNAL_ID", "LOST_EXTERNAL_ID", "RESOURCE_TYPE", "SUBTYPE"]

AWS_ACCOUNT_ID = "aws_account_id"
#: The v1 name of the AWS account id, kept as a copy so filters and scripts written for v1 keep working.
ACCOUNT_ID = "account_id"
AUTH = "auth_config"
ROLE_NAME = "role_name"
ACCESS_KEY_ID = "access_key_id"
SECRET = "secret_access_key"
#: The destination's config id (a UUID, different in every org): destination state only, never compared.
CONFIG_ID = "id"
#: Attributes never stored: read-only timestamps, and the auth values that belong to one org (or are never read).
DROPPED = ("created_at", "modified_at", f"{AUTH}.{EXTERNAL_ID}", f"{AUTH}.{SECRET}")
#: Never sent, never compared: what the tool adds to the API's attributes.
LOCAL_FIELDS = ("name", ACCOUNT_ID, CONFIG_ID, EXTERNAL_ID)
#: Sub-objects that are a oneOf in the v2 spec: compared whole, a variant replacing another is one difference.
ONE_OF = ("aws_regions", "metrics_config.namespace_filters", "traces_config.xray_services")

#: Lists of strings whose order means nothing: sorted (``null`` is ``[]``).
STRING_LISTS = (
    "account_tags",
    "aws_regions.include_only",
    "logs_config.lambda_forwarder.lambdas",
    "logs_config.lambda_forwarder.sources",
    "metrics_config.namespace_filters.include_only",
    "metrics_config.namespace_filters.exclude_only",
    "traces_config.xray_services.include_only",
)
#: Lists of objects whose order means nothing: dot path -> (the item's naming field, its lists of strings).
OBJECT_LISTS = {
    "logs_config.lambda_forwarder.log_source_config.tag_filters": ("source", ("tags",)),
    "metrics_config.tag_filters": ("namespace", ("tags",)),
    "metrics_config.metric_name_filters": ("namespace", ("include_only", "exclude_only")),
}

#: The JSON types of the known attributes: a state file edited by hand is checked against them. Unknown
#: attributes are allowed (they are carried as the API returned them).
_TAGS = Fields({"tags": ListOf(str)})
SCHEMA: dict[str, Any] = {
    "name": str,
    ACCOUNT_ID: str,
    AWS_ACCOUNT_ID: str,
    "aws_partition": str,
    "account_tags": ListOf(str),
    AUTH: Fields({ROLE_NAME: str, ACCESS_KEY_ID: str}),
    "aws_regions": Fields({"include_all": bool, "include_only": ListOf(str)}),
    "logs_config": Fields(
        {
            "lambda_forwarder": Fields(
                {
                    "lambdas": ListOf(str),
                    "sources": ListOf(str),
                    "log_source_config": Fields({"tag_filters": ListOf(Fields({"source": str, "tags": ListOf(str)}))}),
                }
            )
        }
    ),
    "metrics_config": Fields(
        {
            "enabled": bool,
            "automute_enabled": bool,
            "collect_custom_metrics": bool,
            "collect_cloudwatch_alarms": bool,
            "namespace_filters": Fields({"include_only": ListOf(str), "exclude_only": ListOf(str)}),
            "tag_filters": ListOf(Fields({"namespace": str, "tags": ListOf(str)})),
            "metric_name_filters": ListOf(
                Fields({"namespace": str, "include_only": ListOf(str), "exclude_only": ListOf(str)})
            ),
        }
    ),
    "resources_config": Fields({"cloud_security_posture_management_collection": bool, "extended_collection": bool}),
    "traces_config": Fields({"xray_services": Fields({"include_all": bool, "include_only": ListOf(str)})}),
    EXTERNAL_ID: str,
    CONFIG_ID: str,
}
#: Top-level fields only a v1 stored object has: such an entry was imported with the v1 API.
V1_ONLY = frozenset(
    {
        ROLE_NAME,
        ACCESS_KEY_ID,
        "host_tags",
        "filter_tags",
        "excluded_regions",
        "account_specific_namespace_rules",
        "metrics_collection_enabled",
        "resource_collection_enabled",
        "extended_resource_collection_enabled",
        "cspm_resource_collection_enabled",
        "tag_filters",
        "logs",
    }
)
V1_SHAPED = "imported with --integrations-aws-api=v1: run import again (or pass --integrations-aws-api=v1)"


# ----------------------------------------------------------------------------------------------- identity
def auth(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get(AUTH)
    return value if isinstance(value, Mapping) else {}


def is_key_account(obj: Mapping[str, Any]) -> bool:
    """Key accounts (GovCloud/China, any partition) authenticate with an access key instead of a role."""
    return ACCESS_KEY_ID in auth(obj)


def role_name(obj: Mapping[str, Any]) -> str | None:
    value = auth(obj).get(ROLE_NAME)
    return str(value) if value else None


def access_key_id(obj: Mapping[str, Any]) -> str | None:
    value = auth(obj).get(ACCESS_KEY_ID)
    return str(value) if value else None


def state_key(obj: Mapping[str, Any]) -> str:
    """``aws:<aws_account_id>`` for every account, role or key."""
    return f"{SUBTYPE}:{obj[AWS_ACCOUNT_ID]}"


def label(obj: Mapping[str, Any]) -> str:
    """How messages name an account."""
    kind = "AWS key account" if is_key_account(obj) else "AWS account"
    return f"{kind} {obj.get(AWS_ACCOUNT_ID) or obj.get(ACCOUNT_ID) or obj.get(ACCESS_KEY_ID)}"


def is_v1_shaped(obj: Mapping[str, Any]) -> bool:
    """A state entry written by the v1 generation (``account_id`` + ``role_name``, or ``access_key_id``)."""
    return AWS_ACCOUNT_ID not in obj and bool({ACCOUNT_ID, *V1_ONLY} & set(obj))


# ------------------------------------------------------------------------------------------- normalising
def from_api(item: Mapping[str, Any]) -> dict:
    """An account of a v2 listing (``{"id", "type", "attributes"}``) in the stored shape (without its id)."""
    raw = item.get("attributes")
    attributes: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    obj = {k: v for k, v in attributes.items() if k not in LOCAL_FIELDS}
    obj = normalize(obj)  # a copy: what is popped below is popped from it
    for path in DROPPED:
        _pop(obj, path)
    return ordered({"name": SUBTYPE, ACCOUNT_ID: str(obj.get(AWS_ACCOUNT_ID) or ""), **obj})


def live_external_id(item: Mapping[str, Any]) -> str | None:
    """The external id a v2 listing shows for a role account (v2 returns it on every read)."""
    value = auth(item.get("attributes") or {}).get(EXTERNAL_ID)
    return str(value) if value else None


def normalize(obj: Mapping[str, Any]) -> dict:
    """A copy of a stored-shape object in canonical form: ``null`` lists are ``[]``, unordered lists sorted.
    Values of an unexpected type are left untouched (a schema check reports them)."""
    out = {k: shared_copy(v) for k, v in obj.items()}
    for path in STRING_LISTS:
        _at(out, path, _sorted_strings)
    for path, (name, lists) in OBJECT_LISTS.items():
        _at(out, path, functools.partial(_sorted_objects, name=name, lists=lists))
    return out


def _sorted_strings(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted(value)
    return value


def _sorted_objects(value: Any, name: str, lists: tuple[str, ...]) -> Any:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return value
    items = []
    for item in value:
        item = dict(item)
        for field in lists:
            if field in item:
                item[field] = _sorted_strings(item[field])
        items.append(item)
    return sorted(items, key=lambda item: (str(item.get(name)), json.dumps(item, sort_keys=True, default=str)))


def _at(obj: dict, path: str, fix: Callable[[Any], Any]) -> None:
    """Replace the value at a dot path, when every parent is an object and the value is there."""
    *parents, last = path.split(".")
    for part in parents:
        obj = obj.get(part)  # type: ignore[assignment]
        if not isinstance(obj, dict):
            return
    if last in obj:
        obj[last] = fix(obj[last])


def _pop(obj: dict, path: str) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = obj.get(part)  # type: ignore[assignment]
        if not isinstance(obj, dict):
            return
    obj.pop(last, None)


def ordered(obj: Mapping[str, Any]) -> dict:
    """Stored objects read the same in every state file: name and ids first, then the attributes by name."""
    head = [k for k in ("name", ACCOUNT_ID, AWS_ACCOUNT_ID, "aws_partition") if k in obj]
    tail = [k for k in (CONFIG_ID, EXTERNAL_ID) if k in obj]
    middle = sorted(k for k in obj if k not in head and k not in tail)
    return {k: obj[k] for k in [*head, *middle, *tail]}


# -------------------------------------------------------------------------------------------- comparing
def owned(obj: Mapping[str, Any], normalized: bool = False) -> dict:
    """What a write sends and a diff compares: the attributes, without what the tool adds or a secret.
    ``normalized``: ``obj`` is a result of :func:`normalize` already, and is not copied again (the result shares
    its sub-objects, except ``auth_config``: callers must not change them)."""
    out = {k: v for k, v in (obj if normalized else normalize(obj)).items() if k not in LOCAL_FIELDS}
    have = out.get(AUTH)
    if isinstance(have, dict):
        out[AUTH] = {k: v for k, v in have.items() if k not in (EXTERNAL_ID, SECRET)}
    return out


def comparable(current: Mapping[str, Any], desired: Mapping[str, Any]) -> tuple[dict, dict]:
    """``(current, desired)`` as diffs compare them: only what the source owns. A field the source object does not
    have is not owned (a server default the source never set is not drift); missing and ``null`` lists are ``[]``;
    the oneOf objects and ``auth_config`` compare whole."""
    want = owned(desired)
    return _project(owned(current), want, ""), want


def _project(have: Any, want: Any, path: str) -> Any:
    if not isinstance(have, dict) or not isinstance(want, dict) or path in ONE_OF or path == AUTH:
        return have
    out = {}
    for key, value in want.items():
        where = f"{path}.{key}" if path else key
        if key in have:
            out[key] = _project(have[key], value, where)
        elif value == [] and (where in STRING_LISTS or where in OBJECT_LISTS):
            out[key] = []  # missing is an empty list
    return out


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    have, want = comparable(current, desired)
    return compute_diff(have, want)


def auth_switch(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Role <-> key auth: the API refuses it in a PATCH (datadog-api-client-python cassette
    test_update_an_aws_integration_returns_bad_request_response), so the account is deleted and created again."""
    return is_key_account(current) != is_key_account(desired)


def auth_changed(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """The role name or access key id differs: the PATCH must carry ``auth_config``."""
    return _owned_auth(current) != _owned_auth(desired)


def _owned_auth(obj: Mapping[str, Any]) -> Any:
    """``owned(obj).get(AUTH)`` without copying the rest (normalising leaves ``auth_config`` as it is)."""
    value = obj.get(AUTH)
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in (EXTERNAL_ID, SECRET)}
    return value


# --------------------------------------------------------------------------------------------- payloads
def _attributes(obj: Mapping[str, Any], secret: str | None, with_auth: bool, normalized: bool = False) -> dict:
    attributes = owned(obj, normalized)
    if not with_auth:
        attributes.pop(AUTH, None)
    elif is_key_account(obj):
        attributes[AUTH] = {**attributes[AUTH], **({SECRET: secret} if secret else {})}
    return attributes


def create_payload(obj: Mapping[str, Any], secret: str | None = None, normalized: bool = False) -> dict:
    """Body of ``POST /api/v2/integration/aws/accounts`` (``AWSAccountCreateRequest``): the whole owned object.
    A role account is sent without an external id (Datadog generates the destination's; the source's belongs to
    the source org); a key account with its secret, from the secrets file."""
    return {"data": {"type": "account", "attributes": _attributes(obj, secret, True, normalized)}}


def update_payload(
    obj: Mapping[str, Any],
    secret: str | None = None,
    with_auth: bool = False,
    current: Mapping[str, Any] | None = None,
    normalized: bool = False,
) -> dict:
    """Body of ``PATCH .../accounts/{id}`` (``AWSAccountUpdateRequest``): the COMPLETE owned object, because the API
    keeps the sub-objects a PATCH leaves out (cassette test_update_an_aws_integration_returns_aws_account_object_
    response). ``auth_config`` only when it changes: a PATCH without it keeps the account's credentials.

    Inside a sub-object it sends, the API replaces the whole sub-object: a nested field the destination has and the
    source never set (``metrics_config.metric_name_filters`` is only listed once set, TF cassette
    TestAccIntegrationAwsAccount_RoleBased) would be dropped. The diff does not own it, so the PATCH keeps
    ``current``'s value of it: sync changes exactly what diffs shows."""
    attributes = _attributes(obj, secret, with_auth, normalized)
    if current is not None:
        attributes = _keep_unowned(owned(current), attributes, "")
    return {"data": {"type": "account", "attributes": attributes}}


def _keep_unowned(have: Any, want: Any, path: str) -> Any:
    """``want`` plus, inside every object both sides have (oneOf objects and auth excepted), the keys only ``have``
    has."""
    if not isinstance(have, dict) or not isinstance(want, dict) or path in ONE_OF or path == AUTH:
        return want
    out = {}
    for key, value in want.items():
        where = f"{path}.{key}" if path else key
        out[key] = _keep_unowned(have[key], value, where) if key in have else value
    if path:  # a top-level attribute left out of a PATCH is kept by the API already
        out.update({key: value for key, value in have.items() if key not in want})
    return out


# ------------------------------------------------------------------------------------------------ checks
def problems(key: str, obj: Mapping[str, Any]) -> list[str]:
    """What is wrong with a stored v2 object: a v1-shaped entry, a known field of the wrong type, a missing or
    contradictory identity, an entry stored under another account's key. Unknown fields are allowed."""
    if not isinstance(obj, Mapping):
        return schema_problems(obj, SCHEMA)
    if is_v1_shaped(obj):
        return [V1_SHAPED]
    found = schema_problems(obj, SCHEMA)
    if found:
        return found
    if not obj.get(AWS_ACCOUNT_ID):
        return [f"{AWS_ACCOUNT_ID}: missing"]
    have = auth(obj)
    if bool(have.get(ROLE_NAME)) == bool(have.get(ACCESS_KEY_ID)):
        return [
            f"{AUTH}: an account has either a role_name (role account) or an access_key_id (key account), "
            "exactly one of them"
        ]
    if obj.get(ACCOUNT_ID) not in (None, obj[AWS_ACCOUNT_ID]):
        return [f"{ACCOUNT_ID}: {obj[ACCOUNT_ID]} is not the aws_account_id {obj[AWS_ACCOUNT_ID]}"]
    if key != state_key(obj):
        return [
            f"{AWS_ACCOUNT_ID}: the entry is stored under {key}, but its {AWS_ACCOUNT_ID} makes it {state_key(obj)}"
        ]
    return []

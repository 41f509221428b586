"""The stored shape of webhooks and webhook custom variables, their comparison and the payloads built from them.

Pure: no HTTP here. Both live under the ``webhooks`` subtype (https://docs.datadoghq.com/api/latest/webhooks-integration/),
keyed by name. The stored object carries the API's object, as ``GET`` answers it, under ``webhook`` or
``custom_variable`` (its ``name`` is the subtype's, so that ``Name=name;Value=webhooks`` selects them)::

    {"name": "webhooks", "webhook": {"name": "deploy-bot", "url": "https://example.com/hook",
                                     "payload": "{\\"text\\": \\"$EVENT_TITLE\\"}", "custom_headers": null,
                                     "encode_as": "json"}}
    {"name": "webhooks", "custom_variable": {"name": "DEPLOY_TOKEN", "is_secret": true}}

State keys: ``webhooks:webhook:<name>`` and ``webhooks:custom_variable:<NAME>``. ``auth_method_id`` (shown by the API
since 2025, no request field sets it) is not kept. A secret variable's ``value`` is never returned (the key is
absent): it comes from the secrets file, ``{"webhooks": {"<CUSTOM_VARIABLE_NAME>": "<value>"}}``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from datadog_sync.diffing import Difference, compute_diff
from datadog_sync.resources.schema import Fields, schema_problems

RESOURCE_TYPE = "integrations"
SUBTYPE = "webhooks"
WEBHOOK = "webhook"
VARIABLE = "custom_variable"
KINDS = (WEBHOOK, VARIABLE)
#: What a webhook create or update sends (the API's WebhooksIntegration fields).
WEBHOOK_FIELDS = ("name", "url", "payload", "custom_headers", "encode_as")
VARIABLE_FIELDS = ("name", "value", "is_secret")
#: The payload the server fills in when a webhook is created without one (recorded:
#: test_create_a_webhooks_integration_returns_ok_response, TestAccDatadogWebhook_Basic): the same as ``null``.
DEFAULT_PAYLOAD = {
    "body": "$EVENT_MSG",
    "last_updated": "$LAST_UPDATED",
    "event_type": "$EVENT_TYPE",
    "title": "$EVENT_TITLE",
    "date": "$DATE",
    "org": {"id": "$ORG_ID", "name": "$ORG_NAME"},
    "id": "$ID",
}
DEFAULT_ENCODE_AS = "json"
#: Custom variable names: upper-case letters, digits and underscores (the API's CustomVariableResponse).
VARIABLE_NAME = re.compile(r"^[A-Z0-9_]+$")
#: ``$NAME`` tokens of a webhook's url, payload or headers: built-in variables or custom ones.
_TOKEN = re.compile(r"\$([A-Z][A-Z0-9_]*)")

SCHEMA: dict[str, Any] = {
    "name": str,
    WEBHOOK: Fields({"name": str, "url": str, "payload": str, "custom_headers": str, "encode_as": str}),
    VARIABLE: Fields({"name": str, "value": str, "is_secret": bool}),
}


# ----------------------------------------------------------------------------------------------- identity
def kind_of(obj: Mapping[str, Any]) -> str | None:
    found = [k for k in KINDS if isinstance(obj.get(k), Mapping)]
    return found[0] if len(found) == 1 else None


def inner(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    what = kind_of(obj)
    return obj[what] if what else {}


def object_name(obj: Mapping[str, Any]) -> str:
    return str(inner(obj).get("name") or "")


def state_key(kind: str, name: str) -> str:
    return f"{SUBTYPE}:{kind}:{name}"


def key_of(obj: Mapping[str, Any]) -> str | None:
    what, name = kind_of(obj), object_name(obj)
    return state_key(what, name) if what and name else None


def split_key(key: str) -> tuple[str, str]:
    """``(kind, name)`` of a state key (``("", "")`` for a key of another shape)."""
    subtype, _, rest = key.partition(":")
    what, _, name = rest.partition(":")
    return (what, name) if subtype == SUBTYPE and what in KINDS and name else ("", "")


def label(kind: str, name: str) -> str:
    return f'webhook "{name}"' if kind == WEBHOOK else f"webhook custom variable {name}"


def is_secret(obj: Mapping[str, Any]) -> bool:
    return kind_of(obj) == VARIABLE and inner(obj).get("is_secret") is True


# ------------------------------------------------------------------------------------------- normalising
def from_api(kind: str, item: Mapping[str, Any]) -> dict:
    """An API answer in the stored shape: the known fields, plus unknown ones but ``auth_method_id``."""
    fields = WEBHOOK_FIELDS if kind == WEBHOOK else VARIABLE_FIELDS
    head = {k: copy.deepcopy(item[k]) for k in fields if k in item}
    rest = {k: copy.deepcopy(v) for k, v in sorted(item.items()) if k not in fields and k != "auth_method_id"}
    if kind == VARIABLE and head.get("is_secret") is True:
        head.pop("value", None)  # never returned; never kept, even if an API ever echoed it
    return {"name": SUBTYPE, kind: {**head, **rest}}


def _json_text(value: Any) -> Any:
    """A JSON text parsed, so that formatting is no drift (a text that is not JSON compares as it is)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def canonical(obj: Mapping[str, Any]) -> dict:
    """The object in the form in which equal configurations compare equal: the server's default payload and
    ``encode_as`` are the same as none, JSON texts compare parsed, and a secret value is never compared."""
    what = kind_of(obj)
    out = {k: copy.deepcopy(v) for k, v in inner(obj).items() if k != "name"}
    if what == WEBHOOK:
        payload = _json_text(out.get("payload"))
        out["payload"] = None if payload == DEFAULT_PAYLOAD else payload
        out["custom_headers"] = _json_text(out.get("custom_headers"))
        out["encode_as"] = out.get("encode_as") or DEFAULT_ENCODE_AS
    elif out.get("is_secret") is True:
        out.pop("value", None)
    return out


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    have, want = canonical(current), canonical(desired)
    return compute_diff({k: v for k, v in have.items() if k in want}, want)


# --------------------------------------------------------------------------------------------- payloads
def webhook_payload(obj: Mapping[str, Any]) -> dict:
    """Body of a webhook create or update (``WebhooksIntegration``): the stored fields, unknown ones left out."""
    hook = inner(obj)
    return {k: copy.deepcopy(hook[k]) for k in WEBHOOK_FIELDS if k in hook}


def variable_payload(obj: Mapping[str, Any], secret: str | None) -> dict:
    """Body of a custom variable create or update: name, ``is_secret`` and the value (a secret's from the file;
    ``None`` leaves it out, which an update of a secret variable does when the file lacks it)."""
    var = inner(obj)
    body: dict[str, Any] = {"name": var.get("name"), "is_secret": var.get("is_secret") is True}
    value = secret if var.get("is_secret") is True else var.get("value")
    if value is not None:
        body["value"] = value
    return body


def variable_tokens(obj: Mapping[str, Any]) -> list[str]:
    """``$NAME`` tokens of a webhook's url, payload and headers: the custom variables it may use."""
    hook = inner(obj) if kind_of(obj) == WEBHOOK else {}
    texts = [hook.get(k) for k in ("url", "payload", "custom_headers")]
    return list(dict.fromkeys(t for text in texts if isinstance(text, str) for t in _TOKEN.findall(text)))


# ------------------------------------------------------------------------------------------------ checks
def problems(key: str, obj: Any) -> list[str]:
    """What is wrong with a stored object: the schema, one kind, a name, a secret value, the key."""
    found = schema_problems(obj, SCHEMA)
    if found:
        return found
    what = kind_of(obj)
    if what is None:
        return [f'exactly one of "{WEBHOOK}" or "{VARIABLE}" is needed']
    name = object_name(obj)
    if not name:
        return [f"{what}.name: a name is needed"]
    if what == WEBHOOK and not inner(obj).get("url"):
        return ["webhook.url: a URL is needed"]
    if what == VARIABLE and not isinstance(inner(obj).get("is_secret"), bool):
        return ["custom_variable.is_secret: true or false is needed"]
    if is_secret(obj) and inner(obj).get("value") is not None:
        return ["custom_variable.value: a secret value is never kept in state files: give it in the secrets file"]
    if key != state_key(what, name):
        return [f"{what}.name: the entry is stored under {key}, but its name makes it {state_key(what, name)}"]
    return []

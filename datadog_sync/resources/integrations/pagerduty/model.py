"""The stored shape of one PagerDuty service object, its comparison and the payloads built from it.

Pure: no HTTP here. A service object is its name and its PagerDuty integration key
(https://docs.datadoghq.com/api/latest/pagerduty-integration/). The key is never returned (create and GET answer
only ``{"service_name": ...}``; the legacy listing masks it as ``"*****"``, terraform-provider-datadog cassette
TestAccDatadogIntegrationPagerdutyServiceObject_Basic), so the stored object is the name alone::

    {"name": "pagerduty", "service_name": "payments"}

The name is the natural key in every org, the state key ``pagerduty:<service_name>`` and the monitor handle
``@pagerduty-<service_name>`` (https://docs.datadoghq.com/integrations/pagerduty/). The key comes from the secrets
file ``{"pagerduty": {"<service_name>": "<service key>"}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from datadog_sync.diffing import Difference
from datadog_sync.resources.schema import schema_problems

RESOURCE_TYPE = "integrations"
SUBTYPE = "pagerduty"
NAME = "service_name"
SECRET = "service_key"
#: What the legacy listing shows in place of every secret.
MASK = "*****"
SCHEMA: dict[str, Any] = {"name": str, NAME: str}


def service_name(obj: Mapping[str, Any]) -> str:
    """The name of a stored object or of a legacy listing's entry (2018 listings said ``service``: documentation
    GH#2165)."""
    value = obj.get(NAME, obj.get("service"))
    return value if isinstance(value, str) else ""


def state_key(obj: Mapping[str, Any]) -> str:
    return f"{SUBTYPE}:{service_name(obj)}"


def label(obj: Mapping[str, Any]) -> str:
    return f"PagerDuty service {service_name(obj)}"


def handle(obj: Mapping[str, Any]) -> str:
    return f"@pagerduty-{service_name(obj)}"


def path_name(name: str) -> str:
    """The name as a path segment: spaces as ``%20`` (``+`` answers 404, terraform-provider-datadog GH#532)."""
    return quote(name, safe="")


def from_api(item: Mapping[str, Any]) -> dict:
    """A listed (or created) service in the stored shape."""
    return {"name": SUBTYPE, NAME: service_name(item)}


def listed_services(body: Any) -> list[dict]:
    """The service entries of a legacy ``GET /api/v1/integration/pagerduty`` answer."""
    services = body.get("services") if isinstance(body, Mapping) else None
    if not isinstance(services, list):
        return []
    return [from_api(s) for s in services if isinstance(s, Mapping) and service_name(s)]


def differences(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
    """Nothing to compare: the name is the identity and the key is never returned, so its drift cannot be seen
    (terraform-provider-datadog docs, pagerduty_service_object: "taint" to push it again)."""
    return []


def create_payload(obj: Mapping[str, Any], secret: str) -> dict:
    """Body of ``POST .../pagerduty/configuration/services`` (``PagerDutyService``)."""
    return {NAME: service_name(obj), SECRET: secret}


def update_payload(secret: str) -> dict:
    """Body of ``PUT .../services/{service_name}`` (``PagerDutyServiceKey``): the key is the only updatable field."""
    return {SECRET: secret}


def problems(key: str, obj: Any) -> list[str]:
    found = schema_problems(obj, SCHEMA)
    if found:
        return found
    if obj.get(SECRET) is not None:
        return [f"{SECRET}: never kept in state files: give it in the integrations secrets file"]
    if not service_name(obj):
        return [f"{NAME}: needed"]
    if key != state_key(obj):
        return [f"{NAME}: the entry is stored under {key}, but its name makes it {state_key(obj)}"]
    return []

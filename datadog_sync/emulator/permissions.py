"""Permission names, what each emulated endpoint requires, and the permission catalog served by the v2 API.

Datadog checks the ``x-permission`` of an operation against the *effective* permissions of the caller: the
permissions of the user owning the application key, narrowed to the key's scopes when the key is scoped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

AWS_READ = "aws_configuration_read"
AWS_EDIT = "aws_configuration_edit"
AWS_MANAGE = "aws_configurations_manage"
USER_APP_KEYS = "user_app_keys"
USER_ACCESS_READ = "user_access_read"
GCP_READ = "gcp_configuration_read"
GCP_EDIT = "gcp_configuration_edit"
GCP_MANAGE = "gcp_configurations_manage"
AZURE_READ = "azure_configuration_read"
AZURE_EDIT = "azure_configuration_edit"
AZURE_MANAGE = "azure_configurations_manage"
#: The service integrations' `x-permission`s (webhooks, PagerDuty, Slack, Opsgenie, Fastly, Cloudflare, Confluent
#: Cloud and Okta API reference pages); Microsoft Teams declares none and uses the same two (docs/emulator.md).
INTEGRATIONS_READ = "integrations_read"
MANAGE_INTEGRATIONS = "manage_integrations"
CREATE_WEBHOOKS = "create_webhooks"  # CreateWebhooksIntegration only
MONITORS_READ = "monitors_read"  # GET /api/v1/monitor
SERVICES_WRITE: frozenset[str] = frozenset({MANAGE_INTEGRATIONS, CREATE_WEBHOOKS})
CLOUD_WRITE: frozenset[str] = frozenset({AWS_EDIT, AWS_MANAGE, GCP_EDIT, GCP_MANAGE, AZURE_EDIT, AZURE_MANAGE})

DEFAULT_PERMISSIONS: frozenset[str] = frozenset(
    {AWS_READ, AWS_EDIT, AWS_MANAGE, USER_APP_KEYS, USER_ACCESS_READ, GCP_READ, GCP_EDIT, GCP_MANAGE}
    | {AZURE_READ, AZURE_EDIT, AZURE_MANAGE}
    | {INTEGRATIONS_READ, MANAGE_INTEGRATIONS, CREATE_WEBHOOKS, MONITORS_READ}
)
# A "read-only" org keeps everything except the write permissions of the cloud and service integrations.
READ_ONLY_PERMISSIONS: frozenset[str] = DEFAULT_PERMISSIONS - CLOUD_WRITE - SERVICES_WRITE

#: The recorded AWS wording below, applied to the GCP and Azure permissions (their own wording is not recorded).
_CLOUD_WORDING = (
    ("Read", "View but not add, remove, or edit {} integration configurations.", "read"),
    ("Edit", "Edit but not add or remove {} integration configurations.", "write"),
    ("Manage", "Add or remove but not edit {} integration configurations.", "write"),
)

# (name, display_name, description, group_name, display_type). Descriptions of the AWS permissions are quoted
# from a recorded GET /api/v2/permissions (test_list_permissions_returns_ok_response cassette,
# datadog-api-client-python); the others are Datadog's public wording.
_CATALOG: dict[str, tuple[str, str, str, str]] = {
    AWS_READ: (
        "AWS Configuration Read",
        "View but not add, remove, or edit AWS integration configurations.",
        "Integrations",
        "read",
    ),
    AWS_EDIT: (
        "AWS Configuration Edit",
        "Edit but not add or remove AWS integration configurations.",
        "Integrations",
        "write",
    ),
    AWS_MANAGE: (
        "AWS Configurations Manage",
        "Add or remove but not edit AWS integration configurations.",
        "Integrations",
        "write",
    ),
    USER_APP_KEYS: (
        "User App Keys",
        "View and manage Application Keys owned by the user.",
        "API and Application Keys",
        "write",
    ),
    USER_ACCESS_READ: (
        "User Access Read",
        "View users and their roles and settings.",
        "Access Management",
        "read",
    ),
    **{
        name: (
            f"{cloud} Configuration{'s' if verb == 'Manage' else ''} {verb}",
            text.format(cloud),
            "Integrations",
            kind,
        )
        for cloud, names in (
            ("GCP", (GCP_READ, GCP_EDIT, GCP_MANAGE)),
            ("Azure", (AZURE_READ, AZURE_EDIT, AZURE_MANAGE)),
        )
        for name, (verb, text, kind) in zip(names, _CLOUD_WORDING, strict=True)
    },
    "manage_integrations": (
        "Integrations Manage",
        "Install, uninstall, and configure integrations.",
        "Integrations",
        "write",
    ),
    "integrations_read": ("Integrations Read", "View integrations and their configurations.", "Integrations", "read"),
    CREATE_WEBHOOKS: ("Webhooks Write", "Create webhooks integrations.", "Integrations", "write"),
    MONITORS_READ: ("Monitors Read", "View monitors.", "Monitors", "read"),
}

_ID_NAMESPACE = uuid.UUID("5a4f4a38-6a1e-4c4e-9d0e-6d61746164f0")
_CREATED = "2018-10-31T13:39:19.727450+00:00"


def effective_permissions(permissions: Iterable[str], scopes: Iterable[str] | None) -> frozenset[str]:
    """Permissions a request actually carries: a scoped key only gets the listed permissions of its owner."""
    granted = frozenset(permissions)
    if scopes is None:
        return granted
    return granted & frozenset(scopes)


def permission_id(name: str) -> str:
    """Stable UUID per permission name, so dumps and tests are reproducible."""
    return str(uuid.uuid5(_ID_NAMESPACE, name))


def permission_resource(name: str) -> dict:
    """One JSON:API ``permissions`` resource as returned by ``GET /api/v2/users/{id}/permissions``."""
    display_name, description, group, display_type = _CATALOG.get(
        name, (name.replace("_", " ").title(), f"Emulated permission {name}.", "General", "write")
    )
    return {
        "type": "permissions",
        "id": permission_id(name),
        "attributes": {
            "name": name,
            "display_name": display_name,
            "description": description,
            "created": _CREATED,
            "group_name": group,
            "display_type": display_type,
            "restricted": False,
        },
    }

"""The ``gcp`` integrations subtype: v2 STS service accounts and the deprecated v1 key integrations."""

from datadog_sync.resources.integrations.gcp.subtype import GcpSubtype

__all__ = ["GcpSubtype"]

"""The ``confluent_cloud`` integrations subtype: Confluent Cloud accounts and their resources (v2 API)."""

from datadog_sync.resources.integrations.confluent_cloud.subtype import ConfluentCloudSubtype

__all__ = ["ConfluentCloudSubtype"]

"""The ``azure`` integrations subtype: app registrations of the v1 Azure integration API."""

from datadog_sync.resources.integrations.azure.subtype import AzureSubtype

__all__ = ["AzureSubtype"]

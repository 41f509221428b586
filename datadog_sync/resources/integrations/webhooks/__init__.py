"""The ``webhooks`` integrations subtype: webhooks and custom variables of Datadog's webhooks integration."""

from datadog_sync.resources.integrations.webhooks.subtype import WebhooksSubtype

__all__ = ["WebhooksSubtype"]

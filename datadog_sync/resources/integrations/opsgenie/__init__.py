"""The ``opsgenie`` integrations subtype: the service objects of Datadog's Opsgenie integration."""

from datadog_sync.resources.integrations.opsgenie.subtype import OpsgenieSubtype

__all__ = ["OpsgenieSubtype"]

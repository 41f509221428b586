"""The ``pagerduty`` integrations subtype: the PagerDuty service objects of Datadog's PagerDuty integration."""

from datadog_sync.resources.integrations.pagerduty.subtype import PagerDutySubtype

__all__ = ["PagerDutySubtype"]

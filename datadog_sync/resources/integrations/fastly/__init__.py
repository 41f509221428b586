"""The ``fastly`` integrations subtype: Fastly accounts and their services (v2 API)."""

from datadog_sync.resources.integrations.fastly.subtype import FastlySubtype

__all__ = ["FastlySubtype"]

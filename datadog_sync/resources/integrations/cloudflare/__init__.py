"""The ``cloudflare`` integrations subtype: Cloudflare accounts (v2 API)."""

from datadog_sync.resources.integrations.cloudflare.subtype import CloudflareSubtype

__all__ = ["CloudflareSubtype"]

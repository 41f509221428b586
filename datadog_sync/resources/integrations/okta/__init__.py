"""The ``okta`` integrations subtype: Okta accounts (v2 API)."""

from datadog_sync.resources.integrations.okta.subtype import OktaSubtype

__all__ = ["OktaSubtype"]

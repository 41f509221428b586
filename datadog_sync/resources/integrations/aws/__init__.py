"""The ``aws`` integrations subtype (v1 AWS integration API)."""

from datadog_sync.resources.integrations.aws.subtype import AwsV1Subtype

__all__ = ["AwsV1Subtype"]

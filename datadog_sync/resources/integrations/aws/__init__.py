"""The ``aws`` integrations subtype: the v2 accounts API (default) and the v1 AWS integration API."""

from datadog_sync.resources.integrations.aws.subtype import AwsV1Subtype
from datadog_sync.resources.integrations.aws.v2_subtype import AwsV2Subtype

__all__ = ["AwsV1Subtype", "AwsV2Subtype"]

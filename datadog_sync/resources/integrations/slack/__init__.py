"""The ``slack`` integrations subtype: the channels of each Slack account (v1 Slack integration API)."""

from datadog_sync.resources.integrations.slack.subtype import SlackSubtype

__all__ = ["SlackSubtype"]

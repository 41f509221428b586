"""The ``ms_teams`` integrations subtype: Microsoft Teams notification handles (tenant-based and Workflows)."""

from datadog_sync.resources.integrations.ms_teams.subtype import MsTeamsSubtype

__all__ = ["MsTeamsSubtype"]

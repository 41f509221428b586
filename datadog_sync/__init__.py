"""datadog-sync: copy Datadog configuration between organizations."""

__version__ = "0.1.0"

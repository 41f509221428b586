"""What a command run hands to every resource: configuration, state, clients and logging."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.config import Configuration
    from datadog_sync.http.client import Client
    from datadog_sync.report import Reporter
    from datadog_sync.sidechannel import SideChannels
    from datadog_sync.state import StateStore

LOGGER_NAME = "datadog_sync"


class ResourceLogger(logging.LoggerAdapter):
    """Prefixes messages upstream-style: ``[<type> - <id>] - message``."""

    def __init__(self, logger: logging.Logger, resource_type: str):
        super().__init__(logger, {})
        self.resource_type = resource_type

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        _id = kwargs.pop("id", "")
        kwargs["extra"] = {**kwargs.get("extra", {}), "resource_type": self.resource_type, "resource_id": _id}
        return f"[{self.resource_type} - {_id}] - {msg}", kwargs


@dataclass
class RunContext:
    config: Configuration
    state: StateStore
    reporter: Reporter
    #: The clients of the orgs the command talks to (``import`` has no destination, ``sync`` no source).
    source: Client | None = None
    destination: Client | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger(LOGGER_NAME))
    _sidechannel: SideChannels | None = field(default=None, init=False, repr=False)

    @property
    def sidechannel(self) -> SideChannels:
        """Files plugins keep beside destination state (journals, hand-off); the host closes them after apply."""
        if self._sidechannel is None:
            from datadog_sync.sidechannel import DIR_NAME, SideChannels

            remote = self.state.object_root("destination")
            self._sidechannel = SideChannels(
                Path(self.config.destination_resources_path) / DIR_NAME, remote / DIR_NAME if remote else None
            )
        return self._sidechannel

    @property
    def destination_client(self) -> Client:
        """The destination client of a command that writes there (sync, reset): always set for those."""
        if self.destination is None:
            raise RuntimeError(f"{self.config.command} has no destination client")
        return self.destination

    def resource_logger(self, resource_type: str) -> ResourceLogger:
        return ResourceLogger(self.logger, resource_type)

    def id_key_of(self, resource_type: str) -> str:
        from datadog_sync.resources import registry

        cls = registry().get(resource_type)
        return cls.config.id_key if cls else "id"

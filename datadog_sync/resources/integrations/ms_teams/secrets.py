"""The ``ms_teams`` section of the integrations secrets file: the URL of each Workflows webhook handle, which the API
never returns, keyed by handle name::

    {"ms_teams": {"<handle name>": "<workflow url>"}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datadog_sync.resources.integrations.secrets import KeyedSecrets, parse_keyed

KEY_DOC, VALUE_DOC = "<handle name>", "workflow url"


def empty() -> KeyedSecrets:
    return KeyedSecrets("ms_teams", KEY_DOC, VALUE_DOC)


def parse(section: Any, path: Path | None) -> KeyedSecrets:
    return parse_keyed(section, path, "ms_teams", KEY_DOC, VALUE_DOC)

"""``datadog-sync secrets-template``: the secrets file a source state needs, with names and no values.

Each subtype of a composite type (``integrations``) says which keys of its secrets-file section a source object
needs (``SubtypeResource.secret_names``: AWS key accounts' access key ids, GCP key accounts' emails, Azure
``<tenant>:<client>`` pairs, secret webhook custom variables, ...). The template maps each to ``""``: the operator
fills in every value (an empty one is refused when the file is read, so none is forgotten silently) and passes the
file with ``--integrations-secrets-file``. Values are never read nor written here.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from typing import Any

from datadog_sync.config import Configuration
from datadog_sync.context import LOGGER_NAME, RunContext
from datadog_sync.log import setup_logging
from datadog_sync.report import Reporter
from datadog_sync.resources import registry
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.composite import CompositeResource
from datadog_sync.state import StateFileError

EXIT_OK, EXIT_FAILURE = 0, 1


def template(resource: CompositeResource, source: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Section -> {name: ""} for every secret the source objects need, sections and names sorted."""
    out: dict[str, dict[str, str]] = {}
    for key, obj in source.items():
        if not isinstance(obj, dict) or resource.invalid_reason(key, obj) is not None:
            continue
        sub = resource.subtype_of(key, obj)
        for name in sub.secret_names(obj):
            out.setdefault(sub.subtype, {})[name] = ""
    return {section: dict(sorted(names.items())) for section, names in sorted(out.items())}


def run_secrets_template(config: Configuration) -> int:
    setup_logging(verbose=config.verbose, emit_json=False)
    logger = logging.getLogger(LOGGER_NAME)
    from datadog_sync.runner import RunFailed, _open_state

    try:
        state = _open_state(config, logger)
        state.load(config.resources, ("source",))  # the template is made of source state alone
    except RunFailed:
        return EXIT_FAILURE
    except StateFileError as exc:
        logger.error("%s", exc)
        return EXIT_FAILURE
    ctx = RunContext(config=config, state=state, reporter=Reporter(config.command, stream=sys.stderr), logger=logger)
    classes = registry()
    document: dict[str, dict[str, str]] = {}
    try:
        for rtype in config.resources:
            resource = classes[rtype](ctx)
            if isinstance(resource, CompositeResource):
                document.update(template(resource, state.source.get(rtype, {})))
    except ResourceError as exc:  # e.g. an unreadable secrets file given with --integrations-secrets-file
        logger.error("%s", exc)
        return EXIT_FAILURE
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    sys.stdout.flush()
    return EXIT_OK

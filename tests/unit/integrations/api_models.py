"""Checking a payload against datadog-api-client's models: what the official client makes of a body, type-checked,
with no attribute the models do not know."""

from __future__ import annotations

import json
from typing import Any

from datadog_api_client import ApiClient, Configuration

from tests.integration.conftest import _model_problems


def valid(body: Any, cls: type) -> Any:
    parsed = ApiClient(Configuration()).deserialize(json.dumps(body), (cls,), True)
    problems = _model_problems(parsed, "body")
    assert not problems, problems
    return parsed

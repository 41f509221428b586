"""Checking bodies against datadog-api-client's models, shared by the emulator's and the integrations' model tests:
what the official client makes of a body (type-checked), and whether every model in it parsed."""

from __future__ import annotations

import json
from typing import Any

from datadog_api_client import ApiClient, Configuration
from datadog_api_client.model_utils import OpenApiModel

from tests.integration.conftest import _model_problems


def deserialize(body: Any, model: type | tuple) -> Any:
    """What the official client makes of ``body`` (ApiClient.deserialize, check_type=True); ``model`` is a model
    class or the client's response-type tuple (``([AWSLogsListResponse],)``)."""
    return ApiClient(Configuration()).deserialize(
        json.dumps(body), model if isinstance(model, tuple) else (model,), True
    )


def assert_deep_parsed(value: Any) -> None:
    """Every model in a deserialized tree parsed fully: nothing ``_unparsed``, oneOf and nested models included."""
    if isinstance(value, list):
        for item in value:
            assert_deep_parsed(item)
    elif isinstance(value, OpenApiModel):
        assert not value._unparsed, value
        for inner in getattr(value, "_composed_instances", None) or []:
            assert_deep_parsed(inner)
        for name in value.attribute_map:
            if name in value._data_store:
                assert_deep_parsed(value._data_store[name])


def deep_parsed(body: Any, model: type) -> Any:
    """``deserialize(body, model)``, which must hold no unparsed model (attributes the models do not know pass)."""
    parsed = deserialize(body, model)
    assert_deep_parsed(parsed)
    return parsed


def valid(body: Any, model: type) -> Any:
    """``deserialize(body, model)``, which must hold no unparsed model and no attribute the models do not know."""
    parsed = deserialize(body, model)
    problems = _model_problems(parsed, "body")
    assert not problems, problems
    return parsed

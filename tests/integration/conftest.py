"""VCR set-up for the end-to-end tests of the ``integrations`` resource.

Modes, chosen by the ``RECORD`` environment variable:

* unset / ``none`` / ``false`` (default): replay ``cassettes/<module>/<test>.yaml``; no server, no network. Any
  request the cassette does not hold fails the test ("Can't overwrite existing cassette").
* ``rewrite`` / ``all`` / ``true``: re-record every cassette. Against the emulator (started per test in a thread)
  unless ``DD_SOURCE_API_KEY``, ``DD_SOURCE_APP_KEY``, ``DD_DESTINATION_API_KEY`` and ``DD_DESTINATION_APP_KEY``
  are set: then against those real orgs (``DD_SOURCE_API_URL`` / ``DD_DESTINATION_API_URL``, default US1).
  Real orgs must be dedicated test orgs: every test deletes all AWS accounts of both orgs before and after.

Recorded requests are made org-neutral and secret-free before they are stored *and* before they are matched:
the host becomes ``source.datadog-sync.test`` or ``destination.datadog-sync.test`` (from the request's API key;
then the key headers are dropped), ``secret_access_key`` values are replaced, and external ids in responses are
replaced by a one-way digest (GCP JSON keys too: ``private_key`` / ``private_key_id``). Matching is on org host,
method, path, query and JSON body (not port).

Each test module runs with only its own ``integrations`` subtypes registered (module attribute ``SUBTYPES``,
default ``("aws",)``), so a cassette holds the calls of the subtypes it tests and keeps replaying when another
subtype is added.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
from vcr.request import Request

RECORD = os.environ.get("RECORD", "none").strip().lower()
RECORDING = RECORD in ("rewrite", "all", "true", "1", "yes")
REAL_ORGS = RECORDING and all(
    os.environ.get(f"DD_{org}_{key}") for org in ("SOURCE", "DESTINATION") for key in ("API_KEY", "APP_KEY")
)

SECRET_MASK = "REDACTED-SECRET-ACCESS-KEY"
SOURCE_HOST = "source.datadog-sync.test"
DESTINATION_HOST = "destination.datadog-sync.test"
_EXTERNAL_ID = re.compile(rb'"external_id"\s*:\s*"([^"]+)"')


def org_keys() -> dict[str, str]:
    """API key -> org host label, for the keys of this run (emulator's, or the real orgs')."""
    from datadog_sync.emulator.testing import DESTINATION, SOURCE

    keys = {SOURCE.api_key: SOURCE_HOST, DESTINATION.api_key: DESTINATION_HOST}
    if REAL_ORGS:
        keys = {os.environ["DD_SOURCE_API_KEY"]: SOURCE_HOST, os.environ["DD_DESTINATION_API_KEY"]: DESTINATION_HOST}
    return keys


#: Request-body fields holding a secret, masked before a request is stored or matched: AWS key accounts' secret
#: access key, GCP JSON keys' private key (and its id), Azure app registrations' client secret.
SECRET_FIELDS = ("secret_access_key", "private_key", "private_key_id", "client_secret")


def _scrub_json(value):
    if isinstance(value, dict):
        return {k: (SECRET_MASK if k in SECRET_FIELDS and v else _scrub_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    return value


def _body_bytes(body) -> bytes:
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode()


def scrub_request(request: Request) -> Request:
    keys = org_keys()
    api_key = request.headers.get("DD-API-KEY") or request.headers.get("dd-api-key")
    # Also applied to requests loaded from a cassette: those are scrubbed already and carry no key.
    host = keys.get(api_key) or (request.host if request.host.endswith(".datadog-sync.test") else "unknown-org")
    path = request.uri.split("://", 1)[-1]
    path = path[path.find("/") :] if "/" in path else "/"
    request.uri = f"https://{host}{path}"
    for name in list(request.headers):
        if name.lower() in ("dd-api-key", "dd-application-key", "user-agent"):
            del request.headers[name]
    raw = _body_bytes(request.body)
    if raw:
        try:
            request.body = json.dumps(_scrub_json(json.loads(raw)), sort_keys=True).encode()
        except ValueError:
            pass
    return request


def scrub_response(response: dict) -> dict:
    body = response.get("body", {}).get("string")
    if isinstance(body, (bytes, str)):
        raw = _body_bytes(body)
        raw = _EXTERNAL_ID.sub(
            lambda m: b'"external_id": "' + hashlib.sha256(m.group(1)).hexdigest()[:32].encode() + b'"', raw
        )
        response["body"]["string"] = raw
    headers = response.get("headers") or {}
    response["headers"] = {k: v for k, v in headers.items() if k.lower() in ("content-type",)}
    return response


def json_body(r1: Request, r2: Request) -> None:
    def parsed(r):
        raw = _body_bytes(r.body)
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw

    assert parsed(r1) == parsed(r2), f"bodies differ: {r1.body!r} != {r2.body!r}"


def pytest_recording_configure(config, vcr):
    vcr.register_matcher("json_body", json_body)


@pytest.fixture(autouse=True)
def only_tested_subtypes(request: pytest.FixtureRequest):
    """Only the module's ``SUBTYPES`` (default ``("aws",)``) are registered while its tests run: a module's
    cassettes hold its own subtypes' traffic, so registering another subtype never invalidates them."""
    from datadog_sync.resources.integrations import IntegrationsResource

    wanted = set(getattr(request.module, "SUBTYPES", ("aws",)))
    registered = dict(IntegrationsResource.subtype_classes)
    for name in registered:
        if name not in wanted:
            IntegrationsResource.unregister_subtype(name)
    try:
        yield
    finally:
        for part in registered:
            IntegrationsResource.unregister_subtype(part)
        for cls in registered.values():  # in the order they were registered
            IntegrationsResource.register_subtype(cls)


@pytest.fixture(scope="module")
def vcr_config():
    return {
        "record_mode": "rewrite" if RECORDING else "none",
        "match_on": ("method", "host", "path", "query", "json_body"),
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
        "filter_query_parameters": ["api_key", "application_key"],
    }

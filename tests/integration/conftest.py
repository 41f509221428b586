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
then the key headers are dropped), secrets (``SECRET_FIELDS``) and ``external_id`` values in request bodies are
replaced by masks, external ids in responses by a one-way digest (``scrubbed`` + 24 hex digits; cassettes
recorded before that form have 32 hex digits), and the v2 answers' read-only ``created_at`` / ``modified_at`` by
a fixed time (the CLI never keeps them), so a re-recording only changes what changed. Matching is on org host,
method, path, query and JSON body (not port).

After every cassette test, the cassette's requests are checked (``recorded_problems``): each v2 AWS account
request body must deserialize into datadog-api-client's ``AWSAccountCreateRequest`` (POST) or
``AWSAccountUpdateRequest`` (PATCH), type-checked, every oneOf matched and no attribute the models do not know;
no request may carry a secret or an external id; while recording, no external id that an org sent may be
stored anywhere in the cassette; and a replay must play every recorded interaction.

Each test module runs with only its own ``integrations`` subtypes registered (module attribute ``SUBTYPES``,
default ``("aws",)``), so a cassette holds the calls of the subtypes it tests and keeps replaying when another
subtype is added. Its tests get their orgs from the ``orgs`` fixture, an instance of the module's ``ORGS`` (default
helpers.Orgs, AWS v1).
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
EXTERNAL_ID_MASK = "REDACTED-EXTERNAL-ID"
SCRUBBED_ID = re.compile(r"scrubbed[0-9a-f]{24}")
SOURCE_HOST = "source.datadog-sync.test"
DESTINATION_HOST = "destination.datadog-sync.test"
_EXTERNAL_ID = re.compile(rb'"external_id"\s*:\s*"([^"]+)"')
V2_ACCOUNTS = "/api/v2/integration/aws/accounts"
RECORDED_AT = "2026-01-01T00:00:00Z"
_TIMESTAMPS = ("created_at", "modified_at")
#: Every external id an org answered with while recording (kept in memory only, to prove none is stored).
SEEN_EXTERNAL_IDS: set[str] = set()


def org_keys() -> dict[str, str]:
    """API key -> org host label, for the keys of this run (emulator's, or the real orgs')."""
    from datadog_sync.emulator.testing import DESTINATION, SOURCE

    keys = {SOURCE.api_key: SOURCE_HOST, DESTINATION.api_key: DESTINATION_HOST}
    if REAL_ORGS:
        keys = {os.environ["DD_SOURCE_API_KEY"]: SOURCE_HOST, os.environ["DD_DESTINATION_API_KEY"]: DESTINATION_HOST}
    return keys


#: Request-body fields holding a secret, masked before a request is stored or matched: AWS key accounts' secret
#: access key, GCP JSON keys' private key (and its id), Azure app registrations' client secret, PagerDuty service
#: keys, Opsgenie API keys, Microsoft Teams Workflows handles' url, Fastly/Cloudflare/Okta API keys and Confluent
#: API secrets, webhook custom variables' value (secret ones come from the secrets file; plain ones are masked
#: alike).
SECRET_FIELDS = (
    "secret_access_key",
    "private_key",
    "private_key_id",
    "client_secret",
    "service_key",
    "opsgenie_api_key",
    "url",
    "api_key",
    "api_secret",
    "value",
)
_REQUEST_MASKS = {**dict.fromkeys(SECRET_FIELDS, SECRET_MASK), "external_id": EXTERNAL_ID_MASK}


def _scrub_json(value):
    if isinstance(value, dict):
        return {k: (_REQUEST_MASKS[k] if k in _REQUEST_MASKS and v else _scrub_json(v)) for k, v in value.items()}
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


def scrubbed_external_id(raw: str) -> str:
    SEEN_EXTERNAL_IDS.add(raw)
    return "scrubbed" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def _scrub_ids(value):
    """External ids of a parsed answer: ``external_id`` anywhere, and the ``id`` of a v2 ``external_id`` object;
    timestamps fixed."""
    if isinstance(value, dict):
        is_external_id = value.get("type") == "external_id"
        return {
            k: (
                scrubbed_external_id(v)
                if isinstance(v, str) and v and (k == "external_id" or (k == "id" and is_external_id))
                else RECORDED_AT if k in _TIMESTAMPS and isinstance(v, str) else _scrub_ids(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub_ids(v) for v in value]
    return value


def scrub_response(response: dict) -> dict:
    body = response.get("body", {}).get("string")
    if isinstance(body, (bytes, str)):
        raw = _body_bytes(body)
        if b"external_id" in raw or b"created_at" in raw:
            try:
                raw = json.dumps(_scrub_ids(json.loads(raw))).encode()
            except ValueError:  # not JSON: the same substitution on the text
                raw = _EXTERNAL_ID.sub(
                    lambda m: b'"external_id": "' + scrubbed_external_id(m.group(1).decode()).encode() + b'"', raw
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


@pytest.fixture
def orgs(request: pytest.FixtureRequest, vcr, workdir):
    """The module's ``ORGS`` for one test: prepared (``prepare``: emptied, or what only the UI does seeded) before
    it, both orgs emptied after it."""
    from tests.integration.helpers import Orgs

    orgs = getattr(request.module, "ORGS", Orgs)(vcr, workdir)
    try:
        orgs.prepare()
        yield orgs
        orgs.wipe("source")
        orgs.wipe("destination")
    finally:
        orgs.close()


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


# ------------------------------------------------------------------------- checks of every recorded request


def _model_problems(value, where: str) -> list[str]:
    """What in a deserialized datadog-api-client model did not parse: unmatched oneOfs, unknown attributes."""
    from datadog_api_client.model_utils import ModelComposed, ModelSimple, OpenApiModel

    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _model_problems(item, f"{where}[{i}]")]
    if not isinstance(value, OpenApiModel):
        return []
    if isinstance(value, ModelSimple):  # an enum: a value outside it is left unparsed
        return [f"{where}: {value.value!r} is not a valid {type(value).__name__}"] if value._unparsed else []
    if value._unparsed:  # a oneOf no variant matches, or a value somewhere inside that the models refuse
        return [f"{where}: not a valid {type(value).__name__}"]
    if isinstance(value, ModelComposed):
        return [p for inner in value._composed_instances for p in _model_problems(inner, where)]
    unknown = sorted(set(value._data_store) - set(value.attribute_map))
    problems = [f"{where}.{name}: not an attribute of {type(value).__name__}" for name in unknown]
    for name in value.attribute_map:
        if name in value._data_store:
            problems += _model_problems(value._data_store[name], f"{where}.{name}")
    return problems


def v2_body_problems(method: str, path: str, body: bytes | str | None) -> list[str]:
    """Why a v2 AWS request body is not what datadog-api-client's v2 models accept ([] when it is, or not v2)."""
    if not path.startswith("/api/v2/integration/aws/"):
        return []
    raw = _body_bytes(body)
    if path == V2_ACCOUNTS and method == "POST":
        from datadog_api_client.v2.model.aws_account_create_request import AWSAccountCreateRequest as Model
    elif path.startswith(V2_ACCOUNTS + "/") and path.count("/") == 6 and method == "PATCH":
        from datadog_api_client.v2.model.aws_account_update_request import AWSAccountUpdateRequest as Model
    elif raw:
        return [f"{method} {path}: a v2 body this check has no model for"]
    else:
        return []
    from datadog_api_client import ApiClient, Configuration

    try:
        parsed = ApiClient(Configuration()).deserialize(raw.decode(), (Model,), True)
    except Exception as exc:  # the client's own type and value errors, or a missing required field
        return [f"{method} {path}: not a {Model.__name__}: {type(exc).__name__}: {exc}"]
    return [f"{method} {path}: {p}" for p in _model_problems(parsed, "body")]


def _masked_values(value, key: str) -> list:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == key] + [x for v in value.values() for x in _masked_values(v, key)]
    if isinstance(value, list):
        return [x for v in value for x in _masked_values(v, key)]
    return []


def recorded_problems(cassette, scrubbed_ids: bool = False) -> list[str]:
    """Every problem of a cassette's interactions: v2 bodies the official models refuse, an unmasked secret or
    external id in a request, an external id an org sent (seen while recording) stored anywhere, and with
    ``scrubbed_ids`` an answer's external id not in the digest form."""
    problems: list[str] = []
    text = []
    for request, response in cassette.data:
        problems += v2_body_problems(request.method, request.path, request.body)
        raw = _body_bytes(request.body)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        for key, mask in _REQUEST_MASKS.items():
            leaked = [v for v in _masked_values(parsed, key) if v and v != mask]
            if leaked:
                problems.append(f"{request.method} {request.path}: {key} sent unmasked")
        answer = _body_bytes((response.get("body") or {}).get("string")).decode(errors="replace")
        if scrubbed_ids:
            for value in _EXTERNAL_ID.findall(answer.encode()):
                if not SCRUBBED_ID.fullmatch(value.decode()):
                    problems.append(f"{request.method} {request.path}: external_id {value.decode()!r} not scrubbed")
        text += [request.uri, raw.decode(errors="replace"), answer]
    stored = "\n".join(text)
    problems += [f"the external id {i[:6]}... that an org sent is stored" for i in SEEN_EXTERNAL_IDS if i in stored]
    return problems


@pytest.fixture(autouse=True)
def recorded_requests_checked(request):
    """After each cassette test: ``recorded_problems`` of its cassette (recorded now, or replayed) must be empty,
    and a replay must have played every recorded interaction (a request the CLI stopped making is a stale
    cassette)."""
    if request.node.get_closest_marker("vcr") is None:
        yield
        return
    cassette = request.getfixturevalue("vcr")
    yield
    scrubbed = "test_integrations_aws_v2" in str(getattr(cassette, "_path", ""))
    problems = recorded_problems(cassette, scrubbed_ids=scrubbed)
    if not RECORDING and not cassette.all_played:  # the run no longer makes a recorded request: re-record
        unplayed = [i for i in range(len(cassette.data)) if not cassette.play_counts[i]]
        problems += [f"not replayed: {cassette.data[i][0].method} {cassette.data[i][0].uri}" for i in unplayed]
    assert not problems, "\n".join(problems)

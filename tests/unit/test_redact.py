"""Secret masking: field-name redaction, the secret-value registry, the logging filter, and the client's logs."""

from __future__ import annotations

import copy
import io
import logging

import pytest

from datadog_sync import redact as redact_mod
from datadog_sync.http import HTTPError, RetryPolicy
from datadog_sync.redact import (
    SECRET_FIELD_PATTERN,
    RedactingFilter,
    install_redacting_filter,
    redact,
    redact_text,
    register_secret,
)
from tests.unit.http_support import FakeTime, Reply, make_client, scripted_server

API_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
APP_KEY = "0f9e8d7c6b5a49382716a5b4c3d2e1f0abcdef12"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture(autouse=True)
def clean_registry():
    redact_mod._clear_secrets()
    yield
    redact_mod._clear_secrets()


# -- redact() -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "secret",
        "secret_access_key",
        "SecretAccessKey",
        "api_key",
        "apiKey",
        "DD-API-KEY",
        "app_key",
        "application_key",
        "DD-APPLICATION-KEY",
        "password",
        "PASSWORD",
        "token",
        "access_token",
        "private_key",
        "client_secret",
        "Authorization",
        "dd-auth-jwt",
        "service_key",
        "opsgenie_api_key",
        "api_secret",
    ],
)
def test_secret_field_names(name):
    assert SECRET_FIELD_PATTERN.search(name)


@pytest.mark.parametrize(
    "name", ["access_key_id", "account_id", "role_name", "external_id", "name", "key_id_hint", "service_name"]
)
def test_non_secret_field_names(name):
    assert not SECRET_FIELD_PATTERN.search(name)


def test_redact_nested_copy_without_mutating_input():
    data = {
        "account_id": "123456789012",
        "auth_config": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": AWS_SECRET},
        "items": [{"name": "a", "api_key": "k1"}, {"name": "b"}, "text", 3],
        "password": None,
        "token": "",
        "nested": {"deeper": [{"client_secret": {"any": "thing"}}]},
    }
    before = copy.deepcopy(data)
    out = redact(data)
    assert data == before
    assert out == {
        "account_id": "123456789012",
        "auth_config": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "***"},
        "items": [{"name": "a", "api_key": "***"}, {"name": "b"}, "text", 3],
        "password": None,
        "token": "",
        "nested": {"deeper": [{"client_secret": "***"}]},
    }
    assert out["items"][1] is data["items"][1]  # untouched branches are shared, not copied


def test_booleans_and_null_are_never_secrets_but_every_other_value_is_masked():
    data = {
        "secretless_auth_enabled": True,
        "is_secret": False,
        "client_secret": None,
        "api_key": 1234567890,
        "service_key": "0123abcd",
        "private_key": ["-----BEGIN PRIVATE KEY-----", "MIIE"],
        "token": {"value": "t0k3n", "enabled": True},
        "settings": [{"secret_enabled": False, "api_token": 0}],
    }
    assert redact(data) == {
        "secretless_auth_enabled": True,
        "is_secret": False,
        "client_secret": None,
        "api_key": "***",
        "service_key": "***",
        "private_key": "***",
        "token": "***",
        "settings": [{"secret_enabled": False, "api_token": "***"}],
    }
    flags = {"secretless_auth_enabled": False, "nested": [{"is_secret": True}]}
    assert redact(flags) is flags  # nothing to mask: the input itself


def test_redact_fast_path_returns_same_object():
    data = {"a": [{"b": 1}, {"c": [1, 2]}], "role_name": "DatadogIntegrationRole"}
    assert redact(data) is data
    lst = [{"x": 1}]
    assert redact(lst) is lst
    assert redact("string") == "string" and redact(None) is None and redact(5) == 5


# -- registry, redact_text, filter ---------------------------------------------------------------------------


def test_register_and_redact_text():
    assert redact_text(f"key={API_KEY}") == f"key={API_KEY}"  # nothing registered yet
    register_secret(API_KEY)
    register_secret("abc")  # too short: ignored
    register_secret(None)
    register_secret("")
    assert redact_mod.registered_secret_count() == 1
    assert redact_text(f"key={API_KEY}; abc stays") == "key=***; abc stays"


def test_longer_secret_masked_whole():
    register_secret("abcd")
    register_secret("abcdefgh")
    assert redact_text("x abcdefgh y abcd") == "x *** y ***"


def _logger_with_filter(name):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    install_redacting_filter(handler)
    install_redacting_filter(handler)  # idempotent
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_filter_masks_message_args_and_traceback():
    register_secret(API_KEY)
    register_secret(AWS_SECRET)
    logger, stream = _logger_with_filter("datadog_sync.test_redact_filter")
    logger.info("header DD-API-KEY=%s", API_KEY)
    logger.warning(f"inline {AWS_SECRET} and a number %d", 5)
    try:
        raise ValueError(f"bad key {API_KEY}")
    except ValueError:
        logger.exception("failed")
    logger.info("nothing secret %s", "here")
    out = stream.getvalue()
    assert API_KEY not in out and AWS_SECRET not in out
    assert "INFO header DD-API-KEY=***" in out
    assert "WARNING inline *** and a number 5" in out
    assert "ValueError: bad key ***" in out
    assert "INFO nothing secret here" in out


def test_filter_passes_records_when_registry_empty():
    logger, stream = _logger_with_filter("datadog_sync.test_redact_empty")
    logger.info("plain %s", "message")
    assert stream.getvalue() == "INFO plain message\n"


def test_install_on_root_handlers_by_default():
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        install_redacting_filter()
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    finally:
        root.removeHandler(handler)


# -- the client's log lines ----------------------------------------------------------------------------------


@pytest.fixture
async def server():
    async with scripted_server() as s:
        yield s


async def test_client_debug_lines_redacted(server, caplog):
    caplog.set_level(logging.DEBUG, logger="datadog_sync")
    caplog.handler.addFilter(RedactingFilter())
    register_secret(AWS_SECRET)
    server.add(
        Reply(503, json={"errors": ["Service Unavailable"]}),
        Reply(
            200,
            json={
                "data": {"attributes": {"secret_access_key": AWS_SECRET, "note": f"echo {APP_KEY}", "api_key": "x1y2"}}
            },
        ),
        Reply(403, json={"errors": [f"Forbidden for key {API_KEY}"]}),
    )
    fake = FakeTime()
    async with make_client(server.url, fake, api_key=API_KEY, app_key=APP_KEY, retry=RetryPolicy()) as c:
        payload = {"auth_config": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": AWS_SECRET}}
        await c.post("/api/v2/integration/aws/accounts", json=payload)
        with pytest.raises(HTTPError) as info:
            await c.get("/api/v1/validate", params={"q": "v"})
        logging.getLogger("datadog_sync").error("request failed: %s", info.value)
    text = caplog.text
    for secret in (API_KEY, APP_KEY, AWS_SECRET, "x1y2"):
        assert secret not in text
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug[0].startswith(
        '[destination] -> POST /api/v2/integration/aws/accounts {"auth_config":{"access_key_id":"AKIAEXAMPLE",'
        '"secret_access_key":"***"}}'
    )
    assert any(
        line.startswith("[destination] <- 503 POST /api/v2/integration/aws/accounts (") and " ms) " in line
        for line in debug
    )
    ok = next(line for line in debug if line.startswith("[destination] <- 200 POST"))
    assert '"secret_access_key":"***"' in ok and '"note":"echo ***"' in ok and '"api_key":"***"' in ok
    assert any(line.startswith("[destination] -> GET /api/v1/validate?q=v") for line in debug)
    assert "Forbidden for key ***" in text
    assert any("retrying in" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert payload["auth_config"]["secret_access_key"] == AWS_SECRET  # caller's data untouched


async def test_client_debug_bodies_masked_without_filter(server, caplog):
    """Even with no RedactingFilter installed, the client's own DEBUG lines never carry registered keys."""
    caplog.set_level(logging.DEBUG, logger="datadog_sync")
    server.add(Reply(200, body=f"plain text with {APP_KEY}"))
    async with make_client(server.url, FakeTime(), api_key=API_KEY, app_key=APP_KEY) as c:
        with pytest.raises(HTTPError, match="not a JSON object"):  # text is not a Datadog answer, but is logged
            await c.post("/x", json={"note": f"has {API_KEY}"})
    assert "plain text with ***" in caplog.text
    assert API_KEY not in caplog.text and APP_KEY not in caplog.text


async def test_no_debug_formatting_when_disabled(server, caplog):
    caplog.set_level(logging.INFO, logger="datadog_sync")
    async with make_client(server.url, FakeTime()) as c:
        await c.get("/x")
    assert not [r for r in caplog.records if r.name == "datadog_sync"]


def test_registering_many_secrets_compiles_the_pattern_once_on_use():
    from datadog_sync import redact as module

    module._clear_secrets()
    for i in range(3000):
        module.register_secret(f"wJalrXUtnFEMI/K7MDENG/bPxRfiCY{i:010d}")
    assert module._secret_re is None, "registration must not compile the pattern (that was quadratic)"
    assert module.redact_text("key wJalrXUtnFEMI/K7MDENG/bPxRfiCY0000002999 end") == "key *** end"
    compiled = module._secret_re
    assert module.redact_text("nothing here") == "nothing here"
    assert module._secret_re is compiled, "no recompilation without new secrets"
    module._clear_secrets()

"""Error body parsing, error message formatting and hints, retry policy arithmetic (no network)."""

from __future__ import annotations

import pickle
import random

import pytest
from multidict import CIMultiDict

from datadog_sync.http import (
    CircuitOpenError,
    ConnectionFailed,
    HTTPError,
    RequestTimeout,
    RetryBudgetExceeded,
    RetryPolicy,
    parse_error_messages,
)
from datadog_sync.http.retry import parse_rate_limit_reset, parse_retry_after

# -- parse_error_messages: bodies the API answered in datadog-api-client-python's cassettes --------------------
# (test_delete_an_aws_integration_returns_ok_response, test_create_an_aws_integration_returns_conflict_response,
# test_get_an_aws_integration_by_config_id_returns_not_found_response) and cloudposse/terraform-aws-datadog-integration#83


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            {"errors": ["AWS account 123 does not exist in integration"]},
            ["AWS account 123 does not exist in integration"],
        ),
        (
            {"errors": ["Forbidden", "Failed permission authorization checks"]},
            ["Forbidden", "Failed permission authorization checks"],
        ),
        ({"errors": ["Internal Error"]}, ["Internal Error"]),
        ({"status": "error", "code": 403, "errors": ["Forbidden"]}, ["Forbidden"]),
        (
            {
                "errors": [
                    {
                        "status": "409",
                        "title": "Account already exists",
                        "detail": "AWS account with provided id already exists",
                    }
                ]
            },
            ["Account already exists: AWS account with provided id already exists"],
        ),
        (
            {
                "errors": [
                    {
                        "status": "404",
                        "title": "Account not found",
                        "detail": "AWS account with provided id is not integrated",
                    }
                ]
            },
            ["Account not found: AWS account with provided id is not integrated"],
        ),
        (
            {
                "errors": [
                    {
                        "status": "400",
                        "title": "Bad Request",
                        "detail": "invalid value",
                        "meta": {"aws_partition": "invalid partition: aws-invalid"},
                    }
                ]
            },
            ["Bad Request: invalid value (aws_partition: invalid partition: aws-invalid)"],
        ),
        (
            {"errors": [{"title": "Generic Error", "detail": "invalid partition: aws-invalid"}]},
            ["Generic Error: invalid partition: aws-invalid"],
        ),
        ({"errors": [{"title": "Only a title"}]}, ["Only a title"]),
        ({"errors": [{"detail": "Only a detail"}]}, ["Only a detail"]),
        ({"errors": [{"status": "500"}]}, ["500"]),
        ({"errors": "a plain string"}, ["a plain string"]),
        ({"error": "single error"}, ["single error"]),
        ({"message": "msg"}, ["msg"]),
        ({"unexpected": 1}, ['{"unexpected":1}']),
        ({}, []),
        (None, []),
        ("", []),
        (b"", []),
        ("   ", []),
        (["x", "y"], ["x", "y"]),
    ],
)
def test_parse_error_messages(body, expected):
    assert parse_error_messages(body) == expected


def test_parse_error_messages_from_bytes_and_json_text():
    raw = b'{"errors":[{"status":"400","title":"Bad Request","detail":"invalid External ID"}]}'
    assert parse_error_messages(raw) == ["Bad Request: invalid External ID"]
    assert parse_error_messages(raw.decode()) == ["Bad Request: invalid External ID"]
    assert parse_error_messages("{not json") == ["{not json"]


def test_parse_error_messages_html():
    page = (
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title><script>var x = 1;</script></head>"
        "<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx &amp; friends</center></body></html>"
    )
    (msg,) = parse_error_messages(page.encode())
    assert msg == "502 Bad Gateway 502 Bad Gateway nginx & friends"
    long = "<html><body><p>" + "word " * 200 + "</p></body></html>"
    (msg,) = parse_error_messages(long)
    assert len(msg) == 200 and "<" not in msg


def test_parse_error_messages_plain_text_truncated():
    (msg,) = parse_error_messages("x" * 500)
    assert msg == "x" * 200


# -- HTTPError formatting ------------------------------------------------------------------------------------


def err(status, body, *, method="GET", path="/api/v2/integration/aws/accounts", **kw):
    return HTTPError(status, method, path, body, {}, **kw)


def test_str_basic_and_no_messages():
    assert str(err(404, None)) == "404 Not Found on GET /api/v2/integration/aws/accounts (destination)"
    e = err(512, "overloaded", method="POST", path="/api/v1/monitor", org="source")
    assert str(e) == "512 Server Error on POST /api/v1/monitor (source): overloaded"
    assert e.hint is None


def test_403_with_permission_hint():
    e = err(
        403,
        {"errors": ["Forbidden", "Failed permission authorization checks"]},
        method="PUT",
        path="/api/v1/integration/aws",
        permission="aws_configuration_edit",
    )
    assert str(e) == (
        "403 Forbidden on PUT /api/v1/integration/aws (destination): Forbidden; Failed permission authorization checks"
        "\nhint: the destination application key or its owner lacks the `aws_configuration_edit` permission"
    )


@pytest.mark.parametrize(
    "body, path",
    [
        ({"errors": ["API key required"]}, "/api/v1/validate"),
        ({"errors": ["Forbidden"]}, "/api/v1/validate"),
        ({"errors": ["Invalid API key"]}, "/api/v2/integration/aws/accounts"),
    ],
)
def test_api_key_hint(body, path):
    e = err(403, body, path=path, permission="aws_configuration_read")
    assert e.is_api_key_error
    assert str(e).endswith("\nhint: check the destination API key (DD_DESTINATION_API_KEY)")


def test_app_key_hint_without_permission():
    e = err(403, {"errors": ["Forbidden"]}, org="source")
    assert e.hint.startswith("check the source application key (DD_SOURCE_APP_KEY)")
    e = err(401, {"errors": ["Unauthorized"]})
    assert e.hint == "check the destination application key (DD_DESTINATION_APP_KEY)"


def test_messages_overridable_and_lazy():
    e = err(400, {"errors": ["a"]})
    assert e.messages == ["a"]
    e.messages = ["b"]
    assert str(e).endswith(": b")


def test_retry_budget_exceeded_from_error():
    base = err(503, {"errors": ["Service Unavailable"]}, permission="p")
    e = RetryBudgetExceeded.from_error(base, attempts=4, elapsed=12.345, reason="budget")
    assert isinstance(e, HTTPError) and e.retries_exhausted and e.attempts == 4 and e.permission == "p"
    assert str(e) == (
        "503 Service Unavailable on GET /api/v2/integration/aws/accounts (destination): Service Unavailable "
        "(gave up after 4 attempts in 12.3s: budget)"
    )


def test_exceptions_pickle():
    e = RetryBudgetExceeded.from_error(err(429, {"errors": ["x"]}), attempts=2, elapsed=1.0)
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is RetryBudgetExceeded and str(e2) == str(e) and e2.messages == ["x"]
    c = CircuitOpenError("destination", 10, 30.0, method="GET", path="/x")
    c2 = pickle.loads(pickle.dumps(c))
    assert str(c2) == "destination API unavailable: 10 consecutive server errors; pausing requests for 30s"
    t = RequestTimeout("timed out after 30s reading response", method="GET", url="http://h/x")
    assert str(pickle.loads(pickle.dumps(t))) == str(t)


def test_transport_error_str():
    t = RequestTimeout("timed out after 30s reading response", method="GET", url="http://h/x")
    assert str(t) == "timed out after 30s reading response on GET http://h/x"
    t.org, t.path = "source", "/x"
    assert str(t) == "timed out after 30s reading response on GET /x (source)"
    assert str(ConnectionFailed("")) == "ConnectionFailed"


# -- retry arithmetic ----------------------------------------------------------------------------------------


def test_backoff_doubles_and_caps():
    p = RetryPolicy(jitter=0)
    rng = random.Random(0)
    assert [p.backoff(n, rng) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert p.backoff(10_000, rng) == 30


def test_backoff_jitter_bounds():
    p = RetryPolicy()
    rng = random.Random(1)
    for n in range(1, 8):
        base = min(0.5 * 2 ** (n - 1), 30)
        for _ in range(50):
            assert base * 0.8 <= p.backoff(n, rng) <= base * 1.2
    for _ in range(50):
        assert 0 <= p.at_least(0, rng) <= 0.1
        assert 5 <= p.at_least(5, rng) <= 6


@pytest.mark.parametrize(
    "kw",
    [{"max_attempts": 0}, {"jitter": 1.0}, {"jitter": -0.1}, {"retry_timeout": -1}, {"breaker_threshold": 0}],
)
def test_policy_validation(kw):
    with pytest.raises(ValueError):
        RetryPolicy(**kw)


def test_header_parsing():
    h = CIMultiDict({"x-ratelimit-reset": " 7 "})
    assert parse_rate_limit_reset(h) == 7
    assert parse_rate_limit_reset(CIMultiDict({"X-RateLimit-Reset": "1.5"})) == 1.5
    assert parse_rate_limit_reset(CIMultiDict({"X-RateLimit-Reset": "-3"})) == 0
    assert parse_rate_limit_reset(CIMultiDict({"X-RateLimit-Reset": "soon"})) is None
    assert parse_rate_limit_reset(CIMultiDict({"X-RateLimit-Reset": "nan"})) is None
    assert parse_rate_limit_reset(CIMultiDict()) is None
    assert parse_retry_after(CIMultiDict({"retry-after": "12"})) == 12
    assert parse_retry_after(CIMultiDict({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0
    assert parse_retry_after(CIMultiDict({"Retry-After": "whenever"})) is None


# -- an error body's control characters never reach the terminal raw ------------------------------------------


async def test_html_error_body_escapes_reach_logs_and_summary_escaped(server, fake, monkeypatch):
    import io
    import logging

    from datadog_sync.log import setup_logging
    from datadog_sync.report import Outcome, Reporter, failure_class
    from tests.unit.http_support import Reply, make_client

    # Raw control characters in an HTML page survive tag stripping: ESC [2J clears the screen, U+009B is a CSI.
    page = "<html><title>400 \x1b[2J</title><body>bad\r\n2026-01-01 - ERROR - fake\x9b</body></html>"
    server.add(Reply(400, body=page, headers={"Content-Type": "text/html"}))
    client = make_client(server.url, fake)
    with pytest.raises(HTTPError) as info:
        await client.post("/api/v1/integration/aws", json={})
    await client.close()
    assert "\x1b" in str(info.value)  # the raw text the API sent, as the error keeps it

    stderr, stdout = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    setup_logging()
    logger = logging.getLogger("datadog_sync")
    logger.error("[integrations - aws:1] - create failed: %s", info.value)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    reporter = Reporter("sync", stream=stdout)
    reporter.record(Outcome.failure("sync", "integrations", "aws:1", "sync", str(info.value), None, "create"))
    stdout.write("\n".join(reporter.problem_lines()) + "\n")

    for text in (stderr.getvalue(), stdout.getvalue()):
        assert text.count("\n") == 1 and text.endswith("\n"), text
        assert not any(ch in text for ch in "\x1b\r\x9b"), text
        assert "400 \\u001b[2J" in text and "fake\\u009b" in text
    assert failure_class(info.value) == "http_4xx_other"

"""A server answering the same JSON object on every path (``{"valid": true}``) passes key validation with
``--verify-ddr-status=false``; the AWS listings must then have their documented shapes, or the type fails clearly
and the previous source state is kept (issue 9, item 7)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_cli_answers import portal, run

pytestmark = pytest.mark.usefixtures("workdir")

VALID = {"valid": True}


@pytest.mark.parametrize(
    "answers",
    [
        {"/api/v1/integration/aws": VALID, "/api/v1/integration/aws/logs": []},
        {"/api/v1/integration/aws": {"accounts": []}, "/api/v1/integration/aws/logs": VALID},
        {"/api/v1/integration/aws": [], "/api/v1/integration/aws/logs": []},
        {"/api/v1/integration/aws": {"accounts": "x"}, "/api/v1/integration/aws/logs": []},
    ],
    ids=["accounts-object", "logs-object", "accounts-list", "accounts-not-a-list"],
)
def test_a_listing_of_another_shape_fails_the_type_and_keeps_source_state(workdir, answers):
    kept = {"integrations": {"aws:123456789012:DatadogRole": {"name": "aws", "account_id": "123456789012"}}}
    path = workdir / "resources/source/integrations.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept["integrations"]))
    with portal({"/api/v1/validate": VALID, **answers}) as url:
        result = run(url, "--verify-ddr-status=false")
    assert result.exit_code == 1, result.output
    assert "does not look like a Datadog API answer" in result.stderr
    assert "Imported: 0 resources, 0 failed" not in result.output
    assert json.loads(path.read_text()) == kept["integrations"], "a failed listing keeps the previous state"


def test_every_path_answering_valid_true_is_not_an_empty_org(workdir):
    with portal(
        {path: VALID for path in ("/api/v1/validate", "/api/v1/integration/aws", "/api/v1/integration/aws/logs")}
    ) as url:
        result = run(url, "--verify-ddr-status=false")
    assert result.exit_code == 1
    assert "GET /api/v1/integration/aws (source) answered a JSON object with keys ['valid']" in result.stderr
    assert "Imported: 0 resources, 0 failed" not in result.output

from __future__ import annotations

import click
import pytest

from datadog_sync.cli import build_configuration
from datadog_sync.config import normalize_api_url


@pytest.mark.parametrize(
    "value, url",
    [
        (None, "https://api.datadoghq.com"),
        ("EU1", "https://api.datadoghq.eu"),
        ("us5", "https://api.us5.datadoghq.com"),
        ("US1-FED", "https://api.ddog-gov.com"),
        ("AP2", "https://api.ap2.datadoghq.com"),
        ("datadoghq.eu", "https://api.datadoghq.eu"),
        ("app.datadoghq.eu", "https://api.datadoghq.eu"),
        ("us3.datadoghq.com", "https://api.us3.datadoghq.com"),
        ("https://api.ap1.datadoghq.com/", "https://api.ap1.datadoghq.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_sites(value, url):
    assert normalize_api_url(value) == url


def test_defaults_and_cleanup():
    config = build_configuration("sync", {"cleanup": "Force"})
    assert config.cleanup == "force"
    assert "integrations" in config.resources
    assert config.max_workers == 100 and config.http_client_retry_timeout == 60
    assert build_configuration("reset", {}).cleanup == "true"


def test_json_forbids_prompts():
    with pytest.raises(click.UsageError, match="--cleanup=Force"):
        build_configuration("sync", {"cleanup": "True", "emit_json": True})
    with pytest.raises(click.UsageError, match="--yes"):
        build_configuration("reset", {"emit_json": True})
    assert build_configuration("reset", {"emit_json": True, "assume_yes": True}).emit_json


@pytest.mark.parametrize(
    "value, message",
    [
        ("integrations", "expected 'type=N'"),
        ("nope=3", "unknown resource type"),
        ("integrations=0", "at least 1"),
        ("integrations=2,integrations=3", "given twice"),
    ],
)
def test_max_workers_per_type_errors(value, message):
    with pytest.raises(click.UsageError, match=message):
        build_configuration("import", {"max_workers_per_type": value})


def test_max_workers_per_type_ok():
    assert build_configuration("import", {"max_workers_per_type": "integrations=4"}).max_workers_per_type == {
        "integrations": 4
    }


def test_filters_on_unknown_types_are_rejected():
    with pytest.raises(click.UsageError, match="unknown resource type"):
        build_configuration("import", {"filter": ["Type=monitors;Name=id;Value=1"]})


def test_bad_secrets_file_is_a_usage_error_without_showing_secrets(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text('{"aws": {"AKIAEXAMPLE000000001": 42}, "password": "hunter22"')
    with pytest.raises(click.UsageError) as info:
        build_configuration("sync", {"integrations_secrets_file": str(path)})
    assert str(path) in str(info.value) and "hunter22" not in str(info.value)
    with pytest.raises(click.UsageError, match="cannot read"):
        build_configuration("sync", {"integrations_secrets_file": str(tmp_path / "missing.json")})

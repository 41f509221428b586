from __future__ import annotations

import click
import pytest

from datadog_sync.cli import build_configuration as _build
from datadog_sync.config import ApiUrlError, Cleanup, normalize_api_url

KEYS = {
    "source_api_key": "s-api",
    "source_app_key": "s-app",
    "destination_api_key": "d-api",
    "destination_app_key": "d-app",
}


def build_configuration(command, kw):
    return _build(command, {**KEYS, **kw})


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
        ("http://[::1]:8080/", "http://[::1]:8080"),
        ("localhost:8080", "https://localhost:8080"),
        (" eu1 ", "https://api.datadoghq.eu"),
    ],
)
def test_sites(value, url):
    assert normalize_api_url(value) == url


@pytest.mark.parametrize(
    "value, message",
    [
        ("ftp://files.example.com", "ftp:// is not supported"),
        ("notaurl", "'notaurl' is neither a URL nor a Datadog site name (US1, US3, US5, EU1, AP1, AP2, US1-FED)"),
        ("EU9", "unknown Datadog site 'EU9'"),
        ("us1-fedd", "unknown Datadog site 'us1-fedd'"),
        ("https://", "is not a valid URL"),
        ("https://api.datadoghq.com:0", "is not a valid URL"),
        ("https://bad host.example.com", "is not a valid URL"),
        ("https://user:pass@api.datadoghq.com", "the URL holds credentials"),
    ],
)
def test_bad_api_urls(value, message):
    with pytest.raises(ApiUrlError) as info:
        normalize_api_url(value)
    assert message in str(info.value)
    assert "pass" not in str(info.value)


def test_defaults_and_cleanup():
    config = build_configuration("sync", {"cleanup": "Force"})
    assert config.cleanup is Cleanup.FORCE
    assert "integrations" in config.resources
    assert config.max_workers == 100 and config.http_client_retry_timeout == 60
    assert build_configuration("reset", {}).cleanup is Cleanup.ASK


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


_HOSTS = ("[::1", "[zz]", "[::1]]", "[", "]", "[v1.fe]", "[::1]x", "bad host", "exa_mple.com", ":80", "%zz", "")
_PORTS = ("", ":", ":abc", ":-1", ":0", ":99999", ":1:2")


@pytest.mark.parametrize(
    "value",
    [
        f"{scheme}://{host}{port}{path}"
        for scheme in ("http", "https")
        for host in _HOSTS
        for port in _PORTS[:3]
        for path in ("", "/x")
    ]
    + [f"https://api.datadoghq.com{port}" for port in _PORTS[2:]]
    + ["http://[::1]:99999", "https://[", "https://]:80", "http://u:SECRET9@[::1", "http://u:SECRET9@[zz]", "x@y"],
)
def test_every_malformed_url_is_an_api_url_error_that_never_shows_credentials(value):
    """``urlsplit`` raises a bare ValueError for an unbalanced or non-IPv6 bracket: it must become a usage error."""
    with pytest.raises(ApiUrlError) as info:
        normalize_api_url(value)
    assert "SECRET9" not in str(info.value)


def test_bad_secrets_file_is_a_usage_error_without_showing_secrets(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text('{"aws": {"AKIAEXAMPLE000000001": 42}, "password": "hunter22"')
    with pytest.raises(click.UsageError) as info:
        build_configuration("sync", {"integrations_secrets_file": str(path)})
    assert str(path) in str(info.value) and "hunter22" not in str(info.value)
    with pytest.raises(click.UsageError, match="cannot read"):
        build_configuration("sync", {"integrations_secrets_file": str(tmp_path / "missing.json")})


def test_an_empty_resources_value_is_a_usage_error():
    assert build_configuration("import", {"resources": None}).resources == ("integrations",)
    for value in ("", " ", ",", " , "):
        with pytest.raises(click.UsageError, match="--resources is empty"):
            build_configuration("import", {"resources": value})


@pytest.mark.parametrize(
    "command, needed, kw",
    [
        ("import", "source", {}),
        ("sync", "destination", {}),
        ("diffs", "destination", {}),
        ("diffs", "source", {}),
        ("reset", "destination", {}),
        ("migrate", "source", {}),
        ("migrate", "destination", {"validate": False}),
    ],
)
def test_missing_keys(command, needed, kw):
    for key in ("api", "app"):
        missing = {f"{needed}_{key}_key": "  "}
        with pytest.raises(
            click.UsageError, match=rf"--{needed}-{key}-key \(env DD_{needed.upper()}_{key.upper()}_KEY\)"
        ):
            build_configuration(command, {**kw, **missing})


def test_keys_of_orgs_the_command_does_not_use_are_optional():
    no_source = {"source_api_key": None, "source_app_key": None}
    no_destination = {"destination_api_key": None, "destination_app_key": None}
    assert build_configuration("import", no_destination).command == "import"
    assert build_configuration("sync", no_source).command == "sync"
    assert build_configuration("reset", no_source).command == "reset"
    assert build_configuration("diffs", {**no_source, "verify_ddr_status": False}).command == "diffs"


def test_dd_filter_holds_filters_separated_by_whitespace(monkeypatch):
    """click splits a multiple option's environment variable on whitespace: a filter from DD_FILTER has no spaces."""
    from datadog_sync.cli import cli

    value = "Type=integrations;Name=id;Value=1  Type=integrations;Name=name;Value=my account\n\tType=integrations;Name=x;Value=3"
    monkeypatch.setenv("DD_FILTER", value)
    params = cli.commands["import"].make_context("import", []).params
    assert params["filter"] == (
        "Type=integrations;Name=id;Value=1",
        "Type=integrations;Name=name;Value=my",
        "account",
        "Type=integrations;Name=x;Value=3",
    )
    with pytest.raises(click.UsageError, match="part 'account' has no '='"):
        build_configuration("import", params)
    monkeypatch.setenv("DD_FILTER", "   ")
    assert cli.commands["import"].make_context("import", []).params["filter"] == ()

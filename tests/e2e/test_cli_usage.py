"""Usage errors found before any request (bad URLs, missing keys, empty --resources, stray arguments), connection
failures and refused keys reported as what they are, and the plain-http warning; the real CLI against the emulator.
"""

from __future__ import annotations

import re

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import DESTINATION, SOURCE, cli_env, emulated_orgs
from datadog_sync.resources import registry
from tests import support

KEYS = (SOURCE.api_key, SOURCE.app_key, DESTINATION.api_key, DESTINATION.app_key)
KEY_VARS = ("DD_SOURCE_API_KEY", "DD_SOURCE_APP_KEY", "DD_DESTINATION_API_KEY", "DD_DESTINATION_APP_KEY")


def run(env: dict, *args: str):
    """tests/support.py's ``invoke`` with no retries, checking on every run that no key is ever printed."""
    full = {**support.QUIET, "DD_HTTP_CLIENT_RETRY_TIMEOUT": "0", **env}
    result = support.invoke(args, full)
    assert not any(key in result.output for key in KEYS), "a key was printed"
    return result


pytestmark = pytest.mark.usefixtures("workdir")


@pytest.fixture(scope="module")
def emu():
    with emulated_orgs(source_state=make_aws_org(2, seed=1, key_account_share=0)) as emulator:
        yield emulator


@pytest.fixture
def env(emu):
    emu.clear_requests()
    return cli_env(emu)


# -- API URLs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://files.example.com", "ftp:// is not supported"),
        ("notaurl", "'notaurl' is neither a URL nor a Datadog site name"),
        ("EU9", "unknown Datadog site 'EU9'; sites: US1, US3, US5, EU1, AP1, AP2, US1-FED"),
        ("https://", "is not a valid URL"),
        ("https://api.datadoghq.com:99999", "is not a valid URL"),
        ("http://[::1", "'http://[::1' is not a valid URL"),
        ("http://[zz]", "'http://[zz]' is not a valid URL"),
    ],
)
def test_a_bad_api_url_is_a_usage_error_before_any_request(emu, env, url, message):
    result = run({**env, "DD_SOURCE_API_URL": url}, "migrate", "--resources=integrations")
    assert result.exit_code == 2
    assert "Invalid value for '--source-api-url' (DD_SOURCE_API_URL)" in result.output
    assert message in result.output
    assert "invalid api key" not in result.output
    assert emu.requests() == [], "nothing was sent to either org"


def test_credentials_in_the_url_are_refused_without_showing_them(env):
    result = run({**env, "DD_DESTINATION_API_URL": "https://admin:hunter2@api.datadoghq.com"}, "sync")
    assert result.exit_code == 2
    assert "'--destination-api-url'" in result.output and "credentials" in result.output
    assert "hunter2" not in result.output


def test_an_unreachable_url_is_a_connection_failure_not_an_invalid_key(env):
    result = run({**env, "DD_SOURCE_API_URL": "http://127.0.0.1:1"}, "import", "--resources=integrations")
    assert result.exit_code == 1
    assert "cannot connect to 127.0.0.1:1: connection refused on GET /api/v1/validate (source)" in result.stderr
    assert "check --source-api-url (DD_SOURCE_API_URL)" in result.stderr
    assert "invalid api key" not in result.stderr


def test_a_wrong_api_key_is_still_an_invalid_api_key(emu, env):
    result = run({**env, "DD_SOURCE_API_KEY": "wrong-api-key-00000000000000000"}, "import")
    assert result.exit_code == 1
    assert "invalid api key: 403 Forbidden on GET /api/v1/validate (source)" in result.stderr
    assert "wrong-api-key" not in result.stderr


# -- Keys ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, unset, flags, org",
    [
        ("import", ("DD_SOURCE_API_KEY",), (), "source"),
        ("import", ("DD_SOURCE_API_KEY", "DD_SOURCE_APP_KEY"), ("--validate=false",), "source"),
        ("sync", ("DD_DESTINATION_APP_KEY",), (), "destination"),
        ("diffs", ("DD_DESTINATION_API_KEY",), ("--verify-ddr-status=false",), "destination"),
        ("diffs", ("DD_SOURCE_APP_KEY",), (), "source"),  # the source's DDR status is checked
        ("reset", ("DD_DESTINATION_API_KEY",), ("--yes",), "destination"),
        ("migrate", ("DD_SOURCE_APP_KEY",), (), "source"),
        ("migrate", ("DD_DESTINATION_API_KEY",), (), "destination"),
    ],
)
def test_missing_keys_the_command_needs_are_a_usage_error_at_once(emu, env, command, unset, flags, org):
    for name in unset:
        env[name] = ""
    result = run(env, command, "--resources=integrations", *flags)
    assert result.exit_code == 2
    assert f"{command} needs the {org} org's API and application keys; not set: " in result.output
    for name in unset:
        assert f"(env {name})" in result.output
    assert emu.requests() == []


@pytest.mark.parametrize(
    "command, unset, flags",
    [
        ("import", ("DD_DESTINATION_API_KEY", "DD_DESTINATION_APP_KEY"), ()),
        ("sync", ("DD_SOURCE_API_KEY", "DD_SOURCE_APP_KEY"), ()),
        ("diffs", ("DD_SOURCE_API_KEY", "DD_SOURCE_APP_KEY"), ("--verify-ddr-status=false",)),
        ("reset", ("DD_SOURCE_API_KEY", "DD_SOURCE_APP_KEY"), ("--yes",)),
    ],
)
def test_keys_of_an_org_the_command_does_not_use_are_not_required(env, command, unset, flags):
    for name in unset:
        env[name] = ""
    result = run(env, command, "--resources=integrations", *flags)
    assert result.exit_code == 0, result.output


def test_a_wrong_application_key_is_named_as_such_by_the_ddr_check(env):
    result = run({**env, "DD_SOURCE_APP_KEY": "wrong-app-key-000000000000000000000000000"}, "import")
    assert result.exit_code == 1
    assert "clients validated successfully" in result.stderr, "validate checks only the API key"
    assert "the source keys were refused reading the DDR status: 403 Forbidden on GET /api/v2/hamr" in result.stderr
    assert "check the source application key (DD_SOURCE_APP_KEY)" in result.stderr
    assert "Use the --verify-ddr-status flag" not in result.stderr
    assert "wrong-app-key" not in result.stderr


def test_stray_arguments_are_a_usage_error_that_does_not_show_them(env):
    result = run(env, "import", "--source-api-key", "first-secret-value", "second-secret-value")
    assert result.exit_code == 2
    assert "an unexpected argument (not shown: it may be a key)" in result.output
    assert "second-secret-value" not in result.output and "first-secret-value" not in result.output


# -- --resources -----------------------------------------------------------------------------------------------


def test_an_empty_resources_option_is_a_usage_error(emu, env, workdir):
    result = run(env, "import", "--resources=")
    assert result.exit_code == 2
    assert "--resources is empty; leave it out for every type, or name some: integrations" in result.output
    assert emu.requests() == [] and not (workdir / "resources").exists()


def test_an_empty_resources_variable_means_unset(env, workdir):
    result = run({**env, "DD_RESOURCES": ""}, "import")
    assert result.exit_code == 0, result.output
    assert (workdir / "resources/source/integrations.json").exists()


# -- plain http:// ---------------------------------------------------------------------------------------------


def test_keys_over_plain_http_to_another_host_get_a_warning(emu, env):
    # The emulator answers as a forward proxy, so the non-local host needs no network.
    env = {**env, "DD_SOURCE_API_URL": "http://api.datadog-sync.test", "HTTP_PROXY": emu.url, "http_proxy": emu.url}
    env.update(NO_PROXY="", no_proxy="")
    result = run(env, "import", "--resources=integrations", "--http-client-trust-env=true")
    assert result.exit_code == 0, result.output
    assert (
        "the source API URL http://api.datadog-sync.test is plain http://: the source keys travel unencrypted; "
        "use https://" in result.stderr
    )
    assert result.stderr.count("plain http://") == 1


@pytest.mark.parametrize("command", ["import", "migrate"])
def test_a_local_plain_http_api_gets_no_warning(env, command):
    assert env["DD_SOURCE_API_URL"].startswith("http://127.0.0.1:")
    result = run(env, command, "--resources=integrations")
    assert result.exit_code == 0, result.output
    assert "plain http" not in result.stderr


# -- help texts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["import", "sync", "diffs", "migrate", "reset"])
def test_help_examples_name_resource_types_that_exist(command):
    text = " ".join(run({}, command, "--help").output.split())
    examples = re.findall(r"\b([a-z_]+)=\d+", text) + re.findall(r"Type=([a-z_]+);", text)
    assert examples, "the help shows examples"
    assert set(examples) <= set(registry()), examples


def test_filter_error_example_names_a_resource_type_that_exists(env):
    result = run(env, "import", "--filter=Type=integrations")
    assert result.exit_code == 2
    examples = re.findall(r"Type=([a-z_]+);", result.output)
    assert examples and set(examples) <= set(registry()), result.output


@pytest.mark.parametrize("bad", ["abc\ndef0123456789", "abc\x1bdef0123456789", "abcdéf0123456789"])
def test_a_key_with_a_control_or_non_ascii_character_is_a_usage_error_that_does_not_show_it(emu, env, bad):
    result = run({**env, "DD_SOURCE_APP_KEY": bad}, "import", "--resources=integrations")
    assert result.exit_code == 2
    assert "--source-app-key (env DD_SOURCE_APP_KEY) has a line break, control or non-ASCII character" in result.output
    assert "0123456789" not in result.output
    assert emu.requests() == []


# -- --config values -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, message",
    [
        ("source_resources_path = 5", "'source_resources_path' must be a quoted string"),
        ("integrations_secrets_file = 5", "'integrations_secrets_file' must be a quoted string"),
        ("show_progress_bar = 2", "'show_progress_bar' must be True or False"),
        ("max_workers = 1e400", "'max_workers' must be a whole number"),
        ("filter = [None]", "'filter' must be a quoted string or a list of them"),
        ('source_api_key = ["abcdef0123456789", "fedcba9876543210"]', "'source_api_key' takes one value, not a list"),
        ("source_api_key = abcdef0123456789", "value for 'source_api_key' is not a Python literal"),
    ],
)
def test_config_values_of_the_wrong_type_are_usage_errors(emu, env, workdir, line, message):
    (workdir / "sync.conf").write_text(f"{line}\n")
    result = run(env, "import", "--config=sync.conf")
    assert result.exit_code == 2
    assert f"Invalid value for '--config': sync.conf line 1: {message}" in result.output
    assert "0123456789" not in result.output and "9876543210" not in result.output
    assert emu.requests() == []


@pytest.mark.parametrize("option", ["--http-client-timeout", "--http-client-retry-timeout"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_timeouts_must_be_finite(emu, env, option, value):
    result = run(env, "import", "--resources=integrations", f"{option}={value}")
    assert result.exit_code == 2
    assert f"Invalid value for '{option}': {value} is not a number of seconds" in result.output
    assert emu.requests() == []


@pytest.mark.parametrize("url", ["http://localhost:1", "http://[::1]:1", "http://127.0.0.2:1"])
def test_other_local_plain_http_urls_get_no_warning(env, url):
    result = run({**env, "DD_SOURCE_API_URL": url}, "import", "--resources=integrations")
    assert result.exit_code == 1  # nothing listens there
    assert "cannot connect to" in result.stderr
    assert "plain http" not in result.stderr


def test_a_path_in_the_url_is_pointed_at_when_validate_is_not_found(emu, env):
    result = run({**env, "DD_SOURCE_API_URL": emu.url + "/api/v1"}, "import", "--resources=integrations")
    assert result.exit_code == 1
    assert f"the source API URL {emu.url}/api/v1 does not look like a Datadog API" in result.stderr
    assert "GET /api/v1/validate answered 404 Not Found; a path in the URL?" in result.stderr


def test_a_wrong_application_key_shows_its_hint_on_a_line_of_its_own(env):
    result = run({**env, "DD_SOURCE_APP_KEY": "wrong-app-key-0000000000000000"}, "import")
    assert result.exit_code == 1
    assert (
        "ERROR - the source keys were refused reading the DDR status: 403 Forbidden on GET /api/v2/hamr (source): "
        "Forbidden\nhint: check the source application key (DD_SOURCE_APP_KEY)"
    ) in result.stderr
    assert "\\nhint" not in result.stderr and "wrong-app-key" not in result.stderr


def test_a_wrong_application_key_on_the_destination_read_keeps_its_hint_line(env):
    """Without the DDR check the first refused call is the planner's read of the destination."""
    assert run(env, "import", "--resources=integrations").exit_code == 0
    wrong = {**env, "DD_DESTINATION_APP_KEY": "wrong-app-key-0000000000000000"}
    result = run(wrong, "diffs", "--resources=integrations", "--verify-ddr-status=false")
    assert result.exit_code == 1
    assert "integrations aws failed, so none of them was planned or applied (their state is kept): 403" in result.stderr
    assert "(destination): Forbidden\nhint: the destination application key or its owner lacks the" in result.stderr
    assert "\\nhint" not in result.stderr

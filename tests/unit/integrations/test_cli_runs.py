"""The CLI against the emulator for what only a whole run shows: messages said once per run, not per account."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from datadog_sync.cli import cli
from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import DESTINATION, SOURCE, cli_env, emulated_orgs, org_spec


def invoke(emu, *args, destination=DESTINATION, **env):
    full_env = {**cli_env(emu, destination=destination), "DD_SHOW_PROGRESS_BAR": "false", **env}
    return CliRunner().invoke(cli, [*args, "--resources=integrations"], env=full_env, catch_exceptions=False)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_permission_pre_flight_lists_the_accounts_once_per_run(workdir):
    read_only = org_spec(DESTINATION, permissions=["aws_configuration_read", "user_app_keys", "user_access_read"])
    with emulated_orgs(source_state=make_aws_org(4, seed=1, key_account_share=0), orgs=[SOURCE, read_only]) as emu:
        assert invoke(emu, "import", destination=read_only).exit_code == 0
        result = invoke(emu, "sync", destination=read_only)
    assert result.exit_code == 1 and "4 failed" in result.stdout
    keys = sorted(set(re.findall(r"aws:\d{12}", result.stdout)))
    assert len(keys) == 4
    output = result.stdout + result.stderr
    # Each account's own failure line names that account only...
    for line in output.splitlines():
        if "failed" in line or "FAILURE" in line:
            assert len(set(re.findall(r"aws:\d{12}", line))) <= 1, line
    # ...and the accounts needing each permission are listed once.
    for permission in ("aws_configurations_manage", "aws_configuration_edit"):
        assert output.count(f"4 account(s) need `{permission}`: {', '.join(keys)}") == 1

"""API data reaches logs and the terminal escaped: a role name cannot forge a log line or clear the screen."""

from __future__ import annotations

import json
import re
from typing import ClassVar

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import cli_env, emulated_orgs
from datadog_sync.resources.base import BaseResource, ResourceConfig
from tests.support import invoke, invoke_emulated, invoke_served, registered, serve_orgs

FORGED = "\n2026-01-01 - ERROR - fake"
CLEAR_SCREEN = "\x1b[2J"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # every control character but the newline
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (DEBUG|INFO|WARNING|ERROR) - ")


def forged_source(field: str, value: str) -> dict:
    """A two-account source org whose first account has ``value`` as its ``field``."""
    state = make_aws_org(2, seed=1, key_account_share=0)
    state["aws"]["accounts"][0][field] = value
    return state


@pytest.mark.parametrize("verbose", [False, True], ids=["info", "verbose"])
def test_role_name_with_newline_and_escape_cannot_forge_log_lines(workdir, verbose):
    state = forged_source("role_name", f"Role{FORGED}{CLEAR_SCREEN}")
    args = ["migrate", "--resources=integrations", "--show-progress-bar=false", *(["-v"] if verbose else [])]
    with emulated_orgs(source_state=state) as emu:
        result = invoke(args, cli_env(emu))

    assert result.exit_code == 0, result.stderr
    stderr = result.stderr
    assert not RAW_CONTROL.search(stderr)
    for line in stderr.splitlines():
        assert LOG_LINE.match(line), f"not a log line of ours: {line!r}"
    # The role name still reaches the log (the external-ID hand-off), escaped as diffs shows values.
    assert "role/Role\\n2026-01-01 - ERROR - fake\\u001b[2J: new external ID" in stderr
    assert not RAW_CONTROL.search(result.stdout)


def test_account_id_with_newline_and_escape_cannot_forge_diffs_lines(workdir):
    state = forged_source("account_id", f"12345{FORGED}{CLEAR_SCREEN}")
    with emulated_orgs(source_state=state) as emu:
        assert invoke_emulated(emu, "import").exit_code == 0
        result = invoke_emulated(emu, "diffs")

    assert result.exit_code == 0, result.stderr
    assert not RAW_CONTROL.search(result.stdout) and not RAW_CONTROL.search(result.stderr)
    assert "+ integrations aws:12345\\n2026-01-01 - ERROR - fake\\u001b[2J: create" in result.stdout
    assert not any(line.startswith("2026-01-01") for line in (result.stdout + result.stderr).splitlines())


def test_json_mode_is_escaped_by_json_itself(workdir):
    state = forged_source("role_name", f"Role{FORGED}{CLEAR_SCREEN}\x9b")
    with emulated_orgs(source_state=state) as emu:
        args = ["migrate", "--resources=integrations", "--json"]
        result = invoke(args, cli_env(emu))

    assert result.exit_code == 0, result.stdout
    assert not RAW_CONTROL.search(result.stdout + result.stderr)
    messages = [json.loads(line).get("message", "") for line in result.stdout.splitlines()]
    # Escaped once, by JSON: a consumer reads back the role name exactly as the API gave it.
    assert any(f"role/Role{FORGED}{CLEAR_SCREEN}\x9b: new external ID" in m for m in messages)


def test_upstream_diff_lines_keep_their_layout_but_cannot_be_forged(workdir):
    """datadog-sync-cli's multi-line ``diff:`` lines keep pformat's line breaks; API data in them stays escaped."""
    state = forged_source("account_id", f"12345{FORGED}{CLEAR_SCREEN}")
    with emulated_orgs(source_state=state) as emu:
        assert invoke_emulated(emu, "migrate").exit_code == 0
        source_file = workdir / "resources" / "source" / "integrations.json"
        source = json.loads(source_file.read_text())
        key = next(k for k in source if FORGED in k)
        source[key]["host_tags"] = [f"team:x{FORGED}{CLEAR_SCREEN}"]
        source_file.write_text(json.dumps(source))
        result = invoke_emulated(emu, "diffs")

    assert result.exit_code == 0, result.stderr
    assert not RAW_CONTROL.search(result.stderr)
    escaped_key = "aws:12345\\n2026-01-01 - ERROR - fake\\u001b[2J"
    assert f" - INFO - [integrations - {escaped_key}] - diff: \n {{" in result.stderr
    assert not any(line.startswith("2026-01-01") for line in result.stderr.splitlines())


class Gadgets(BaseResource):
    resource_type: ClassVar[str] = "gadgets"
    config: ClassVar[ResourceConfig] = ResourceConfig(base_path="/api/v1/gadgets", excluded_attributes=("id",))


def test_a_refused_write_keeps_its_hint_on_a_line_of_its_own(workdir):
    """The tool's own ``hint:`` line after an API error stays a line; the API's text in it stays escaped."""
    with registered(Gadgets), serve_orgs() as server:
        server.data["source"]["gadgets"] = {"1": {"id": "1", "name": f"g{FORGED}"}}
        assert invoke_served(server, "import", resources="gadgets").exit_code == 0
        server.fail[("POST", "/api/v1/gadgets")] = 403
        result = invoke_served(server, "sync", resources="gadgets")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    (failed,) = [i for i, line in enumerate(lines) if "[gadgets - 1] - create failed: " in line]
    assert lines[failed + 1].startswith("hint: "), lines[failed : failed + 2]
    assert not RAW_CONTROL.search(result.stderr)

"""The one way tests run the CLI, edit its source state, write its secrets file and wait for something, shared by
every suite (fixtures are in tests/conftest.py).

    result = invoke(["import", "--resources=integrations"], emulator_env(emu))
    result = invoke_emulated(emu, "sync")        # the same, pointed at the emulator, --resources=integrations added
    with serve_orgs() as server:                  # the test REST server (tests/e2e/crud_server.py) for both orgs
        result = invoke_served(server, "sync", resources="gadgets")   # --resources=integrations unless told

Runs are in-process (click's CliRunner), so a test can also reach module settings such as
``applier.CHECKPOINT_EVERY`` through ``monkeypatch``. Unexpected exceptions propagate unless asked otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from datadog_sync.cli import cli
from datadog_sync.emulator.core import OrgSpec
from datadog_sync.emulator.server import ThreadedEmulator
from datadog_sync.emulator.testing import DESTINATION, SOURCE, cli_env
from datadog_sync.resources import register, unregister
from datadog_sync.resources.base import BaseResource
from tests.e2e import crud_server

QUIET = {"DD_SHOW_PROGRESS_BAR": "false"}


def invoke(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    input: str | None = None,
    catch_exceptions: bool = False,
) -> Result:
    """``datadog-sync <args>`` with exactly ``env`` added to the environment."""
    return CliRunner().invoke(cli, list(args), env=dict(env or {}), input=input, catch_exceptions=catch_exceptions)


def emulator_env(
    emu: ThreadedEmulator, *, source: OrgSpec = SOURCE, destination: OrgSpec = DESTINATION, **extra: str
) -> dict[str, str]:
    """The CLI's environment for the emulator's orgs, progress bar off, plus ``extra``."""
    return {**cli_env(emu, source=source, destination=destination), **QUIET, **extra}


def invoke_emulated(
    emu: ThreadedEmulator,
    *args: str,
    destination: OrgSpec = DESTINATION,
    input: str | None = None,
    catch_exceptions: bool = False,
    resources: str = "integrations",
    **env: str,
) -> Result:
    """``datadog-sync <command> <args> --resources=<resources>`` against the emulator."""
    full = [*args, f"--resources={resources}"] if resources else list(args)
    full_env = {**emulator_env(emu, destination=destination), **env}
    return invoke(full, full_env, input=input, catch_exceptions=catch_exceptions)


@contextmanager
def registered(*resources: type[BaseResource]) -> Iterator[None]:
    """The CLI knows these resource types until the block ends (the registry is process-wide)."""
    for resource in resources:
        register(resource)
    try:
        yield
    finally:
        for resource in resources:
            unregister(resource.resource_type)


@contextmanager
def serve_orgs(upstream: str | None = None) -> Iterator[crud_server.CrudServer]:
    """The test REST server for both orgs, told apart by the API keys of ``SOURCE`` / ``DESTINATION``; paths it
    does not serve are forwarded to ``upstream`` (an emulator's URL) when given."""
    with crud_server.serve({SOURCE.api_key: "source", DESTINATION.api_key: "destination"}, upstream) as server:
        yield server


def served_env(server: crud_server.CrudServer, **extra: str) -> dict[str, str]:
    """The CLI's environment with both orgs pointed at the test REST server, progress bar off, plus ``extra``."""
    return {
        "DD_SOURCE_API_KEY": SOURCE.api_key,
        "DD_SOURCE_APP_KEY": SOURCE.app_key,
        "DD_SOURCE_API_URL": server.url,
        "DD_DESTINATION_API_KEY": DESTINATION.api_key,
        "DD_DESTINATION_APP_KEY": DESTINATION.app_key,
        "DD_DESTINATION_API_URL": server.url,
        **QUIET,
        **extra,
    }


def invoke_served(server: crud_server.CrudServer, *args: str, resources: str = "integrations", **env: str) -> Result:
    """``datadog-sync <command> <args> --resources=<resources>`` against the test REST server."""
    return invoke([*args, f"--resources={resources}"], served_env(server, **env))


def read_state(root: Path, origin: str, rtype: str) -> dict[str, Any]:
    """One type's combined state file (``{}`` when it is not written yet)."""
    path = root / "resources" / origin / f"{rtype}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def edit_source(root: Path, key: str, new_key: str | None = None, **fields: Any) -> None:
    """Change ``fields`` of one entry of the source's ``integrations`` state (and rename it to ``new_key``)."""
    path = root / "resources/source/integrations.json"
    state = json.loads(path.read_text())
    state[key].update(fields)
    if new_key:
        state[new_key] = state.pop(key)
    path.write_text(json.dumps(state))


def write_secrets(root: Path, secrets: Mapping[str, Any]) -> str:
    """``root/secrets.json`` holding ``secrets`` (the integrations secrets file), readable by its owner only."""
    path = root / "secrets.json"
    path.write_text(json.dumps(secrets))
    path.chmod(0o600)
    return str(path)


def secrets_file_env(root: Path, secrets: Mapping[str, Any]) -> dict[str, str]:
    """The CLI's environment naming ``write_secrets(root, secrets)``."""
    return {"DD_INTEGRATIONS_SECRETS_FILE": write_secrets(root, secrets)}


def wait_for(condition: Callable[[], object], what: str, limit_s: float = 120.0) -> None:
    """Poll until ``condition()`` holds; the limit only turns a hang into a failure, nothing is timed."""
    end = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.02)


def signalled_sync(emu: ThreadedEmulator, cwd: Path, env: Mapping[str, str], signum: int, after_writes: int):
    """``datadog-sync sync`` as a real process whose destination write number ``after_writes + 1`` (and any after
    it) the emulator holds unanswered; once one is held, the process gets ``signum``. Returns (code, out, err)."""
    emu.set_knobs(hold_after_writes=after_writes)
    proc = subprocess.Popen(
        [sys.executable, "-m", "datadog_sync", "sync", "--resources=integrations"],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: emu.counters()["held"] >= 1 or proc.poll() is not None, "a held request")
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        emu.set_knobs(hold_after_writes=None)
    return proc.returncode, stdout, stderr

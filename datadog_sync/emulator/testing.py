"""Helpers for any test suite (or script) that wants an emulated Datadog: standard orgs and the CLI environment.

    from datadog_sync.emulator import make_aws_org
    from datadog_sync.emulator.testing import cli_env, emulated_orgs

    def test_sync():
        with emulated_orgs(source_state=make_aws_org(5)) as emu:
            result = CliRunner().invoke(cli, ["sync", "--resources=integrations"], env=cli_env(emu))
            assert len(emu.dump("destination")["aws"]["accounts"]) == 5

As a pytest fixture:

    @pytest.fixture
    def emu():
        with emulated_orgs() as emulator:
            yield emulator

No pytest import here, so the demo can use it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from datadog_sync.emulator.core import OrgSpec
from datadog_sync.emulator.server import ThreadedEmulator, run_emulator_in_thread

SOURCE = OrgSpec("source", "source-api-key-0000000000000001", "source-app-key-00000000000000000000000001")
DESTINATION = OrgSpec("destination", "destination-api-key-000000000002", "destination-app-key-000000000000000000000002")


def org_spec(base: OrgSpec, **overrides: Any) -> OrgSpec:
    """A copy of a standard org with some fields changed, e.g. `org_spec(DESTINATION, read_only=True)`."""
    fields = {**vars(base), **overrides}
    return OrgSpec(**fields)


@contextmanager
def emulated_orgs(
    source_state: dict[str, Any] | None = None,
    destination_state: dict[str, Any] | None = None,
    orgs: list[OrgSpec] | None = None,
    **knobs: Any,
) -> Iterator[ThreadedEmulator]:
    """A thread-run emulator with the standard source and destination orgs (or `orgs`), optionally seeded."""
    specs = orgs or [SOURCE, DESTINATION]
    with run_emulator_in_thread(specs, **knobs) as emu:
        if source_state is not None:
            emu.seed(specs[0].name, source_state)
        if destination_state is not None:
            emu.seed(specs[1].name, destination_state)
        yield emu


def cli_env(emu: ThreadedEmulator, source: OrgSpec = SOURCE, destination: OrgSpec = DESTINATION) -> dict[str, str]:
    """The DD_SOURCE_* / DD_DESTINATION_* variables pointing the CLI at the emulator."""
    return {
        "DD_SOURCE_API_KEY": source.api_key,
        "DD_SOURCE_APP_KEY": source.app_key,
        "DD_SOURCE_API_URL": emu.url,
        "DD_DESTINATION_API_KEY": destination.api_key,
        "DD_DESTINATION_APP_KEY": destination.app_key,
        "DD_DESTINATION_API_URL": emu.url,
    }

"""pytest plugin: print line coverage of the integrations code and fail the run below the target.

Loaded with ``-p tests.coverage_gate`` (see pyproject's addopts); it reads pytest-cov's live data.
"""

from __future__ import annotations

import io

import pytest

TARGET = 95.0
INCLUDE = "*/datadog_sync/resources/integrations/*"


def _coverage(config: pytest.Config):
    plugin = config.pluginmanager.getplugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    return getattr(controller, "cov", None)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    cov = _coverage(config)
    if cov is None or config.option.collectonly:
        return
    # Only judge full runs: a run of a few selected tests says nothing about coverage.
    if config.args and any("::" in a or a.endswith(".py") for a in config.args):
        return
    try:
        cov.stop()
        cov.save()
        percent = cov.report(include=[INCLUDE], file=io.StringIO())
    except Exception as exc:  # noqa: BLE001 - no data (e.g. integrations not collected) is not a failure here
        terminalreporter.write_line(f"integrations coverage: not measured ({exc})")
        return
    verdict = "ok" if percent >= TARGET else "BELOW TARGET"
    terminalreporter.write_line(f"integrations line coverage: {percent:.1f}% (target {TARGET:.0f}%): {verdict}")
    if percent < TARGET:
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED

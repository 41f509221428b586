"""diffs and sync output against the emulator: upstream's diffs lines for AWS accounts, unreadable destinations."""

from __future__ import annotations

import json
from pprint import pformat

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs, org_spec
from tests.support import invoke_emulated as invoke


def test_upstream_diff_lines_for_aws_accounts_keep_external_ids_out(workdir):
    with emulated_orgs(source_state=make_aws_org(3, seed=5, key_account_share=0)) as emu:
        assert invoke(emu, "migrate").exit_code == 0
        source_file = workdir / "resources/source/integrations.json"
        destination = json.loads((workdir / "resources/destination/integrations.json").read_text())
        external_ids = [a["external_id"] for a in destination.values()]
        assert len(external_ids) == 3 and all(external_ids)
        source = json.loads(source_file.read_text())
        changed, deleted, _ = sorted(source)
        source[changed]["metrics_collection_enabled"] = not source[changed]["metrics_collection_enabled"]
        del source[deleted]
        source_file.write_text(json.dumps(source))

        result = invoke(emu, "diffs", "--cleanup=force")
        assert result.exit_code == 0, result.stderr
        old = not source[changed]["metrics_collection_enabled"]
        diff = pformat(
            {"values_changed": {"root['metrics_collection_enabled']": {"new_value": not old, "old_value": old}}}
        )
        assert f" - INFO - [integrations - {changed}] - diff: \n {diff}\n" in result.stderr
        assert f" - INFO - [integrations - {deleted}] - to be deleted: \n {{" in result.stderr
        assert destination[deleted]["role_name"] in result.stderr
        for external_id in external_ids:
            assert external_id not in result.stderr and external_id not in result.stdout


def test_unreadable_destination_plan_is_unknown_and_sync_writes_nothing(workdir):
    no_read = org_spec(DESTINATION, permissions=["aws_configuration_edit", "aws_configurations_manage"])
    with emulated_orgs(source_state=make_aws_org(3, seed=1, key_account_share=0), orgs=[SOURCE, no_read]) as emu:
        assert invoke(emu, "import", destination=no_read).exit_code == 0
        for args in (("diffs",), ("diffs", "--exit-code"), ("sync",), ("sync", "--cleanup=force")):
            result = invoke(emu, *args, destination=no_read)
            assert result.exit_code == 1, args
            assert result.stdout.startswith(
                "Plan: unknown for integrations aws (reading the destination failed, see the error above).\n"
            )
            assert "unchanged" not in result.stdout.splitlines()[0]
            assert "aws_configuration_read" in result.stderr
        assert [r for r in emu.requests("destination") if r["method"] != "GET"] == []
        assert emu.dump("destination")["aws"]["accounts"] == []

"""The one-command demo keeps its working directory for a newcomer to look at."""

from __future__ import annotations

import json
from typing import Any

import pytest

from datadog_sync.emulator import demo


def test_demo_keeps_state_and_hand_off_in_the_working_directory(tmp_path: Any, capsys: Any) -> None:
    workdir = tmp_path / "demo"
    assert demo.main(["--accounts", "3", "--timeout", "60", "--workdir", str(workdir)]) == 0
    out = capsys.readouterr().out
    assert "exit codes: import=0, diffs=0, sync=0, diffs=0" in out
    assert "destination matches source (as sets; ignoring external ids, secrets, errors[], ids and timestamps)" in out
    source = json.loads((workdir / "resources/source/integrations.json").read_text())
    destination = json.loads((workdir / "resources/destination/integrations.json").read_text())
    assert len(source) == 3 and set(destination) == set(source)
    assert (workdir / "resources/destination/handoff/aws-external-ids.json").is_file()
    assert f"== working directory (kept): {workdir.resolve()}" in out
    assert "  resources/destination/integrations.json\n" in out and "rm -r " in out


def test_only_per_org_server_fields_are_ignored_by_the_verdict() -> None:
    account = {"account_id": "1", "role_name": "r", "external_id": "e", "errors": [], "aws_partition": "aws"}
    server = {"config_id": "c", "created_at": "t", "modified_at": "t"}
    other = {**account, "external_id": "x", "config_id": "d", "created_at": "u", "modified_at": "u"}
    assert demo._comparable({"aws": {"accounts": [{**account, **server}]}}) == demo._comparable(
        {"aws": {"accounts": [other]}}
    )
    for changed in ({"aws_partition": "aws-cn"}, {"v2": {"ccm_config": {}}}, {"role_name": "s"}):
        assert demo._comparable({"aws": {"accounts": [account]}}) != demo._comparable(
            {"aws": {"accounts": [{**account, **changed}]}}
        )


def test_demo_refuses_a_working_directory_that_is_not_empty(tmp_path: Any, capsys: Any) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--workdir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert f"--workdir {tmp_path} must be a new or empty directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]

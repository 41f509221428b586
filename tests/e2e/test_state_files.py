"""State files through the real CLI: ids that cannot be file names, file modes."""

from __future__ import annotations

import json


def test_per_file_id_that_cannot_be_a_file_name_is_one_failed_resource(run, server):
    src = server.data["source"]["gadgets"]
    src["1"] = {"id": "1", "name": "alpha"}
    src["../../escape"] = {"id": "../../escape", "name": "sneaky"}
    src["2"] = {"id": "2", "name": "beta"}
    result = run("import", "--resource-per-file", "--resources=gadgets")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Imported: 2 resources, 1 failed, 0 skipped, 0 filtered." in result.stdout
    assert "FAILURE: gadgets ../../escape: the gadgets id '../../escape' cannot be used in a state file name" in (
        result.stdout
    )
    assert "use combined state files (no --resource-per-file)" in result.stdout
    files = sorted(str(p.relative_to(run.workdir)) for p in run.workdir.rglob("*") if p.is_file())
    assert files == ["resources/source/gadgets.1.json", "resources/source/gadgets.2.json"], "nothing else written"
    assert json.loads((run.workdir / "resources/source/gadgets.1.json").read_text()) == {"1": src["1"]}


def test_state_files_and_backups_are_owner_only(run, server):
    server.data["source"]["gadgets"]["1"] = {"id": "1", "name": "alpha", "size": 1}
    assert run("import", "--resources=gadgets").exit_code == 0
    assert run("sync", "--resources=gadgets").exit_code == 0
    server.data["source"]["gadgets"]["1"]["size"] = 2
    assert run("import", "--resources=gadgets").exit_code == 0
    assert run("sync", "--resources=gadgets").exit_code == 0  # an update: backed up first
    root = run.workdir / "resources"
    (backup,) = (root / "destination/.backup").glob("*-sync/gadgets.json")
    for path in (root / "source/gadgets.json", root / "destination/gadgets.json", backup):
        assert path.stat().st_mode & 0o777 == 0o600, path
    for path in (root / "source", root / "destination", root / "destination/.backup", backup.parent):
        assert path.stat().st_mode & 0o777 == 0o700, path


def test_a_state_file_path_that_is_a_directory_fails_before_any_request(run, server):
    """import and sync write ``<type>.json`` (or ``<type>.<id>.json``) with ``os.replace``, which cannot replace a
    directory: the start-up check says so before the API work, not with an IsADirectoryError after it."""
    server.data["source"]["gadgets"]["1"] = {"id": "1", "name": "alpha"}
    cases = [
        ("import", "resources/source/gadgets.json", ()),
        ("sync", "resources/destination/gadgets.json", ()),
        ("import", "resources/source/gadgets.1.json", ("--resource-per-file",)),
    ]
    for command, blocker, extra in cases:
        if command == "sync":
            assert run("import", "--resources=gadgets").exit_code == 0
        (run.workdir / blocker).mkdir(parents=True)
        server.requests.clear()
        result = run(command, "--resources=gadgets", *extra)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and "IsADirectoryError" not in result.output
        origin = blocker.split("/")[1]
        name = blocker.rsplit("/", 1)[1]
        assert f"the {origin} state file {name} is a directory; move it away; nothing was done" in result.output
        assert server.requests == [], f"{command}: nothing was sent"
        (run.workdir / blocker).rmdir()

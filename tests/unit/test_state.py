"""StateStore against real files: upstream's layouts, atomic and owner-only writes, per-file mode, strict loading,
backups and checkpoints.

Over 400 lines on purpose: it is the one test module of the state layer, grouped in classes by concern, and the
file formats are upstream's contract, so every case stays next to the others it must agree with.
"""

import json
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

from datadog_sync import state as state_module
from datadog_sync.state import StateFileError, StateStore, sanitize_id
from datadog_sync.state_files import ENTRIES_PER_PIECE, encode, encode_pieces


@pytest.fixture
def roots(tmp_path):
    return tmp_path / "resources" / "source", tmp_path / "resources" / "destination"


def store(roots, per_file=False) -> StateStore:
    return StateStore(roots[0], roots[1], resource_per_file=per_file)


def write_json(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def set_mtime(path: Path, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t))


@pytest.fixture
def count_writes(monkeypatch):
    written: list[Path] = []
    real = state_module.atomic_write

    def spy(path, data):
        written.append(Path(path))
        real(path, data)

    monkeypatch.setattr(state_module, "atomic_write", spy)
    return written


# --------------------------------------------------------------------------- basics


def test_sanitize_id():
    assert sanitize_id("aws:123456789012") == "aws.123456789012"
    assert sanitize_id("a:b:c") == "a.b.c"
    assert sanitize_id("abc-123#456") == "abc-123#456"


def test_default_paths_are_upstream_and_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = StateStore()
    assert s.source_path == tmp_path / "resources" / "source"
    assert s.destination_path == tmp_path / "resources" / "destination"
    assert s.resource_per_file is False


def test_state_dicts_are_defaultdicts(roots):
    s = store(roots)
    assert isinstance(s.source, defaultdict) and isinstance(s.destination, defaultdict)
    s.source["monitors"]["1"] = {"id": 1}
    assert s.source == {"monitors": {"1": {"id": 1}}}


def test_invalid_arguments(roots):
    s = store(roots)
    with pytest.raises(ValueError, match="origin must be"):
        s.dump("target", ["monitors"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not the string 'monitors'"):
        s.dump("source", "monitors")
    with pytest.raises(TypeError, match="not the string"):
        s.load("monitors")
    with pytest.raises(ValueError, match="invalid resource type"):
        s.dump("source", ["a.b"])
    with pytest.raises(ValueError, match="invalid resource type"):
        s.dump("source", ["../x"])


def test_load_with_missing_roots_is_empty(roots):
    s = store(roots)
    s.load()
    assert s.source == {} and s.destination == {}


def test_root_that_is_a_file_is_an_error(tmp_path):
    (tmp_path / "src").write_text("")
    s = StateStore(tmp_path / "src", tmp_path / "dst")
    with pytest.raises(StateFileError, match="not a directory") as info:
        s.load()
    assert info.value.path == tmp_path / "src"


@pytest.mark.parametrize("per_file, blocker", [(False, "monitors.json"), (True, "monitors.1.json")])
def test_a_state_file_path_that_is_not_a_file_is_refused_before_writing(roots, per_file, blocker):
    s = store(roots, per_file)
    (roots[0] / blocker).mkdir(parents=True)
    (roots[0] / "other.json").mkdir()  # a type not written is not checked
    assert s.prepare_root("source", ["dashboards"]) == roots[0]
    with pytest.raises(StateFileError, match=f"the source state file {blocker} is a directory; move it away"):
        s.prepare_root("source", ["monitors"])
    s.source["monitors"] = {"1": {"id": 1}}
    with pytest.raises(StateFileError, match="is a directory"):  # never an IsADirectoryError from os.replace
        s.dump("source", ["monitors"])
    os.mkfifo(roots[0] / "dashboards.json")
    with pytest.raises(StateFileError, match="dashboards.json is not a regular file"):
        s.prepare_root("source", ["dashboards"])


# --------------------------------------------------------------------------- combined mode


class TestCombined:
    def test_round_trip_and_format(self, roots):
        s = store(roots)
        s.source["monitors"] = {"1": {"id": 1, "name": "été ✓", "tags": ["a:b"]}, "2": {"id": 2}}
        s.destination["monitors"] = {"1": {"id": 101}}
        s.dump("source", ["monitors"])
        s.dump("destination", ["monitors"])

        path = roots[0] / "monitors.json"
        raw = path.read_bytes()
        assert raw == '{"1":{"id":1,"name":"été ✓","tags":["a:b"]},"2":{"id":2}}'.encode()
        assert read_json(roots[1] / "monitors.json") == {"1": {"id": 101}}

        fresh = store(roots)
        fresh.load()
        assert fresh.source == {"monitors": {"1": {"id": 1, "name": "été ✓", "tags": ["a:b"]}, "2": {"id": 2}}}
        assert fresh.destination == {"monitors": {"1": {"id": 101}}}
        assert list(fresh.source["monitors"]) == ["1", "2"]

    @pytest.mark.parametrize("per_file", [False, True])
    def test_files_and_directories_are_created_owner_only(self, roots, per_file):
        # They hold configurations and AWS external IDs (issue 9, item 16).
        s = store(roots, per_file=per_file)
        s.source["monitors"] = {"1": {}}
        s.destination["monitors"] = {"1": {"id": 2}}
        s.dump("source", ["monitors"])
        s.dump("destination", ["monitors"])
        backup = s.write_backup({"monitors": {"1": {"id": 2}}}, label="sync")
        name = "monitors.1.json" if per_file else "monitors.json"
        for path in (roots[0] / name, roots[1] / name, backup / "monitors.json"):
            assert path.stat().st_mode & 0o777 == 0o600, path
        for path in (roots[0], roots[1], roots[1] / ".backup", backup):
            assert path.stat().st_mode & 0o777 == 0o700, path

    def test_rewriting_an_existing_file_makes_it_owner_only(self, roots):
        path = write_json(roots[1] / "monitors.json", {})
        path.chmod(0o644)
        s = store(roots)
        s.destination["monitors"] = {"1": {"id": 2}}
        s.dump("destination", ["monitors"])
        assert path.stat().st_mode & 0o777 == 0o600

    def test_write_private_atomic(self, tmp_path):
        path = tmp_path / "new" / "handoff.json"
        state_module.write_private_atomic(path, '{"é": 1}')
        assert read_json(path) == {"é": 1}
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
        assert names(path.parent) == ["handoff.json"], "no temporary file left"

    def test_only_dumped_types_are_rewritten(self, roots):
        s = store(roots)
        s.source["monitors"] = {"1": {"id": 1}}
        s.source["dashboards"] = {"a": {"id": "a"}}
        s.dump("source", ["monitors", "dashboards"])
        dashboards = roots[0] / "dashboards.json"
        set_mtime(dashboards, 100)
        before = dashboards.stat().st_mtime_ns

        s.source["monitors"]["2"] = {"id": 2}
        s.source["dashboards"] = {}  # e.g. the listing failed: the caller does not dump it
        s.dump("source", ["monitors"])
        assert dashboards.stat().st_mtime_ns == before
        assert read_json(dashboards) == {"a": {"id": "a"}}
        assert read_json(roots[0] / "monitors.json") == {"1": {"id": 1}, "2": {"id": 2}}

    def test_dumping_an_absent_type_writes_empty_object(self, roots):
        s = store(roots)
        s.dump("destination", ["users"])
        assert read_json(roots[1] / "users.json") == {}
        assert "users" not in s.destination

    def test_dump_creates_directories(self, tmp_path):
        s = StateStore(tmp_path / "a" / "b" / "src", tmp_path / "dst")
        s.source["roles"] = {"r": {}}
        s.dump("source", ["roles"])
        assert (tmp_path / "a" / "b" / "src" / "roles.json").is_file()

    def test_reads_upstream_formatted_files(self, roots):
        # upstream's json.dump default: spaces after separators, ASCII escapes
        (roots[0]).mkdir(parents=True)
        (roots[0] / "monitors.json").write_text('{"1": {"name": "\\u00e9t\\u00e9", "id": 1}}', encoding="utf-8")
        s = store(roots)
        s.load()
        assert s.source["monitors"] == {"1": {"name": "été", "id": 1}}

    def test_host_tags_list_values_are_accepted(self, roots):
        write_json(roots[0] / "host_tags.json", {"host-1": ["env:prod", "team:a"]})
        s = store(roots)
        s.load()
        assert s.source["host_tags"] == {"host-1": ["env:prod", "team:a"]}
        s.dump("source", ["host_tags"])
        assert read_json(roots[0] / "host_tags.json") == {"host-1": ["env:prod", "team:a"]}

    def test_ignores_non_json_and_hidden_entries(self, roots):
        src = roots[0]
        write_json(src / "monitors.json", {"1": {}})
        (src / "notes.txt").write_text("hi")
        (src / "monitors.json.bak").write_text("garbage")
        (src / ".monitors.json.abc.tmp").write_text("garbage")  # a temp file left by a crash
        (src / ".hidden.json").write_text("garbage")
        write_json(src / ".backup" / "123.4" / "monitors.json", {"old": {}})
        (src / "dir.json").mkdir()
        s = store(roots)
        s.load()
        assert s.source == {"monitors": {"1": {}}}

    def test_dump_and_load_10000_objects_round_trip(self, roots):
        # Their speed is measured by benchmarks/, not asserted here: a loaded machine must not fail the suite.
        s = store(roots)
        s.source["monitors"] = {
            str(i): {"id": i, "name": f"monitor {i}", "query": "avg(last_5m):avg:system.cpu{*} > 90", "tags": ["a:b"]}
            for i in range(10_000)
        }
        s.dump("source", ["monitors"])
        fresh = store(roots)
        fresh.load()
        assert fresh.source["monitors"] == s.source["monitors"]


# --------------------------------------------------------------------------- load(types)


class TestLoadTypes:
    def test_loads_only_requested_types(self, roots):
        write_json(roots[0] / "monitors.json", {"1": {}})
        write_json(roots[0] / "users.json", {"u": {}})
        write_json(roots[1] / "monitors.json", {"1": {"id": 9}})
        (roots[0] / "broken.json").write_text("{not json")  # not requested, so not read
        s = store(roots)
        s.load(["monitors"])
        assert s.source == {"monitors": {"1": {}}}
        assert s.destination == {"monitors": {"1": {"id": 9}}}

    def test_load_replaces_loaded_types_and_keeps_others(self, roots):
        write_json(roots[0] / "monitors.json", {"1": {}})
        s = store(roots)
        s.source["monitors"]["stale"] = {}
        s.source["users"]["u"] = {}
        s.load(["monitors"])
        assert s.source == {"monitors": {"1": {}}, "users": {"u": {}}}

    @pytest.mark.parametrize("per_file", [False, True])
    def test_load_of_one_origin_neither_reads_nor_changes_the_other(self, roots, per_file):
        """``import`` loads source state only: a destination file is not read (a broken one raises nothing) and
        what memory holds of the destination is left as it is."""
        write_json(roots[0] / ("monitors.1.json" if per_file else "monitors.json"), {"1": {"name": "m"}})
        roots[1].mkdir(parents=True)
        (roots[1] / ("monitors.1.json" if per_file else "monitors.json")).write_text("{not json")
        s = store(roots, per_file)
        s.destination["monitors"]["kept"] = {"id": 9}
        s.load(["monitors"], ("source",))
        assert s.source == {"monitors": {"1": {"name": "m"}}}
        assert s.destination == {"monitors": {"kept": {"id": 9}}}
        with pytest.raises(StateFileError, match="is not valid JSON"):
            s.load(["monitors"])  # both origins, the default
        with pytest.raises(ValueError, match="origin must be"):
            s.load(["monitors"], ("target",))  # type: ignore[arg-type]

    def test_load_all_replaces_everything(self, roots):
        write_json(roots[0] / "monitors.json", {"1": {}})
        s = store(roots)
        s.source["users"]["u"] = {}
        s.destination["users"]["u"] = {}
        s.load()
        assert s.source == {"monitors": {"1": {}}}
        assert s.destination == {}


@pytest.mark.parametrize("count", [0, 1, ENTRIES_PER_PIECE, ENTRIES_PER_PIECE + 1, 3 * ENTRIES_PER_PIECE + 7])
def test_a_combined_file_is_encoded_in_pieces_with_the_same_bytes(roots, count):
    """Saves and checkpoints encode a combined file a few hundred entries at a time (never the whole type as one
    text and its bytes at once), into the very bytes of one compact encoding."""
    entries = {f"aws:{i}": {"name": "aws", "n": i, "tags": ["é", "b"], "on": True} for i in range(count)}
    pieces = list(encode_pieces("source", "integrations", entries))
    assert len(pieces) == max(1, -(-count // ENTRIES_PER_PIECE)) + (1 if count else 0)
    assert b"".join(pieces) == encode("source", "integrations", entries)
    assert json.loads(b"".join(pieces)) == entries
    s = store(roots)
    s.source["integrations"] = entries
    s.dump("source", ["integrations"])
    assert (roots[0] / "integrations.json").read_bytes() == encode("source", "integrations", entries)


# --------------------------------------------------------------------------- per-file mode


class TestPerFile:
    def test_layout_and_round_trip(self, roots):
        s = store(roots, per_file=True)
        s.source["integrations"] = {"aws:123": {"account_id": "123"}, "aws:456": {"account_id": "456"}}
        s.source["monitors"] = {"1": {"id": 1}}
        s.dump("source", ["integrations", "monitors"])
        assert names(roots[0]) == ["integrations.aws.123.json", "integrations.aws.456.json", "monitors.1.json"]
        assert (roots[0] / "integrations.aws.123.json").read_bytes() == b'{"aws:123":{"account_id":"123"}}'

        fresh = store(roots, per_file=True)
        fresh.load()
        assert fresh.source == s.source
        assert fresh.files_for("source", "integrations") == [
            roots[0] / "integrations.aws.123.json",
            roots[0] / "integrations.aws.456.json",
        ]

    def test_removes_files_of_ids_no_longer_present(self, roots):
        s = store(roots, per_file=True)
        s.destination["monitors"] = {"1": {}, "2": {}, "3": {}}
        s.dump("destination", ["monitors"])
        del s.destination["monitors"]["2"]
        s.dump("destination", ["monitors"])
        assert names(roots[1]) == ["monitors.1.json", "monitors.3.json"]

    def test_prunes_files_not_loaded_by_this_process(self, roots):
        # e.g. import --skip-state-load: memory only has what was just imported
        write_json(roots[0] / "monitors.old.json", {"old": {}})
        write_json(roots[0] / "users.u.json", {"u": {}})
        s = store(roots, per_file=True)
        s.source["monitors"] = {"new": {}}
        s.dump("source", ["monitors"])
        assert names(roots[0]) == ["monitors.new.json", "users.u.json"]

    def test_prune_false_keeps_files(self, roots):
        s = store(roots, per_file=True)
        s.source["monitors"] = {"1": {}, "2": {}}
        s.dump("source", ["monitors"])
        s.source["monitors"] = {"3": {}}
        s.dump("source", ["monitors"], prune=False)
        assert names(roots[0]) == ["monitors.1.json", "monitors.2.json", "monitors.3.json"]

    def test_dumping_an_absent_type_removes_its_files(self, roots):
        write_json(roots[0] / "monitors.1.json", {"1": {}})
        write_json(roots[0] / "monitors.json", {"2": {}})
        s = store(roots, per_file=True)
        s.dump("source", ["monitors"])
        assert names(roots[0]) == []

    def test_only_changed_entries_are_written(self, roots, count_writes):
        s = store(roots, per_file=True)
        s.source["monitors"] = {str(i): {"id": i} for i in range(5)}
        s.dump("source", ["monitors"])
        assert len(count_writes) == 5

        count_writes.clear()
        s.dump("source", ["monitors"])
        assert count_writes == []

        s.source["monitors"]["2"]["name"] = "changed"
        s.source["monitors"]["9"] = {"id": 9}
        s.dump("source", ["monitors"])
        assert sorted(p.name for p in count_writes) == ["monitors.2.json", "monitors.9.json"]
        assert read_json(roots[0] / "monitors.2.json") == {"2": {"id": 2, "name": "changed"}}

    def test_unchanged_after_load_is_not_rewritten(self, roots, count_writes):
        s = store(roots, per_file=True)
        s.source["monitors"] = {str(i): {"id": i, "name": "é"} for i in range(3)}
        s.dump("source", ["monitors"])
        for path in roots[0].iterdir():
            set_mtime(path, 100)
        mtimes = {p.name: p.stat().st_mtime_ns for p in roots[0].iterdir()}
        count_writes.clear()

        fresh = store(roots, per_file=True)
        fresh.load()
        fresh.source["monitors"]["1"]["name"] = "new"
        fresh.dump("source", ["monitors"])
        assert [p.name for p in count_writes] == ["monitors.1.json"]
        after = {p.name: p.stat().st_mtime_ns for p in roots[0].iterdir()}
        assert after["monitors.0.json"] == mtimes["monitors.0.json"]
        assert after["monitors.2.json"] == mtimes["monitors.2.json"]
        assert after["monitors.1.json"] != mtimes["monitors.1.json"]

    def test_upstream_formatted_file_is_rewritten_once(self, roots, count_writes):
        (roots[0]).mkdir(parents=True)
        (roots[0] / "monitors.1.json").write_text('{"1": {"id": 1}}')
        s = store(roots, per_file=True)
        s.load()
        s.dump("source", ["monitors"])
        s.dump("source", ["monitors"])
        assert len(count_writes) == 1
        assert (roots[0] / "monitors.1.json").read_bytes() == b'{"1":{"id":1}}'

    def test_externally_deleted_file_is_rewritten(self, roots, count_writes):
        s = store(roots, per_file=True)
        s.source["monitors"] = {"1": {}, "2": {}}
        s.dump("source", ["monitors"])
        (roots[0] / "monitors.1.json").unlink()
        count_writes.clear()
        s.dump("source", ["monitors"])
        assert [p.name for p in count_writes] == ["monitors.1.json"]

    def test_sanitize_collision_names_both_ids(self, roots):
        s = store(roots, per_file=True)
        s.source["integrations"] = {"aws:1": {}, "aws.1": {}, "other": {}}
        with pytest.raises(StateFileError) as info:
            s.dump("source", ["integrations"])
        message = str(info.value)
        assert "'aws:1'" in message and "'aws.1'" in message
        assert info.value.path == roots[0].absolute() / "integrations.aws.1.json"
        assert not any(roots[0].glob("integrations*"))

    def test_collision_leaves_existing_files_alone(self, roots):
        s = store(roots, per_file=True)
        s.source["integrations"] = {"aws:1": {"v": 1}}
        s.dump("source", ["integrations"])
        s.source["integrations"] = {"aws:1": {"v": 2}, "aws.1": {}}
        with pytest.raises(StateFileError):
            s.dump("source", ["integrations"])
        assert read_json(roots[0] / "integrations.aws.1.json") == {"aws:1": {"v": 1}}

    @pytest.mark.parametrize("bad_id", ["a/b", "..", "a\\b", "x\x00y"])
    def test_ids_unusable_as_file_names(self, roots, bad_id):
        s = store(roots, per_file=True)
        s.source["monitors"] = {bad_id: {}}
        with pytest.raises(StateFileError, match="cannot be used in a state file name"):
            s.dump("source", ["monitors"])

    def test_id_too_long_for_a_file_name(self, roots):
        s = store(roots, per_file=True)
        s.source["monitors"] = {"ok": {}, "x" * 240: {}}
        s.source["users"] = {"u": {}}
        with pytest.raises(StateFileError, match="cannot be used in a state file name .it is too long.") as info:
            s.dump("source", ["monitors", "users"])
        assert "the other monitors entries were written" in str(info.value)
        assert names(roots[0]) == ["monitors.ok.json", "users.u.json"], "the other entries and types are written"
        s.source["monitors"] = {"x" * 220: {}}
        s.dump("source", ["monitors"])
        assert names(roots[0]) == [f"monitors.{'x' * 220}.json", "users.u.json"]

    def test_same_ids_are_fine_in_combined_mode(self, roots):
        s = store(roots)
        s.source["integrations"] = {"aws:1": {}, "aws.1": {}, "a/b": {}}
        s.dump("source", ["integrations"])
        assert set(read_json(roots[0] / "integrations.json")) == {"aws:1", "aws.1", "a/b"}

    def test_empty_id(self, roots):
        s = store(roots, per_file=True)
        s.source["logs_archives_order"] = {"": {"x": 1}}
        s.dump("source", ["logs_archives_order"])
        fresh = store(roots, per_file=True)
        fresh.load()
        assert fresh.source["logs_archives_order"] == {"": {"x": 1}}


# --------------------------------------------------------------------------- mixed layouts


class TestMixedLayouts:
    def test_both_layouts_are_merged(self, roots):
        write_json(roots[0] / "monitors.json", {"1": {"from": "combined"}, "2": {"from": "combined"}})
        write_json(roots[0] / "monitors.3.json", {"3": {"from": "per-file"}})
        write_json(roots[0] / "integrations.aws.9.json", {"aws:9": {}})
        write_json(roots[0] / "users.json", {"u": {}})
        s = store(roots)
        s.load()
        assert s.source["monitors"] == {
            "1": {"from": "combined"},
            "2": {"from": "combined"},
            "3": {"from": "per-file"},
        }
        assert s.source["integrations"] == {"aws:9": {}}
        assert s.source["users"] == {"u": {}}
        assert s.files_for("source", "monitors") == [roots[0] / "monitors.3.json", roots[0] / "monitors.json"]

    def test_newer_file_wins_for_an_id_in_both(self, roots):
        combined = write_json(roots[0] / "monitors.json", {"1": {"v": "combined"}})
        per_file = write_json(roots[0] / "monitors.1.json", {"1": {"v": "per-file"}})
        set_mtime(combined, 100)
        s = store(roots)
        s.load()
        assert s.source["monitors"]["1"] == {"v": "per-file"}

        set_mtime(per_file, 200)
        s.load()
        assert s.source["monitors"]["1"] == {"v": "combined"}

    def test_per_file_dump_replaces_combined_file(self, roots):
        write_json(roots[0] / "monitors.json", {"1": {}, "a:b": {}})
        s = store(roots, per_file=True)
        s.load()
        s.dump("source", ["monitors"])
        assert names(roots[0]) == ["monitors.1.json", "monitors.a.b.json"]

    def test_combined_dump_replaces_per_file_files(self, roots):
        write_json(roots[1] / "monitors.1.json", {"1": {"id": 10}})
        write_json(roots[1] / "monitors.2.json", {"2": {"id": 20}})
        write_json(roots[1] / "users.u.json", {"u": {}})
        s = store(roots)
        s.load()
        del s.destination["monitors"]["2"]
        s.dump("destination", ["monitors"])
        assert names(roots[1]) == ["monitors.json", "users.u.json"]
        assert read_json(roots[1] / "monitors.json") == {"1": {"id": 10}}
        fresh = store(roots)
        fresh.load()
        assert fresh.destination["monitors"] == {"1": {"id": 10}}  # the deleted id does not come back

    def test_combined_dump_with_prune_false_keeps_per_file_files(self, roots):
        write_json(roots[1] / "monitors.1.json", {"1": {"id": 10}})
        s = store(roots)
        s.load()
        s.destination["monitors"]["1"] = {"id": 11}
        set_mtime(roots[1] / "monitors.1.json", 100)
        s.dump("destination", ["monitors"], prune=False)
        assert names(roots[1]) == ["monitors.1.json", "monitors.json"]
        fresh = store(roots)
        fresh.load()
        assert fresh.destination["monitors"]["1"] == {"id": 11}  # the newer combined file wins


# --------------------------------------------------------------------------- atomicity


class TestAtomicity:
    def test_unserializable_object_leaves_old_file_intact(self, roots):
        s = store(roots)
        s.source["monitors"] = {"1": {"id": 1}}
        s.dump("source", ["monitors"])
        before = (roots[0] / "monitors.json").read_bytes()

        s.source["monitors"]["2"] = {"id": object()}
        with pytest.raises(TypeError, match="cannot write source state of monitors id '2'"):
            s.dump("source", ["monitors"])
        assert (roots[0] / "monitors.json").read_bytes() == before
        assert names(roots[0]) == ["monitors.json"]

    def test_unserializable_object_past_the_first_piece_leaves_old_file_intact(self, roots):
        """A combined file is written piece by piece (``encode_pieces``): an entry that cannot be encoded after
        some pieces were written still leaves the old file, and no temporary file."""
        s = store(roots)
        s.source["monitors"] = {str(i): {"id": i} for i in range(3 * ENTRIES_PER_PIECE)}
        s.dump("source", ["monitors"])
        before = (roots[0] / "monitors.json").read_bytes()
        s.source["monitors"]["last"] = {"id": object()}
        with pytest.raises(TypeError, match="cannot write source state of monitors id 'last'"):
            s.dump("source", ["monitors"])
        assert (roots[0] / "monitors.json").read_bytes() == before
        assert names(roots[0]) == ["monitors.json"]

    def test_unserializable_object_in_per_file_mode(self, roots):
        s = store(roots, per_file=True)
        s.source["monitors"] = {"1": {"id": 1}}
        s.dump("source", ["monitors"])
        s.source["monitors"]["1"] = {"id": {1, 2}}
        with pytest.raises(TypeError, match="id '1'"):
            s.dump("source", ["monitors"])
        assert read_json(roots[0] / "monitors.1.json") == {"1": {"id": 1}}
        assert names(roots[0]) == ["monitors.1.json"]

    def test_failure_while_writing_keeps_old_file_and_no_temp(self, roots, monkeypatch):
        s = store(roots)
        s.source["monitors"] = {"1": {"id": 1}}
        s.dump("source", ["monitors"])
        before = (roots[0] / "monitors.json").read_bytes()

        def boom(fd):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(state_module.os, "fsync", boom)
        s.source["monitors"]["2"] = {"id": 2}
        with pytest.raises(OSError, match="No space left"):
            s.dump("source", ["monitors"])
        assert (roots[0] / "monitors.json").read_bytes() == before
        assert names(roots[0]) == ["monitors.json"]

    def test_ctrl_c_before_replace_keeps_old_file(self, roots, monkeypatch):
        s = store(roots)
        s.source["monitors"] = {"1": {"id": 1}}
        s.dump("source", ["monitors"])
        before = (roots[0] / "monitors.json").read_bytes()

        def interrupted(src, dst):
            raise KeyboardInterrupt

        monkeypatch.setattr(state_module.os, "replace", interrupted)
        s.source["monitors"] = {}
        with pytest.raises(KeyboardInterrupt):
            s.dump("source", ["monitors"])
        assert (roots[0] / "monitors.json").read_bytes() == before
        assert names(roots[0]) == ["monitors.json"]

    def test_failed_per_file_write_is_retried_next_dump(self, roots, monkeypatch, count_writes):
        s = store(roots, per_file=True)
        s.source["monitors"] = {"1": {"v": 1}}
        s.dump("source", ["monitors"])
        s.source["monitors"]["1"] = {"v": 2}
        with monkeypatch.context() as m:
            m.setattr(state_module.os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("disk gone")))
            with pytest.raises(OSError):
                s.dump("source", ["monitors"])
        assert read_json(roots[0] / "monitors.1.json") == {"1": {"v": 1}}
        count_writes.clear()
        s.dump("source", ["monitors"])
        assert [p.name for p in count_writes] == ["monitors.1.json"]
        assert read_json(roots[0] / "monitors.1.json") == {"1": {"v": 2}}

    def test_non_string_id_is_rejected_before_writing(self, roots):
        s = store(roots)
        s.source["monitors"] = {1: {}}  # type: ignore[dict-item]
        with pytest.raises(TypeError, match="state ids must be strings: source monitors has the id 1"):
            s.dump("source", ["monitors"])
        assert not roots[0].exists() or names(roots[0]) == []


# --------------------------------------------------------------------------- corrupt files


class TestCorruptFiles:
    def test_a_source_entry_that_is_not_an_object_loads_and_is_refused_by_planning(self, roots):
        roots[0].mkdir(parents=True)
        write_json(roots[0] / "integrations.json", {"aws:1": "str", "aws:2": None, "aws:3": 5, "aws:4": {}})
        s = store(roots, per_file=False)
        s.load()
        assert s.source["integrations"] == {"aws:1": "str", "aws:2": None, "aws:3": 5, "aws:4": {}}

    @pytest.mark.parametrize(
        ("name", "content", "expected"),
        [
            ("monitors.json", b'{"1": {"id": 1}', "is not valid JSON"),
            ("monitors.json", b"", "is not valid JSON"),
            ("monitors.json", b"[1, 2]", "the file holds a list, not a JSON object keyed by id"),
            ("monitors.json", b'"text"', "the file holds a string, not a JSON object"),
            ("monitors.json", b"null", "the file holds null, not a JSON object keyed by id"),
            ("monitors.json", b"true", "the file holds true or false, not a JSON object"),
            ("monitors.json", b'{"1": 5}', "the value for id '1' is a number, not a JSON object"),
            ("monitors.json", b'{"1": null}', "the value for id '1' is null, not a JSON object"),
            ("monitors.json", b'{"1": "x"}', "the value for id '1' is a string"),
            ("monitors.json", b'{"1": "\xff"}', "is not UTF-8 text"),
            ("monitors.1.json", b"{}", "must hold exactly one entry, found 0"),
            ("monitors.1.json", b'{"1": {}, "2": {}}', "must hold exactly one entry, found 2"),
            ("monitors.1.json", b'{"2": {}}', "its entry '2' belongs in a file named 'monitors.2.json'"),
            ("integrations.aws.1.json", b'{"aws:2": {}}', "belongs in a file named 'integrations.aws.2.json'"),
            ("monitors.1.json", b'{"1": 3}', "is a number, not a JSON object"),
        ],
    )
    @pytest.mark.parametrize("origin", ["source", "destination"])
    def test_corrupt_file_raises_and_is_not_overwritten(self, roots, name, content, expected, origin):
        root = roots[0] if origin == "source" else roots[1]
        if origin == "source" and ("the value for id" in expected or "is a number" in expected):
            # A source entry of any JSON type loads: planning refuses it as that one entry's failure (issue 9).
            root.mkdir(parents=True)
            (root / name).write_bytes(content)
            s = store(roots, per_file=name.count(".") > 1)
            s.load()
            assert list(s.source["monitors"]) == ["1"]
            return
        root.mkdir(parents=True)
        path = root / name
        path.write_bytes(content)
        write_json(root / "users.json", {"u": {}})
        s = store(roots, per_file=name.count(".") > 1)
        s.source["keep"]["me"] = {}
        with pytest.raises(StateFileError) as info:
            s.load()
        err = info.value
        assert err.path == path
        assert str(err).startswith(f"state file {path}: ")
        assert expected in str(err)
        if origin == "source":
            assert "delete it and run `datadog-sync import` again" in str(err)
        else:
            assert f"restore it from a copy (reset and sync backups are under {roots[1] / '.backup'})" in str(err)
            assert "create those resources again" not in str(err), "adoption prevents duplicates"
            assert "adopts those it finds (AWS accounts by account id)" in str(err)
            assert "external IDs of AWS role accounts" in str(err)
        # all or nothing: memory untouched, file untouched
        assert s.source == {"keep": {"me": {}}}
        assert s.destination == {}
        assert path.read_bytes() == content

    def test_entry_belonging_elsewhere_says_rename(self, roots):
        write_json(roots[0] / "monitors.1.json", {"2": {}})
        with pytest.raises(StateFileError, match="rename the file or fix it by hand"):
            store(roots).load()

    def test_valid_upstream_per_file_key_with_colon(self, roots):
        write_json(roots[0] / "integrations.aws.1.json", {"aws:1": {}})
        s = store(roots)
        s.load()
        assert s.source["integrations"] == {"aws:1": {}}

    def test_corrupt_file_of_unrequested_type_is_not_read(self, roots):
        (roots[0]).mkdir(parents=True)
        (roots[0] / "users.json").write_text("nope")
        write_json(roots[0] / "monitors.json", {"1": {}})
        s = store(roots)
        s.load(["monitors"])
        assert s.source == {"monitors": {"1": {}}}

    def test_bom_is_tolerated(self, roots):
        (roots[0]).mkdir(parents=True)
        (roots[0] / "monitors.json").write_bytes(b'\xef\xbb\xbf{"1": {}}')
        s = store(roots)
        s.load()
        assert s.source["monitors"] == {"1": {}}


# --------------------------------------------------------------------------- backups


class TestBackups:
    def test_write_backup(self, roots):
        s = store(roots)
        before = time.time()
        path = s.write_backup({"monitors": {"1": {"id": 1, "n": "é"}}, "users": {}}, label="reset")
        assert path.parent == roots[1].absolute() / ".backup"
        stamp, _, label = path.name.partition("-")
        assert label == "reset"
        assert before <= float(stamp) <= time.time()
        assert "." in stamp  # unix time with a fraction, like upstream
        assert names(path) == ["monitors.json", "users.json"]
        assert (path / "monitors.json").read_bytes() == '{"1":{"id":1,"n":"é"}}'.encode()
        assert read_json(path / "users.json") == {}
        assert names(path.parent) == [path.name]  # no temporary directory left

    def test_backup_without_label_and_loadable_as_state(self, roots):
        s = store(roots)
        path = s.write_backup({"monitors": {"1": {"id": 1}}})
        float(path.name)
        restored = StateStore(path, roots[1])
        restored.load()
        assert restored.source == {"monitors": {"1": {"id": 1}}}

    def test_backup_label_is_made_safe(self, roots):
        path = store(roots).write_backup({}, label="../sync run/1")
        assert path.parent == roots[1].absolute() / ".backup"
        assert path.name.endswith("-sync_run_1")

    def test_backups_are_distinct(self, roots):
        s = store(roots)
        paths = {s.write_backup({"m": {}}, label="x") for _ in range(5)}
        assert len(paths) == 5

    def test_backup_is_not_loaded_as_destination_state(self, roots):
        s = store(roots)
        s.write_backup({"monitors": {"1": {}}})
        s.load()
        assert s.destination == {}

    def test_failed_backup_leaves_nothing(self, roots):
        s = store(roots)
        with pytest.raises(TypeError, match="monitors id '1'"):
            s.write_backup({"users": {"u": {}}, "monitors": {"1": {"x": object()}}})
        assert not (roots[1] / ".backup").exists() or names(roots[1] / ".backup") == []

    def test_failed_backup_write_removes_temporary_dir(self, roots, monkeypatch):
        s = store(roots)

        def boom(fd):
            raise OSError("io error")

        monkeypatch.setattr(state_module.os, "fsync", boom)
        with pytest.raises(OSError):
            s.write_backup({"users": {"u": {}}})
        assert names(roots[1] / ".backup") == []

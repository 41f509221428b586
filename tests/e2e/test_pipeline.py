"""End to end: the real CLI, pipeline, state files and HTTP client against a local REST server."""

from __future__ import annotations

import json
import weakref
from pprint import pformat
from typing import ClassVar

import pytest

from datadog_sync.emulator.testing import DESTINATION, SOURCE
from datadog_sync.resources.base import BaseResource, ResourceConfig
from tests.support import invoke, registered


def seed_source(server):
    src = server.data["source"]
    src["gadgets"]["1"] = {"id": "1", "name": "alpha", "size": 1}
    src["gadgets"]["2"] = {"id": "2", "name": "beta", "size": 2}
    src["widgets"]["10"] = {"id": "10", "name": "w", "gadget_id": "1", "tags": ["b", "a"]}


def writes(server, org="destination"):
    return [r for r in server.requests if r[0] == org and r[1] != "GET"]


def test_import_diffs_sync_and_noop_resync(run, server):
    seed_source(server)
    result = run("import")
    assert result.exit_code == 0, result.output
    assert "Starting import..." in result.stderr and "Finished import" in result.stderr
    assert set(run.state("source", "gadgets")) == {"1", "2"}
    assert run.state("source", "widgets")["10"]["gadget_id"] == "1"

    result = run("diffs", "--exit-code")
    assert result.exit_code == 2
    assert "Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged." in result.stdout
    assert not writes(server)

    result = run("sync")
    assert result.exit_code == 0, result.stderr
    assert "Applied: 3 created, 0 updated, 0 deleted, 0 unchanged, 0 failed, 0 skipped." in result.stdout
    dst = server.data["destination"]
    assert {g["name"] for g in dst["gadgets"].values()} == {"alpha", "beta"}
    (widget,) = dst["widgets"].values()
    # The widget's reference was remapped to the destination id of gadget "alpha".
    assert dst["gadgets"][widget["gadget_id"]]["name"] == "alpha"
    assert run.state("destination", "widgets")["10"]["id"] == widget["id"]

    server.requests.clear()
    result = run("diffs", "--exit-code")
    assert result.exit_code == 0
    assert "Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged." in result.stdout
    result = run("sync")
    assert result.exit_code == 0
    assert writes(server) == []


def test_update_is_backed_up_then_applied(run, server):
    seed_source(server)
    run("import")
    run("sync")
    server.data["source"]["gadgets"]["2"]["size"] = 20
    run("import")
    result = run("diffs")
    assert "~ gadgets 2: update" in result.stdout
    assert "~ size: 2 -> 20" in result.stdout
    result = run("sync")
    assert result.exit_code == 0
    assert "1 updated" in result.stdout
    dst_id = run.state("destination", "gadgets")["2"]["id"]
    assert server.data["destination"]["gadgets"][dst_id]["size"] == 20
    backups = list((run.workdir / "resources" / "destination" / ".backup").glob("*/gadgets.json"))
    assert len(backups) == 1
    assert json.loads(backups[0].read_text())["2"]["size"] == 2


def test_adopts_existing_destination_object_instead_of_duplicating(run, server):
    seed_source(server)
    server.data["destination"]["gadgets"]["77"] = {"id": "77", "name": "alpha", "size": 1}
    run("import")
    result = run("diffs")
    assert "Plan: 2 to create, 0 to update, 0 to delete, 1 unchanged." in result.stdout
    run("sync")
    names = sorted(g["name"] for g in server.data["destination"]["gadgets"].values())
    assert names == ["alpha", "beta"]
    assert run.state("destination", "gadgets")["1"]["id"] == "77"


def test_cleanup_force_deletes_what_left_the_source(run, server):
    seed_source(server)
    run("import")
    run("sync")
    del server.data["source"]["gadgets"]["2"]
    run("import")
    result = run("diffs", "--cleanup=force")
    assert "Plan: 0 to create, 0 to update, 1 to delete, 2 unchanged." in result.stdout
    result = run("sync", "--cleanup=Force")
    assert result.exit_code == 0
    assert [g["name"] for g in server.data["destination"]["gadgets"].values()] == ["alpha"]
    assert "2" not in run.state("destination", "gadgets")


def test_one_failure_does_not_stop_the_others_and_is_summarized(run, server):
    seed_source(server)
    run("import")
    server.fail[("POST", "/api/v1/gadgets")] = 400
    result = run("sync")
    assert result.exit_code == 1
    assert "1 failed" in result.stdout
    assert "FAILURE: gadgets" in result.stdout and "injected failure" in result.stdout
    assert len(server.data["destination"]["gadgets"]) == 1
    # A second run converges.
    result = run("sync")
    assert result.exit_code == 0, result.stdout
    assert len(server.data["destination"]["gadgets"]) == 2
    assert len(server.data["destination"]["widgets"]) == 1


def test_filters_limit_what_is_imported(run, server):
    seed_source(server)
    result = run("import", "--resources=gadgets", "--filter=Type=gadgets;Name=name;Value=alp;Operator=SubString")
    assert result.exit_code == 0
    assert set(run.state("source", "gadgets")) == {"1"}


def test_reset_backs_up_then_deletes_after_confirmation(run, server):
    seed_source(server)
    run("import")
    run("sync")
    result = run("reset", input="y\ny\n")
    assert result.exit_code == 0, result.stderr
    assert server.data["destination"]["gadgets"] == {} and server.data["destination"]["widgets"] == {}
    backup = list((run.workdir / "resources" / "destination" / ".backup").glob("*/gadgets.json"))
    assert len(json.loads(backup[0].read_text())) == 2
    assert server.data["source"]["gadgets"], "reset never touches the source org"


def test_reset_refuses_json_without_yes(run, server):
    result = run("reset", "--json")
    assert result.exit_code == 2
    assert "--yes" in result.output


def test_corrupt_state_file_is_reported_and_left_alone(run, server):
    path = run.workdir / "resources" / "source"
    path.mkdir(parents=True)
    (path / "gadgets.json").write_text("{not json")
    result = run("sync")
    assert result.exit_code == 1
    assert "gadgets.json" in result.stderr
    assert (path / "gadgets.json").read_text() == "{not json"


@pytest.mark.parametrize("per_file", [False, True])
def test_import_reads_no_destination_state(run, server, per_file):
    """import replaces source state from the source org and uses nothing of the destination's: it does not load
    destination state (at 10,000 AWS accounts that is ~40 MB, docs/performance.md), so an unreadable destination
    file does not stop it. diffs and sync, which read it, still refuse it and leave it alone."""
    seed_source(server)
    layout = ("--resource-per-file",) if per_file else ()
    path = run.workdir / "resources" / "destination"
    path.mkdir(parents=True)
    corrupt = path / ("gadgets.1.json" if per_file else "gadgets.json")
    corrupt.write_text("{not json")
    result = run("import", *layout)
    assert result.exit_code == 0, result.stderr
    assert "Imported: 3 resources, 0 failed" in result.stdout
    source = run.workdir / "resources" / "source"
    imported = {p.name for p in source.iterdir()}
    assert imported == (
        {"gadgets.1.json", "gadgets.2.json", "widgets.10.json"} if per_file else {"gadgets.json", "widgets.json"}
    )
    for command in ("diffs", "sync"):
        result = run(command, *layout)
        assert result.exit_code == 1 and corrupt.name in result.stderr, command
    assert corrupt.read_text() == "{not json" and not writes(server)


class Listed(dict):
    """A listed item that can be weakly referenced, to see when the import lets go of it."""


class Tallies(BaseResource):
    """Listed all at once, imported one at a time (``concurrent=False``); notes how many earlier listed items are
    still alive when each is imported."""

    resource_type = "tallies"
    config = ResourceConfig(base_path="/api/v1/tallies", concurrent=False)
    alive: ClassVar[list[int]] = []

    async def list_resources(self, client):
        return [Listed(id=str(i), name=f"t{i}") for i in range(20)]

    async def import_resource(self, raw, client):
        self.alive.append(sum(ref() is not None for ref in self._refs))
        self._refs.append(weakref.ref(raw))
        return raw["id"], dict(raw)

    def __init__(self, ctx):
        super().__init__(ctx)
        self._refs: list[weakref.ref] = []


def test_import_lets_go_of_each_listed_item_once_imported(run, server):
    """The listing and what it becomes are not both held whole (a 10,000-account listing is ~50 MB): each listed
    item is dropped from the listing when its import starts, so none outlives its own import."""
    Tallies.alive.clear()
    with registered(Tallies):
        result = run("import", "--resources=tallies")
    assert result.exit_code == 0, result.stderr
    assert len(run.state("source", "tallies")) == 20
    assert Tallies.alive == [0] * 20


def test_json_mode_emits_outcomes(run, server):
    seed_source(server)
    result = run("import", "--json")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    outcomes = [e for e in events if e["type"] == "outcome"]
    assert {(e["resource_type"], e["id"], e["status"]) for e in outcomes} == {
        ("gadgets", "1", "success"),
        ("gadgets", "2", "success"),
        ("widgets", "10", "success"),
    }
    assert all(e["action_type"] == "import" for e in outcomes)
    assert any(e["type"] == "summary" for e in events)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--resources=nope"], "unknown resource type(s) in --resources: nope"),
        (["--filter=Type=gadgets;Name=name"], "Value"),
        (["--max-workers-per-type=gadgets=x"], "not a whole number"),
    ],
)
def test_usage_errors_exit_2(run, args, message):
    result = run("import", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_wrong_key_fails_validation(run, server):
    result = run("import", env={"DD_SOURCE_API_KEY": "wrong"})
    assert result.exit_code == 1
    assert "invalid api key" in result.stderr
    assert "wrong" not in result.stderr


def test_failed_listing_keeps_previous_state(run, server):
    seed_source(server)
    run("import")
    before = run.state("source", "gadgets")
    server.fail[("GET", "/api/v1/gadgets")] = 400
    result = run("import")
    assert result.exit_code == 1
    assert "Error while getting resources gadgets" in result.stderr
    assert run.state("source", "gadgets") == before
    # and a later cleanup therefore deletes nothing
    run("sync")
    result = run("sync", "--cleanup=force")
    assert "0 deleted" in result.stdout
    assert len(server.data["destination"]["gadgets"]) == 2


def test_per_file_mode_round_trip(run, server):
    seed_source(server)
    assert run("import", "--resource-per-file").exit_code == 0
    src = run.workdir / "resources" / "source"
    assert sorted(p.name for p in src.iterdir()) == ["gadgets.1.json", "gadgets.2.json", "widgets.10.json"]
    assert json.loads((src / "gadgets.1.json").read_text())["1"]["name"] == "alpha"
    assert run("sync", "--resource-per-file").exit_code == 0
    dst = run.workdir / "resources" / "destination"
    assert sorted(p.name for p in dst.iterdir() if p.suffix == ".json") == [
        "gadgets.1.json",
        "gadgets.2.json",
        "widgets.10.json",
    ]
    result = run("diffs", "--resource-per-file")
    assert "Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged." in result.stdout


def test_config_file_values_rank_below_env_and_flags(run, server, tmp_path):
    seed_source(server)
    config = tmp_path / "sync.conf"
    config.write_text('# datadog-sync configuration\nresources="gadgets"\nsource_api_key="wrong"\n')
    # The environment's source key wins over the file's; the file's resources apply.
    result = run("import", f"--config={config}")
    assert result.exit_code == 0, result.stderr
    assert run.state("source", "gadgets") and not run.state("source", "widgets")
    # A flag wins over both.
    result = run("import", f"--config={config}", "--resources=widgets")
    assert run.state("source", "widgets")


def test_bad_config_file_is_a_usage_error(run, tmp_path):
    config = tmp_path / "bad.conf"
    config.write_text("resources = gadgets\n")
    result = run("import", f"--config={config}")
    assert result.exit_code == 2
    assert "bad.conf" in result.output


def test_ddr_status_blocks_the_run(run, server):
    server.ddr_status = 4
    result = run("import")
    assert result.exit_code == 1
    assert "DDR verification failed" in result.stderr and "ACTIVE" in result.stderr


def test_config_file_filters_upstream_style(run, server, tmp_path):
    seed_source(server)
    config = tmp_path / "sync.conf"
    config.write_text('resources="gadgets"\nfilter=["Type=gadgets;Name=name;Value=beta"]\n')
    assert run("import", f"--config={config}").exit_code == 0
    assert set(run.state("source", "gadgets")) == {"2"}
    config.write_text('resources="gadgets"\nfilter="Type=gadgets;Name=size;Value=1"\n')
    assert run("import", f"--config={config}").exit_code == 0
    assert set(run.state("source", "gadgets")) == {"1"}


def test_verbose_output_never_shows_keys(run, server):
    seed_source(server)
    result = run("import", "-v")
    assert result.exit_code == 0
    assert "GET" in result.stderr, "verbose mode logs requests"
    for secret in (SOURCE.api_key, SOURCE.app_key, DESTINATION.api_key, DESTINATION.app_key):
        assert secret not in result.stderr and secret not in result.stdout


def test_help_documents_every_command(run):
    for command in ("import", "sync", "migrate", "diffs", "reset"):
        result = invoke([command, "--help"])
        assert result.exit_code == 0
        assert "--source-api-key" in result.output and "--filter" in result.output


def test_upstream_script_flags_send_metrics_and_global_downtime_false_are_accepted(run, server):
    seed_source(server)
    assert run("import", "--send-metrics=False").exit_code == 0
    result = run("sync", "--send-metrics=False", "--create-global-downtime=False")
    assert result.exit_code == 0, result.stderr
    assert set(run.state("destination", "gadgets")) == {"1", "2"} and writes(server)


@pytest.mark.parametrize(
    ("command", "flag", "message"),
    [
        ("import", "--send-metrics=true", "sends no usage metrics"),
        ("sync", "--create-global-downtime=true", "creates no downtime"),
    ],
)
def test_upstream_features_we_do_not_have_are_usage_errors(run, server, command, flag, message):
    seed_source(server)
    result = run(command, flag)
    assert result.exit_code == 2
    assert message in result.output
    assert server.requests == [], "a usage error sends nothing"


def test_config_file_with_an_upstream_only_option_says_so(run, tmp_path):
    config = tmp_path / "upstream.conf"
    config.write_text('send_metrics="False"\nid_file="ids.json"\n')
    result = run("import", f"--config={config}")
    assert result.exit_code == 2
    assert "'id_file' is a datadog-sync-cli option that datadog-sync does not support" in result.output
    assert "upstream.conf" in result.output and "line 2" in result.output


def test_diffs_logs_upstream_lines_for_datadog_sync_cli_scripts(run, server):
    seed_source(server)
    run("import")
    result = run("diffs")
    for rtype, key in (("gadgets", "1"), ("gadgets", "2"), ("widgets", "10")):
        assert f" - INFO - to be created: {rtype} {key}\n" in result.stderr
    run("sync")
    server.data["source"]["gadgets"]["2"]["size"] = 20
    del server.data["source"]["widgets"]["10"]
    run("import")
    result = run("diffs", "--cleanup=force")
    assert result.exit_code == 0, result.stderr
    diff = """{'values_changed': {"root['size']": {'new_value': 20, 'old_value': 2}}}"""
    assert f" - INFO - [gadgets - 2] - diff: \n {diff}\n" in result.stderr
    widget = run.state("destination", "widgets")["10"]
    assert f" - INFO - [widgets - 10] - to be deleted: \n {pformat(widget)}\n" in result.stderr
    assert "to be created" not in result.stderr
    assert "~ gadgets 2: update" in result.stdout and "- widgets 10: delete" in result.stdout


def test_filter_on_an_attribute_no_object_has_warns_once(run, server):
    seed_source(server)
    result = run("import", "--resources=gadgets", "--filter=Type=gadgets;Name=nmae;Value=alpha")
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if " - WARNING - " in line]
    assert len(warnings) == 1, result.stderr
    assert "'Type=gadgets;Name=nmae;Value=alpha;Operator=ExactMatch'" in warnings[0]
    assert "no gadgets object has the attribute 'nmae' (did you mean 'name'?)" in warnings[0]
    assert "Imported: 0 resources, 0 failed, 0 skipped, 2 filtered." in result.stdout

    run("import")
    result = run("diffs", "--filter=Type=gadgets;Name=nmae;Value=alpha;Operator=Not")
    assert result.stderr.count("no gadgets object has the attribute 'nmae'") == 1
    assert "so it keeps every gadgets object" in result.stderr
    result = run("diffs", "--filter=Type=gadgets;Name=name;Value=alpha")
    assert "WARNING" not in result.stderr


def test_plan_and_applied_lines_count_what_the_filters_left_out(run, server):
    seed_source(server)
    run("import")
    only_alpha = "--filter=Type=gadgets;Name=name;Value=alpha"
    result = run("diffs", only_alpha)
    assert "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged, 1 filtered." in result.stdout
    result = run("diffs", only_alpha, "--json")
    (summary,) = [e for e in map(json.loads, result.stdout.splitlines()) if e["type"] == "summary"]
    assert summary["filtered"] == 1 and summary["create"] == 2
    result = run("sync", only_alpha)
    assert result.exit_code == 0, result.stderr
    assert "Applied: 2 created, 0 updated, 0 deleted, 0 unchanged, 0 failed, 0 skipped, 1 filtered." in result.stdout
    assert [g["name"] for g in server.data["destination"]["gadgets"].values()] == ["alpha"]


def test_failed_destination_read_makes_the_plan_of_its_type_unknown_and_fails(run, server):
    seed_source(server)
    run("import")
    run("sync")
    server.data["source"]["gadgets"]["3"] = {"id": "3", "name": "gamma", "size": 3}  # a key to look up
    server.data["source"]["widgets"]["10"]["name"] = "w2"
    run("import")
    server.fail[("GET", "/api/v1/gadgets")] = 400  # the destination listing that adoption needs
    result = run("diffs", "--exit-code")
    assert result.exit_code == 1, "a failure, not 'differences found' (2)"
    assert (
        "Plan: unknown for gadgets (reading the destination failed, see the error above); "
        "other types: 0 to create, 1 to update, 0 to delete, 0 unchanged." in result.stdout
    )
    assert "reading the destination's current gadgets failed, so none was planned or applied" in result.stderr

    server.requests.clear()
    server.fail[("GET", "/api/v1/gadgets")] = 400
    result = run("sync", "--cleanup=force")
    assert result.exit_code == 1
    assert result.stdout.startswith("Plan: unknown for gadgets")
    assert "1 updated" in result.stdout and "1 failed" in result.stdout
    assert [r for r in writes(server) if "gadgets" in r[2]] == [], "nothing is done to a type that was not read"
    assert "3" not in run.state("destination", "gadgets")

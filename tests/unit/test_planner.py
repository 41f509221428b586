from __future__ import annotations

from types import SimpleNamespace

import pytest

from datadog_sync.diffing import compute_diff
from datadog_sync.ordering import type_order
from datadog_sync.planner import Plan, plan_type
from datadog_sync.resources.base import BaseResource, ResourceConfig, get_path, iter_path, strip_paths


class Things(BaseResource):
    resource_type = "things"
    config = ResourceConfig(base_path="/things", excluded_attributes=("id", "meta.created"))


class Holders(BaseResource):
    resource_type = "holders"
    config = ResourceConfig(
        base_path="/holders", excluded_attributes=("id",), dependencies={"things": ("items.thing_id",)}
    )


class FakeState:
    def __init__(self, destination=None):
        self.source = {}
        self.destination = destination or {}


def make(cls, destination=None):
    ctx = SimpleNamespace(
        state=FakeState(destination),
        resource_logger=lambda t: None,
        id_key_of=lambda t: "id",
    )
    return cls(ctx)


def test_create_update_noop_delete():
    res = make(Things)
    source = {"a": {"id": "a", "n": 1}, "b": {"id": "b", "n": 2, "meta": {"created": "y"}}, "c": {"id": "c", "n": 3}}
    dest_state = {"b": {"id": "B", "n": 2, "meta": {"created": "x"}}, "c": {"id": "C", "n": 30}, "d": {"id": "D"}}
    changes = plan_type(res, source, dest_state, dest_state, cleanup=True, all_source_keys=source, in_plan={})
    actions = {c.key: c.action for c in changes}
    assert actions == {"a": "create", "b": "noop", "c": "update", "d": "delete"}
    (update,) = [c for c in changes if c.action == "update"]
    assert [d.render() for d in update.differences] == ["~ n: 30 -> 3"]


def test_without_cleanup_nothing_is_deleted_and_filtered_out_keys_are_kept():
    res = make(Things)
    dest_state = {"x": {"id": "X"}, "y": {"id": "Y"}}
    assert plan_type(res, {}, dest_state, dest_state, cleanup=False, in_plan={}) == []
    changes = plan_type(res, {}, dest_state, dest_state, cleanup=True, all_source_keys=["x"], in_plan={})
    assert [(c.key, c.action) for c in changes] == [("y", "delete")]


def test_cleanup_of_an_object_already_gone_only_forgets_state():
    res = make(Things)
    changes = plan_type(res, {}, {}, {"x": {"id": "X"}}, cleanup=True, in_plan={})
    assert [(c.action, c.forget) for c in changes] == [("noop", True)]


def test_adoption_is_marked():
    res = make(Things)
    changes = plan_type(res, {"a": {"id": "a", "n": 1}}, {"a": {"id": "Z", "n": 1}}, {}, cleanup=False, in_plan={})
    assert changes[0].action == "noop" and changes[0].adopted


def test_dependencies_are_remapped_or_skipped_or_deferred():
    holders = make(Holders, destination={"things": {"t1": {"id": "T1"}}})
    source = {
        "h1": {"id": "h1", "items": [{"thing_id": "t1"}]},
        "h2": {"id": "h2", "items": [{"thing_id": "t2"}]},
        "h3": {"id": "h3", "items": [{"thing_id": "t3"}]},
    }
    changes = {c.key: c for c in plan_type(holders, source, {}, {}, cleanup=False, in_plan={"things": {"t3"}})}
    assert changes["h1"].action == "create" and changes["h1"].desired["items"][0]["thing_id"] == "T1"
    assert changes["h2"].action == "skip" and "things t2" in changes["h2"].reason
    assert changes["h3"].action == "create" and changes["h3"].depends_on == (("things", "t3"),)
    assert changes["h3"].pending and not changes["h1"].pending
    assert source["h1"]["items"][0]["thing_id"] == "t1", "remapping never mutates source state"


def test_plan_summary_line():
    res = make(Things)
    dest = {"z": {"id": "z"}}
    plan = Plan(tuple(plan_type(res, {"a": {"n": 1}}, dest, dest, cleanup=True, in_plan={})))
    assert plan.summary() == "Plan: 1 to create, 0 to update, 1 to delete, 0 unchanged."
    assert plan.has_changes


def test_diff_ignores_list_order_and_renders_paths():
    assert compute_diff({"tags": ["a", "b"]}, {"tags": ["b", "a"]}) == []
    diffs = compute_diff({"tags": ["a", "b"], "f": {"elb": "x"}}, {"tags": ["a", "c"], "f": {"elb": "y", "rds": "z"}})
    assert [d.render() for d in diffs] == ['~ f.elb: "x" -> "y"', '+ f.rds: "z"', '+ tags: "c"', '- tags: "b"']
    ordered = compute_diff([1, 2], [2, 1], ignore_order=False)
    assert ordered


def test_paths_helpers():
    obj = {"a": {"b": [{"c": 1}, {"c": 2}]}, "id": 3}
    assert get_path(obj, "a.b") == [{"c": 1}, {"c": 2}]
    assert get_path(obj, "a.x") is None
    assert list(iter_path(obj, ["a", "b", "c"])) == [1, 2]
    assert strip_paths(obj, ["id", "a.b.c"]) == {"a": {"b": [{}, {}]}}
    assert obj["id"] == 3


def test_type_order_puts_dependencies_first_and_detects_cycles():
    assert type_order({"holders": Holders, "things": Things}, ["holders", "things"]) == ["things", "holders"]

    class A(BaseResource):
        resource_type = "a"
        config = ResourceConfig(dependencies={"b": ("x",)})

    class B(BaseResource):
        resource_type = "b"
        config = ResourceConfig(dependencies={"a": ("x",)})

    with pytest.raises(ValueError, match="cycle"):
        type_order({"a": A, "b": B}, ["a", "b"])


def test_a_run_collects_garbage_less_often_and_restores_the_thresholds():
    import gc

    from datadog_sync.runner import RUN_GC_THRESHOLDS, fewer_gc_pauses

    before = gc.get_threshold()
    assert before != RUN_GC_THRESHOLDS
    with pytest.raises(RuntimeError), fewer_gc_pauses():
        assert gc.get_threshold() == RUN_GC_THRESHOLDS
        raise RuntimeError("a run that fails still restores them")
    assert gc.get_threshold() == before


def test_plan_summary_counts_filtered_resources():
    plan = Plan([], filtered=3, planned={"things"})
    assert plan.summary() == "Plan: 0 to create, 0 to update, 0 to delete, 0 unchanged, 3 filtered."
    assert Plan([], planned={"things"}).summary() == "Plan: 0 to create, 0 to update, 0 to delete, 0 unchanged."


def test_plan_summary_says_a_type_whose_destination_read_failed_is_unknown():
    only = Plan([], unread={"things"})
    assert only.summary() == "Plan: unknown for things (reading the destination failed, see the error above)."
    assert "unchanged" not in only.summary()
    mixed = Plan([], unread={"things"}, planned={"holders"})
    assert mixed.summary() == (
        "Plan: unknown for things (reading the destination failed, see the error above); "
        "other types: 0 to create, 0 to update, 0 to delete, 0 unchanged."
    )


def test_plan_summary_names_each_part_of_a_type_whose_destination_read_failed():
    parts = Plan([], unread_parts={("things", "red"), ("things", "blue")}, planned={"things"})
    assert parts.unknown == ["things blue", "things red"]
    assert parts.summary() == (
        "Plan: unknown for things blue, things red (reading the destination failed, see the error above); "
        "the rest: 0 to create, 0 to update, 0 to delete, 0 unchanged."
    )
    alone = Plan([], unread={"holders"}, unread_parts={("things", "red")})
    assert alone.unknown == ["holders", "things red"]
    assert (
        alone.summary()
        == "Plan: unknown for holders, things red (reading the destination failed, see the error above)."
    )
    assert Plan([], planned={"things"}).unknown == []


class AdoptingThings(Things):
    """Finds t1 in the destination although destination state does not know it (an adoption)."""

    async def current_destination(self, client, source, destination_state):
        return {**destination_state, "t1": {"id": "T1", "n": 1}}


async def test_build_plan_changes_nothing_and_remaps_through_adopted_objects():
    import copy
    import io
    import logging

    from datadog_sync.config import Cleanup, Configuration, OrgConfig
    from datadog_sync.filters import Filters
    from datadog_sync.planner import build_plan
    from datadog_sync.report import Reporter

    state = FakeState({"holders": {"gone": {"id": "G"}}})
    state.source = {
        "things": {"t1": {"id": "t1", "n": 1}},
        "holders": {"h1": {"id": "h1", "items": [{"thing_id": "t1"}]}},
    }
    config = Configuration(
        "diffs", OrgConfig("source"), OrgConfig("destination"), ("things", "holders"), Filters(), cleanup=Cleanup.FORCE
    )
    ctx = SimpleNamespace(
        config=config,
        state=state,
        destination=None,
        reporter=Reporter("diffs", stream=io.StringIO()),
        logger=logging.getLogger("test"),
        resource_logger=lambda t: logging.LoggerAdapter(logging.getLogger("test"), {}),
        id_key_of=lambda t: "id",
    )
    resources = {"things": AdoptingThings(ctx), "holders": Holders(ctx)}
    before = copy.deepcopy((state.source, state.destination))

    plan = await build_plan(ctx, resources)

    assert (state.source, state.destination) == before, "planning writes no state, not even in memory"
    changes = {(c.resource_type, c.key): c for c in plan.changes}
    assert changes[("things", "t1")].adopted and changes[("things", "t1")].action == "noop"
    holder = changes[("holders", "h1")]
    assert holder.action == "create" and holder.desired["items"][0]["thing_id"] == "T1" and not holder.pending
    assert changes[("holders", "gone")].action == "delete"
    assert not ctx.reporter.counts, "planning records no outcome"
    with pytest.raises(AttributeError):
        holder.action = "noop"  # the plan is frozen
    declined = plan.without_deletes()
    assert declined.count("delete") == 0 and plan.count("delete") == 1

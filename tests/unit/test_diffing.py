"""Our differences and the upstream-shaped diff that ``diffs`` logs for datadog-sync-cli scripts."""

from __future__ import annotations

from pprint import pformat

import pytest
from deepdiff import DeepDiff

from datadog_sync.diffing import Difference, compute_diff, upstream_diff

CASES = [
    ({"a": 1}, {"a": 2}),
    ({"a": 1, "c": {"x": 1}}, {"a": 1, "c": {}, "d": 5}),
    ({"b": [1, 2]}, {"b": [1, 3, 4]}),
    ({"b": ["x", "y", "z"]}, {"b": ["y"]}),
    ({"t": "1"}, {"t": 1}),
    ({"tags": {"elb": "env:a"}, "ns": {"ec2": True}}, {"tags": {"elb": "env:b", "rds": "x"}, "ns": {"ec2": False}}),
    ({"logs": [{"arn": "a", "services": ["s3"]}]}, {"logs": [{"arn": "a", "services": ["s3", "elb"]}]}),
]


@pytest.mark.parametrize(("old", "new"), CASES)
def test_upstream_diff_prints_exactly_like_deepdiff(old, new):
    # datadog-sync-cli logs pformat(DeepDiff(destination, source, ignore_order=True)) after "diff:".
    expected = pformat(DeepDiff(old, new, ignore_order=True))
    assert pformat(upstream_diff(compute_diff(old, new))) == expected


def test_upstream_diff_of_a_difference_made_by_a_resource():
    made = Difference("tag_filters.elb[0]", "changed", "a", "b")
    assert upstream_diff([made]) == {
        "values_changed": {"root['tag_filters']['elb'][0]": {"new_value": "b", "old_value": "a"}}
    }

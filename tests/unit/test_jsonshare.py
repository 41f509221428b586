"""Decoded JSON with shared strings: equal to what json gives, with one object per repeated short string."""

import json

from datadog_sync.jsonshare import MAX_SHARED, loads_shared, share_fields, share_strings, shared_copy

DOC = {
    "a": {"regions": ["us-east-1", "eu-west-1"], "tags": [{"k": "env:prod"}], "n": 1, "b": True, "z": None},
    "b": {"regions": ["us-east-1", "eu-west-1"], "tags": [{"k": "env:prod"}], "long": "x" * (MAX_SHARED + 1)},
}


def test_loads_shared_equals_json_loads_and_shares_repeated_strings():
    text = json.dumps(DOC)
    plain, shared = json.loads(text), loads_shared(text)
    assert shared == plain
    assert plain["a"]["regions"][0] is not plain["b"]["regions"][0]
    assert shared["a"]["regions"][0] is shared["b"]["regions"][0]
    assert shared["a"]["tags"][0]["k"] is shared["b"]["tags"][0]["k"]
    assert loads_shared(text.encode()) == plain  # bytes too, as json.loads


def test_share_strings_in_place_and_shared_copy():
    plain = json.loads(json.dumps(DOC))
    copied = shared_copy(plain)
    assert copied == plain and copied["a"] is not plain["a"] and copied["a"]["regions"] is not plain["a"]["regions"]
    assert copied["a"]["regions"][1] is copied["b"]["regions"][1]
    assert share_strings(plain) is plain and plain == DOC
    assert plain["a"]["regions"][1] is plain["b"]["regions"][1]


def test_share_fields_takes_the_others_equal_objects_and_lists_only():
    obj = {"regions": ["a", "b"], "spec": {"on": True}, "tags": ["x"], "n": 1, "name": "n1", "moved": {"to": [1]}}
    other = {"regions": ["a", "b"], "spec": {"on": True}, "tags": ["y"], "n": 1, "name": "n2", "moved": ({"to": [1]},)}
    before = json.dumps(obj)
    share_fields(obj, other)
    assert json.dumps(obj) == before
    assert obj["regions"] is other["regions"] and obj["spec"] is other["spec"]
    assert obj["tags"] is not other["tags"] and obj["name"] == "n1"  # unequal values are kept
    assert obj["moved"] == {"to": [1]}  # a value of another type is never taken

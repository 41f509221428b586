import dataclasses

import pytest

from datadog_sync.filters import Filter, FilterError, Filters, PathCheck


def one(expression: str) -> Filter:
    (f,) = tuple(Filters.parse([expression]))
    return f


# --------------------------------------------------------------------------- parsing


class TestParse:
    def test_full_filter(self):
        f = one("Type=monitors;Name=tags;Value=env:prod;Operator=SubString")
        assert (f.resource_type, f.name, f.value, f.operator) == ("monitors", "tags", "env:prod", "SubString")
        assert f.path == ("tags",)

    def test_operator_defaults_to_exact_match(self):
        assert one("Type=monitors;Name=id;Value=1").operator == "ExactMatch"

    def test_type_is_lower_cased_but_name_and_value_are_not(self):
        f = one("Type=Monitors;Name=Options.Thresholds;Value=ABC")
        assert f.resource_type == "monitors"
        assert f.name == "Options.Thresholds"
        assert f.path == ("Options", "Thresholds")
        assert f.value == "ABC"

    @pytest.mark.parametrize(
        "expression",
        [
            ";Type=monitors;Name=id;Value=1;",
            "  Type=monitors;Name=id;Value=1  ",
            "; ;Type=monitors;Name=id;Value=1; ; ",
        ],
    )
    def test_outer_semicolons_and_spaces_are_stripped(self, expression):
        f = one(expression)
        assert (f.resource_type, f.name, f.value) == ("monitors", "id", "1")

    def test_value_is_split_on_first_equal_only(self):
        f = one("Type=monitors;Name=query;Value=a=b=c")
        assert f.value == "a=b=c"
        assert f.matches({"query": "a=b=c"})

    def test_keys_in_any_order(self):
        f = one("Operator=Not;Value=x;Name=name;Type=users")
        assert (f.resource_type, f.name, f.value, f.operator) == ("users", "name", "x", "Not")

    def test_empty_value_is_allowed(self):
        f = one("Type=monitors;Name=message;Value=")
        assert f.matches({"message": ""})
        assert not f.matches({"message": "x"})

    def test_inner_spaces_in_value_are_kept(self):
        f = one("Type=monitors;Name=name;Value=my monitor")
        assert f.matches({"name": "my monitor"})

    def test_grouping_and_resource_types(self):
        filters = Filters.parse(
            [
                "Type=monitors;Name=id;Value=1",
                "Type=MONITORS;Name=tags;Value=a",
                "Type=dashboards;Name=title;Value=x",
            ]
        )
        assert filters.resource_types == frozenset({"monitors", "dashboards"})
        assert [f.name for f in filters.for_type("monitors")] == ["id", "tags"]
        assert filters.for_type("users") == ()
        assert len(filters) == 3
        assert bool(filters)

    def test_empty_filters(self):
        for filters in (Filters.parse([]), Filters.parse(None), Filters()):
            assert not filters
            assert filters.resource_types == frozenset()
            assert filters.matches("monitors", {"anything": 1})

    def test_single_string_is_one_expression(self):
        assert len(Filters.parse("Type=monitors;Name=id;Value=1")) == 1

    def test_names_for_type(self):
        filters = Filters.parse(
            [
                "Type=dashboards;Name=widgets.definition.type;Value=x",
                "Type=dashboards;Name=title;Value=y",
                "Type=dashboards;Name=widgets.id;Value=z",
                "Type=monitors;Name=id;Value=1",
            ]
        )
        assert filters.names_for_type("dashboards") == {"widgets", "title"}
        assert filters.names_for_type("users") == set()

    def test_filter_is_frozen_and_hashable(self):
        f = one("Type=monitors;Name=id;Value=1")
        with pytest.raises(dataclasses.FrozenInstanceError):
            f.value = "2"  # type: ignore[misc]
        assert f == Filter("monitors", "id", "1")
        assert len({f, Filter("monitors", "id", "1")}) == 1

    def test_str_round_trips(self):
        f = one("Type=monitors;Name=a.b;Value=x|y;Operator=Not")
        assert one(str(f)) == f


class TestParseErrors:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("", "the filter is empty"),
            ("  ;; ", "the filter is empty"),
            ("Type=monitors;Name;Value=1", "part 'Name' has no '='"),
            ("Type=monitors;;Name=id;Value=1", "empty part (two ';' in a row)"),
            ("type=monitors;Name=id;Value=1", "unknown key 'type' (did you mean 'Type'?)"),
            ("Type=monitors; Name=id;Value=1", "unknown key ' Name' (did you mean 'Name'?)"),
            ("Type=monitors;Nmae=id;Value=1", "unknown key 'Nmae' (did you mean 'Name'?)"),
            ("Type=monitors;Name=id;Value=1;Extra=2", "unknown key 'Extra'"),
            ("Type=monitors;Type=users;Name=id;Value=1", "key 'Type' is given more than once"),
            ("Type=monitors;Name=id", "missing Value"),
            ("Name=id;Value=1", "missing Type"),
            ("Type=monitors", "missing Name, Value"),
            ("Type=;Name=id;Value=1", "Type is empty"),
            ("Type=monitors;Name=;Value=1", "Name is empty"),
            ("Type=monitors;Name=a..b;Value=1", "Name 'a..b' has an empty path segment"),
            ("Type=monitors;Name=a.;Value=1", "Name 'a.' has an empty path segment"),
            ("Type=monitors;Name=id;Value=(", "Value '(' is not a valid regular expression"),
            ("Type=monitors;Name=id;Value=[a-", "is not a valid regular expression"),
            ("Type=monitors;Name=id;Value=a\\", "is not a valid regular expression"),
            ("Type=monitors;Name=id;Value=1;Operator=not", "unknown Operator 'not' (did you mean 'Not'?)"),
            ("Type=monitors;Name=id;Value=1;Operator=Substring", "(did you mean 'SubString'?)"),
            ("Type=monitors;Name=id;Value=1;Operator=Regex", "unknown Operator 'Regex'"),
            ("Type=monitors;Name=id;Value=1;Operator=", "unknown Operator ''"),
        ],
    )
    def test_malformed_filter_raises_actionable_error(self, expression, expected):
        with pytest.raises(FilterError) as info:
            Filters.parse(["Type=users;Name=id;Value=ok", expression])
        message = str(info.value)
        assert message.startswith(f"invalid filter {expression!r}: ")
        assert expected in message
        # every message ends with guidance showing the right form
        assert "e.g." in message
        assert info.value.expression == expression
        assert isinstance(info.value, ValueError)

    def test_regex_error_hint_mentions_escaping(self):
        with pytest.raises(FilterError, match=r"escape regex special characters"):
            Filters.parse(["Type=monitors;Name=name;Value=a(b"])

    def test_operator_error_lists_operators(self):
        with pytest.raises(FilterError, match="use one of ExactMatch, SubString, Not"):
            Filters.parse(["Type=monitors;Name=id;Value=1;Operator=Exact"])

    def test_direct_construction_is_validated(self):
        with pytest.raises(FilterError, match="unknown Operator"):
            Filter("monitors", "id", "1", "Bogus")
        with pytest.raises(FilterError, match="not a valid regular expression"):
            Filter("monitors", "id", "(")

    @pytest.mark.parametrize("operator", ["or", "OR", "Or", "and", "AND", " and "])
    def test_filter_operator_is_case_insensitive(self, operator):
        assert Filters.parse([], operator).operator == operator.strip().upper()

    @pytest.mark.parametrize("operator", ["", "XOR", "ANY", "&&"])
    def test_unknown_filter_operator_is_an_error(self, operator):
        with pytest.raises(FilterError, match=r"invalid filter operator .*use AND .* or OR"):
            Filters.parse(["Type=monitors;Name=id;Value=1"], operator)

    def test_none_filter_operator_means_or(self):
        assert Filters.parse([], None).operator == "OR"  # type: ignore[arg-type]


# --------------------------------------------------------------------------- matching


class TestOperators:
    def test_exact_match_is_anchored_both_ends(self):
        f = one("Type=monitors;Name=name;Value=prod")
        assert f.matches({"name": "prod"})
        assert not f.matches({"name": "prod-1"})
        assert not f.matches({"name": "my-prod"})

    def test_exact_match_regex(self):
        f = one("Type=monitors;Name=name;Value=prod-[0-9]+")
        assert f.matches({"name": "prod-42"})
        assert not f.matches({"name": "prod-x"})

    def test_exact_match_wraps_alternation_verbatim_like_upstream(self):
        # ^a|b$ : "starts with a" or "is b" (re.match anchors the second branch at the start too)
        f = one("Type=monitors;Name=name;Value=a|b")
        assert f.matches({"name": "a"})
        assert f.matches({"name": "abc"})
        assert f.matches({"name": "b"})
        assert not f.matches({"name": "xb"})

    def test_substring(self):
        f = one("Type=monitors;Name=name;Value=prod;Operator=SubString")
        assert f.matches({"name": "my-prod-monitor"})
        assert f.matches({"name": "prod"})
        assert not f.matches({"name": "staging"})

    def test_raw_regex_is_anchored_at_start_only(self):
        f = one("Type=monitors;Name=name;Value=prod;Operator=Not")
        # raw "prod" matches "prod-1" (start) but not "my-prod": Not negates
        assert not f.matches({"name": "prod-1"})
        assert f.matches({"name": "my-prod"})

    def test_not_operator(self):
        f = one("Type=monitors;Name=tags;Value=.*team:sre.*;Operator=Not")
        assert f.matches({"tags": ["team:web"]})
        assert not f.matches({"tags": ["env:prod", "team:sre"]})

    def test_not_on_missing_path_matches(self):
        f = one("Type=monitors;Name=options.silenced;Value=.*;Operator=Not")
        assert f.matches({"options": {}})
        assert f.matches({})
        assert not f.matches({"options": {"silenced": {}}})

    def test_dotall(self):
        f = one("Type=monitors;Name=message;Value=hello.*world")
        assert f.matches({"message": "hello\nbig\nworld"})
        sub = one("Type=monitors;Name=message;Value=needle;Operator=SubString")
        assert sub.matches({"message": "line1\nthe needle\nline3"})


class TestValues:
    def test_booleans_compare_as_lowercase(self):
        f = one("Type=monitors;Name=options.notify_no_data;Value=true")
        assert f.matches({"options": {"notify_no_data": True}})
        assert not f.matches({"options": {"notify_no_data": False}})
        assert not one("Type=monitors;Name=a;Value=True").matches({"a": True})
        assert one("Type=monitors;Name=a;Value=false").matches({"a": False})

    def test_string_true_is_also_matched(self):
        assert one("Type=monitors;Name=a;Value=true").matches({"a": "true"})

    def test_numbers_compare_via_str(self):
        f = one("Type=monitors;Name=id;Value=12345")
        assert f.matches({"id": 12345})
        assert f.matches({"id": "12345"})
        assert not f.matches({"id": 123456})
        assert one("Type=monitors;Name=x;Value=1\\.5").matches({"x": 1.5})
        assert one("Type=monitors;Name=x;Value=1\\.0").matches({"x": 1.0})
        assert one("Type=monitors;Name=x;Value=1").matches({"x": 1})

    def test_none_compares_as_python_str(self):
        assert one("Type=monitors;Name=x;Value=None").matches({"x": None})

    def test_dict_leaf_compares_via_str(self):
        assert one("Type=monitors;Name=x;Value=.*'a': 1.*").matches({"x": {"a": 1}})


class TestPaths:
    def test_nested_dicts(self):
        f = one("Type=monitors;Name=options.thresholds.critical;Value=90")
        assert f.matches({"options": {"thresholds": {"critical": 90}}})
        assert not f.matches({"options": {"thresholds": {"warning": 90}}})

    def test_missing_key_anywhere_is_no_match(self):
        f = one("Type=monitors;Name=a.b.c;Value=.*;Operator=SubString")
        assert not f.matches({})
        assert not f.matches({"a": {}})
        assert not f.matches({"a": {"b": {}}})

    def test_path_through_scalar_is_no_match(self):
        f = one("Type=monitors;Name=a.b;Value=.*")
        assert not f.matches({"a": "b"})  # no substring "in" trickery
        assert not f.matches({"a": 3})
        assert not f.matches({"a": None})
        assert not f.matches({"a": ["b", "c"]})

    def test_leaf_list_any_element(self):
        f = one("Type=monitors;Name=tags;Value=env:prod")
        assert f.matches({"tags": ["team:sre", "env:prod"]})
        assert not f.matches({"tags": ["team:sre", "env:prod-eu"]})
        assert not f.matches({"tags": []})

    def test_leaf_list_of_lists(self):
        assert one("Type=monitors;Name=x;Value=b").matches({"x": [["a"], ["b"]]})

    def test_intermediate_list_any_element(self):
        f = one("Type=dashboards;Name=widgets.definition.type;Value=timeseries")
        dash = {
            "widgets": [
                {"definition": {"type": "note"}},
                {"definition": {"type": "timeseries"}},
            ]
        }
        assert f.matches(dash)
        assert not f.matches({"widgets": [{"definition": {"type": "note"}}]})
        assert not f.matches({"widgets": []})

    def test_intermediate_list_skips_elements_without_key(self):
        f = one("Type=dashboards;Name=widgets.id;Value=7")
        assert f.matches({"widgets": [{"other": 1}, "string", None, {"id": 7}]})

    def test_nested_lists_then_leaf_list(self):
        f = one("Type=users;Name=relationships.roles.data.id;Value=r2")
        user = {"relationships": {"roles": {"data": [{"id": "r1"}, {"id": "r2"}]}}}
        assert f.matches(user)
        f2 = one("Type=x;Name=a.b.c;Value=z")
        assert f2.matches({"a": [{"b": [{"c": ["y"]}, {"c": ["w", "z"]}]}]})

    def test_not_with_list_means_no_element_matches(self):
        f = one("Type=monitors;Name=tags;Value=env:prod;Operator=Not")
        assert f.matches({"tags": ["env:dev"]})
        assert not f.matches({"tags": ["env:dev", "env:prod"]})
        assert f.matches({"tags": []})

    def test_key_names_are_case_sensitive(self):
        assert not one("Type=monitors;Name=Name;Value=x").matches({"name": "x"})


class TestCombination:
    FILTERS = [
        "Type=monitors;Name=tags;Value=team:sre",
        "Type=monitors;Name=type;Value=metric alert",
    ]

    def test_or_any_filter(self):
        filters = Filters.parse(self.FILTERS)
        assert filters.matches("monitors", {"tags": ["team:sre"], "type": "log alert"})
        assert filters.matches("monitors", {"tags": [], "type": "metric alert"})
        assert not filters.matches("monitors", {"tags": [], "type": "log alert"})

    def test_and_all_filters(self):
        filters = Filters.parse(self.FILTERS, "and")
        assert filters.matches("monitors", {"tags": ["team:sre"], "type": "metric alert"})
        assert not filters.matches("monitors", {"tags": ["team:sre"], "type": "log alert"})
        assert not filters.matches("monitors", {"tags": [], "type": "metric alert"})

    def test_other_types_unaffected(self):
        for op in ("OR", "AND"):
            filters = Filters.parse(self.FILTERS, op)
            assert filters.matches("dashboards", {})
            assert filters.matches("users", {"tags": ["nope"]})

    def test_and_with_not(self):
        filters = Filters.parse(
            [
                "Type=users;Name=attributes.email;Value=.*@example.com",
                "Type=users;Name=attributes.disabled;Value=true;Operator=Not",
            ],
            "AND",
        )
        assert filters.matches("users", {"attributes": {"email": "a@example.com", "disabled": False}})
        assert not filters.matches("users", {"attributes": {"email": "a@example.com", "disabled": True}})
        assert not filters.matches("users", {"attributes": {"email": "a@other.com", "disabled": False}})


# ------------------------------------------------------------------ attribute paths that no object has (PathCheck)
def test_has_path_walks_dicts_and_lists_whatever_the_value():
    f = Filter("t", "logs.services", "x")
    assert f.has_path({"logs": {"services": []}})
    assert f.has_path({"logs": [{"other": 1}, {"services": None}]})
    assert not f.has_path({"logs": {"lambdas": []}})
    assert not f.has_path({"logs": "flat"})
    assert not f.has_path({"log": {"services": ["a"]}})


def test_path_check_names_each_filter_no_object_has_once_with_a_suggestion():
    typo = Filter("integrations", "acount_id", "1")
    good = Filter("integrations", "account_id", "1")
    negated = Filter("integrations", "rol_name", "x", "Not")
    check = PathCheck("integrations", [typo, good, negated])
    for i in range(50):
        check.see({"account_id": str(i), "role_name": "r"})
    warnings = check.warnings()
    assert len(warnings) == 2
    assert "'Type=integrations;Name=acount_id;Value=1;Operator=ExactMatch'" in warnings[0]
    assert "(did you mean 'account_id'?)" in warnings[0] and "matches no integrations object" in warnings[0]
    assert "(did you mean 'role_name'?)" in warnings[1] and "keeps every integrations object" in warnings[1]


def test_path_check_is_silent_without_objects_or_when_some_object_has_the_path():
    assert PathCheck("t", [Filter("t", "a", "1")]).warnings() == []
    check = PathCheck("t", [Filter("t", "a.b", "1")])
    check.see({"x": 1})
    check.see({"a": {"b": 2}})  # the value need not match: the path exists
    assert check.warnings() == []


def test_pinned_values_are_told_only_by_plain_exact_filters_of_that_attribute():
    def pinned(*expressions: str, operator: str = "OR") -> frozenset[str] | None:
        return Filters.parse(list(expressions), operator).pinned_values("integrations", "name")

    assert pinned() is None
    assert pinned("Type=integrations;Name=name;Value=aws") == {"aws"}
    assert pinned("Type=integrations;Name=name;Value=aws", "Type=integrations;Name=name;Value=ms_teams") == {
        "aws",
        "ms_teams",
    }
    assert pinned("Type=integrations;Name=name;Value=aws;Operator=ExactMatch") == {"aws"}
    for other in (
        "Type=integrations;Name=name;Value=aws|gcp",
        "Type=integrations;Name=name;Value=a.s",
        "Type=integrations;Name=name;Value=aws;Operator=Not",
        "Type=integrations;Name=name;Value=aws;Operator=SubString",
        "Type=integrations;Name=account_id;Value=123",
        "Type=integrations;Name=name.x;Value=aws",
    ):
        assert pinned(other) is None, other
        assert pinned("Type=integrations;Name=name;Value=aws", other) is None, other  # OR: any one lets through
        assert pinned("Type=integrations;Name=name;Value=aws", other, operator="AND") == {"aws"}, other
    assert (
        pinned("Type=integrations;Name=name;Value=aws", "Type=integrations;Name=name;Value=gcp", operator="AND")
        == set()
    )
    assert Filters.parse(["Type=monitors;Name=name;Value=aws"]).pinned_values("integrations", "name") is None

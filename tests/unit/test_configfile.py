import os
import re
import sys

import pytest

from datadog_sync.configfile import ConfigFileError, load_config_file, to_default_map


@pytest.fixture
def write(tmp_path):
    def _write(text: str, name: str = "config.ini") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return _write


def error_for(path: str) -> ConfigFileError:
    with pytest.raises(ConfigFileError) as info:
        load_config_file(path)
    return info.value


class TestLoad:
    def test_upstream_style_file(self, write):
        path = write(
            "# datadog-sync config\n"
            "\n"
            'source_api_key="abc123"\n'
            "source_api_url = 'https://api.datadoghq.eu'\n"
            'destination_api_key = "def456"\n'
            'resources="monitors,dashboards"\n'
            'filter=["Type=monitors;Name=tags;Value=env:prod", "Type=dashboards;Name=title;Value=x"]\n'
            "verify_ssl_certificates=False\n"
            "emit_json = True\n"
            "max_workers = 20\n"
            "http_client_retry_timeout=1.5\n"
            "id_file = None\n"
        )
        assert load_config_file(path) == {
            "source_api_key": "abc123",
            "source_api_url": "https://api.datadoghq.eu",
            "destination_api_key": "def456",
            "resources": "monitors,dashboards",
            "filter": ["Type=monitors;Name=tags;Value=env:prod", "Type=dashboards;Name=title;Value=x"],
            "verify_ssl_certificates": False,
            "emit_json": True,
            "max_workers": 20,
            "http_client_retry_timeout": 1.5,
            "id_file": None,
        }

    def test_result_is_a_plain_dict_with_line_numbers(self, write):
        values = load_config_file(write('# c\na = 1\n\nb = "x"\n'))
        assert isinstance(values, dict)
        assert values.line_numbers == {"a": 2, "b": 4}

    def test_inline_comments_and_hash_inside_strings(self, write):
        values = load_config_file(write('a = "x#y"  # trailing comment\nb = 3 # n\nc = ["#", "d"] # e\n'))
        assert values == {"a": "x#y", "b": 3, "c": ["#", "d"]}

    def test_equal_signs_in_value(self, write):
        assert load_config_file(write('filter = "Type=monitors;Name=id;Value=1"\n')) == {
            "filter": "Type=monitors;Name=id;Value=1"
        }

    def test_indented_lines_and_crlf(self, write):
        values = load_config_file(write('  a = 1\r\n\t# comment\r\n  b = "two"  \r\n'))
        assert values == {"a": 1, "b": "two"}

    def test_utf8_bom_and_unicode(self, write):
        path = write('\ufeffa = "été"\n')
        assert load_config_file(path) == {"a": "été"}

    def test_empty_value_is_empty_string_like_configobj(self, write):
        assert load_config_file(write("a =\nb = # nothing\n")) == {"a": "", "b": ""}

    def test_quoted_key(self, write):
        assert load_config_file(write("\"a\" = 1\n'b' = 2\n")) == {"a": 1, "b": 2}

    def test_tuples_negative_numbers_and_dicts(self, write):
        values = load_config_file(write("a = 1, 2\nb = -3\nc = {'x': [1]}\n"))
        assert values == {"a": (1, 2), "b": -3, "c": {"x": [1]}}

    def test_regex_escapes_are_kept_without_warning(self, write, recwarn):
        values = load_config_file(write('filter = ["Type=monitors;Name=name;Value=prod-\\d+"]\n'))
        assert values["filter"] == ["Type=monitors;Name=name;Value=prod-\\d+"]
        assert not [w for w in recwarn if issubclass(w.category, (SyntaxWarning, DeprecationWarning))]

    def test_multi_line_list(self, write):
        path = write(
            "filter = [\n"
            '    "Type=monitors;Name=id;Value=1",  # first\n'
            "    # a comment line\n"
            '    "Type=users;Name=id;Value=2",\n'
            "]\n"
            "emit_json = True\n"
        )
        values = load_config_file(path)
        assert values == {"filter": ["Type=monitors;Name=id;Value=1", "Type=users;Name=id;Value=2"], "emit_json": True}
        assert values.line_numbers == {"filter": 1, "emit_json": 6}

    def test_multi_line_triple_quoted_string(self, write):
        assert load_config_file(write('a = """one\ntwo"""\nb = 1\n')) == {"a": "one\ntwo", "b": 1}

    def test_empty_file(self, write):
        assert load_config_file(write("")) == {}
        assert load_config_file(write("# only comments\n\n")) == {}

    def test_accepts_pathlike(self, tmp_path):
        path = tmp_path / "c.ini"
        path.write_text("a = 1\n")
        assert load_config_file(path) == {"a": 1}


class TestLoadErrors:
    def test_missing_file(self, tmp_path):
        path = str(tmp_path / "nope.ini")
        err = error_for(path)
        assert str(err) == f"{path}: cannot read the config file: No such file or directory"
        assert err.line_no is None

    def test_directory(self, tmp_path):
        err = error_for(str(tmp_path))
        assert str(err).startswith(f"{tmp_path}: cannot read the config file")

    @pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs a non-root POSIX user")
    def test_unreadable(self, write):
        path = write("a = 1\n")
        os.chmod(path, 0)
        assert "Permission denied" in str(error_for(path))

    def test_not_utf8(self, tmp_path):
        path = tmp_path / "c.ini"
        path.write_bytes(b'a = "\xff"\n')
        assert "is not UTF-8 text" in str(error_for(str(path)))

    def test_bare_word_value(self, write):
        path = write('source_api_key = "x"\n\nsource_api_url = https://api.datadoghq.eu\n')
        err = error_for(path)
        assert err.line_no == 3
        assert str(err) == (
            f"{path} line 3: value for 'source_api_url' is not a Python literal; "
            'quote strings: source_api_url="https://api.datadoghq.eu"'
        )

    def test_unquoted_key_is_named_never_shown(self, tmp_path):
        path = tmp_path / "config.ini"
        path.write_text("a = 1\nb = 2\nsource_api_key = abc-123\n")
        with pytest.raises(ConfigFileError) as info:
            load_config_file(path)
        assert str(info.value).endswith(
            "config.ini line 3: value for 'source_api_key' is not a Python literal; "
            'quote strings: source_api_key="..." (value not shown: may be secret)'
        )
        assert "abc" not in str(info.value)

    @pytest.mark.parametrize(
        "line",
        [
            "destination_api_url = http://u:SECRETKEY123@host",
            "source_api_url = https://admin:SECRETKEY123@api.datadoghq.eu/ # prod",
            "source_resources_path = /srv/u:SECRETKEY123@x",
            "aws_secret_url = SECRETKEY123",  # an option name that says secret is never shown, even as a URL
            "api_key_file = SECRETKEY123",
        ],
    )
    def test_no_error_shows_credentials_in_a_url_or_a_secret_option(self, write, line):
        err = error_for(write(f"a = 1\n{line}\n"))
        assert err.line_no == 2 and "SECRETKEY123" not in str(err) and "u:" not in str(err)
        assert "(value not shown: may be secret)" in str(err)

    @pytest.mark.parametrize(
        "line",
        [
            "source_api_key = 3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d",
            "destination_app_key = abcdef0123456789abcdef0123456789abcdef01 # prod",
            "source_api_kye = abcdef0123456789abcdef0123456789",  # a typo of a key option
            "DD_SOURCE_API_KEY = abcdef0123456789abcdef0123456789",
            "source_api_key: abcdef0123456789abcdef0123456789",
            "abcdef0123456789abcdef0123456789",
            "[abcdef0123456789abcdef0123456789]",
            "['abcdef0123456789abcdef0123456789', 'x']",
            "abcdef0123456789abcdef0123456789 = 1",
            "a1bcdef0123456789abcdef012345678 = 1",
            "source_api_key = abcdef0123456789abcdef0123456789, x",
        ],
    )
    def test_no_error_shows_a_key(self, write, line):
        err = error_for(write(f"a = 1\n{line}\n"))
        assert err.line_no == 2
        assert "0123456789" not in str(err)

    def test_bare_word_with_inline_comment_is_suggested_without_it(self, write):
        assert 'quote strings: resources="integrations"' in str(error_for(write("resources = integrations # all\n")))

    @pytest.mark.parametrize(
        ("word", "fixed"), [("true", "True"), ("false", "False"), ("yes", "True"), ("OFF", "False")]
    )
    def test_lower_case_booleans(self, write, word, fixed):
        err = error_for(write(f"emit_json = {word}\n"))
        assert f"booleans are written True or False: emit_json = {fixed}" in str(err)

    def test_unterminated_string(self, write):
        assert "has an unterminated string; close the quote" in str(error_for(write('a = "abc\n')))

    def test_name_or_call_is_not_a_literal(self, write):
        assert "is not a Python literal" in str(error_for(write("a = os.system('x')\n")))
        assert "is not a Python literal" in str(error_for(write("a = foo()\n")))

    def test_invalid_literal_syntax(self, write):
        err = error_for(write("a = [1, 2]]\n"))
        assert "value for 'a' is not a valid Python literal (unmatched ']')" in str(err)

    def test_unclosed_bracket_at_end_of_file(self, write):
        err = error_for(write('x = 1\nfilter = ["a",\n  "b",\n'))
        assert err.line_no == 2
        assert "value for 'filter' is never closed" in str(err)

    def test_unclosed_bracket_swallowing_next_key_reports_span(self, write):
        err = error_for(write('filter = ["a",\nemit_json = True\n'))
        assert err.line_no == 1
        assert "the value starts on line 1 and runs to line 2" in str(err)

    def test_missing_equal(self, write):
        path = write("a = 1\njust some words\n")
        err = error_for(path)
        assert str(err).startswith(f"{path} line 2: expected 'key = value' but the line has no '='")
        assert "words" not in str(err), "the line may be a pasted key: it is not shown"

    def test_empty_key(self, write):
        assert "invalid key ''" in str(error_for(write("= 1\n")))

    def test_key_with_spaces(self, write):
        assert "invalid key 'source api key'" in str(error_for(write('source api key = "x"\n')))

    def test_duplicate_key(self, write):
        path = write('filter = "a"\nemit_json = True\nfilter = "b"\n')
        err = error_for(path)
        assert err.line_no == 3
        assert "duplicate key 'filter' (already set on line 1)" in str(err)

    def test_section_header(self, write):
        err = error_for(write('[import]\na = "x"\n'))
        assert err.line_no == 1
        assert "sections such as '[import]' are not supported" in str(err)

    def test_error_attributes(self, write):
        path = write("a = b c\n")
        err = error_for(path)
        assert str(err.path) == path
        assert err.line_no == 1
        assert err.message.startswith("value for 'a'")
        assert isinstance(err, ValueError)


class TestDefaultMap:
    KNOWN = {"source_api_key", "source_api_url", "filter", "resources", "emit_json", "max_workers"}

    def test_known_keys_pass_through(self):
        values = {"source_api_key": "x", "filter": ["a"], "emit_json": True}
        result = to_default_map(values, self.KNOWN, multiple={"filter"})
        assert result == values
        assert result is not values

    def test_unknown_key_names_closest(self):
        with pytest.raises(ConfigFileError, match=r"unknown key 'source_api_kye'; did you mean 'source_api_key'\?"):
            to_default_map({"source_api_kye": "x"}, self.KNOWN)

    def test_hyphenated_key_suggests_underscored(self):
        with pytest.raises(ConfigFileError, match=r"unknown key 'source-api-url'; did you mean 'source_api_url'\?"):
            to_default_map({"source-api-url": "x"}, self.KNOWN)

    def test_unknown_key_without_close_match_lists_known(self):
        with pytest.raises(ConfigFileError, match=r"unknown key 'zzz'; known keys: emit_json, filter, max_workers"):
            to_default_map({"zzz": 1}, self.KNOWN)

    def test_unknown_key_error_carries_file_and_line(self, write):
        path = write('source_api_key = "x"\n\nresourcse = "monitors"\n')
        values = load_config_file(path)
        with pytest.raises(ConfigFileError) as info:
            to_default_map(values, self.KNOWN)
        assert info.value.line_no == 3
        assert str(info.value) == f"{path} line 3: unknown key 'resourcse'; did you mean 'resources'?"

    def test_plain_dict_uses_generic_path(self):
        with pytest.raises(ConfigFileError, match=r"^config file: unknown key"):
            to_default_map({"nope_nope": 1}, self.KNOWN)

    def test_string_for_multiple_param_is_wrapped(self):
        result = to_default_map(
            {"filter": "Type=a;Name=b;Value=c", "resources": "monitors"}, self.KNOWN, multiple={"filter"}
        )
        assert result == {"filter": ["Type=a;Name=b;Value=c"], "resources": "monitors"}

    def test_list_for_multiple_param_is_kept(self):
        assert to_default_map({"filter": ["a", "b"]}, self.KNOWN, multiple={"filter"}) == {"filter": ["a", "b"]}

    @pytest.mark.parametrize(
        "text",
        [
            'source_api_key = ["abcdef0123456789", "fedcba9876543210"]',
            'source_api_key = "abcdef0123456789", "fedcba9876543210"',
            "source_api_key = [\n  'abcdef0123456789',\n]",
        ],
    )
    def test_a_list_for_a_key_option_is_an_error_without_the_keys(self, write, text):
        path = write(f"# keys\n{text}\n")
        with pytest.raises(ConfigFileError) as info:
            to_default_map(load_config_file(path), self.KNOWN, multiple={"filter"})
        assert str(info.value) == (
            f"{path} line 2: 'source_api_key' takes one value, not a list; e.g. source_api_key = \"...\""
        )
        assert "0123456789" not in str(info.value)

    def test_a_list_for_resources_suggests_the_comma_form(self):
        with pytest.raises(ConfigFileError, match=r"'resources' takes one value, not a list; e.g. resources = \"a,b\""):
            to_default_map({"resources": ["integrations"]}, self.KNOWN, multiple={"filter"})

    @pytest.mark.parametrize("value", [12345, True, 1.5])
    def test_a_key_option_must_be_a_string(self, value):
        with pytest.raises(ConfigFileError, match=r"'source_api_key' must be a quoted string") as info:
            to_default_map({"source_api_key": value}, self.KNOWN)
        assert str(value) not in str(info.value)

    def test_a_key_option_may_be_none_or_empty(self):
        assert to_default_map({"source_api_key": None}, self.KNOWN) == {"source_api_key": None}
        assert to_default_map({"source_api_key": ""}, self.KNOWN) == {"source_api_key": ""}

    KINDS = {"source_api_key": "text", "resources": "text", "emit_json": "bool", "max_workers": "int"}

    @pytest.mark.parametrize(
        "key, value, what",
        [
            ("resources", 5, 'a quoted string, e.g. resources = "..."'),
            ("emit_json", 2, "True or False"),
            ("emit_json", 1.0, "True or False"),
            ("max_workers", True, "a whole number"),
            ("max_workers", 2.5, "a whole number"),
            ("max_workers", float("inf"), "a whole number"),
        ],
    )
    def test_a_value_of_the_wrong_type_is_an_error(self, key, value, what):
        with pytest.raises(ConfigFileError, match=f"^config file: '{key}' must be {re.escape(what)}$"):
            to_default_map({key: value}, self.KNOWN, kinds=self.KINDS)

    @pytest.mark.parametrize("value", [5, [1], ["a", None], {"a": 1}])
    def test_a_filter_must_be_strings(self, value):
        with pytest.raises(ConfigFileError, match="'filter' must be a quoted string or a list of them"):
            to_default_map({"filter": value}, self.KNOWN, multiple={"filter"}, kinds=self.KINDS)

    def test_values_of_the_right_type_and_none_pass(self):
        values = {"resources": "integrations", "emit_json": "yes", "max_workers": 4, "source_api_key": None}
        assert to_default_map(values, self.KNOWN, kinds=self.KINDS) == values
        assert to_default_map({"max_workers": "4", "emit_json": False}, self.KNOWN, kinds=self.KINDS)
        assert to_default_map({"filter": ("a", "b")}, self.KNOWN, multiple={"filter"}) == {"filter": ("a", "b")}

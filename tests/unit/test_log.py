"""The text log format: API data is escaped, the tool's own line breaks (an HTTP error's hint) are kept."""

from __future__ import annotations

import logging

from datadog_sync.http import HTTPError
from datadog_sync.log import OwnLines, TextLogFormatter

FORGED = "Forbidden\n2026-01-01 00:00:00,000 - ERROR - forged\x1b[2J"


def line(msg: str, *args: object) -> str:
    record = logging.LogRecord("datadog_sync", logging.ERROR, __file__, 1, msg, args, None)
    return TextLogFormatter().format(record).split(" - ERROR - ", 1)[1]


def refused(body: object) -> HTTPError:
    return HTTPError(403, "GET", "/api/v2/hamr", body, {}, org="destination")


def test_an_http_errors_hint_is_its_own_line_and_its_api_parts_stay_escaped():
    hint = "hint: check the destination application key (DD_DESTINATION_APP_KEY)"
    assert line("refused: %s", refused({"errors": ["Forbidden"]})).startswith(
        f"refused: 403 Forbidden on GET /api/v2/hamr (destination): Forbidden\n{hint}"
    )
    text = line("refused: %s", refused({"errors": [FORGED]}))
    assert text.count("\n") == 1 and "\x1b" not in text
    assert "Forbidden\\n2026-01-01 00:00:00,000 - ERROR - forged\\u001b[2J\nhint: check" in text


def test_own_lines_escape_every_part_but_keep_a_nested_errors_hint():
    assert line("%s", OwnLines("the %s keys: %s", "a\nb", refused({"errors": [FORGED]}))).count("\n") == 1
    assert line("%s", OwnLines("id %r: %d", "x\ny", 3)) == "id 'x\\ny': 3"
    # Other arguments of the record stay escaped, and so does an error put into a plain string.
    assert line("[%s] %s", "k\nERROR", refused({"errors": ["x"]})).startswith("[k\\nERROR] 403")
    assert "\n" not in line("%s", f"plain: {refused({'errors': ['x']})}")
    assert str(OwnLines("a %s", "b\nc")) == "a b\nc"  # --json escapes by itself


def test_own_lines_keep_the_templates_line_breaks_and_escape_its_other_controls():
    text = line("%s", OwnLines("found %d:\n  %s\n  %s\t", 2, FORGED, "b"))
    assert text.split("\n") == [
        "found 2:",
        "  Forbidden\\n2026-01-01 00:00:00,000 - ERROR - forged\\u001b[2J",
        "  b\\t",
    ]


def test_an_error_subclass_with_its_own_text_is_logged_as_that_text():
    class Custom(HTTPError):
        def __str__(self) -> str:
            return "custom\ntext"

    assert line("%s", Custom(200, "GET", "/x", "<html>", {})) == "custom\\ntext"

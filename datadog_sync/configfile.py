"""The ``--config FILE`` format, compatible with upstream datadog-sync-cli (configobj in "unrepr" mode).

One ``key = value`` per line; blank lines and ``#`` comments (whole-line or after a value) are ignored.
Keys are click parameter names (``source_api_key``, ``filter``, ``emit_json`` ...); values are Python
literals: quoted strings, ``True`` / ``False``, numbers, ``None``, lists and tuples, e.g.::

    # copy only the production AWS accounts
    source_api_url = "https://api.datadoghq.eu"
    resources = "integrations"
    filter = ["Type=integrations;Name=host_tags;Value=env:prod", "Type=integrations;Name=role_name;Value=Prod.*"]
    verify_ssl_certificates = True

A list, tuple or triple-quoted string may continue over several lines (it ends where it closes). An empty
value (``key =``) is the empty string, as with configobj. Values are evaluated with
:func:`ast.literal_eval`, never executed.

Differences from configobj: a line that cannot be parsed is an error (:class:`ConfigFileError`, naming the
file, the line and the fix) instead of configobj's sometimes cryptic exceptions; an unquoted word such as
``source_api_url = https://...`` is rejected with the quoted form to use rather than guessed; a key given
twice and ``[section]`` headers are errors; unknown keys are rejected by :func:`to_default_map` with the
closest known name (upstream silently ignores them), and so is a list for an option that takes one value.
Errors never quote a value unless it is a URL, path or type name: the others may be keys or secrets.
"""

from __future__ import annotations

import ast
import codeop
import difflib
import json
import math
import os
import re
import warnings
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

__all__ = ["ConfigFileError", "ConfigValues", "load_config_file", "to_default_map"]

_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z_\-]*\Z")  # option names have no digits; keys and secrets do
_BOOL_WORDS = {"true": "True", "false": "False", "yes": "True", "no": "False", "on": "True", "off": "False"}
#: Keys whose values an error message may quote (URLs, paths, type names). Any other value could be a key or a
#: secret (or a typo of such a key), so errors name the key and never show its value.
_CREDENTIAL_NAME_RE = re.compile(r"key|secret|passw|token|credential|auth", re.IGNORECASE)
_SHOWABLE_KEY_RE = re.compile(r"(\w*_url|\w*_path|\w*_file|resources|filter|filter_operator|cleanup)", re.IGNORECASE)
#: Key options: one string each.
_KEY_OPTION_RE = re.compile(r"\w+_(api|app)_key")
_SECTION_RE = re.compile(r"\[[A-Za-z_ .-]*\]")


class ConfigFileError(ValueError):
    """A config file that cannot be read or understood. ``line_no`` is 1-based, or None for the whole file."""

    def __init__(self, path: str | os.PathLike[str], line_no: int | None, message: str) -> None:
        self.path = Path(path)
        self.line_no = line_no
        self.message = message
        where = f"{os.fspath(path)} line {line_no}" if line_no is not None else os.fspath(path)
        super().__init__(f"{where}: {message}")


class ConfigValues(dict):
    """What :func:`load_config_file` returns: a plain dict that also remembers where each key was set."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = path
        self.line_numbers: dict[str, int] = {}


def _shown(name: str) -> str:
    """``name`` quoted for a message, unless it has a digit: option names have none, keys and secrets do."""
    return "(not shown: it has digits, it may be a key)" if any(c.isdigit() for c in name) else repr(name)


def _literal(text: str) -> Any:
    with warnings.catch_warnings():
        # Regexes such as "Value=\d+" are kept as written (unknown escapes stay), without a SyntaxWarning.
        warnings.simplefilter("ignore")
        return ast.literal_eval(text)


def _incomplete(text: str) -> bool:
    """Whether ``text`` is the start of an expression that more lines could complete (open bracket etc.)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return codeop.compile_command(text, "<config>", "eval") is None
        except (SyntaxError, ValueError, OverflowError):
            return False


def _not_literal_message(key: str, text: str, error: Exception) -> str:
    bare = text.split(" #", 1)[0].strip()
    if bare.lower() in _BOOL_WORDS:
        return (
            f"value for {key!r} is not a Python literal; booleans are written True or False: "
            f"{key} = {_BOOL_WORDS[bare.lower()]}"
        )
    if isinstance(error, SyntaxError) and "unterminated string" in str(error.msg):
        return f'value for {key!r} has an unterminated string; close the quote, e.g. {key} = "text"'
    if bare[:1] in "'\"[({-+.0123456789":
        detail = error.msg if isinstance(error, SyntaxError) else "only literals are allowed, no names or calls"
        return (
            f"value for {key!r} is not a valid Python literal ({detail}); write a quoted string, a number, "
            f'True/False or a list such as {key} = ["a", "b"]'
        )
    # Shown only for a URL, path or name option whose name says no key or secret, and never with userinfo
    # (``http://user:password@host``): the part before ``@`` would be credentials.
    if not _SHOWABLE_KEY_RE.fullmatch(key) or _CREDENTIAL_NAME_RE.search(key) or "@" in bare:
        return f'value for {key!r} is not a Python literal; quote strings: {key}="..." (value not shown: may be secret)'
    return f"value for {key!r} is not a Python literal; quote strings: {key}={json.dumps(bare)}"


def _parse_value(path: str | os.PathLike[str], lines: list[str], index: int, key: str, text: str) -> tuple[Any, int]:
    """Evaluate the value that starts on ``lines[index - 1]``; returns it and the index of the next line."""
    line_no = index
    while True:
        try:
            return _literal(text), index
        except SyntaxError as exc:
            if _incomplete(text) and index < len(lines):
                text += "\n" + lines[index]
                index += 1
                continue
            if _incomplete(text):
                message = (
                    f"value for {key!r} is never closed (a bracket or triple quote opened here is still open "
                    "at the end of the file)"
                )
            else:
                message = _not_literal_message(key, text, exc)
        except (ValueError, TypeError, MemoryError, RecursionError) as exc:
            message = _not_literal_message(key, text, exc)
        if index > line_no:
            message += f" (the value starts on line {line_no} and runs to line {index})"
        raise ConfigFileError(path, line_no, message)


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a config file into ``{parameter name: value}``. Raises :class:`ConfigFileError`."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigFileError(path, None, f"cannot read the config file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            path, None, f"the config file is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    lines = text.splitlines()

    values = ConfigValues(path)
    first_line = values.line_numbers
    index = 0
    while index < len(lines):
        line_no = index + 1
        line = lines[index]
        index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            # Name the section only when it looks like one: a stray list line may hold keys.
            section = f" such as {stripped!r}" if _SECTION_RE.fullmatch(stripped) else " ([...] headers)"
            raise ConfigFileError(
                path,
                line_no,
                f"sections{section} are not supported; write every setting as key = value at the top level",
            )
        key, sep, value_text = line.partition("=")
        key = key.strip()
        if not sep:
            # The line is not shown: it may be a pasted key.
            raise ConfigFileError(
                path,
                line_no,
                "expected 'key = value' but the line has no '='; e.g. source_api_url = \"https://api.datadoghq.eu\"",
            )
        if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
            key = key[1:-1]
        if not _KEY_RE.match(key):
            raise ConfigFileError(
                path,
                line_no,
                f'invalid key {_shown(key)}; keys are option names with underscores, e.g. source_api_key = "..."',
            )
        if key in first_line:
            raise ConfigFileError(
                path,
                line_no,
                f"duplicate key {key!r} (already set on line {first_line[key]}); give it once "
                f'(several values go in one list, e.g. filter = ["...", "..."])',
            )

        value_text = value_text.strip()
        if not value_text or value_text.startswith("#"):
            value: Any = ""
        else:
            value, index = _parse_value(path, lines, index, key, value_text)
        values[key] = value
        first_line[key] = line_no
    return values


#: datadog-sync-cli options (config-file keys) this tool does not have, so their error says so, not "unknown".
UPSTREAM_ONLY = frozenset(
    {
        "source_jwt",
        "destination_jwt",
        "destination_logs_intake_url",
        "id_file",
        "max_concurrent_reads",
        "transient_failure_threshold_pct",
        "datadog_host_override",
        "skip_failed_resource_connections",
        "drop_unresolvable_principals",
        "force_missing_dependencies",
        "refresh_destination_state_before_apply",
        "alter_flex_logs_retention_days",
        "allow_partial_permissions_roles",
        "allow_self_lockout",
        "skip_state_load",
        "minimize_reads",
    }
)


#: What a value of each kind of option may be (``None`` always may: it leaves the option unset).
_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "text": ((str,), 'a quoted string, e.g. {key} = "..."'),
    "bool": ((bool, str), "True or False"),
    "int": ((int, str), "a whole number"),
    "number": ((int, float, str), "a number"),
}


def to_default_map(
    values: Mapping[str, Any],
    known_params: Collection[str],
    *,
    multiple: Collection[str] = (),
    kinds: Mapping[str, str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Check config values against click's parameter names and return a ``default_map``.

    Unknown keys raise :class:`ConfigFileError` naming the key and the closest known name (with the file
    and line when ``values`` comes from :func:`load_config_file`). A plain string given for a parameter
    listed in ``multiple`` (e.g. ``filter = "Type=..."``) is wrapped in a list; a list for any other is an error.
    ``kinds`` maps parameter names to a key of ``_KINDS`` (key options are ``text`` anyway): a value of
    another type is an error naming the key, never the value.
    """
    lines: Mapping[str, int] = getattr(values, "line_numbers", {})
    if path is None:
        path = getattr(values, "path", None) or "config file"
    known = set(known_params)
    result: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known and key in UPSTREAM_ONLY:
            raise ConfigFileError(
                path, lines.get(key), f"{key!r} is a datadog-sync-cli option that datadog-sync does not support"
            )
        if key not in known:
            candidates = difflib.get_close_matches(key.replace("-", "_").lower(), sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean {candidates[0]!r}?" if candidates else "known keys: " + ", ".join(sorted(known))
            raise ConfigFileError(path, lines.get(key), f"unknown key {key!r}; {hint}")
        result[key] = _checked(key, value, key in multiple, (kinds or {}).get(key), path, lines.get(key))
    return result


def _checked(key: str, value: Any, multiple: bool, kind: str | None, path: Any, line: int | None) -> Any:
    if value is None:
        return value
    if multiple:
        value = [value] if isinstance(value, str) else value
        if not (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
            message = f'{key!r} must be a quoted string or a list of them, e.g. {key} = ["...", "..."]'
            raise ConfigFileError(path, line, message)
        return value
    if isinstance(value, (list, tuple, set, dict)):
        example = f'{key} = "a,b"' if key == "resources" else f'{key} = "..."'
        raise ConfigFileError(path, line, f"{key!r} takes one value, not a list; e.g. {example}")
    if kind is None and _KEY_OPTION_RE.fullmatch(key):
        kind = "text"
    if kind in _KINDS:
        types, what = _KINDS[kind]
        bad_bool = isinstance(value, bool) and bool not in types  # True is an int to Python, not to us
        bad_float = isinstance(value, float) and not math.isfinite(value)
        if bad_bool or bad_float or not isinstance(value, types):
            raise ConfigFileError(path, line, f"{key!r} must be {what.format(key=key)}")
    return value

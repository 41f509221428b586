"""The integrations secrets file: accepted shapes, clear errors naming the file, never a secret value."""

from __future__ import annotations

import logging

import pytest

from datadog_sync.redact import RedactingFilter, redact_text
from datadog_sync.resources.integrations.aws.secrets import missing_aws_secret_message
from datadog_sync.resources.integrations.secrets import SecretsFileError, load_secrets


def write(tmp_path, text: str):
    path = tmp_path / "secrets.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_no_secrets():
    assert load_secrets(None).path is None
    assert load_secrets("").section("aws").aws_key("AKIA") is None


def test_both_entry_shapes_and_redaction(tmp_path):
    path = write(
        tmp_path,
        '{"aws": {"AKIAONE": "plain-secret-value-1", "AKIATWO": {"secret_access_key": "object-secret-2", '
        '"account_id": "123456789012"}}}',
    )
    secrets = load_secrets(path).section("aws")
    assert secrets.aws_key("AKIAONE").secret_access_key == "plain-secret-value-1"
    assert secrets.aws_account_id("AKIAONE") is None
    assert secrets.aws_account_id("AKIATWO") == "123456789012"
    assert secrets.aws_account_id("AKIANONE") is None
    assert "plain-secret-value-1" not in repr(secrets) and "object-secret-2" not in repr(secrets.aws_key("AKIATWO"))
    # Registered: every log line through the redacting filter masks them.
    assert redact_text("x object-secret-2 y plain-secret-value-1") == "x *** y ***"
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "secret is %s", ("object-secret-2",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "secret is ***"


def test_empty_aws_section(tmp_path):
    assert load_secrets(write(tmp_path, '{"aws": null}')).section("aws").aws == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"aws": {"AKIA": "x"', "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"aws": ["AKIA"]}', '"aws" must be an object'),
        ('{"aws": {"AKIABAD": 42}}', 'aws entry "AKIABAD" must be a non-empty string'),
        ('{"aws": {"AKIABAD": {"account_id": "1"}}}', 'aws entry "AKIABAD" must be a non-empty string'),
        (
            '{"aws": {"AKIABAD": {"secret_access_key": "hidden-value-9", "account_id": "12-34"}}}',
            "numeric AWS account id",
        ),
        # A typo in an entry key, a section for no known subtype, a flat file, a key given twice.
        (
            '{"aws": {"AKIABAD": {"secret_access_key": "hidden-value-9", "acount_id": "123456789012"}}}',
            """aws entry "AKIABAD" has unknown key(s) 'acount_id'""",
        ),
        ('{"aws": {}, "oci": {"p": "hidden-value-9"}}', 'unknown section "oci"'),
        ('{"AKIABAD": "hidden-value-9"}', 'unknown section "AKIABAD": put each entry under'),
        ('{"aws": {"AKIABAD": "hidden-value-9", "AKIABAD": "hidden-value-9"}}', 'the key "AKIABAD" twice'),
        ('{"aws": {"AKIABAD": {"secret_access_key": "hidden-value-9", "secret_access_key": "x"}}}', "twice"),
        ('{"aws": {}, "aws": {}}', 'the key "aws" twice'),
    ],
)
def test_malformed_files_name_the_file_and_never_a_value(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(SecretsFileError) as info:
        load_secrets(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)
    assert "hidden-value-9" not in str(info.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(SecretsFileError, match="cannot read the integrations secrets file .*missing.json"):
        load_secrets(tmp_path / "missing.json")
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"aws": {"AKIA": "\xff"}}')
    with pytest.raises(SecretsFileError, match="is not UTF-8 text"):
        load_secrets(path)


def test_missing_secret_message_says_how_to_provide_it():
    message = missing_aws_secret_message("AKIAEXAMPLE")
    assert "AKIAEXAMPLE" in message and "--integrations-secrets-file" in message
    assert "DD_INTEGRATIONS_SECRETS_FILE" in message


def test_a_file_others_can_read_gets_a_warning_naming_the_fix(tmp_path):
    path = write(tmp_path, '{"aws": {"AKIAONE": "secret-value-7"}}')
    notes: list[str] = []
    path.chmod(0o644)
    load_secrets(path, warn=notes.append)
    assert len(notes) == 1 and "can be read by other users (mode 644)" in notes[0]
    assert f"chmod 600 {path}" in notes[0] and "secret-value-7" not in notes[0]
    path.chmod(0o640)
    load_secrets(path, warn=notes.append)
    assert "mode 640" in notes[-1]
    notes.clear()
    path.chmod(0o600)
    assert load_secrets(path, warn=notes.append).section("aws").aws_key("AKIAONE") is not None
    assert notes == []


def test_the_run_warns_once_about_a_readable_secrets_file(tmp_path, emu, caplog):
    from tests.unit.integrations.conftest import Harness

    h = Harness(tmp_path, emu, secrets={"aws": {"AKIAONE": "secret-value-7"}})
    (tmp_path / "secrets.json").chmod(0o604)
    with caplog.at_level(logging.WARNING):
        assert h.aws.secrets.aws_key("AKIAONE") and h.aws.secrets is h.resource.secrets.section("aws")
    assert caplog.text.count("can be read by other users (mode 604)") == 1

"""Storage options: upstream's names, environment variables and prefixes; usage errors; missing extras; secrets."""

from __future__ import annotations

import sys

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import emulated_orgs
from datadog_sync.redact import MASK, redact_text
from tests.support import invoke, invoke_emulated

#: Each backend's upstream environment variables: bucket (or container), source prefix, destination prefix.
ENV_NAMES = {
    "s3": ("AWS_BUCKET_NAME", "AWS_BUCKET_KEY_PREFIX_SOURCE", "AWS_BUCKET_KEY_PREFIX_DESTINATION"),
    "gcs": ("GCS_BUCKET_NAME", "GCS_BUCKET_KEY_PREFIX_SOURCE", "GCS_BUCKET_KEY_PREFIX_DESTINATION"),
    "azure": ("AZURE_CONTAINER_NAME", "AZURE_CONTAINER_KEY_PREFIX_SOURCE", "AZURE_CONTAINER_KEY_PREFIX_DESTINATION"),
}
#: The module each backend imports, as the extras install it.
SDK = {"s3": "boto3", "gcs": "google.cloud.storage", "azure": "azure.storage.blob"}


def test_the_environment_variables_and_prefixes_are_upstreams(workdir, bucket):
    bucket_var, source_var, destination_var = ENV_NAMES[bucket.kind]
    env = {
        **bucket.env,
        bucket_var: bucket.name,
        source_var: "team-a/src/",
        destination_var: "/team-a/dst",
    }
    with emulated_orgs(source_state=make_aws_org(2, seed=3, key_account_share=0)) as emu:
        result = invoke_emulated(emu, "migrate", f"--storage-type={bucket.kind.upper()}", **env)
        assert result.exit_code == 0, result.stderr
    keys = bucket.keys()
    assert "team-a/src/integrations.json" in keys and "team-a/dst/integrations.json" in keys
    assert "team-a/dst/handoff/aws-external-ids.json" in keys
    assert not [k for k in keys if k.startswith("resources/")]


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_a_backend_whose_extra_is_missing_says_which_to_install(workdir, monkeypatch, kind):
    monkeypatch.setitem(sys.modules, SDK[kind], None)  # as if the extra were not installed
    flag = {"s3": "--aws-bucket-name", "gcs": "--gcs-bucket-name", "azure": "--azure-container-name"}[kind]
    args = ["sync", f"--storage-type={kind}", f"{flag}=b", "--azure-storage-account-name=a"]
    result = invoke(args, {"DD_DESTINATION_API_KEY": "k", "DD_DESTINATION_APP_KEY": "k"})
    assert result.exit_code == 2
    assert f"pip install 'datadog-sync[{kind}]'" in result.stderr
    assert not (workdir / "resources").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--storage-type=s3"], "--storage-type=s3 needs --aws-bucket-name (env AWS_BUCKET_NAME)"),
        (["--storage-type=gcs"], "--storage-type=gcs needs --gcs-bucket-name (env GCS_BUCKET_NAME)"),
        (["--storage-type=azure"], "--storage-type=azure needs --azure-container-name (env AZURE_CONTAINER_NAME)"),
        (["--storage-type=azure", "--azure-container-name=c"], "needs --azure-storage-connection-string"),
        (
            ["--storage-type=s3", "--aws-bucket-name=b", "--aws-access-key-id=AKIA0"],
            "--aws-access-key-id and --aws-secret-access-key go together",
        ),
        (["--storage-type=ftp"], "Invalid value for '--storage-type'"),
    ],
)
def test_usage_errors(workdir, args, message, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AZURE_STORAGE_CONNECTION_STRING"):
        monkeypatch.delenv(name, raising=False)
    result = invoke(["sync", *args], {"DD_DESTINATION_API_KEY": "k", "DD_DESTINATION_APP_KEY": "k"})
    assert result.exit_code == 2
    assert message in result.stderr


def test_storage_secrets_are_never_printed(workdir, bucket):
    secret = {
        "s3": "--aws-secret-access-key=s3-secret-value-0123456789",
        "gcs": None,
        "azure": None,
    }[bucket.kind]
    args = [secret, "--aws-access-key-id=AKIATESTING", "--aws-session-token=session-token-value-987"] if secret else []
    with emulated_orgs(source_state=make_aws_org(1, seed=3, key_account_share=0)) as emu:
        env = {**bucket.env, "DD_DESTINATION_API_KEY": "not-the-key"}  # a refused key: the run logs an error too
        result = invoke_emulated(emu, "migrate", "-v", *args, *bucket.args, **env)
    shown = result.output + result.stderr
    assert "state is in" in shown
    secrets = ["s3-secret-value-0123456789", "session-token-value-987"] if secret else []
    if bucket.kind == "azure":
        conn = bucket.env["AZURE_STORAGE_CONNECTION_STRING"]
        secrets += [conn, conn.split("AccountKey=")[1].split(";")[0]]
    for value in secrets:
        assert value not in shown
        # Registered like the API keys: any log line that would hold it shows *** instead.
        assert redact_text(f"before {value} after") == f"before {MASK} after"


def test_a_config_file_chooses_the_backend_with_upstreams_keys(workdir, bucket):
    key = {"s3": "aws_bucket_name", "gcs": "gcs_bucket_name", "azure": "azure_container_name"}[bucket.kind]
    config = workdir / "sync.conf"
    config.write_text(f'storage_type="{bucket.kind}"\n{key}="{bucket.name}"\naws_bucket_key_prefix_source="x"\n')
    with emulated_orgs(source_state=make_aws_org(1, seed=4, key_account_share=0)) as emu:
        result = invoke_emulated(emu, "import", f"--config={config}", **bucket.env)
    assert result.exit_code == 0, result.stderr
    source = "x/integrations.json" if bucket.kind == "s3" else "resources/source/integrations.json"
    assert bucket.keys() == [source]

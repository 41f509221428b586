"""Fixtures: one real server per backend for the session, a fresh bucket per test, and a :class:`Bucket` that
reads and writes objects with the cloud SDK directly (never through datadog-sync's own storage code)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage import servers

BACKENDS = ("s3", "gcs", "azure")
_started: dict[str, servers.Server | str] = {}


def _server(kind: str, tmp_path_factory: pytest.TempPathFactory) -> servers.Server:
    if kind not in _started:
        try:
            if kind == "s3":
                _started[kind] = servers.start_moto()
            elif kind == "gcs":
                _started[kind] = servers.start_gcs()
            else:
                _started[kind] = servers.start_azurite(tmp_path_factory.mktemp("azurite"))
        except servers.Unavailable as exc:
            _started[kind] = str(exc)
    found = _started[kind]
    if isinstance(found, str):
        pytest.skip(f"{kind} tests skipped: its server cannot start: {found}")
    return found


@pytest.fixture(scope="session", autouse=True)
def _stop_servers() -> Iterator[None]:
    yield
    for found in _started.values():
        if isinstance(found, servers.Server):
            found.stop()


class Bucket:
    """A fresh bucket (or container) on a backend's server, and the CLI options and environment that use it."""

    def __init__(self, server: servers.Server, name: str):
        self.kind = server.kind
        self.server = server
        self.name = name
        if self.kind == "s3":
            import boto3

            self.env = {
                "AWS_ENDPOINT_URL": server.url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
            self.args = ["--storage-type=s3", f"--aws-bucket-name={name}"]
            self._s3 = boto3.client(
                "s3",
                endpoint_url=server.url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing-secret-key",
            )
        elif self.kind == "gcs":
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage

            self.env = {"STORAGE_EMULATOR_HOST": server.url}
            self.args = ["--storage-type=gcs", f"--gcs-bucket-name={name}"]
            self._gcs = storage.Client(
                project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": server.url}
            )
        else:
            from azure.storage.blob import BlobServiceClient

            self.env = {"AZURE_STORAGE_CONNECTION_STRING": server.extra["connection_string"]}
            self.args = ["--storage-type=azure", f"--azure-container-name={name}"]
            self._azure = BlobServiceClient.from_connection_string(server.extra["connection_string"])

    def url(self, key: str) -> str:
        scheme = {"s3": "s3", "gcs": "gs", "azure": f"azure://{servers.AZURITE_ACCOUNT}"}[self.kind]
        return f"{scheme}/{self.name}/{key}" if self.kind == "azure" else f"{scheme}://{self.name}/{key}"

    def create(self) -> Bucket:
        if self.kind == "s3":
            self._s3.create_bucket(Bucket=self.name)
        elif self.kind == "gcs":
            self._gcs.create_bucket(self.name)
        else:
            self._azure.create_container(self.name)
        return self

    def put(self, key: str, data: bytes) -> None:
        if self.kind == "s3":
            self._s3.put_object(Bucket=self.name, Key=key, Body=data)
        elif self.kind == "gcs":
            self._gcs.bucket(self.name).blob(key).upload_from_string(data)
        else:
            self._azure.get_container_client(self.name).upload_blob(key, data, overwrite=True)

    def get(self, key: str) -> bytes | None:
        return self.objects().get(key)

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.objects() if k.startswith(prefix))

    def objects(self) -> dict[str, bytes]:
        """Every object of the bucket, by key (a missing bucket has none)."""
        found: dict[str, bytes] = {}
        if self.kind == "s3":
            try:
                listed = self._s3.list_objects_v2(Bucket=self.name).get("Contents", [])
            except self._s3.exceptions.NoSuchBucket:
                return found
            for item in listed:
                try:  # a run may delete it meanwhile (its lock, when it ends)
                    found[item["Key"]] = self._s3.get_object(Bucket=self.name, Key=item["Key"])["Body"].read()
                except self._s3.exceptions.NoSuchKey:
                    pass
        elif self.kind == "gcs":
            from google.api_core.exceptions import NotFound

            try:
                blobs = list(self._gcs.bucket(self.name).list_blobs())
            except NotFound:
                return found
            for blob in blobs:
                try:
                    found[blob.name] = blob.download_as_bytes()
                except NotFound:
                    pass
        else:
            from azure.core.exceptions import ResourceNotFoundError

            container = self._azure.get_container_client(self.name)
            try:
                names = [b.name for b in container.list_blobs()]
            except ResourceNotFoundError:
                return found
            for name in names:
                try:
                    found[name] = container.download_blob(name).readall()
                except ResourceNotFoundError:
                    pass
        return found


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> servers.Server:
    return _server(request.param, tmp_path_factory)


@pytest.fixture
def bucket(server: servers.Server, workdir: Path) -> Bucket:
    """A new, empty bucket on the backend's server (the working directory is a fresh temporary one)."""
    return Bucket(server, f"state-{secrets.token_hex(4)}").create()

"""Where state lives: local directories (the default), or a bucket: S3, GCS or Azure Blob (issue 13).

The options and environment variables are datadog-sync-cli's, with its defaults and key layout: the two state
roots are key prefixes (``resources/source``, ``resources/destination``) holding the same files as the local
directories. The cloud SDKs are optional extras, imported only when their backend is chosen.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

from datadog_sync.storage.base import ObjectInfo, ObjectPath, ObjectStore, StorageError

__all__ = [
    "STORAGE_TYPES",
    "ObjectInfo",
    "ObjectPath",
    "ObjectStore",
    "StorageConfig",
    "StorageError",
    "missing_extra",
    "open_store",
]

STORAGE_TYPES = ("local", "s3", "gcs", "azure")
#: The modules each backend imports, and the extra that installs them.
_NEEDS = {
    "s3": ("boto3",),
    "gcs": ("google.cloud.storage",),
    "azure": ("azure.storage.blob", "azure.identity"),
}


@dataclass(frozen=True)
class StorageConfig:
    """``--storage-type`` and its backend's options. Secrets are kept out of ``repr``."""

    type: str = "local"
    bucket: str = ""  # the S3 or GCS bucket, or the Azure container
    source_prefix: str = "resources/source"
    destination_prefix: str = "resources/destination"
    aws_region_name: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_session_token: str | None = field(default=None, repr=False)
    gcs_service_account_key_file: str | None = None
    azure_storage_account_name: str | None = None
    azure_storage_account_key: str | None = field(default=None, repr=False)
    azure_storage_connection_string: str | None = field(default=None, repr=False)

    @property
    def remote(self) -> bool:
        return self.type != "local"

    def secrets(self) -> list[str]:
        """Values to mask in every log line: keys, tokens, the connection string and the key inside it."""
        values = [self.aws_secret_access_key, self.aws_session_token, self.azure_storage_account_key]
        conn = self.azure_storage_connection_string
        if conn:
            values.append(conn)
            for part in conn.split(";"):
                name, _, value = part.partition("=")
                if name.strip().lower() in ("accountkey", "sharedaccesssignature") and value:
                    values.append(value.strip())
        return [v for v in values if v]


def missing_extra(storage_type: str) -> str | None:
    """The install command of ``storage_type``'s extra when its SDK is not installed, else None."""
    for module in _NEEDS.get(storage_type, ()):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return f"pip install 'datadog-sync[{storage_type}]'"
    return None


def open_store(config: StorageConfig) -> ObjectStore:
    """The bucket of a remote ``config``; raises :class:`StorageError` when its client cannot be set up."""
    if config.type == "s3":
        from datadog_sync.storage.s3 import S3Store

        return S3Store(
            config.bucket,
            region=config.aws_region_name,
            access_key_id=config.aws_access_key_id,
            secret_access_key=config.aws_secret_access_key,
            session_token=config.aws_session_token,
        )
    if config.type == "gcs":
        from datadog_sync.storage.gcs import GCSStore

        return GCSStore(config.bucket, key_file=config.gcs_service_account_key_file)
    if config.type == "azure":
        from datadog_sync.storage.azure import AzureStore

        return AzureStore(
            config.bucket,
            connection_string=config.azure_storage_connection_string,
            account_name=config.azure_storage_account_name,
            account_key=config.azure_storage_account_key,
        )
    raise ValueError(f"not a remote storage type: {config.type!r}")

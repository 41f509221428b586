"""Azure Blob Storage through azure-storage-blob (and azure-identity), the ``[azure]`` extra.

Credentials, in upstream's order: ``--azure-storage-connection-string`` (which also sets the endpoint, as
Azurite's does), else account name and key, else the account name with ``DefaultAzureCredential`` (environment,
workload and managed identity, Azure CLI; https://learn.microsoft.com/python/api/overview/azure/identity-readme).
Conditional writes: ``If-None-Match: *`` and ``If-Match`` with the blob's ETag
(https://learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations).
"""

from __future__ import annotations

from typing import Any

from datadog_sync.storage.base import ObjectInfo, ObjectStore, StorageError

_RETRIES: dict[str, Any] = {"retry_total": 3, "connection_timeout": 10, "read_timeout": 60}


class AzureStore(ObjectStore):
    scheme = "azure"

    def __init__(
        self,
        container: str,
        *,
        connection_string: str | None = None,
        account_name: str | None = None,
        account_key: str | None = None,
    ) -> None:
        from azure.storage.blob import BlobServiceClient

        self.container = container
        try:
            if connection_string:
                service = BlobServiceClient.from_connection_string(connection_string, **_RETRIES)
            else:
                url = f"https://{account_name}.blob.core.windows.net"
                if account_key:
                    credential: Any = {"account_name": account_name, "account_key": account_key}
                else:
                    from azure.identity import DefaultAzureCredential

                    credential = DefaultAzureCredential()
                service = BlobServiceClient(account_url=url, credential=credential, **_RETRIES)
        except ImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed connection string says why, without its content
            raise StorageError(f"cannot use the container {container}: {type(exc).__name__}") from None
        self.account = service.account_name
        self._container: Any = service.get_container_client(container)

    def url(self, key: str = "") -> str:
        return f"azure://{self.account}/{self.container}/{key}"

    def _fail(self, exc: Exception, doing: str, key: str | None = None) -> StorageError:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        where = self.url(key) if key is not None else f"the container {self.container}"
        code = str(getattr(exc, "error_code", "") or "")
        if code.endswith("ContainerNotFound") or code == "ContainerNotFound":
            return StorageError(f"cannot {doing} {where}: the container {self.container} does not exist")
        status = getattr(exc, "status_code", None)
        if isinstance(exc, ClientAuthenticationError) or status in (401, 403):
            return StorageError(f"cannot {doing} {where}: the Azure credentials were refused ({code or status})")
        if isinstance(exc, HttpResponseError):
            return StorageError(f"cannot {doing} {where}: {code or status}: {exc.reason or ''}".rstrip(": "))
        return StorageError(f"cannot {doing} {where}: {type(exc).__name__}: {_first_line(exc)}")

    @staticmethod
    def _blob_missing(exc: Exception) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        return isinstance(exc, ResourceNotFoundError) and "ContainerNotFound" not in str(getattr(exc, "error_code", ""))

    def check(self, prefix: str = "") -> None:
        try:
            next(iter(self._container.list_blobs(name_starts_with=prefix, results_per_page=1)), None)
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "list") from None

    def list(self, prefix: str) -> list[ObjectInfo]:
        try:
            items = list(self._container.walk_blobs(name_starts_with=prefix, delimiter="/"))
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "list") from None
        return sorted(
            (
                ObjectInfo(i.name[len(prefix) :], i.last_modified.timestamp())
                for i in items
                if getattr(i, "last_modified", None) is not None  # a BlobPrefix is a "directory"
            ),
            key=lambda i: i.name,
        )

    def read(self, key: str) -> tuple[bytes, str] | None:
        try:
            download = self._container.get_blob_client(key).download_blob()
            return download.readall(), download.properties.etag
        except Exception as exc:  # noqa: BLE001
            if self._blob_missing(exc):
                return None
            raise self._fail(exc, "read", key) from None

    def write(self, key: str, data: bytes) -> None:
        self.check_writable(key)
        try:
            self._container.upload_blob(key, data, overwrite=True)
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "write", key) from None

    def delete(self, key: str) -> None:
        self.check_writable(key)
        try:
            self._container.delete_blob(key)
        except Exception as exc:  # noqa: BLE001
            if not self._blob_missing(exc):
                raise self._fail(exc, "delete", key) from None

    def _conditional(self, doing: str, key: str, action: Any) -> bool:
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError

        try:
            action(self._container.get_blob_client(key))
        except (ResourceExistsError, ResourceModifiedError):
            return False
        except Exception as exc:  # noqa: BLE001
            if self._blob_missing(exc):
                return False
            raise self._fail(exc, doing, key) from None
        return True

    def create(self, key: str, data: bytes) -> bool:
        return self._conditional("create", key, lambda b: b.upload_blob(data, overwrite=False))

    def replace_if(self, key: str, version: str, data: bytes) -> bool:
        from azure.core import MatchConditions

        return self._conditional(
            "write",
            key,
            lambda b: b.upload_blob(data, overwrite=True, etag=version, match_condition=MatchConditions.IfNotModified),
        )

    def delete_if(self, key: str, version: str) -> bool:
        from azure.core import MatchConditions

        return self._conditional(
            "delete", key, lambda b: b.delete_blob(etag=version, match_condition=MatchConditions.IfNotModified)
        )


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [""])[0][:300]

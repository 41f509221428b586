"""Google Cloud Storage through google-cloud-storage, the ``[gcs]`` extra.

Credentials: ``--gcs-service-account-key-file`` when given, else Application Default Credentials
(https://cloud.google.com/docs/authentication/application-default-credentials). The endpoint: the library's
``STORAGE_EMULATOR_HOST`` variable; with it and no key file, requests are anonymous (emulators check nothing).
Conditional writes: ``ifGenerationMatch`` (0 creates only if absent;
https://cloud.google.com/storage/docs/request-preconditions). gcp-storage-emulator ignores preconditions, so
:meth:`GCSStore.create` also looks for the object first: against it, two runs starting within the same
milliseconds could both take the lock; real GCS refuses the second create.
"""

from __future__ import annotations

import os
from typing import Any

from datadog_sync.storage.base import ObjectInfo, ObjectStore, StorageError


class GCSStore(ObjectStore):
    scheme = "gs"

    def __init__(self, bucket: str, *, key_file: str | None = None) -> None:
        from google.cloud import storage

        self.container = bucket
        try:
            if key_file:
                try:
                    client = storage.Client.from_service_account_json(key_file)
                except Exception as exc:  # noqa: BLE001 - missing, unreadable, not JSON, not a service-account key
                    raise StorageError(
                        f"cannot use the bucket {bucket}: the --gcs-service-account-key-file {key_file} cannot be "
                        f"read or is not a valid service-account key file ({_short(exc)})"
                    ) from None
            elif os.environ.get("STORAGE_EMULATOR_HOST"):
                from google.auth.credentials import AnonymousCredentials

                project = os.environ.get("GOOGLE_CLOUD_PROJECT") or "datadog-sync"
                client = storage.Client(project=project, credentials=AnonymousCredentials())
            else:
                client = storage.Client()
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - no usable Application Default Credentials
            raise StorageError(
                f"cannot use the bucket {bucket}: no usable Google credentials ({_short(exc)}); pass "
                "--gcs-service-account-key-file or set up Application Default Credentials"
            ) from None
        self._bucket: Any = client.bucket(bucket)

    def _fail(self, exc: Exception, doing: str, key: str | None = None) -> StorageError:
        from google.api_core import exceptions as gex

        where = self.url(key) if key is not None else f"the bucket {self.container}"
        if isinstance(exc, gex.NotFound):
            return StorageError(f"cannot {doing} {where}: the bucket {self.container} does not exist")
        if isinstance(exc, (gex.Unauthorized, gex.Forbidden)):
            return StorageError(f"cannot {doing} {where}: the Google credentials were refused ({_short(exc)})")
        return StorageError(f"cannot {doing} {where}: {_short(exc)}")

    def check(self, prefix: str = "") -> None:
        try:
            list(self._bucket.list_blobs(prefix=prefix, max_results=1))
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "list") from None

    def list(self, prefix: str) -> list[ObjectInfo]:
        try:
            blobs = list(self._bucket.list_blobs(prefix=prefix, delimiter="/"))
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "list") from None
        return sorted(
            (ObjectInfo(b.name[len(prefix) :], b.updated.timestamp() if b.updated else 0.0) for b in blobs),
            key=lambda i: i.name,
        )

    def read(self, key: str) -> tuple[bytes, str] | None:
        from google.api_core import exceptions as gex

        blob = self._bucket.blob(key)
        try:
            data = blob.download_as_bytes()
        except gex.NotFound:
            self.check()  # a missing bucket is an error, a missing object is not
            return None
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "read", key) from None
        # GCS sends the generation with the content (X-Goog-Generation); gcp-storage-emulator does not, and
        # ignores preconditions anyway, so an empty version there means an unconditional replace or delete.
        return data, str(blob.generation or "")

    def write(self, key: str, data: bytes) -> None:
        self.check_writable(key)
        try:
            self._bucket.blob(key).upload_from_string(data, content_type="application/json")
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "write", key) from None

    def delete(self, key: str) -> None:
        self.check_writable(key)
        from google.api_core import exceptions as gex

        try:
            self._bucket.blob(key).delete()
        except gex.NotFound:
            pass
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, "delete", key) from None

    def _conditional(self, doing: str, key: str, action: Any) -> bool:
        from google.api_core import exceptions as gex

        try:
            action(self._bucket.blob(key))
        except (gex.PreconditionFailed, gex.NotFound):
            return False
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, doing, key) from None
        return True

    def create(self, key: str, data: bytes) -> bool:
        if self.read(key) is not None:
            return False
        return self._conditional("create", key, lambda b: b.upload_from_string(data, if_generation_match=0))

    def replace_if(self, key: str, version: str, data: bytes) -> bool:
        current = self.read(key)
        if current is None or current[1] != version:
            return False
        match = int(version) if version.isdigit() else None
        return self._conditional("write", key, lambda b: b.upload_from_string(data, if_generation_match=match))

    def delete_if(self, key: str, version: str) -> bool:
        current = self.read(key)
        if current is None or current[1] != version:
            return False
        match = int(version) if version.isdigit() else None
        return self._conditional("delete", key, lambda b: b.delete(if_generation_match=match))


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]

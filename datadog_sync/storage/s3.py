"""Amazon S3 (or an S3-compatible server such as moto's) through boto3, the ``[s3]`` extra.

Credentials: the options when given, else boto3's standard chain (environment, shared config and credentials
files, SSO, container and instance roles). The endpoint: boto3's own ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_S3`` variables (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
Conditional writes: ``If-None-Match: *`` and ``If-Match`` on PutObject and DeleteObject
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html).
"""

from __future__ import annotations

from typing import Any

from datadog_sync.storage.base import ObjectInfo, ObjectStore, StorageError

_AUTH_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AccessDenied",
    "AllAccessDisabled",
    "403",
}
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}


class S3Store(ObjectStore):
    scheme = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.container = bucket
        session = boto3.session.Session(
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            aws_session_token=session_token or None,
            region_name=region or None,
        )
        self._client: Any = session.client(
            "s3",
            config=Config(
                retries={"max_attempts": 4, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
                max_pool_connections=16,  # the parallel reads of state loading (state_roots.READ_THREADS)
            ),
        )

    def _fail(self, exc: Exception, doing: str, key: str | None = None) -> StorageError:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        where = self.url(key) if key is not None else f"the bucket {self.container}"
        if isinstance(exc, NoCredentialsError):
            return StorageError(
                f"cannot {doing} {where}: no AWS credentials found (pass --aws-access-key-id and "
                "--aws-secret-access-key, or configure AWS's standard credential chain)"
            )
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            message = exc.response.get("Error", {}).get("Message", "") or code
            if code in ("NoSuchBucket",) or (code in ("404", "NotFound") and key is None):
                return StorageError(f"cannot {doing} {where}: the bucket {self.container} does not exist")
            if code in _AUTH_CODES:
                return StorageError(f"cannot {doing} {where}: refused with these AWS credentials ({code}: {message})")
            return StorageError(f"cannot {doing} {where}: {code}: {message}")
        if isinstance(exc, BotoCoreError):
            return StorageError(f"cannot {doing} {where}: {exc}")
        return StorageError(f"cannot {doing} {where}: {type(exc).__name__}: {exc}")

    @staticmethod
    def _code(exc: Exception) -> str:
        response = getattr(exc, "response", None) or {}
        return str(response.get("Error", {}).get("Code", ""))

    def _call(self, doing: str, key: str | None, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, method)(Bucket=self.container, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every SDK failure becomes a message naming the object
            raise self._fail(exc, doing, key) from None

    def check(self, prefix: str = "") -> None:
        self._call("list", None, "list_objects_v2", Prefix=prefix, MaxKeys=1)

    def list(self, prefix: str) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call("list", None, "list_objects_v2", Prefix=prefix, Delimiter="/", **extra)
            for item in page.get("Contents", []):
                found.append(ObjectInfo(item["Key"][len(prefix) :], item["LastModified"].timestamp()))
            if not page.get("IsTruncated"):
                return sorted(found, key=lambda i: i.name)
            token = page.get("NextContinuationToken")

    def read(self, key: str) -> tuple[bytes, str] | None:
        try:
            answer = self._client.get_object(Bucket=self.container, Key=key)
            return answer["Body"].read(), answer["ETag"]
        except Exception as exc:  # noqa: BLE001
            if self._code(exc) in _MISSING_KEY_CODES and self._code(exc) != "NoSuchBucket":
                return None
            raise self._fail(exc, "read", key) from None

    def write(self, key: str, data: bytes) -> None:
        self.check_writable(key)
        self._call("write", key, "put_object", Key=key, Body=data, ContentType="application/json")

    def delete(self, key: str) -> None:
        self.check_writable(key)
        self._call("delete", key, "delete_object", Key=key)

    def _conditional(self, doing: str, key: str, method: str, **kwargs: Any) -> bool:
        try:
            getattr(self._client, method)(Bucket=self.container, Key=key, **kwargs)
        except Exception as exc:  # noqa: BLE001
            if self._code(exc) in _CONFLICT_CODES or self._code(exc) in _MISSING_KEY_CODES - {"NoSuchBucket"}:
                return False
            raise self._fail(exc, doing, key) from None
        return True

    def create(self, key: str, data: bytes) -> bool:
        return self._conditional("create", key, "put_object", Body=data, IfNoneMatch="*")

    def replace_if(self, key: str, version: str, data: bytes) -> bool:
        return self._conditional("write", key, "put_object", Body=data, IfMatch=version)

    def delete_if(self, key: str, version: str) -> bool:
        return self._conditional("delete", key, "delete_object", IfMatch=version)

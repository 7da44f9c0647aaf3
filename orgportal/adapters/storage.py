"""Where uploaded bytes live: My Files and organization logos.

Local disk under DATA_DIR (the default, one machine), or any S3-compatible object store
(`STORAGE_URL` = its endpoint, plus `STORAGE_BUCKET` and credentials), which several app
machines share. Keys are random names chosen by the services; each store holds one
namespace ("files", "logos") as a folder or a key prefix. Reads stream in chunks, so a
download never holds a whole file in memory.

An object store that cannot be reached (down, restarting, answering 5xx) raises
StorageUnavailable, a refusal the pages and routes show as one plain sentence (SPEC §18);
the client gives up after a few seconds instead of botocore's minutes of retries.
"""

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Protocol

from orgportal.config import settings
from orgportal.services.errors import DomainError

CHUNK = 64 * 1024
# The S3 client: seconds to connect and to wait for an answer, and tries per call (standard
# retry mode, with back-off); a store that is down is reported in seconds, not minutes.
S3_CONNECT_TIMEOUT, S3_READ_TIMEOUT, S3_MAX_ATTEMPTS = 5, 30, 3
log = logging.getLogger(__name__)


class BlobMissing(Exception):
    """No bytes under that key (deleted meanwhile, or never stored)."""


class StorageUnavailable(DomainError):
    """The object store could not be reached or failed: nothing was stored or read."""

    status = 503

    def __init__(self) -> None:
        super().__init__("Storage is unavailable right now; please try again in a minute.")


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def read(self, key: str) -> bytes: ...

    def stream(self, key: str) -> Iterator[bytes]:
        """The bytes in chunks; BlobMissing before the first chunk if there are none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, keys: Iterable[str]) -> None:
        """Remove these keys; missing ones are fine."""
        ...


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise BlobMissing(key)  # services choose keys; anything else is not ours
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._path(key).write_bytes(data)

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(key) from exc

    def stream(self, key: str) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise BlobMissing(key) from exc
        return _chunks(handle)

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except BlobMissing:
            return False

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)


def _chunks(handle) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


class S3Store:
    """One namespace of a bucket of any S3-compatible service (AWS, SeaweedFS, MinIO…)."""

    def __init__(self, client, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def put(self, key: str, data: bytes) -> None:
        with _reachable():
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def read(self, key: str) -> bytes:
        return b"".join(self.stream(key))

    def stream(self, key: str) -> Iterator[bytes]:
        try:
            with _reachable():
                body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"]
        except self.client.exceptions.NoSuchKey as exc:
            raise BlobMissing(key) from exc
        return _s3_chunks(body)

    def exists(self, key: str) -> bool:
        try:
            with _reachable():
                self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.ClientError:
            return False
        return True

    def delete(self, keys: Iterable[str]) -> None:
        names = [{"Key": self.prefix + key} for key in keys]
        for start in range(0, len(names), 1000):  # the API's most per request
            with _reachable():
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": names[start : start + 1000]}
                )


@contextmanager
def _reachable() -> Iterator[None]:
    """botocore's connection failures and the store's own 5xx answers as StorageUnavailable
    (logged with the cause); other answers (no such key, denied) pass through."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    try:
        yield
    except (BotoConnectionError, HTTPClientError) as exc:
        log.warning("object storage unavailable: %s", exc)
        raise StorageUnavailable() from exc
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) < 500:
            raise
        log.warning("object storage unavailable: %s", exc)
        raise StorageUnavailable() from exc


def _s3_chunks(body) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def files() -> BlobStore:
    """My Files' bytes."""
    return _store("files")


def logos() -> BlobStore:
    """Uploaded organization logos (served publicly by /api/logos/<name>)."""
    return _store("logos")


@cache
def _store(namespace: str) -> BlobStore:
    if not settings.storage_url:
        return LocalStore(settings.resolve(settings.data_dir) / namespace)
    return S3Store(_s3_client(), settings.storage_bucket, f"{namespace}/")


@cache
def _s3_client():
    import boto3  # only needed with object storage
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.storage_url,
        aws_access_key_id=settings.storage_access_key_id or None,
        aws_secret_access_key=settings.storage_secret_access_key or None,
        region_name=settings.storage_region,
        config=Config(
            connect_timeout=S3_CONNECT_TIMEOUT,
            read_timeout=S3_READ_TIMEOUT,
            retries={"max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
        ),
    )


def reset() -> None:
    """Forget the configured stores (tests change the settings)."""
    _store.cache_clear()
    _s3_client.cache_clear()

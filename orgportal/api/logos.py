"""Serves uploaded organization logos (verified images under random names), streamed from
the logos store (local disk or object storage)."""

import mimetypes

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse

from orgportal.adapters import storage
from orgportal.adapters.storage import BlobMissing, StorageUnavailable
from orgportal.services import logos

router = APIRouter(include_in_schema=False)


@router.get("/api/logos/{name}")
def logo(name: str) -> StreamingResponse:
    if not logos.NAME.fullmatch(name):
        raise HTTPException(status_code=404, detail="Not found.")
    try:
        chunks = storage.logos().stream(name)
    except BlobMissing:
        raise HTTPException(status_code=404, detail="Not found.") from None
    except StorageUnavailable as exc:  # a clear 503, not a traceback (SPEC §18)
        raise HTTPException(status_code=503, detail=exc.message) from None
    return StreamingResponse(
        chunks,
        media_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )

"""Serves uploaded organization logos (verified images under random names)."""

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from orgportal.services import logos

router = APIRouter(include_in_schema=False)


@router.get("/api/logos/{name}")
def logo(name: str) -> FileResponse:
    path = logos.path_for(logos.logos_dir(), name)
    if path is None:
        raise HTTPException(status_code=404, detail="Not found.")
    return FileResponse(
        path,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )

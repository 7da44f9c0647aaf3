"""Plain HTML pages answered outside Reflex: a short link that does not exist or
waits for approval, on the app's host and on a custom domain.

These answers come from the HTTP layer before any Reflex page exists, so they are small
server-rendered documents: escaped text, `lang`, a title, a `main` landmark and the app's
colours from one static stylesheet (`assets/public_pages.css`; no inline script or style,
so the Content-Security-Policy of `api/security_headers.py` needs nothing extra). A browser
gets the page; a client that asks for JSON (`Accept: application/json`, or an Accept without
`text/html`, as curl and API clients send) gets `{"detail": …}` with the same status.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from html import escape

from starlette.responses import HTMLResponse, JSONResponse, Response

from orgportal.config import ROOT

# Served by Reflex from assets/ on the app's host, and by `custom_host` on custom domains
# (whose only other paths are slugs: a dot is never part of one).
STYLESHEET_PATH = "/public_pages.css"
STYLESHEET_FILE = ROOT / "assets" / "public_pages.css"
PRODUCT = "orgportal"


@dataclass(frozen=True)
class PublicPage:
    """One answer, in both shapes: `title`/`heading`/`paragraphs` for people, `detail` for
    programs."""

    title: str
    heading: str
    paragraphs: tuple[str, ...]
    detail: str


NO_SUCH_LINK = PublicPage(
    title="Short link not found",
    heading="This short link does not exist",
    paragraphs=(
        "There is no short link at this address. It may be mistyped, or it may have been deleted.",
        "Check the address, or ask whoever shared it for a new link.",
    ),
    detail="No such short link.",
)
AWAITING_APPROVAL = PublicPage(
    title="Link awaiting approval",
    heading="This link is awaiting approval",
    paragraphs=(
        "An administrator of the organization has not approved this short link yet.",
        "Please try again later.",
    ),
    detail="This link is awaiting approval.",
)


def _quality(accept: str) -> dict[str, float]:
    """Each media range of an Accept header with its q value (1 when not given)."""
    found: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        found[media.lower()] = max(q, found.get(media.lower(), 0.0))
    return found


def wants_html(headers: Mapping[str, str]) -> bool:
    """True for a browser: `text/html` accepted, and not less wanted than JSON. Clients that
    ask for JSON, or accept anything without naming HTML (`*/*`), get JSON."""
    quality = _quality(headers.get("accept", ""))
    html = quality.get("text/html", 0.0)
    return html > 0 and html >= quality.get("application/json", 0.0)


def render(page: PublicPage, *, home_link: bool) -> str:
    """The whole document. `home_link`: a link to the app (on its own host only: a custom
    domain serves nothing of the app)."""
    paragraphs = "\n".join(f"<p>{escape(text)}</p>" for text in page.paragraphs)
    brand = (
        f'<a class="brand" href="/">{escape(PRODUCT)}</a>'
        if home_link
        else f'<span class="brand">{escape(PRODUCT)}</span>'
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{escape(page.title)} · {escape(PRODUCT)}</title>
<link rel="stylesheet" href="{STYLESHEET_PATH}">
</head>
<body>
<header class="top">{brand}</header>
<main>
<div class="card">
<h1>{escape(page.heading)}</h1>
{paragraphs}
</div>
</main>
</body>
</html>
"""


def respond(
    headers: Mapping[str, str],
    page: PublicPage,
    *,
    status: int,
    html_status: int | None = None,
    home_link: bool = True,
) -> Response:
    """The page for a browser (status `html_status`, else `status`), else the JSON
    `{"detail": …}`. Never cached: the link may exist (or be approved) a moment later."""
    extra = {"Cache-Control": "no-store", "Vary": "Accept"}
    if wants_html(headers):
        return HTMLResponse(
            render(page, home_link=home_link),
            status_code=html_status or status,
            headers=extra,
        )
    return JSONResponse({"detail": page.detail}, status_code=status, headers=extra)


@cache
def stylesheet() -> bytes:
    return STYLESHEET_FILE.read_bytes()


def stylesheet_response() -> Response:
    """The stylesheet, for the hosts where Reflex does not serve assets/ (custom domains)."""
    return Response(
        stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )

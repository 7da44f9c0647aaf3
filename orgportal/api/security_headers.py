"""Security headers for every response, with a Content-Security-Policy the app's pages pass.

Reflex's prerendered pages carry a few inline bootstrap scripts (theme, router context,
streaming): rather than allow every inline script, the policy lists the SHA-256 of each
one found in the built pages. `rx.call_script` runs its code through `eval`, so scripts
also need `'unsafe-eval'`; styles need `'unsafe-inline'` (Radix and Emotion inject them).
Everything else is locked to this origin: no other site's scripts, no connections
elsewhere (nothing can be sent off), no framing, no plugins, forms post only here.
"""

import base64
import hashlib
import re
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from starlette.types import Message, Send

from orgportal.config import ROOT

BUILT_PAGES = ROOT / ".web" / "build" / "client"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)
# FastAPI's Swagger UI loads its bundle from a CDN; only /api/docs may use it.
DOCS_CDN = "https://cdn.jsdelivr.net"


def inline_script_hashes(pages: Path = BUILT_PAGES) -> list[str]:
    """The CSP source of each distinct inline script in the built HTML pages."""
    found: set[str] = set()
    for page in pages.rglob("*.html") if pages.is_dir() else ():
        for body in INLINE_SCRIPT.findall(page.read_text(encoding="utf-8", errors="replace")):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            found.add(f"'sha256-{digest}'")
    return sorted(found)


def page_policy() -> str:
    """The policy of the pages as built now: computed again only when the frontend is
    rebuilt (a backend may answer its first requests while its frontend is still being
    built, and must not keep the previous build's hashes). Without a build (a dev server)
    there is nothing to hash and inline scripts are allowed instead."""
    return _policy_of_build(_build_stamp())


STAMP_SECONDS = 1.0  # how often the build is looked at (a stat), not on every response
_stamp: list[float | int] = [float("-inf"), 0]  # [looked at (monotonic), the stamp seen]


def _build_stamp() -> int:
    """Changes with every frontend build (each build writes its fallback page anew). Looked
    at no more than once per STAMP_SECONDS: every response of the app asks."""
    now = time.monotonic()
    if now - _stamp[0] < STAMP_SECONDS:
        return int(_stamp[1])
    try:
        stamp = (BUILT_PAGES / "__spa-fallback.html").stat().st_mtime_ns
    except OSError:
        stamp = 0
    _stamp[:] = [now, stamp]
    return stamp


@cache
def _policy_of_build(stamp: int) -> str:
    hashes = inline_script_hashes()
    inline = " ".join(hashes) if hashes else "'unsafe-inline'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'unsafe-eval' {inline}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob: https:",
            "font-src 'self' data:",
            "connect-src 'self'",  # CSP 3: 'self' covers this origin's ws:// and wss://
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def docs_policy() -> str:
    return (
        f"default-src 'self'; script-src 'self' 'unsafe-inline' {DOCS_CDN}; "
        f"style-src 'self' 'unsafe-inline' {DOCS_CDN}; img-src 'self' data: https:; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )


def for_path(path: str) -> list[tuple[bytes, bytes]]:
    """The headers every response of `path` carries (a new list: callers add to it)."""
    return list(_headers(docs_policy() if path == "/api/docs" else page_policy()))


@cache
def _headers(policy: str) -> tuple[tuple[bytes, bytes], ...]:
    """Made once per policy (the pages' changes only with a new frontend build)."""
    return (
        (b"content-security-policy", policy.encode()),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-content-type-options", b"nosniff"),
    )


def adding(send: Send, headers: Sequence[tuple[bytes, bytes]]) -> Send:
    """`send` with `headers` added to the response's own at its start: each one the
    response does not set itself (Set-Cookie: always, as another cookie)."""
    if not headers:
        return send

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {key.lower() for key, _ in message.get("headers", ())}
            extra = [(k, v) for k, v in headers if k not in present or k == b"set-cookie"]
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return wrapped

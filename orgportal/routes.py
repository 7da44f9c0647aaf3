"""Route paths and builders, in one place."""

from urllib.parse import quote

HOME = "/"
LOGIN = "/login"
REGISTER = "/register"
CONFIRM = "/confirm/[token]"
ORGANIZATION = "/organization"
AUDIT_LOG = "/organization/audit"
INVITE = "/support/invite/[token]"
LINKS = "/links"
FILES = "/files"
ACCOUNT = "/account"
TICKETS = "/tickets"
TEST_CHECKOUT = "/billing/test-checkout/[checkout_id]"
TEST_PORTAL = "/billing/test-portal"

SESSION_COOKIE = "orgportal_session"


def login(next_path: str | None = None) -> str:
    return f"{LOGIN}?next={quote(next_path, safe='')}" if next_path else LOGIN


def open_session(ticket: str, next_path: str) -> str:
    return f"/api/auth/session?ticket={quote(ticket)}&next={quote(next_path, safe='')}"


def short_link(slug: str) -> str:
    return f"/l/{slug}"


def file_download(file_id: int) -> str:
    return f"/api/files/{file_id}"

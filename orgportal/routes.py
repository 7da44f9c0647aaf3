"""Route paths and builders, in one place."""

from urllib.parse import quote

HOME = "/"
LOGIN = "/login"
REGISTER = "/register"
CONFIRM = "/confirm/[token]"
ORGANIZATION = "/organization"
ORG_MEMBERS = "/organization/members"
ORG_BILLING = "/organization/billing"
ORG_SUPPORT = "/organization/support"
ORG_SETTINGS = "/organization/settings"
AUDIT_LOG = "/organization/audit"
INVITE = "/support/invite/[token]"
LINKS = "/links"
FILES = "/files"
ACCOUNT = "/account"
TICKETS = "/tickets"
TEST_CHECKOUT = "/billing/test-checkout/[checkout_id]"
TEST_PORTAL = "/billing/test-portal"

SESSION_COOKIE = "orgportal_session"

PAGES = (
    HOME, LOGIN, REGISTER, CONFIRM, ORGANIZATION, ORG_MEMBERS, ORG_BILLING, ORG_SUPPORT,
    ORG_SETTINGS, AUDIT_LOG, INVITE, LINKS, FILES, ACCOUNT, TICKETS, TEST_CHECKOUT, TEST_PORTAL,
)  # fmt: skip
# First path segments served by something other than a page: the API, short links, and
# what Reflex itself serves (websocket, uploads, health checks, the built assets).
SERVED = (
    "api", "l", "_event", "_upload", "ping", "_health", "health", "assets", "favicon.ico",
    "robots.txt", "sitemap.xml", "favicon", "robots", "sitemap", "404", "__spa-fallback",
    "redoc", "docs",
)  # fmt: skip
# Pages and words the product has or will soon have: keep them free for it.
UPCOMING = (
    "password-reset", "reset", "settings", "security", "projects", "analytics", "admin",
    "help", "docs", "status", "domains", "approvals", "signin", "sign-in", "signup",
    "sign-up", "logout", "sign-out", "signout", "two-factor", "2fa", "verify", "invite",
    "invitations", "members", "team", "audit", "usage", "pricing", "terms", "privacy",
    "about", "contact", "dashboard", "home", "app", "www", "static", "public", "webhooks",
    "oauth", "auth", "sso", "sessions", "profile", "conversions", "tools",
)  # fmt: skip


def first_segment(path: str) -> str:
    return path.strip("/").split("/", 1)[0].lower()


RESERVED_SEGMENTS = frozenset(
    first_segment(p) for p in PAGES + SERVED + UPCOMING if first_segment(p)
)


def login(next_path: str | None = None) -> str:
    return f"{LOGIN}?next={quote(next_path, safe='')}" if next_path else LOGIN


def login_retry(next_path: str) -> str:
    """The sign-in page after a sign-in link failed in this browser (it says so)."""
    return f"{login(next_path)}&retry=1"


def open_session(ticket: str, next_path: str) -> str:
    return f"/api/auth/session?ticket={quote(ticket)}&next={quote(next_path, safe='')}"


def short_link(slug: str) -> str:
    return f"/l/{slug}"


def file_download(file_id: int) -> str:
    return f"/api/files/{file_id}"


TICKET = "/tickets/[number]"


def ticket(number: str) -> str:
    """One ticket's page, by its number: `/tickets/TKT-001`."""
    return f"{TICKETS}/{quote(number, safe='')}"


def tickets_list(query: str = "") -> str:
    """The ticket list, with its filters as a query string (`status=closed&page=2`)."""
    return f"{TICKETS}?{query}" if query else TICKETS

"""Route paths and builders, in one place."""

from urllib.parse import quote

HOME = "/"
LOGIN = "/login"
REGISTER = "/register"
CONFIRM = "/confirm/[token]"
ORGANIZATION = "/organization"
ORG_NEW = "/organization/new"
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
    HOME, LOGIN, REGISTER, CONFIRM, ORGANIZATION, ORG_NEW, ORG_MEMBERS, ORG_BILLING, ORG_SUPPORT,
    ORG_SETTINGS, AUDIT_LOG, INVITE, LINKS, FILES, ACCOUNT, TICKETS, TEST_CHECKOUT, TEST_PORTAL,
)  # fmt: skip
# Account recovery and self-service (SPEC §13): forgot password, its link, email-change link.
PASSWORD_RESET = "/password-reset"
PASSWORD_RESET_LINK = "/password-reset/[token]"
EMAIL_CHANGE = "/account/email/[token]"
PAGES += (PASSWORD_RESET, PASSWORD_RESET_LINK, EMAIL_CHANGE)
# A ticket's requester reads its conversation and replies, signed out (SPEC §7, §17).
TICKET_REPLY = "/support/ticket/[token]"
PAGES += (TICKET_REPLY,)
# An organization's Security settings refused the viewer (SPEC §13): set up
# two-factor sign-in to continue, or an address outside its IP allowlist.
TWO_FACTOR_REQUIRED = "/security/two-factor"
ADDRESS_BLOCKED = "/security/blocked"
PAGES += (TWO_FACTOR_REQUIRED, ADDRESS_BLOCKED)
# First path segments served by something other than a page: the API, short links, and
# what Reflex itself serves (websocket, uploads, health checks, the built assets).
SERVED = (
    "api", "l", "_event", "_upload", "ping", "_health", "health", "assets", "favicon.ico",
    "robots.txt", "sitemap.xml", "favicon", "robots", "sitemap", "404", "__spa-fallback",
    "redoc", "docs", "healthz", "readyz", "metrics", "scim",
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
    return f"{API_AUTH}/session?ticket={quote(ticket)}&next={quote(next_path, safe='')}"


def register(next_path: str | None = None) -> str:
    return f"{REGISTER}?next={quote(next_path, safe='')}" if next_path else REGISTER


def invite(token: str) -> str:
    """The invite link sent by email: the page that accepts or declines it."""
    return f"/support/invite/{quote(token, safe='')}"


def test_checkout(checkout_id: str) -> str:
    """Test mode's own checkout page (no Stripe keys: `adapters/billing.TestModeGateway`)."""
    return f"/billing/test-checkout/{quote(checkout_id, safe='')}"


API_AUTH = "/api/auth"
API_DOCS = "/api/docs"  # the REST API's reference (FastAPI)
DEFAULT_AFTER_SIGN_IN = ORGANIZATION


def public_ticket_intake(organization_slug: str) -> str:
    """The website plugin's ticket endpoint of one organization (SPEC support intake)."""
    return f"/api/public/organizations/{quote(organization_slug, safe='')}/tickets"


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


def password_reset_link(token: str) -> str:
    """The page a password-reset mail links to."""
    return f"/password-reset/{quote(token, safe='')}"


def ticket_reply_link(token: str) -> str:
    """The page a staff reply's mail links to: the requester's side of the ticket."""
    return f"/support/ticket/{quote(token, safe='')}"


def email_change_link(token: str) -> str:
    """The page an email-change confirmation mail links to."""
    return f"/account/email/{quote(token, safe='')}"


# Pages about the account itself (where two-factor sign-in is set up), never refused by an
# organization's Security settings; the `/account/…` pages below it neither.
UNGUARDED_PAGES = (ACCOUNT, TWO_FACTOR_REQUIRED, ADDRESS_BLOCKED)


def unguarded(path: str) -> bool:
    path = "/" + path.split("?", 1)[0].strip("/")
    return path in UNGUARDED_PAGES or path.startswith(ACCOUNT + "/")


def security_gate(reason: str) -> str:
    """Where an organization's refusal sends the viewer ("two_factor" or "address")."""
    return TWO_FACTOR_REQUIRED if reason == "two_factor" else ADDRESS_BLOCKED


# Projects and the link Approval queue (SPEC §14).
PROJECTS = "/projects"
PROJECT = "/projects/[project]"
APPROVALS = "/approvals"
PAGES += (PROJECTS, PROJECT, APPROVALS)
# Analytics of the active workspace (SPEC §14): filters in the query string.
ANALYTICS = "/analytics"
PAGES += (ANALYTICS,)


def project(project_id: int) -> str:
    """One project's page: its links and its analytics."""
    return f"{PROJECTS}/{project_id}"


def links_in_project(project_id: int) -> str:
    """The Links page filtered to one project."""
    return f"{LINKS}?project={project_id}"


def project_analytics(project_id: int) -> str:
    """The Analytics page (SPEC §14) filtered to one project."""
    return f"/analytics?project={project_id}"


# Branded short-link domains (SPEC §15): the organization's Domains sub-page.
ORGANIZATION_DOMAINS = "/organization/domains"
PAGES += (ORGANIZATION_DOMAINS,)
# Outgoing webhooks (SPEC §17): the organization's Webhooks sub-page.
ORG_WEBHOOKS = "/organization/webhooks"
PAGES += (ORG_WEBHOOKS,)


# The Account page's sections, each with its own address; `/account` shows the
# first (Profile). Their first segment, "account", is reserved already.
ACCOUNT_PROFILE = "/account/profile"
ACCOUNT_SECURITY = "/account/security"
ACCOUNT_SESSIONS = "/account/sessions"
ACCOUNT_PLAN = "/account/plan"
PAGES += (ACCOUNT_PROFILE, ACCOUNT_SECURITY, ACCOUNT_SESSIONS, ACCOUNT_PLAN)
# Which notification mails the user gets (SPEC §17); every such mail links here.
ACCOUNT_NOTIFICATIONS = "/account/notifications"
PAGES += (ACCOUNT_NOTIFICATIONS,)


# Single sign-on (SPEC §16): the addresses identity providers send people back to.
API_SSO = "/api/sso"
SSO_OIDC_CALLBACK = f"{API_SSO}/oidc/callback"
SSO_FINISH = f"{API_SSO}/finish"  # SAML's second step, back on our own site


def sso_saml_acs(organization_id: int) -> str:
    """The SAML Assertion Consumer Service of one organization (its IdP POSTs here)."""
    return f"{API_SSO}/saml/{organization_id}/acs"


def sso_saml_metadata(organization_id: int) -> str:
    """Our service provider's metadata XML for one organization."""
    return f"{API_SSO}/saml/{organization_id}/metadata"

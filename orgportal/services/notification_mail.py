"""How a notification mail looks (SPEC §17): one message in plain text and in HTML, under
the organization's name and logo, with its one action and the link to the reader's
notification settings.

Everything that comes from people (organization names, ticket subjects, member names, a
logo address) is escaped here, once, in the HTML part: a ticket subject like
`<img src=x onerror=…>` arrives as text. The plain-text part needs no escaping.
"""

from dataclasses import dataclass
from html import escape

from orgportal import routes
from orgportal.config import settings
from orgportal.models import Organization


@dataclass(frozen=True)
class Notice:
    """What one notification says: a headline, a few lines, and the place to act."""

    subject: str
    headline: str
    lines: tuple[str, ...]
    action_label: str
    action_url: str
    why: str  # "You get this because …": which setting turns it off


@dataclass(frozen=True)
class Rendered:
    text: str
    html: str


def settings_url() -> str:
    """Where every notification mail sends its reader to turn a kind off."""
    return f"{settings.public_url}{routes.ACCOUNT_NOTIFICATIONS}"


def absolute(path_or_url: str) -> str:
    """An address of ours (`/tickets/…`) as a full URL; a full URL as it is."""
    return path_or_url if "://" in path_or_url else f"{settings.public_url}{path_or_url}"


def logo_url(organization: Organization | None) -> str:
    """The logo as mail clients can load it: an uploaded logo (`/api/logos/…`) under the
    public URL, an https logo as it is, none otherwise."""
    url = (organization.logo_url if organization else "") or ""
    if url.startswith("/"):
        return absolute(url)
    return url if url.startswith("https://") else ""


def render(notice: Notice, organization: Organization | None, sender_name: str = "") -> Rendered:
    name = organization.name if organization else (sender_name or "orgportal")
    return Rendered(_text(notice, name), _html(notice, name, logo_url(organization)))


def _text(notice: Notice, name: str) -> str:
    body = "\n".join(notice.lines)
    return (
        f"{name}\n\n{notice.headline}\n\n{body}\n\n"
        f"{notice.action_label}: {notice.action_url}\n\n"
        f"-- \n{notice.why}\nChoose which emails you get: {settings_url()}\n"
    )


def _html(notice: Notice, name: str, logo: str) -> str:
    logo_img = (
        f'<img src="{escape(logo)}" alt="{escape(name)} logo" width="40" height="40" '
        'style="vertical-align:middle;margin-right:8px;border-radius:4px">'
        if logo
        else ""
    )
    lines = "".join(f'<p style="margin:0 0 8px">{escape(line)}</p>' for line in notice.lines)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(notice.subject)}</title></head>"
        '<body style="margin:0;padding:24px;background:#f6f7f9;'
        'font-family:Arial,Helvetica,sans-serif;color:#1c2024">'
        '<div style="max-width:560px;margin:0 auto;background:#ffffff;padding:24px;'
        'border-radius:8px">'
        f'<p style="margin:0 0 16px;font-size:16px;font-weight:bold">{logo_img}'
        f"<span>{escape(name)}</span></p>"
        f'<h1 style="font-size:20px;margin:0 0 12px">{escape(notice.headline)}</h1>'
        f"{lines}"
        f'<p style="margin:20px 0"><a href="{escape(notice.action_url)}" '
        'style="background:#0d74ce;color:#ffffff;padding:10px 16px;border-radius:6px;'
        f'text-decoration:none">{escape(notice.action_label)}</a></p>'
        '<p style="margin:24px 0 0;font-size:12px;color:#60646c">'
        f'{escape(notice.why)} <a href="{escape(settings_url())}" style="color:#0d74ce">'
        "Choose which emails you get</a></p>"
        "</div></body></html>"
    )

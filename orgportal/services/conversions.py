"""Conversion attribution (SPEC §14): `default_attribution_window` in use.

A link that appends `op_click=<id>` to its target hands the visitor's click id to the
target site; the site reports a conversion with it (`POST /api/conversions`). It is
attributed to that click when it arrives within the organization's attribution window
(hours) of the click, once per (click, name). The caller must be a member of the click's
organization (the owner, for a Personal Workspace link); any other click id reads as
missing, so ids of other organizations tell nothing.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from orgportal.db import mark_changed
from orgportal.models import Click, Conversion, User
from orgportal.models.analytics import TOTAL
from orgportal.models.base import utcnow
from orgportal.services import clicks
from orgportal.services.errors import ValidationFailed
from orgportal.services.permissions import require_readable
from orgportal.services.validation import FieldError, text

NAME_MAX = 100
CLICK_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # what `op_click` carries (url-safe base64)
VALUE_MAX = 1e12


@dataclass(frozen=True)
class Recorded:
    conversion: Conversion
    click: Click
    created: bool  # False: the same (click, name) was recorded before (idempotent)


def record_conversion(
    session: Session,
    *,
    user: User,
    click_id: str,
    name: str,
    value: float | None = None,
    now: datetime | None = None,
) -> Recorded:
    name, value = _valid(name, value)
    click = _click_for(session, user, click_id)
    existing = _existing(session, click, name)
    if existing is not None:
        return Recorded(existing, click, False)
    if click.is_bot:
        raise ValidationFailed({"click_id": "That click was a bot's visit: bots do not convert."})
    window = clicks.attribution_window_hours(session, click.organization_id)
    now = now or utcnow()
    if now - click.clicked_at > timedelta(hours=window):
        raise ValidationFailed(
            {
                "click_id": f"The conversion is outside the attribution window of {window} "
                f"hours: the click was at {click.clicked_at:%Y-%m-%d %H:%M} UTC."
            }
        )
    conversion = Conversion(
        click_id=click.id,
        link_id=click.link_id,
        organization_id=click.organization_id,
        name=name,
        value=value,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(conversion)
            session.flush()
    except IntegrityError:  # the same conversion raced us: it is recorded once
        existing = _existing(session, click, name)
        if existing is None:
            raise
        return Recorded(existing, click, False)
    clicks.add_to_rollups(
        session,
        [
            {
                "link_id": click.link_id,
                "organization_id": click.organization_id,
                "owner_id": click.owner_id,
                "day": click.clicked_at.date(),  # counted with the click it converts
                "dimension": TOTAL,
                "value": "",
                "conversions": 1,
                "conversion_value": value or 0.0,
            }
        ],
        ("conversions", "conversion_value"),
    )
    if click.organization_id:
        mark_changed(session, clicks.TOPIC, [click.organization_id])
    else:
        mark_changed(session, clicks.PERSONAL_TOPIC, [click.owner_id])
    return Recorded(conversion, click, True)


def _valid(name: str, value: float | None) -> tuple[str, float | None]:
    errors: dict[str, str] = {}
    try:
        name = text(name or "", label="Name", min_len=1, max_len=NAME_MAX, single_line=True)
    except FieldError as exc:
        errors["name"] = str(exc)
    if value is not None and (not math.isfinite(value) or abs(value) > VALUE_MAX):
        errors["value"] = "The value must be a number between -1e12 and 1e12."
    if errors:
        raise ValidationFailed(errors)
    return name, value


def _click_for(session: Session, user: User, token: str) -> Click:
    """The click with this id, if the user may report on it; else NotFound."""
    click = None
    if CLICK_ID.fullmatch(token or ""):
        click = session.exec(select(Click).where(Click.token == token)).first()
    return require_readable(session, user, click, "Click not found.")


def _existing(session: Session, click: Click, name: str) -> Conversion | None:
    return session.exec(
        select(Conversion).where(Conversion.click_id == click.id, Conversion.name == name)
    ).first()

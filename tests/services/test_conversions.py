"""Conversion attribution (SPEC §14): the window, idempotency, other organizations."""

from datetime import timedelta

import pytest
from sqlmodel import select

from orgportal.models import Click, ClickRollup, Conversion, Organization, Role
from orgportal.models.analytics import TOTAL
from orgportal.services import clicks, conversions, organizations
from orgportal.services.errors import NotFound, ValidationFailed
from tests.factories import add_member, make_org, make_user
from tests.services.test_clicks import GOOGLEBOT, hit, make_link


class NoBilling:
    def cancel_subscription(self, *_args, **_kwargs):
        return None


def clicked(session, org_id=None, owner=None, ua=None):
    owner = owner or make_user(session)
    org = session.get(Organization, org_id) if org_id else None
    link = make_link(session, owner, org.id if org else None, append_click_id=True)
    one = hit(link, ua) if ua is not None else hit(link)
    clicks.record(session, [one])
    session.commit()
    return owner, link, session.exec(select(Click).where(Click.token == one.token)).one()


def test_conversion_within_the_window_is_attributed_and_counted(session):
    owner = make_user(session)
    org = make_org(session, owner)
    _, link, click = clicked(session, org.id, owner)
    done = conversions.record_conversion(
        session, user=owner, click_id=click.token, name="signup", value=12.5
    )
    session.commit()
    assert done.created and done.conversion.link_id == link.id
    total = session.exec(
        select(ClickRollup).where(ClickRollup.link_id == link.id, ClickRollup.dimension == TOTAL)
    ).one()
    assert (total.clicks, total.conversions, total.conversion_value) == (1, 1, 12.5)


def test_window_edges_follow_the_organization_setting(session):
    owner = make_user(session)
    org = make_org(session, owner)
    org.default_attribution_window = 24
    session.add(org)
    session.commit()
    _, _, click = clicked(session, org.id, owner)
    at_edge = click.clicked_at + timedelta(hours=24)
    conversions.record_conversion(session, user=owner, click_id=click.token, name="a", now=at_edge)
    with pytest.raises(ValidationFailed) as refused:
        conversions.record_conversion(
            session,
            user=owner,
            click_id=click.token,
            name="b",
            now=at_edge + timedelta(seconds=1),
        )
    assert "attribution window of 24 hours" in refused.value.errors["click_id"]
    assert refused.value.status == 422


def test_a_changed_window_applies_to_later_conversions(session):
    owner = make_user(session)
    org = make_org(session, owner)
    _, _, click = clicked(session, org.id, owner)
    late = click.clicked_at + timedelta(hours=200)
    with pytest.raises(ValidationFailed, match="168 hours"):  # the default: 168
        conversions.record_conversion(session, user=owner, click_id=click.token, name="x", now=late)
    org.default_attribution_window = 240
    session.add(org)
    session.commit()
    done = conversions.record_conversion(
        session, user=owner, click_id=click.token, name="x", now=late
    )
    assert done.created


def test_conversions_are_idempotent_per_click_and_name(session):
    owner = make_user(session)
    org = make_org(session, owner)
    _, link, click = clicked(session, org.id, owner)
    first = conversions.record_conversion(session, user=owner, click_id=click.token, name="buy")
    session.commit()
    again = conversions.record_conversion(
        session, user=owner, click_id=click.token, name="buy", value=99
    )
    session.commit()
    other = conversions.record_conversion(session, user=owner, click_id=click.token, name="lead")
    session.commit()
    assert not again.created and again.conversion.id == first.conversion.id
    assert other.created
    assert len(session.exec(select(Conversion)).all()) == 2
    total = session.exec(
        select(ClickRollup).where(ClickRollup.link_id == link.id, ClickRollup.dimension == TOTAL)
    ).one()
    assert total.conversions == 2


def test_other_organizations_click_ids_are_refused_as_missing(session):
    owner = make_user(session)
    org = make_org(session, owner)
    _, _, click = clicked(session, org.id, owner)
    stranger = make_user(session)
    make_org(session, stranger, "Other Org")
    with pytest.raises(NotFound):
        conversions.record_conversion(session, user=stranger, click_id=click.token, name="x")
    with pytest.raises(NotFound):
        conversions.record_conversion(session, user=owner, click_id="no-such-click", name="x")
    with pytest.raises(NotFound):  # the row id is no click id
        conversions.record_conversion(session, user=owner, click_id=str(click.id), name="x")


def test_any_member_may_report_including_viewers(session):
    owner = make_user(session)
    org = make_org(session, owner)
    viewer = add_member(session, org, Role.VIEWER)
    _, _, click = clicked(session, org.id, owner)
    assert conversions.record_conversion(session, user=viewer, click_id=click.token, name="v")


def test_personal_link_clicks_convert_only_for_their_owner(session):
    owner, _, click = clicked(session)
    with pytest.raises(NotFound):
        conversions.record_conversion(
            session, user=make_user(session), click_id=click.token, name="x"
        )
    assert conversions.record_conversion(session, user=owner, click_id=click.token, name="x")


def test_bot_clicks_do_not_convert(session):
    owner = make_user(session)
    org = make_org(session, owner)
    _, _, click = clicked(session, org.id, owner, ua=GOOGLEBOT)
    with pytest.raises(ValidationFailed, match="bot"):
        conversions.record_conversion(session, user=owner, click_id=click.token, name="x")


def test_bad_names_and_values_change_nothing(session):
    owner = make_user(session)
    org = make_org(session, owner)
    _, _, click = clicked(session, org.id, owner)
    for name, value in (("", None), ("a\nb", None), ("x" * 101, None), ("ok", float("nan"))):
        with pytest.raises(ValidationFailed):
            conversions.record_conversion(
                session, user=owner, click_id=click.token, name=name, value=value
            )
    assert session.exec(select(Conversion)).all() == []


def test_deleting_the_organization_deletes_clicks_rollups_and_conversions(session):
    owner = make_user(session)
    org = make_org(session, owner)
    _, _, click = clicked(session, org.id, owner)
    conversions.record_conversion(session, user=owner, click_id=click.token, name="x")
    session.commit()
    organizations.delete_organization(
        session, user=owner, organization_id=org.id, confirm_name=org.name, gateway=NoBilling()
    )
    session.commit()
    for table in (Click, ClickRollup, Conversion):
        assert session.exec(select(table)).all() == []

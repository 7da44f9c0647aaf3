"""Short links never shadow the app's own paths (issue: `/password-reset` could redirect away)."""

import pytest

from orgportal import routes
from orgportal.api import build_api
from orgportal.services import links
from orgportal.services.errors import ValidationFailed
from tests.factories import make_user


def api_paths(routes_) -> set[str]:
    """Every path the HTTP API serves, also inside included routers."""
    found = set()
    for route in routes_:
        if hasattr(route, "original_router"):  # FastAPI's included router
            prefix = route.include_context.prefix
            found |= {prefix + p for p in api_paths(route.original_router.routes)}
        elif hasattr(route, "path"):
            found.add(route.path)
    return found


def test_every_page_and_api_route_is_reserved():
    from orgportal.orgportal import app

    pages = {"/" + route for route in app._unevaluated_pages if route != "index"}
    served = pages | api_paths(build_api().routes) | {"/l/x"}
    missing = {p for p in served if routes.first_segment(p) not in links.RESERVED}
    assert not missing, f"short links could shadow {missing}"


@pytest.mark.parametrize(
    "slug", ["password-reset", "login", "Login", "SIGNIN", "settings", "analytics", "api"]
)
def test_reserved_slugs_are_refused_whatever_their_case(session, slug):
    user = make_user(session)
    with pytest.raises(ValidationFailed) as refused:
        links.create_link(
            session, user=user, organization_id=None, target_url="https://a.example", slug=slug
        )
    assert "reserved" in refused.value.errors["slug"]


def test_ordinary_slugs_still_work(session):
    user = make_user(session)
    link = links.create_link(
        session, user=user, organization_id=None, target_url="https://a.example", slug="spring"
    )
    assert link.slug == "spring"

"""Where switching workspace leads, and which top-bar entry a page belongs to."""

import pytest

from orgportal import routes
from orgportal.state.base import nav_section, workspace_destination


@pytest.mark.parametrize(
    ("path", "organization_id", "expected"),
    [
        ("/links", 7, "/links"),
        ("/links/", 0, "/links"),
        ("/files", 7, "/files"),
        ("/tickets", 0, "/tickets"),
        ("/tickets/TKT-001", 7, "/tickets"),  # another workspace has not that ticket
        ("/organization/members", 7, "/organization/members"),
        ("/organization/audit/", 7, "/organization/audit"),
        ("/organization/settings", 0, routes.ORGANIZATION),  # Personal: no sub-pages
        ("/organization", 7, routes.ORGANIZATION),
        ("/organization/new", 7, routes.ORGANIZATION),  # the create form is no workspace's
        ("/account", 7, routes.ORGANIZATION),
        ("", 7, routes.ORGANIZATION),
    ],
)
def test_switching_workspace_keeps_the_kind_of_page(path, organization_id, expected):
    assert workspace_destination(path, organization_id) == expected


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/organization", routes.ORGANIZATION),
        ("/organization/members/", routes.ORGANIZATION),
        ("/links", routes.LINKS),
        ("/files", routes.FILES),
        ("/account", routes.ACCOUNT),
        ("/tickets/TKT-001", routes.TICKETS),
        ("/organizations", ""),
        ("/login", ""),
        ("/", ""),
    ],
)
def test_the_top_bar_marks_the_section_of_the_page(path, section):
    assert nav_section(path) == section

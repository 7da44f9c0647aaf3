"""The role table of SPEC §3, row by row."""

import pytest

from orgportal.models import Role
from orgportal.services.permissions import Permission as P
from orgportal.services.permissions import has_permission

OW, A, B, G, V = Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER
SPEC = {
    P.VIEW: {OW, A, B, G, V},
    P.EDIT_ORGANIZATION: {OW, A},
    P.MANAGE_MEMBERS: {OW, A},
    P.MANAGE_BILLING: {OW, B},
    P.MANAGE_SUPPORT: {OW, A},
    P.HANDLE_TICKETS: {OW, A, G},
    P.CREATE_ITEMS: {OW, A, B, G},
    P.VIEW_AUDIT_LOG: {OW, A},
    P.DELETE_ORGANIZATION: {OW},
    P.TRANSFER_OWNERSHIP: {OW},
}


@pytest.mark.parametrize("permission", list(P))
def test_role_table_matches_spec(permission):
    allowed = {role for role in Role if has_permission(role, permission)}
    assert allowed == SPEC[permission]

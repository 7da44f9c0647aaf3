"""`/api/workspace-token`: end the workspace token a call is made with (SPEC §8).

Workspace tokens come from `POST /api/organizations/{id}/switch` and expire on their own
within the hour; a script done with one (or one that leaked) revokes it here at once.
"""

from orgportal.api.rest import schemas as s
from orgportal.api.rest.deps import Caller, rest_router
from orgportal.db import unit_of_work
from orgportal.services import workspace_tokens

router = rest_router("/workspace-token", "organizations")


@router.delete(
    "",
    summary="Revoke the workspace token this call is made with",
    description="Send the workspace token (`opw_…`) as the bearer. Called with an API key "
    "it is a 404 (no token to revoke): keys are revoked on the account page.",
)
def revoke_workspace_token(caller: Caller) -> s.MessageOut:
    with unit_of_work() as session:
        workspace_tokens.revoke(session, caller=caller)
    return s.MessageOut(message="Workspace token revoked")

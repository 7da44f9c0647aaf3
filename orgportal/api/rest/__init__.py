"""The REST API for scripts and plugins (SPEC §8), authenticated with API keys.

May import: `services`, `adapters`, `models`, `db`, `config` and the rest of `api`; never
Reflex states, views or pages.

`routers` are included by `orgportal.api.build_api()` under `/api`, next to the cookie,
webhook and public routes, and documented in `/api/openapi.json`.
"""

from orgportal.api.rest import (
    analytics,
    billing,
    custom_domains,
    invites,
    links,
    members,
    organizations,
    projects,
    tickets,
    workspace_tokens,
)

PREFIX = "/api"
routers = [
    # The polled reads first (no other GET route's path is theirs: test_rest_read_caches),
    # as routes are tried in order: each one tried before the match costs the request.
    organizations.hot,
    links.hot,
    analytics.hot,
    organizations.router,
    members.router,
    invites.router,
    links.router,
    projects.router,
    analytics.router,
    custom_domains.router,  # SPEC §15
    tickets.router,  # SPEC §17: for ticket handlers and keys with the Tickets scope
    billing.router,  # read only: every member, keys with the Billing (read) scope
    workspace_tokens.router,
]

"""The REST API for scripts and plugins (SPEC §8), authenticated with API keys.

`routers` are included by `orgportal.api.build_api()` under `/api`, next to the cookie,
webhook and public routes, and documented in `/api/openapi.json`.
"""

from orgportal.api.rest import invites, links, members, organizations

PREFIX = "/api"
routers = [organizations.router, members.router, invites.router, links.router]

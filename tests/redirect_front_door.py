"""The app's ASGI stack as `orgportal.orgportal` builds it, with a stand-in for Reflex's
own pages (404 "a page of the app"): Reflex mounts its app under the API
(`api_transformer=[build_api(), RootShortLinks]`) and the gateway, with host routing, is
in front. For redirect tests, in process or under uvicorn
(`uvicorn tests.redirect_front_door:app --factory`)."""

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from orgportal.api import build_api
from orgportal.api.content import RootShortLinks
from orgportal.api.gateway import Gateway


async def reflex_pages(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("a page of the app", status_code=404)(scope, receive, send)


def app() -> ASGIApp:
    api = build_api()
    api.mount("", reflex_pages)
    top = Starlette()
    top.mount("", RootShortLinks(api))
    return Gateway(top, host_routing=True)

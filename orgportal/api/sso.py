"""Single sign-on endpoints (SPEC §16): where identity providers send people back.

They end like a password sign-in: a ticket bound to this browser, redeemed at
`/api/auth/session` (303), which sets the session cookie. A refusal is a small page that
says why, with a way back. Every rule is in `services/sso.py`.
"""

from html import escape

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orgportal import routes
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import sso
from orgportal.services.errors import DomainError

router = APIRouter(prefix=routes.API_SSO, include_in_schema=False)


@router.get("/oidc/callback")
def oidc_callback(
    request: Request, state: str = "", code: str = "", error: str = "", error_description: str = ""
) -> Response:
    browser = request.cookies.get(settings.browser_cookie, "")
    try:
        with unit_of_work() as session:  # used up now, whatever follows
            claimed = sso.claim_login(session, state=state, browser=browser)
        with unit_of_work() as session:
            finished = sso.finish_oidc(
                session,
                claimed,
                code=code,
                error=" ".join(filter(None, (error, error_description)))[:200],
                browser=browser,
            )
    except DomainError as exc:
        return _refused(exc)
    return _go_on(finished)


@router.post("/saml/{organization_id}/acs")
def saml_acs(
    organization_id: int, SAMLResponse: str = Form(""), RelayState: str = Form("")
) -> Response:
    """The IdP's HTTP-POST binding (a cross-site form post: the gateway lets this one path
    through, and it carries none of our cookies). The browser check follows at
    `/api/sso/finish`, a same-site GET."""
    try:
        with unit_of_work() as session:
            finish = sso.accept_saml(
                session,
                organization_id=organization_id,
                saml_response=SAMLResponse,
                relay_state=RelayState,
            )
    except DomainError as exc:
        return _refused(exc)
    return RedirectResponse(f"{routes.SSO_FINISH}?code={finish}", status_code=303)


@router.get("/finish")
def finish(request: Request, code: str = "") -> Response:
    browser = request.cookies.get(settings.browser_cookie, "")
    try:
        with unit_of_work() as session:
            finished = sso.finish_saml(session, code=code, browser=browser)
    except DomainError as exc:
        return _refused(exc)
    return _go_on(finished)


@router.get("/saml/{organization_id}/metadata")
def saml_metadata(organization_id: int) -> Response:
    try:
        with unit_of_work() as session:
            xml = sso.sp_metadata(session, organization_id)
    except DomainError as exc:
        return Response(exc.message, status_code=exc.status, media_type="text/plain")
    return Response(xml, media_type="application/samlmetadata+xml")


def _go_on(finished: sso.Finished) -> Response:
    if finished.ticket:
        return RedirectResponse(
            routes.open_session(finished.ticket, finished.next_path), status_code=303
        )
    return RedirectResponse(f"{routes.ORG_SETTINGS}?sso_test=ok", status_code=303)


def _refused(exc: DomainError) -> Response:
    if isinstance(exc, sso.SsoRefused):
        with unit_of_work() as session:
            sso.record_refusal(session, exc)
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Single sign-on did not work</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;
color:#1c2024}}a{{color:#0d47a1}}</style></head>
<body><main><h1>Single sign-on did not work</h1>
<p role="alert">{escape(exc.message)}</p>
<p><a href="{routes.LOGIN}">Back to sign in</a></p></main></body></html>"""
    return HTMLResponse(body, status_code=400)

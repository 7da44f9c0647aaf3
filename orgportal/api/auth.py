"""Cookie endpoints: only an HTTP response can set or clear the HttpOnly session cookie."""

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from orgportal import routes
from orgportal.config import settings
from orgportal.db import unit_of_work
from orgportal.services import accounts, user_sessions
from orgportal.services.client_address import client_address
from orgportal.services.errors import InvalidToken

router = APIRouter(prefix=routes.API_AUTH, include_in_schema=False)


@router.get("/session")
def open_session(
    request: Request, ticket: str, next: str = routes.DEFAULT_AFTER_SIGN_IN
) -> Response:
    """Exchange the sign-in ticket a page received for a session cookie, then go on (a full
    page load). Only the browser the ticket was issued to (its nonce cookie) can redeem it.
    The pages use the POST below; this link stays for a page whose scripts cannot."""
    destination = accounts.safe_next(next)
    raw = _redeem(request, ticket)
    if raw is None:
        return RedirectResponse(routes.login_retry(destination), status_code=303)
    return _with_session_cookie(RedirectResponse(destination, status_code=303), raw)


@router.post("/session")
def open_session_in_page(request: Request, ticket: str = Form("")) -> Response:
    """The same exchange for the signed-in page itself (`fetch`, same origin: the gateway
    refuses any other `Origin`): 204 with the HttpOnly cookie, or 400. The page then opens
    its websocket again (its handshake carries the cookie) and changes page client-side,
    instead of loading the ticket link and then the destination."""
    raw = _redeem(request, ticket)
    if raw is None:
        return JSONResponse({"detail": accounts.SIGN_IN_LINK_FAILED}, status_code=400)
    return _with_session_cookie(Response(status_code=204), raw)


def _redeem(request: Request, ticket: str) -> str | None:
    """The new session's raw token, or None when the ticket is not good for this browser."""
    browser = request.cookies.get(settings.browser_cookie, "")
    try:
        with unit_of_work() as session:
            raw, user_session = accounts.open_session(session, ticket, browser=browser)
            user_sessions.record_client(  # for /account → Sessions
                user_session,
                user_agent=request.headers.get("user-agent", ""),
                address=client_address(
                    request.client.host if request.client else "",
                    ", ".join(request.headers.getlist("x-forwarded-for")),
                ),
            )
    except InvalidToken:
        return None
    return raw


def _with_session_cookie(response: Response, raw: str) -> Response:
    response.set_cookie(
        routes.SESSION_COOKIE,
        raw,
        max_age=settings.session_days * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """Revoke the session server-side (every open tab stops working) and drop the cookie."""
    with unit_of_work() as session:
        accounts.sign_out(session, request.cookies.get(routes.SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(routes.SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response

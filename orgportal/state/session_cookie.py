"""After a sign-in: the session cookie set, and the page that follows, without loading pages.

The HttpOnly cookie can only come from an HTTP response, and a websocket carries the cookies
of its handshake for its whole life. So a sign-in used to load the ticket link
(`GET /api/auth/session`, 303) and then the destination as new pages: a new document, every
script parsed again, a new websocket, the whole state sent again (0.6–0.7 s beyond
the password check on a quiet machine). Now the page itself posts the ticket
(`POST /api/auth/session`, same origin, bound to this browser's nonce cookie like the link),
then opens its websocket again (the new handshake carries the new cookie) while it changes
page client-side, and the destination's load event runs on the new websocket.

Reflex runs `rx.call_script` code with `eval` inside its event loop, where `socket` (this
page's Socket.IO client) and `navigate` (React Router's) are in scope. Where they are not
(another Reflex version) or the destination is not a page (a download link), the script
falls back to one full page load of the destination, still one load fewer than before.
"""

import json

import reflex as rx

from orgportal import routes

SCRIPT = """
(async (ticket, next, retry, inPage, socket, navigate) => {
  let opened = false;
  try {
    const answer = await fetch("/api/auth/session", {
      method: "POST", credentials: "same-origin", body: new URLSearchParams({ticket}),
    });
    opened = answer.status === 204;
  } catch (e) {}
  if (!opened) {
    window.location.assign(retry);
  } else if (inPage && socket && typeof socket.reconnect === "function"
             && typeof navigate === "function") {
    socket.disconnect();  // its handshake carried no session cookie
    socket.reconnect();  // a new handshake, with it (hydrating this page: no page load)
    navigate(next);  // meanwhile the route changes; its load event runs on the new socket
  } else {
    window.location.assign(next);
  }
})(%s, %s, %s, %s, typeof socket === "undefined" ? null : socket,
   typeof navigate === "undefined" ? null : navigate)
"""


def is_page(path: str) -> bool:
    """Whether `path` is one of the app's pages (the client-side router shows it), not a
    download, the API or a short link, which need a real page load."""
    segment = routes.first_segment(path.split("?", 1)[0])
    return segment == "" or (segment in routes.RESERVED_SEGMENTS and segment not in routes.SERVED)


def script(ticket: str, next_path: str) -> str:
    """The code of `open_session`, its values written as JSON (strings and a boolean)."""
    arguments = (ticket, next_path, routes.login_retry(next_path), is_page(next_path))
    return SCRIPT % tuple(json.dumps(a) for a in arguments)


def open_session(ticket: str, next_path: str) -> rx.event.EventSpec:
    """Redeem `ticket` for the session cookie from this page, then show `next_path`."""
    return rx.call_script(script(ticket, next_path))

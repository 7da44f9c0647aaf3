"""Fetch a page's scripts before the person goes there (page changes feel faster).

Each page of the app is its own script module, which imports further modules, which import
more: changing page client-side fetched them one level after another before the new page
could even render (a waterfall of about 0.15 s on a busy machine). Where an action is about
to lead to a known page (Sign in → the organization, Accept → the organization, Create
Ticket → the ticket's page), React Router's `PrefetchPageLinks` puts a `<link
rel="modulepreload">` for every module of that page into this one, so the browser fetches and
compiles them all at once, in advance; the page change then only runs them.

The links are rendered only once the page has loaded (Reflex's `is_hydrated`): in the
prerendered HTML they made the browser fetch the next page's modules (the sign-in page
fetched the whole organization pages' bundle, 250 KB) alongside this page's own, before
this page could work. Fetched after it, they still arrive while the person types.
"""

import reflex as rx


class PrefetchPageLinks(rx.Component):
    """React Router's `<PrefetchPageLinks page=…/>`: nothing visible; `page` is a path of
    the app (`/tickets/TKT-001` for the ticket page)."""

    library = "react-router"
    tag = "PrefetchPageLinks"

    page: rx.Var[str]


def prefetch_page(page: rx.Var[str] | str) -> rx.Component:
    """The page's modules, fetched once this page works."""
    return rx.cond(rx.State.is_hydrated, PrefetchPageLinks.create(page=page))

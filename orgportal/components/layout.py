"""The page frame: top bar with the profile menu (Switch Organization) and the mail banner.

The frame's layout and links are plain elements with static classes (`assets/layout.css`):
it is on every signed-in page, and Radix Themes layout and text components cost each page
their prop extraction and Emotion's run-time styles on every render (`page_load.py`). The
menus, which open and trap focus, stay Radix's.
"""

import reflex as rx
from reflex.components.react_router import ReactRouterLink

from orgportal import routes, styles
from orgportal.state.base import AppState, WorkspaceItem
from orgportal.views.two_factor import recovery_codes_banner


def _workspace_mark(workspace: WorkspaceItem) -> rx.Component:
    return rx.cond(
        workspace.id == AppState.active_org_id,
        rx.icon("check", size=14, aria_hidden="true"),
        rx.box(width="14px"),
    )


def _workspace_item(workspace: WorkspaceItem) -> rx.Component:
    return rx.menu.item(
        rx.hstack(_workspace_mark(workspace), rx.text(workspace.name), spacing="2"),
        on_select=AppState.switch_workspace(workspace.id, ""),
    )


def profile_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=AppState.user_initials, size="1", radius="full"),
                rx.text(AppState.active_workspace_name, size="2"),
                rx.icon("chevron_down", size=14),
                variant="ghost",
                aria_label="Profile menu",
            )
        ),
        rx.menu.content(
            rx.box(
                rx.text(AppState.user_name, weight="bold", size="2"),
                rx.text(AppState.user_email, size="1", color_scheme="gray"),
                padding="0.5em",
            ),
            rx.menu.separator(),
            rx.text(
                "Switch Organization",
                size="1",
                color_scheme="gray",
                weight="medium",
                padding_x="0.75em",
            ),
            rx.foreach(AppState.workspaces, _workspace_item),
            rx.menu.separator(),
            rx.menu.item("Create Organization", on_select=rx.redirect(routes.ORG_NEW)),
            rx.cond(
                AppState.caps.view_audit_log,
                rx.menu.item("Audit Log", on_select=rx.redirect(routes.AUDIT_LOG)),
            ),
            rx.menu.separator(),
            rx.menu.item("Sign out", color_scheme="red", on_select=AppState.sign_out),
        ),
    )


# The signed-in navigation: (label, path).
NAV = [
    ("Organization", routes.ORGANIZATION),
    ("Links", routes.LINKS),
    ("Projects", routes.PROJECTS),
    ("Analytics", routes.ANALYTICS),
    ("My Files", routes.FILES),
    ("Tickets", routes.TICKETS),
    ("Account", routes.ACCOUNT),
]


def route_link(label: str, path: str, class_name: str, **props) -> rx.Component:
    """A link within the app (client-side route change) that starts filling its page as
    it is followed, while the route's scripts load."""
    return ReactRouterLink.create(
        label, to=path, class_name=class_name, on_click=AppState.fill_ahead(path), **props
    )


def _nav_link(label: str, path: str) -> rx.Component:
    """A top-bar entry; the current page's is marked for screen readers (aria-current) and
    by weight and an underline bar, never by colour alone (`.op-nav-link`)."""
    here = AppState.current_section == path
    return route_link(label, path, "op-nav-link", aria_current=rx.cond(here, "page", "false"))


def _nav_entry(label: str, path: str, in_menu: bool = False) -> rx.Component:
    """A top-bar entry, left out where the viewer's role has no use for its page:
    Tickets for a member who does not handle them (Viewer, Billing Admin: the tickets
    service refuses them). In the Personal Workspace the Tickets page points to the
    organizations, so it stays."""
    link = _nav_link(label, path)
    if in_menu:  # the phone menu closes as its entry is followed
        link = rx.dialog.close(link)
    if path == routes.TICKETS:
        caps = AppState.caps
        return rx.cond((caps.role == "") | caps.handle_tickets, link)
    return link


# Read by screen readers, not shown.
VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "white_space": "nowrap",
}


def _approval_link(badge_id: str | None = None, in_menu: bool = False) -> rx.Component:
    """Owners/Admins: the link Approval queue, with how many links wait beside it (live,
    SPEC §14). The count sits outside the link, so the link's text keeps its contrast."""
    count = AppState.pending_approvals
    return rx.cond(
        AppState.caps.approve_links,
        rx.el.div(
            rx.dialog.close(_nav_link("Approval", routes.APPROVALS))
            if in_menu
            else _nav_link("Approval", routes.APPROVALS),
            rx.cond(
                count > 0,
                rx.badge(
                    count,
                    rx.el.span(" waiting for approval", style=VISUALLY_HIDDEN),
                    color_scheme="orange",
                    variant="solid",
                    high_contrast=True,
                    radius="full",
                    id=badge_id,
                ),
            ),
            class_name="op-nav-pair",
        ),
    )


def _desktop_nav() -> rx.Component:
    return rx.el.nav(
        rx.el.div(
            *[_nav_entry(label, path) for label, path in NAV],
            _approval_link(badge_id="approval-badge"),
            class_name="op-nav-list",
        ),
        aria_label="Main",
        class_name="op-nav",
    )


def _drawer_workspace(workspace: WorkspaceItem) -> rx.Component:
    """A workspace of the phone menu: switching closes the menu (the page may be filled in
    place, so no route change would close it)."""
    return rx.dialog.close(
        rx.button(
            _workspace_mark(workspace),
            rx.text(workspace.name, trim="both"),
            variant="ghost",
            color_scheme="gray",
            high_contrast=True,
            justify_content="flex-start",
            width="100%",
            on_click=AppState.switch_workspace(workspace.id, ""),
        )
    )


def _drawer_heading(text: str) -> rx.Component:
    return rx.text(text, size="1", weight="bold", color_scheme="gray", high_contrast=True)


def phone_menu() -> rx.Component:
    """Below the `md` breakpoint the top bar's nav and profile menu fold into this panel."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.icon_button(rx.icon("menu", size=20), variant="ghost", aria_label="Menu")
        ),
        rx.dialog.content(
            rx.vstack(
                rx.hstack(
                    rx.dialog.title("Menu", size="4", margin="0"),
                    rx.spacer(),
                    rx.dialog.close(
                        rx.icon_button(rx.icon("x", size=18), variant="ghost", aria_label="Close")
                    ),
                    width="100%",
                    align="center",
                ),
                rx.dialog.description(
                    AppState.user_name, " · ", AppState.user_email, size="1", color_scheme="gray"
                ),
                rx.el.nav(
                    rx.vstack(
                        *[_nav_entry(label, path, in_menu=True) for label, path in NAV],
                        _approval_link(in_menu=True),
                        spacing="2",
                        width="100%",
                        class_name="op-drawer-list",
                    ),
                    aria_label="Main",
                    width="100%",
                ),
                rx.separator(size="4"),
                _drawer_heading("Switch Organization"),
                rx.vstack(
                    rx.foreach(AppState.workspaces, _drawer_workspace),
                    rx.dialog.close(
                        rx.button(
                            "Create Organization",
                            variant="ghost",
                            justify_content="flex-start",
                            width="100%",
                            on_click=rx.redirect(routes.ORG_NEW),
                        )
                    ),
                    spacing="3",
                    width="100%",
                    padding_x="0.5em",
                ),
                rx.separator(size="4"),
                rx.button(
                    "Sign out", color_scheme="red", variant="soft", on_click=AppState.sign_out
                ),
                spacing="3",
                width="100%",
            ),
            position="fixed",
            top="0",
            right="0",
            height="100dvh",
            max_height="100dvh",
            width="min(20em, 88vw)",
            border_radius="0",
            overflow_y="auto",
        ),
    )


def top_bar() -> rx.Component:
    """The page's banner landmark (`header`): nothing of a page is outside a landmark."""
    return rx.el.header(_top_bar_row(), class_name="op-top")


def _top_bar_row() -> rx.Component:
    return rx.el.div(
        ReactRouterLink.create(
            rx.el.h1(styles.PRODUCT, class_name="op-brand-title"),
            to=routes.ORGANIZATION,
            class_name="op-brand",
        ),
        rx.cond(AppState.signed_in, _desktop_nav()),
        rx.el.div(class_name="op-spacer"),
        rx.cond(
            AppState.signed_in,
            rx.fragment(
                rx.el.div(profile_menu(), class_name="op-wide"),
                rx.el.div(phone_menu(), class_name="op-narrow"),
            ),
        ),
        class_name="op-top-row",
    )


def confirm_banner() -> rx.Component:
    return rx.cond(
        AppState.signed_in & ~AppState.email_confirmed,
        rx.callout(
            rx.hstack(
                rx.text(
                    "Please confirm your email address: we sent a link to ",
                    rx.text.strong(AppState.user_email),
                    ".",
                ),
                rx.button(
                    "Resend link",
                    size="1",
                    variant="solid",
                    high_contrast=True,
                    on_click=AppState.resend_confirmation,
                ),
                align="center",
            ),
            icon="mail",
            color_scheme="amber",
            high_contrast=True,
            width="100%",
        ),
    )


# "Skip to content" is the first thing Tab reaches on every page; it leads to the
# page's main landmark (focusable by script only, so the focus moves there, unoutlined).
MAIN_ID = "main-content"
MAIN_PROPS = {"id": MAIN_ID, "tab_index": -1}


def skip_link() -> rx.Component:
    """Off-screen until focused, then shown at the top left above everything (`.op-skip`)."""
    return rx.el.a(
        "Skip to content",
        href=f"#{MAIN_ID}",
        id="skip-link",
        class_name="op-skip",
        # Following the link scrolls to the landmark; Chrome leaves the focus where it was
        # (it only moves where the next Tab starts), so the landmark takes the focus too.
        on_click=rx.set_focus(MAIN_ID),
    )


def page_frame(*children: rx.Component) -> rx.Component:
    return rx.el.div(
        skip_link(),
        top_bar(),
        rx.el.main(
            rx.el.div(
                recovery_codes_banner(),  # after a sign-in with a recovery code
                confirm_banner(),
                *children,
                class_name="op-stack",
                # switched to another workspace without a page load: its forms
                # mount anew, so their inputs start from its values, not the last one's
                key=AppState.workspace_key,
            ),
            **MAIN_PROPS,
            class_name="op-main",
        ),
        class_name="op-page",
    )


# The organization's sub-pages, as the source documents lay them out: (label, path).
ORG_SECTIONS = [
    ("Overview", routes.ORGANIZATION),
    ("Members", routes.ORG_MEMBERS),
    ("Billing", routes.ORG_BILLING),
    ("Support", routes.ORG_SUPPORT),
    ("Domains", routes.ORGANIZATION_DOMAINS),  # SPEC §15
    ("Webhooks", routes.ORG_WEBHOOKS),  # SPEC §17
    ("Settings", routes.ORG_SETTINGS),
]


def section_link(label: str, path: str, current: str, nowrap: bool = False) -> rx.Component:
    """An entry of a section nav (the organization's sidebar, the account's sections); the
    current page is marked for screen readers (aria-current) and by weight, background and a
    bar, never by colour alone (`.op-section-link`)."""
    here = {"aria_current": "page"} if path == current else {}
    classes = "op-section-link op-nowrap" if nowrap else "op-section-link"
    return route_link(label, path, classes, **here)


def organization_sidebar(current: str) -> rx.Component:
    """Beside the content on a wide screen; above it, its entries wrapping, on a phone."""
    return rx.el.nav(
        rx.el.p(AppState.active_workspace_name, class_name="op-side-title"),
        rx.el.div(
            *[section_link(label, path, current) for label, path in ORG_SECTIONS],
            rx.cond(
                AppState.caps.view_audit_log,
                section_link("Audit Log", routes.AUDIT_LOG, current),
            ),
            class_name="op-side-list",
        ),
        aria_label="Organization",
        class_name="op-side",
    )


def _no_organization() -> rx.Component:
    return rx.callout(
        rx.text(
            "You are in your Personal Workspace. ",
            rx.link("Create an organization", href=routes.ORG_NEW, underline="always"),
            " or switch to one in the profile menu.",
        ),
        icon="info",
        width="100%",
    )


def organization_frame(current: str, *children: rx.Component) -> rx.Component:
    """A page of the active organization: the sidebar of its sub-pages beside the content."""
    return page_frame(
        rx.cond(
            AppState.page_ready,
            rx.cond(
                AppState.active_org_id == 0,
                _no_organization(),
                rx.el.div(
                    organization_sidebar(current),
                    rx.el.div(*children, class_name="op-stack op-fill"),
                    class_name="op-split",
                ),
            ),
            rx.el.div(rx.spinner(size="3"), class_name="op-busy"),
        ),
    )


# The account's sections, in the nav's order: (label, path).
ACCOUNT_SECTIONS = [
    ("Profile", routes.ACCOUNT_PROFILE),
    ("Sign-in & security", routes.ACCOUNT_SECURITY),
    ("Sessions", routes.ACCOUNT_SESSIONS),
    ("Plan", routes.ACCOUNT_PLAN),
    ("Notifications", routes.ACCOUNT_NOTIFICATIONS),
]


def account_nav(current: str) -> rx.Component:
    """Beside the section on a wide screen; above it, its entries wrapping, on a phone."""
    return rx.el.nav(
        rx.el.div(
            *[section_link(label, path, current, nowrap=True) for label, path in ACCOUNT_SECTIONS],
            class_name="op-side-list",
        ),
        aria_label="Account",
        class_name="op-side op-side-wide",
    )


def account_frame(current: str, *children: rx.Component) -> rx.Component:
    """A section of /account: the account's name and email, its section nav beside the
    content."""
    return page_frame(
        rx.vstack(
            rx.heading("Account", size="6"),
            rx.text(AppState.user_name, " · ", AppState.user_email, size="2", color_scheme="gray"),
            spacing="1",
        ),
        rx.el.div(
            account_nav(current),
            rx.el.div(*children, class_name="op-stack op-fill"),
            class_name="op-split",
        ),
    )


def brand() -> rx.Component:
    """The product's name and mark, linking home (sign-in, register, invitation, 404)."""
    return ReactRouterLink.create(
        rx.icon("building-2", size=24, aria_hidden="true"),
        rx.el.span(styles.PRODUCT, class_name="op-brand-name"),
        to=routes.HOME,
        class_name="op-brand op-brand-mark",
        id="brand",
    )


def centered_card(*children: rx.Component, conversation: bool = False) -> rx.Component:
    """A signed-out page: the brand over one card, in the `main` landmark; as wide as a
    conversation, not a form, for a page that reads more than it asks (a ticket's)."""
    return rx.fragment(skip_link(), _centered_main(*children, conversation=conversation))


def _centered_main(*children: rx.Component, conversation: bool = False) -> rx.Component:
    width = "op-conversation-width" if conversation else "op-form-width"
    return rx.el.main(
        rx.el.div(
            brand(),
            rx.card(
                rx.el.div(*children, class_name="op-stack"),
                width="100%",
                size=rx.breakpoints(initial="2", sm="3"),
            ),
            class_name=f"op-centered {width}",
        ),
        **MAIN_PROPS,
        class_name="op-centered-main",
    )

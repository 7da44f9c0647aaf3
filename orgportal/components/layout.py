"""The page frame: top bar with the profile menu (Switch Organization) and the mail banner."""

import reflex as rx

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


def _nav_link(label: str, path: str, **props) -> rx.Component:
    """A top-bar entry; the current page's is marked for screen readers (aria-current) and
    by weight and an underline bar, never by colour alone."""
    here = AppState.current_section == path
    return rx.link(
        label,
        href=path,
        size="2",
        weight=rx.cond(here, "bold", "medium"),
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_current=rx.cond(here, "page", "false"),
        padding_y="0.3em",
        border_bottom=rx.cond(here, "2px solid var(--accent-9)", "2px solid transparent"),
        _hover={"color": "var(--gray-12)", "text_decoration": "underline"},
        on_click=AppState.fill_ahead(path),  # the page fills while its route loads
        **props,
    )


def _nav_entry(label: str, path: str, in_menu: bool = False, **props) -> rx.Component:
    """A top-bar entry, left out where the viewer's role has no use for its page:
    Tickets for a member who does not handle them (Viewer, Billing Admin: the tickets
    service refuses them). In the Personal Workspace the Tickets page points to the
    organizations, so it stays."""
    link = _nav_link(label, path, **props)
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


def _approval_link(badge_id: str | None = None, in_menu: bool = False, **props) -> rx.Component:
    """Owners/Admins: the link Approval queue, with how many links wait beside it (live,
    SPEC §14). The count sits outside the link, so the link's text keeps its contrast."""
    count = AppState.pending_approvals
    return rx.cond(
        AppState.caps.approve_links,
        rx.hstack(
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
            spacing="1",
            align="center",
            **props,
        ),
    )


def _desktop_nav() -> rx.Component:
    return rx.el.nav(
        rx.hstack(
            *[_nav_entry(label, path) for label, path in NAV],
            _approval_link(badge_id="approval-badge"),
            spacing="4",
        ),
        aria_label="Main",
        padding_left="1.5em",
        display=styles.WIDE_ONLY,
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
                        *[
                            _nav_entry(label, path, in_menu=True, width="100%")
                            for label, path in NAV
                        ],
                        _approval_link(in_menu=True, width="100%"),
                        spacing="2",
                        width="100%",
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
    return rx.el.header(_top_bar_row(), width="100%")


def _top_bar_row() -> rx.Component:
    return rx.hstack(
        rx.link(rx.heading(styles.PRODUCT, size="5"), href=routes.ORGANIZATION, underline="none"),
        rx.cond(AppState.signed_in, _desktop_nav()),
        rx.spacer(),
        rx.cond(
            AppState.signed_in,
            rx.fragment(
                rx.box(profile_menu(), display=styles.WIDE_ONLY),
                rx.box(phone_menu(), display=styles.NARROW_ONLY),
            ),
        ),
        padding_x=styles.PAGE_PADDING,
        padding_y="0.75em",
        border_bottom="1px solid var(--gray-a5)",
        align="center",
        width="100%",
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
MAIN_PROPS = {"id": MAIN_ID, "tab_index": -1, "_focus": {"outline": "none"}}


def skip_link() -> rx.Component:
    """Off-screen until focused, then shown at the top left above everything."""
    return rx.el.a(
        "Skip to content",
        href=f"#{MAIN_ID}",
        id="skip-link",
        position="absolute",
        left="0.5em",
        top="-10em",
        z_index="1000",
        padding="0.5em 1em",
        border_radius="var(--radius-2)",
        background="var(--gray-12)",
        color="var(--gray-1)",
        font_weight="500",
        text_decoration="underline",
        _focus={"top": "0.5em", "outline": "2px solid var(--accent-9)", "outline_offset": "2px"},
        # Following the link scrolls to the landmark; Chrome leaves the focus where it was
        # (it only moves where the next Tab starts), so the landmark takes the focus too.
        on_click=rx.set_focus(MAIN_ID),
    )


def page_frame(*children: rx.Component) -> rx.Component:
    return rx.vstack(
        skip_link(),
        top_bar(),
        rx.el.main(
            rx.vstack(
                recovery_codes_banner(),  # after a sign-in with a recovery code
                confirm_banner(),
                *children,
                spacing="4",
                width="100%",
                # switched to another workspace without a page load: its forms
                # mount anew, so their inputs start from its values, not the last one's
                key=AppState.workspace_key,
            ),
            **MAIN_PROPS,
            width="100%",
            max_width=styles.PAGE_MAX_WIDTH,
            padding=styles.PAGE_PADDING,
            margin_x="auto",
            min_width="0",
        ),
        width="100%",
        spacing="0",
        min_height="100vh",
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


def section_link(label: str, path: str, current: str, **props) -> rx.Component:
    """An entry of a section nav (the organization's sidebar, the account's sections); the
    current page is marked for screen readers (aria-current) and by weight, background and a
    bar, never by colour alone."""
    here = path == current
    return rx.link(
        label,
        href=path,
        size="2",
        weight="bold" if here else "medium",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_current="page" if here else None,
        padding_x="0.75em",
        padding_y="0.4em",
        border_radius="var(--radius-2)",
        border_left="3px solid var(--accent-9)" if here else "3px solid transparent",
        background="var(--gray-a3)" if here else "transparent",
        _hover={"color": "var(--gray-12)", "background": "var(--gray-a4)"},
        **props,
        width=rx.breakpoints(initial="auto", md="100%"),
        on_click=AppState.fill_ahead(path),  # the page fills while its route loads
    )


def organization_sidebar(current: str) -> rx.Component:
    """Beside the content on a wide screen; above it, its entries wrapping, on a phone."""
    return rx.el.nav(
        rx.vstack(
            rx.text(AppState.active_workspace_name, weight="bold", size="2", padding_x="0.75em"),
            rx.flex(
                *[section_link(label, path, current) for label, path in ORG_SECTIONS],
                rx.cond(
                    AppState.caps.view_audit_log,
                    section_link("Audit Log", routes.AUDIT_LOG, current),
                ),
                direction=rx.breakpoints(initial="row", md="column"),
                wrap="wrap",
                gap="1",
                width="100%",
            ),
            spacing="1",
            width="100%",
        ),
        aria_label="Organization",
        width=rx.breakpoints(initial="100%", md="12em"),
        flex_shrink="0",
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
                rx.flex(
                    organization_sidebar(current),
                    rx.vstack(*children, spacing="4", width="100%", min_width="0"),
                    direction=rx.breakpoints(initial="column", md="row"),
                    gap="1.5em",
                    width="100%",
                ),
            ),
            rx.center(rx.spinner(size="3"), padding="4em", width="100%"),
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
        rx.flex(
            *[
                section_link(label, path, current, white_space="nowrap")
                for label, path in ACCOUNT_SECTIONS
            ],
            direction=rx.breakpoints(initial="row", md="column"),
            wrap="wrap",
            gap="1",
            width="100%",
        ),
        aria_label="Account",
        width=rx.breakpoints(initial="100%", md="13em"),
        flex_shrink="0",
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
        rx.flex(
            account_nav(current),
            rx.vstack(*children, spacing="4", width="100%", min_width="0"),
            direction=rx.breakpoints(initial="column", md="row"),
            gap="1.5em",
            width="100%",
        ),
    )


def brand() -> rx.Component:
    """The product's name and mark, linking home (sign-in, register, invitation, 404)."""
    return rx.link(
        rx.hstack(
            rx.icon("building-2", size=24, aria_hidden="true"),
            rx.text(styles.PRODUCT, size="6", weight="bold"),
            align="center",
            spacing="2",
        ),
        href=routes.HOME,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        id="brand",
    )


def centered_card(*children: rx.Component, max_width: str = styles.FORM_MAX_WIDTH) -> rx.Component:
    """A signed-out page: the brand over one card, in the `main` landmark; `max_width` wider
    than a form's for a page that reads more than it asks (a ticket's conversation)."""
    return rx.fragment(skip_link(), _centered_main(*children, max_width=max_width))


def _centered_main(*children: rx.Component, max_width: str = styles.FORM_MAX_WIDTH) -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.vstack(
                brand(),
                rx.card(
                    rx.vstack(*children, spacing="4", width="100%"),
                    width="100%",
                    size=rx.breakpoints(initial="2", sm="3"),
                ),
                align="center",
                spacing="4",
                width="100%",
                max_width=max_width,
            ),
            min_height="100vh",
            padding="1em",
        ),
        **MAIN_PROPS,
    )

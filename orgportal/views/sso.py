"""The Single sign-on card of /organization/settings (SPEC §16, Owner/Admin): connect the
identity provider (OpenID Connect or SAML 2.0), copy the values the IdP asks for, Test
connection, then Enforce SSO."""

import reflex as rx

from orgportal.components.confirm import confirm_button
from orgportal.components.forms import field_error, native_select, text_area_field, text_field
from orgportal.state.sso import MAX_METADATA_BYTES, SsoSettingsState

S = SsoSettingsState
LABEL = "rt-Text rt-r-size-2 rt-r-weight-medium"
METADATA_UPLOAD_ID = "sso-metadata-upload"


def _copyable(label: str, value, copied: str) -> rx.Component:
    """A value to paste into the IdP, with its own Copy button."""
    return rx.fragment(
        rx.el.dt(label, class_name=LABEL),
        rx.el.dd(
            rx.hstack(
                rx.code(value, style={"overflow_wrap": "anywhere"}),
                rx.icon_button(
                    rx.icon("copy", size=14, aria_hidden="true"),
                    size="1",
                    variant="ghost",
                    aria_label=f"Copy {label}",
                    title="Copy",
                    on_click=[rx.set_clipboard(value), rx.toast.success(copied)],
                    type="button",
                ),
                align="center",
                spacing="2",
            ),
            style={"margin": "0 0 0.5em 0"},
        ),
    )


def _oidc() -> rx.Component:
    return rx.vstack(
        rx.text(
            "In your identity provider, create an OpenID Connect (web) application with:", size="2"
        ),
        rx.el.dl(
            _copyable("Redirect URI", S.redirect_uri, "Redirect URI copied."),
            style={"margin": "0"},
        ),
        rx.form(
            rx.vstack(
                text_field(
                    "Issuer URL",
                    "oidc_issuer",
                    S.sso_errors,
                    default_value=S.oidc_issuer,
                    placeholder="https://login.acme.com",
                ),
                text_field(
                    "Client ID", "oidc_client_id", S.sso_errors, default_value=S.oidc_client_id
                ),
                text_field(
                    "Client secret",
                    "oidc_client_secret",
                    S.sso_errors,
                    type="password",
                    auto_complete="off",
                    placeholder=rx.cond(S.has_client_secret, "Saved: leave blank to keep it", ""),
                ),
                rx.button("Save OpenID Connect", type="submit"),
                spacing="2",
                width="100%",
            ),
            key=S.sso_key,
            on_submit=S.save_oidc,
            reset_on_submit=False,
            aria_label="OpenID Connect",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def _saml() -> rx.Component:
    return rx.vstack(
        rx.text("In your identity provider, create a SAML 2.0 application with:", size="2"),
        rx.el.dl(
            _copyable("ACS URL", S.acs_url, "ACS URL copied."),
            _copyable("Entity ID", S.entity_id, "Entity ID copied."),
            style={"margin": "0"},
        ),
        rx.text(
            "Send the email address as NameID or as an email attribute, and sign the assertion.",
            size="2",
        ),
        rx.cond(
            S.saml_idp_entity_id != "",
            rx.text("Connected identity provider: ", rx.code(S.saml_idp_entity_id), size="2"),
        ),
        rx.form(
            rx.vstack(
                text_field(
                    "IdP metadata URL",
                    "saml_metadata_url",
                    S.sso_errors,
                    default_value=S.saml_metadata_url,
                    placeholder="https://idp.acme.com/metadata.xml",
                ),
                text_area_field(
                    "Or paste the IdP metadata XML",
                    "saml_metadata",
                    S.sso_errors,
                    rows="4",
                ),
                rx.button("Save SAML", type="submit"),
                spacing="2",
                width="100%",
            ),
            key=S.sso_key,
            on_submit=S.save_saml,
            reset_on_submit=False,
            aria_label="SAML 2.0",
            width="100%",
        ),
        # the label around it names the file input the drop zone makes (axe: label)
        rx.el.label(
            rx.upload.root(
                rx.hstack(
                    rx.icon("upload", size=16, aria_hidden="true"),
                    rx.text("Or upload the metadata file (XML)", size="2"),
                ),
                id=METADATA_UPLOAD_ID,
                accept={"application/xml": [".xml"], "text/xml": [".xml"]},
                max_files=1,
                max_size=MAX_METADATA_BYTES,
                multiple=False,
                on_drop=S.upload_metadata(rx.upload_files(upload_id=METADATA_UPLOAD_ID)),
                border="1px dashed var(--gray-a7)",
                padding="0.75em",
                border_radius="8px",
                width="100%",
                cursor="pointer",
            ),
            style={"display": "block", "width": "100%"},
        ),
        spacing="2",
        width="100%",
    )


def _test_and_enforce() -> rx.Component:
    return rx.vstack(
        rx.heading("Test and enforce", size="3", as_="h4"),
        rx.cond(
            S.test_notice != "",
            rx.callout(
                S.test_notice,
                icon="circle_check",
                color_scheme="green",
                role="status",
                width="100%",
            ),
        ),
        rx.text(
            "Test connection signs someone in at your identity provider (you may use any "
            "account at a verified company domain). Nobody is signed in here by it.",
            size="2",
        ),
        rx.cond(S.tested != "", rx.text(S.tested, size="2", id="sso-tested")),
        rx.hstack(
            rx.button("Test connection", on_click=S.test_connection, variant="soft", type="button"),
            rx.cond(
                S.enforced,
                rx.button(
                    "Stop enforcing SSO",
                    on_click=S.set_enforced(False),
                    variant="soft",
                    color_scheme="gray",
                    type="button",
                ),
                rx.button(
                    "Enforce SSO",
                    on_click=S.set_enforced(True),
                    disabled=S.tested == "",
                    type="button",
                ),
            ),
            confirm_button(
                "Remove single sign-on",
                size="2",
                variant="soft",
                title="Remove single sign-on",
                description="People sign in with their passwords again. The connection settings are deleted.",
                confirm_label="Remove",
                on_confirm=S.remove_sso,
            ),
            wrap="wrap",
            spacing="2",
        ),
        rx.cond(
            S.enforced,
            rx.text(
                "Enforced: people at ",
                rx.text.strong(S.sso_domains),
                " sign in with SSO only. The Owner keeps a password sign-in for emergencies "
                "(break-glass, recorded in the audit log).",
                size="2",
                id="sso-enforced",
            ),
            rx.text(
                rx.cond(
                    S.sso_domains != "",
                    "Enforcing covers the verified company domains: "
                    + S.sso_domains
                    + ". Their people who signed in with a password or a passkey are "
                    "signed out and sign in again with SSO.",
                    "Enforcing needs a verified company domain (see Company domains).",
                ),
                size="2",
            ),
        ),
        spacing="2",
        width="100%",
    )


def sso_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Single sign-on", size="4"),
            rx.text(
                "People at your verified company domains sign in through your identity "
                "provider (Okta, Entra ID, Google Workspace…). Their account is made on first "
                "sign-in, with the join-by-domain role.",
                size="2",
            ),
            rx.cond(
                S.sso_available,
                rx.fragment(
                    rx.vstack(
                        rx.el.label("Protocol", html_for="field-sso-protocol", class_name=LABEL),
                        native_select(
                            rx.el.option("OpenID Connect", value="oidc"),
                            rx.el.option("SAML 2.0", value="saml"),
                            id="field-sso-protocol",
                            value=S.sso_choice,
                            on_change=S.choose_protocol,
                        ),
                        spacing="1",
                    ),
                    field_error(S.sso_errors, "sso"),
                    rx.cond(S.sso_choice == "saml", _saml(), _oidc()),
                    rx.cond(S.sso_protocol != "", _test_and_enforce()),
                ),
                rx.callout(
                    S.sso_locked_reason,
                    icon="lock",
                    color_scheme="gray",
                    width="100%",
                    id="sso-locked",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="sso-card",
    )

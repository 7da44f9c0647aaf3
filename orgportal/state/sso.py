"""Single sign-on (SPEC §16), two thin states over `services/sso.py`:

- `SsoSettingsState`: the Single sign-on card on /organization/settings (Owner/Admin):
  OpenID Connect or SAML set-up, the values to paste into the IdP, Test connection, Enforce
  SSO; locked below Unlimited.
- `SsoSignInState`: "Continue with SSO" on /login: the work email, then off to the IdP.

Going to the IdP is a full page load (`window.location.assign`): the IdP is another site,
and the way back ends at `/api/auth/session` like any sign-in.
"""

import asyncio
import json
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal import formatting
from orgportal.services import accounts, client_limits, sso
from orgportal.services.accounts import Viewer
from orgportal.state.base import AppState, run_signed_out
from orgportal.state.event_threads import in_thread
from orgportal.state.outcome import Form

MAX_METADATA_BYTES = 512 * 1024


def go_to(url: str) -> rx.event.EventSpec:
    """A full page load of `url` (another site: the identity provider)."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


class SsoSettingsState(AppState):
    sso_available: bool = False
    sso_locked_reason: str = ""
    sso_protocol: str = ""  # "", "oidc" or "saml": what is saved
    sso_choice: str = "oidc"  # the protocol tab shown
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    has_client_secret: bool = False
    saml_metadata_url: str = ""
    saml_idp_entity_id: str = ""
    redirect_uri: str = ""
    entity_id: str = ""
    acs_url: str = ""
    sp_metadata_url: str = ""
    tested: str = ""  # "Last successful test: …" or ""
    enforced: bool = False
    sso_domains: str = ""  # the verified company domains, as words
    sso_errors: dict[str, str] = {}
    sso_key: int = 0
    OIDC_FORM: ClassVar[Form] = Form(
        errors="sso_errors",
        general="sso",
        key="sso_key",
        names={"issuer": "oidc_issuer", "client_id": "oidc_client_id",
               "client_secret": "oidc_client_secret"},
    )  # fmt: skip
    SAML_FORM: ClassVar[Form] = Form(
        errors="sso_errors",
        general="sso",
        key="sso_key",
        names={"metadata_url": "saml_metadata_url", "metadata": "saml_metadata"},
    )

    def _load(self, session: Session, viewer: Viewer) -> None:
        org_id = viewer.session.active_org_id
        if not org_id or not self.caps.edit_organization:
            self.sso_available, self.sso_locked_reason = False, ""
            return
        current = sso.get_settings(session, user=viewer.user, organization_id=org_id)
        self.sso_available, self.sso_locked_reason = current.available, current.locked_reason
        if current.protocol != self.sso_protocol:
            self.sso_key += 1
        self.sso_protocol = current.protocol
        if current.protocol:
            self.sso_choice = current.protocol
        self.oidc_issuer, self.oidc_client_id = current.oidc_issuer, current.oidc_client_id
        self.has_client_secret = current.has_client_secret
        self.saml_metadata_url = current.saml_metadata_url
        self.saml_idp_entity_id = current.saml_idp_entity_id
        self.redirect_uri, self.entity_id = current.redirect_uri, current.entity_id
        self.acs_url, self.sp_metadata_url = current.acs_url, current.sp_metadata_url
        self.tested = (
            f"Last successful test: {formatting.date_time(current.tested_at)}."
            if current.tested_at
            else ""
        )
        self.enforced = current.enforced
        self.sso_domains = ", ".join(current.domains)

    @rx.event
    def choose_protocol(self, value: str):
        self.sso_choice = value if value in ("oidc", "saml") else "oidc"
        self.sso_errors = {}

    @rx.event
    def save_oidc(self, form: dict):
        return self._act(
            sso.save_oidc,
            form=self.OIDC_FORM,
            done="OpenID Connect saved. Run Test connection next.",
            issuer=str(form.get("oidc_issuer", "")),
            client_id=str(form.get("oidc_client_id", "")),
            client_secret=str(form.get("oidc_client_secret", "")),
        ).events

    @rx.event
    def save_saml(self, form: dict):
        metadata = str(form.get("saml_metadata", ""))
        if len(metadata.encode()) > MAX_METADATA_BYTES:
            self.sso_errors = {"saml_metadata": "The metadata is too large (512 KB at most)."}
            return None
        return self._act(
            sso.save_saml,
            form=self.SAML_FORM,
            done="SAML saved. Run Test connection next.",
            metadata_xml=metadata,
            metadata_url=str(form.get("saml_metadata_url", "")),
        ).events

    @rx.event
    async def upload_metadata(self, files: list[rx.UploadFile]):
        """The IdP's metadata file (uploaded), saved like pasted XML."""
        if not files:
            return None
        data = await files[0].read()
        if len(data) > MAX_METADATA_BYTES:
            self.sso_errors = {"saml_metadata": "The metadata is too large (512 KB at most)."}
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.sso_errors = {"saml_metadata": "The file is not UTF-8 XML."}
            return None
        saved = await in_thread(
            self._act,
            sso.save_saml,
            form=self.SAML_FORM,
            done="SAML saved from the uploaded metadata. Run Test connection next.",
            metadata_xml=text,
        )
        return saved.events

    @rx.event
    def test_connection(self):
        browser = self._browser_nonce()
        outcome = self._act(sso.start_test, reload=False, browser=browser)
        if not outcome.ok:
            return outcome.events
        return go_to(outcome.value)

    @rx.event
    def set_enforced(self, enforced: bool):
        return self._act(
            sso.set_enforced,
            done="Enforce SSO is on." if enforced else "Enforce SSO is off.",
            enforced=bool(enforced),
        ).events

    @rx.event
    def remove_sso(self):
        return self._act(sso.remove, done="Single sign-on removed.").events

    @rx.var
    def test_notice(self) -> str:
        """After Test connection the IdP sends the Owner/Admin back here (`?sso_test=ok`)."""
        if self.router.url.query_parameters.get("sso_test") == "ok":
            return "Test connection succeeded: the identity provider signed someone in."
        return ""


class SsoSignInState(AppState):
    """ "Continue with SSO" on the sign-in page (its own small form beside the password's)."""

    sso_open: bool = False
    sso_error: str = ""

    @rx.event
    def open_sso(self):
        self.sso_open, self.sso_error = True, ""

    @rx.event
    def close_sso(self):
        self.sso_open, self.sso_error = False, ""

    @rx.event
    async def continue_with_sso(self, form: dict):
        """Reads the IdP's discovery document (OIDC) on the way: in a worker thread, so a
        slow IdP does not hold up the event loop."""
        self.sso_error = ""
        browser = self._browser_nonce()
        next_path = accounts.safe_next(self.router.url.query_parameters.get("next"))
        outcome = await asyncio.to_thread(
            run_signed_out,
            lambda session: sso.start_sign_in(
                session, email=str(form.get("sso_email", "")), browser=browser,
                next_path=next_path,
            ),
            # an address over its sign-in failure limit waits, as for a password
            around=client_limits.sign_in_attempt(self._client_address()),
        )  # fmt: skip
        if not outcome.ok:
            refusal = outcome.refusal
            errors = getattr(refusal, "errors", None)
            self.sso_error = next(iter(errors.values())) if errors else refusal.message
            return None
        return go_to(outcome.value)

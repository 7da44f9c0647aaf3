"""Single sign-on per organization (SPEC §16, Unlimited plan): set-up, "Test connection",
"Continue with SSO", just-in-time accounts and "Enforce SSO".

An Owner/Admin connects the organization's identity provider, by OpenID Connect
(`sso_oidc.py`: issuer, client id and secret) or SAML 2.0 (`sso_saml.py`: the IdP's
metadata, by URL or upload). Secrets are sealed (`secret_box`). Changing the connection
clears its last test and turns enforcement off: enforcement needs a test sign-in that
succeeded with the settings in force.

A sign-in (`start_sign_in`, from the email's verified company domain) or a test
(`start_test`) is an `SsoLogin` row: its random state (OIDC `state`, SAML `RelayState`) is
stored hashed, it is bound to the browser that started it (the sign-in nonce cookie, as
sign-in tickets are) and used once, within 10 minutes. Coming back:

- OIDC: the callback (a top-level GET, so the browser's cookie comes with it) claims the
  row (`claim_login`, its own transaction: a refused answer still uses it up), then
  `finish_oidc` exchanges the code and checks the id token.
- SAML: the IdP POSTs cross-site, without our cookies; `accept_saml` verifies the response,
  remembers the assertion ID, signs the person in just-in-time and hands back a one-time
  finish code; `finish_saml` (a GET on our site, with the cookie) checks the browser.

Either way the person gets a sign-in ticket bound to their browser, redeemed at
`/api/auth/session` like a password sign-in's, so the session cookie is set the same way.

Just in time: the identity's address must be at one of the organization's verified company
domains (an IdP vouches only for its own organization's people). The account is found by
the IdP's subject (then by address) or created confirmed; the IdP's name and address
update it; a member is added with the join-by-domain default role, taking a seat.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from orgportal import routes, security
from orgportal.config import settings
from orgportal.db import mark_usage_changed
from orgportal.models import (
    CompanyDomain,
    CompanyJoinSettings,
    DomainStatus,
    Membership,
    Organization,
    Role,
    SamlAssertionSeen,
    SsoConnection,
    SsoIdentity,
    SsoLogin,
    SsoProtocol,
    User,
    UserSession,
)
from orgportal.models.base import utcnow
from orgportal.services import (
    accounts,
    audit,
    company_domains,
    plans,
    seats,
    secret_box,
    sso_enforcement,
    sso_oidc,
    sso_saml,
    usage_counters,
)
from orgportal.services.errors import (
    Conflict,
    DomainError,
    InvalidToken,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.permissions import Permission, require
from orgportal.services.sso_oidc import Identity
from orgportal.services.validation import FieldError, normalize_email

LOGIN_TTL = timedelta(minutes=10)
FINISH_TTL = timedelta(minutes=2)
PROTOCOL_LABELS = {SsoProtocol.OIDC: "OpenID Connect", SsoProtocol.SAML: "SAML 2.0"}
START_AGAIN = "Please start the sign-in again."


class SsoLocked(PermissionDenied):
    def __init__(self) -> None:
        names = " and ".join(plan.name for plan in plans.plans_with(plans.IDENTITY))
        plural = "plans" if " and " in names else "plan"
        super().__init__(f"Single sign-on is available on the {names} {plural}.")


class SsoRefused(DomainError):
    """A sign-in that cannot go on; the message says why (shown on the page that follows).
    `organization_id`, when known, is whose audit log records it (`record_refusal`)."""

    def __init__(self, message: str, organization_id: int | None = None) -> None:
        super().__init__(message)
        self.organization_id = organization_id


@dataclass(frozen=True)
class SsoSettings:
    """What the Single sign-on card shows."""

    available: bool
    locked_reason: str
    protocol: str  # "" when not set up
    oidc_issuer: str
    oidc_client_id: str
    has_client_secret: bool
    saml_metadata_url: str
    saml_idp_entity_id: str
    redirect_uri: str  # OIDC: paste into the IdP
    entity_id: str  # SAML: paste into the IdP
    acs_url: str
    sp_metadata_url: str
    tested_at: datetime | None
    enforced: bool
    domains: list[str]  # the verified company domains it covers


@dataclass(frozen=True)
class ClaimedLogin:
    """A sign-in back from the IdP, claimed (used up) by this browser."""

    id: int
    organization_id: int
    protocol: str
    nonce: str
    code_verifier: str
    next_path: str
    test_by_id: int | None


@dataclass(frozen=True)
class Finished:
    """Where the browser goes next: a sign-in ticket to redeem, or back to the set-up card
    after a test (`test_email`: who the IdP said signed in)."""

    organization_id: int
    ticket: str = ""
    next_path: str = routes.DEFAULT_AFTER_SIGN_IN
    test_email: str = ""


# --- addresses ----------------------------------------------------------------------------------


def redirect_uri() -> str:
    return f"{settings.public_url}{routes.SSO_OIDC_CALLBACK}"


def service_provider(organization_id: int) -> sso_saml.ServiceProvider:
    return sso_saml.ServiceProvider(
        entity_id=f"{settings.public_url}{routes.sso_saml_metadata(organization_id)}",
        acs_url=f"{settings.public_url}{routes.sso_saml_acs(organization_id)}",
    )


# --- set-up (Owner/Admin) -------------------------------------------------------------------


def is_available(session: Session, organization: Organization) -> bool:
    return plans.IDENTITY in plans.organization_plan(session, organization).features


def get_settings(session: Session, *, user: User, organization_id: int) -> SsoSettings:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    available = is_available(session, organization)
    row = session.get(SsoConnection, organization_id)
    sp = service_provider(organization_id)
    return SsoSettings(
        available=available,
        locked_reason="" if available else SsoLocked().message,
        protocol=_protocol(row),
        oidc_issuer=row.oidc_issuer if row else "",
        oidc_client_id=row.oidc_client_id if row else "",
        has_client_secret=bool(row and row.oidc_client_secret_box),
        saml_metadata_url=row.saml_metadata_url if row else "",
        saml_idp_entity_id=row.saml_idp_entity_id if row else "",
        redirect_uri=redirect_uri(),
        entity_id=sp.entity_id,
        acs_url=sp.acs_url,
        sp_metadata_url=sp.entity_id,
        tested_at=row.tested_at if row and _protocol(row) else None,
        enforced=bool(row and row.enforced),
        domains=verified_domains(session, organization_id),
    )


def verified_domains(session: Session, organization_id: int) -> list[str]:
    return list(
        session.exec(
            select(CompanyDomain.domain)
            .where(
                CompanyDomain.organization_id == organization_id,
                CompanyDomain.status == DomainStatus.VERIFIED,
            )
            .order_by(col(CompanyDomain.domain))
        ).all()
    )


def save_oidc(
    session: Session,
    *,
    user: User,
    organization_id: int,
    issuer: str,
    client_id: str,
    client_secret: str,
) -> SsoConnection:
    """Connect an OpenID Connect provider. Discovery is read now, so a wrong issuer is said
    at once. A blank secret keeps the one stored (it is never shown again)."""
    _require_manager(session, user, organization_id)
    row = session.get(SsoConnection, organization_id)
    errors: dict[str, str] = {}
    try:
        issuer = sso_oidc.check_issuer_url(issuer)
    except sso_oidc.OidcRefused as exc:
        errors["issuer"] = exc.message
    client_id = (client_id or "").strip()
    if not client_id or len(client_id) > 255:
        errors["client_id"] = "Enter the client ID the identity provider gave you."
    client_secret = (client_secret or "").strip()
    keeps_secret = (
        row is not None and row.protocol == SsoProtocol.OIDC and row.oidc_client_secret_box
    )
    if not client_secret and not keeps_secret:
        errors["client_secret"] = "Enter the client secret the identity provider gave you."
    if len(client_secret) > 500:
        errors["client_secret"] = "That client secret is too long."
    if errors:
        raise ValidationFailed(errors)
    try:
        sso_oidc.discover(issuer)
    except sso_oidc.OidcRefused as exc:
        raise ValidationFailed({"issuer": exc.message}) from exc
    row = row or SsoConnection(organization_id=organization_id)
    row.protocol = SsoProtocol.OIDC
    row.oidc_issuer, row.oidc_client_id = issuer, client_id
    if client_secret:
        row.oidc_client_secret_box = secret_box.seal(client_secret)
    _changed(session, row, user, f"Single sign-on set up with OpenID Connect ({issuer})")
    return row


def save_saml(
    session: Session,
    *,
    user: User,
    organization_id: int,
    metadata_xml: str = "",
    metadata_url: str = "",
) -> SsoConnection:
    """Connect a SAML IdP from its metadata (pasted/uploaded XML, or read from its URL).
    Our key pair is made on first use; its key is sealed."""
    _require_manager(session, user, organization_id)
    metadata_url = (metadata_url or "").strip()
    field = "metadata_url" if metadata_url and not metadata_xml.strip() else "metadata"
    try:
        if field == "metadata_url":
            metadata_xml = sso_saml.fetch_metadata(metadata_url)
        entity_id = sso_saml.idp_entity_id(metadata_xml or "")
    except sso_saml.SamlRefused as exc:
        raise ValidationFailed({field: exc.message}) from exc
    row = session.get(SsoConnection, organization_id) or SsoConnection(
        organization_id=organization_id
    )
    if not row.saml_sp_key_box:
        pair = sso_saml.new_key_pair(service_provider(organization_id).entity_id)
        row.saml_sp_key_box, row.saml_sp_cert = secret_box.seal(pair.key_pem), pair.cert_pem
    row.protocol = SsoProtocol.SAML
    row.saml_metadata = metadata_xml
    row.saml_metadata_url = metadata_url if field == "metadata_url" else ""
    row.saml_idp_entity_id = entity_id
    _changed(session, row, user, f"Single sign-on set up with SAML 2.0 ({entity_id})")
    return row


def remove(session: Session, *, user: User, organization_id: int) -> None:
    require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    row = session.get(SsoConnection, organization_id)
    if row is None:
        raise NotFound("Single sign-on is not set up.")
    session.delete(row)
    _audit(session, organization_id, user, "sso.removed", "Single sign-on removed")


def set_enforced(session: Session, *, user: User, organization_id: int, enforced: bool) -> None:
    """Turn "Enforce SSO" on (only after a successful test with these settings, and with a
    verified company domain for it to cover) or off."""
    _require_manager(session, user, organization_id)
    row = session.get(SsoConnection, organization_id)
    if row is None or not _protocol(row):
        raise Conflict("Set up single sign-on first.")
    if enforced and row.tested_at is None:
        raise Conflict("Run Test connection successfully before enforcing single sign-on.")
    if enforced and not verified_domains(session, organization_id):
        raise Conflict("Verify a company domain first: enforcement applies to its people.")
    if row.enforced == enforced:
        return
    row.enforced, row.updated_at = enforced, utcnow()
    session.add(row)
    domains = ", ".join(verified_domains(session, organization_id)) or "none"
    ended = sso_enforcement.end_local_sessions(session, organization_id) if enforced else 0
    ended_note = f"; {ended} password or passkey session{'s' if ended != 1 else ''} ended"
    _audit(
        session, organization_id, user, "sso.enforcement_changed",
        f"Enforce SSO turned {'on' if enforced else 'off'} (company domains: {domains})"
        + (ended_note if enforced else ""),
    )  # fmt: skip


def sp_metadata(session: Session, organization_id: int) -> str:
    """Our SAML service provider's metadata for the organization (public: IdPs fetch it)."""
    row = session.get(SsoConnection, organization_id)
    if row is None or row.protocol != SsoProtocol.SAML or not row.saml_sp_key_box:
        raise NotFound("No SAML single sign-on here.")
    return sso_saml.sp_metadata(service_provider(organization_id), _keys(row))


# --- going to the IdP -----------------------------------------------------------------------


def start_sign_in(session: Session, *, email: str, browser: str, next_path: str = "") -> str:
    """ "Continue with SSO": the IdP address for the organization that verified the email's
    domain. Refused when none has, or it has no single sign-on."""
    if not browser:
        raise PermissionDenied("Please allow cookies for this site, reload the page and try again.")
    email = (email or "").strip().lower()
    domain = company_domains.email_domain(email)
    if not domain:
        raise ValidationFailed({"email": "Enter your work email address."})
    organization = company_domains.organization_for_email(session, email)
    row = session.get(SsoConnection, organization.id) if organization else None
    if (
        organization is None
        or row is None
        or not _protocol(row)
        or not is_available(session, organization)
    ):
        raise ValidationFailed(
            {"email": f"No single sign-on is set up for {domain}. Sign in with your password."}
        )
    return _start(
        session, row, browser=browser, email=email, next_path=accounts.safe_next(next_path)
    )


def start_test(session: Session, *, user: User, organization_id: int, browser: str) -> str:
    """ "Test connection": a real sign-in at the IdP whose success is recorded (nobody is
    signed in by it; the Owner/Admin comes back to the card)."""
    _require_manager(session, user, organization_id)
    row = session.get(SsoConnection, organization_id)
    if row is None or not _protocol(row):
        raise Conflict("Set up single sign-on first.")
    if not browser:
        raise PermissionDenied("Please allow cookies for this site, reload the page and try again.")
    return _start(session, row, browser=browser, test_by=user, next_path=routes.ORG_SETTINGS)


def _start(
    session: Session,
    row: SsoConnection,
    *,
    browser: str,
    next_path: str,
    email: str = "",
    test_by: User | None = None,
) -> str:
    state = security.new_token()
    login = SsoLogin(
        organization_id=row.organization_id,
        protocol=row.protocol,
        state_hash=security.token_hash(state),
        browser_hash=security.token_hash(browser),
        email=email,
        next_path=next_path,
        test_by_id=test_by.id if test_by else None,
        expires_at=utcnow() + LOGIN_TTL,
    )
    _forget_expired(session)
    if row.protocol == SsoProtocol.OIDC:
        try:
            provider = sso_oidc.discover(row.oidc_issuer)
        except sso_oidc.OidcRefused as exc:
            raise SsoRefused(f"The identity provider is unreachable: {exc.message}") from exc
        _, nonce, verifier = sso_oidc.new_secrets()
        login.nonce, login.code_verifier_box = nonce, secret_box.seal(verifier)
        session.add(login)
        return sso_oidc.authorization_url(
            provider,
            client_id=row.oidc_client_id,
            redirect_uri=redirect_uri(),
            state=state,
            nonce=nonce,
            code_verifier=verifier,
            login_hint=email,
        )
    try:
        request_id, location = sso_saml.authn_request(
            service_provider(row.organization_id), _keys(row), row.saml_metadata, relay_state=state
        )
    except sso_saml.SamlRefused as exc:
        raise SsoRefused(exc.message) from exc
    login.request_id = request_id
    session.add(login)
    return location


# --- coming back: OpenID Connect ------------------------------------------------------------


def claim_login(session: Session, *, state: str, browser: str) -> ClaimedLogin:
    """The sign-in `state` names, used up now, if this browser started it in time. Run in
    its own transaction, so a refused answer cannot be tried again."""
    row = session.exec(
        select(SsoLogin)
        .where(SsoLogin.state_hash == security.token_hash(state or ""))
        .with_for_update()
    ).first()
    _check_fresh(row, browser)
    assert row is not None and row.id is not None
    row.used_at = utcnow()
    session.add(row)
    return ClaimedLogin(
        id=row.id,
        organization_id=row.organization_id,
        protocol=row.protocol,
        nonce=row.nonce,
        code_verifier=secret_box.open_box(row.code_verifier_box) if row.code_verifier_box else "",
        next_path=row.next_path,
        test_by_id=row.test_by_id,
    )


def finish_oidc(
    session: Session, claimed: ClaimedLogin, *, code: str, error: str = "", browser: str
) -> Finished:
    """Exchange the code (with the PKCE verifier) and check the id token (signature against
    the provider's JWKS, issuer, audience, expiry, nonce); then sign in or record the test."""
    if claimed.protocol != SsoProtocol.OIDC:
        raise SsoRefused(f"This sign-in was not made with OpenID Connect. {START_AGAIN}")
    if error or not code:
        raise SsoRefused(f"The identity provider did not sign you in ({error or 'no code'}).")
    row = _connection(session, claimed.organization_id)
    try:
        provider = sso_oidc.discover(row.oidc_issuer)
        id_token = sso_oidc.exchange_code(
            provider,
            client_id=row.oidc_client_id,
            client_secret=secret_box.open_box(row.oidc_client_secret_box),
            redirect_uri=redirect_uri(),
            code=code,
            code_verifier=claimed.code_verifier,
        )
        identity = sso_oidc.verify_id_token(
            id_token,
            keys=sso_oidc.fetch_keys(provider),
            issuer=provider.issuer,
            client_id=row.oidc_client_id,
            nonce=claimed.nonce,
        )
    except sso_oidc.OidcRefused as exc:
        raise SsoRefused(exc.message, claimed.organization_id) from exc
    return _complete(session, row, claimed, identity, browser=browser)


# --- coming back: SAML ----------------------------------------------------------------------


def accept_saml(
    session: Session, *, organization_id: int, saml_response: str, relay_state: str
) -> str:
    """Verify the IdP's POSTed response (see `sso_saml`), refuse a replayed assertion, sign
    the person in just-in-time (or record the test), and return a one-time finish code for
    `finish_saml`, which checks the browser (this POST carries none of our cookies)."""
    row = _connection(session, organization_id)
    if row.protocol != SsoProtocol.SAML:
        raise SsoRefused("This organization does not use SAML single sign-on.")
    login = session.exec(
        select(SsoLogin)
        .where(
            SsoLogin.state_hash == security.token_hash(relay_state or ""),
            SsoLogin.organization_id == organization_id,
            SsoLogin.protocol == SsoProtocol.SAML,
        )
        .with_for_update()
    ).first()
    if login is None:
        raise SsoRefused(f"This sign-in is not one of ours (RelayState). {START_AGAIN}")
    try:
        accepted = sso_saml.accept(
            service_provider(organization_id),
            _keys(row),
            row.saml_metadata,
            saml_response_b64=saml_response or "",
            outstanding={login.request_id: login.next_path or "/"},
        )
    except sso_saml.SamlRefused as exc:
        raise SsoRefused(exc.message, organization_id) from exc
    seen = session.exec(
        select(SamlAssertionSeen).where(
            SamlAssertionSeen.organization_id == organization_id,
            SamlAssertionSeen.assertion_id == accepted.assertion_id,
        )
    ).first()
    if seen is not None:
        raise SsoRefused(
            f"This SAML assertion was already used (replay refused). {START_AGAIN}",
            organization_id,
        )
    if login.used_at is not None:
        raise SsoRefused(f"This sign-in was already used. {START_AGAIN}")
    if login.expires_at <= utcnow():
        raise SsoRefused(f"This sign-in took too long. {START_AGAIN}")
    session.add(
        SamlAssertionSeen(
            organization_id=organization_id,
            assertion_id=accepted.assertion_id,
            expires_at=accepted.expires_at,
        )
    )
    login.used_at = utcnow()
    if login.test_by_id is not None:
        _record_test(session, row, login.test_by_id, accepted.identity)
        login.email = accepted.identity.email
    else:
        person = _sign_in_person(session, row, accepted.identity)
        login.user_id = person.id
    finish = security.new_token()
    login.finish_hash = security.token_hash(finish)
    login.expires_at = utcnow() + FINISH_TTL
    session.add(login)
    session.flush()
    return finish


def finish_saml(session: Session, *, code: str, browser: str) -> Finished:
    """The second step of a SAML sign-in, on our site: only the browser that started it."""
    login = session.exec(
        select(SsoLogin)
        .where(SsoLogin.finish_hash == security.token_hash(code or ""))
        .with_for_update()
    ).first()
    if login is None or not code:
        raise SsoRefused(f"This sign-in link is not valid or was already used. {START_AGAIN}")
    if login.expires_at <= utcnow():
        raise SsoRefused(f"This sign-in took too long. {START_AGAIN}")
    if not hmac.compare_digest(login.browser_hash, security.token_hash(browser or "")):
        raise SsoRefused(f"This sign-in was started in another browser. {START_AGAIN}")
    login.finish_hash = ""  # single use
    session.add(login)
    if login.test_by_id is not None:
        return Finished(
            login.organization_id, next_path=routes.ORG_SETTINGS, test_email=login.email
        )
    person = session.get(User, login.user_id) if login.user_id else None
    if person is None:
        raise SsoRefused(START_AGAIN)
    ticket = accounts.issue_sign_in_ticket(
        session,
        person,
        login.organization_id,
        browser=browser,
        sso_organization_id=login.organization_id,
    )
    return Finished(
        login.organization_id,
        ticket=ticket,
        next_path=login.next_path or routes.DEFAULT_AFTER_SIGN_IN,
    )


# --- just in time ---------------------------------------------------------------------------


def _complete(
    session: Session, row: SsoConnection, claimed: ClaimedLogin, identity: Identity, *, browser: str
) -> Finished:
    if claimed.test_by_id is not None:
        _record_test(session, row, claimed.test_by_id, identity)
        return Finished(
            row.organization_id, next_path=routes.ORG_SETTINGS, test_email=identity.email
        )
    person = _sign_in_person(session, row, identity)
    ticket = accounts.issue_sign_in_ticket(
        session,
        person,
        row.organization_id,
        browser=browser,
        sso_organization_id=row.organization_id,
    )
    return Finished(
        row.organization_id,
        ticket=ticket,
        next_path=claimed.next_path or routes.DEFAULT_AFTER_SIGN_IN,
    )


def _record_test(session: Session, row: SsoConnection, tester_id: int, identity: Identity) -> None:
    """A test sign-in succeeded: the token/assertion passed every check. The address need
    not be the tester's own, but must be at a verified domain to be worth enforcing."""
    tester = session.get(User, tester_id)
    if tester is None:
        raise SsoRefused(START_AGAIN)
    _require_manager(session, tester, row.organization_id)
    _check_domain(session, row.organization_id, identity)
    row.tested_at = utcnow()
    session.add(row)
    _audit(
        session, row.organization_id, tester, "sso.tested",
        f"Single sign-on test succeeded ({PROTOCOL_LABELS[SsoProtocol(row.protocol)]}, "
        f"signed in as {identity.email})",
    )  # fmt: skip


def _check_domain(session: Session, organization_id: int, identity: Identity) -> None:
    if not identity.email:
        raise SsoRefused("The identity provider sent no email address.")
    try:
        normalize_email(identity.email)
    except FieldError as exc:
        raise SsoRefused(f"The identity provider sent an unusable address ({exc}).") from exc
    if identity.email_verified is False:
        raise SsoRefused(f"The identity provider has not confirmed {identity.email}.")
    if company_domains.email_domain(identity.email) not in verified_domains(
        session, organization_id
    ):
        raise SsoRefused(
            f"The identity provider signed in {identity.email}, which is not at one of the "
            "organization's verified company domains."
        )


def _sign_in_person(session: Session, row: SsoConnection, identity: Identity) -> User:
    """The account the identity signs in as: linked by the IdP's subject, else by address,
    else created now (confirmed: the IdP vouches for the address at a domain the
    organization proved). Name and address follow the IdP. Made a member if not one."""
    organization = session.get(Organization, row.organization_id)
    if organization is None or not is_available(session, organization):
        raise SsoRefused("Single sign-on is not available for this organization.")
    _check_domain(session, organization.id, identity)
    link = session.exec(
        select(SsoIdentity).where(
            SsoIdentity.organization_id == organization.id,
            SsoIdentity.subject == identity.subject,
        )
    ).first()
    person = session.get(User, link.user_id) if link else None
    if person is None:
        person = accounts.find_user(session, identity.email)
    if person is None:
        person = User(
            email=identity.email,
            password_hash=security.hash_password(secrets.token_urlsafe(32)),  # none usable
            first_name=identity.first_name,
            last_name=identity.last_name,
            email_confirmed_at=utcnow(),
        )
        session.add(person)
        session.flush()
        _audit(
            session, organization.id, person, "sso.account_created",
            f"Account created by single sign-on for {identity.email}",
        )  # fmt: skip
    else:
        _update_person(session, organization.id, person, identity)
    if link is None:
        session.add(
            SsoIdentity(
                organization_id=organization.id, subject=identity.subject, user_id=person.id
            )
        )
    _ensure_member(session, organization, person)
    _audit(
        session,
        organization.id,
        person,
        "sso.signed_in",
        f"{person.email} signed in with single sign-on",
    )
    return person


def _update_person(
    session: Session, organization_id: int, person: User, identity: Identity
) -> None:
    if person.email_confirmed_at is None:
        # Whoever registered this address never proved it: the password they chose must
        # not open the account the IdP now confirms (pre-hijacking), nor their sessions.
        person.password_hash = security.hash_password(secrets.token_urlsafe(32))
        person.email_confirmed_at = utcnow()
        for open_session in session.exec(
            select(UserSession).where(
                UserSession.user_id == person.id, col(UserSession.revoked_at).is_(None)
            )
        ).all():
            open_session.revoked_at = utcnow()
            session.add(open_session)
    if identity.email != person.email and accounts.find_user(session, identity.email) is None:
        _audit(
            session, organization_id, person, "sso.email_updated",
            f"Email changed from {person.email} to {identity.email} by the identity provider",
        )  # fmt: skip
        person.email = identity.email
    if identity.first_name or identity.last_name:
        person.first_name, person.last_name = identity.first_name, identity.last_name
    session.add(person)


def _ensure_member(session: Session, organization: Organization, person: User) -> None:
    if session.exec(
        select(Membership).where(
            Membership.organization_id == organization.id, Membership.user_id == person.id
        )
    ).first():
        return
    join = session.get(CompanyJoinSettings, organization.id)
    role = join.default_role if join and join.default_role != Role.OWNER else Role.VIEWER
    seats.lock_organization(session, organization.id)
    try:
        seats.require_free_seat(session, organization)
    except DomainError as exc:
        raise SsoRefused(f"{organization.name} has no free seat for you: {exc.message}") from exc
    session.add(Membership(organization_id=organization.id, user_id=person.id, role=role))
    session.flush()
    usage_counters.resync(session, [person.id])
    mark_usage_changed(session, [organization.id])
    _audit(
        session, organization.id, person, "member.joined",
        f"{person.email} joined as {Role(role).label} (single sign-on)",
    )  # fmt: skip


# --- helpers --------------------------------------------------------------------------------


def _protocol(row: SsoConnection | None) -> str:
    if row is None:
        return ""
    if row.protocol == SsoProtocol.OIDC and row.oidc_issuer and row.oidc_client_id:
        return SsoProtocol.OIDC
    if row.protocol == SsoProtocol.SAML and row.saml_metadata:
        return SsoProtocol.SAML
    return ""


def _connection(session: Session, organization_id: int) -> SsoConnection:
    row = session.get(SsoConnection, organization_id)
    if row is None or not _protocol(row):
        raise SsoRefused("Single sign-on is no longer set up for this organization.")
    return row


def _keys(row: SsoConnection) -> sso_saml.KeyPair:
    return sso_saml.KeyPair(secret_box.open_box(row.saml_sp_key_box), row.saml_sp_cert)


def _check_fresh(row: SsoLogin | None, browser: str) -> None:
    if row is None:
        raise InvalidToken(f"This sign-in is not known. {START_AGAIN}")
    if row.used_at is not None:
        raise InvalidToken(f"This sign-in was already used. {START_AGAIN}")
    if row.expires_at <= utcnow():
        raise InvalidToken(f"This sign-in took too long. {START_AGAIN}")
    if not hmac.compare_digest(row.browser_hash, security.token_hash(browser or "")):
        raise InvalidToken(f"This sign-in was started in another browser. {START_AGAIN}")


def _require_manager(session: Session, user: User, organization_id: int) -> Organization:
    organization, _ = require(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    if not is_available(session, organization):
        raise SsoLocked()
    return organization


def _changed(session: Session, row: SsoConnection, user: User, summary: str) -> None:
    """New settings: the last test no longer proves them, so enforcement stops too."""
    row.tested_at, row.enforced, row.updated_at = None, False, utcnow()
    session.add(row)
    _audit(session, row.organization_id, user, "sso.configured", summary)


def record_refusal(session: Session, refusal: SsoRefused) -> None:
    """Audit a refused answer from the IdP (call in a new transaction: the one that refused
    was rolled back)."""
    if refusal.organization_id is not None and session.get(Organization, refusal.organization_id):
        _audit(
            session, refusal.organization_id, None, "sso.refused",
            f"Single sign-on refused: {refusal.message}"[:500],
        )  # fmt: skip


def _forget_expired(session: Session) -> None:
    """Old sign-ins and assertion IDs past their expiry (nothing to refuse any more)."""
    cutoff = utcnow() - timedelta(days=1)
    session.exec(delete(SsoLogin).where(col(SsoLogin.expires_at) < cutoff))
    session.exec(delete(SamlAssertionSeen).where(col(SamlAssertionSeen.expires_at) < utcnow()))


def _audit(session: Session, organization_id: int, actor: User | None, action: str, summary: str):
    audit.record(
        session, organization_id=organization_id, actor=actor, action=action, summary=summary
    )

"""Registration, email confirmation, sign-in with lockout, sessions and workspaces (SPEC §1)."""

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, overload

from sqlmodel import Session, col, func, select

from orgportal import routes, security
from orgportal.config import settings
from orgportal.models import Membership, Organization, Passkey, User, UserSession, UserToken
from orgportal.models.base import utcnow
from orgportal.models.security import TwoFactor
from orgportal.services import (
    account_links,
    outbox,
    sign_in_lockout,
    sso_enforcement,
    user_sessions,
)
from orgportal.services.errors import (
    DomainError,
    InvalidCredentials,
    InvalidToken,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)
from orgportal.services.validation import FieldError, new_password, normalize_email, text

CONFIRM_EMAIL = "confirm_email"
REGISTRATION_ATTEMPT = "registration_attempt"
# Outbox kinds that share the per-address, per-user throttle (MAIL_THROTTLE_PER_HOUR).
ACCOUNT_MAIL_KINDS = (CONFIRM_EMAIL, REGISTRATION_ATTEMPT)
SIGN_IN = "sign_in"
SIGN_IN_TICKET_TTL = timedelta(minutes=2)
TWO_FACTOR_STEP = "two_factor_step"
TWO_FACTOR_STEP_TTL = timedelta(minutes=10)
SIGN_IN_LINK_FAILED = (
    "That sign-in link did not work in this browser (it expired, was used, or was made for "
    "another browser). Please sign in here."
)
CONFIRM_TTL = timedelta(days=3)
DEFAULT_AFTER_SIGN_IN = routes.DEFAULT_AFTER_SIGN_IN
WRONG_PASSWORD = "Your current password is incorrect."


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    first_name: str
    last_name: str


def validate_registration(form: Registration) -> Registration:
    errors: dict[str, str] = {}
    email = ""
    try:
        email = normalize_email(form.email)
    except FieldError as exc:
        errors["email"] = str(exc)
    try:
        new_password(form.password, email=email)
    except FieldError as exc:
        errors["password"] = str(exc)
    names = {}
    for field, label in (("first_name", "First name"), ("last_name", "Last name")):
        try:
            names[field] = text(
                getattr(form, field), label=label, min_len=1, max_len=80, single_line=True
            )
        except FieldError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return Registration(email, form.password, names["first_name"], names["last_name"])


@overload
def register(session: Session, form: Registration, *, confirmed: Literal[True]) -> User: ...
@overload
def register(session: Session, form: Registration, *, confirmed: bool = False) -> User | None: ...
def register(session: Session, form: Registration, *, confirmed: bool = False) -> User | None:
    """Create an account and, unless already confirmed (invites), queue its confirmation mail.

    The public form answers a known address exactly as a new one, so it never reveals who
    has an account: then nothing is created, the owner is told by mail, and None is returned
    (callers show the same page either way). Both paths hash the password, so neither is
    quicker. Invites (`confirmed=True`) still refuse a known address: their page already
    says whether the invited email has an account.
    """
    form = validate_registration(form)
    password_hash = security.hash_password(form.password)
    existing = find_user(session, form.email)
    if existing and confirmed:
        raise ValidationFailed(
            {"email": "An account with this email already exists. Sign in instead."}
        )
    if existing:
        _tell_owner_of_registration_attempt(session, existing)
        return None
    user = User(
        email=form.email,
        password_hash=password_hash,
        first_name=form.first_name,
        last_name=form.last_name,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    session.add(user)
    session.flush()
    if not confirmed:
        # Never refuse here (a refusal would tell this address had mail); the new user can
        # resend from the banner once the hour has passed.
        with suppress(outbox.MailThrottled):
            send_confirmation(session, user)
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def send_confirmation(session: Session, user: User) -> None:
    """Queue a fresh confirmation link; MailThrottled (429) once MAIL_THROTTLE_PER_HOUR
    account mails went to this address or user within the hour (SPEC §13)."""
    if user.email_confirmed_at:
        return
    outbox.check_throttle(session, kinds=ACCOUNT_MAIL_KINDS, to=user.email, user_id=user.id)
    token = _issue_token(session, user, CONFIRM_EMAIL, CONFIRM_TTL)
    link = f"{settings.public_url}/confirm/{token}"
    outbox.queue_mail(
        session,
        to=user.email,
        subject="Confirm your orgportal email address",
        body=f"Hello {user.first_name},\n\nConfirm your email address by opening this link:\n"
        f"{link}\n\nThe link is valid for 3 days.\n",
        link=link,
        kind=CONFIRM_EMAIL,
        user_id=user.id,
    )


def _tell_owner_of_registration_attempt(session: Session, user: User) -> None:
    """Someone registered with this existing address: tell its owner how to get in. Silently
    skipped over the throttle, since refusing would reveal that the address has an account."""
    try:
        outbox.check_throttle(session, kinds=ACCOUNT_MAIL_KINDS, to=user.email, user_id=user.id)
    except outbox.MailThrottled:
        return
    link = f"{settings.public_url}{routes.LOGIN}"
    outbox.queue_mail(
        session,
        to=user.email,
        subject="Someone tried to create an orgportal account with your email address",
        body=f"Hello {user.first_name},\n\nSomeone, perhaps you, tried to create an orgportal "
        "account with this email address. It already has an account, so nothing was changed.\n\n"
        f"If it was you, sign in with your password here:\n{link}\n\n"
        "If it was not you, you can ignore this email.\n",
        link=link,
        kind=REGISTRATION_ATTEMPT,
        user_id=user.id,
    )


class SignInToConfirm(DomainError):
    """A confirmation link opened where its account is not signed in: whoever reads the
    mailbox is not yet shown to know the password (account pre-hijacking)."""

    status = 403

    def __init__(self, email: str):
        super().__init__(
            f"To confirm {email}, sign in to that account in this browser, then open the link "
            "again. If you did not create this account, reset its password instead: that "
            "proves the address is yours and clears what the unconfirmed account set up."
        )
        self.email = email


def confirm_email(session: Session, token: str, *, signed_in_user_id: int | None) -> User:
    """Confirm the address of the account the link was mailed for, only in a browser signed
    in to that account (`signed_in_user_id`). Opening the link proves the mailbox; the
    session proves the password: together they are one person. Anywhere else the link is
    kept for later (SignInToConfirm), so a stranger's registration of someone's address can
    never be confirmed by its owner's click, leaving the stranger's password in place; the
    owner resets the password instead (`unconfirmed.reclaim`)."""
    row = account_links.check(session, token, CONFIRM_EMAIL, what="confirmation")
    user = session.get(User, row.user_id)
    if user is None:
        raise InvalidToken("This confirmation link is not valid.")
    if user.id != signed_in_user_id and not user.email_confirmed_at:
        raise SignInToConfirm(user.email)
    _take_token(session, token, CONFIRM_EMAIL)
    if not user.email_confirmed_at:
        user.email_confirmed_at = utcnow()
        session.add(user)
    return user


def verify_current_password(session: Session, user: User, password: str, field: str) -> None:
    """The user's current password, or ValidationFailed on `field`: for actions that must
    not be open to whoever finds a browser signed in (password and email changes, account
    deletion, new API keys). A wrong one counts toward the sign-in lockout, and a locked
    email is refused before any hashing."""
    sign_in_lockout.refuse_if_locked(session, user.email)
    if not security.verify_password(password or "", user.password_hash):
        sign_in_lockout.refuse_attempt(
            session, user.email, ValidationFailed({field: WRONG_PASSWORD})
        )


# --- sign in ------------------------------------------------------------------------------


def sign_in(session: Session, *, email: str, password: str, browser: str) -> "str | SecondStep":
    """Check credentials and return a short-lived single-use ticket for opening a session
    (or, with two-factor sign-in on, the `SecondStep` that asks for a code first).

    The ticket is exchanged by an HTTP route that sets the HttpOnly cookie, because a
    websocket event cannot set one. It works only in the browser that asked for it.
    """
    email = email.strip().lower()
    sign_in_lockout.refuse_if_locked(session, email)
    user = find_user(session, email) if email else None
    if user is None:
        security.burn_password_check(password)
    if user is None or not security.verify_password(password, user.password_hash):
        sign_in_lockout.refuse_attempt(session, email, InvalidCredentials())
    # SPEC §16: where the organization enforces SSO, a password is refused (Owner: audited)
    sso_enforcement.check_password_sign_in(session, user)
    second_factor = session.get(TwoFactor, user.id)
    app = second_factor is not None and second_factor.enabled_at is not None
    passkey = session.exec(select(Passkey.id).where(Passkey.user_id == user.id)).first()
    if app or passkey is not None:
        # Password right, but no ticket yet: the code step (services/two_factor.py) or the
        # passkey step (services/passkeys.py) issues it, and records the success only then,
        # so wrong codes count towards the same lockout.
        return SecondStep(
            _issue_token(session, user, TWO_FACTOR_STEP, TWO_FACTOR_STEP_TTL, bind=browser),
            code=app,
            passkey=passkey is not None,
        )
    sign_in_lockout.record_success(session, email)
    return issue_sign_in_ticket(session, user, browser=browser)


@dataclass(frozen=True)
class SecondStep:
    """`sign_in` for an account with two-factor sign-in: the password was right, and this
    challenge (bound to the browser, like a ticket) goes with the code to `two_factor`, or
    with a passkey to `passkeys`. `code` and `passkey` say which the account has (SPEC §16)."""

    challenge: str
    code: bool = True
    passkey: bool = False


def issue_sign_in_ticket(
    session: Session,
    user: User,
    organization_id: int | None = None,
    *,
    browser: str,
    sso_organization_id: int | None = None,
) -> str:
    """A ticket bound to `browser`, the nonce cookie of the browser that signed in: only the
    hash of ticket and nonce together is stored, so a page elsewhere that makes another
    browser open the ticket link cannot sign that browser into this account (login CSRF).
    `sso_organization_id`: the organization whose identity provider vouched for the person
    (its Enforce SSO keeps the session this opens)."""
    if not browser:
        raise NotAuthenticated("Please allow cookies for this site, reload the page and try again.")
    return _issue_token(
        session,
        user,
        SIGN_IN,
        SIGN_IN_TICKET_TTL,
        organization_id,
        bind=browser,
        sso_organization_id=sso_organization_id,
    )


def open_session(session: Session, ticket: str, *, browser: str) -> tuple[str, UserSession]:
    """Exchange a sign-in ticket for a new session; returns the raw token for the cookie.
    `browser` must be the nonce the ticket was issued to."""
    try:
        row = _take_token(session, ticket, SIGN_IN, bind=browser)
    except InvalidToken as exc:
        raise InvalidToken(SIGN_IN_LINK_FAILED) from exc
    raw = security.new_token()
    user = session.get(User, row.user_id)
    if user is None:
        raise InvalidToken(SIGN_IN_LINK_FAILED)
    # The workspace the ticket names (a joined organization), else the one last used.
    workspace = _member_workspace(session, user, row.organization_id) or last_workspace(
        session, user
    )
    user_session = UserSession(
        user_id=row.user_id,
        token_hash=security.token_hash(raw),
        expires_at=utcnow() + timedelta(days=settings.session_days),
        active_org_id=workspace,
        sso_organization_id=row.sso_organization_id,
    )
    session.add(user_session)
    remember_workspace(session, user, workspace)
    session.flush()
    return raw, user_session


@dataclass(frozen=True)
class Viewer:
    """Who is calling: the user and their session, re-read from the database every call."""

    user: User
    session: UserSession


def authenticate(session: Session, raw_token: str | None) -> Viewer:
    if not raw_token:
        raise NotAuthenticated()
    row = session.exec(
        select(UserSession).where(UserSession.token_hash == security.token_hash(raw_token))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise NotAuthenticated("Your session has ended. Please sign in again.")
    user = session.get(User, row.user_id)
    if user is None:
        raise NotAuthenticated()
    user_sessions.touch(session, row)  # "last seen" on /account, at most once a minute
    return Viewer(user=user, session=row)


def sign_out(session: Session, raw_token: str | None) -> None:
    if not raw_token:
        return
    row = session.exec(
        select(UserSession).where(UserSession.token_hash == security.token_hash(raw_token))
    ).first()
    if row and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)


def safe_next(candidate: str | None) -> str:
    """`candidate` if it is a path on this site, else the default page (no open redirects)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return DEFAULT_AFTER_SIGN_IN
    if "\\" in candidate or any(ord(ch) < 32 for ch in candidate):
        return DEFAULT_AFTER_SIGN_IN
    return candidate


# --- workspaces -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    organization_id: int | None  # None: the Personal Workspace
    name: str
    role: str


def list_workspaces(session: Session, user: User) -> list[Workspace]:
    """The Personal Workspace first (always in the same place, so it is easy to find), then
    the user's organizations, the most recently used first; those never opened follow, by
    name (SPEC §1: the switcher lists the most recent first). An organization API key's
    own user has its one organization and no Personal Workspace."""
    from orgportal.services import organization_keys  # it builds on api_keys, which uses us

    pinned = organization_keys.pinned_workspace(session, user)
    if pinned is not None:
        return [Workspace(pinned.id, pinned.name, organization_keys.KEY_ROLE)]
    rows = session.exec(
        select(Organization, Membership)
        .join(Membership, col(Membership.organization_id) == Organization.id)
        .where(Membership.user_id == user.id)
        .order_by(
            col(Membership.last_used_at).is_(None),
            col(Membership.last_used_at).desc(),
            func.lower(Organization.name),
            col(Organization.id),
        )
    ).all()
    personal = Workspace(None, "Personal Workspace", "owner")
    return [personal] + [Workspace(org.id, org.name, m.role) for org, m in rows]


def switch_workspace(session: Session, viewer: Viewer, organization_id: int | None) -> None:
    """Make a workspace the session's active one, remembered as the user's last (SPEC §1)."""
    if organization_id is not None and not _member_workspace(session, viewer.user, organization_id):
        raise NotFound("Organization not found.")
    viewer.session.active_org_id = organization_id
    session.add(viewer.session)
    remember_workspace(session, viewer.user, organization_id)


def last_workspace(session: Session, user: User) -> int | None:
    """The workspace a new session opens: the one the user last used while they are still a
    member of it (removed, or the organization deleted: the Personal Workspace, None)."""
    return _member_workspace(session, user, user.last_org_id)


def remember_workspace(session: Session, user: User, organization_id: int | None) -> None:
    """Note `organization_id` (None: the Personal Workspace) as the user's last workspace and,
    for an organization, when its membership was last opened (the switcher's order). The
    caller has checked the membership."""
    user.last_org_id = organization_id
    session.add(user)
    if organization_id is None:
        return
    membership = session.exec(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user.id
        )
    ).first()
    if membership is not None:
        membership.last_used_at = utcnow()
        session.add(membership)


def _member_workspace(session: Session, user: User, organization_id: int | None) -> int | None:
    """`organization_id` if the user is a member of it, else None."""
    if organization_id is None:
        return None
    found = session.exec(
        select(Membership.id).where(
            Membership.organization_id == organization_id, Membership.user_id == user.id
        )
    ).first()
    return organization_id if found is not None else None


# --- tokens ---------------------------------------------------------------------------------


def _issue_token(
    session: Session,
    user: User,
    purpose: str,
    ttl: timedelta,
    organization_id: int | None = None,
    *,
    bind: str = "",
    sso_organization_id: int | None = None,
) -> str:
    """A single-use token; with `bind`, only presenting both it and `bind` redeems it."""
    raw = security.new_token()
    session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=security.token_hash(raw + bind),
            expires_at=utcnow() + ttl,
            organization_id=organization_id,
            sso_organization_id=sso_organization_id,
        )
    )
    return raw


def _take_token(session: Session, raw: str, purpose: str, *, bind: str = "") -> UserToken:
    """Mark a single-use token used, atomically, or refuse it."""
    row = session.exec(
        select(UserToken)
        .where(
            UserToken.token_hash == security.token_hash(raw + bind), UserToken.purpose == purpose
        )
        .with_for_update()
    ).first()
    now: datetime = utcnow()
    if row is None:
        raise InvalidToken("This link is not valid.")
    if row.used_at is not None:
        raise InvalidToken("This link has already been used.")
    if row.expires_at <= now:
        raise InvalidToken("This link has expired.")
    row.used_at = now
    session.add(row)
    return row

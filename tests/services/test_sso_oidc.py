"""Single sign-on with OpenID Connect (SPEC §16) against a real provider built on authlib's
server side (tests/oidc_provider.py): the whole code flow with PKCE, the id-token checks
(nonce, audience, expiry, signature, issuer), the state bound to the browser and single
use, just-in-time accounts and membership (seats), set-up rules, Enforce SSO and the
Owner's break-glass password sign-in."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import Session, select

from orgportal.models import (
    AuditEvent,
    CompanyDomain,
    DomainStatus,
    Membership,
    Role,
    SsoConnection,
    Subscription,
    User,
    UserSession,
)
from orgportal.models.base import utcnow
from orgportal.services import accounts, sso, sso_oidc
from orgportal.services.errors import (
    Conflict,
    InvalidCredentials,
    InvalidToken,
    NotAuthenticated,
    PermissionDenied,
    ValidationFailed,
)
from orgportal.services.sso_enforcement import PasswordRefused
from tests.factories import BROWSER, PASSWORD, add_member, audit_actions, make_org, make_user
from tests.oidc_provider import IdpUser, OidcProvider


@pytest.fixture(scope="module")
def provider():
    running = OidcProvider().start()
    yield running
    running.stop()


@pytest.fixture
def idp(provider):
    provider.fault = ""
    provider.user = IdpUser(sub="idp-alice", email="alice@acme.com")
    return provider


def subscribe(session: Session, org, plan_key: str = "unlimited") -> None:
    session.add(
        Subscription(
            organization_id=org.id, kind="plan", plan_key=plan_key, status="active",
            stripe_subscription_id=f"sub_{org.id}_{plan_key}",
        )
    )  # fmt: skip
    session.commit()


def verified_domain(session: Session, org, domain: str = "acme.com") -> None:
    """A company domain already verified (its DNS proof is company_domains' own tests)."""
    session.add(
        CompanyDomain(
            organization_id=org.id, domain=domain, token="t" * 32,
            status=DomainStatus.VERIFIED, verified_at=utcnow(),
        )
    )  # fmt: skip
    session.commit()


@pytest.fixture
def private_idp(monkeypatch):
    """The tests' IdPs listen on 127.0.0.1 over http (SSO_ALLOW_PRIVATE_IDP=1)."""
    from orgportal.config import settings

    monkeypatch.setattr(settings, "sso_allow_private_idp", True)


@pytest.fixture
def team(session, secret_key, private_idp):
    owner = make_user(session, "owner@acme.com")
    org = make_org(session, owner, "Acme")
    subscribe(session, org)
    verified_domain(session, org)
    return owner, org


@pytest.fixture
def connected(session, team, idp):
    owner, org = team
    client = idp.add_client(sso.redirect_uri())
    sso.save_oidc(
        session, user=owner, organization_id=org.id, issuer=idp.issuer,
        client_id=client.client_id, client_secret=client.client_secret,
    )  # fmt: skip
    session.commit()
    return owner, org, client


def at_provider(url: str) -> dict[str, str]:
    """What the browser does at the IdP (signed in there already): follow the authorization
    URL to the redirect back; the callback's query."""
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(sso.redirect_uri())
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sign_in(session: Session, email="alice@acme.com", browser=BROWSER) -> sso.Finished:
    url = sso.start_sign_in(session, email=email, browser=browser, next_path="/links")
    session.commit()
    back = at_provider(url)
    claimed = sso.claim_login(session, state=back["state"], browser=browser)
    session.commit()
    finished = sso.finish_oidc(session, claimed, code=back.get("code", ""), browser=browser)
    session.commit()
    return finished


def test_full_sign_in_creates_the_account_just_in_time_and_opens_a_session(session, connected):
    owner, org, _ = connected
    finished = sign_in(session)
    person = accounts.find_user(session, "alice@acme.com")
    assert person is not None and person.email_confirmed_at is not None
    assert (person.first_name, person.last_name) == ("Alice", "Example")
    membership = session.exec(
        select(Membership).where(
            Membership.user_id == person.id, Membership.organization_id == org.id
        )
    ).one()
    assert membership.role == Role.VIEWER  # the join-by-domain default
    assert finished.next_path == "/links"
    raw, user_session = accounts.open_session(session, finished.ticket, browser=BROWSER)
    assert user_session.user_id == person.id and user_session.active_org_id == org.id
    assert accounts.authenticate(session, raw).user.id == person.id
    actions = audit_actions(session, org.id)
    assert {"sso.account_created", "member.joined", "sso.signed_in"} <= set(actions)
    # the person's password is unusable: nobody knows it
    with pytest.raises(InvalidCredentials):
        accounts.sign_in(session, email="alice@acme.com", password=PASSWORD, browser=BROWSER)


def test_authorization_request_uses_pkce_s256_state_and_nonce(session, connected, idp):
    url = sso.start_sign_in(session, email="alice@acme.com", browser=BROWSER)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert "code_verifier" not in query
    assert query["redirect_uri"] == [sso.redirect_uri()]


def test_second_sign_in_finds_the_same_account_and_follows_the_idps_name_and_address(
    session, connected, idp
):
    sign_in(session)
    first = accounts.find_user(session, "alice@acme.com")
    idp.user = IdpUser(
        sub="idp-alice", email="alice.smith@acme.com", given_name="Alice", family_name="Smith"
    )
    finished = sign_in(session, email="alice.smith@acme.com")
    assert finished.ticket
    session.refresh(first)
    assert first.email == "alice.smith@acme.com" and first.last_name == "Smith"
    assert session.exec(select(User).where(User.email == "alice@acme.com")).first() is None


def test_an_existing_unconfirmed_account_is_confirmed_and_its_password_dropped(session, connected):
    squatter = make_user(session, "alice@acme.com", confirmed=False)
    sign_in(session)
    session.refresh(squatter)
    assert squatter.email_confirmed_at is not None
    with pytest.raises(InvalidCredentials):  # the password chosen by whoever registered it is gone
        accounts.sign_in(session, email="alice@acme.com", password=PASSWORD, browser=BROWSER)


@pytest.mark.parametrize(
    "fault, message",
    [
        ("wrong_nonce", "nonce"),
        ("wrong_audience", "audience"),
        ("expired", "expired"),
        ("bad_signature", "signature"),
        ("wrong_issuer", "issuer"),
    ],
)
def test_id_tokens_failing_a_check_are_refused(session, connected, idp, fault, message):
    owner, org, _ = connected
    idp.fault = fault
    with pytest.raises(sso.SsoRefused, match=message):
        sign_in(session)
    session.rollback()
    assert accounts.find_user(session, "alice@acme.com") is None


def test_verify_id_token_refuses_a_token_signed_by_another_key(provider):
    """The signature check on its own: a token signed with a key not in the JWKS."""
    import time

    from joserfc import jwt
    from joserfc.jwk import KeySet

    now = int(time.time())
    claims = {
        "iss": "https://idp",
        "aud": "c",
        "sub": "s",
        "iat": now,
        "exp": now + 60,
        "nonce": "n",
    }
    token = jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, provider.other_key)
    keys = KeySet([provider.key])
    with pytest.raises(sso_oidc.OidcRefused, match="signature"):
        sso_oidc.verify_id_token(token, keys=keys, issuer="https://idp", client_id="c", nonce="n")
    good = jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, provider.key)
    assert (
        sso_oidc.verify_id_token(
            good, keys=keys, issuer="https://idp", client_id="c", nonce="n"
        ).subject
        == "s"
    )
    none_alg = jwt.encode({"alg": "none"}, claims, None, algorithms=["none"])
    with pytest.raises(sso_oidc.OidcRefused):
        sso_oidc.verify_id_token(
            none_alg, keys=keys, issuer="https://idp", client_id="c", nonce="n"
        )


def test_state_is_bound_to_the_browser_and_used_once(session, connected):
    url = sso.start_sign_in(session, email="alice@acme.com", browser=BROWSER)
    session.commit()
    back = at_provider(url)
    with pytest.raises(InvalidToken, match="another browser"):
        sso.claim_login(session, state=back["state"], browser="someone-elses-browser")
    session.rollback()
    claimed = sso.claim_login(session, state=back["state"], browser=BROWSER)
    session.commit()
    with pytest.raises(InvalidToken, match="already used"):
        sso.claim_login(session, state=back["state"], browser=BROWSER)
    session.rollback()
    with pytest.raises(InvalidToken, match="not known"):
        sso.claim_login(session, state="made-up", browser=BROWSER)
    session.rollback()
    assert sso.finish_oidc(session, claimed, code=back["code"], browser=BROWSER).ticket


def test_the_code_alone_is_useless_without_the_pkce_verifier(session, connected, idp):
    """The provider checks the verifier: the code and a wrong verifier get no token."""
    _, _, client = connected
    url = sso.start_sign_in(session, email="alice@acme.com", browser=BROWSER)
    session.commit()
    back = at_provider(url)
    with pytest.raises(sso_oidc.OidcRefused, match="refused the sign-in code"):
        sso_oidc.exchange_code(
            sso_oidc.discover(idp.issuer), client_id=client.client_id,
            client_secret=client.client_secret, redirect_uri=sso.redirect_uri(),
            code=back["code"], code_verifier="x" * 64,
        )  # fmt: skip


def test_an_address_outside_the_verified_domains_is_refused(session, connected, idp):
    idp.user = IdpUser(sub="idp-mallory", email="mallory@other.com")
    with pytest.raises(sso.SsoRefused, match="not at one of the organization's verified"):
        sign_in(session)
    session.rollback()
    assert accounts.find_user(session, "mallory@other.com") is None


def test_continue_with_sso_needs_a_verified_domain_with_sso(session, connected):
    with pytest.raises(ValidationFailed) as refused:
        sso.start_sign_in(session, email="bob@unknown-corp.com", browser=BROWSER)
    assert "No single sign-on is set up for unknown-corp.com" in refused.value.errors["email"]
    with pytest.raises(ValidationFailed):
        sso.start_sign_in(session, email="not an address", browser=BROWSER)


def test_just_in_time_membership_takes_a_seat(session, connected, idp):
    owner, org, _ = connected
    session.exec(select(Subscription)).one()
    session.add(
        Subscription(
            organization_id=org.id, kind="support", plan_key="", status="active", quantity=1,
            stripe_subscription_id="sub_seats",
        )
    )  # fmt: skip
    session.commit()
    with pytest.raises(sso.SsoRefused, match="no free seat"):
        sign_in(session)


def test_set_up_is_for_owners_and_admins_on_the_unlimited_plan(
    session, idp, secret_key, monkeypatch
):
    owner = make_user(session, "owner@beta.com")
    org = make_org(session, owner, "Beta")
    subscribe(session, org, "professional")
    client = idp.add_client(sso.redirect_uri())
    settings_ = sso.get_settings(session, user=owner, organization_id=org.id)
    assert not settings_.available and "Unlimited" in settings_.locked_reason
    with pytest.raises(sso.SsoLocked):
        sso.save_oidc(
            session, user=owner, organization_id=org.id, issuer=idp.issuer,
            client_id=client.client_id, client_secret=client.client_secret,
        )  # fmt: skip
    session.rollback()
    subscribe(session, org, "unlimited")
    member = add_member(session, org, Role.AGENT)
    with pytest.raises(PermissionDenied):
        sso.get_settings(session, user=member, organization_id=org.id)
    with pytest.raises(ValidationFailed) as refused:
        sso.save_oidc(
            session, user=owner, organization_id=org.id, issuer="http://idp.example.com",
            client_id="", client_secret="",
        )  # fmt: skip
    assert set(refused.value.errors) == {"issuer", "client_id", "client_secret"}
    assert "https://" in refused.value.errors["issuer"]
    # the server fetches the issuer's documents: not from this machine or the private network
    for private in (idp.issuer, "https://127.0.0.1:9", "https://10.1.2.3", "https://localhost"):
        with pytest.raises(ValidationFailed) as refused:
            sso.save_oidc(
                session, user=owner, organization_id=org.id, issuer=private,
                client_id="c", client_secret="s",
            )  # fmt: skip
        assert "issuer" in refused.value.errors
    from orgportal.config import settings

    monkeypatch.setattr(settings, "sso_allow_private_idp", True)  # as the tests' IdP needs
    sso.save_oidc(
        session, user=owner, organization_id=org.id, issuer=idp.issuer,
        client_id=client.client_id, client_secret=client.client_secret,
    )  # fmt: skip
    row = session.get(SsoConnection, org.id)
    assert row.oidc_client_secret_box.startswith("v1.")
    assert client.client_secret not in row.oidc_client_secret_box
    shown = sso.get_settings(session, user=owner, organization_id=org.id)
    assert shown.protocol == "oidc" and shown.has_client_secret
    assert shown.redirect_uri.endswith("/api/sso/oidc/callback")


def test_enforce_needs_a_successful_test_then_refuses_passwords_except_the_owners(
    session, connected, idp
):
    owner, org, _ = connected
    admin = add_member(session, org, Role.ADMIN, make_user(session, "admin@acme.com"))
    with pytest.raises(Conflict, match="Test connection"):
        sso.set_enforced(session, user=owner, organization_id=org.id, enforced=True)
    session.rollback()
    # Test connection: a real sign-in at the IdP, run by an Admin
    url = sso.start_test(session, user=admin, organization_id=org.id, browser=BROWSER)
    session.commit()
    back = at_provider(url)
    claimed = sso.claim_login(session, state=back["state"], browser=BROWSER)
    finished = sso.finish_oidc(session, claimed, code=back["code"], browser=BROWSER)
    session.commit()
    assert finished.ticket == "" and finished.test_email == "alice@acme.com"
    assert accounts.find_user(session, "alice@acme.com") is None  # a test signs nobody in
    sso.set_enforced(session, user=admin, organization_id=org.id, enforced=True)
    session.commit()
    with pytest.raises(PasswordRefused, match="Continue with SSO"):
        accounts.sign_in(session, email="admin@acme.com", password=PASSWORD, browser=BROWSER)
    session.rollback()
    # break-glass: the Owner still signs in with a password, and it is audited
    assert accounts.sign_in(session, email="owner@acme.com", password=PASSWORD, browser=BROWSER)
    session.commit()
    actions = audit_actions(session, org.id)
    assert actions.count("sso.break_glass_sign_in") == 1
    assert {"sso.tested", "sso.enforcement_changed"} <= set(actions)
    # someone at another domain is not affected
    outsider = make_user(session, "carol@elsewhere.com")
    add_member(session, org, Role.AGENT, outsider)
    assert accounts.sign_in(
        session, email="carol@elsewhere.com", password=PASSWORD, browser=BROWSER
    )
    # the SSO sign-in itself works for the Admin's domain colleagues
    assert sign_in(session).ticket
    # changing the connection clears the test and ends enforcement
    client = idp.add_client(sso.redirect_uri())
    sso.save_oidc(
        session, user=owner, organization_id=org.id, issuer=idp.issuer,
        client_id=client.client_id, client_secret=client.client_secret,
    )  # fmt: skip
    session.commit()
    row = session.get(SsoConnection, org.id)
    assert row.tested_at is None and not row.enforced
    assert accounts.sign_in(session, email="admin@acme.com", password=PASSWORD, browser=BROWSER)


def _password_session(session: Session, user: User) -> str:
    ticket = accounts.issue_sign_in_ticket(session, user, browser=BROWSER)
    raw, _ = accounts.open_session(session, ticket, browser=BROWSER)
    session.commit()
    return raw


def test_turning_enforcement_on_ends_the_domains_password_sessions_but_not_sso_ones(
    session, connected
):
    owner, org, _ = connected
    admin = add_member(session, org, Role.ADMIN, make_user(session, "admin@acme.com"))
    outsider = add_member(session, org, Role.AGENT, make_user(session, "carol@elsewhere.com"))
    by_password = {who.email: _password_session(session, who) for who in (owner, admin, outsider)}
    by_sso, _ = accounts.open_session(session, sign_in(session).ticket, browser=BROWSER)
    session.commit()
    row = session.get(SsoConnection, org.id)
    row.tested_at = utcnow()
    session.add(row)
    session.commit()

    sso.set_enforced(session, user=owner, organization_id=org.id, enforced=True)
    session.commit()

    with pytest.raises(NotAuthenticated):  # the Admin's password session ended
        accounts.authenticate(session, by_password["admin@acme.com"])
    session.rollback()
    # the Owner (break-glass), someone at another domain and the IdP's own session stay
    for kept in (by_password["owner@acme.com"], by_password["carol@elsewhere.com"], by_sso):
        assert accounts.authenticate(session, kept)
    summary = session.exec(
        select(AuditEvent.summary).where(
            AuditEvent.organization_id == org.id,
            AuditEvent.action == "sso.enforcement_changed",
        )
    ).one()
    assert "1 password or passkey session ended" in summary


def test_enforcement_lapses_when_the_plan_no_longer_includes_sso(session, connected):
    owner, org, _ = connected
    row = session.get(SsoConnection, org.id)
    row.tested_at, row.enforced = utcnow(), True
    session.add(row)
    member = add_member(session, org, Role.AGENT, make_user(session, "dave@acme.com"))
    session.commit()
    with pytest.raises(PasswordRefused):
        accounts.sign_in(session, email=member.email, password=PASSWORD, browser=BROWSER)
    session.rollback()
    for subscription in session.exec(select(Subscription)).all():
        subscription.plan_key = "professional"
        session.add(subscription)
    session.commit()
    assert accounts.sign_in(session, email=member.email, password=PASSWORD, browser=BROWSER)


def test_sessions_of_an_unconfirmed_squatter_end(session, connected):
    squatter = make_user(session, "alice@acme.com", confirmed=False)
    ticket = accounts.issue_sign_in_ticket(session, squatter, browser=BROWSER)
    raw, _ = accounts.open_session(session, ticket, browser=BROWSER)
    session.commit()
    sign_in(session)
    row = session.exec(select(UserSession).where(UserSession.user_id == squatter.id)).first()
    assert row.revoked_at is not None

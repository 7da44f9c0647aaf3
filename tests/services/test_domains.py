"""Authorized Domains: IDNA normalization, refusals that say what to enter, subdomain matching,
and who may change the list."""

import pytest
from sqlmodel import Session, select

from orgportal.models import AuthorizedDomain, Role
from orgportal.services import domains
from orgportal.services.domains import OriginNotAllowed
from orgportal.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from orgportal.services.validation import FieldError
from tests.factories import add_member, make_org, make_user
from tests.services.test_tickets import audit_actions


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Bücher.example", "xn--bcher-kva.example"),
        ("  Shop.Example.COM. ", "shop.example.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
    ],
)
def test_domains_are_stored_idna_lower_case(raw: str, stored: str):
    assert domains.normalize_domain(raw) == stored


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("https://Shop.Example.com/x", "Enter just the domain, like shop.example.com."),
        ("shop.example.com/contact", "Enter just the domain, like shop.example.com."),
        ("example.com:8080", "Enter just the domain, like example.com."),
        ("http://Bücher.example", "Enter just the domain, like bücher.example."),
        ("*.example.com", "Enter the domain without wildcards, like example.com"),
        ("192.168.1.20", "not an IP address"),
        ("localhost", "Enter a full domain name"),
        ("exa_mple.com", "is not a valid domain name"),
        ("-bad-.com", "is not a valid domain name"),
        ("", "Enter a domain"),
    ],
)
def test_anything_but_a_bare_domain_is_refused_with_what_to_enter(raw: str, message: str):
    with pytest.raises(FieldError) as refused:
        domains.normalize_domain(raw)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("host", "domain", "matches"),
    [
        ("example.com", "example.com", True),
        ("shop.example.com", "example.com", True),
        ("a.b.example.com", "example.com", True),
        ("evilexample.com", "example.com", False),
        ("example.com.evil.net", "example.com", False),
        ("example.com", "shop.example.com", False),
    ],
)
def test_a_domain_covers_its_subdomains_only(host: str, domain: str, matches: bool):
    assert domains.host_matches(host, domain) is matches


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://Shop.Example.com", "shop.example.com"),
        ("http://shop.example.com:8443", "shop.example.com"),
        ("https://xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("null", None),
        ("", None),
        (None, None),
        ("ftp://example.com", None),
        ("http://[::1]:3000", None),
    ],
)
def test_origin_hosts(origin, host):
    assert domains.origin_host(origin) == host


def test_add_remove_and_duplicates_are_audited(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    added = domains.add_domain(session, user=owner, organization_id=org.id, domain="Bücher.example")
    domains.add_domain(session, user=owner, organization_id=org.id, domain="example.com")
    session.commit()
    for same in ("xn--bcher-kva.example", "BÜCHER.example", "Example.COM."):
        with pytest.raises(Conflict, match="already an authorized domain"):
            domains.add_domain(session, user=owner, organization_id=org.id, domain=same)
    with pytest.raises(ValidationFailed) as refused:
        domains.add_domain(
            session, user=owner, organization_id=org.id, domain="https://exa_mple.com/"
        )
    assert refused.value.errors == {
        "domain": "exa_mple.com is not a valid domain name. Enter one like shop.example.com."
    }

    domains.remove_domain(session, user=owner, organization_id=org.id, domain_id=added.id)
    session.commit()
    listed = domains.list_domains(session, user=owner, organization_id=org.id)
    assert [d.domain for d in listed] == ["example.com"]
    assert [a for a in audit_actions(session, org.id) if a.startswith("support.domain")] == [
        "support.domain_added",
        "support.domain_added",
        "support.domain_removed",
    ]


def test_agents_and_other_organizations_cannot_change_domains(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    agent = add_member(session, org, Role.AGENT)
    admin = add_member(session, org, Role.ADMIN)
    stranger = make_user(session)
    theirs = make_org(session, stranger, "Stranger Org")
    mine = domains.add_domain(session, user=admin, organization_id=org.id, domain="example.com")
    session.commit()

    with pytest.raises(PermissionDenied):
        domains.add_domain(session, user=agent, organization_id=org.id, domain="evil.com")
    with pytest.raises(PermissionDenied):
        domains.remove_domain(session, user=agent, organization_id=org.id, domain_id=mine.id)
    with pytest.raises(NotFound):
        domains.add_domain(session, user=stranger, organization_id=org.id, domain="evil.com")
    with pytest.raises(NotFound):  # through their own organization
        domains.remove_domain(session, user=stranger, organization_id=theirs.id, domain_id=mine.id)
    assert [d.domain for d in session.exec(select(AuthorizedDomain))] == ["example.com"]


def test_origin_authorization(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    domains.add_domain(session, user=owner, organization_id=org.id, domain="example.com")
    session.commit()

    for origin in ("https://example.com", "https://shop.example.com", "http://a.b.example.com:81"):
        assert domains.authorize_origin(session, slug=org.slug, origin=origin).id == org.id
    for origin in ("https://evilexample.com", "https://example.com.evil.net", None, "null"):
        with pytest.raises(OriginNotAllowed):
            domains.authorize_origin(session, slug=org.slug, origin=origin)
    with pytest.raises(NotFound):
        domains.authorize_origin(session, slug="no-such-org", origin="https://example.com")


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("https://shop.example.com/", "shop.example.com"),
        ("https://Shop.Example.com:8443/contact?x=1#top", "shop.example.com"),
        ("http://user@shop.example.com", "shop.example.com"),
        ("shop.example.com/", "shop.example.com"),
        ("shop.example.com.", "shop.example.com"),
        ("shop.example.com:8080", "shop.example.com"),
        ("  Bücher.example/ ", "bücher.example"),
        ("shop.example.com", "shop.example.com"),
        ("*.example.com", "*.example.com"),  # left for normalize_domain's own message
        ("shop.example.com:99999", "shop.example.com:99999"),
    ],
)
def test_pasted_addresses_are_cleaned_to_the_domain(raw: str, cleaned: str):
    assert domains.clean_domain(raw) == cleaned


def test_a_pasted_address_is_saved_as_its_domain_and_the_message_says_so(session: Session):
    owner = make_user(session)
    org = make_org(session, owner)
    row = domains.add_domain(
        session, user=owner, organization_id=org.id, domain="https://shop.example.com/"
    )
    assert row.domain == "shop.example.com"
    assert domains.saved_message("https://shop.example.com/") == (
        "Domain authorized. Saved as shop.example.com."
    )
    assert domains.saved_message("Shop.Example.com") == "Domain authorized."
    session.commit()
    with pytest.raises(Conflict, match="already an authorized domain"):
        domains.add_domain(
            session, user=owner, organization_id=org.id, domain="http://SHOP.example.com:80/x"
        )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("https://*.example.com/", "without wildcards"),
        ("https://192.168.1.20/", "not an IP address"),
        ("http://localhost:3000/", "Enter a full domain name"),
        ("https:///path", "Enter just the domain"),
        ("", "Enter a domain"),
    ],
)
def test_a_cleaned_address_is_still_validated(session: Session, raw: str, message: str):
    owner = make_user(session)
    org = make_org(session, owner)
    with pytest.raises(ValidationFailed) as refused:
        domains.add_domain(session, user=owner, organization_id=org.id, domain=raw)
    assert message in refused.value.errors["domain"]

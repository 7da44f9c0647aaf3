"""SAML 2.0, the service-provider side (SPEC §16), with pysaml2 (which verifies XML
signatures with the `xmlsec1` binary).

Each organization is its own service provider: entity id, Assertion Consumer Service URL
and key pair (the key sealed in the database, written to a private temporary file only for
the moment pysaml2 needs it). The AuthnRequest goes by HTTP-Redirect; the response comes
back by HTTP-POST. An answer is accepted only when:

- it is a single Response holding exactly one Assertion, directly under it, whose own
  enveloped Signature references that assertion's ID (anything else is refused before
  pysaml2 reads it: XML signature wrapping moves or copies a signed assertion);
- the assertion's signature verifies against the IdP's certificate from its metadata
  (`want_assertions_signed`; an unsigned assertion is refused even in a signed response);
- its issuer is the IdP of the metadata; the Response `Destination` and the bearer
  SubjectConfirmationData `Recipient` are our ACS URL;
- its AudienceRestriction names our entity id (required: pysaml2 alone accepts none);
- NotBefore / NotOnOrAfter hold (60 s of clock leeway);
- `InResponseTo` is an AuthnRequest we sent (no unsolicited, IdP-initiated responses);
- its ID was not accepted before (`sso.py` remembers IDs until they expire: no replay).
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import defusedxml.ElementTree as SafeET
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

from orgportal.adapters import webhook_http
from orgportal.config import settings
from orgportal.services.errors import DomainError
from orgportal.services.sso_oidc import Identity, check_public_url

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
LEEWAY_SECONDS = 60
MAX_RESPONSE_BYTES = 512 * 1024
EMAIL_ATTRIBUTES = ("email", "mail", "emailaddress", "emailAddress",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")  # fmt: skip
FIRST_NAME_ATTRIBUTES = ("givenName", "firstName", "first_name",
                         "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname")  # fmt: skip
LAST_NAME_ATTRIBUTES = ("sn", "surname", "lastName", "last_name",
                        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname")  # fmt: skip


class SamlRefused(DomainError):
    """The IdP's metadata or answer failed a check; the message says which."""


@dataclass(frozen=True)
class ServiceProvider:
    """Our side, as pasted into the IdP."""

    entity_id: str
    acs_url: str


@dataclass(frozen=True)
class KeyPair:
    key_pem: str
    cert_pem: str


@dataclass(frozen=True)
class Accepted:
    """A verified assertion: who, which request it answers, and until when to remember it."""

    identity: Identity
    in_response_to: str
    assertion_id: str
    expires_at: datetime


def xmlsec_binary() -> str:
    found = shutil.which("xmlsec1")
    if not found:
        raise SamlRefused("SAML needs the xmlsec1 program on the server (apt-get install xmlsec1).")
    return found


def new_key_pair(common_name: str) -> KeyPair:
    """A fresh RSA key and a self-signed certificate for our service provider."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return KeyPair(key_pem, cert.public_bytes(serialization.Encoding.PEM).decode())


def fetch_metadata(url: str) -> str:
    """The IdP's metadata from its URL (https on a public address; no redirects followed)."""
    url = (url or "").strip()
    try:
        check_public_url(url)  # https:// on public addresses, as for OIDC (SSRF)
    except ValueError as exc:
        raise SamlRefused(str(exc)) from exc
    # connected to the address checked now (DNS rebinding), cut at MAX_RESPONSE_BYTES
    transport = webhook_http.PinnedTransport(
        allow_private=settings.sso_allow_private_idp, timeout=10.0, limit=MAX_RESPONSE_BYTES
    )
    try:
        with httpx.Client(transport=transport, follow_redirects=False) as client:
            answer = client.get(url)
        answer.raise_for_status()
    except httpx.ReadError as exc:
        raise SamlRefused("The metadata is too large.") from exc
    except httpx.HTTPError as exc:
        raise SamlRefused(f"Could not read the metadata at {url} ({type(exc).__name__}).") from exc
    return answer.text


def idp_entity_id(metadata_xml: str) -> str:
    """The IdP's entity id in `metadata_xml`, refused unless it is one IdP with a
    single sign-on endpoint (HTTP-Redirect) and a signing certificate."""
    if not metadata_xml.strip():
        raise SamlRefused("Paste or upload the identity provider's metadata XML.")
    if len(metadata_xml.encode()) > MAX_RESPONSE_BYTES:
        raise SamlRefused("The metadata is too large.")
    try:
        config = SPConfig()
        config.load({
            "entityid": "urn:orgportal:metadata-check",
            "xmlsec_binary": xmlsec_binary(),
            "metadata": {"inline": [metadata_xml]},
        })  # fmt: skip
        idps = list(config.metadata.identity_providers())
    except SamlRefused:
        raise
    except Exception as exc:  # pysaml2 raises many kinds for bad XML
        raise SamlRefused("That is not valid SAML metadata XML.") from exc
    if len(idps) != 1:
        raise SamlRefused("The metadata must describe exactly one identity provider.")
    entity_id = idps[0]
    try:
        sso = config.metadata.single_sign_on_service(entity_id, BINDING_HTTP_REDIRECT)
    except Exception:
        sso = []
    if not sso:
        raise SamlRefused("The identity provider's metadata has no HTTP-Redirect sign-in address.")
    if not config.metadata.certs(entity_id, "idpsso", "signing"):
        raise SamlRefused("The identity provider's metadata has no signing certificate.")
    return entity_id


@contextmanager
def _client(sp: ServiceProvider, keys: KeyPair, metadata_xml: str) -> Iterator[Saml2Client]:
    """A pysaml2 client for one use; the key lives in a private temporary file meanwhile."""
    with tempfile.TemporaryDirectory(prefix="orgportal-saml-") as folder:
        key_file, cert_file = Path(folder) / "sp.key", Path(folder) / "sp.crt"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(keys.key_pem)
        cert_file.write_text(keys.cert_pem)
        config = SPConfig()
        config.load({
            "entityid": sp.entity_id,
            "xmlsec_binary": xmlsec_binary(),
            "key_file": str(key_file),
            "cert_file": str(cert_file),
            "encryption_keypairs": [{"key_file": str(key_file), "cert_file": str(cert_file)}],
            "metadata": {"inline": [metadata_xml]} if metadata_xml else {},
            "accepted_time_diff": LEEWAY_SECONDS,
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)],
                    },
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "allow_unsolicited": False,
                    "authn_requests_signed": False,
                    "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
                    "name_id_format_allow_create": True,
                },
            },
        })  # fmt: skip
        yield Saml2Client(config)


def sp_metadata(sp: ServiceProvider, keys: KeyPair) -> str:
    """Our service provider's metadata XML, for IdPs that import it."""
    with _client(sp, keys, "") as client:
        return create_metadata_string(None, config=client.config, valid=24 * 365).decode()


def authn_request(
    sp: ServiceProvider, keys: KeyPair, metadata_xml: str, *, relay_state: str
) -> tuple[str, str]:
    """(AuthnRequest ID, the IdP address to send the browser to: HTTP-Redirect binding)."""
    entity_id = idp_entity_id(metadata_xml)
    with _client(sp, keys, metadata_xml) as client:
        request_id, info = client.prepare_for_authenticate(
            entityid=entity_id, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT
        )
    location = dict(info["headers"])["Location"]
    return request_id, location


def precheck(xml: str) -> str:
    """The ID of the one assertion, refused unless the document is one Response with
    exactly one Assertion directly under it, carrying its own enveloped Signature that
    references it (no DOCTYPE or entities: defusedxml). This refuses XML signature
    wrapping, which adds a second assertion or moves the signed one elsewhere."""
    try:
        root = SafeET.fromstring(xml)
    except Exception as exc:  # defusedxml's own errors, ParseError
        raise SamlRefused("The SAML response is not well-formed XML.") from exc
    if root.tag != f"{{{SAMLP}}}Response":
        raise SamlRefused("The SAML message is not a Response.")
    assertions = list(root.iter(f"{{{SAML}}}Assertion"))
    encrypted = list(root.iter(f"{{{SAML}}}EncryptedAssertion"))
    if encrypted:
        raise SamlRefused("Encrypted assertions are not accepted: send it signed, unencrypted.")
    if len(assertions) != 1 or assertions[0] not in list(root):
        raise SamlRefused(
            "The SAML response must hold exactly one assertion, directly in the response "
            "(signature wrapping refused)."
        )
    assertion = assertions[0]
    assertion_id = assertion.get("ID") or ""
    signatures = [child for child in assertion if child.tag == f"{{{DS}}}Signature"]
    references = [ref.get("URI") for sig in signatures for ref in sig.iter(f"{{{DS}}}Reference")]
    if not signatures:
        raise SamlRefused("The SAML assertion is not signed.")
    if len(signatures) != 1 or references != [f"#{assertion_id}"] or not assertion_id:
        raise SamlRefused(
            "The assertion's signature does not cover the assertion (signature wrapping refused)."
        )
    if len(list(root.iter(f"{{{DS}}}Signature"))) > 2:
        raise SamlRefused("The SAML response has unexpected signatures.")
    _time_window(assertion)
    return assertion_id


def _time_window(assertion) -> None:
    """NotBefore / NotOnOrAfter of the conditions and bearer confirmations, with the clock
    leeway, said in words (pysaml2 checks them again after the signature)."""
    from saml2.time_util import str_to_time

    now = datetime.now(UTC)
    leeway = timedelta(seconds=LEEWAY_SECONDS)
    elements = [*assertion.iter(f"{{{SAML}}}Conditions"),
                *assertion.iter(f"{{{SAML}}}SubjectConfirmationData")]  # fmt: skip
    for element in elements:
        for name, late in (("NotOnOrAfter", True), ("NotBefore", False)):
            value = element.get(name)
            if not value:
                continue
            try:
                moment = datetime(*str_to_time(value)[:6], tzinfo=UTC)
            except (ValueError, TypeError) as exc:
                raise SamlRefused(f"The assertion's {name} is not a time.") from exc
            if late and now >= moment + leeway:
                raise SamlRefused("The SAML assertion has expired.")
            if not late and now + leeway < moment:
                raise SamlRefused("The SAML assertion is not valid yet.")


def accept(
    sp: ServiceProvider,
    keys: KeyPair,
    metadata_xml: str,
    *,
    saml_response_b64: str,
    outstanding: dict[str, str],
) -> Accepted:
    """Verify a POSTed SAMLResponse (base64) answering one of `outstanding` (request ID →
    anything); the identity and what to remember, or SamlRefused."""
    import base64
    import binascii

    if len(saml_response_b64) > MAX_RESPONSE_BYTES:
        raise SamlRefused("The SAML response is too large.")
    try:
        xml = base64.b64decode(saml_response_b64, validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SamlRefused("The SAML response is not base64-encoded XML.") from exc
    assertion_id = precheck(xml)
    idp = idp_entity_id(metadata_xml)
    with _client(sp, keys, metadata_xml) as client:
        try:
            response = client.parse_authn_request_response(
                saml_response_b64, BINDING_HTTP_POST, outstanding=outstanding
            )
        except Exception as exc:  # pysaml2 raises a different class for each check
            raise SamlRefused(_problem(exc)) from exc
    if response is None or response.assertion is None:
        raise SamlRefused("The SAML response holds no assertion.")
    assertion = response.assertion
    if assertion.id != assertion_id:
        raise SamlRefused("The verified assertion is not the one in the response.")
    if assertion.issuer is None or assertion.issuer.text != idp:
        raise SamlRefused("The assertion comes from another identity provider.")
    audiences = [
        audience.text.strip()
        for restriction in (
            assertion.conditions.audience_restriction if assertion.conditions else []
        )
        for audience in restriction.audience
        if audience.text
    ]
    if sp.entity_id not in audiences:
        raise SamlRefused("The assertion is for another service provider (audience).")
    if response.in_response_to not in outstanding:
        raise SamlRefused("The SAML response answers no sign-in of ours (InResponseTo).")
    return Accepted(
        identity=_identity(response),
        in_response_to=response.in_response_to,
        assertion_id=assertion_id,
        expires_at=_not_on_or_after(assertion),
    )


def _identity(response) -> Identity:
    attributes = response.ava or {}

    def first(names: tuple[str, ...]) -> str:
        for name in names:
            values = attributes.get(name)
            if values:
                return str(values[0]).strip()
        return ""

    name_id = response.assertion.subject.name_id
    subject = (name_id.text or "").strip() if name_id is not None else ""
    email = first(EMAIL_ATTRIBUTES)
    if not email and name_id is not None and name_id.format == NAMEID_FORMAT_EMAILADDRESS:
        email = subject
    if not subject:
        raise SamlRefused("The assertion names no subject (NameID).")
    return Identity(
        subject=subject,
        email=email.lower(),
        email_verified=None,
        first_name=first(FIRST_NAME_ATTRIBUTES)[:80],
        last_name=first(LAST_NAME_ATTRIBUTES)[:80],
    )


def _not_on_or_after(assertion) -> datetime:
    """When the assertion stops being valid (its conditions or bearer confirmation);
    remembered until then, with the clock leeway."""
    from saml2.time_util import str_to_time

    times = []
    if assertion.conditions is not None and assertion.conditions.not_on_or_after:
        times.append(assertion.conditions.not_on_or_after)
    for confirmation in assertion.subject.subject_confirmation or []:
        data = confirmation.subject_confirmation_data
        if data is not None and data.not_on_or_after:
            times.append(data.not_on_or_after)
    if not times:
        raise SamlRefused("The assertion has no expiry (NotOnOrAfter).")
    latest = max(datetime(*str_to_time(t)[:6], tzinfo=UTC) for t in times)
    return latest + timedelta(seconds=LEEWAY_SECONDS)


def _problem(exc: Exception) -> str:
    """pysaml2's refusal, in words."""
    kind = type(exc).__name__
    text = str(exc)
    lowered = text.lower()
    if kind in ("SignatureError", "MissingKey") or "signature" in lowered or "signed" in lowered:
        return "The SAML assertion's signature is missing or not valid."
    if kind == "ResponseLifetimeExceed" or "too old" in lowered or "on_or_after" in lowered:
        return "The SAML assertion has expired."
    if kind == "ToEarly" or "too early" in lowered:
        return "The SAML assertion is not valid yet."
    if kind in ("UnsolicitedResponse",) or "unsolicited" in lowered:
        return "The SAML response answers no sign-in of ours (InResponseTo)."
    if "audience" in lowered:
        return "The assertion is for another service provider (audience)."
    if "recipient" in lowered or "destination" in lowered:
        return "The SAML response was sent to another address (recipient/destination)."
    if kind == "StatusError" or "status" in lowered:
        return f"The identity provider refused the sign-in ({text[:200]})."
    return f"The SAML response was refused ({kind}: {text[:200]})."

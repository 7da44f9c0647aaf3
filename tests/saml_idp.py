"""A real SAML 2.0 identity provider for the tests, built on pysaml2's IdP side (`Server`),
signing with a key and certificate made here (cryptography), verified by `xmlsec1`.

It takes AuthnRequests by HTTP-Redirect at `/sso/redirect` and answers by HTTP-POST: a
page whose form posts the SAMLResponse to the service provider's ACS (as every IdP does).
Who signs in is `idp.user` (already signed in at the IdP). `respond(url)` makes the
response for an AuthnRequest URL without a browser, for the service tests, and `fault`
makes the IdP misbehave on purpose: `unsigned`, `wrong_audience`, `expired`.
"""

import base64
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AUTHN_PASSWORD, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server


@dataclass
class SamlUser:
    email: str
    given_name: str = "Ada"
    surname: str = "Example"


def key_and_cert(folder: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


class SamlIdp:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="saml-idp-"))
        self.key_file, self.cert_file = key_and_cert(self.folder, "idp")
        self.sp_metadata: list[str] = []
        self.user = SamlUser(email="ada@acme.com")
        self.fault = ""
        self._httpd: ThreadingHTTPServer | None = None

    # --- life -----------------------------------------------------------------------------

    def start(self) -> "SamlIdp":
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return

            def do_GET(self):
                idp._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def base(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def entity_id(self) -> str:
        return f"{self.base}/metadata"

    def trust_sp(self, metadata_xml: str) -> None:
        """Register a service provider (its metadata, as an IdP admin imports it)."""
        self.sp_metadata.append(metadata_xml)

    # --- pysaml2 ------------------------------------------------------------------------

    def server(self) -> Server:
        lifetime = {"minutes": -10} if self.fault == "expired" else {"minutes": 5}
        config = IdPConfig()
        config.load({
            "entityid": self.entity_id,
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
            "metadata": {"inline": self.sp_metadata} if self.sp_metadata else {},
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(f"{self.base}/sso/redirect", BINDING_HTTP_REDIRECT)],
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "policy": {"default": {"lifetime": lifetime, "attribute_restrictions": None}},
                    "sign_assertion": True,
                },
            },
        })  # fmt: skip
        return Server(config=config)

    def metadata(self) -> str:
        return create_metadata_string(None, config=self.server().config, valid=24).decode()

    def respond(self, request_url: str) -> tuple[str, str, str]:
        """(ACS URL, SAMLResponse base64, RelayState) for an AuthnRequest redirect URL."""
        query = dict(parse_qsl(urlsplit(request_url).query))
        server = self.server()
        parsed = server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        request = parsed.message
        sp_entity_id = request.issuer.text
        acs_url = request.assertion_consumer_service_url
        audience = (
            "https://someone-else.example/sp" if self.fault == "wrong_audience" else sp_entity_id
        )
        response = server.create_authn_response(
            identity={
                "email": [self.user.email],
                "givenName": [self.user.given_name],
                "sn": [self.user.surname],
            },
            in_response_to=request.id,
            destination=acs_url,
            sp_entity_id=audience,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=self.user.email),
            authn={"class_ref": AUTHN_PASSWORD, "authn_auth": self.entity_id},
            sign_assertion=self.fault != "unsigned",
            sign_response=False,
        )
        encoded = base64.b64encode(str(response).encode()).decode()
        return acs_url, encoded, query.get("RelayState", "")

    # --- HTTP -----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        if parts.path == "/metadata":
            body = self.metadata().encode()
            content_type = "application/samlmetadata+xml"
            status = 200
        elif parts.path == "/sso/redirect":
            acs_url, saml_response, relay_state = self.respond(self.base + handler.path)
            body = _post_form(acs_url, saml_response, relay_state).encode()
            content_type, status = "text/html; charset=utf-8", 200
        else:
            body, content_type, status = b"not found", "text/plain", 404
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def _post_form(acs_url: str, saml_response: str, relay_state: str) -> str:
    """The HTTP-POST binding's page: a form the IdP's page posts at once."""
    from html import escape

    return f"""<!doctype html><html lang="en"><head><title>Signing you in</title></head>
<body onload="document.forms[0].submit()"><main><h1>Signing you in</h1>
<form method="post" action="{escape(acs_url)}">
<input type="hidden" name="SAMLResponse" value="{escape(saml_response)}">
<input type="hidden" name="RelayState" value="{escape(relay_state)}">
<button type="submit">Continue</button></form></main></body></html>"""


BINDING_POST = BINDING_HTTP_POST

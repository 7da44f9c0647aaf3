"""A real OpenID Connect provider for the tests, built on authlib's server side.

Authorization code flow with PKCE (S256, required) and a required nonce, id tokens signed
RS256 with a key made here, published at `/jwks`, and discovery at
`/.well-known/openid-configuration`. It runs in a thread on a free port on 127.0.0.1.

Who signs in at the provider is `provider.user` (the person already signed in to their
company's IdP): `/authorize` answers at once with the code, as an IdP with a live session
does. `provider.fault` makes it misbehave on purpose, so the tests can show what the app
refuses: `wrong_nonce`, `wrong_audience`, `expired`, `bad_signature`, `wrong_issuer`.
"""

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey


@dataclass
class IdpUser:
    sub: str
    email: str
    given_name: str = "Alice"
    family_name: str = "Example"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope):
        return " ".join(s for s in scope.split() if s in ("openid", "email", "profile"))

    def check_redirect_uri(self, redirect_uri):
        return not self.redirect_uris or redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: IdpUser
    nonce: str
    code_challenge: str
    code_challenge_method: str
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class Request(OAuth2Request):
    def __init__(self, method: str, uri: str, data: dict, headers: dict):
        super().__init__(method, uri, headers=headers)
        self.payload = BasicOAuth2Payload(data)
        self._data = data

    @property
    def args(self):
        return self._data

    @property
    def form(self):
        return self._data


class OidcProvider:
    """The provider: `start()`, then `issuer`, `add_client(...)`, `user`, `fault`."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1", "use": "sig"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "test-1"})  # not published
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.user = IdpUser(sub="idp-alice", email="alice@acme.com")
        self.fault = ""
        self.token_requests = 0
        self._httpd: ThreadingHTTPServer | None = None
        self.server = self._build_server()

    # --- life -----------------------------------------------------------------------------

    def start(self) -> "OidcProvider":
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                return

            def do_GET(self):
                provider._handle(self, "GET", b"")

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                provider._handle(self, "POST", self.rfile.read(length))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def issuer(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add_client(self, redirect_uri: str = "") -> Client:
        client = Client(
            client_id=f"client-{secrets.token_hex(4)}",
            client_secret=secrets.token_urlsafe(24),
            redirect_uris=[redirect_uri] if redirect_uri else [],
        )
        self.clients[client.client_id] = client
        return client

    # --- authlib's server -----------------------------------------------------------------

    def _build_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id):
                return provider.clients.get(client_id)

            def save_token(self, token, request):
                return None

            def send_signal(self, name, *args, **kwargs):
                return None

            def create_oauth2_request(self, request):
                return request

            def create_json_request(self, request):
                return request

            def handle_response(self, status, body, headers):
                return status, body, headers

        class CodeGrant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, request):
                provider.codes[code] = Code(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=request.payload.redirect_uri or "",
                    scope=request.payload.scope or "",
                    user=request.user,
                    nonce=request.payload.data.get("nonce", ""),
                    code_challenge=request.payload.data.get("code_challenge", ""),
                    code_challenge_method=request.payload.data.get("code_challenge_method", ""),
                )

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce, request):
                return any(code.nonce == nonce for code in provider.codes.values())

            def resolve_client_private_key(self, client):
                return provider.other_key if provider.fault == "bad_signature" else provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": "test-1"}

            def get_client_claims(self, client):
                now = int(time.time())
                audience = (
                    "someone-else" if provider.fault == "wrong_audience" else client.client_id
                )
                issuer = "http://evil.test" if provider.fault == "wrong_issuer" else provider.issuer
                if provider.fault == "expired":
                    return {"iss": issuer, "aud": [audience], "iat": now - 7200, "exp": now - 3600}
                return {"iss": issuer, "aud": [audience], "iat": now, "exp": now + 300}

            def get_authorization_code_claims(self, authorization_code):
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.fault == "wrong_nonce":
                    claims["nonce"] = "not-the-nonce-that-was-sent"
                return claims

            def generate_user_info(self, user, scope):
                return UserInfo(
                    sub=user.sub,
                    email=user.email,
                    email_verified=True,
                    given_name=user.given_name,
                    family_name=user.family_name,
                )

        server = Server()
        server.register_token_generator(
            "default", BearerTokenGenerator(lambda *a, **k: secrets.token_urlsafe(32))
        )
        server.register_grant(
            CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)]
        )
        return server

    # --- HTTP -----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        parts = urlsplit(handler.path)
        data = dict(parse_qsl(parts.query))
        if method == "POST":
            data.update(parse_qsl(body.decode()))
        headers = {k: v for k, v in handler.headers.items()}
        if parts.path == "/.well-known/openid-configuration":
            self._send(
                handler, 200, json.dumps(self.discovery()), {"Content-Type": "application/json"}
            )
        elif parts.path == "/jwks":
            keys = {"keys": [self.key.as_dict(private=False)]}
            self._send(handler, 200, json.dumps(keys), {"Content-Type": "application/json"})
        elif parts.path == "/authorize":
            request = Request(method, self.issuer + handler.path, data, headers)
            request.user = self.user
            status, payload, out = self.server.create_authorization_response(
                request, grant_user=self.user
            )
            self._send(handler, status, payload, dict(out))
        elif parts.path == "/token" and method == "POST":
            self.token_requests += 1
            request = Request(method, self.issuer + handler.path, data, headers)
            status, payload, out = self.server.create_token_response(request)
            self._send(handler, status, payload, dict(out))
        else:
            self._send(handler, 404, "not found", {})

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload, headers: dict) -> None:
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        if isinstance(body, str):
            body = body.encode()
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

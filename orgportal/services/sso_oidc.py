"""OpenID Connect, the relying-party side (SPEC §16), with authlib (and joserfc, which
authlib's own JOSE is built on).

Discovery from `<issuer>/.well-known/openid-configuration` (its `issuer` must be the one
configured), the authorization code flow with PKCE (S256) and a nonce, the code exchanged
at the token endpoint with the client secret, and the id token checked here: its signature
against the provider's JWKS (asymmetric algorithms only: never `none`, never HMAC with a
public key), `iss`, `aud` (and `azp` when there are several audiences), `exp`/`iat` (60 s
of clock leeway), `nonce` and `sub`.

No database here: `sso.py` keeps the state, nonce and verifier of each sign-in.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from orgportal.adapters import webhook_http
from orgportal.config import settings
from orgportal.services.errors import DomainError

TIMEOUT = 10.0  # seconds
MAX_DOCUMENT_BYTES = 512 * 1024  # a discovery document, key set or token answer
SCOPE = "openid email profile"
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
LEEWAY_SECONDS = 60


class OidcRefused(DomainError):
    """The provider or its answer failed a check; the message says which."""


@dataclass(frozen=True)
class Provider:
    """What discovery said (only the parts used)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    auth_method: str  # client_secret_basic or client_secret_post


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in (from a verified id token)."""

    subject: str
    email: str
    email_verified: bool | None
    first_name: str
    last_name: str


def check_issuer_url(issuer: str) -> str:
    """The issuer (or an endpoint) as entered, refused unless https:// on public addresses
    (SSO_ALLOW_PRIVATE_IDP=1: http:// and private addresses too). The server fetches it, so
    it must not reach into the private network (SSRF), as webhook targets must not."""
    value = (issuer or "").strip().rstrip("/")
    try:
        check_public_url(value)
    except ValueError as exc:
        raise OidcRefused(str(exc)) from exc
    return value


def check_public_url(url: str) -> None:
    """ValueError (its message for people) unless `url` may be fetched by the server."""
    allow_private = settings.sso_allow_private_idp
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise ValueError("The address must start with https://, like https://login.acme.com.")
    if not parts.hostname or parts.username or parts.password:
        raise ValueError("Enter a valid address, like https://login.acme.com.")
    if allow_private:
        return
    try:
        addresses = [ipaddress.ip_address(parts.hostname)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise ValueError(f"The address of {parts.hostname} could not be found.") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        if not webhook_http.is_public(address):
            raise ValueError(
                f"{parts.hostname} points to a private, loopback or link-local address "
                f"({address}): the identity provider must be on a public address."
            )


def idp_client() -> httpx.Client:
    """An HTTP client for the provider's documents: each request goes to the address just
    checked (`webhook_http.PinnedTransport`), never followed elsewhere."""
    return httpx.Client(transport=_pinned(), timeout=TIMEOUT, follow_redirects=False)


def _pinned() -> webhook_http.PinnedTransport:
    return webhook_http.PinnedTransport(
        allow_private=settings.sso_allow_private_idp, timeout=TIMEOUT, limit=MAX_DOCUMENT_BYTES
    )


def discover(issuer: str) -> Provider:
    """Read the provider's discovery document; its `issuer` must equal ours exactly."""
    issuer = check_issuer_url(issuer)
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        with idp_client() as client:
            answer = client.get(url)
        answer.raise_for_status()
        document = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcRefused(f"Could not read {url} ({type(exc).__name__}).") from exc
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
        raise OidcRefused("The provider's discovery document names another issuer.")
    try:
        endpoints = [
            document["authorization_endpoint"],
            document["token_endpoint"],
            document["jwks_uri"],
        ]
    except KeyError as exc:
        raise OidcRefused(f"The provider's discovery document has no {exc.args[0]}.") from exc
    for endpoint in endpoints:
        check_issuer_url(endpoint)  # https (or loopback) too
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    challenge_methods = document.get("code_challenge_methods_supported")
    if challenge_methods is not None and "S256" not in challenge_methods:
        raise OidcRefused("The provider does not support PKCE with S256.")
    return Provider(issuer, *endpoints, auth_method=method)


def new_secrets() -> tuple[str, str, str]:
    """(state, nonce, PKCE code verifier) for one sign-in, each random."""
    return generate_token(43), generate_token(43), generate_token(64)


def authorization_url(
    provider: Provider,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_verifier: str,
    login_hint: str = "",
) -> str:
    """Where to send the browser: the provider's authorization endpoint with the code flow,
    PKCE S256 (the verifier stays on the server), the state and the nonce."""
    client = OAuth2Client(
        client_id=client_id,
        scope=SCOPE,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    extra = {"login_hint": login_hint} if login_hint else {}
    url, _ = client.create_authorization_url(
        provider.authorization_endpoint,
        state=state,
        nonce=nonce,
        code_verifier=code_verifier,
        **extra,
    )
    assert create_s256_code_challenge(code_verifier) in url
    return url


def exchange_code(
    provider: Provider,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> str:
    """The id token the token endpoint returns for `code` (with the PKCE verifier)."""
    with OAuth2Client(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        token_endpoint_auth_method=provider.auth_method,
        timeout=TIMEOUT,
        transport=_pinned(),
    ) as client:
        try:
            token = client.fetch_token(
                provider.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            )
        except Exception as exc:  # authlib's OAuthError, httpx errors, bad JSON
            raise OidcRefused(f"The provider refused the sign-in code ({exc}).") from exc
    id_token = token.get("id_token")
    if not id_token:
        raise OidcRefused("The provider returned no id token.")
    return id_token


def fetch_keys(provider: Provider) -> KeySet:
    try:
        with idp_client() as client:
            answer = client.get(provider.jwks_uri)
        answer.raise_for_status()
        return KeySet.import_key_set(answer.json())
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise OidcRefused(f"Could not read the provider's keys ({type(exc).__name__}).") from exc


def verify_id_token(
    id_token: str, *, keys: KeySet, issuer: str, client_id: str, nonce: str
) -> Identity:
    """The identity in `id_token`, or OidcRefused naming the check that failed."""
    try:
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except JoseError as exc:
        raise OidcRefused("The id token's signature is not valid.") from exc
    except ValueError as exc:
        raise OidcRefused("The id token could not be read.") from exc
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        sub={"essential": True},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise OidcRefused(_claim_problem(exc)) from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcRefused("The id token was issued to another party (azp).")
    email = str(claims.get("email") or "").strip().lower()
    verified = claims.get("email_verified")
    return Identity(
        subject=str(claims["sub"]),
        email=email,
        email_verified=None if verified is None else verified in (True, "true"),
        first_name=str(claims.get("given_name") or "")[:80],
        last_name=str(claims.get("family_name") or "")[:80],
    )


def _claim_problem(exc: JoseError) -> str:
    """joserfc's error, in words (the claim named)."""
    text = str(getattr(exc, "description", "") or exc)
    name = getattr(exc, "claim", "") or ""
    kind = type(exc).__name__
    if kind == "ExpiredTokenError":
        return "The id token has expired."
    if kind == "InvalidTokenError" and "iat" in text:
        return "The id token was issued in the future."
    if name == "aud" or "aud" in text:
        return "The id token is for another client (audience)."
    if name == "iss" or "iss" in text:
        return "The id token comes from another issuer."
    if name == "nonce" or "nonce" in text:
        return "The id token's nonce does not match this sign-in."
    return f"The id token was refused ({text})."

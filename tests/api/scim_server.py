"""The SCIM tests' server and clients: the real API app (`build_api`) served by uvicorn on a
free port in this process (so it uses the test database), an organization on the Unlimited
plan with its SCIM token, and scim2-client's httpx2 client pointed at `/scim/v2`."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2
import uvicorn
from scim2_client.engines.httpx2 import SyncSCIMClient
from sqlmodel import Session

from orgportal import db
from orgportal.api import build_api
from orgportal.api.scim.protocol import limiter
from orgportal.models import Organization, Subscription, User
from orgportal.services import scim_tokens
from tests.factories import make_org, make_user
from tests.processes import free_port


@contextmanager
def serving() -> Iterator[str]:
    """uvicorn serving the API app on a free port until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            build_api(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:  # polls readiness, as tests/processes.py does for processes
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the SCIM API did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def subscribe(session: Session, org: Organization, plan_key: str = "unlimited", kind: str = "plan",
              quantity: int = 1) -> None:  # fmt: skip
    session.add(
        Subscription(
            organization_id=org.id,
            kind=kind,
            plan_key=plan_key if kind == "plan" else "",
            status="active",
            quantity=quantity,
            stripe_subscription_id=f"sub_{org.id}_{kind}_{plan_key}",
        )  # fmt: skip
    )
    session.commit()


@dataclass
class Provider:
    """An organization on the Unlimited plan as its identity provider sees it."""

    org: Organization
    owner: User
    token: str
    base: str  # http://127.0.0.1:<port>/scim/v2

    def http(self, token: str | None = None) -> httpx2.Client:
        return httpx2.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=30,
        )

    def client(self) -> SyncSCIMClient:
        """scim2-client, configured from the server's own discovery endpoints."""
        client = SyncSCIMClient(self.http())
        client.discover()
        return client


@contextmanager
def provider_of(session: Session, engine, monkeypatch) -> Iterator[Provider]:
    """An organization on the Unlimited plan with a SCIM token, and the server running."""
    monkeypatch.setattr(db, "engine", lambda: engine)
    monkeypatch.setattr(db, "bus", lambda: _NoBus())
    limiter.reset()
    owner = make_user(session, "owner@acme.example")
    org = make_org(session, owner, "Acme")
    subscribe(session, org)
    token = scim_tokens.generate_token(session, user=owner, organization_id=org.id)
    session.commit()
    with serving() as url:
        yield Provider(org, owner, token, url + "/scim/v2")


class _NoBus:
    """Live updates have no listener in these tests."""

    def publish(self, changes) -> None:
        pass

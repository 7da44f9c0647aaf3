"""Make an organization of any size, fast (bulk inserts), to measure the app at scale.

    .venv/bin/python scripts/seed_big_org.py --members 1000 --invites 100 --links 10000

Uses DATABASE_URL like the app (run `make migrate` first). Prints the owner's email and
password, so a person can sign in and look; the seeded members cannot sign in.
"""

import argparse
import secrets
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orgportal.models import Invite, InviteStatus, Link, Membership, Organization, Role, User  # noqa: E402
from orgportal.models.base import utcnow  # noqa: E402
from orgportal.services import accounts, organizations, usage_counters  # noqa: E402

PASSWORD = "correct horse battery"
UNUSABLE_HASH = "!"  # no password verifies against it
BATCH = 5_000


def seed_organization(
    session: Session, *, name: str, members: int, invites: int, links: int
) -> tuple[User, Organization]:
    """An Owner (password PASSWORD) and their organization with `members` more members (a mix
    of roles), `invites` pending invites and `links` links; committed."""
    tag = uuid.uuid4().hex[:8]
    owner = accounts.register(
        session,
        accounts.Registration(f"owner-{tag}@example.com", PASSWORD, "Big", "Owner"),
        confirmed=True,
    )
    org = organizations.create_organization(session, user=owner, name=name)
    session.flush()
    now = utcnow()
    people = [
        {
            "email": f"member-{tag}-{n:06d}@example.com",
            "password_hash": UNUSABLE_HASH,
            "first_name": f"Member{n:06d}",
            "last_name": "Seeded",
            "email_confirmed_at": now,
            "created_at": now,
        }
        for n in range(members)
    ]
    _bulk(session, User, people)
    ids = session.exec(select(User.id).where(User.email.startswith(f"member-{tag}-"))).all()
    roles = [Role.ADMIN, Role.BILLING_ADMIN, Role.AGENT, Role.VIEWER]
    _bulk(
        session,
        Membership,
        [
            {
                "organization_id": org.id,
                "user_id": user_id,
                "role": roles[n % len(roles)],
                "joined_at": now - timedelta(minutes=members - n),
            }
            for n, user_id in enumerate(ids)
        ],
    )
    _bulk(
        session,
        Invite,
        [
            {
                "organization_id": org.id,
                "email": f"invitee-{tag}-{n:05d}@example.com",
                "role": Role.VIEWER,
                "token_hash": secrets.token_hex(32),
                "status": InviteStatus.PENDING,
                "invited_by_id": owner.id,
                "created_at": now,
                "sent_at": now,
                "expires_at": now + timedelta(days=7),
            }
            for n in range(invites)
        ],
    )
    _bulk(
        session,
        Link,
        [
            {
                "organization_id": org.id,
                "owner_id": owner.id,
                "slug": f"s{tag}{n:07d}",
                "target_url": f"https://example.com/campaign/{n}",
                "created_at": now,
            }
            for n in range(links)
        ],
    )
    # bulk inserts bypass the services: count the links in the pool as they would
    usage_counters.count_item(session, organization_id=org.id, owner_id=owner.id, links=links)
    session.commit()
    return owner, org


def _bulk(session: Session, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[start : start + BATCH])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="Big Org")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--invites", type=int, default=100)
    parser.add_argument("--links", type=int, default=10_000)
    args = parser.parse_args()
    from orgportal.db import unit_of_work

    with unit_of_work() as session:
        owner, org = seed_organization(
            session, name=args.name, members=args.members, invites=args.invites, links=args.links
        )
        print(f"{org.name} (id {org.id}): sign in as {owner.email} / {PASSWORD}")


if __name__ == "__main__":
    main()

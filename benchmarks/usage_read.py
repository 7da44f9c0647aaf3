"""How long does reading an organization's usage take, small against big?

Two organizations on one database: "small" (10 links, 1 member) and "big" (100,000 links,
1,000 members who all draw on its paid plan, each with a personal link and file). Times
`usage.read_organization_usage` — plan, pooled links and storage, seats, custom domains, as
the bars, the REST API and the live push read it — and, for comparison, the count over the
rows that the counters replaced. Prints medians and the big/small ratio (target ≤ 1.2×).

    .venv/bin/python benchmarks/usage_read.py [--links 100000] [--members 1000] [--reads 300]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]   # default: temp SQLite
"""

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, insert, or_, text
from sqlmodel import Session, SQLModel, col, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orgportal.db import make_engine  # noqa: E402
from orgportal.models import Link, Membership, Role, StoredFile, Subscription, User  # noqa: E402
from orgportal.services import accounts, organizations, usage, usage_counters  # noqa: E402

BATCH = 5_000


def seed(session: Session, links: int, members: int) -> tuple[int, int]:
    """The two organizations; returns (small id, big id). Bulk inserts, then `repair`."""
    owner = accounts.register(
        session,
        accounts.Registration(f"bench-{uuid.uuid4().hex[:6]}@example.com", "x" * 12, "B", "M"),
        confirmed=True,
    )
    small = organizations.create_organization(session, user=owner, name="Small")
    big = organizations.create_organization(session, user=owner, name="Big")
    session.flush()
    session.add(
        Subscription(
            organization_id=big.id,
            kind="plan",
            plan_key="unlimited",
            status="active",
            stripe_subscription_id=f"sub_{uuid.uuid4().hex}",
        )
    )
    tag = uuid.uuid4().hex[:6]
    _bulk(session, Link, [_link(small.id, owner.id, f"s{tag}{n}") for n in range(10)])
    _bulk(session, Link, [_link(big.id, owner.id, f"b{tag}{n}") for n in range(links)])
    _bulk(
        session,
        User,
        [
            {"email": f"m{n}-{tag}@example.com", "password_hash": "!", "first_name": "M",
             "last_name": str(n)}
            for n in range(members)
        ],
    )  # fmt: skip
    people = session.exec(select(User.id).where(col(User.email).like(f"%-{tag}@example.com")))
    ids = list(people)
    _bulk(
        session,
        Membership,
        [{"organization_id": big.id, "user_id": uid, "role": Role.VIEWER} for uid in ids],
    )
    _bulk(session, Link, [_link(None, uid, f"p{tag}{uid}") for uid in ids])
    _bulk(
        session,
        StoredFile,
        [
            {"organization_id": None, "owner_id": uid, "name": "f.txt", "size_bytes": 1000,
             "content_type": "text/plain", "storage_key": f"{tag}{uid}"}
            for uid in ids
        ],
    )  # fmt: skip
    usage_counters.repair(session)
    session.commit()
    return small.id, big.id


def median_ms(fn, reads: int) -> float:
    for _ in range(10):
        fn()
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def recount(session: Session, organization_id: int) -> tuple[int, int]:
    """What a read cost before the counters: the members' plan sources, then a count and a
    sum over the pool's rows."""
    members = list(
        session.exec(
            select(Membership.user_id).where(Membership.organization_id == organization_id)
        )
    )
    sources = usage.effective_plans(session, members)
    owners = [uid for uid, s in sources.items() if s.organization_id == organization_id] or [-1]

    def in_pool(model):
        personal = (col(model.organization_id).is_(None)) & col(model.owner_id).in_(owners)
        return or_(col(model.organization_id) == organization_id, personal)

    links = session.exec(select(func.count()).select_from(Link).where(in_pool(Link))).one()
    size = session.exec(
        select(func.coalesce(func.sum(StoredFile.size_bytes), 0)).where(in_pool(StoredFile))
    ).one()
    return int(links), int(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'usage_read.db'}"
    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        small, big = seed(session, args.links, args.members)
        from orgportal.models import Organization

        orgs = {name: session.get(Organization, oid) for name, oid in (("s", small), ("b", big))}
        read = {
            name: (lambda org=org: usage.read_organization_usage(session, org))
            for name, org in orgs.items()
        }
        view = read["b"]()
        assert view.usage.links == args.links + args.members, view
        assert usage_counters.check(session) == []
        small_ms, big_ms = median_ms(read["s"], args.reads), median_ms(read["b"], args.reads)
        old_small = median_ms(lambda: recount(session, small), max(20, args.reads // 10))
        old_big = median_ms(lambda: recount(session, big), max(20, args.reads // 10))
    print(f"database: {engine.dialect.name}; big: {args.links:,} links, {args.members:,} members")
    print(f"usage read (counters):   small {small_ms:.3f} ms, big {big_ms:.3f} ms, "
          f"ratio {big_ms / small_ms:.2f}× (target ≤ 1.2×)")  # fmt: skip
    print(f"the recount it replaced: small {old_small:.3f} ms, big {old_big:.3f} ms, "
          f"ratio {old_big / old_small:.1f}×")  # fmt: skip


def _link(organization_id: int | None, owner_id: int, slug: str) -> dict:
    return {
        "organization_id": organization_id,
        "owner_id": owner_id,
        "slug": slug,
        "target_url": "https://example.com/",
    }


def _bulk(session: Session, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[start : start + BATCH])


if __name__ == "__main__":
    main()

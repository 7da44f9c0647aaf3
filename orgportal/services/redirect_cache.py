"""What a short-link redirect needs of a slug and of a custom domain's Host, from this
worker's caches (SPEC §14, §15): the path every visitor of every link takes.

A cached `Redirect` is a snapshot of the link's row (target, approval state, click-id
setting, workspace); a cached host is the organization a verified custom domain serves (or
none). They follow `adapters/worker_cache.py`: the session notes every change to a link,
a custom domain, or a deleted organization or user (`db._note_flushed_rows`), so the
worker that commits it drops the value at the commit and every other worker when the live
bus brings the change; nothing is served from them while the bus's heartbeat is not heard.
Only found links are cached: a missing slug always asks the database, so a link created a
moment ago is found at once.
"""

from dataclasses import dataclass

from sqlmodel import Session

from orgportal.adapters import worker_cache
from orgportal.db import CUSTOM_HOSTS, REDIRECT_LINK, REDIRECTS_ALL
from orgportal.models import Link
from orgportal.services import custom_domains, links

TTL = 300.0  # seconds: the last resort for a change written outside the services
MAX_LINKS = 100_000  # slugs kept per worker (the hot ones: a full cache starts over)
MAX_HOSTS = 10_000  # hosts kept per worker, unknown ones too (a flood of made-up names)


@dataclass(frozen=True, slots=True)
class Redirect:
    """The part of a link's row that its redirect reads."""

    id: int  # the link's
    organization_id: int | None
    owner_id: int
    target_url: str
    pending_approval: bool
    append_click_id: bool

    @classmethod
    def of(cls, link: Link) -> "Redirect":
        assert link.id is not None
        return cls(
            link.id,
            link.organization_id,
            link.owner_id,
            link.target_url,
            link.pending_approval,
            link.append_click_id,
        )


@dataclass(frozen=True, slots=True)
class _Host:
    organization_id: int | None  # None: no verified domain of that name


_links: worker_cache.WorkerCache[str, Redirect] = worker_cache.WorkerCache(
    "redirect_links", TTL, MAX_LINKS
)
_hosts: worker_cache.WorkerCache[str, _Host] = worker_cache.WorkerCache(
    "custom_hosts", TTL, MAX_HOSTS
)


def cached_link(slug: str) -> Redirect | None:
    """The slug's link from this worker's cache, or None: not cached (ask `load_link`)."""
    return _links.get(slug.lower())


def load_link(session: Session, slug: str) -> Redirect | None:
    """The slug's link (pending approval or not) from the database, kept for the next
    redirect; None: no such link."""
    key = slug.lower()
    token = worker_cache.token()
    link = links.link_by_slug(session, key)
    if link is None:
        return None
    found = Redirect.of(link)
    _links.put(key, found, tags=[(REDIRECT_LINK, found.id), REDIRECTS_ALL], token=token)
    return found


def cached_host(host: str) -> tuple[bool, int | None]:
    """(known, organization id) of a custom domain's Host from this worker's cache."""
    entry = _hosts.get(host)
    return (False, None) if entry is None else (True, entry.organization_id)


def load_host(session: Session, host: str) -> int | None:
    """The organization a Host serves (None: not a verified custom domain), kept."""
    token = worker_cache.token()
    organization_id = custom_domains.serving_organization(session, host)
    _hosts.put(host, _Host(organization_id), tags=[CUSTOM_HOSTS], token=token)
    return organization_id

"""Failed sign-ins and registrations limited per client address (SPEC §1 brute force, §11).

The per-email lockout (`accounts`) cannot see one address spraying many emails, and every
sign-in costs an argon2 hash, which is deliberately slow: a few clients could keep the CPU
busy. But one address is often a whole office behind one NAT (SPEC §1), so the limits are
there to stop attackers, not offices:

- sign-in counts only *failures* per address (unknown email, wrong password, wrong
  two-factor code: `FAILURES`), SIGNIN_FAILURE_LIMIT (100) per SIGNIN_FAILURE_WINDOW_SECONDS
  (15 minutes). A success never counts, so 200 colleagues may sign in at 9:00. An honest
  office rarely fails 100 times in 15 minutes (each email is locked after 5 anyway); a
  password sprayer fails almost every time, so it is stopped after 100 guesses.
  `sign_in_attempt` first *peeks* at the count (recording nothing) and refuses an address
  over the limit before any password is hashed, with "Try again in N minutes" (the
  Retry-After); only an attempt that then fails is counted. Attempts already in flight when
  the limit is reached may still hash once each: bounded by concurrency, not by time.
- registration counts every attempt, REGISTER_RATE_LIMIT (200) per hour, before hashing:
  each one costs a hash whatever its outcome, and its outcome is deliberately the same for
  known and new emails, so there is no "failure" to count; 200 lets a team onboard at once
  while an account factory is still stopped.

With REDIS_URL the counts are shared by all workers (`adapters.rate_limit`).
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager

from orgportal.adapters.rate_limit import limiter
from orgportal.config import settings
from orgportal.services.errors import DomainError, InvalidCredentials
from orgportal.services.two_factor import InvalidCode

sign_in_failures = limiter(
    "sign_in_failures",
    lambda: settings.signin_failure_limit,
    lambda: settings.signin_failure_window_seconds,
)
registrations = limiter(
    "register", lambda: settings.register_rate_limit, lambda: settings.register_rate_window_seconds
)

# What a sign-in step raises for a wrong guess. A locked email, an expired challenge or a
# missing cookie is no guess (and hashed nothing), so it does not count.
FAILURES = (InvalidCredentials, InvalidCode)


class TooManyAttempts(DomainError):
    status = 429

    def __init__(self, wait_seconds: float):
        minutes = max(1, math.ceil(wait_seconds / 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"Too many attempts from your network. Try again in {minutes} {unit}.")
        self.retry_after = math.ceil(wait_seconds)


@contextmanager
def sign_in_attempt(client: str) -> Iterator[None]:
    """Around one sign-in step (password or two-factor code) from `client`: TooManyAttempts
    at once, before the body hashes anything, when the address is over its failure limit;
    otherwise the body runs, and a `FAILURES` error it raises is counted, then re-raised."""
    if wait := sign_in_failures.peek(client):
        raise TooManyAttempts(wait)
    try:
        yield
    except FAILURES:
        sign_in_failures.hit(client)
        raise


def check_registration(client: str) -> None:
    """Count one registration attempt from `client`; TooManyAttempts when over the limit."""
    if wait := registrations.hit(client):
        raise TooManyAttempts(wait)

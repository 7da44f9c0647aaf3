"""Sign-in and registration attempts limited per client address (SPEC §1 brute force, §11).

The per-email lockout cannot see one address spraying many emails, and every attempt costs
an argon2 hash, which is deliberately slow: a few clients could keep the CPU busy. So each
attempt is counted against the caller's address, and callers check it *before* anything is
hashed. Every attempt counts, whether or not it then succeeds. With REDIS_URL the counts are
shared by all workers (`adapters.rate_limit`).
"""

import math

from orgportal.adapters.rate_limit import limiter
from orgportal.config import settings
from orgportal.services.errors import DomainError

sign_ins = limiter(
    "sign_in", lambda: settings.signin_rate_limit, lambda: settings.signin_rate_window_seconds
)
registrations = limiter(
    "register", lambda: settings.register_rate_limit, lambda: settings.register_rate_window_seconds
)


class TooManyAttempts(DomainError):
    status = 429

    def __init__(self, wait_seconds: float):
        minutes = max(1, math.ceil(wait_seconds / 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"Too many attempts from your network. Try again in {minutes} {unit}.")
        self.retry_after = math.ceil(wait_seconds)


def check_sign_in(client: str) -> None:
    """Count one sign-in attempt from `client`; TooManyAttempts when over the limit."""
    if wait := sign_ins.hit(client):
        raise TooManyAttempts(wait)


def check_registration(client: str) -> None:
    """Count one registration attempt from `client`; TooManyAttempts when over the limit."""
    if wait := registrations.hit(client):
        raise TooManyAttempts(wait)

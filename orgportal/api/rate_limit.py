"""One sliding-window rate limiter for the HTTP API (per API key, per IP, per organization).

In memory and per process: with several backend workers each counts its own requests.
"""

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable


class SlidingWindow:
    """At most `limit` hits per key in any `window` seconds. Both may be changed at any time
    (tests lower them; the REST API reads them from settings on every request)."""

    MAX_KEYS = 10_000

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[Hashable, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> float:
        """Records a hit and returns 0, or, when over the limit, the seconds to wait."""
        now = self.clock()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(hits[0] + self.window - now, 0.001)
            hits.append(now)
            if len(self._hits) > self.MAX_KEYS:
                self._forget(now)
            return 0

    def _forget(self, now: float) -> None:
        """Drop keys with no hit inside the window, so memory stays bounded."""
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

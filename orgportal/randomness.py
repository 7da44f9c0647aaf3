"""Random tokens for what every request makes: its request id, the browser nonce cookie, a
click's id, a new visitor's id.

The bytes are the operating system's CSPRNG's, as `secrets` gives them, but read 4 KiB at
a time instead of one `getrandom` call per token: a short-link redirect makes up to four
tokens, and on a sandboxed kernel each call costs several microseconds, more than the rest
of the token. Each byte is handed out once (under a lock: threads of the pool draw too),
and a forked child starts with an empty pool, so it never repeats its parent's tokens.
"""

import base64
import os
import threading

POOL_BYTES = 4096

_lock = threading.Lock()
_pool = b""
_at = 0


def token_bytes(n: int) -> bytes:
    """`n` random bytes (as `secrets.token_bytes`)."""
    global _pool, _at
    with _lock:
        end = _at + n
        if end > len(_pool):
            _pool, _at, end = os.urandom(max(POOL_BYTES, n)), 0, n
        chunk = _pool[_at:end]
        _at = end
    return chunk


def token_urlsafe(n: int) -> str:
    """`n` random bytes, URL-safe base64 without padding (as `secrets.token_urlsafe`)."""
    return base64.urlsafe_b64encode(token_bytes(n)).rstrip(b"=").decode("ascii")


def token_hex(n: int) -> str:
    """`n` random bytes as hex (as `secrets.token_hex`)."""
    return token_bytes(n).hex()


def _forget() -> None:
    global _pool, _at, _lock
    _pool, _at = b"", 0
    _lock = threading.Lock()  # another thread may have held it when the process forked


os.register_at_fork(after_in_child=_forget)

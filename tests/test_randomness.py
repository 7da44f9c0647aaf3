"""The per-request tokens (`orgportal/randomness.py`): the OS's random bytes, read in bulk,
each handed out once, never shared with a forked child."""

import os
import re

from orgportal import randomness


def test_tokens_have_the_shapes_of_the_secrets_modules():
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", randomness.token_urlsafe(16))
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", randomness.token_urlsafe(32))
    assert re.fullmatch(r"[0-9a-f]{32}", randomness.token_hex(16))
    assert len(randomness.token_bytes(randomness.POOL_BYTES * 2)) == randomness.POOL_BYTES * 2


def test_no_token_repeats_across_many_pools():
    tokens = [randomness.token_hex(16) for _ in range(3 * randomness.POOL_BYTES // 16 + 7)]
    assert len(set(tokens)) == len(tokens)


def test_a_forked_child_does_not_repeat_its_parents_next_bytes():
    randomness.token_bytes(1)  # the pool holds bytes not handed out yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next token, to the parent
        os.write(write, randomness.token_bytes(32))
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 32)
    os.close(read)
    assert len(child) == 32 and child != randomness.token_bytes(32)

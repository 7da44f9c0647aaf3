"""Passwords are hashed with argon2id at the cost the app states (SPEC: passlib, argon2).

The rest of the suite hashes at a small cost (tests/conftest.py `quick_password_hashes`);
this module checks the real one, in a fresh interpreter where nothing is patched."""

import subprocess
import sys

CHECK = """
from orgportal import security
made = security.hash_password("correct horse battery")
print(made.split("$")[1:4])
print(security.verify_password("correct horse battery", made))
print(security.verify_password("wrong", made))
print(security._DUMMY_HASH.split("$")[3])
"""


def test_the_app_hashes_with_argon2id_at_64_mib_and_3_passes():
    out = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "['argon2id', 'v=19', 'm=65536,t=3,p=4']"
    assert out[1:3] == ["True", "False"]
    assert out[3] == "m=65536,t=3,p=4"  # unknown emails cost the same check


def test_a_hash_made_at_another_cost_still_verifies():
    """Each hash carries its parameters: one made at an older cost (or the tests' small one)
    is checked with those."""
    from passlib.hash import argon2

    from orgportal import security

    older = argon2.using(type="ID", memory_cost=2048, rounds=2, parallelism=1).hash("pw")
    assert security.verify_password("pw", older)
    assert not security.verify_password("other", older)

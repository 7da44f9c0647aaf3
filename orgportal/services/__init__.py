"""Business rules and permission checks: plain Python over SQLModel sessions, no Reflex.

May import: `models`, `adapters`, `db`, `config`, `wording` and each other; never Reflex,
states, views or pages (`tests/test_architecture.py` checks this), so the pages and the REST
API share them as they are.
"""

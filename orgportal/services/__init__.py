"""Business rules and permission checks: plain Python over SQLModel sessions, no Reflex."""

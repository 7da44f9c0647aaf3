"""Edges of the system: each wraps one piece of the outside world (Stripe billing, mail,
object storage, Redis and the live-update bus, rate limits, metrics, logs), with a real
implementation and an offline default.

May import: `config`, `models` (the outbox and test-mode rows they persist) and
`services.errors` (to refuse with a DomainError); never Reflex, states, views or pages.
Services call adapters; adapters hold no business rules.
"""

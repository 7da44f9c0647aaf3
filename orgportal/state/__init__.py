"""Thin Reflex states: read input, call a service, keep the view data, show DomainErrors.

May import: `services` (every rule and permission check), `adapters`, `models`, `db`,
`config`, `wording` and each other; never views, components or pages.
"""

"""Edges of the system: mail transports (and later billing and the live-update bus)."""

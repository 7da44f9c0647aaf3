"""Thin Reflex states: read input, call a service, keep the view data, show DomainErrors."""

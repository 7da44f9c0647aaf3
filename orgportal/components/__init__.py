"""Stateless building blocks."""

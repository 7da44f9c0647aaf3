"""One module per route; they only render.

The top layer: a page lays out `views` and `components` bound to `state`; it may import those
three, never `services`, `models` or `adapters` directly, and nothing imports a page but the
app itself (`orgportal.py`).
"""

"""Stateless building blocks: the layout, table cells, form pieces, dialogs and the like
that views and pages share. They render state, nothing else.

May import: `state` (to read a state's vars and fire its events), `styles` and each other;
never `services` or `models` directly, nor pages. (`layout.py` places one view, the
recovery-code banner, on every page.)
"""

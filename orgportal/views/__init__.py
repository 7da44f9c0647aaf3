"""Feature sections of a page, each bound to one state."""

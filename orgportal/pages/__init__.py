"""One module per route; they only render."""

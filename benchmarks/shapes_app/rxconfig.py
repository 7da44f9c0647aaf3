"""The shapes app's Reflex configuration (`benchmarks/page_load.py --shapes`)."""

import os

import reflex as rx

port = int(os.environ.get("PORT", "3200"))
config = rx.Config(
    app_name="shapes_app",
    frontend_port=port,
    backend_port=port,
    show_built_with_reflex=False,
    telemetry_enabled=False,
    plugins=[rx.plugins.SitemapPlugin()],
)

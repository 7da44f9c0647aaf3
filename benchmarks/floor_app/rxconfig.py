"""The floor app's Reflex configuration: one port, the same Redis as orgportal's run."""

import os

import reflex as rx

port = int(os.environ.get("PORT", "3100"))
config = rx.Config(
    app_name="floor_app",
    redis_url=os.environ.get("REDIS_URL") or None,
    frontend_port=port,
    backend_port=port,
    show_built_with_reflex=False,
    telemetry_enabled=False,
    plugins=[rx.plugins.SitemapPlugin()],
)

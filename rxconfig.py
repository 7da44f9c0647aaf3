"""Reflex configuration: every value comes from orgportal's one settings object."""

import reflex as rx

from orgportal import styles
from orgportal.adapters.server import respawn_failed_workers
from orgportal.config import settings

# One backend worker dying (OOM killer, SIGKILL) must not stop the others (issue 23 §2).
respawn_failed_workers()

config = rx.Config(
    app_name="orgportal",
    db_url=settings.database_url,
    redis_url=settings.redis_url or None,
    frontend_port=settings.port,
    backend_port=settings.port,
    # Pages open their websocket and uploads at PUBLIC_URL: behind a TLS proxy on any port
    # (README "Deploying"). Reflex would otherwise drop the port of an https page.
    api_url=settings.public_url,
    # The websocket handshake and Reflex's CORS layer accept only the app's own origins.
    cors_allowed_origins=settings.own_origins,
    show_built_with_reflex=False,
    telemetry_enabled=False,
    # Reflex exposes its bundled libraries on `window.__reflex` for components compiled in
    # the browser (`rx.dynamic`, none here); by default every page imported all of them up
    # front: 33–39 script files a page, 17–22 without (nothing here reads window.__reflex).
    frontend_lazy_bundled_libraries=True,
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.TailwindV4Plugin(),
        rx.plugins.RadixThemesPlugin(theme=rx.theme(**styles.theme)),
    ],
)

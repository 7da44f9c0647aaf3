"""Marks the moment a page works: `<html data-hydrated>` once React has taken it over,
`<html data-loaded>` while the page's load events have run (Reflex's `is_hydrated`).

Reflex prerenders each page: its HTML shows before the page's scripts have arrived, and
until React has hydrated it nothing on it reacts, and until the page's load events have run
a click's event would be handled before them (and undone by them: the registration page's
load shows a fresh form). `assets/before_hydration.js` holds the clicks made meanwhile and
replays them when this marker says the page is loaded (the `app-loaded` event), so no click is lost; `benchmarks/page_load.py` reads both attributes
to time a page load to "interactive" (and the floor app sets them the same way).

An effect runs after React has committed the hydrated tree, with every event handler in
place: the first moment a replayed click reaches the app.
"""

import reflex as rx
from reflex.vars.base import Var

# Set on <html>; the names are read by assets/before_hydration.js and the benchmark.
HYDRATED_EVENT = "app-hydrated"
LOADED_EVENT = "app-loaded"  # each time the page's load events have run


class HydrationMarker(rx.Fragment):
    """Renders only its children; its effects set the two attributes."""

    def add_imports(self) -> dict:
        return {"react": ["useEffect"]}

    def add_hooks(self) -> list[str | Var]:
        loaded = rx.State.is_hydrated
        return [
            "useEffect(() => { document.documentElement.dataset.hydrated = 'true';"
            f" window.dispatchEvent(new Event('{HYDRATED_EVENT}')); }}, []);",
            Var(
                _js_expr=f"useEffect(() => {{ document.documentElement.dataset.loaded ="
                f" String(!!{loaded!s}); if ({loaded!s})"
                f" window.dispatchEvent(new Event('{LOADED_EVENT}')); }}, [{loaded!s}])",
                _var_data=loaded._get_all_var_data(),
            ),
        ]


@rx.memo
def _marker() -> rx.Component:
    # A memo component of its own: an app wrap's hooks would otherwise run above the state
    # provider (where `is_hydrated` cannot be read); a memo renders below it.
    return HydrationMarker.create()


def hydration_marker(stateful: bool) -> rx.Component | None:
    """An app wrap (`rx.App(extra_app_wraps=…)`): next to every page, inside the state
    provider. Without a state there is nothing to hydrate."""
    return rx.fragment(_marker()) if stateful else None

"""Feature sections of a page, each bound to one state.

May import: `components`, `state` and each other, plus constants and enums a view shows
(`services.plans`, `services.logos`, a page size, `models.Role`); never call a service or
open a session: that is the state's job. Pages import views.
"""

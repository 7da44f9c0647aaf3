"""The live usage bars (links, storage, members / seats): filled by `UsageState._load` of
the pages that declare it, then pushed live."""

import reflex as rx

from orgportal.state.usage import UsageState as S


def _bar(label: str, text: rx.Var, percent: rx.Var, bar_id: str) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(label, size="2", weight="medium"),
            rx.spacer(),
            rx.text(text, size="2", id=f"{bar_id}-label"),
            width="100%",
        ),
        rx.progress(
            value=percent,
            color_scheme=rx.cond(percent >= 100, "red", rx.cond(percent >= 80, "orange", "blue")),
            aria_label=f"{label} used",
            id=bar_id,
        ),
        spacing="1",
        width="100%",
    )


def usage_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Usage", size="4"),
            rx.cond(
                S.limit_notice != "",
                rx.callout(S.limit_notice, icon="gauge", color_scheme="orange", id="limit-notice"),
            ),
            _bar("Links", S.links_label, S.links_percent, "usage-links"),
            _bar("Storage", S.storage_label, S.storage_percent, "usage-storage"),
            _bar("Members / seats", S.members_label, S.members_percent, "usage-members"),
            rx.text(
                "Includes the personal links and files of members who use this plan.",
                size="1",
                color_scheme="gray",
            ),
            width="100%",
        ),
        width="100%",
        display=rx.cond(S.usage_org_id != 0, "block", "none"),  # organizations only
    )

"""The live usage bars (links, storage, members / seats): filled by `UsageState._load` of
the pages that declare it, then pushed live. In the Personal Workspace: links and storage of
the personal pool, with the line saying which plan is in effect."""

import reflex as rx

from orgportal.state.member_limit import MemberLimitState
from orgportal.state.usage import UsageState as S


def _bar(label: str, text: rx.Var, percent: rx.Var, bar_id: str) -> rx.Component:
    """A bar under its label and figures: plain elements with static classes
    (`assets/layout.css`), the progress bar Radix's (its role and values for screen
    readers). Live pushes re-render the bars: the fewer components, the cheaper."""
    return rx.el.div(
        rx.el.div(
            rx.el.span(label, class_name="op-bar-label"),
            rx.el.span(text, id=f"{bar_id}-label"),
            class_name="op-bar-head",
        ),
        rx.progress(
            value=percent,
            color_scheme=rx.cond(percent >= 100, "red", rx.cond(percent >= 80, "orange", "blue")),
            aria_label=f"{label} used",
            id=bar_id,
        ),
        class_name="op-bar",
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
            rx.cond(
                S.usage_personal,
                rx.text(S.usage_source, size="1", color_scheme="gray", id="usage-source"),
                rx.fragment(
                    _bar("Members / seats", S.members_label, S.members_percent, "usage-members"),
                    # what sets that limit: the support seats replace the plan's
                    rx.cond(
                        MemberLimitState.member_limit_note != "",
                        rx.text(
                            MemberLimitState.member_limit_note,
                            size="1",
                            color_scheme="gray",
                            high_contrast=True,
                            id="usage-members-note",
                        ),
                    ),
                    _bar("Custom domains", S.domains_label, S.domains_percent, "usage-domains"),
                    rx.text(
                        "Includes the personal links and files of members who use this plan.",
                        size="1",
                        color_scheme="gray",
                    ),
                ),
            ),
            width="100%",
        ),
        width="100%",
        display=rx.cond((S.usage_org_id != 0) | S.usage_personal, "block", "none"),
    )


def usage_line(kind: str) -> rx.Component:
    """One compact line for /links ("312 of 500 links used") or /files ("3 KB of 100 MB
    storage used"); the full card with every bar is on the Overview. Live like the bars."""
    if kind == "links":
        label, limit, percent, noun = S.links_label, S.links_limit, S.links_percent, "links"
    else:
        label, limit, percent, noun = S.storage_label, S.storage_limit, S.storage_percent, "storage"
    parts = label.split(" / ")
    text = rx.cond(
        limit == -1,  # UNLIMITED
        parts[0].to(str) + f" {noun} used (no limit)",
        parts[0].to(str) + " of " + parts[1].to(str) + f" {noun} used",
    )
    return rx.hstack(
        rx.icon("gauge", size=16, aria_hidden="true"),
        rx.text(text, size="2", id=f"usage-{kind}-line"),
        rx.cond(
            percent >= 100,
            rx.badge("Limit reached", color_scheme="red", high_contrast=True),
            rx.cond(
                percent >= 80, rx.badge("Nearly full", color_scheme="orange", high_contrast=True)
            ),
        ),
        align="center",
        spacing="2",
        display=rx.cond((S.usage_org_id != 0) | S.usage_personal, "flex", "none"),
    )

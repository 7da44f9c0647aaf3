"""Lists read a page at a time on the server: one mixin holds the page number, the
page count and "go to page", so every paged list behaves alike (`components/pager.py`)."""

from typing import ClassVar

import reflex as rx


class Paged(rx.State, mixin=True):
    """`total` rows shown `PAGE_SIZE` at a time; `page` is 0-based. Mixed into an AppState
    whose `_load` reads the page `page` names (and sets `total`)."""

    PAGE_SIZE: ClassVar[int] = 25
    total: int = 0
    page: int = 0

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // self.PAGE_SIZE))

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(0, min(int(page), self.page_count - 1))
        return self._refresh()

"""Lists read a page at a time on the server: one mixin holds the page number, the
page count and "go to page", so every paged list behaves alike (`components/pager.py`)."""

from collections.abc import Callable
from typing import ClassVar, TypeVar

import reflex as rx

T = TypeVar("T")


class Paged(rx.State, mixin=True):
    """`total` rows shown `PAGE_SIZE` at a time; `page` is 0-based. Mixed into an AppState
    whose `_load` reads the page `page` names (and sets `total`)."""

    PAGE_SIZE: ClassVar[int] = 25
    total: int = 0
    page: int = 0

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // self.PAGE_SIZE))

    def _read_page(self, read: Callable[[int, int], tuple[list[T], int]]) -> list[T]:
        """This page's rows, by `read(limit, offset)`, and `total`. When the page has
        emptied meanwhile (its rows deleted, here or in another tab), the last page there
        is now."""
        rows, self.total = read(self.PAGE_SIZE, self.page * self.PAGE_SIZE)
        if not rows and self.total and self.page:
            self.page = max(0, -(-self.total // self.PAGE_SIZE) - 1)
            rows, self.total = read(self.PAGE_SIZE, self.page * self.PAGE_SIZE)
        return rows

    @rx.event
    def go_to_page(self, page: int):
        self.page = max(0, min(int(page), self.page_count - 1))
        return self._refresh()

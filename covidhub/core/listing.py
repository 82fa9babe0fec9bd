"""A list handed out page by page (the API's one pagination reads it, covidhub/core/api_base.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet


class Listing[T]:
    """A list a selector hands out page by page: counted by the database, and each page
    (not the whole list) passed through `each_page` — where the selector audits what is
    shown. Iterating it whole is refused: take a slice."""

    def __init__(
        self,
        queryset: QuerySet[Any],
        *,
        each_page: Callable[[list[Any]], Sequence[T]] | None = None,
    ) -> None:
        self.queryset = queryset
        self.each_page = each_page

    def then[R](self, more: Callable[[list[T]], Sequence[R]]) -> Listing[R]:
        """The same list, each page passed on through `more` after this one's own step."""
        first = self.each_page
        return Listing(
            self.queryset,
            each_page=lambda rows: more(list(first(rows)) if first else rows),
        )

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[T]:
        if not isinstance(index, slice):
            raise TypeError("a Listing is read by slices")
        rows = list(self.queryset[index])
        return list(self.each_page(rows)) if self.each_page else rows

    def __iter__(self) -> Any:
        raise TypeError("a Listing is read by slices, never whole")

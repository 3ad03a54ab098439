"""Pagination whose cost does not grow with history: a list counts at most `cap` rows and says when
it was cut off. A street's closed orders grow by tens of thousands a year; counting all of them on
every inbox view would make the page slower each month. The first `cap` rows (newest first) are
paged; older ones are reached by narrowing the list (a date filter), and the page says so."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination


def count_cap() -> int:
    """The most rows a list counts (settings.LIST_COUNT_CAP, default 10,000)."""
    return settings.LIST_COUNT_CAP


def capped_count(queryset, cap: int | None = None) -> int:
    """min(rows, cap + 1): one more than the cap tells that the list goes on. Counted on a LIMITed
    subquery that selects only the ordering-free primary key, so an index scan stops at the cap."""
    cap = count_cap() if cap is None else cap
    return queryset.order_by().values("pk")[: cap + 1].count()


class CappedPaginator(Paginator):
    """A Paginator that counts at most `cap` rows. `cut_off` tells whether there were more; the
    pages then cover the first `cap` rows in the list's order."""

    def __init__(self, object_list, per_page, *, cap: int | None = None, known_count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = count_cap() if cap is None else cap
        self._known = known_count  # a count the caller already made with capped_count()

    @cached_property
    def counted(self) -> int:
        return self._known if self._known is not None else capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @property
    def cut_off(self) -> bool:
        return self.counted > self.cap


class CappedPageNumberPagination(PageNumberPagination):
    """The API's pages on the same rule: `count` is at most the cap and `count_cut_off` says when the
    list went on (narrow it with a filter to reach the rest)."""

    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_cut_off"] = self.page.paginator.cut_off
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_cut_off"] = {
            "type": "boolean",
            "description": "true when the list has more rows than `count` (the cap); narrow it with a filter",
        }
        return schema

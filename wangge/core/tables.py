"""Lists people can work with (docs/ui.md "Tables"): a sort by one whitelisted column, stable
with the id as the last key; a page size from a short list; pages by number.

Selectors order their querysets with `sorted_by` (the sort keys a list offers are the
selector's whitelist: an unknown one falls back to the list's default, never reaches
`order_by`); views page them with `page` and the templates draw headers and the pager with
the `tables` template tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet

PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50


def sort_key(sort: str, keys: Mapping[str, tuple[str, ...]], default: str) -> str:
    """`sort` ("due", "-due") when its key is one of `keys`, else `default`."""
    sort = (sort or "").strip()
    return sort if sort.lstrip("-") in keys and sort.count("-") <= 1 else default


def sorted_by(
    qs: QuerySet[Any], sort: str, keys: Mapping[str, tuple[str, ...]], default: str
) -> QuerySet[Any]:
    """`qs` ordered by the fields of a whitelisted key, then the id, all in the key's direction
    ("-" first: descending), empty values last either way: the same rows on the same page
    however often it is asked for (an id breaks every tie)."""
    sort = sort_key(sort, keys, default)
    descending = sort.startswith("-")
    order = []
    for name in [*keys[sort.lstrip("-")], "id"]:
        # A field named "-birth_date" runs against its key: age up is the birth date down.
        down = descending != name.startswith("-")
        field = F(name.lstrip("-"))
        order.append(field.desc(nulls_last=True) if down else field.asc(nulls_last=True))
    return qs.order_by(*order)


def page_size(value: Any) -> int:
    """?size= as one of PAGE_SIZES (anything else: the default)."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PAGE_SIZE
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def page(request: Any, rows: Any) -> Page[Any]:
    """The page ?page= asks for (a number past the end: the last page; no number: the first),
    of ?size= rows."""
    return Paginator(rows, page_size(request.GET.get("size"))).get_page(request.GET.get("page"))

"""Table tags (docs/ui.md "Tables"): a sortable header cell, a page's address, the current
query as hidden fields (the pager's jump form). They read the request's own query string, so
a list's filters, sort and page size carry over every link."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _query(context: Any, **changes: Any) -> str:
    request = context.get("request")
    params = request.GET.copy() if request is not None else {}
    for name, value in changes.items():
        if value in (None, ""):
            params.pop(name, None)
        else:
            params[name] = str(value)
    return "?" + params.urlencode() if params else "?"


@register.inclusion_tag("_sort_th.html", takes_context=True)
def sort_th(context: Any, key: str, label: Any, default: str = "") -> dict[str, Any]:
    """A header cell that sorts the list by `key`: ascending first, descending when already
    ascending; the current one says so (`aria-sort`, an arrow). `default`: the list's own
    sort, for when ?sort= is not given."""
    request = context.get("request")
    current = (request.GET.get("sort") if request is not None else "") or default
    if current == key:
        state, arrow, target = "ascending", "▲", f"-{key}"
    elif current == f"-{key}":
        state, arrow, target = "descending", "▼", key
    else:
        state, arrow, target = "", "", key
    return {
        "key": key,
        "label": label,
        "state": state,
        "arrow": arrow,
        "href": _query(context, sort=target, page=None),
    }


@register.simple_tag(takes_context=True)
def page_url(context: Any, number: Any) -> str:
    """The address of page `number` of this list, its filters, sort and size kept."""
    return _query(context, page=number)


@register.inclusion_tag("_query_hidden.html", takes_context=True)
def query_hidden(context: Any, *exclude: str) -> dict[str, Any]:
    """The request's query as hidden inputs, but for the names in `exclude`."""
    request = context.get("request")
    if request is None:
        return {"items": []}
    return {
        "items": [(k, v) for k, values in request.GET.lists() if k not in exclude for v in values]
    }


@register.simple_tag(takes_context=True)
def export_url(context: Any, base: str) -> str:
    """`base` with this list's query (filters and sort; not the page, not its size)."""
    request = context.get("request")
    if request is None:
        return base
    params = request.GET.copy()
    for name in ("page", "size"):
        params.pop(name, None)
    return f"{base}?{params.urlencode()}" if params else base


@register.simple_tag
def page_sizes() -> tuple[int, ...]:
    from wangge.core.tables import PAGE_SIZES

    return PAGE_SIZES

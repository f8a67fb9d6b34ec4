"""Table tags (docs/ui.md "Tables"): a sortable header cell, a page's address, the current
query as hidden fields (the pager's jump form). They read the request's own query string, so
a list's filters, sort and page size carry over every link."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _params(request: Any) -> Any:
    """The request's query, without any value that is a full ID number or phone: such a
    search finds a person or two (no pages to turn), and a full number is never put into an
    address (addresses are logged) or repeated in the page."""
    from wangge.core.personal import exact_query

    params = request.GET.copy()
    for name in list(params):
        kept = [v for v in params.getlist(name) if exact_query(v) is None]
        if kept:
            params.setlist(name, kept)
        else:
            del params[name]
    return params


def _query(context: Any, **changes: Any) -> str:
    request = context.get("request")
    if request is None:
        return "?"
    params = _params(request)
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
    params = _params(request)
    return {"items": [(k, v) for k, values in params.lists() if k not in exclude for v in values]}


@register.simple_tag(takes_context=True)
def export_url(context: Any, base: str) -> str:
    """`base` with this list's query (filters and sort; not the page, not its size); "" when
    the query holds a full ID number or phone, which never goes into an address: the list of
    such a search is not offered for download (`{% export_url url as href %}{% if href %}`)."""
    request = context.get("request")
    if request is None:
        return base
    params = _params(request)
    if sum(len(v) for v in params.lists()) != sum(len(v) for v in request.GET.lists()):
        return ""
    for name in ("page", "size"):
        params.pop(name, None)
    return f"{base}?{params.urlencode()}" if params else base


@register.simple_tag
def page_sizes() -> tuple[int, ...]:
    from wangge.core.tables import PAGE_SIZES

    return PAGE_SIZES


@register.simple_tag(takes_context=True)
def list_query(context: Any) -> str:
    """This list's query string (no page; no full ID number or phone): what a saved filter
    keeps."""
    request = context.get("request")
    if request is None:
        return ""
    params = _params(request)
    params.pop("page", None)
    return str(params.urlencode())

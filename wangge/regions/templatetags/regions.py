"""Region names beside codes on list pages: `{% region_names page as names %}` resolves every
row's code in one query (through the scoped selector), then `{% region e.grid_code names %}`
shows 英南村第1网格 with the code underneath. A code the reader may not see stays a code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template

from wangge.core.scope import scope_for
from wangge.regions.selectors import region_names as _region_names

register = template.Library()


def _codes(rows: Any, attrs: Iterable[str]) -> set[str]:
    if isinstance(rows, str):
        return {rows}
    codes: set[str] = set()
    for row in rows or ():
        for attr in attrs:
            value = row.get(attr) if isinstance(row, Mapping) else getattr(row, attr, None)
            if isinstance(value, str):
                codes.add(value)
    return codes


@register.simple_tag(takes_context=True)
def region_names(context: Any, rows: Any, *attrs: str) -> dict[str, str]:
    """Names of the codes in `rows` (a page, a list of objects or dicts, or one code), read
    from each row's `attrs` (default `grid_code`)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {}
    codes = _codes(rows, attrs or ("grid_code",))
    return _region_names(actor=scope_for(request.user), codes=codes)


@register.inclusion_tag("regions/_region.html")
def region(code: Any, names: Mapping[str, str] | None) -> dict[str, Any]:
    """The region's name with its code underneath, or the code alone when it has no name here
    (`{% region e.grid_code names %}`; autoescaped by its template, nothing marked safe)."""
    return {"code": code or "", "name": (names or {}).get(str(code or ""), "")}


@register.filter
def region_name(code: Any, names: Mapping[str, str] | None) -> str:
    """The region's name alone (its code when it has none here)."""
    return (names or {}).get(str(code or ""), str(code or ""))

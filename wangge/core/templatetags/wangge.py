from __future__ import annotations

from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _

from wangge.core.personal import mask_id_number, mask_phone

register = template.Library()


@register.filter
def mask_phone_filter(value: str) -> str:
    return mask_phone(value) if value else ""


@register.filter
def mask_id_filter(value: str) -> str:
    return mask_id_number(value) if value else ""


register.filter("mask_phone", mask_phone_filter)
register.filter("mask_id", mask_id_filter)


@register.filter
def area(m2: float | None) -> str:
    """An area in one format on every page: square kilometres to two places (0.58 平方公里),
    square metres below a hundredth of one."""
    if m2 is None or m2 == "":
        return "—"
    value = float(m2)
    if value < 10_000:
        return _("%(n)s m²") % {"n": intcomma(round(value))}
    return _("%(n)s km²") % {"n": f"{value / 1e6:.2f}"}


@register.simple_tag
def time_left(due: Any, now: Any) -> dict[str, Any]:
    """`{% time_left e.due_at now as left %}`: left.text ("剩余 3 小时" / "已超期 2 天"),
    left.late (see core.dates.time_left)."""
    from wangge.core.dates import time_left as words

    text, late = words(due, now) if due and now else ("", False)
    return {"text": text, "late": late}

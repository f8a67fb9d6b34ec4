from __future__ import annotations

from django import template

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

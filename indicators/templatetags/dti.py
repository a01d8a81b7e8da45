"""Small display helpers for DTI numbers in admin templates."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def signed(number: Decimal | int | None, places: int | None = None) -> str:
    """+4,50 / −0,0045 / ±0: a change reads as a change, in the page's number format."""
    if number is None:
        return ""
    if number == 0:
        return "±0"
    text = number_format(abs(number), decimal_pos=places)
    return f"+{text}" if number > 0 else f"−{text}"

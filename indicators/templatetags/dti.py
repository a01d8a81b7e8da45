"""Small display helpers for DTI numbers in admin templates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

from indicators.models import Assessment
from indicators.services import years_read_under

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


@register.inclusion_tag("admin/indicators/_weak_rules.html", takes_context=True)
def weak_rules(context: template.Context) -> dict[str, Any]:
    """Which set and which weakness rule each year on the weak-indicator list was read under,
    so that an empty list is never mistaken for "nothing is weak" when a year has no rule of
    its own (the default rule applies then, and the banner says so)."""
    request = context.get("request")
    chosen = request.GET.get("assessment__year") if request is not None else None
    years = Assessment.objects.order_by().values_list("year", flat=True).distinct()
    if chosen and chosen.isdigit():
        years = years.filter(year=int(chosen))
    return {"lines": years_read_under(years)}

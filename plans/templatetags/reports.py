"""The report pages as links, for the admin's index: the same list, names and order as the
reports' own menu (``plans.reports.views.REPORTS``)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from plans.reports.views import REPORTS

register = template.Library()


@register.simple_tag
def report_links() -> list[tuple[str, str]]:
    return [(str(label), reverse(f"reports:{key}")) for key, label in REPORTS]

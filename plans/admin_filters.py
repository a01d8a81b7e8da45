"""Admin list filters that more than one list uses."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator, under_main_indicator_q


class MainIndicatorFilter(admin.SimpleListFilter):
    """Rows on a main indicator or any of its components (tasks, weak indicators: both have
    an ``indicator`` foreign key)."""

    title = _("main indicator")
    parameter_name = "main_indicator"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        mains = Indicator.objects.main().select_related("indicator_set")
        return [(str(m.pk), f"{m.indicator_set.code} · {m}") for m in mains]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(under_main_indicator_q(self.value()))
        return queryset

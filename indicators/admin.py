from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from indicators.models import Indicator, IndicatorSet
from indicators.resources import IndicatorResource
from indicators.spreadsheets import SafeImportMixin


@admin.register(IndicatorSet)
class IndicatorSetAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "decision", "first_year", "total_points"]
    search_fields = ["code", "name", "decision"]


class LevelFilter(admin.SimpleListFilter):
    title = _("level")
    parameter_name = "level"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("main", _("Main indicators")), ("component", _("Component indicators"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "main":
            return queryset.main()
        if self.value() == "component":
            return queryset.components()
        return queryset


@admin.register(Indicator)
class IndicatorAdmin(SafeImportMixin, ImportExportModelAdmin):
    resource_classes = [IndicatorResource]
    list_display = ["code", "name_vi", "name_en", "parent", "max_points", "scored", "indicator_set"]
    list_display_links = ["code", "name_vi"]
    list_filter = ["indicator_set", LevelFilter, "scored"]
    search_fields = ["code", "name_vi", "name_en"]
    list_select_related = ["indicator_set", "parent"]
    autocomplete_fields = ["parent"]
    ordering = ["indicator_set", "sort_key"]

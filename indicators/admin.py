from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from dtiplan.spreadsheets.admin import SafeImportMixin
from indicators.models import Assessment, Indicator, IndicatorSet, Province, WeakRule
from indicators.resources import AssessmentResource, IndicatorResource, ScoreResource
from indicators.services import province_history, year_over_year


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
    list_display = [
        "code",
        "name_vi",
        "name_en",
        "parent",
        "max_points",
        "scored",
        "pillar",
        "indicator_set",
    ]
    list_display_links = ["code", "name_vi"]
    list_filter = ["indicator_set", LevelFilter, "scored", "pillar"]
    search_fields = ["code", "name_vi", "name_en"]
    list_select_related = ["indicator_set", "parent"]
    autocomplete_fields = ["parent"]
    ordering = ["indicator_set", "sort_key"]


# --- Provinces, assessments, weakness rules ----------------------------------------------------


class ProvinceStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("current", _("Exists today")), ("former", _("Merged into another"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "current":
            return queryset.in_force(timezone.localdate())
        if self.value() == "former":
            return queryset.filter(successor__isnull=False)
        return queryset


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["name", "is_city", "valid_from", "valid_until", "successor"]
    list_filter = [ProvinceStatusFilter, "is_city"]
    search_fields = ["name", "other_names"]
    list_select_related = ["successor"]
    autocomplete_fields = ["successor"]
    fields = ["name", "is_city", "valid_from", "valid_until", "successor", "other_names"]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        province = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "history": province_history(province=province) if province else [],
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Assessment)
class AssessmentAdmin(SafeImportMixin, ImportExportModelAdmin):
    """Assessments come from the ministry's files (Import: a scores file), so the page shows,
    not edits. Export gives the DTI table (AssessmentResource) or the scores, in the import's
    layout (ScoreResource). The change page adds each indicator's result and the change since
    last year.
    """

    list_display = ["province", "year", "framework", "points", "value", "rank_display"]
    list_filter = ["year", "indicator_set"]
    search_fields = ["province__name"]
    list_select_related = ["province", "indicator_set"]
    fields = ["province", "year", "indicator_set", "points", "value", "updated_at"]
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).with_rank()

    def get_import_resource_classes(self, request: HttpRequest) -> list[type]:
        return [ScoreResource]

    def get_export_resource_classes(self, request: HttpRequest) -> list[type]:
        return [AssessmentResource, ScoreResource]

    def get_data_for_export(self, request: HttpRequest, queryset: QuerySet, **kwargs: Any) -> Any:
        # The list's filters (year, set, search) choose the assessments; the scores resource
        # exports those assessments' scores.
        chosen = self.choose_export_resource_class(kwargs.get("export_form"), request)
        if chosen is ScoreResource:
            queryset = (
                ScoreResource()
                .get_queryset()
                .filter(assessment__in=queryset.order_by().values("pk"))
            )
        return super().get_data_for_export(request, queryset, **kwargs)

    def generate_log_entries(self, result: Any, request: HttpRequest) -> None:
        # One entry per assessment the file touched (the library would write one per score,
        # under the wrong model), so the history shows who loaded which results.
        entries = [
            LogEntry(
                user_id=request.user.pk,
                content_type_id=ContentType.objects.get_for_model(Assessment).pk,
                object_id=str(assessment.pk),
                object_repr=str(assessment)[:200],
                action_flag=CHANGE,
                change_message=_("Scores imported from a spreadsheet."),
            )
            for assessment in getattr(result, "assessments", [])
        ]
        LogEntry.objects.bulk_create(entries)

    @admin.display(description=_("indicator set"), ordering="indicator_set__code")
    def framework(self, obj: Assessment) -> str:
        return obj.indicator_set.code

    @admin.display(description=_("rank"), ordering="rank")
    def rank_display(self, obj: Assessment) -> str:
        return _("%(rank)s of %(count)s") % {"rank": obj.rank, "count": obj.provinces_in_year}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Read-only page; a correction is a re-import of the corrected row.
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        assessment = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "year_over_year": year_over_year(assessment=assessment) if assessment else None,
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(WeakRule)
class WeakRuleAdmin(admin.ModelAdmin):
    list_display = ["year", "zero_points", "below_percent", "main_rank_worse_than"]
    fields = ["year", "zero_points", "below_percent", "main_rank_worse_than"]


# The weak-indicator list is registered by plans.admin_weak_indicators: it shows the tasks that
# address each indicator and creates tasks, which are plans' business; indicators never
# imports plans (dependencies point notifications → plans → indicators).

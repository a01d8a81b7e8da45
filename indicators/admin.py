from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from dtiplan.spreadsheets.admin import SafeImportMixin
from indicators.models import (
    Assessment,
    Indicator,
    IndicatorSet,
    Province,
    PublishedResult,
    WeakRule,
    assessment_years,
)
from indicators.resources import AssessmentResource, IndicatorResource, ScoreResource
from indicators.services import (
    province_history,
    published_differences,
    year_over_year,
    years_read_under,
)


@admin.register(IndicatorSet)
class IndicatorSetAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "decision", "first_year", "years_display", "total_points"]
    search_fields = ["code", "name", "decision"]

    @admin.display(description=_("assessment years"))
    def years_display(self, obj: IndicatorSet) -> str:
        # Which years a set applies to depends on the next set: a query per row, on a table of
        # a handful of sets.
        first, last = assessment_years(IndicatorSet.objects.all())[obj.pk]
        if last is None:
            return _("%(first)s and later") % {"first": first}
        if last == first:
            return str(first)
        return f"{first}–{last}"


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
    fields = [
        "name",
        "is_city",
        "valid_from",
        "valid_until",
        "successor",
        "former_name",
        "renamed_on",
        "other_names",
    ]

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

    list_display = [
        "province_display",
        "year",
        "framework",
        "points",
        "value",
        "rank_display",
        "published_value",
        "published_rank",
    ]
    list_filter = ["year", "indicator_set"]
    search_fields = ["province__name"]
    list_select_related = ["province", "indicator_set"]
    fields = ["province", "year", "indicator_set", "points", "value", "updated_at"]
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).with_rank().with_published()

    @admin.display(description=_("province"), ordering="province__name")
    def province_display(self, obj: Assessment) -> str:
        return obj.province.name_in_year(obj.year)

    @admin.display(description=_("published value"), ordering="published_value")
    def published_value(self, obj: Assessment) -> str:
        if obj.published_value is None:
            return "–"
        if obj.value is not None and abs(obj.value - obj.published_value) > Decimal("0.0001"):
            return format_html(
                '{} <strong style="color: #ba2121" title="{}">⚠</strong>',
                obj.published_value,
                _("Differs from dtiplan's computation"),
            )
        return str(obj.published_value)

    @admin.display(description=_("published rank"), ordering="published_rank")
    def published_rank(self, obj: Assessment) -> str:
        return "–" if obj.published_rank is None else str(obj.published_rank)

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

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The years with results and no rule of their own, named: the default rule finds their
        # weak indicators until a rule is set here.
        years = Assessment.objects.order_by().values_list("year", flat=True).distinct()
        readings = [r for r in years_read_under(years) if r.rule.is_default]
        for reading in readings:
            messages.warning(request, f"DTI {reading.year}: {reading.rule.label}.")
        return super().changelist_view(request, extra_context)


class PublishedRankingFilter(admin.SimpleListFilter):
    title = _("ranking")
    parameter_name = "ranking"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        sizes = PublishedResult.objects.order_by("ranking").values_list("ranking", flat=True)
        return [(str(size), _("%(count)s provinces") % {"count": size}) for size in set(sizes)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() and self.value().isdigit():
            return queryset.filter(ranking=int(self.value()))
        return queryset


@admin.register(PublishedResult)
class PublishedResultAdmin(admin.ModelAdmin):
    """The ministry's figures as imported (with the results file), read-only, and the page of
    differences from what dtiplan computes."""

    list_display = ["province_display", "year", "ranking", "subject_display", "value", "rank"]
    list_filter = ["year", PublishedRankingFilter, "indicator_set", "pillar"]
    search_fields = ["province__name", "indicator__code"]
    list_select_related = ["province", "indicator"]
    change_list_template = "admin/indicators/publishedresult/change_list.html"

    def get_urls(self) -> list:
        differences = self.admin_site.admin_view(self.differences_view)
        return [
            path("differences/", differences, name="indicators_publishedresult_differences"),
            *super().get_urls(),
        ]

    def differences_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Differences from the published results"),
            "rows": published_differences(),
        }
        return TemplateResponse(
            request, "admin/indicators/publishedresult/differences.html", context
        )

    @admin.display(description=_("province"), ordering="province__name")
    def province_display(self, obj: PublishedResult) -> str:
        return obj.province.name_in_year(obj.year) if obj.own_ranking else obj.province.name

    @admin.display(description=_("indicator"))
    def subject_display(self, obj: PublishedResult) -> str:
        return obj.subject

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a correction is a re-import of the corrected row


# The weak-indicator list is registered by plans.admin_weak_indicators: it shows the tasks that
# address each indicator and creates tasks, which are plans' business; indicators never
# imports plans (dependencies point notifications → plans → indicators).

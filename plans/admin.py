from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from indicators.models import Indicator
from indicators.spreadsheets import SafeImportMixin

# Registers the weak-indicator list (shown under DTI indicators): it shows and creates tasks.
from plans import admin_weak_indicators  # noqa: F401
from plans.models import Assignment, Plan, ProgressUpdate, Task, Unit, UnitMembership, User
from plans.resources import PlanResource, TaskResource, UnitResource
from plans.services import progress_report


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Preferences"), {"fields": ("language",)}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # A coordinator manages people but cannot grant rights, including to themselves.
        hidden = {"is_superuser", "groups", "user_permissions"}
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]})
            for name, opts in fieldsets
        ]


class MembershipInline(admin.TabularInline):
    model = UnitMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Unit)
class UnitAdmin(SafeImportMixin, ImportExportModelAdmin):
    resource_classes = [UnitResource]
    list_display = ["name", "short_name", "kind", "email", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "email"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    inlines = [MembershipInline]


@admin.register(Plan)
class PlanAdmin(SafeImportMixin, ImportExportModelAdmin):
    resource_classes = [PlanResource]
    list_display = ["title", "year", "decision", "status"]
    list_filter = ["status", "year"]
    search_fields = ["title", "decision"]


class AssignmentFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        lead = self.instance.lead_unit if self.instance.lead_unit_id else None
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or not data.get("unit"):
                continue
            if data["unit"] == lead and data.get("role") == Assignment.Role.COORDINATING:
                form.add_error(
                    "unit",
                    _("%(unit)s is the lead unit; it cannot also be a coordinating unit.")
                    % {"unit": lead},
                )


class AssignmentInline(admin.TabularInline):
    model = Assignment
    formset = AssignmentFormSet
    extra = 2
    autocomplete_fields = ["unit"]
    verbose_name = _("other unit")
    verbose_name_plural = _("implementing, coordinating and monitoring units")


class ProgressInline(admin.TabularInline):
    model = ProgressUpdate
    extra = 0
    fields = ["created_at", "unit", "author", "percent", "note"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "yes":
            return queryset.overdue(now)
        if self.value() == "no":
            return queryset.exclude(pk__in=Task.objects.overdue(now).values("pk"))
        return queryset


class MainIndicatorFilter(admin.SimpleListFilter):
    title = _("main indicator")
    parameter_name = "main_indicator"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        mains = Indicator.objects.main().select_related("indicator_set")
        return [(str(m.pk), f"{m.indicator_set.code} · {m}") for m in mains]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.for_main_indicator(int(self.value()))
        return queryset


class UnitFilter(admin.SimpleListFilter):
    """Tasks where a unit holds any role: the same rule as ``Task.objects.for_unit``."""

    title = _("unit (any role)")
    parameter_name = "unit"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(str(u.pk), u.name) for u in Unit.objects.filter(is_active=True).only("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.for_unit(int(self.value()))
        return queryset


@admin.register(Task)
class TaskAdmin(SafeImportMixin, ImportExportModelAdmin):
    resource_classes = [TaskResource]
    list_display = [
        "title",
        "indicator",
        "lead_unit",
        "deadline",
        "status",
        "percent_done",
        "plan",
    ]
    list_filter = ["plan", "status", UnitFilter, MainIndicatorFilter, OverdueFilter]
    search_fields = ["title", "indicator__code", "indicator__name_vi", "lead_unit__name"]
    autocomplete_fields = ["indicator", "lead_unit", "plan"]
    date_hierarchy = "deadline"
    inlines = [AssignmentInline, ProgressInline]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["plan", "indicator", "title", "description", "expected_output"]}),
        (_("Responsibility and time"), {"fields": ["lead_unit", "start_date", "deadline"]}),
        (_("State"), {"fields": ["status", "percent_done", "created_at", "updated_at"]}),
    ]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).with_list_columns()


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(admin.ModelAdmin):
    list_display = ["task", "unit", "author", "created_at", "percent"]
    list_filter = ["unit"]
    list_select_related = ["task", "unit", "author"]
    autocomplete_fields = ["task", "unit"]
    fields = ["task", "unit", "percent", "note"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A report is a record of what a unit said: it is not edited afterwards.
        return self.fields if obj else []

    def save_model(
        self, request: HttpRequest, obj: ProgressUpdate, form: Any, change: bool
    ) -> None:
        if change:
            return
        progress_report(
            task=obj.task, unit=obj.unit, author=request.user, percent=obj.percent, note=obj.note
        )

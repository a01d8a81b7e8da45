"""The task import page's plan choice, and the unit groups imports expand.

A province's appendix has no plan column: the coordinator chooses the plan once on the import
form, and the choice travels with the preview to the confirmation (``TaskResource(plan=...)``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ConfirmImportForm

from dtiplan.spreadsheets.admin import SafeImportMixin, SizeLimitedImportForm
from plans.models import Plan, UnitGroup
from plans.resources import UnitGroupResource


def _plan_field(widget: forms.Widget | None = None) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.exclude(status=Plan.Status.CLOSED),
        required=False,
        widget=widget,
        help_text=_(
            "The plan every row goes into, for a table without a plan column (a plan's "
            "appendix as issued). Leave empty when the file names the plan in each row."
        ),
    )


class TaskImportForm(SizeLimitedImportForm):
    plan = _plan_field()


class TaskConfirmImportForm(ConfirmImportForm):
    plan = _plan_field(forms.HiddenInput())


class PlanChoiceImportMixin:
    """For the task admin: the plan chosen on the form is given to the resource, on the
    preview and on the confirmation."""

    import_form_class = TaskImportForm
    confirm_form_class = TaskConfirmImportForm

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)  # type: ignore[misc]
        if import_form is not None and import_form.cleaned_data.get("plan"):
            initial["plan"] = import_form.cleaned_data["plan"].pk
        return initial

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        resource_kwargs = super().get_import_resource_kwargs(request, **kwargs)  # type: ignore[misc]
        form = kwargs.get("form")
        plan = form.cleaned_data.get("plan") if form is not None and form.is_bound else None
        if plan is not None:
            resource_kwargs["plan"] = plan.title
        return resource_kwargs


@admin.register(UnitGroup)
class UnitGroupAdmin(SafeImportMixin, ImportExportModelAdmin):
    resource_classes = [UnitGroupResource]
    list_display = ["name", "member_count"]
    search_fields = ["name", "aliases"]
    filter_horizontal = ["members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[UnitGroup]:
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description=_("units"), ordering="member_total")
    def member_count(self, obj: UnitGroup) -> int:
        return obj.member_total

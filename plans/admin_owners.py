"""The indicator owners in the admin: who presides over, monitors and coordinates each
indicator of a plan. Edited through ``plans.services.indicator_owner_set`` (the form only shows
its rules early); imported with ``plans.resources.IndicatorOwnerResource``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from dtiplan.spreadsheets.admin import SafeImportMixin
from plans.admin_filters import MainIndicatorFilter
from plans.models import IndicatorOwner, IndicatorOwnerUnit, OwnerRole, Unit
from plans.owners import check_indicator_in_plan_year, check_owner_units
from plans.resources import IndicatorOwnerResource
from plans.services import indicator_owner_set


class IndicatorOwnerForm(forms.ModelForm):
    presiding_unit = forms.ModelChoiceField(
        label=_("Presiding unit"),
        queryset=Unit.objects.filter(is_active=True),
        help_text=_("The one unit that answers for the indicator."),
    )
    monitoring_unit = forms.ModelChoiceField(
        label=_("Monitoring unit"),
        queryset=Unit.objects.filter(is_active=True),
        required=False,
        help_text=_("Checks the indicator's self-assessment; not the presiding unit."),
    )
    coordinating_units = forms.ModelMultipleChoiceField(
        label=_("Coordinating units"),
        queryset=Unit.objects.filter(is_active=True),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    class Meta:
        model = IndicatorOwner
        fields = ["plan", "indicator"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            rows = list(self.instance.units.all())
            by_role: dict[str, list[int]] = {}
            for row in rows:
                by_role.setdefault(row.role, []).append(row.unit_id)
            self.initial.setdefault(
                "presiding_unit", (by_role.get(OwnerRole.PRESIDING) or [None])[0]
            )
            self.initial.setdefault(
                "monitoring_unit", (by_role.get(OwnerRole.MONITORING) or [None])[0]
            )
            self.initial.setdefault("coordinating_units", by_role.get(OwnerRole.COORDINATING, []))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        errors = check_owner_units(
            data.get("presiding_unit"),
            data.get("monitoring_unit"),
            data.get("coordinating_units") or [],
        )
        plan = data.get("plan") or (self.instance.plan if self.instance.pk else None)
        indicator = data.get("indicator") or (self.instance.indicator if self.instance.pk else None)
        if plan and indicator and not self.instance.pk:
            problem = check_indicator_in_plan_year(plan, indicator)
            if problem:
                errors.setdefault("indicator", []).append(problem)
        for field, messages in errors.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, messages)
        return data


class OwnerUnitFilter(admin.SimpleListFilter):
    """Indicators a unit presides over (or holds any role on)."""

    title = _("presiding unit")
    parameter_name = "presiding"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        units = Unit.objects.filter(indicator_roles__role=OwnerRole.PRESIDING).distinct()
        return [(str(u.pk), u.name) for u in units.order_by("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(units__role=OwnerRole.PRESIDING, units__unit_id=self.value())
        return queryset


@admin.register(IndicatorOwner)
class IndicatorOwnerAdmin(SafeImportMixin, ImportExportModelAdmin):
    resource_classes = [IndicatorOwnerResource]
    form = IndicatorOwnerForm
    list_display = ["indicator", "plan", "presiding", "monitoring", "coordinating"]
    list_filter = ["plan", OwnerUnitFilter, MainIndicatorFilter]
    search_fields = ["indicator__code", "indicator__name_vi", "units__unit__name"]
    autocomplete_fields = ["plan", "indicator"]
    list_per_page = 100
    fields = ["plan", "indicator", "presiding_unit", "monitoring_unit", "coordinating_units"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        units = IndicatorOwnerUnit.objects.select_related("unit").order_by("unit__name")
        return (
            super()
            .get_queryset(request)
            .select_related("plan", "indicator")
            .prefetch_related(Prefetch("units", queryset=units))
        )

    def _names(self, owner: IndicatorOwner, role: str) -> str:
        return "; ".join(row.unit.name for row in owner.units.all() if row.role == role) or "–"

    @admin.display(description=_("presiding unit"))
    def presiding(self, owner: IndicatorOwner) -> str:
        return self._names(owner, OwnerRole.PRESIDING)

    @admin.display(description=_("monitoring unit"))
    def monitoring(self, owner: IndicatorOwner) -> str:
        return self._names(owner, OwnerRole.MONITORING)

    @admin.display(description=_("coordinating units"))
    def coordinating(self, owner: IndicatorOwner) -> str:
        return self._names(owner, OwnerRole.COORDINATING)

    def save_model(
        self, request: HttpRequest, obj: IndicatorOwner, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        saved = indicator_owner_set(
            plan=obj.plan,
            indicator=obj.indicator,
            presiding_unit=data["presiding_unit"],
            monitoring_unit=data.get("monitoring_unit"),
            coordinating_units=data.get("coordinating_units") or [],
            by=request.user,  # type: ignore[arg-type]
        )
        obj.pk = saved.pk

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Another plan or indicator is another owner row: add it rather than move this one.
        return ["plan", "indicator"] if obj else []

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The units were saved by the service; the form has no many-to-many of its own."""

"""The indicator owners in the admin: who presides over, monitors and coordinates each
indicator of a plan. Edited through ``plans.services.indicator_owner_set`` (the form only shows
its rules early); imported with ``plans.resources.IndicatorOwnerResource``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from dtiplan.spreadsheets.admin import SafeImportMixin
from indicators.models import Indicator, IndicatorSet
from plans.admin_filters import MainIndicatorFilter
from plans.models import IndicatorOwner, IndicatorOwnerUnit, OwnerRole, Plan, Unit, User
from plans.owners import check_indicator_in_plan_year, check_owner_units
from plans.resources import IndicatorOwnerResource
from plans.services import indicator_owner_set


class LoadedChoiceField(forms.ModelChoiceField):
    """A model choice that a formset may ``load`` with objects read once for all its rows:
    its options and its cleaning then cost no query per row. Unloaded, it is Django's."""

    loaded: dict[str, Any] | None = None

    def load(self, objects: dict[str, Any], options: list[tuple[Any, str]]) -> None:
        self.loaded = objects
        blank = [("", self.empty_label)] if self.empty_label is not None else []
        self.choices = blank + options

    def to_python(self, value: Any) -> Any:
        if self.loaded is None or value in self.empty_values:
            return super().to_python(value)
        found = self.loaded.get(str(getattr(value, "pk", value)))
        if found is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return found


class LoadedMultipleChoiceField(forms.ModelMultipleChoiceField):
    """``LoadedChoiceField`` for several objects."""

    loaded: dict[str, Any] | None = None

    def load(self, objects: dict[str, Any], options: list[tuple[Any, str]]) -> None:
        self.loaded = objects
        self.choices = options

    def clean(self, value: Any) -> Any:
        if self.loaded is None:
            return super().clean(value)
        values = [str(v) for v in (self.prepare_value(value) or [])]
        if self.required and not values:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        for item in values:
            if item not in self.loaded:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return [self.loaded[item] for item in values]


class IndicatorOwnerForm(forms.ModelForm):
    presiding_unit = LoadedChoiceField(
        label=_("Presiding unit"),
        queryset=Unit.objects.filter(is_active=True),
        help_text=_("The one unit that answers for the indicator."),
    )
    monitoring_unit = LoadedChoiceField(
        label=_("Monitoring unit"),
        queryset=Unit.objects.filter(is_active=True),
        required=False,
        help_text=_("Checks the indicator's self-assessment; not the presiding unit."),
    )
    coordinating_units = LoadedMultipleChoiceField(
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

    def _get_validation_exclusions(self) -> set[str]:
        exclude = super()._get_validation_exclusions()
        if self.instance.pk:
            # A saved row's plan and indicator do not change (read-only on its page, disabled
            # on the plan's): checking them again would cost a query per row.
            exclude.add("indicator")
        return exclude

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


def unit_names(owner: IndicatorOwner, role: str) -> str:
    """The names of the owner's units in ``role`` (its prefetched rows), or a dash."""
    return "; ".join(row.unit.name for row in owner.units.all() if row.role == role) or "–"


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
        return _owners_with_units(super().get_queryset(request))

    @admin.display(description=_("presiding unit"))
    def presiding(self, owner: IndicatorOwner) -> str:
        return unit_names(owner, OwnerRole.PRESIDING)

    @admin.display(description=_("monitoring unit"))
    def monitoring(self, owner: IndicatorOwner) -> str:
        return unit_names(owner, OwnerRole.MONITORING)

    @admin.display(description=_("coordinating units"))
    def coordinating(self, owner: IndicatorOwner) -> str:
        return unit_names(owner, OwnerRole.COORDINATING)

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


def _owners_with_units(queryset: QuerySet[IndicatorOwner]) -> QuerySet[IndicatorOwner]:
    """Owners with their indicator, plan and role rows (units by name): what the list, the
    form's initial units and the plan's inline read without a query per owner."""
    units = IndicatorOwnerUnit.objects.select_related("unit").order_by("unit__name")
    return queryset.select_related("plan", "indicator").prefetch_related(
        Prefetch("units", queryset=units)
    )


class PlanOwnersFormSet(forms.BaseInlineFormSet):
    """A plan's indicator owners on the plan's page. Each row is an ``IndicatorOwnerForm``, so
    the checks are the owners' page's; ``save_through_service`` writes every row through
    ``indicator_owner_set``. The units and the indicators of the plan's set are read once for
    all rows: a select list per row would otherwise cost a query per row and list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = list(Unit.objects.filter(is_active=True))
        self._units = ({str(u.pk): u for u in units}, [(u.pk, u.name) for u in units])
        indicators = self._indicators()
        self._indicators_loaded = (
            {str(i.pk): i for i in indicators},
            [(i.pk, str(i)) for i in indicators],
        )
        self._rows = {str(owner.pk): owner for owner in self.get_queryset()}

    def _indicators(self) -> list[Indicator]:
        """The indicators of the set in force in the plan's year, and those the plan's owners
        already name (were the plan's year changed since)."""
        plan: Plan = self.instance
        indicator_set = IndicatorSet.objects.for_year(plan.year) if plan.year else None
        wanted = Q(owners__plan=plan) if plan.pk else Q(pk__in=[])
        if indicator_set is not None:
            wanted |= Q(indicator_set=indicator_set)
        return list(Indicator.objects.filter(wanted).distinct().order_by("sort_key"))

    def _share_choices(self, form: forms.Form) -> forms.Form:
        for name in ("presiding_unit", "monitoring_unit", "coordinating_units"):
            form.fields[name].load(*self._units)
        model_field = form.fields["indicator"]
        indicator = LoadedChoiceField(
            queryset=model_field.queryset,
            label=model_field.label,
            # Another indicator is another owner row: add it rather than move this one.
            disabled=bool(form.instance.pk),
        )
        indicator.load(*self._indicators_loaded)
        form.fields["indicator"] = indicator
        # The formset's hidden id field would read its row again, one query per row.
        row_id = form.fields["id"]
        loaded_id = LoadedChoiceField(
            queryset=row_id.queryset, required=False, widget=row_id.widget, initial=row_id.initial
        )
        loaded_id.load(self._rows, [])
        form.fields["id"] = loaded_id
        return form

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        return self._share_choices(super()._construct_form(i, **kwargs))

    @property
    def empty_form(self) -> forms.Form:
        return self._share_choices(super().empty_form)

    def save_through_service(self, by: User) -> None:
        """Deleted rows are deleted, new and changed ones given exactly their units; then
        what the admin's change message reads after a formset's ``save()``."""
        self.new_objects: list[IndicatorOwner] = []
        self.changed_objects: list[tuple[IndicatorOwner, list[str]]] = []
        self.deleted_objects: list[IndicatorOwner] = []
        for form in self.deleted_forms:
            if form.instance.pk:
                form.instance.delete()
                self.deleted_objects.append(form.instance)
        for form in self.forms:
            if form in self.deleted_forms or not form.has_changed():
                continue
            data = form.cleaned_data
            owner = indicator_owner_set(
                plan=self.instance,
                indicator=data["indicator"],
                presiding_unit=data["presiding_unit"],
                monitoring_unit=data.get("monitoring_unit"),
                coordinating_units=data.get("coordinating_units") or [],
                by=by,
            )
            if form.instance.pk:
                self.changed_objects.append((owner, form.changed_data))
            else:
                self.new_objects.append(owner)


class PlanOwnersInline(admin.TabularInline):
    """Who answers for each indicator, on the plan's page (shown once the plan is saved: the
    indicators offered are those of the set in force in its year)."""

    model = IndicatorOwner
    form = IndicatorOwnerForm
    formset = PlanOwnersFormSet
    fields = ["indicator", "presiding_unit", "monitoring_unit", "coordinating_units"]
    extra = 1
    verbose_name = _("indicator owner")
    verbose_name_plural = _("indicator owners: presiding, monitoring and coordinating units")

    def get_queryset(self, request: HttpRequest) -> QuerySet[IndicatorOwner]:
        return _owners_with_units(super().get_queryset(request))

    # Someone who may only look (the steering committee) sees each row's fields read-only;
    # the unit fields are the form's, not the model's, so these say what they hold.

    @admin.display(description=_("Presiding unit"))
    def presiding_unit(self, owner: IndicatorOwner) -> str:
        return unit_names(owner, OwnerRole.PRESIDING)

    @admin.display(description=_("Monitoring unit"))
    def monitoring_unit(self, owner: IndicatorOwner) -> str:
        return unit_names(owner, OwnerRole.MONITORING)

    @admin.display(description=_("Coordinating units"))
    def coordinating_units(self, owner: IndicatorOwner) -> str:
        return unit_names(owner, OwnerRole.COORDINATING)

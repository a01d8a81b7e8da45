"""The weak-indicator list in the admin, and the action that drafts tasks from it.

The list shows ``indicators`` data (``Score.objects.weak()``), but it is registered here because
each row shows the tasks of the province's plans that address it (``plans.coverage``) and the
action creates tasks: both are plans' business, and dependencies point plans → indicators,
never back. The proxy model keeps the page under "DTI indicators" in the admin, where a
coordinator looks for it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin

from dtiplan.spreadsheets.admin import SafeImportMixin
from indicators.models import Province, WeakIndicator
from plans.admin_filters import MainIndicatorFilter
from plans.coverage import TASKS_PER_ROW, Coverage, attach_tasks, with_coverage
from plans.models import Plan, Unit
from plans.owners import attach_owners
from plans.resources import WeakIndicatorResource
from plans.services import draft_tasks_create


class ProvinceFilter(admin.SimpleListFilter):
    """Only provinces with results loaded: the list of 86 would be mostly empty choices."""

    title = _("province")
    parameter_name = "province"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        provinces = Province.objects.filter(assessments__isnull=False).distinct()
        return [(str(p.pk), str(p)) for p in provinces.order_by("name", "valid_from")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(assessment__province_id=self.value())
        return queryset


class CoveredFilter(admin.SimpleListFilter):
    title = _("addressed by a task")
    parameter_name = "covered"
    VALUES = {"yes": Coverage.COVERED, "drafted": Coverage.DRAFTED, "no": Coverage.UNCOVERED}

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [
            ("yes", _("Yes")),
            ("drafted", _("Only draft tasks")),
            ("no", _("No: needs a task")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in self.VALUES:
            return queryset.filter(coverage=self.VALUES[self.value()])
        return queryset


class DraftTasksForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.exclude(status=Plan.Status.CLOSED).filter(province__isnull=False),
        help_text=_(
            "The plan the new draft tasks go into. Only the selected results of the plan's "
            "province get a task; a plan must name its province to be listed here."
        ),
    )
    lead_unit = forms.ModelChoiceField(
        label=_("Provisional lead unit"),
        queryset=Unit.objects.filter(is_active=True),
        help_text=_(
            "Every task has exactly one lead unit, drafts too. A task takes its indicator's "
            "presiding unit in the plan; for indicators without one, choose the unit that will "
            "sort them out (usually your own department) and reassign each task when you "
            "assign it."
        ),
    )
    deadline = forms.DateField(
        label=_("Deadline"),
        required=False,
        help_text=_("Leave empty for 31/12 of the plan's year."),
    )


def current_plan() -> Plan | None:
    """The plan a coordinator means by "the current plan": the latest one in force."""
    plans = Plan.objects.filter(province__isnull=False)
    return (
        plans.filter(status=Plan.Status.ACTIVE).order_by("-year", "-pk").first()
        or plans.exclude(status=Plan.Status.CLOSED).order_by("-year", "-pk").first()
    )


# Most points to win first; indicators known by their value only (no points to win) last.
ORDERING = (
    F("recoverable_points").desc(nulls_last=True),
    "assessment__province__name",
    "indicator__sort_key",
)


class _ChangeList(ChangeList):
    def _get_default_ordering(self) -> list[str]:
        # The column headers mark the default sort from this (Django reads the model's
        # ordering otherwise, and would mark "indicator" as the sorted column).
        return list(ORDERING)

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        attach_tasks(self.result_list, per_row=TASKS_PER_ROW)  # one query for the page
        attach_owners(self.result_list)  # two for the page


@admin.register(WeakIndicator)
class WeakIndicatorAdmin(SafeImportMixin, ExportMixin, admin.ModelAdmin):
    resource_classes = [WeakIndicatorResource]
    # Names the set and the weakness rule (the year's own or the default) each year is read
    # under, above the list (indicators' template: the rule is indicators' data).
    change_list_template = "admin/indicators/weakindicator/change_list.html"
    # The tasks come right after the indicator, so that "no task" is seen without scrolling
    # sideways on a laptop screen.
    list_display = [
        "province",
        "year",
        "indicator_display",
        "open_tasks_display",
        "owner_display",
        "points",
        "max_points",
        "value",
        "recoverable_display",
        "last_year_display",
    ]
    list_display_links = None
    list_filter = [ProvinceFilter, "assessment__year", MainIndicatorFilter, CoveredFilter]
    search_fields = ["indicator__code", "indicator__name_vi", "indicator__name_en"]
    actions = ["create_draft_tasks"]
    show_full_result_count = False
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        weak = (
            WeakIndicator.objects.weak()
            .with_recoverable()
            .with_last_year()
            .select_related("assessment__province", "indicator__parent")
        )
        return with_coverage(weak)

    def get_ordering(self, request: HttpRequest) -> list[str]:
        # Not ``ordering``: the admin's checks accept only model fields there, and the first
        # key is an annotation.
        return list(ORDERING)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _ChangeList

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_task_permission(self, request: HttpRequest) -> bool:
        """Who may run the action: whoever may add tasks (the steering committee may not)."""
        return request.user.has_perm("plans.add_task")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("province"), ordering="assessment__province__name")
    def province(self, obj: WeakIndicator) -> str:
        return obj.assessment.province.name_in_year(obj.assessment.year)

    @admin.display(description=_("year"), ordering="assessment__year")
    def year(self, obj: WeakIndicator) -> int:
        return obj.assessment.year

    @admin.display(description=_("indicator"), ordering="indicator__sort_key")
    def indicator_display(self, obj: WeakIndicator) -> str:
        url = reverse("admin:indicators_assessment_change", args=[obj.assessment_id])
        return format_html('<a href="{}">{}</a>', url, obj.indicator)

    @admin.display(description=_("max points"), ordering="indicator__max_points")
    def max_points(self, obj: WeakIndicator) -> Any:
        return obj.indicator.max_points

    @admin.display(description=_("points to win"), ordering="recoverable_points")
    def recoverable_display(self, obj: WeakIndicator) -> Decimal | str:
        if obj.recoverable_points is None:
            return "–"  # known by its published value only
        # Two decimals like the points beside it (SQLite returns the difference as 70, not
        # 70.00).
        return Decimal(obj.recoverable_points).quantize(Decimal("0.01"))

    @admin.display(description=_("last year's points"))
    def last_year_display(self, obj: WeakIndicator) -> str:
        if obj.last_year_points is None:
            return "–"
        return format_html("{}", Decimal(obj.last_year_points).quantize(Decimal("0.01")))

    @admin.display(description=_("presiding unit"))
    def owner_display(self, obj: WeakIndicator) -> str:
        owners = obj.owners
        if owners is None or owners.presiding is None:
            return "–"
        if owners.monitoring is None:
            return owners.presiding.name
        return format_html(
            "{}<br><small>{}: {}</small>",
            owners.presiding.name,
            _("monitoring"),
            owners.monitoring.name,
        )

    @admin.display(description=_("tasks"), ordering="coverage")
    def open_tasks_display(self, obj: WeakIndicator) -> str:
        tasks = obj.addressing_tasks
        if not tasks:
            # What must stand out: weak, and no task of the province's plans addresses it.
            return format_html('<strong style="color: #ba2121">⚠ {}</strong>', _("No task"))
        listed = format_html_join(
            mark_safe("<br>"),
            '{}<a href="{}">{}</a> ({}, {}, {})',
            (
                (
                    (_("Draft:") + " ") if t.drafted else "",
                    t.get_absolute_url(),
                    t.title,
                    t.lead_unit.name,
                    t.deadline.strftime("%d/%m/%Y"),
                    t.get_status_display(),
                )
                for t in tasks
            ),
        )
        more = obj.addressing_more
        if not more:
            return listed
        url = reverse("admin:plans_task_changelist") + f"?indicator__id__exact={obj.indicator_id}"
        text = ngettext("and %(counter)s more task", "and %(counter)s more tasks", more) % {
            "counter": more
        }
        return format_html('{}<br><a href="{}">{}</a>', listed, url, text)

    @admin.action(
        description=_("Create draft tasks in a plan for the selected indicators"),
        permissions=["add_task"],
    )
    def create_draft_tasks(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        selected = list(queryset.order_by(*self.get_ordering(request)))
        if "apply" in request.POST:
            form = DraftTasksForm(request.POST)
            if form.is_valid():
                result = draft_tasks_create(
                    plan=form.cleaned_data["plan"],
                    scores=selected,
                    lead_unit=form.cleaned_data["lead_unit"],
                    deadline=form.cleaned_data["deadline"],
                )
                self._report(request, form.cleaned_data["plan"], result)
                return HttpResponseRedirect(request.get_full_path())
        else:
            form = DraftTasksForm(initial=self._initial(request))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Create draft tasks"),
            "opts": self.model._meta,
            "form": form,
            "selected": selected,
            "indicator_count": len({s.indicator_id for s in selected}),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/plans/draft_tasks.html", context)

    def _initial(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        plan = current_plan()
        if plan:
            initial["plan"] = plan.pk
            initial["deadline"] = dt.date(plan.year, 12, 31)
        units = list(Unit.objects.filter(memberships__user=request.user, is_active=True)[:2])
        if len(units) == 1:  # the coordinator's own department, when that is unambiguous
            initial["lead_unit"] = units[0].pk
        return initial

    def _report(self, request: HttpRequest, plan: Plan, result: Any) -> None:
        if result.created:
            self.message_user(
                request,
                ngettext(
                    "%(count)d draft task created in “%(plan)s”. Assign it from the task list.",
                    "%(count)d draft tasks created in “%(plan)s”. Assign them from the task list.",
                    len(result.created),
                )
                % {"count": len(result.created), "plan": plan},
                messages.SUCCESS,
            )
        if result.already_planned:
            self.message_user(
                request,
                _("Already addressed by a task of %(province)s's plans, so no new task: %(codes)s.")
                % {
                    "province": plan.province,
                    "codes": ", ".join(i.code for i in result.already_planned),
                },
                messages.WARNING,
            )
        if result.other_province:
            rows = sorted(
                {f"{s.assessment.province.name} {s.indicator.code}" for s in result.other_province}
            )
            self.message_user(
                request,
                _("Not drafted, results of another province than %(province)s's: %(rows)s.")
                % {"province": plan.province, "rows": ", ".join(rows)},
                messages.WARNING,
            )

"""The reports' one filter form: plan, year, main indicator, unit (and province for the trend).

The FilterSet narrows the tasks every report counts; ``ReportFilters`` carries the chosen values
to the query functions, so that the monthly e-mail (which has no request) calls them the same
way the pages do.

A report opened without a plan or a year shows the year of the latest plan in force
(``ReportFilterSet.__init__``): the steering committee reads this year's work, not this year's
mixed with the earlier years' finished plans, and the page costs the same however many years
the installation keeps. "All years" stays one choice away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator, Province
from plans.models import Plan, Task, TaskQuerySet, Unit


@dataclass(frozen=True)
class ReportFilters:
    plan: Plan | None = None
    year: int | None = None
    main_indicator: Indicator | None = None
    unit: Unit | None = None
    province: Province | None = None


# The statuses the reports leave out (``report_tasks``).
NOT_WORK = (Task.Status.DRAFT, Task.Status.CANCELLED)


def report_tasks(filters: ReportFilters) -> TaskQuerySet:
    """The tasks the reports count: assigned ones (drafts are not yet work and cancelled ones
    no longer are), narrowed by the filters. A unit filter keeps the tasks where the unit holds
    any role."""
    tasks = Task.objects.exclude(status__in=NOT_WORK)
    if filters.plan is not None:
        tasks = tasks.filter(plan=filters.plan)
    if filters.year is not None:
        tasks = tasks.filter(plan__year=filters.year)
    if filters.main_indicator is not None:
        tasks = tasks.for_main_indicator(filters.main_indicator.pk)
    if filters.unit is not None:
        tasks = tasks.for_unit(filters.unit)
    return tasks


class ReportFilterSet(django_filters.FilterSet):
    plan = django_filters.ModelChoiceFilter(
        label=_("Plan"), queryset=Plan.objects.all(), method="keep", empty_label=_("All plans")
    )
    # Its choices are the plans' years, set for each form (``__init__``).
    year = django_filters.ChoiceFilter(
        label=_("Plan year"), choices=[], method="keep", empty_label=_("All years")
    )
    main_indicator = django_filters.ModelChoiceFilter(
        label=_("Main indicator"),
        queryset=Indicator.objects.main().select_related("indicator_set"),
        method="keep",
        empty_label=_("All indicators"),
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("Unit"), queryset=Unit.objects.all(), method="keep", empty_label=_("All units")
    )
    province = django_filters.ModelChoiceFilter(
        label=_("Province (trend and coverage)"),
        queryset=Province.objects.filter(assessments__isnull=False).distinct(),
        method="keep",
        empty_label=_("The plan's province"),
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(self, data: QueryDict | None = None, *args: Any, **kwargs: Any) -> None:
        """``data`` as asked, with the year of the latest plan in force (or of the latest plan)
        when it names neither a plan nor a year; an empty ``year=`` is the choice of every
        year. One query for the years offered and that default."""
        years = set(Plan.objects.order_by().values_list("year", "status").distinct())
        offered = sorted({year for year, _status in years}, reverse=True)
        in_force = [year for year, status in years if status == Plan.Status.ACTIVE]
        default = max(in_force, default=offered[0] if offered else None)
        if default is not None and (data is None or ("plan" not in data and "year" not in data)):
            data = data.copy() if data is not None else QueryDict(mutable=True)
            data["year"] = str(default)
        super().__init__(data or None, *args, **kwargs)
        self.filters["year"].extra["choices"] = [(year, year) for year in offered]

    def keep(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        # The filtering is report_tasks(); the FilterSet validates and cleans the choices.
        return queryset

    def report_filters(self) -> ReportFilters:
        data = self.form.cleaned_data if self.is_valid() else {}
        return ReportFilters(
            plan=data.get("plan"),
            year=int(data["year"]) if data.get("year") else None,
            main_indicator=data.get("main_indicator"),
            unit=data.get("unit"),
            province=data.get("province"),
        )

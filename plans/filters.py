"""FilterSets of the portal's lists. The queryset they filter is already
``Task.objects.visible_to(user)``; filters only narrow it."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator
from plans.access import units_of
from plans.models import Task, TaskQuerySet, TaskRole, task_due_within_q, task_overdue_q

DUE_SOON_DAYS = 7


class TaskFilter(django_filters.FilterSet):
    """ "My unit's tasks": status, overdue, due within N days, main indicator, my role."""

    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[c for c in Task.Status.choices if c[0] != Task.Status.DRAFT],
        empty_label=_("All statuses"),
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"),
        method="filter_overdue",
        widget=forms.Select(
            choices=[("", _("Overdue or not")), ("true", _("Overdue")), ("false", _("Not overdue"))]
        ),
    )
    due_within = django_filters.NumberFilter(
        label=_("Due within (days)"),
        method="filter_due_within",
        min_value=0,
        max_value=366,
        widget=forms.NumberInput(attrs={"min": 0, "max": 366, "inputmode": "numeric"}),
    )
    main_indicator = django_filters.ModelChoiceFilter(
        label=_("Main indicator"),
        queryset=Indicator.objects.main().select_related("indicator_set"),
        method="filter_main_indicator",
        empty_label=_("All indicators"),
    )
    role = django_filters.ChoiceFilter(
        label=_("My unit's role"),
        choices=TaskRole.choices,
        method="filter_role",
        empty_label=_("Any role"),
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(
        self, *args: object, request: HttpRequest, now: dt.datetime, **kwargs: object
    ) -> None:
        super().__init__(*args, request=request, **kwargs)
        self.now = now
        # Evaluated once per request (one query), reused by the role filter and the page.
        self.units = units_of(request.user)
        self.unit_ids = list(self.units)

    def filter_overdue(self, queryset: TaskQuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.overdue(self.now) if value else queryset.not_overdue(self.now)

    def filter_due_within(self, queryset: TaskQuerySet, name: str, value: object) -> QuerySet:
        if value in (None, ""):
            return queryset
        return queryset.due_within(self.now, int(value))  # type: ignore[call-overload]

    def filter_main_indicator(
        self, queryset: TaskQuerySet, name: str, value: Indicator | None
    ) -> QuerySet:
        return queryset.for_main_indicator(value.pk) if value else queryset

    def filter_role(self, queryset: TaskQuerySet, name: str, value: str) -> QuerySet:
        return queryset.with_unit_role(self.unit_ids, value) if value else queryset


def task_counts(queryset: QuerySet, now: dt.datetime) -> dict[str, int]:
    """How many of the visible tasks are in each state the portal's quick filters offer:
    one aggregate query, whatever the number of tasks."""
    return queryset.aggregate(
        all=Count("pk"),
        overdue=Count("pk", filter=task_overdue_q(now)),
        due_soon=Count("pk", filter=task_due_within_q(now, DUE_SOON_DAYS)),
        new=Count("pk", filter=Q(status=Task.Status.NEW)),
        in_progress=Count("pk", filter=Q(status=Task.Status.IN_PROGRESS)),
        submitted=Count("pk", filter=Q(status=Task.Status.SUBMITTED)),
        completed=Count("pk", filter=Q(status=Task.Status.COMPLETED)),
    )

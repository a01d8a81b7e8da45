"""Business actions on plans and tasks. Views, admin, imports and tasks call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators.models import Indicator, Score
from plans.models import Plan, ProgressUpdate, Task, Unit, User


@transaction.atomic
def progress_report(
    *, task: Task, unit: Unit, author: User | None, percent: int, note: str = ""
) -> ProgressUpdate:
    """Record a unit's progress and carry it to the task: a first report on a newly assigned
    task marks it in progress."""
    update = ProgressUpdate(
        task=task, unit=unit, author=author, percent=percent, note=note, created_at=timezone.now()
    )
    update.full_clean()
    update.save()
    task.percent_done = percent
    fields = ["percent_done", "updated_at"]
    if task.status == Task.Status.NEW:
        task.status = Task.Status.IN_PROGRESS
        fields.append("status")
    task.save(update_fields=fields)
    return update


@dataclass(frozen=True)
class DraftTasks:
    created: list[Task]
    already_planned: list[Indicator]


@transaction.atomic
def draft_tasks_create(
    *, plan: Plan, scores: Iterable[Score], lead_unit: Unit, deadline: dt.date | None = None
) -> DraftTasks:
    """One draft task in ``plan`` for each indicator of ``scores`` (weak indicators), for the
    coordinator to complete and assign. An indicator that already has a task in the plan gets
    none, so running this twice creates nothing the second time.

    A task needs its one lead unit (a database invariant other code relies on), so the draft
    carries the lead the coordinator chose for the batch; the deadline defaults to the end of
    the plan's year. Drafts are not open tasks: nobody is reminded until they are assigned.
    """
    deadline = deadline or dt.date(plan.year, 12, 31)
    in_plan = set(plan.tasks.values_list("indicator_id", flat=True))
    seen: set[int] = set()
    created: list[Task] = []
    already: list[Indicator] = []
    for score in scores:
        indicator = score.indicator
        if indicator.pk in seen:  # the same indicator weak in several provinces: one task
            continue
        seen.add(indicator.pk)
        if indicator.pk in in_plan:
            already.append(indicator)
            continue
        # Stored text, written once in the coordinator's language; they edit it afterwards.
        title = _("Raise indicator %(code)s: %(name)s") % {
            "code": indicator.code,
            "name": indicator.name_vi,
        }
        description = _(
            "DTI %(year)s, %(province)s: %(points)s of %(max)s points, %(recoverable)s points "
            "still to win."
        ) % {
            "year": score.assessment.year,
            "province": score.assessment.province.name,
            "points": score.points,
            "max": indicator.max_points,
            "recoverable": indicator.max_points - score.points,
        }
        created.append(
            Task(
                plan=plan,
                indicator=indicator,
                title=title[: Task._meta.get_field("title").max_length],
                description=description,
                lead_unit=lead_unit,
                deadline=deadline,
                status=Task.Status.DRAFT,
            )
        )
    Task.objects.bulk_create(created)
    return DraftTasks(created=created, already_planned=already)

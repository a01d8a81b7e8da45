"""Business actions on plans and tasks. Views, admin, imports and tasks call these."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from plans.models import ProgressUpdate, Task, Unit, User


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

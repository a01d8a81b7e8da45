"""What a person may do on one task, derived from their unit memberships and permissions.

*Which tasks* a person sees is ``Task.objects.visible_to(user)``; this module answers the next
question, *what they may do there*, for the services (which enforce it) and the portal (which
shows only the buttons that will work).

- lead and implementing units: acknowledge, report progress, submit completion, ask for time;
- coordinating units: acknowledge and comment;
- monitoring focal units: acknowledge, comment, and verify or refuse a completion submitted by
  another unit;
- ``plans.verify_completion`` / ``plans.decide_extension`` (coordinators): verify any
  completion, decide any extension;
- a person with only ``plans.view_all_tasks`` (the steering committee) reads and does nothing.

A focal point and a head of a unit act for it alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from plans.models import (
    REPORTING_ROLES,
    Assignment,
    CompletionSubmission,
    Task,
    TaskRole,
    Unit,
    UnitMembership,
    User,
)


@dataclass(frozen=True)
class TaskAccess:
    task: Task
    # The person's units that hold a role on this task, with those roles.
    roles: dict[Unit, frozenset[str]]
    may_verify_any: bool
    may_decide_extensions: bool
    user_id: int | None = None

    def units_with(self, roles: frozenset[str] | set[str]) -> list[Unit]:
        return sorted(
            (unit for unit, held in self.roles.items() if held & roles), key=lambda u: u.name
        )

    @property
    def acting_units(self) -> list[Unit]:
        return self.units_with(set(TaskRole.values))

    @property
    def reporting_units(self) -> list[Unit]:
        return self.units_with(REPORTING_ROLES)

    @property
    def monitoring_units(self) -> list[Unit]:
        return self.units_with({TaskRole.MONITORING})

    @property
    def can_report(self) -> bool:
        return bool(self.reporting_units)

    @property
    def can_report_now(self) -> bool:
        """A reporting unit, on a task that still accepts reports."""
        return self.can_report and self.task.accepts_reports

    @property
    def can_comment(self) -> bool:
        return bool(self.acting_units)

    def can_verify(self, submission: CompletionSubmission) -> bool:
        """Coordinators verify anything but their own submission; a monitoring unit verifies
        what another unit submitted, through a person who does not also report on the task:
        nobody checks their own work, not even wearing another unit's hat. The same rule as a
        query, for lists: ``CompletionSubmission.objects.verifiable_by(user)``."""
        if submission.submitted_by_id is not None and submission.submitted_by_id == self.user_id:
            return False
        if self.may_verify_any:
            return True
        if self.reporting_units:
            return False
        return any(unit.pk != submission.unit_id for unit in self.monitoring_units)

    @property
    def can_verify_some(self) -> bool:
        return self.may_verify_any or bool(self.monitoring_units)


def units_of(user: User | AnonymousUser) -> dict[int, Unit]:
    """The units a person acts for (focal point or head alike), by id. One query."""
    if not user.is_authenticated or not user.is_active:
        return {}
    memberships = UnitMembership.objects.filter(user_id=user.pk).select_related("unit")
    return {m.unit_id: m.unit for m in memberships}


def unit_roles(
    tasks: Iterable[Task], units: Mapping[int, Unit] | None = None
) -> dict[int, dict[Unit, frozenset[str]]]:
    """Which units act on these tasks, and in which roles (``TaskRole`` values): task id ->
    {unit: roles}, the lead unit first, then the others in the order they were assigned.

    ``units`` (a person's, ``units_of(user)``) keeps only those units: "which units does this
    person act for on these tasks", for the task page (``task_access``) and the portal's list.
    ``None`` keeps every unit (the reminders' recipients); the lead is then ``task.lead_unit``,
    so select it with the tasks. One query (the assignments) whatever the number of tasks;
    none when there is no task or no unit to look for."""
    tasks = list(tasks)
    found: dict[int, dict[Unit, set[str]]] = {task.pk: {} for task in tasks}
    for task in tasks:
        if units is None:
            found[task.pk][task.lead_unit] = {TaskRole.LEAD}
        elif task.lead_unit_id in units:
            found[task.pk][units[task.lead_unit_id]] = {TaskRole.LEAD}
    assignments = Assignment.objects.filter(task_id__in=found).order_by("pk")
    rows: list[tuple[int, Unit, str]] = []
    if tasks and units is None:
        rows = [(a.task_id, a.unit, a.role) for a in assignments.select_related("unit")]
    elif tasks and units:
        mine = assignments.filter(unit_id__in=list(units))
        rows = [
            (task_id, units[unit_id], role)
            for task_id, unit_id, role in mine.values_list("task_id", "unit_id", "role")
        ]
    for task_id, unit, role in rows:
        found[task_id].setdefault(unit, set()).add(role)
    return {
        task_id: {unit: frozenset(held) for unit, held in by_unit.items()}
        for task_id, by_unit in found.items()
    }


def task_access(user: User | AnonymousUser, task: Task) -> TaskAccess:
    """Two queries: the person's units, and the assignments of those units on the task."""
    if not user.is_authenticated or not user.is_active:
        return TaskAccess(task, {}, may_verify_any=False, may_decide_extensions=False)
    return TaskAccess(
        task,
        unit_roles([task], units_of(user))[task.pk],
        may_verify_any=user.has_perm("plans.verify_completion"),
        may_decide_extensions=user.has_perm("plans.decide_extension"),
        user_id=user.pk,
    )

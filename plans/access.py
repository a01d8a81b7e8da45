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


def unit_roles_on(task: Task, unit_ids: set[int]) -> dict[int, set[str]]:
    """The roles each of these units holds on the task (one query for the assignments)."""
    roles: dict[int, set[str]] = {}
    if task.lead_unit_id in unit_ids:
        roles.setdefault(task.lead_unit_id, set()).add(TaskRole.LEAD)
    for unit_id, role in Assignment.objects.filter(task=task, unit_id__in=unit_ids).values_list(
        "unit_id", "role"
    ):
        roles.setdefault(unit_id, set()).add(role)
    return roles


def task_access(user: User | AnonymousUser, task: Task) -> TaskAccess:
    """Two queries: the person's units, and the assignments of those units on the task."""
    if not user.is_authenticated or not user.is_active:
        return TaskAccess(task, {}, may_verify_any=False, may_decide_extensions=False)
    units = {
        m.unit.pk: m.unit
        for m in UnitMembership.objects.filter(user_id=user.pk).select_related("unit")
    }
    by_id = unit_roles_on(task, set(units))
    return TaskAccess(
        task,
        {units[unit_id]: frozenset(held) for unit_id, held in by_id.items()},
        may_verify_any=user.has_perm("plans.verify_completion"),
        may_decide_extensions=user.has_perm("plans.decide_extension"),
        user_id=user.pk,
    )


def user_unit_ids(user: User | AnonymousUser) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(
        UnitMembership.objects.filter(user_id=user.pk).values_list("unit_id", flat=True).distinct()
    )

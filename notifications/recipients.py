"""Who is told about a task: resolved for many tasks at once, in a constant number of queries."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from plans.models import Assignment, Task, Unit, UnitMembership, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    email: str
    user: User | None
    unit: Unit
    language: str


def responsible_units(tasks: list[Task]) -> dict[int, list[Unit]]:
    """The lead unit and the monitoring focal units of each task (one query)."""
    units: dict[int, list[Unit]] = {task.pk: [task.lead_unit] for task in tasks}
    monitoring = Assignment.objects.filter(
        task__in=[t.pk for t in tasks], role=Assignment.Role.MONITORING
    ).select_related("unit")
    for assignment in monitoring:
        if assignment.unit not in units[assignment.task_id]:
            units[assignment.task_id].append(assignment.unit)
    return units


def unit_recipients(units: list[Unit], default_language: str) -> dict[int, list[Recipient]]:
    """Each unit's active focal points with an e-mail address; the unit's shared mailbox when it
    has none. A unit with neither is logged, so an operator can fix the registry (one query)."""
    focal: dict[int, list[Recipient]] = defaultdict(list)
    memberships = UnitMembership.objects.filter(
        unit__in={u.pk for u in units},
        role=UnitMembership.Role.FOCAL_POINT,
        user__is_active=True,
    ).select_related("user", "unit")
    for membership in memberships:
        user = membership.user
        if not user.email:
            logger.warning(
                "Focal point %s of %s has no e-mail address: skipped", user, membership.unit
            )
            continue
        focal[membership.unit_id].append(
            Recipient(user.email.lower(), user, membership.unit, user.language)
        )
    result: dict[int, list[Recipient]] = {}
    for unit in units:
        if focal.get(unit.pk):
            result[unit.pk] = focal[unit.pk]
        elif unit.email:
            result[unit.pk] = [Recipient(unit.email.lower(), None, unit, default_language)]
        else:
            logger.warning("Unit %s has no focal point with an e-mail and no shared mailbox", unit)
            result[unit.pk] = []
    return result

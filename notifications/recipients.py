"""Who is told: resolved for all the sweep's tasks at once, in a constant number of queries."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings

from notifications.rules import Audience, Step
from plans import roles
from plans.access import unit_roles
from plans.models import (
    Assignment,
    SelfAssessmentItem,
    Task,
    TaskRole,
    Unit,
    UnitMembership,
    User,
)

logger = logging.getLogger(__name__)

# Roles whose focal points are told about their task's deadlines and silence (with the lead).
RESPONSIBLE_ROLES = (Assignment.Role.IMPLEMENTING, Assignment.Role.MONITORING)
TOLD_OF_DEADLINES = frozenset({TaskRole.LEAD, *RESPONSIBLE_ROLES})
# The groups some steps are addressed to.
GROUP_OF = {Audience.COORDINATORS: roles.COORDINATOR, Audience.STEERING: roles.STEERING_COMMITTEE}
GROUPS = tuple(GROUP_OF.values())


@dataclass(frozen=True)
class Recipient:
    email: str
    user: User | None
    unit: Unit | None
    language: str


def _person(user: User, unit: Unit | None) -> Recipient:
    return Recipient(user.email.lower(), user, unit, user.language)


class RecipientDirectory:
    """Who is told about each step: the one rule, used when the sweep records a row and again
    when a row is about to be sent (``reaches``), so a person who left the role meanwhile is
    not written to.

    Loads the units, people and groups behind ``tasks`` once; answers per step from memory.
    Only the focal points (heads, for escalations) of the units holding a role on the task,
    or the members of the group a step is for, are told; inactive people and people without
    an e-mail address are skipped and the skip is logged; a unit with no one to tell is
    reached at its shared mailbox."""

    def __init__(
        self,
        tasks: list[Task],
        items: Iterable[SelfAssessmentItem] = (),
        units: Iterable[Unit] = (),
    ) -> None:
        # units_by_task: lead, implementing and monitoring units (told about deadlines);
        # acting_units: every unit holding any role (each must acknowledge the task).
        by_task = unit_roles(tasks)
        self.acting_units: dict[int, list[Unit]] = {t: list(u) for t, u in by_task.items()}
        self.units_by_task: dict[int, list[Unit]] = {
            t: [unit for unit, held in u.items() if held & TOLD_OF_DEADLINES]
            for t, u in by_task.items()
        }
        all_units = {u.pk: u for units in self.acting_units.values() for u in units}
        # A self-assessment item's presiding unit: loaded with the tasks' units, same query.
        all_units.update({item.unit.pk: item.unit for item in items if item.unit})
        all_units.update({unit.pk: unit for unit in units})
        self.units = all_units

        self.focal: dict[int, list[Recipient]] = defaultdict(list)
        self.heads: dict[int, list[Recipient]] = defaultdict(list)
        memberships = UnitMembership.objects.filter(unit__in=all_units).select_related("user")
        for membership in memberships:
            user = membership.user
            unit = all_units[membership.unit_id]
            if not self._reachable(user, unit):
                continue
            target = (
                self.focal if membership.role == UnitMembership.Role.FOCAL_POINT else self.heads
            )
            target[unit.pk].append(_person(user, unit))

    @cached_property
    def groups(self) -> dict[str, list[Recipient]]:
        """Coordinators and steering committee members who can be told, by group (one query,
        made only when a step is addressed to a group)."""
        groups: dict[str, list[Recipient]] = defaultdict(list)
        links = (
            User.groups.through.objects.filter(group__name__in=GROUPS)
            .select_related("user", "group")
            .order_by("user_id", "group__name")
        )
        for link in links:
            if self._reachable(link.user, None):
                groups[link.group.name].append(_person(link.user, None))
        return groups

    @staticmethod
    def _reachable(user: User, unit: Unit | None) -> bool:
        if user.is_active and user.email:
            return True
        reason = "inactive" if not user.is_active else "has no e-mail address"
        logger.info("Not reminding %s (%s) of unit %s: %s", user, user.pk, unit, reason)
        return False

    def _unit_people(
        self, unit: Unit, people: dict[int, list[Recipient]], *, warn: bool = True
    ) -> list[Recipient]:
        if people.get(unit.pk):
            return people[unit.pk]
        if unit.email:
            return [Recipient(unit.email.lower(), None, unit, settings.LANGUAGE_CODE)]
        if warn:
            logger.warning("Unit %s has no one with an e-mail address and no shared mailbox", unit)
        return []

    def audiences(self) -> dict[str, str]:
        """The addresses each loaded unit's focal points and heads, and each group, are told
        at, keyed as ``SweepAudience`` stores them (one query, for the groups)."""
        found = {
            f"{kind}:{unit.pk}": self._unit_people(unit, people, warn=False)
            for unit in self.units.values()
            for kind, people in (("focal", self.focal), ("heads", self.heads))
        }
        found.update({f"group:{name}": self.groups[name] for name in GROUPS})
        return {key: "\n".join(sorted(r.email for r in found[key])) for key in found}

    def for_step(self, step: Step) -> list[Recipient]:
        audience = step.audience
        if audience == Audience.RESPONSIBLE:
            found = [
                r
                for unit in self.units_by_task[step.task.pk]
                for r in self._unit_people(unit, self.focal)
            ]
        elif audience == Audience.UNIT:
            found = self._unit_people(step.unit, self.focal) if step.unit else []
        elif audience == Audience.HEADS:
            unit = step.task.lead_unit if step.task else step.unit
            found = self._unit_people(unit, self.heads) if unit else []
        elif audience == Audience.COORDINATORS:
            found = self.groups[roles.COORDINATOR]
        else:
            found = self.groups[roles.STEERING_COMMITTEE]
        unique: dict[str, Recipient] = {}
        for recipient in found:
            unique.setdefault(recipient.email, recipient)
        return list(unique.values())

    def reaches(self, step: Step, email: str) -> bool:
        """Whether ``email`` is still one of the step's recipients (a row recorded earlier)."""
        return any(recipient.email == email for recipient in self.for_step(step))


def committee_recipients() -> list[Recipient]:
    """The steering committee's members who can be told (the monthly pack's recipients)."""
    return RecipientDirectory([]).groups[roles.STEERING_COMMITTEE]

"""Who answers for an indicator: its presiding, monitoring and coordinating units in a plan.

A component with no units of its own in the plan answers through its main indicator's (a
province often assigns only the main indicators). ``owners_for`` reads them for many
indicators at once; ``plans.services.indicator_owner_set`` is the one way to write them
(admin form, import, code; ``check_owner_units`` here states its rules for forms and
imports), so the rules below hold whatever door was used:

- exactly one presiding unit; at most one monitoring unit, not the presiding one;
- coordinating units: any number, neither the presiding nor the monitoring unit (a unit holds
  one role on an indicator: also a database constraint);
- the indicator belongs to the set in force in the plan's year.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from indicators.models import Indicator, IndicatorSet, Score
from plans.coverage import provinces_of
from plans.models import IndicatorOwnerUnit, OwnerRole, Plan, Unit


@dataclass
class Owners:
    """The units of one indicator in one plan."""

    indicator_id: int
    presiding: Unit | None = None
    monitoring: Unit | None = None
    coordinating: list[Unit] = field(default_factory=list)
    # True when these are the main indicator's units, standing in for a component's.
    inherited: bool = False


def owners_for(
    plan_ids: Iterable[int], indicators: Iterable[Indicator]
) -> dict[tuple[int, int], Owners]:
    """(plan id, indicator id) -> the indicator's units in that plan, the main indicator's
    standing in for a component without its own. Keys only for indicators with units. One
    query (the role rows with their units), none without plans or indicators."""
    plan_ids = set(plan_ids)
    indicators = list(indicators)
    wanted = {i.pk for i in indicators} | {i.parent_id for i in indicators if i.parent_id}
    own: dict[tuple[int, int], Owners] = {}
    if plan_ids and wanted:
        rows = (
            IndicatorOwnerUnit.objects.filter(
                owner__plan_id__in=plan_ids, owner__indicator_id__in=wanted
            )
            .select_related("unit", "owner")
            .order_by("unit__name")
        )
        for row in rows:
            key = (row.owner.plan_id, row.owner.indicator_id)
            owners = own.setdefault(key, Owners(indicator_id=row.owner.indicator_id))
            if row.role == OwnerRole.PRESIDING:
                owners.presiding = row.unit
            elif row.role == OwnerRole.MONITORING:
                owners.monitoring = row.unit
            else:
                owners.coordinating.append(row.unit)
    found: dict[tuple[int, int], Owners] = {}
    for plan_id in plan_ids:
        for indicator in indicators:
            if (plan_id, indicator.pk) in own:
                found[(plan_id, indicator.pk)] = own[(plan_id, indicator.pk)]
            elif indicator.parent_id and (plan_id, indicator.parent_id) in own:
                main = own[(plan_id, indicator.parent_id)]
                found[(plan_id, indicator.pk)] = Owners(
                    indicator_id=indicator.pk,
                    presiding=main.presiding,
                    monitoring=main.monitoring,
                    coordinating=main.coordinating,
                    inherited=True,
                )
    return found


def owned_by(units: Iterable[int], roles: Sequence[str]) -> QuerySet[IndicatorOwnerUnit]:
    """The role rows where one of ``units`` holds one of ``roles`` (the portal's "my unit's
    indicators"), with their owner, plan, indicator and unit."""
    return IndicatorOwnerUnit.objects.filter(unit_id__in=units, role__in=roles).select_related(
        "owner__plan", "owner__indicator__parent", "unit"
    )


def check_owner_units(
    presiding: Unit | None, monitoring: Unit | None, coordinating: Iterable[Unit]
) -> dict[str, list[str]]:
    """The role rules as messages by field (``presiding_unit``, ``monitoring_unit``,
    ``coordinating_units``): what the service refuses, for forms and imports to show."""
    errors: dict[str, list[str]] = {}
    if presiding is None:
        errors.setdefault("presiding_unit", []).append(
            _("Every indicator needs exactly one presiding unit.")
        )
    if monitoring is not None and presiding is not None and monitoring.pk == presiding.pk:
        errors.setdefault("monitoring_unit", []).append(
            _("%(unit)s presides over the indicator; another unit monitors it.")
            % {"unit": presiding.name}
        )
    for unit in coordinating:
        for other, role in ((presiding, _("presiding")), (monitoring, _("monitoring"))):
            if other is not None and unit.pk == other.pk:
                errors.setdefault("coordinating_units", []).append(
                    _("%(unit)s is the %(role)s unit; it cannot also be a coordinating unit.")
                    % {"unit": unit.name, "role": role}
                )
    return errors


def check_indicator_in_plan_year(plan: Plan, indicator: Indicator) -> str | None:
    indicator_set = IndicatorSet.objects.for_year(plan.year)
    if indicator_set is None or indicator.indicator_set_id != indicator_set.pk:
        return _("Indicator %(code)s is not in the indicator set in force in %(year)s.") % {
            "code": indicator.code,
            "year": plan.year,
        }
    return None


def attach_owners(scores: Iterable[Score]) -> list[Score]:
    """Sets ``owners`` on each weak indicator (a ``Score``): its units in the plans of its
    province (or of the province it merged into), the plan in force first, then the latest;
    None when no such plan names them. Two queries for a whole page: the plans, the units."""
    rows = list(scores)
    provinces: set[int] = set()
    for score in rows:
        provinces.update(provinces_of(score))
    plans = (
        list(
            Plan.objects.filter(province_id__in=provinces)
            .exclude(status=Plan.Status.CLOSED)
            .order_by("-year", "-pk")
        )
        if rows
        else []
    )
    # The plan in force before a draft one, each group latest year first.
    plans.sort(key=lambda plan: plan.status != Plan.Status.ACTIVE)
    found = owners_for([plan.pk for plan in plans], [score.indicator for score in rows])
    for score in rows:
        score.owners = next(
            (
                found[(plan.pk, score.indicator_id)]
                for plan in plans
                if plan.province_id in provinces_of(score)
                and (plan.pk, score.indicator_id) in found
            ),
            None,
        )
    return rows

"""The portal's pages of the assessment year: the indicators a unit answers for, and the
self-assessment items. Thin views over ``plans.owners`` and ``plans.self_assessment``; who sees
what is ``units_of`` (indicators) and ``SelfAssessmentItem.objects.visible_to`` (items): another
unit's item, or its evidence, answers 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from plans.access import units_of
from plans.models import IndicatorOwner, IndicatorOwnerUnit, OwnerRole, Plan

# The roles whose indicators a unit's portal lists (coordinating units work through tasks).
ANSWERING_ROLES = (OwnerRole.PRESIDING, OwnerRole.MONITORING)


@login_required
@require_GET
def my_indicators(request: HttpRequest) -> HttpResponse:
    """The indicators of plans in force that the person's units preside over or monitor, with
    every unit of each. People who see every task (coordinators, the steering committee) see
    every indicator's units. Three queries besides the session, the permissions and the
    header's: the person's units, the indicators, their units."""
    units = units_of(request.user)
    owners = IndicatorOwner.objects.filter(plan__status=Plan.Status.ACTIVE)
    sees_all = request.user.has_perm("plans.view_all_tasks")
    if not sees_all:
        mine = IndicatorOwnerUnit.objects.filter(
            owner=OuterRef("pk"), unit_id__in=list(units), role__in=ANSWERING_ROLES
        )
        owners = owners.filter(Exists(mine))
    rows = IndicatorOwnerUnit.objects.select_related("unit").order_by("unit__name")
    owners = (
        owners.select_related("plan", "indicator__parent")
        .prefetch_related(Prefetch("units", queryset=rows))
        .order_by("-plan__year", "plan__title", "indicator__sort_key")[:1000]
    )
    labels = dict(OwnerRole.choices)
    listed = []
    for owner in owners:
        roles = list(owner.units.all())
        owner.presiding = [r.unit for r in roles if r.role == OwnerRole.PRESIDING]
        owner.monitoring = [r.unit for r in roles if r.role == OwnerRole.MONITORING]
        owner.coordinating = [r.unit for r in roles if r.role == OwnerRole.COORDINATING]
        owner.my_roles = sorted(
            {str(labels[r.role]) for r in roles if r.unit_id in units and r.role in ANSWERING_ROLES}
        )
        listed.append(owner)
    return render(
        request,
        "portal/my_indicators.html",
        {"owners": listed, "has_units": bool(units), "sees_all": sees_all},
    )

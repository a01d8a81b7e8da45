"""The portal's pages of the assessment year: the indicators a unit answers for, and the
self-assessment items. Thin views over ``plans.owners`` and ``plans.self_assessment``; who sees
what is ``units_of`` (indicators) and ``SelfAssessmentItem.objects.visible_to`` (items): another
unit's item, or its evidence, answers 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from plans.access import units_of
from plans.forms_assessment import ItemEvidenceForm, ItemForm, ReviewForm
from plans.models import (
    IndicatorOwner,
    IndicatorOwnerUnit,
    ItemStatus,
    OwnerRole,
    Plan,
    SelfAssessmentEvidence,
    SelfAssessmentItem,
    SelfAssessmentRound,
    User,
)
from plans.self_assessment import (
    closed_message,
    item_access,
    self_assessment_accept,
    self_assessment_evidence_add,
    self_assessment_evidence_remove,
    self_assessment_return,
    self_assessment_save,
    self_assessment_submit,
)
from plans.views import _errors_to_form

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


# --- The self-assessment ------------------------------------------------------------------------

ITEMS_PAGE_SIZE = 50


def _item_or_404(request: HttpRequest, pk: int) -> SelfAssessmentItem:
    return get_object_or_404(
        SelfAssessmentItem.objects.visible_to(request.user).select_related(
            "round", "indicator__parent", "unit", "monitoring_unit", "submitted_by", "reviewed_by"
        ),
        pk=pk,
    )


@login_required
@require_GET
def self_assessment_items(request: HttpRequest) -> HttpResponse:
    """The items of a round the person sees (their units' as presiding or monitoring unit;
    everything for coordinators and the steering committee), by status. Queries do not grow
    with the items: the rounds, the counts (one aggregate), the page's count and rows (evidence
    counted in a subquery)."""
    rounds = list(SelfAssessmentRound.objects.order_by("-year"))
    chosen = next((r for r in rounds if str(r.year) == request.GET.get("year")), None)
    chosen = chosen or (rounds[0] if rounds else None)
    context: dict[str, Any] = {"rounds": rounds, "round": chosen}
    if chosen is not None:
        visible = SelfAssessmentItem.objects.visible_to(request.user).filter(round=chosen)
        counts = dict(
            visible.order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        status = request.GET.get("status", "")
        items = visible.filter(status=status) if status in ItemStatus.values else visible
        evidence = (
            SelfAssessmentEvidence.objects.filter(item=OuterRef("pk"))
            .order_by()
            .values("item")
            .annotate(n=Count("pk"))
            .values("n")
        )
        items = (
            items.select_related("indicator", "unit")
            .annotate(evidence_count=Subquery(evidence))
            .order_by("indicator__sort_key")
        )
        page = Paginator(items, ITEMS_PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(
            page=page,
            items=list(page.object_list),
            status=status,
            chips=[(value, label, counts.get(value, 0)) for value, label in ItemStatus.choices],
            total=sum(counts.values()),
            today=timezone.localdate(),
        )
    return render(request, "portal/self_assessment_items.html", context)


def _item_context(request: HttpRequest, item: SelfAssessmentItem, **forms: Any) -> dict[str, Any]:
    access = item_access(request.user, item)
    records = list(
        item.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]
    )
    return {
        "item": item,
        "access": access,
        "evidence": list(item.evidence.select_related("uploaded_by")),
        "item_form": forms.get("item_form")
        or (
            ItemForm(
                max_points=item.max_points,
                initial={"points": item.points, "figures": item.figures},
            )
            if access.can_edit
            else None
        ),
        "evidence_form": forms.get("evidence_form")
        or (ItemEvidenceForm() if access.can_edit else None),
        "review_form": forms.get("review_form") or (ReviewForm() if access.can_review else None),
        "records": records,
        "overdue": item.is_editable and item.round.deadline < timezone.localdate(),
    }


@login_required
@require_GET
def self_assessment_item(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    return render(request, "portal/self_assessment_item.html", _item_context(request, item))


def _back(item: SelfAssessmentItem, message: str, request: HttpRequest) -> HttpResponse:
    messages.success(request, message)
    return redirect(item)


def _refused_when_closed(request: HttpRequest, item: SelfAssessmentItem) -> HttpResponse | None:
    """A change to an item of a closed round: back to the item's page, saying why (the
    services refuse it too, whatever the door)."""
    if not item.round.is_closed:
        return None
    messages.error(request, closed_message(item.round))
    return redirect(item)


def _item_action(
    request: HttpRequest,
    pk: int,
    *,
    allowed: str,
    form_name: str,
    make_form: Any,
    perform: Any,
    done: str,
) -> HttpResponse:
    """The shape of every POST on an item: 404 for an item the person cannot see, 403 when
    they may not do this, the service's validation errors back on the form."""
    item = _item_or_404(request, pk)
    if refused := _refused_when_closed(request, item):
        return refused
    if not getattr(item_access(request.user, item), allowed):
        raise PermissionDenied
    form = make_form(item)
    if form.is_valid():
        try:
            perform(item, form.cleaned_data)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            return _back(item, done, request)
    context = _item_context(request, item, **{form_name: form})
    return render(request, "portal/self_assessment_item.html", context, status=200)


@login_required
@require_POST
def self_assessment_save_view(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return _item_action(
        request,
        pk,
        allowed="can_edit",
        form_name="item_form",
        make_form=lambda item: ItemForm(request.POST, max_points=item.max_points),
        perform=lambda item, data: self_assessment_save(
            item=item, by=user, points=data["points"], figures=data["figures"]
        ),
        done=_("Saved. Submit the item when its evidence is attached."),
    )


@login_required
@require_POST
def self_assessment_evidence_view(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return _item_action(
        request,
        pk,
        allowed="can_edit",
        form_name="evidence_form",
        make_form=lambda item: ItemEvidenceForm(request.POST, request.FILES),
        perform=lambda item, data: _add_evidence(item, user, data),
        done=_("Evidence attached."),
    )


def _add_evidence(item: SelfAssessmentItem, user: User, data: dict[str, Any]) -> None:
    if data.get("file"):
        self_assessment_evidence_add(item=item, by=user, file=data["file"])
    if data.get("link"):
        self_assessment_evidence_add(item=item, by=user, link=data["link"])


@login_required
@require_POST
def self_assessment_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    if refused := _refused_when_closed(request, item):
        return refused
    if not item_access(request.user, item).can_edit:
        raise PermissionDenied
    try:
        self_assessment_submit(item=item, by=request.user)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(item)
    return _back(item, _("Submitted for checking."), request)


@login_required
@require_POST
def self_assessment_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]

    def perform(item: SelfAssessmentItem, data: dict[str, Any]) -> None:
        if data["decision"] == "accept":
            self_assessment_accept(item=item, by=user, comment=data["comment"])
        else:
            self_assessment_return(item=item, by=user, comment=data["comment"])

    return _item_action(
        request,
        pk,
        allowed="can_review",
        form_name="review_form",
        make_form=lambda item: ReviewForm(request.POST),
        perform=perform,
        done=_("Decision recorded."),
    )


def _evidence_or_404(request: HttpRequest, pk: int) -> SelfAssessmentEvidence:
    return get_object_or_404(
        SelfAssessmentEvidence.objects.select_related("item__round"),
        pk=pk,
        item__in=SelfAssessmentItem.objects.visible_to(request.user).values("pk"),
    )


@login_required
@require_POST
def self_assessment_evidence_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence_or_404(request, pk)
    item = evidence.item
    if refused := _refused_when_closed(request, item):
        return refused
    if not item_access(request.user, item).can_edit:
        raise PermissionDenied
    self_assessment_evidence_remove(evidence=evidence, by=request.user)  # type: ignore[arg-type]
    return _back(item, _("Evidence removed."), request)


@login_required
@require_GET
def self_assessment_evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """An item's evidence file, after the same visibility rule as its item (404 otherwise)."""
    evidence = _evidence_or_404(request, pk)
    if not evidence.file:
        raise Http404
    return evidence.download()

"""The yearly self-assessment: business actions and the questions asked of a round.

A coordinator opens a round for an assessment year (``self_assessment_open``): one item per
scored component of that year's indicator set, owned by the indicator's presiding unit in the
plan covering the year (``plans.owners``). The presiding unit's people enter the points and the
figures behind them and attach evidence (``self_assessment_save``,
``self_assessment_evidence_add``), then submit (``self_assessment_submit``); the monitoring
unit or a coordinator accepts it (``self_assessment_accept``) or returns it with a comment
(``self_assessment_return``), and a returned item is corrected and submitted again. An accepted
item is final. A coordinator closes the round once the ministry has the figures
(``self_assessment_close``): every item is then read-only and no longer reminded, until the
round is reopened (``self_assessment_reopen``).

Who may do what (``item_access``), enforced here whatever door the call came through:

- edit and submit: a focal point or head of the presiding unit, or a person with
  ``plans.change_selfassessmentitem`` (a coordinator entering what a unit sent on paper);
- accept or return: a person with ``plans.review_selfassessmentitem`` (coordinators), or one
  acting for the monitoring unit who does not also act for the presiding unit; nobody checks
  an item they submitted themselves.

Errors: ``PermissionDenied`` (403) and ``ValidationError`` (shown on the form), as in
``plans.services``. Each action records who did it in the item's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from indicators.models import Indicator, IndicatorSet
from plans.access import units_of
from plans.models import (
    ItemStatus,
    Plan,
    SelfAssessmentEvidence,
    SelfAssessmentItem,
    SelfAssessmentRound,
    Unit,
    User,
)
from plans.owners import owners_for

# --- Which plan, which indicators ---------------------------------------------------------------


def plan_covering(year: int) -> Plan | None:
    """The plan whose owners answer for an assessment year: the plan of that year, the one in
    force first, then a closed one (a round opens early the next year, when the year's plan may
    be closed already), then a draft."""
    order = {Plan.Status.ACTIVE: 0, Plan.Status.CLOSED: 1, Plan.Status.DRAFT: 2}
    plans = sorted(Plan.objects.filter(year=year), key=lambda p: (order[p.status], -p.pk))
    return plans[0] if plans else None


def scored_leaves(indicator_set: IndicatorSet) -> QuerySet[Indicator]:
    """The indicators a self-assessment scores, one item each: every scored component with max
    points, and a scored main indicator that has no components (a set known only by its main
    indicators). Collected-but-unscored indicators (smart city) are left out."""
    scored = Q(scored=True, max_points__gt=0)
    components = Indicator.objects.filter(parent=OuterRef("pk"))
    return (
        Indicator.objects.filter(indicator_set=indicator_set)
        .filter(scored)
        .filter(
            Q(parent__isnull=False, parent__scored=True)
            | Q(parent__isnull=True) & ~Exists(components)
        )
        .select_related("parent")
        .order_by("sort_key")
    )


# --- Opening a round ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    round: SelfAssessmentRound
    items: int
    # The indicators no presiding unit answers for: their items wait for one.
    without_owner: list[Indicator] = field(default_factory=list)


@transaction.atomic
def self_assessment_open(
    *,
    year: int,
    deadline: dt.date,
    by: User | None,
    plan: Plan | None = None,
    now: dt.datetime | None = None,
) -> Opened:
    """Open the round of ``year``: one item per scored indicator of the set in force that year,
    given to its presiding unit (and monitoring unit) in ``plan`` (default: ``plan_covering``).
    A second round for the same year is refused."""
    if by is not None and not by.has_perm("plans.add_selfassessmentround"):
        raise PermissionDenied(_("Only coordinators open a self-assessment round."))
    if SelfAssessmentRound.objects.filter(year=year).exists():
        raise ValidationError(
            {"year": _("A self-assessment round for %(year)s is already open.") % {"year": year}}
        )
    indicator_set = IndicatorSet.objects.for_year(year)
    if indicator_set is None:
        raise ValidationError(
            {"year": _("No indicator set is in force in %(year)s.") % {"year": year}}
        )
    leaves = list(scored_leaves(indicator_set))
    if not leaves:
        raise ValidationError(
            {
                "year": _("The indicator set %(set)s has no scored indicator with max points.")
                % {"set": indicator_set.code}
            }
        )
    plan = plan or plan_covering(year)
    owned = owners_for([plan.pk], leaves) if plan else {}
    round_ = SelfAssessmentRound(
        year=year,
        indicator_set=indicator_set,
        plan=plan,
        deadline=deadline,
        opened_by=by,
        opened_at=now or timezone.now(),
    )
    round_.full_clean()
    try:
        with transaction.atomic():
            round_.save()
    except IntegrityError as race:  # opened by someone else a moment ago
        raise ValidationError(
            {"year": _("A self-assessment round for %(year)s is already open.") % {"year": year}}
        ) from race
    items = []
    without: list[Indicator] = []
    for indicator in leaves:
        owners = owned.get((plan.pk, indicator.pk)) if plan else None
        presiding = owners.presiding if owners else None
        monitoring = owners.monitoring if owners else None
        if presiding is None:
            without.append(indicator)
        items.append(
            SelfAssessmentItem(
                round=round_,
                indicator=indicator,
                unit=presiding,
                monitoring_unit=monitoring if monitoring != presiding else None,
                max_points=indicator.max_points,
            )
        )
    bulk_create_with_history(items, SelfAssessmentItem, batch_size=500, default_user=by)
    return Opened(round=round_, items=len(items), without_owner=without)


# --- Closing a round ----------------------------------------------------------------------------


def _require_round_manager(by: User | None) -> None:
    if by is not None and not by.has_perm("plans.change_selfassessmentround"):
        raise PermissionDenied(_("Only coordinators close or reopen a self-assessment round."))


@transaction.atomic
def self_assessment_close(
    *, round: SelfAssessmentRound, by: User | None, now: dt.datetime | None = None
) -> SelfAssessmentRound:
    """Close the round once the ministry has the province's figures: its items become
    read-only (no entry, submission or check, whatever the door) and are no longer reminded.
    Closing a closed round changes nothing."""
    _require_round_manager(by)
    round = SelfAssessmentRound.objects.select_for_update().get(pk=round.pk)
    if not round.is_closed:
        round.closed_at = now or timezone.now()
        round.closed_by = by
        round.save(update_fields=["closed_at", "closed_by"])
    return round


@transaction.atomic
def self_assessment_reopen(*, round: SelfAssessmentRound, by: User | None) -> SelfAssessmentRound:
    """Open a closed round again (closed by mistake, or the ministry reopened its system): the
    items go back to where they stood, and open ones are reminded again from the next sweep."""
    _require_round_manager(by)
    round = SelfAssessmentRound.objects.select_for_update().get(pk=round.pk)
    round.closed_at = None
    round.closed_by = None
    round.save(update_fields=["closed_at", "closed_by"])
    return round


# --- Who may do what on an item -----------------------------------------------------------------


@dataclass(frozen=True)
class ItemAccess:
    item: SelfAssessmentItem
    # The person's units that preside over / monitor the item.
    presiding_units: list[Unit]
    monitoring_units: list[Unit]
    may_edit_any: bool
    may_review_any: bool
    user_id: int | None

    @property
    def can_edit(self) -> bool:
        """Enter points and figures, attach evidence, submit: while the unit still works on
        the item."""
        return self.item.is_editable and (bool(self.presiding_units) or self.may_edit_any)

    @property
    def can_review(self) -> bool:
        """Accept or return a submitted item: nobody checks their own submission, and a person
        who acts for the presiding unit checks it only as a coordinator."""
        item = self.item
        if item.status != ItemStatus.SUBMITTED or item.round.is_closed:
            return False
        if item.submitted_by_id is not None and item.submitted_by_id == self.user_id:
            return False
        if self.may_review_any:
            return True
        return bool(self.monitoring_units) and not self.presiding_units


def item_access(
    user: User | AnonymousUser,
    item: SelfAssessmentItem,
    units: dict[int, Unit] | None = None,
) -> ItemAccess:
    """What ``user`` may do on ``item``; ``units`` (``units_of(user)``) when already read."""
    if not user.is_authenticated or not user.is_active:
        return ItemAccess(item, [], [], False, False, None)
    units = units_of(user) if units is None else units
    return ItemAccess(
        item,
        presiding_units=[units[item.unit_id]] if item.unit_id in units else [],
        monitoring_units=(
            [units[item.monitoring_unit_id]] if item.monitoring_unit_id in units else []
        ),
        may_edit_any=user.has_perm("plans.change_selfassessmentitem"),
        may_review_any=user.has_perm("plans.review_selfassessmentitem"),
        user_id=user.pk,
    )


def _locked(item: SelfAssessmentItem) -> SelfAssessmentItem:
    return (
        SelfAssessmentItem.objects.select_for_update()
        .select_related("round", "indicator")
        .get(pk=item.pk)
    )


def closed_message(round: SelfAssessmentRound) -> str:
    """What a person is told when they try to change an item of a closed round."""
    return _(
        "The self-assessment round DTI %(year)s was closed on %(date)s: its items can no "
        "longer be changed."
    ) % {"year": round.year, "date": timezone.localtime(round.closed_at).strftime("%d/%m/%Y")}


def _require_round_open(item: SelfAssessmentItem) -> None:
    if item.round.is_closed:
        raise ValidationError(closed_message(item.round), code="closed")


def _require_editable(item: SelfAssessmentItem, by: User | None) -> None:
    _require_round_open(item)
    if not item.is_editable:
        raise ValidationError(
            _("This item is %(status)s: it can no longer be changed.")
            % {"status": item.get_status_display().lower()},
            code="status",
        )
    if by is not None and not item_access(by, item).can_edit:
        raise PermissionDenied(_("Only the presiding unit enters this item."))


def parse_points(value: object, item: SelfAssessmentItem) -> Decimal:
    """Points between 0 and the item's max, at most two decimals ("12,5" reads as 12.5)."""
    try:
        points = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as error:
        raise ValidationError({"points": _("Enter the points as a number.")}) from error
    if not points.is_finite() or points != points.quantize(Decimal("0.01")):
        raise ValidationError({"points": _("Enter the points with at most two decimals.")})
    if points < 0 or points > item.max_points:
        raise ValidationError(
            {
                "points": _("The points must be between 0 and %(max)s.")
                % {"max": points_text(item.max_points)}
            }
        )
    return points


def points_text(points: Decimal) -> str:
    """Points as people write them in the current language: "10", "12,5" (never "1E+1")."""
    value = points.normalize()
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))  # normalize() writes 10 as 1E+1
    return number_format(value)


# --- The unit's actions -------------------------------------------------------------------------


@transaction.atomic
def self_assessment_save(
    *,
    item: SelfAssessmentItem,
    by: User | None,
    points: Decimal | str | None,
    figures: str = "",
    now: dt.datetime | None = None,
) -> SelfAssessmentItem:
    """Record the unit's points and the figures behind them (not yet submitted)."""
    item = _locked(item)
    _require_editable(item, by)
    item.points = None if points in (None, "") else parse_points(points, item)
    item.figures = figures.strip()
    if item.status == ItemStatus.NOT_STARTED:
        item.status = ItemStatus.IN_PROGRESS
    item._history_user = by  # type: ignore[attr-defined]
    item.full_clean(exclude=["round", "indicator", "unit", "monitoring_unit"])
    item.save()
    return item


@transaction.atomic
def self_assessment_evidence_add(
    *,
    item: SelfAssessmentItem,
    by: User | None,
    file: UploadedFile | None = None,
    link: str = "",
    now: dt.datetime | None = None,
) -> SelfAssessmentEvidence:
    """Attach a file (checked like task evidence) or a link to the item."""
    item = _locked(item)
    _require_editable(item, by)
    if (file is None) == (not link):
        raise ValidationError(_("Attach either a file or a link."))
    evidence = SelfAssessmentEvidence(
        item=item, uploaded_by=by, uploaded_at=now or timezone.now(), link=link
    )
    if file is not None:
        evidence.attach_file(file)
    evidence.full_clean(exclude=["file"])
    evidence.save()
    if item.status == ItemStatus.NOT_STARTED:
        item.status = ItemStatus.IN_PROGRESS
        item._history_user = by  # type: ignore[attr-defined]
        item.save(update_fields=["status", "updated_at"])
    return evidence


@transaction.atomic
def self_assessment_evidence_remove(*, evidence: SelfAssessmentEvidence, by: User | None) -> None:
    """Take back a file or link while the item is still being prepared or returned."""
    _require_editable(_locked(evidence.item), by)
    evidence.delete()


@transaction.atomic
def self_assessment_submit(
    *, item: SelfAssessmentItem, by: User | None, now: dt.datetime | None = None
) -> SelfAssessmentItem:
    """Send the item to the monitoring unit and the coordinators: it needs its points."""
    item = _locked(item)
    _require_editable(item, by)
    if item.points is None:
        raise ValidationError({"points": _("Enter the self-assessed points before submitting.")})
    item.status = ItemStatus.SUBMITTED
    item.submitted_by = by
    item.submitted_at = now or timezone.now()
    item._history_user = by  # type: ignore[attr-defined]
    item.save()
    return item


# --- The checkers' actions ----------------------------------------------------------------------


def _submitted(item: SelfAssessmentItem, by: User) -> SelfAssessmentItem:
    item = _locked(item)
    _require_round_open(item)
    if item.status != ItemStatus.SUBMITTED:
        raise ValidationError(_("This item is not waiting to be checked."), code="status")
    if not item_access(by, item).can_review:
        raise PermissionDenied(
            _(
                "Only a coordinator or the monitoring unit checks this item, and not the "
                "person who submitted it."
            )
        )
    return item


@transaction.atomic
def self_assessment_accept(
    *, item: SelfAssessmentItem, by: User, comment: str = "", now: dt.datetime | None = None
) -> SelfAssessmentItem:
    """The figures and evidence hold: the item is final."""
    item = _submitted(item, by)
    item.status = ItemStatus.ACCEPTED
    item.reviewed_by = by
    item.reviewed_at = now or timezone.now()
    item.review_comment = comment.strip()
    item._history_user = by  # type: ignore[attr-defined]
    item.save()
    return item


@transaction.atomic
def self_assessment_return(
    *, item: SelfAssessmentItem, by: User, comment: str, now: dt.datetime | None = None
) -> SelfAssessmentItem:
    """Send the item back to the unit with what to add or correct ("bổ sung minh chứng")."""
    if not comment.strip():
        raise ValidationError({"comment": _("Say what the unit must add or correct.")})
    item = _submitted(item, by)
    item.status = ItemStatus.RETURNED
    item.reviewed_by = by
    item.reviewed_at = now or timezone.now()
    item.review_comment = comment.strip()
    item._history_user = by  # type: ignore[attr-defined]
    item.save()
    return item


# --- Readiness ----------------------------------------------------------------------------------


@dataclass
class UnitReadiness:
    unit: Unit | None  # None: the items no presiding unit answers for
    counts: dict[str, int]
    total: int
    without_evidence: int


@dataclass
class Readiness:
    round: SelfAssessmentRound
    counts: dict[str, int]
    total: int
    without_evidence: int
    units: list[UnitReadiness]
    # Accepted and submitted points, and their share of the set's total (the DTI value they
    # would give).
    counted_points: Decimal
    projected_value: Decimal
    accepted_points: Decimal


def readiness(*, round: SelfAssessmentRound) -> Readiness:
    """Where a round stands: items by status and without evidence, overall and by presiding
    unit, and the projected DTI value. Two queries whatever the number of items."""
    has_evidence = Exists(SelfAssessmentEvidence.objects.filter(item=OuterRef("pk")))
    rows = (
        SelfAssessmentItem.objects.filter(round=round)
        .annotate(has_evidence=has_evidence)
        .values("unit_id", "status", "has_evidence")
        .annotate(n=Count("pk"), points=Sum("points"))
        .order_by()
    )
    by_unit: dict[int | None, UnitReadiness] = {}
    counts = dict.fromkeys(ItemStatus.values, 0)
    total = without = 0
    counted = accepted = Decimal(0)
    for row in rows:
        line = by_unit.setdefault(
            row["unit_id"],
            UnitReadiness(None, dict.fromkeys(ItemStatus.values, 0), 0, 0),
        )
        line.counts[row["status"]] += row["n"]
        line.total += row["n"]
        counts[row["status"]] += row["n"]
        total += row["n"]
        if not row["has_evidence"]:
            line.without_evidence += row["n"]
            without += row["n"]
        if row["status"] in (ItemStatus.SUBMITTED, ItemStatus.ACCEPTED) and row["points"]:
            counted += Decimal(row["points"])
            if row["status"] == ItemStatus.ACCEPTED:
                accepted += Decimal(row["points"])
    names = Unit.objects.in_bulk([unit_id for unit_id in by_unit if unit_id is not None])
    for unit_id, line in by_unit.items():
        line.unit = names.get(unit_id) if unit_id is not None else None
    units = sorted(
        by_unit.values(), key=lambda line: (line.unit is None, line.unit.name if line.unit else "")
    )
    maximum = round.indicator_set.total_points
    return Readiness(
        round=round,
        counts=counts,
        total=total,
        without_evidence=without,
        units=units,
        counted_points=counted,
        projected_value=(counted / maximum).quantize(Decimal("0.0001")),
        accepted_points=accepted,
    )


def items_for_pack(round: SelfAssessmentRound) -> Iterable[SelfAssessmentItem]:
    """The round's items in code order with their unit, indicator and evidence."""
    return (
        SelfAssessmentItem.objects.filter(round=round)
        .select_related("indicator__parent", "unit")
        .prefetch_related("evidence")
        .order_by("indicator__sort_key")
    )

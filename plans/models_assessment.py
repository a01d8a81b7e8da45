"""The assessment year: who answers for each indicator, and the yearly self-assessment.

Imported at the bottom of ``plans.models`` so that Django registers these models with the app;
import them from ``plans.models``.

- ``IndicatorOwner``: per plan, a main or component indicator and the units that answer for it.
  Each unit's role is an ``IndicatorOwnerUnit`` row, unique per (owner, unit): a unit holds one
  role on an indicator, so the presiding unit is never also its coordinating or monitoring
  unit, whatever door wrote it (a database constraint). At most one presiding and one
  monitoring unit per indicator (partial unique constraints); the one service that writes
  them (``plans.services.indicator_owner_set``) always writes the presiding unit.
- ``SelfAssessmentRound``: one per assessment year (unique), with its internal deadline; a
  coordinator closes it once the ministry has the figures (read-only, no reminders).
- ``SelfAssessmentItem``: one per scored component of that year's set, owned by the presiding
  unit at opening; it keeps the component's max points so that "points within 0..max" is a
  constraint of the row.
- ``SelfAssessmentEvidence``: the files and links behind an item, stored like task evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from indicators.models import Indicator, IndicatorSet
from plans.uploads import EvidenceRecord

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from plans.models import User


class IndicatorOwner(models.Model):
    """The units that answer for one indicator in one plan (their roles: ``units``)."""

    plan = models.ForeignKey(
        "plans.Plan",
        on_delete=models.CASCADE,
        related_name="indicator_owners",
        verbose_name=_("plan"),
    )
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        related_name="owners",
        verbose_name=_("indicator"),
    )

    class Meta:
        verbose_name = _("indicator owner")
        verbose_name_plural = _("indicator owners")
        ordering = ["plan", "indicator__sort_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "indicator"],
                name="indicator_owner_once_per_plan",
                violation_error_message=_("This indicator already has its units in this plan."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} – {self.indicator.code}"


class OwnerRole(models.TextChoices):
    PRESIDING = "presiding", _("Presiding")
    MONITORING = "monitoring", _("Monitoring")
    COORDINATING = "coordinating", _("Coordinating")


class IndicatorOwnerUnit(models.Model):
    owner = models.ForeignKey(
        IndicatorOwner, on_delete=models.CASCADE, related_name="units", verbose_name=_("owner")
    )
    unit = models.ForeignKey(
        "plans.Unit",
        on_delete=models.PROTECT,
        related_name="indicator_roles",
        verbose_name=_("unit"),
    )
    role = models.CharField(_("role"), max_length=12, choices=OwnerRole.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator unit")
        verbose_name_plural = _("indicator units")
        ordering = ["owner", "role", "unit__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "unit"],
                name="indicator_owner_unit_one_role",
                violation_error_message=_(
                    "A unit holds one role on an indicator: the presiding unit cannot also "
                    "monitor or coordinate it."
                ),
            ),
            models.UniqueConstraint(
                fields=["owner"],
                condition=Q(role="presiding"),
                name="indicator_owner_one_presiding",
            ),
            models.UniqueConstraint(
                fields=["owner"],
                condition=Q(role="monitoring"),
                name="indicator_owner_one_monitoring",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["presiding", "monitoring", "coordinating"]),
                name="indicator_owner_unit_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} – {self.get_role_display()}"


# --- The self-assessment ------------------------------------------------------------------------


class SelfAssessmentRound(models.Model):
    year = models.PositiveSmallIntegerField(
        _("assessment year"),
        unique=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        error_messages={"unique": _("A self-assessment round for this year is already open.")},
    )
    indicator_set = models.ForeignKey(
        IndicatorSet,
        on_delete=models.PROTECT,
        related_name="self_assessment_rounds",
        verbose_name=_("indicator set"),
    )
    plan = models.ForeignKey(
        "plans.Plan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="self_assessment_rounds",
        verbose_name=_("plan"),
        help_text=_("The plan whose indicator owners the items were given to."),
    )
    deadline = models.DateField(
        _("internal deadline"),
        help_text=_("When the units must have submitted their items to the coordinators."),
    )
    opened_by = models.ForeignKey(
        "plans.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    # Closed once the ministry has the province's figures: read-only, no more reminders.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "plans.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    class Meta:
        verbose_name = _("self-assessment round")
        verbose_name_plural = _("self-assessment rounds")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="self_assessment_year_range"
            ),
        ]

    def __str__(self) -> str:
        return _("Self-assessment DTI %(year)s") % {"year": self.year}

    @property
    def is_closed(self) -> bool:
        """Closed by a coordinator (``plans.self_assessment.self_assessment_close``): its items
        are read-only and no longer reminded."""
        return self.closed_at is not None


class ItemStatus(models.TextChoices):
    NOT_STARTED = "not_started", pgettext_lazy("self-assessment item", "Not started")
    IN_PROGRESS = "in_progress", pgettext_lazy("self-assessment item", "Being prepared")
    SUBMITTED = "submitted", pgettext_lazy("self-assessment item", "Submitted")
    RETURNED = "returned", pgettext_lazy("self-assessment item", "Returned")
    ACCEPTED = "accepted", pgettext_lazy("self-assessment item", "Accepted")


# The unit still works on the item in these statuses (enters points, attaches evidence).
EDITABLE_STATUSES = (ItemStatus.NOT_STARTED, ItemStatus.IN_PROGRESS, ItemStatus.RETURNED)
# Points that count towards the projected DTI.
COUNTED_STATUSES = (ItemStatus.SUBMITTED, ItemStatus.ACCEPTED)


class SelfAssessmentItemQuerySet(models.QuerySet["SelfAssessmentItem"]):
    def open(self) -> SelfAssessmentItemQuerySet:
        """Items the unit still owes the coordinators: not submitted yet, or returned to it,
        in a round not closed (what the reminders chase; ``SelfAssessmentItem.is_open`` is the
        same state)."""
        return self.filter(status__in=EDITABLE_STATUSES, round__closed_at__isnull=True)

    def returned(self) -> SelfAssessmentItemQuerySet:
        """Items sent back to the unit with a comment, waiting to be resubmitted."""
        return self.filter(status=ItemStatus.RETURNED)

    def visible_to(self, user: User | AnonymousUser) -> SelfAssessmentItemQuerySet:
        """The one rule of who sees which item, used by every door (portal, evidence download,
        admin): people with ``plans.view_selfassessmentitem`` (coordinators, the steering
        committee) see every item; anyone else the items their unit presides over or monitors.
        No query here: the user's units are a subquery."""
        from plans.models import UnitMembership

        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_perm("plans.view_selfassessmentitem"):
            return self
        units = UnitMembership.objects.filter(user_id=user.pk).values("unit_id")
        return self.filter(Q(unit_id__in=units) | Q(monitoring_unit_id__in=units))


class SelfAssessmentItem(models.Model):
    Status = ItemStatus

    round = models.ForeignKey(
        SelfAssessmentRound,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("round"),
    )
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        related_name="self_assessment_items",
        verbose_name=_("indicator"),
    )
    unit = models.ForeignKey(
        "plans.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="self_assessment_items",
        verbose_name=_("presiding unit"),
        help_text=_("Empty when the indicator has no presiding unit in the plan."),
    )
    monitoring_unit = models.ForeignKey(
        "plans.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="monitored_self_assessment_items",
        verbose_name=_("monitoring unit"),
    )
    max_points = models.DecimalField(
        _("max points"), max_digits=7, decimal_places=2, editable=False
    )
    points = models.DecimalField(
        _("self-assessed points"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    figures = models.TextField(
        _("figures"),
        blank=True,
        help_text=_("The figures behind the points, e.g. 1.245/1.300 cán bộ đã được tập huấn."),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ItemStatus.choices,
        default=ItemStatus.NOT_STARTED,
        db_index=True,
    )
    submitted_by = models.ForeignKey(
        "plans.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "plans.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    reviewed_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    review_comment = models.TextField(_("checker's comment"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SelfAssessmentItemQuerySet.as_manager()
    # Every change (points, figures, status, the checker's comment) with who and when; the
    # services set the acting person.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("self-assessment item")
        verbose_name_plural = _("self-assessment items")
        ordering = ["round", "indicator__sort_key"]
        permissions = [
            ("review_selfassessmentitem", _("Can accept or return any self-assessment item")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "indicator"],
                name="self_assessment_item_once_per_round",
                violation_error_message=_("This indicator already has an item in the round."),
            ),
            models.CheckConstraint(
                condition=Q(max_points__gt=0), name="self_assessment_item_scored"
            ),
            models.CheckConstraint(
                condition=Q(points__isnull=True)
                | Q(points__gte=0, points__lte=models.F("max_points")),
                name="self_assessment_points_within_max",
                violation_error_message=_(
                    "The points must be between 0 and the indicator's max points."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["submitted", "accepted"]) | Q(points__isnull=False),
                name="self_assessment_submitted_has_points",
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(review_comment=""),
                name="self_assessment_return_has_comment",
                violation_error_message=_("Say what the unit must add or correct."),
            ),
            models.CheckConstraint(
                condition=~Q(monitoring_unit=models.F("unit")),
                name="self_assessment_monitor_not_presiding",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round.year} – {self.indicator.code}"

    def get_absolute_url(self) -> str:
        return reverse("portal:self_assessment_item", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        """The unit still works on it: its status allows it and the round is not closed."""
        return self.status in EDITABLE_STATUSES and not self.round.is_closed

    @property
    def is_open(self) -> bool:
        """Still owed by the unit (``SelfAssessmentItemQuerySet.open``)."""
        return self.is_editable


class SelfAssessmentEvidence(EvidenceRecord):
    """A file or a link behind an item. Files are stored like task evidence (random names
    outside any URL) and read only through the access-checked download."""

    item = models.ForeignKey(
        SelfAssessmentItem,
        on_delete=models.CASCADE,
        related_name="evidence",
        verbose_name=_("item"),
    )

    class Meta:
        verbose_name = _("self-assessment evidence")
        verbose_name_plural = _("self-assessment evidence")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(link="")) | (~Q(file="") & Q(link="")),
                name="self_assessment_evidence_file_or_link",
                violation_error_message=_("Evidence is either a file or a link."),
            ),
        ]

    def get_absolute_url(self) -> str:
        if self.link:
            return self.link
        return reverse("portal:self_assessment_evidence", args=[self.pk])

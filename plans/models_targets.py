"""A plan's targets: what the province aims for in one assessment year (``plans.targets``
reads where it stands against them)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class TargetKind(models.TextChoices):
    POINTS = "points", _("DTI points")
    VALUE = "value", _("DTI value")
    RANK = "rank", _("Rank among the provinces")
    MAIN_IN_TOP = "main_in_top", _("Main indicators in the top")


class Ranking(models.IntegerChoices):
    # The 34 provinces of 1 July 2025 by default; DTI 2024 was also published for the 63.
    OF_34 = 34, _("34 provinces")
    OF_63 = 63, _("63 provinces")


class Target(models.Model):
    """One target of a plan, e.g. "at least 800 points in 2026", "in the top 10 of 34 in
    2027", "4 main indicators in the top 10 in 2026"."""

    plan = models.ForeignKey(
        "plans.Plan", on_delete=models.CASCADE, related_name="targets", verbose_name=_("plan")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=TargetKind.choices)
    year = models.PositiveSmallIntegerField(
        _("assessment year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    points = models.DecimalField(
        _("DTI points"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1000"))],
    )
    value = models.DecimalField(
        _("DTI value"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal("1"))],
    )
    rank = models.PositiveSmallIntegerField(
        _("rank"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "For a rank target: the rank to reach or better; for main indicators: the top M."
        ),
    )
    count = models.PositiveSmallIntegerField(
        _("main indicators"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("For main indicators in the top: how many (N) must rank in the top M."),
    )
    ranking = models.PositiveSmallIntegerField(
        _("ranking"), choices=Ranking.choices, default=Ranking.OF_34
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["year", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="target_year_range"
            ),
            models.CheckConstraint(
                condition=Q(ranking__in=Ranking.values), name="target_ranking_known"
            ),
            models.CheckConstraint(
                condition=~Q(kind=TargetKind.POINTS)
                | Q(points__gt=0, points__lte=1000, value__isnull=True, rank__isnull=True),
                name="target_points_sane",
            ),
            models.CheckConstraint(
                condition=~Q(kind=TargetKind.VALUE)
                | Q(value__gt=0, value__lte=1, points__isnull=True, rank__isnull=True),
                name="target_value_sane",
            ),
            models.CheckConstraint(
                condition=~Q(kind=TargetKind.RANK)
                | Q(rank__gte=1, rank__lte=F("ranking"), points__isnull=True, value__isnull=True),
                name="target_rank_sane",
            ),
            models.CheckConstraint(
                condition=~Q(kind=TargetKind.MAIN_IN_TOP)
                | Q(count__gte=1, rank__gte=1, rank__lte=F("ranking")),
                name="target_main_in_top_sane",
            ),
            models.CheckConstraint(
                condition=Q(kind=TargetKind.MAIN_IN_TOP) | Q(count__isnull=True),
                name="target_count_only_main_in_top",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == TargetKind.POINTS:
            text = _("at least %(points)s points") % {"points": self.points}
        elif self.kind == TargetKind.VALUE:
            text = _("DTI value at least %(value)s") % {"value": self.value}
        elif self.kind == TargetKind.RANK:
            text = _("rank %(rank)s or better of %(ranking)s") % {
                "rank": self.rank,
                "ranking": self.ranking,
            }
        else:
            text = _("%(count)s main indicators in the top %(top)s of %(ranking)s") % {
                "count": self.count,
                "top": self.rank,
                "ranking": self.ranking,
            }
        return f"{self.year}: {text}"

    def clean(self) -> None:
        needed = {
            TargetKind.POINTS: ["points"],
            TargetKind.VALUE: ["value"],
            TargetKind.RANK: ["rank"],
            TargetKind.MAIN_IN_TOP: ["count", "rank"],
        }.get(self.kind, [])
        errors: dict[str, str] = {}
        for name in needed:
            if getattr(self, name) is None:
                errors[name] = _("This target needs it.")
        for name in ("points", "value", "rank", "count"):
            if name not in needed and getattr(self, name) is not None:
                errors[name] = _("Leave it empty for this kind of target.")
        if self.rank is not None and self.ranking and self.rank > self.ranking:
            errors["rank"] = _("The ranking has only %(ranking)s provinces.") % {
                "ranking": self.ranking
            }
        plan = self.plan if self.plan_id else None
        if plan is not None and self.year and not plan.covers_year(self.year):
            first, last = plan.assessment_span
            errors["year"] = _("The plan runs from %(first)s to %(last)s.") % {
                "first": first,
                "last": last,
            }
        if errors:
            raise ValidationError(errors)

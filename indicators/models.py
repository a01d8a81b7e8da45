"""The DTI indicator sets: versioned data, never code.

A set (e.g. Decision 922/QĐ-BTTTT, applied from the 2021 assessment) holds main indicators and,
under each, component indicators. One table with a ``parent`` link serves both levels, so a task
can address a main or a component indicator through one foreign key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Round
from django.db.models.lookups import LessThan
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

_S = TypeVar("_S", bound="IndicatorSet")


def set_in_force(sets: Iterable[_S], year: int) -> _S | None:
    """The set an assessment of ``year`` was made under: the latest whose first assessment year
    is not after it. The one statement of the rule: imports call it on the sets they loaded
    once, ``IndicatorSet.objects.for_year`` on the database's."""
    in_force = [s for s in sets if s.first_year <= year]
    return max(in_force, key=lambda s: s.first_year, default=None)


def assessment_years(sets: Iterable[_S]) -> dict[int, tuple[int, int | None]]:
    """{set id: (first year, last year or None while it is the latest)}: each set applies
    until the year before the next set's first year."""
    ordered = sorted(sets, key=lambda s: s.first_year)
    years: dict[int, tuple[int, int | None]] = {}
    for current, following in zip(ordered, [*ordered[1:], None], strict=True):
        last = following.first_year - 1 if following is not None else None
        years[current.pk] = (current.first_year, last)
    return years


class IndicatorSetQuerySet(models.QuerySet["IndicatorSet"]):
    def for_year(self, year: int) -> IndicatorSet | None:
        """The set an assessment of ``year`` was made under (``set_in_force``)."""
        return set_in_force(self.filter(first_year__lte=year), year)


class IndicatorSet(models.Model):
    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Short name used in spreadsheets' “framework” column, e.g. DTI2022."),
    )
    name = models.CharField(_("name"), max_length=255)
    decision = models.CharField(
        _("decision"),
        max_length=100,
        help_text=_("The decision that issued it, e.g. 922/QĐ-BTTTT."),
    )
    decision_date = models.DateField(_("decision date"), null=True, blank=True)
    first_year = models.PositiveSmallIntegerField(
        _("first assessment year"), help_text=_("The first year assessed under this set.")
    )
    total_points = models.DecimalField(
        _("total points"), max_digits=7, decimal_places=2, default=Decimal("1000")
    )

    objects = IndicatorSetQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator set")
        verbose_name_plural = _("indicator sets")
        ordering = ["-first_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_points__gt=0), name="indicatorset_total_points_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.decision})"

    def clean(self) -> None:
        super().clean()
        if (
            _changed_since_loaded(self, ("total_points", "first_year"))
            and self.assessments.exists()
        ):
            # DTI values and the set each year was assessed under were computed from these.
            raise ValidationError(
                _(
                    "Assessments already use this set: its total points and first year "
                    "cannot change."
                )
            )

    @classmethod
    def from_db(cls, db: str | None, field_names: list[str], values: list[Any]) -> IndicatorSet:
        return _remember_loaded(super().from_db(db, field_names, values), field_names)


_M = TypeVar("_M", bound=models.Model)


def _remember_loaded(instance: _M, field_names: list[str]) -> _M:
    """Keep the values an instance was loaded with, so that ``clean()`` can tell what changed
    without a query (an import validates every row; most change nothing)."""
    instance._loaded_values = {  # type: ignore[attr-defined]
        name: getattr(instance, name)
        for name in field_names
        if name in instance.__dict__  # deferred fields are not loaded
    }
    return instance


def _changed_since_loaded(instance: models.Model, names: tuple[str, ...]) -> bool:
    if instance.pk is None:
        return False  # new: nothing was computed from it yet
    loaded = getattr(instance, "_loaded_values", None)
    if loaded is None or any(name not in loaded for name in names):
        return True  # not loaded from the database here: assume it may have changed
    return any(getattr(instance, name) != loaded[name] for name in names)


def under_main_indicator_q(main_id: int | str, field: str = "indicator") -> Q:
    """Rows whose ``field`` (a foreign key to Indicator) is the main indicator ``main_id`` or
    one of its components: how every list filters "by main indicator"."""
    return Q(**{f"{field}_id": main_id}) | Q(**{f"{field}__parent_id": main_id})


class IndicatorQuerySet(models.QuerySet["Indicator"]):
    def main(self) -> IndicatorQuerySet:
        return self.filter(parent__isnull=True)

    def components(self) -> IndicatorQuerySet:
        return self.filter(parent__isnull=False)


class Pillar(models.TextChoices):
    """Where a main indicator sits among the DTI's three pillars.

    Decision 922 groups its main indicators 1-6 as the foundation common to all three pillars
    and 7, 8, 9 as the activities of digital government, digital economy and digital society.
    Stored per main indicator (data, set by a migration for DTI2022 and by a coordinator for a
    later set), never derived from a code: the 2024 set numbers its indicators differently.
    """

    FOUNDATION = "foundation", _("Common foundation")
    GOVERNMENT = "government", _("Digital government")
    ECONOMY = "economy", _("Digital economy")
    SOCIETY = "society", _("Digital society")


class Indicator(models.Model):
    indicator_set = models.ForeignKey(
        IndicatorSet,
        on_delete=models.PROTECT,
        related_name="indicators",
        verbose_name=_("indicator set"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="components",
        verbose_name=_("main indicator"),
        help_text=_("Empty for a main indicator; the main indicator of a component."),
    )
    code = models.CharField(_("code"), max_length=20, help_text=_("e.g. 7 or 7.12"))
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=500)
    name_en = models.CharField(_("name (English)"), max_length=500, blank=True)
    max_points = models.DecimalField(
        _("max points"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "Empty when the ministry has not published it: the indicator's results are then "
            "the published values."
        ),
    )
    scored = models.BooleanField(_("scored"), default=True)
    pillar = models.CharField(
        _("pillar"),
        max_length=12,
        choices=Pillar.choices,
        blank=True,
        help_text=_(
            "For a main indicator: the pillar it belongs to, or the common foundation. "
            "Components follow their main indicator; leave empty."
        ),
    )
    sort_key = models.CharField(max_length=60, editable=False, db_index=True, default="")

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["indicator_set", "sort_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator_set", "code"], name="indicator_code_unique_in_set"
            ),
            models.CheckConstraint(
                condition=Q(max_points__gte=0), name="indicator_max_points_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="indicator_not_its_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(pillar="") | Q(parent__isnull=True),
                name="indicator_pillar_only_on_main",
                violation_error_message=_("Only a main indicator has a pillar."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.name_vi}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.sort_key = natural_sort_key(self.code)
        super().save(*args, **kwargs)

    @property
    def is_main(self) -> bool:
        return self.parent_id is None

    @property
    def main_indicator(self) -> Indicator:
        return self if self.parent is None else self.parent

    def clean(self) -> None:
        super().clean()
        if self.parent is not None:
            if self.parent.parent_id is not None:
                raise ValidationError(
                    {"parent": _("A component's parent must be a main indicator.")}
                )
            if self.indicator_set_id and self.parent.indicator_set_id != self.indicator_set_id:
                raise ValidationError(
                    {"parent": _("The main indicator belongs to another indicator set.")}
                )
        if (
            _changed_since_loaded(self, ("max_points", "scored"))
            and not self._max_points_published_later()
            and self.scores.exists()
        ):
            # Values, totals and weakness already computed from them would silently go stale;
            # a set whose points were wrong is corrected by deleting its scores, fixing the set
            # and importing the scores again.
            raise ValidationError(
                {
                    "max_points": _(
                        "Provinces already have scores on this indicator: its max points and "
                        "whether it is scored cannot change."
                    )
                }
            )

    def _max_points_published_later(self) -> bool:
        """Max points that were unknown (not published) and are now given: nothing was computed
        from them, since values came from the published ones, as long as no score has points
        (those would be measured against a max that did not exist)."""
        loaded = getattr(self, "_loaded_values", {})
        return (
            loaded.get("max_points", False) is None
            and loaded.get("scored") == self.scored
            and not self.scores.filter(points__isnull=False).exists()
        )

    @classmethod
    def from_db(cls, db: str | None, field_names: list[str], values: list[Any]) -> Indicator:
        return _remember_loaded(super().from_db(db, field_names, values), field_names)


def natural_sort_key(code: str) -> str:
    """'7.12' sorts after '7.2': pad each numeric part so text order equals number order."""
    parts = code.replace("-", ".").split(".")
    return ".".join(part.zfill(4) if part.isdigit() else part for part in parts)


# --- Provinces ---------------------------------------------------------------------------------


def assessment_reference_date(year: int) -> dt.date:
    """The day whose provinces an assessment of ``year`` names: the last day of that year.

    The DTI of year Y scores the provinces as they were during Y, so a 2024 file names the 63
    provinces and a 2025 file the 34 that exist from 1 July 2025. Taking the end of the year
    gives exactly that without a hard-coded merger year: a future boundary change that takes
    effect mid-year is handled the same way.
    """
    return dt.date(year, 12, 31)


class ProvinceQuerySet(models.QuerySet["Province"]):
    def in_force(self, on: dt.date) -> ProvinceQuerySet:
        """Provinces that exist on ``on``."""
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=on),
            Q(valid_until__isnull=True) | Q(valid_until__gt=on),
        )

    def for_assessment_year(self, year: int) -> ProvinceQuerySet:
        return self.in_force(assessment_reference_date(year))


class Province(models.Model):
    """A province or centrally-run city, valid between two dates.

    A province whose territory did not change in a merger is one row, valid across the merger
    date (its history stays one history); a province that merged ends on the merger date and
    names its successor, which is a new row starting that day, even when it kept the name of one
    of its former provinces (An Giang, from 2025, is not the An Giang of 2024).
    """

    name = models.CharField(_("name"), max_length=100)
    is_city = models.BooleanField(_("centrally-run city"), default=False)
    valid_from = models.DateField(
        _("exists from"),
        null=True,
        blank=True,
        help_text=_("Empty when it existed before the earliest data kept here."),
    )
    valid_until = models.DateField(
        _("ceased on"),
        null=True,
        blank=True,
        help_text=_("The first day it no longer existed: the day a merger took effect."),
    )
    successor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessors",
        verbose_name=_("merged into"),
    )
    former_name = models.CharField(
        _("former name"),
        max_length=100,
        blank=True,
        help_text=_(
            "The name it had before it was renamed (e.g. Thừa Thiên Huế before it became the "
            "city of Huế): results of the years before are shown and exported under it."
        ),
    )
    renamed_on = models.DateField(
        _("renamed on"),
        null=True,
        blank=True,
        help_text=_("The first day of the present name."),
    )
    other_names = models.TextField(
        _("other spellings"),
        blank=True,
        help_text=_(
            "One per line: how files write this province's name when it differs from the name "
            "by more than a prefix (“Tỉnh”, “TP.”), punctuation or the place of a tone mark."
        ),
    )

    objects = ProvinceQuerySet.as_manager()

    class Meta:
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        ordering = ["name", "valid_from"]
        constraints = [
            # Two partial constraints because NULLs never collide in a plain unique constraint.
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(valid_from__isnull=True),
                name="province_name_unique_among_original",
            ),
            models.UniqueConstraint(
                fields=["name", "valid_from"],
                condition=Q(valid_from__isnull=False),
                name="province_name_unique_per_start",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=F("valid_from")),
                name="province_valid_until_after_from",
            ),
            models.CheckConstraint(
                condition=Q(successor__isnull=True) | Q(valid_until__isnull=False),
                name="province_successor_only_when_ended",
            ),
            models.CheckConstraint(
                condition=~Q(successor=F("id")), name="province_not_its_own_successor"
            ),
            models.CheckConstraint(
                condition=Q(former_name="", renamed_on__isnull=True)
                | (~Q(former_name="") & Q(renamed_on__isnull=False)),
                name="province_former_name_with_date",
                violation_error_message=_("A former name needs the day the province was renamed."),
            ),
        ]

    def __str__(self) -> str:
        if self.valid_until:
            # valid_until is the first day without it, so "before" reads right.
            return _("%(name)s (before %(date)s)") % {
                "name": self.name,
                "date": date_format(self.valid_until, "SHORT_DATE_FORMAT"),
            }
        return self.name

    def name_on(self, day: dt.date) -> str:
        """The name in force on ``day``: a 2022 table names Thừa Thiên Huế, not Huế."""
        if self.former_name and self.renamed_on and day < self.renamed_on:
            return self.former_name
        return self.name

    def name_in_year(self, year: int) -> str:
        """The name an assessment of ``year`` uses (the provinces of 31 December that year)."""
        return self.name_on(assessment_reference_date(year))

    def spellings(self) -> list[str]:
        return [
            self.name,
            *([self.former_name] if self.former_name else []),
            *(line.strip() for line in self.other_names.splitlines() if line.strip()),
        ]

    def exists_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day < self.valid_until
        )


def ranking_days(year: int, provinces: Iterable[Province]) -> dict[int, dt.date]:
    """{number of provinces: the day whose provinces that ranking of ``year`` ranks}.

    The year's own ranking ranks the provinces of 31 December that year; each later change of
    the provinces (the 2025 merger: 63 became 34) adds the ranking of the provinces from that
    day, in which a merged province stands for the average of its former provinces, as the
    ministry published DTI 2024 twice. Read from the provinces' dates: no merger year is known
    to the code.
    """
    provinces = list(provinces)
    own = assessment_reference_date(year)
    later = sorted({p.valid_from for p in provinces if p.valid_from and p.valid_from > own})
    days: dict[int, dt.date] = {}
    for day in [own, *later]:
        days.setdefault(sum(1 for p in provinces if p.exists_on(day)), day)
    return days


# --- Assessments and scores ------------------------------------------------------------------


def _year_range() -> Q:
    return Q(year__gte=2000, year__lte=2100)


class AssessmentQuerySet(models.QuerySet["Assessment"]):
    def with_published(self) -> AssessmentQuerySet:
        """``published_value`` and ``published_rank``: the ministry's DTI figures of the year's
        own ranking, where imported."""
        published = (
            PublishedResult.objects.of_assessments()
            .overall()
            .filter(province_id=OuterRef("province_id"), year=OuterRef("year"))
        )
        return self.annotate(
            published_value=Subquery(published.values("value")[:1]),
            published_rank=Subquery(published.values("rank")[:1]),
        )

    def with_rank(self) -> AssessmentQuerySet:
        """``rank``: 1 + the number of provinces with a higher DTI value that year.

        Ties share a rank (1, 2, 2, 4), and the rank does not depend on which rows the outer
        query keeps, so a filtered admin list still shows the national rank.
        """
        higher = (
            Assessment.objects.filter(year=OuterRef("year"), value__gt=OuterRef("value"))
            .order_by()
            .values("year")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(
            rank=Coalesce(Subquery(higher, output_field=models.IntegerField()), 0) + 1,
            provinces_in_year=Subquery(
                Assessment.objects.filter(year=OuterRef("year"))
                .order_by()
                .values("year")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=models.IntegerField(),
            ),
        )


class Assessment(models.Model):
    """A province's DTI result for one year, under the indicator set that year was scored by.

    ``points`` and ``value`` are computed from the scores (``indicators.services``) whenever
    scores are written; when only published values are known (the ministry publishes values,
    not points, for DTI 2024), ``value`` is the published DTI value and ``points`` stays empty.
    Ranks are computed when read, so they always reflect the provinces loaded for the year.
    """

    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("province")
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    indicator_set = models.ForeignKey(
        IndicatorSet,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("indicator set"),
    )
    points = models.DecimalField(
        _("total points"),
        max_digits=7,
        decimal_places=2,
        null=True,
        editable=False,
        help_text=_("Empty when the results were published as values only."),
    )
    value = models.DecimalField(
        _("DTI value"),
        max_digits=5,
        decimal_places=4,
        null=True,
        editable=False,
        help_text=_("Computed from the points when they are known, else the published DTI value."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-year", "-value", "province__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "year"],
                name="assessment_unique_per_province_year",
                violation_error_message=_("This province already has an assessment that year."),
            ),
            models.CheckConstraint(condition=_year_range(), name="assessment_year_range"),
            models.CheckConstraint(
                condition=Q(points__gte=0), name="assessment_points_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["year", "value"], name="assessment_year_value")]

    def __str__(self) -> str:
        return f"{self.province.name} – DTI {self.year}"


class ScoreQuerySet(models.QuerySet["Score"]):
    def scored(self) -> ScoreQuerySet:
        """Scores that count: not the collected-but-unscored indicators (e.g. smart city, 0
        points). An indicator whose max points were not published counts."""
        return (
            self.filter(indicator__scored=True)
            .filter(Q(indicator__max_points__gt=0) | Q(indicator__max_points__isnull=True))
            .exclude(indicator__parent__scored=False)
        )

    def leaves(self) -> ScoreQuerySet:
        """The finest level a province was scored at: its component scores, and a main
        indicator's score only when no component score was given under it."""
        return self.exclude(indicator__parent__isnull=True, derived=True)

    def with_rank(self) -> ScoreQuerySet:
        """``rank`` among the provinces assessed that year on the same indicator (ties share)."""
        return self.annotate(rank=_rank_among_provinces("indicator_id", "value"))

    def with_last_year(self) -> ScoreQuerySet:
        """``last_year_points``: the same indicator's points a year earlier, for the same
        province, or for a merged province the average of its former provinces (the ministry's
        baseline). Empty when the year before was scored under another indicator set."""
        province = OuterRef("assessment__province_id")
        earlier = (
            Score.objects.filter(
                indicator_id=OuterRef("indicator_id"),
                assessment__year=OuterRef("assessment__year") - 1,
            )
            .filter(
                Q(assessment__province_id=province) | Q(assessment__province__successor=province)
            )
            .order_by()
            .values("indicator_id")
            .annotate(average=Avg("points"))
            .values("average")
        )
        return self.annotate(last_year_points=Subquery(earlier, output_field=_points_field()))

    def weak(self) -> ScoreQuerySet:
        """The weak indicators under each year's rule in force (``rule_in_force``): the year's
        own ``WeakRule``, or for a year without one the default rule, so that importing a new
        year never makes every weakness vanish.

        Under a year's own rule an indicator is weak when it was scored zero, scored below the
        rule's share of its max points (a value below that share when only the value is known),
        or belongs to a main indicator ranked worse than the rule's rank (and still has points
        to win). Under the default rule it is weak when scored below half its max points or,
        known only by its value (the max points were not published), when that value is below
        the average of the provinces with results that year. Only the finest level scored
        counts, so a list never shows a component and its main indicator for the same reason
        twice.
        """
        rule = WeakRule.objects.filter(year=OuterRef("assessment__year")).order_by()
        has_rule = Exists(rule)
        queryset = (
            self.scored()
            .leaves()
            .filter(Q(points__isnull=False) | Q(value__isnull=False))
            .annotate(
                main_indicator_id=Coalesce(F("indicator__parent_id"), F("indicator_id")),
                own_rule=has_rule,
                rule_zero=Case(
                    When(has_rule, then=Subquery(rule.values("zero_points")[:1])),
                    default=Value(True),
                ),
                rule_percent=Case(
                    When(has_rule, then=Subquery(rule.values("below_percent")[:1])),
                    default=Value(DEFAULT_BELOW_PERCENT),
                ),
                rule_rank=Subquery(rule.values("main_rank_worse_than")[:1]),
            )
            .annotate(
                main_value=Subquery(
                    Score.objects.filter(
                        assessment_id=OuterRef("assessment_id"),
                        indicator_id=OuterRef("main_indicator_id"),
                    )
                    .order_by()  # not the model's ordering: it joins three tables
                    .values("value")[:1]
                ),
            )
            .annotate(main_rank=_rank_among_provinces("main_indicator_id", "main_value"))
        )
        with_points = Q(points__isnull=False, indicator__max_points__isnull=False)
        by_value = ~with_points & Q(value__isnull=False)
        # Compared in hundredths of a point (ten-thousandths of a value), as whole numbers:
        # SQLite does decimal arithmetic in floating point, where 0.29 * 100 < 29 would call a
        # score exactly at the share weak.
        hundredths = Round(F("points") * 100) * 100
        max_hundredths = Round(F("indicator__max_points") * 100)
        below_share = Q(rule_percent__isnull=False) & (
            (with_points & Q(LessThan(hundredths, F("rule_percent") * max_hundredths)))
            | (
                by_value
                & Q(own_rule=True)
                & Q(LessThan(Round(F("value") * 10000), F("rule_percent") * 100))
            )
        )
        below_average = (
            Q(own_rule=False)
            & by_value
            & Q(
                LessThan(
                    F("value"), Subquery(_average_value_of_year(), output_field=_value_field())
                )
            )
        )
        scored_zero = Q(rule_zero=True) & (Q(points=0) | (by_value & Q(value=0)))
        # The cheap conditions first: the rank (a count) is only needed when they hold.
        points_to_win = Q(points__lt=F("indicator__max_points")) | (by_value & Q(value__lt=1))
        main_ranked_low = (
            Q(rule_rank__isnull=False) & points_to_win & Q(main_rank__gt=F("rule_rank"))
        )
        return queryset.filter(scored_zero | below_share | below_average | main_ranked_low)

    def with_recoverable(self) -> ScoreQuerySet:
        """``recoverable_points``: max - points; empty when either is unknown."""
        return self.annotate(
            recoverable_points=ExpressionWrapper(
                F("indicator__max_points") - F("points"), output_field=_points_field()
            )
        )


def _points_field() -> models.DecimalField:
    return models.DecimalField(max_digits=7, decimal_places=2)


def _value_field() -> models.DecimalField:
    return models.DecimalField(max_digits=5, decimal_places=4)


def _average_value_of_year() -> QuerySet:
    """The mean value of the same indicator among the provinces with results that year."""
    return (
        Score.objects.filter(
            indicator_id=OuterRef("indicator_id"),
            assessment__year=OuterRef("assessment__year"),
            value__isnull=False,
        )
        .order_by()
        .values("indicator_id")
        .annotate(mean=Avg("value"))
        .values("mean")
    )


def _rank_among_provinces(indicator: str, value: str) -> Coalesce:
    """1 + how many scores of the same indicator and year have a higher value."""
    higher = (
        Score.objects.filter(
            indicator_id=OuterRef(indicator),
            assessment__year=OuterRef("assessment__year"),
            value__gt=OuterRef(value),
        )
        .order_by()
        .values("indicator_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(higher, output_field=models.IntegerField()), 0) + 1


class Score(models.Model):
    """A province's points on one indicator in one assessment.

    A main indicator's score is either given (published main-indicator results) or, when
    component scores are given under it, their sum (``derived``), kept up to date by
    ``indicators.services.assessments_refresh``.
    """

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="scores", verbose_name=_("assessment")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="scores", verbose_name=_("indicator")
    )
    points = models.DecimalField(
        _("points"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Empty when only the published value is known."),
    )
    derived = models.BooleanField(
        _("sum of components"),
        default=False,
        editable=False,
        help_text=_("Computed as the sum of the component scores given under it."),
    )
    value = models.DecimalField(
        _("value"),
        max_digits=5,
        decimal_places=4,
        null=True,
        editable=False,
        help_text=_("Points / max points when both are known, else the published value."),
    )

    objects = ScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["assessment", "indicator__sort_key"]
        constraints = [
            # One score per province, year and indicator (the assessment is the province-year).
            models.UniqueConstraint(
                fields=["assessment", "indicator"],
                name="score_unique_per_indicator",
                violation_error_message=_("This indicator already has a score in the assessment."),
            ),
            models.CheckConstraint(
                condition=Q(points__gte=0),
                name="score_points_not_negative",
                violation_error_message=_("Points cannot be negative."),
            ),
        ]
        indexes = [models.Index(fields=["indicator", "value"], name="score_indicator_value")]

    def __str__(self) -> str:
        return f"{self.assessment} – {self.indicator.code}"

    @property
    def recoverable(self) -> Decimal | None:
        if self.points is None or self.indicator.max_points is None:
            return None
        return self.indicator.max_points - self.points

    def clean(self) -> None:
        super().clean()
        if (
            self.indicator_id
            and self.points is not None
            and self.indicator.max_points is not None
            and self.points > self.indicator.max_points
        ):
            raise ValidationError(
                {
                    "points": _("%(points)s is above the indicator's max of %(max)s points.")
                    % {"points": self.points, "max": self.indicator.max_points}
                }
            )
        if (
            self.indicator_id
            and self.assessment_id
            and self.indicator.indicator_set_id != self.assessment.indicator_set_id
        ):
            raise ValidationError(
                {"indicator": _("The indicator belongs to another set than the assessment.")}
            )


class PublishedResultQuerySet(models.QuerySet["PublishedResult"]):
    def overall(self) -> PublishedResultQuerySet:
        """The provinces' DTI itself (neither a pillar nor an indicator)."""
        return self.filter(indicator__isnull=True, pillar="")

    def of_assessments(self) -> PublishedResultQuerySet:
        """The published figures of the year's own ranking: those beside an assessment."""
        return self.filter(own_ranking=True)


class PublishedResult(models.Model):
    """A figure as the ministry published it: a province's value and rank on the DTI, on a
    pillar or on an indicator, in one year's ranking.

    Kept beside what dtiplan computes (``Assessment``, ``Score``), never overwritten by it:
    pages show the official figure with the computed one, and a difference is listed for a
    coordinator to look at. ``ranking`` is the number of provinces ranked: DTI 2024 was
    published for the 63 provinces of that year and again for the 34 of 1 July 2025, where a
    merged province's figure is the average of its former provinces'.
    """

    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="published_results",
        verbose_name=_("province"),
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    ranking = models.PositiveSmallIntegerField(
        _("ranking"),
        help_text=_("How many provinces the ranking has, e.g. 63 or 34."),
    )
    own_ranking = models.BooleanField(
        _("the year's own provinces"),
        default=True,
        editable=False,
        help_text=_(
            "Ranks the provinces of the year itself, not a later set of provinces (the 34 "
            "of 1 July 2025 for DTI 2024)."
        ),
    )
    indicator_set = models.ForeignKey(
        IndicatorSet,
        on_delete=models.PROTECT,
        related_name="published_results",
        verbose_name=_("indicator set"),
    )
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="published_results",
        verbose_name=_("indicator"),
        help_text=_("Empty for a pillar or for the DTI itself."),
    )
    pillar = models.CharField(_("pillar"), max_length=12, choices=Pillar.choices, blank=True)
    value = models.DecimalField(
        _("published value"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    rank = models.PositiveSmallIntegerField(_("published rank"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PublishedResultQuerySet.as_manager()

    class Meta:
        verbose_name = _("published result")
        verbose_name_plural = _("published results")
        ordering = ["-year", "ranking", "province__name"]
        constraints = [
            # Two partial constraints: NULLs never collide in a plain unique constraint.
            models.UniqueConstraint(
                fields=["province", "year", "ranking", "indicator"],
                condition=Q(indicator__isnull=False),
                name="published_result_unique_indicator",
            ),
            models.UniqueConstraint(
                fields=["province", "year", "ranking", "pillar"],
                condition=Q(indicator__isnull=True),
                name="published_result_unique_pillar_or_dti",
            ),
            models.CheckConstraint(
                condition=Q(indicator__isnull=True) | Q(pillar=""),
                name="published_result_indicator_or_pillar",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0, value__lte=1),
                name="published_result_value_0_to_1",
            ),
            models.CheckConstraint(
                condition=Q(rank__isnull=True) | Q(rank__gte=1, rank__lte=F("ranking")),
                name="published_result_rank_in_ranking",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=False) | Q(rank__isnull=False),
                name="published_result_not_empty",
            ),
            models.CheckConstraint(condition=_year_range(), name="published_result_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.province.name_in_year(self.year)} – DTI {self.year} – {self.subject}"

    @property
    def subject(self) -> str:
        if self.indicator_id:
            return str(self.indicator)
        if self.pillar:
            return str(self.get_pillar_display())
        return "DTI"


class WeakIndicator(Score):
    """The admin's weak-indicator list: scores seen through ``Score.objects.weak()``."""

    class Meta:
        proxy = True
        verbose_name = _("weak indicator")
        verbose_name_plural = _("weak indicators")


# --- Weakness rules ------------------------------------------------------------------------


class WeakRule(models.Model):
    """What counts as weak in one year's results, as the coordinator decides."""

    year = models.PositiveSmallIntegerField(
        _("year"),
        unique=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text=_("The assessment year these rules apply to."),
    )
    zero_points = models.BooleanField(
        _("scored zero"), default=True, help_text=_("An indicator scored 0 is weak.")
    )
    below_percent = models.PositiveSmallIntegerField(
        _("below this percentage of the max points"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("e.g. 50: an indicator scored below half its max points is weak."),
    )
    main_rank_worse_than = models.PositiveSmallIntegerField(
        _("main indicator ranked worse than"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "e.g. 30: every indicator that can still win points under a main indicator ranked "
            "31st or lower among the provinces is weak."
        ),
    )

    class Meta:
        verbose_name = _("weakness rule")
        verbose_name_plural = _("weakness rules")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=_year_range(), name="weakrule_year_range"),
            models.CheckConstraint(
                condition=Q(below_percent__isnull=True)
                | Q(below_percent__gte=1, below_percent__lte=100),
                name="weakrule_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(main_rank_worse_than__isnull=True) | Q(main_rank_worse_than__gte=1),
                name="weakrule_rank_positive",
            ),
        ]

    def __str__(self) -> str:
        return _("Weakness rules for %(year)s") % {"year": self.year}

    def describe(self) -> str:
        parts = []
        if self.zero_points:
            parts.append(gettext("scored zero"))
        if self.below_percent is not None:
            parts.append(
                gettext(
                    "below %(percent)s%% of the max points (of a value of 1 when only the value "
                    "is known)"
                )
                % {"percent": self.below_percent}
            )
        if self.main_rank_worse_than is not None:
            parts.append(
                gettext("under a main indicator ranked worse than %(rank)s")
                % {"rank": self.main_rank_worse_than}
            )
        return "; ".join(parts) or gettext("nothing is weak")


# The default rule, for a year without a rule of its own.
DEFAULT_BELOW_PERCENT = 50


@dataclass(frozen=True)
class RuleInForce:
    """Which rule finds a year's weak indicators: the year's own, or the default rule."""

    year: int
    rule: WeakRule | None

    @property
    def is_default(self) -> bool:
        return self.rule is None

    @property
    def label(self) -> str:
        if self.rule is not None:
            return gettext("Weakness rules for %(year)s: %(rules)s") % {
                "year": self.year,
                "rules": self.rule.describe(),
            }
        return gettext(
            "Default rule (%(year)s has no weakness rule of its own): a scored indicator below "
            "%(percent)s%% of its max points, or, known only by its value, below the average "
            "of the provinces with results"
        ) % {"year": self.year, "percent": DEFAULT_BELOW_PERCENT}


def rules_in_force(years: Iterable[int]) -> dict[int, RuleInForce]:
    """{year: the rule that finds its weak indicators}, in one query."""
    years = sorted(set(years))
    own = {rule.year: rule for rule in WeakRule.objects.filter(year__in=years)}
    return {year: RuleInForce(year, own.get(year)) for year in years}

"""The DTI indicator sets: versioned data, never code.

A set (e.g. Decision 922/QĐ-BTTTT, applied from the 2022 assessment) holds main indicators and,
under each, component indicators. One table with a ``parent`` link serves both levels, so a task
can address a main or a component indicator through one foreign key.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class IndicatorSetQuerySet(models.QuerySet["IndicatorSet"]):
    def for_year(self, year: int) -> IndicatorSet | None:
        """The set an assessment of ``year`` was made under: the latest one in force by then."""
        return self.filter(first_year__lte=year).order_by("-first_year").first()


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


class IndicatorQuerySet(models.QuerySet["Indicator"]):
    def main(self) -> IndicatorQuerySet:
        return self.filter(parent__isnull=True)

    def components(self) -> IndicatorQuerySet:
        return self.filter(parent__isnull=False)


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
        validators=[MinValueValidator(Decimal("0"))],
    )
    scored = models.BooleanField(_("scored"), default=True)
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


def natural_sort_key(code: str) -> str:
    """'7.12' sorts after '7.2': pad each numeric part so text order equals number order."""
    parts = code.replace("-", ".").split(".")
    return ".".join(part.zfill(4) if part.isdigit() else part for part in parts)

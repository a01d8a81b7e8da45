"""DTI arithmetic: values, totals, ranks, merged-province baselines, year over year.

The ministry's rules (Decision 922/QĐ-BTTTT and the published rankings): a main indicator's value
is its points / its max points, the provincial DTI is total points / the set's total (1,000),
both published to 4 decimals, rounded half up. Provinces are ranked by the published value, and
equal values share a rank (1, 2, 2, 4). Everything here is ``Decimal``; nothing goes through
floating point.

Where results are stored: an assessment's total and value and each score's value depend only on
that assessment's scores and the indicators' max points, so ``assessments_refresh`` stores them
whenever scores are written. Ranks depend on every province of the year and are computed when
read: in SQL for lists (``AssessmentQuerySet.with_rank``, ``ScoreQuerySet.with_rank``) and here
in Python when a merged province's baseline has to be ranked with the others.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from indicators.models import (
    Assessment,
    Indicator,
    Province,
    Score,
    assessment_reference_date,
)

FOUR_PLACES = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")
K = TypeVar("K", bound=Hashable)
DTI = "dti"  # the key of the provincial DTI among the indicator ids of a standing


def value_of(points: Decimal, max_points: Decimal) -> Decimal | None:
    """points / max, to 4 decimals, half up: 394.13 of 1,000 is 0.3941, 394.15 is 0.3942."""
    if max_points <= 0:
        return None
    return (Decimal(points) / Decimal(max_points)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def competition_ranks(values: Mapping[K, Decimal | None]) -> dict[K, int | None]:
    """Rank 1 for the highest value; equal values share a rank and the next rank is skipped
    (1, 2, 2, 4), as the ministry publishes its rankings. No value, no rank."""
    ranked = sorted((v for v in values.values() if v is not None), reverse=True)
    first_position: dict[Decimal, int] = {}
    for position, value in enumerate(ranked, start=1):
        first_position.setdefault(value, position)
    return {key: None if v is None else first_position[v] for key, v in values.items()}


# --- Stored results ---------------------------------------------------------------------------


@transaction.atomic
def assessments_refresh(*, assessment_ids: Iterable[int]) -> None:
    """Recompute what is stored from an assessment's scores: each main indicator's points as the
    sum of its components when component scores are given, every score's value, and the
    assessment's total and DTI value. Writes only what changed; a constant number of queries
    whatever the number of assessments."""
    assessments = {
        a.pk: a
        for a in Assessment.objects.filter(pk__in=list(assessment_ids)).select_related(
            "indicator_set"
        )
    }
    if not assessments:
        return
    set_ids = {a.indicator_set_id for a in assessments.values()}
    indicators = {i.pk: i for i in Indicator.objects.filter(indicator_set_id__in=set_ids)}
    scores: dict[int, dict[int, Score]] = defaultdict(dict)
    for score in Score.objects.filter(assessment_id__in=assessments):
        scores[score.assessment_id][score.indicator_id] = score

    to_create: list[Score] = []
    to_update: dict[int, Score] = {}  # by id: a score changed twice is written once
    changed_assessments: list[Assessment] = []
    for assessment_id, assessment in assessments.items():
        own = scores[assessment_id]
        component_sums: dict[int, Decimal] = defaultdict(Decimal)
        for indicator_id, score in own.items():
            parent_id = indicators[indicator_id].parent_id
            if parent_id is not None:
                component_sums[parent_id] += score.points
        for main_id, total in component_sums.items():
            main = own.get(main_id)
            if main is None:
                main = Score(
                    assessment=assessment, indicator_id=main_id, points=total, derived=True
                )
                own[main_id] = main
                to_create.append(main)
            elif main.points != total or not main.derived:
                main.points, main.derived = total, True
                to_update[main.pk] = main
        for score in own.values():
            value = value_of(score.points, indicators[score.indicator_id].max_points)
            if score.value != value:
                score.value = value
                if score.pk:
                    to_update[score.pk] = score
        points = sum(
            (
                score.points
                for indicator_id, score in own.items()
                if _counts_in_total(indicators[indicator_id])
            ),
            Decimal("0"),
        )
        value = value_of(points, assessment.indicator_set.total_points) or Decimal("0")
        if (assessment.points, assessment.value) != (points, value):
            assessment.points, assessment.value = points, value
            assessment.updated_at = timezone.now()  # bulk_update skips auto_now
            changed_assessments.append(assessment)

    Score.objects.bulk_create(to_create, batch_size=500)
    Score.objects.bulk_update(
        list(to_update.values()), ["points", "derived", "value"], batch_size=500
    )
    Assessment.objects.bulk_update(
        changed_assessments, ["points", "value", "updated_at"], batch_size=500
    )


def _counts_in_total(indicator: Indicator) -> bool:
    return indicator.parent_id is None and indicator.scored and indicator.max_points > 0


# --- Standings: own results and merged-province baselines, ranked ------------------------------


@dataclass(frozen=True)
class Result:
    """A province's points, value and rank on the DTI or on one indicator, in one year.

    ``averaged`` names the former provinces whose results were averaged into this one (a merged
    province's baseline for a year before it existed); empty for a province's own result.
    """

    points: Decimal
    value: Decimal | None
    rank: int | None = None
    out_of: int = 0
    averaged: tuple[str, ...] = ()

    @property
    def is_baseline(self) -> bool:
        return bool(self.averaged)


class YearResults:
    """Every result of one assessment year, loaded in three queries, and ranked for any list of
    provinces: the year's own provinces, or the provinces of a later year (a merged province then
    gets the baseline the ministry computed: the average of its former provinces)."""

    def __init__(self, year: int, *, with_indicators: bool = True) -> None:
        self.year = year
        self.assessments = {
            a.province_id: a
            for a in Assessment.objects.filter(year=year).select_related("indicator_set")
        }
        self.points: dict[int, dict[int | str, Decimal]] = {
            province_id: {DTI: a.points} for province_id, a in self.assessments.items()
        }
        self.max_points: dict[int | str, Decimal] = {}
        if not self.assessments:
            return
        # Every assessment of a year is under the year's one set (checked on import).
        indicator_set = next(iter(self.assessments.values())).indicator_set
        self.indicator_set = indicator_set
        self.max_points[DTI] = indicator_set.total_points
        if not with_indicators:
            return
        for indicator_id, max_points in Indicator.objects.filter(
            indicator_set=indicator_set
        ).values_list("pk", "max_points"):
            self.max_points[indicator_id] = max_points
        for province_id, indicator_id, points in Score.objects.filter(
            assessment__year=year
        ).values_list("assessment__province_id", "indicator_id", "points"):
            self.points[province_id][indicator_id] = points

    def standings(
        self, provinces: Sequence[Province], predecessors: Mapping[int, Sequence[Province]]
    ) -> dict[int | str, dict[int, Result]]:
        """{DTI or indicator id: {province id: Result}} for ``provinces``, ranked among them."""
        collected: dict[int, tuple[dict[int | str, Decimal], tuple[str, ...]]] = {}
        for province in provinces:
            found = self._own_or_baseline(province, predecessors)
            if found is not None:
                collected[province.pk] = found
        out: dict[int | str, dict[int, Result]] = {}
        for key, max_points in self.max_points.items():
            values = {
                province_id: value_of(points[key], max_points)
                for province_id, (points, _) in collected.items()
                if key in points
            }
            ranks = competition_ranks(values)
            out_of = sum(1 for v in values.values() if v is not None)
            out[key] = {
                province_id: Result(
                    points=collected[province_id][0][key],
                    value=values[province_id],
                    rank=ranks[province_id],
                    out_of=out_of,
                    averaged=collected[province_id][1],
                )
                for province_id in values
            }
        return out

    def _own_or_baseline(
        self, province: Province, predecessors: Mapping[int, Sequence[Province]]
    ) -> tuple[dict[int | str, Decimal], tuple[str, ...]] | None:
        if province.pk in self.points:
            return self.points[province.pk], ()
        formers = predecessors.get(province.pk, ())
        parts = [self._own_or_baseline(former, predecessors) for former in formers]
        # The ministry's baseline averages every former province; with one missing, an average
        # of the others would be a different number, so there is none.
        if not parts or any(part is None for part in parts):
            return None
        found = [part for part in parts if part is not None]
        keys = {key for points, _ in found for key in points}
        averaged: dict[int | str, Decimal] = {}
        for key in keys:
            given = [points[key] for points, _ in found if key in points]
            averaged[key] = sum(given, Decimal("0")) / len(given)
        # A baseline of baselines (a later merger of merged provinces) names its leaves.
        names = tuple(
            name
            for former, (_, leaf_names) in zip(formers, found, strict=True)
            for name in (leaf_names or (former.name,))
        )
        return averaged, names


def _province_map() -> tuple[list[Province], dict[int, list[Province]]]:
    provinces = list(Province.objects.all())
    predecessors: dict[int, list[Province]] = defaultdict(list)
    for province in provinces:
        if province.successor_id:
            predecessors[province.successor_id].append(province)
    return provinces, predecessors


def _existing_on(provinces: Iterable[Province], day: dt.date) -> list[Province]:
    return [p for p in provinces if p.exists_on(day)]


# --- Year over year ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One line of the year-over-year table: the DTI (``indicator`` None) or an indicator."""

    indicator: Indicator | None
    now: Result | None
    before: Result | None

    @property
    def points_change(self) -> Decimal | None:
        if self.now is None or self.before is None:
            return None
        return (self.now.points - self.before.points).quantize(TWO_PLACES, ROUND_HALF_UP)

    @property
    def value_change(self) -> Decimal | None:
        if self.now is None or self.before is None:
            return None
        if self.now.value is None or self.before.value is None:
            return None
        return self.now.value - self.before.value

    @property
    def rank_change(self) -> int | None:
        """Places climbed (positive) or lost (negative)."""
        if self.now is None or self.before is None:
            return None
        if self.now.rank is None or self.before.rank is None:
            return None
        return self.before.rank - self.now.rank


@dataclass(frozen=True)
class YearOverYear:
    assessment: Assessment
    previous_year: int
    changes: list[Change] = field(default_factory=list)

    @property
    def has_previous(self) -> bool:
        return bool(self.changes) and self.changes[0].before is not None


def year_over_year(*, assessment: Assessment) -> YearOverYear:
    """The change in points, value and rank of the DTI and of each main and component indicator
    since the previous year.

    The previous year is seen through this year's provinces: a merged province is compared with
    its baseline (the average of its former provinces), and last year's rank is its rank among
    this year's provinces, so that a 2025 rank among 34 is compared with a 2024 rank among the
    same 34, as the ministry published both. Indicators are compared only when both years were
    assessed under the same set (a code in another set is another indicator).
    """
    year, province_id = assessment.year, assessment.province_id
    provinces, predecessors = _province_map()
    this_years = _existing_on(provinces, assessment_reference_date(year))
    now = YearResults(year).standings(this_years, predecessors)
    previous = YearResults(year - 1)
    before = previous.standings(this_years, predecessors)
    same_set = getattr(previous, "indicator_set", None) == assessment.indicator_set

    changes = [Change(None, now[DTI].get(province_id), before.get(DTI, {}).get(province_id))]
    indicators = Indicator.objects.filter(indicator_set=assessment.indicator_set).select_related(
        "parent"
    )
    for indicator in indicators.order_by("sort_key"):
        current = now.get(indicator.pk, {}).get(province_id)
        earlier = before.get(indicator.pk, {}).get(province_id) if same_set else None
        if current is None and earlier is None:
            continue
        changes.append(Change(indicator, current, earlier))
    return YearOverYear(assessment=assessment, previous_year=year - 1, changes=changes)


# --- A province's history --------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryYear:
    year: int
    framework: str
    result: Result | None
    former: list[tuple[Province, Result]]


def province_history(*, province: Province) -> list[HistoryYear]:
    """The province's DTI by year, newest first. For a merged province, the years before it
    existed show its baseline (the average of its former provinces, ranked among the provinces
    of the day it started, as the ministry did for DTI 2024) and each former province's own
    result, ranked among the provinces of that year."""
    provinces, predecessors = _province_map()
    formers = _all_former(province, predecessors)
    ids = [province.pk, *(p.pk for p in formers)]
    years = sorted(
        set(Assessment.objects.filter(province_id__in=ids).values_list("year", flat=True)),
        reverse=True,
    )
    history = []
    for year in years:
        results = YearResults(year, with_indicators=False)
        day = assessment_reference_date(year)
        if not province.exists_on(day) and province.valid_from and province.valid_from > day:
            day = province.valid_from
        lens = results.standings(_existing_on(provinces, day), predecessors)[DTI]
        own_year = results.standings(
            _existing_on(provinces, assessment_reference_date(year)), predecessors
        )[DTI]
        history.append(
            HistoryYear(
                year=year,
                framework=results.indicator_set.code,
                result=lens.get(province.pk),
                former=[(p, own_year[p.pk]) for p in formers if p.pk in own_year],
            )
        )
    return history


def _all_former(
    province: Province, predecessors: Mapping[int, Sequence[Province]]
) -> list[Province]:
    found = []
    for former in predecessors.get(province.pk, ()):
        found.append(former)
        found.extend(_all_former(former, predecessors))
    return sorted(found, key=lambda p: p.name)


# --- Trend: a province's DTI and main indicators against the provinces' mean -----------------


@dataclass(frozen=True)
class IndicatorTrend:
    """One main indicator in one year: the province's value and the mean value of the provinces
    loaded that year (their own results, not merged-province baselines)."""

    indicator: Indicator
    value: Decimal | None
    mean: Decimal | None


@dataclass(frozen=True)
class TrendYear:
    year: int
    framework: str
    dti: Result | None
    dti_mean: Decimal | None
    indicators: list[IndicatorTrend]


def _mean(values: Iterable[Decimal | None]) -> Decimal | None:
    given = [v for v in values if v is not None]
    if not given:
        return None
    return (sum(given, Decimal("0")) / len(given)).quantize(FOUR_PLACES, ROUND_HALF_UP)


def province_trend(*, province: Province, until_year: int | None = None) -> list[TrendYear]:
    """The province's DTI value and rank by year, oldest first, and each main indicator's value
    against the mean of the provinces loaded that year.

    Ranks and merged-province baselines follow ``province_history`` (a year before the province
    existed shows the average of its former provinces, ranked among the provinces of the day it
    started). Three queries per year plus two: the cost grows with years, never with tasks.
    """
    provinces, predecessors = _province_map()
    formers = _all_former(province, predecessors)
    ids = [province.pk, *(p.pk for p in formers)]
    years = Assessment.objects.filter(province_id__in=ids)
    if until_year is not None:
        years = years.filter(year__lte=until_year)
    trend = []
    for year in sorted(set(years.values_list("year", flat=True))):
        results = YearResults(year)
        day = assessment_reference_date(year)
        if not province.exists_on(day) and province.valid_from and province.valid_from > day:
            day = province.valid_from
        standings = results.standings(_existing_on(provinces, day), predecessors)
        own = {
            key: {
                province_id: value_of(points[key], max_points)
                for province_id, points in results.points.items()
                if key in points
            }
            for key, max_points in results.max_points.items()
        }
        mains = Indicator.objects.main().filter(
            indicator_set=results.indicator_set, scored=True, max_points__gt=0
        )
        lines = []
        for indicator in mains.order_by("sort_key"):
            result = standings.get(indicator.pk, {}).get(province.pk)
            lines.append(
                IndicatorTrend(
                    indicator=indicator,
                    value=result.value if result else None,
                    mean=_mean(own.get(indicator.pk, {}).values()),
                )
            )
        trend.append(
            TrendYear(
                year=year,
                framework=results.indicator_set.code,
                dti=standings[DTI].get(province.pk),
                dti_mean=_mean(own[DTI].values()),
                indicators=lines,
            )
        )
    return trend

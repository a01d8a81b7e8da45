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
    IndicatorSet,
    Province,
    PublishedResult,
    RuleInForce,
    Score,
    assessment_reference_date,
    ranking_days,
    rules_in_force,
    set_in_force,
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


def _published_values(assessments: Iterable[Assessment]) -> dict[tuple[int, int | str], Decimal]:
    """{(assessment id, DTI or indicator id): the published value} in each year's own ranking."""
    by_key = {(a.province_id, a.year): a.pk for a in assessments}
    if not by_key:
        return {}
    rows = (
        PublishedResult.objects.of_assessments()
        .filter(
            year__in={year for _p, year in by_key},
            province_id__in={province_id for province_id, _y in by_key},
            pillar="",
            value__isnull=False,
        )
        .values_list("province_id", "year", "indicator_id", "value")
    )
    found: dict[tuple[int, int | str], Decimal] = {}
    for province_id, year, indicator_id, value in rows:
        assessment_id = by_key.get((province_id, year))
        if assessment_id is not None:
            found[(assessment_id, indicator_id or DTI)] = value
    return found


@transaction.atomic
def assessments_refresh(*, assessment_ids: Iterable[int]) -> None:
    """Recompute what is stored from an assessment's scores: each main indicator's points as the
    sum of its components when component scores are given, every score's value, and the
    assessment's total and DTI value. Writes only what changed; a constant number of queries
    whatever the number of assessments.

    A value is computed (points / max points) whenever the points and the max are known; where
    either is not (the ministry published only values), the published value is the value, never
    a number made up from the others.
    """
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
    published = _published_values(assessments.values())

    to_create: list[Score] = []
    to_update: dict[int, Score] = {}  # by id: a score changed twice is written once
    changed_assessments: list[Assessment] = []
    for assessment_id, assessment in assessments.items():
        own = scores[assessment_id]
        component_points: dict[int, list[Decimal | None]] = defaultdict(list)
        for indicator_id, score in own.items():
            parent_id = indicators[indicator_id].parent_id
            if parent_id is not None:
                component_points[parent_id].append(score.points)
        for main_id, given in component_points.items():
            if any(points is None for points in given):
                continue  # components known by their values only: no sum to take
            total = sum((points for points in given if points is not None), Decimal("0"))
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
        for indicator_id, score in own.items():
            value = computed_value(score.points, indicators[indicator_id].max_points)
            if value is None and (
                score.points is None or indicators[indicator_id].max_points is None
            ):
                value = published.get((assessment_id, indicator_id))
            if score.value != value:
                score.value = value
                if score.pk:
                    to_update[score.pk] = score
        counted = [
            score.points
            for indicator_id, score in own.items()
            if _counts_in_total(indicators[indicator_id])
        ]
        points: Decimal | None = None
        if all(p is not None for p in counted) and (
            counted or (assessment_id, DTI) not in published
        ):
            points = sum((p for p in counted if p is not None), Decimal("0"))
        value = (
            value_of(points, assessment.indicator_set.total_points)
            if points is not None
            else published.get((assessment_id, DTI))
        )
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


def computed_value(points: Decimal | None, max_points: Decimal | None) -> Decimal | None:
    """``value_of`` when both are known; None when either is not."""
    if points is None or max_points is None:
        return None
    return value_of(points, max_points)


def _counts_in_total(indicator: Indicator) -> bool:
    return (
        indicator.parent_id is None
        and indicator.scored
        and (indicator.max_points is None or indicator.max_points > 0)
    )


def average_value(values: Sequence[Decimal]) -> Decimal:
    """The ministry's figure for a merged province from its former provinces' published
    values: their average, to 4 decimals, half up (DTI 2024, 34-province ranking)."""
    return (sum(values, Decimal("0")) / len(values)).quantize(FOUR_PLACES, ROUND_HALF_UP)


# --- Standings: own results and merged-province baselines, ranked ------------------------------


@dataclass(frozen=True)
class Result:
    """A province's points, value and rank on the DTI or on one indicator, in one year and one
    ranking, with the ministry's published value and rank beside them when imported.

    ``points`` is empty when only values are known. ``averaged`` names the former provinces
    whose results were averaged into this one (a merged province's baseline for a year before
    it existed); empty for a province's own result.
    """

    points: Decimal | None
    value: Decimal | None
    rank: int | None = None
    out_of: int = 0
    averaged: tuple[str, ...] = ()
    published_value: Decimal | None = None
    published_rank: int | None = None
    ranking: int = 0  # how many provinces the ranking has (63, 34)

    @property
    def is_baseline(self) -> bool:
        return bool(self.averaged)

    @property
    def official_value(self) -> Decimal | None:
        return self.published_value if self.published_value is not None else self.value

    @property
    def official_rank(self) -> int | None:
        return self.published_rank if self.published_rank is not None else self.rank

    @property
    def official_out_of(self) -> int:
        """Out of how many: the whole ranking for a published rank, else the provinces loaded."""
        return self.ranking if self.published_rank is not None else self.out_of

    @property
    def differs(self) -> bool:
        """The published value differs from dtiplan's beyond rounding (0.0001: averaging
        exact values and rounding once may differ in the last digit from averaging published
        ones), or the published rank differs from the rank computed among a complete ranking."""
        if (
            self.published_value is not None
            and self.value is not None
            and abs(self.published_value - self.value) > FOUR_PLACES
        ):
            return True
        return bool(
            self.published_rank is not None
            and self.rank is not None
            and self.out_of == self.ranking
            and self.published_rank != self.rank
        )


_Pair = tuple[Decimal | None, Decimal | None]  # (points, value)


class YearResults:
    """Every result of one assessment year, loaded in four queries, and ranked for any list of
    provinces: the year's own provinces, or the provinces of a later year (a merged province then
    gets the baseline the ministry computed: the average of its former provinces)."""

    def __init__(self, year: int, *, with_indicators: bool = True) -> None:
        self.year = year
        self.assessments = {
            a.province_id: a
            for a in Assessment.objects.filter(year=year).select_related("indicator_set")
        }
        self.results: dict[int, dict[int | str, _Pair]] = {
            province_id: {DTI: (a.points, a.value)} for province_id, a in self.assessments.items()
        }
        self.max_points: dict[int | str, Decimal | None] = {}
        # {(ranking, province id, DTI or indicator id): (published value, published rank)}
        self.published: dict[tuple[int, int, int | str], tuple[Decimal | None, int | None]] = {}
        published = PublishedResult.objects.filter(year=year, pillar="")
        if not with_indicators:
            published = published.filter(indicator__isnull=True)
        for ranking, province_id, indicator_id, value, rank in published.values_list(
            "ranking", "province_id", "indicator_id", "value", "rank"
        ):
            self.published[(ranking, province_id, indicator_id or DTI)] = (value, rank)
        if not self.assessments:
            self.indicator_set = IndicatorSet.objects.for_year(year)
            return
        # Every assessment of a year is under the year's one set (checked on import).
        indicator_set = next(iter(self.assessments.values())).indicator_set
        self.indicator_set: IndicatorSet | None = indicator_set
        self.max_points[DTI] = indicator_set.total_points
        if not with_indicators:
            return
        for indicator_id, max_points in Indicator.objects.filter(
            indicator_set=indicator_set
        ).values_list("pk", "max_points"):
            self.max_points[indicator_id] = max_points
        for province_id, indicator_id, points, value in Score.objects.filter(
            assessment__year=year
        ).values_list("assessment__province_id", "indicator_id", "points", "value"):
            self.results[province_id][indicator_id] = (points, value)

    def standings(
        self, provinces: Sequence[Province], predecessors: Mapping[int, Sequence[Province]]
    ) -> dict[int | str, dict[int, Result]]:
        """{DTI or indicator id: {province id: Result}} for ``provinces``, ranked among them,
        with the published value and rank of the ranking of that many provinces."""
        ranking = len(provinces)
        collected: dict[int, tuple[dict[int | str, _Pair], tuple[str, ...]]] = {}
        for province in provinces:
            found = self._own_or_baseline(province, predecessors)
            if found is not None:
                collected[province.pk] = found
        out: dict[int | str, dict[int, Result]] = {}
        keys = [DTI, *(key for key in self.max_points if key != DTI)]
        for key in keys:
            pairs = {
                province_id: results[key]
                for province_id, (results, _names) in collected.items()
                if key in results
            }
            values = {province_id: pair[1] for province_id, pair in pairs.items()}
            ranks = competition_ranks(values)
            out_of = sum(1 for v in values.values() if v is not None)
            out[key] = {}
            for province_id, (points, value) in pairs.items():
                official = self.published.get((ranking, province_id, key), (None, None))
                out[key][province_id] = Result(
                    points=points,
                    value=value,
                    rank=ranks[province_id],
                    # A rank is compared with the published one only in a complete ranking.
                    out_of=out_of,
                    averaged=collected[province_id][1],
                    published_value=official[0],
                    published_rank=official[1],
                    ranking=ranking,
                )
            for province in provinces:
                official = self.published.get((ranking, province.pk, key))
                if official is not None and province.pk not in out[key]:
                    # Published, but dtiplan has nothing to compute it from (e.g. a merged
                    # province whose former provinces' results are not loaded).
                    out[key][province.pk] = Result(
                        points=None,
                        value=None,
                        out_of=out_of,
                        published_value=official[0],
                        published_rank=official[1],
                        ranking=ranking,
                    )
        return out

    def _own_or_baseline(
        self, province: Province, predecessors: Mapping[int, Sequence[Province]]
    ) -> tuple[dict[int | str, _Pair], tuple[str, ...]] | None:
        if province.pk in self.results:
            return self.results[province.pk], ()
        formers = predecessors.get(province.pk, ())
        parts = [self._own_or_baseline(former, predecessors) for former in formers]
        # The ministry's baseline averages every former province; with one missing, an average
        # of the others would be a different number, so there is none.
        if not parts or any(part is None for part in parts):
            return None
        found = [part for part in parts if part is not None]
        averaged: dict[int | str, _Pair] = {}
        for key, max_points in self.max_points.items():
            given = [results[key] for results, _names in found if key in results]
            if len(given) != len(found):
                continue  # a former province without this result: no average of it
            averaged[key] = _average(given, max_points)
        # A baseline of baselines (a later merger of merged provinces) names its leaves.
        names = tuple(
            name
            for former, (_, leaf_names) in zip(formers, found, strict=True)
            for name in (leaf_names or (former.name_in_year(self.year),))
        )
        return averaged, names


def _average(given: Sequence[_Pair], max_points: Decimal | None) -> _Pair:
    """The average of the former provinces' results: of their points when every one is known
    (the value then follows from the exact average, rounded once), else of their values."""
    points = [p for p, _v in given if p is not None]
    if len(points) == len(given):
        average = sum(points, Decimal("0")) / len(points)
        value = computed_value(average, max_points)
        if value is not None:
            return average, value
    values = [v for _p, v in given if v is not None]
    average_points = sum(points, Decimal("0")) / len(points) if len(points) == len(given) else None
    if len(values) != len(given):
        return average_points, None
    return average_points, average_value(values)


def _province_map() -> tuple[list[Province], dict[int, list[Province]]]:
    provinces = list(Province.objects.all())
    predecessors: dict[int, list[Province]] = defaultdict(list)
    for province in provinces:
        if province.successor_id:
            predecessors[province.successor_id].append(province)
    return provinces, predecessors


def _existing_on(provinces: Iterable[Province], day: dt.date) -> list[Province]:
    return [p for p in provinces if p.exists_on(day)]


# --- Both rankings of a year, and where they differ from the published ones ---------------------


@dataclass(frozen=True)
class RankingRow:
    """One province in one ranking of one year: on the DTI (``indicator`` None) or on an
    indicator, under its name on the ranking's day (Thừa Thiên Huế in the 63 ranking of 2024,
    Huế in the 34), with dtiplan's result and the published one."""

    province: Province
    name: str
    year: int
    framework: str
    ranking: int
    indicator: Indicator | None
    result: Result

    @property
    def averaged_from(self) -> str:
        return "; ".join(self.result.averaged)


def year_rankings(
    *, year: int, with_indicators: bool = False, results: YearResults | None = None
) -> list[RankingRow]:
    """Every ranking of ``year``: the year's own provinces (the 63 up to 2024), then each later
    set of provinces (the 34 of 1 July 2025), where a merged province stands for the average of
    its former provinces, as the ministry published DTI 2024. Best first in each ranking. The
    assessment export, the differences page and the trend report read the same standings."""
    results = results or YearResults(year, with_indicators=with_indicators)
    if results.indicator_set is None:
        return []
    provinces, predecessors = _province_map()
    indicators: dict[int | str, Indicator | None] = {DTI: None}
    if with_indicators:
        indicators.update(
            (i.pk, i)
            for i in Indicator.objects.filter(indicator_set=results.indicator_set).order_by(
                "sort_key"
            )
        )
    rows: list[RankingRow] = []
    for size, day in ranking_days(year, provinces).items():
        ranked = _existing_on(provinces, day)
        by_id = {p.pk: p for p in ranked}
        standings = results.standings(ranked, predecessors)
        for key, indicator in indicators.items():
            found = standings.get(key, {})
            order = sorted(
                found.items(),
                key=lambda item: (
                    item[1].official_rank or size + 1,
                    by_id[item[0]].name_on(day),
                ),
            )
            rows.extend(
                RankingRow(
                    province=by_id[province_id],
                    name=by_id[province_id].name_on(day),
                    year=year,
                    framework=results.indicator_set.code,
                    ranking=size,
                    indicator=indicator,
                    result=result,
                )
                for province_id, result in order
            )
    return rows


def published_differences(*, years: Iterable[int] | None = None) -> list[RankingRow]:
    """The published values and ranks that differ from what dtiplan computes beyond rounding
    (``Result.differs``), for a coordinator to look at rather than one silently preferred."""
    if years is None:
        years = PublishedResult.objects.values_list("year", flat=True).distinct()
    rows: list[RankingRow] = []
    for year in sorted(set(years), reverse=True):
        rows.extend(
            row for row in year_rankings(year=year, with_indicators=True) if row.result.differs
        )
    return rows


# --- Which set and which weakness rule a year is read under ------------------------------------


@dataclass(frozen=True)
class YearReading:
    """What a year's results are read under: its indicator set and its weakness rule."""

    year: int
    indicator_set: IndicatorSet | None
    rule: RuleInForce

    @property
    def set_label(self) -> str:
        if self.indicator_set is None:
            return ""
        return f"{self.indicator_set.code} ({self.indicator_set.decision})"


def years_read_under(years: Iterable[int]) -> list[YearReading]:
    """For each year, newest first, the set its results were scored under and the weakness
    rule in force (``rules_in_force``): what every weak list, report and export names."""
    years = sorted(set(years), reverse=True)
    sets = list(IndicatorSet.objects.all())
    rules = rules_in_force(years)
    return [YearReading(year, set_in_force(sets, year), rules[year]) for year in years]


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
        if self.now.points is None or self.before.points is None:
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
    started). Five queries per year plus two: the cost grows with years, never with tasks.
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
                province_id: pairs[key][1]
                for province_id, pairs in results.results.items()
                if key in pairs
            }
            for key in results.max_points
        }
        mains = (
            Indicator.objects.main()
            .filter(indicator_set=results.indicator_set, scored=True)
            .exclude(max_points=0)
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

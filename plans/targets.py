"""Where a plan's province stands against the plan's targets, and what it takes to reach them.

Read from the latest published results (``indicators.services.year_rankings``: the ministry's
value and rank where published, dtiplan's computed ones otherwise). Every year with results is
loaded once for all targets, so the queries grow with the years loaded, never with the plans
or targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from indicators.models import Assessment, Score
from indicators.services import Result, YearResults, year_rankings
from plans.models import Plan, Target, TargetKind
from plans.owners import Owners, owners_for

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Position:
    """The province in one year's ranking, on the measure a target names."""

    year: int
    ranking: int
    value: Decimal | None
    points: Decimal | None
    rank: int | None
    out_of: int
    in_top: int | None = None  # main indicators in the target's top M

    def measure(self, kind: str) -> Decimal | int | None:
        return {
            TargetKind.POINTS: self.points,
            TargetKind.VALUE: self.value,
            TargetKind.RANK: self.rank,
            TargetKind.MAIN_IN_TOP: self.in_top,
        }[kind]


@dataclass
class WeakLine:
    """A weak indicator of the latest assessment and the points it could still win."""

    score: Score
    recoverable: Decimal | None
    owners: Owners | None


@dataclass
class TargetLine:
    target: Target
    latest: Position | None
    trend: list[Position]  # the earlier years, oldest first
    # Rank target: the value of the province now at the target rank.
    rival_name: str = ""
    rival_value: Decimal | None = None
    weak: list[WeakLine] = field(default_factory=list)

    @property
    def current(self) -> Decimal | int | None:
        return self.latest.measure(self.target.kind) if self.latest else None

    @property
    def trend_measures(self) -> list[tuple[int, Decimal | int | None]]:
        """(year, the target's measure) for the earlier years, oldest first."""
        return [(p.year, p.measure(self.target.kind)) for p in self.trend]

    @property
    def gap(self) -> Decimal | int | None:
        """How far from the target (zero or less: reached): points, value or main indicators
        still missing, or places to climb."""
        current = self.current
        if current is None:
            return None
        target = self.target
        if target.kind == TargetKind.POINTS:
            return target.points - current
        if target.kind == TargetKind.VALUE:
            return target.value - current
        if target.kind == TargetKind.RANK:
            return current - target.rank
        return target.count - current

    @property
    def reached(self) -> bool:
        gap = self.gap
        return gap is not None and gap <= 0

    @property
    def value_needed(self) -> Decimal | None:
        """The DTI value still to gain: to the target value, the target points, or the value of
        the province now at the target rank (it must at least be matched)."""
        if self.latest is None or self.latest.value is None:
            return None
        kind = self.target.kind
        if kind == TargetKind.VALUE:
            goal = self.target.value
        elif kind == TargetKind.POINTS:
            goal = self.target.points / 1000
        elif kind == TargetKind.RANK:
            goal = self.rival_value
        else:
            return None
        if goal is None:
            return None
        return max(goal - self.latest.value, Decimal("0"))

    @property
    def points_needed(self) -> Decimal | None:
        """The value needed in points of the 1,000 the DTI is computed over."""
        needed = self.value_needed
        return None if needed is None else (needed * 1000).quantize(TWO_PLACES)


def _position(
    year: int,
    ranking: int,
    own: Result,
    indicator_ranks: list[int | None],
    top: int | None,
    total_points: Decimal,
) -> Position:
    points = own.points
    value = own.official_value
    if points is None and value is not None:
        # DTI = points / the set's total: a value-only year (DTI 2024) still has its points.
        points = (value * total_points).quantize(TWO_PLACES)
    in_top = None
    if top is not None and any(rank is not None for rank in indicator_ranks):
        in_top = sum(1 for rank in indicator_ranks if rank is not None and rank <= top)
    return Position(
        year=year,
        ranking=ranking,
        value=value,
        points=points,
        rank=own.official_rank,
        out_of=own.official_out_of,
        in_top=in_top,
    )


def target_lines(*, plans: Iterable[Plan], with_weak: bool = False) -> list[TargetLine]:
    """One line per target of ``plans`` (with a province): the latest position, the trend and,
    with ``with_weak``, the weak indicators of the latest assessment, most recoverable points
    first, with their owners in the plan."""
    plans = [p for p in plans if p.province_id]
    targets = [t for plan in plans for t in plan.targets.all()]
    if not targets:
        return []
    years = sorted(set(Assessment.objects.values_list("year", flat=True)))
    with_indicators = any(t.kind == TargetKind.MAIN_IN_TOP for t in targets)
    # {(year, ranking)}: {province id: (name, DTI result)}, and main-indicator ranks.
    dti: dict[tuple[int, int], dict[int, tuple[str, Result]]] = {}
    mains: dict[tuple[int, int, int], list[int | None]] = {}
    totals: dict[int, Decimal] = {}
    for year in years:
        results = YearResults(year, with_indicators=with_indicators)
        if results.indicator_set is None:
            continue
        totals[year] = results.indicator_set.total_points
        for row in year_rankings(year=year, with_indicators=with_indicators, results=results):
            if row.indicator is None:
                dti.setdefault((year, row.ranking), {})[row.province.pk] = (row.name, row.result)
            elif row.indicator.parent_id is None and row.indicator.scored:
                mains.setdefault((year, row.ranking, row.province.pk), []).append(
                    row.result.official_rank
                )
    lines: list[TargetLine] = []
    for plan in plans:
        for target in plan.targets.all():
            positions = []
            for year in years:
                found = dti.get((year, target.ranking), {}).get(plan.province_id)
                if found is None or year not in totals:
                    continue
                positions.append(
                    _position(
                        year,
                        target.ranking,
                        found[1],
                        mains.get((year, target.ranking, plan.province_id), []),
                        target.rank if target.kind == TargetKind.MAIN_IN_TOP else None,
                        totals[year],
                    )
                )
            line = TargetLine(
                target=target,
                latest=positions[-1] if positions else None,
                trend=positions[:-1],
            )
            if line.latest is not None and target.kind == TargetKind.RANK:
                ranked = dti[(line.latest.year, target.ranking)]
                rival = min(
                    (
                        (result.official_rank, name, result.official_value)
                        for name, result in ranked.values()
                        if result.official_rank is not None and result.official_rank <= target.rank
                    ),
                    key=lambda item: (-item[0], item[1]),
                    default=None,
                )
                if rival is not None:
                    line.rival_name, line.rival_value = rival[1], rival[2]
            lines.append(line)
    if with_weak:
        _attach_weak(plans, lines)
    return lines


def _attach_weak(plans: list[Plan], lines: list[TargetLine]) -> None:
    """The weak indicators of each plan's latest assessment year: its province's, or for a
    merged province without results of its own, its former provinces' (a plan addresses
    both, ``plans.coverage.provinces_of``). One query per plan, then two."""
    latest: dict[int, list[int]] = {}
    for plan in plans:
        assessments = list(
            Assessment.objects.filter(
                Q(province_id=plan.province_id) | Q(province__successor_id=plan.province_id)
            ).values_list("pk", "year", "province_id")
        )
        own = [a for a in assessments if a[2] == plan.province_id]
        chosen = own or assessments
        year = max((a[1] for a in chosen), default=None)
        latest[plan.pk] = [a[0] for a in chosen if a[1] == year]
    scores = list(
        Score.objects.weak()
        .filter(assessment_id__in=[pk for pks in latest.values() for pk in pks])
        .select_related("indicator", "assessment__province")
    )
    owners = owners_for([plan.pk for plan in plans], [score.indicator for score in scores])
    for line in lines:
        plan = line.target.plan
        weak = []
        for score in scores:
            if score.assessment_id not in latest.get(plan.pk, ()):
                continue
            most = score.indicator.max_points
            recoverable = (
                most - score.points if most is not None and score.points is not None else None
            )
            weak.append(WeakLine(score, recoverable, owners.get((plan.pk, score.indicator_id))))
        # Most recoverable points first; those known only by value (no max points) last.
        weak.sort(
            key=lambda w: (
                w.recoverable is None,
                -(w.recoverable or 0),
                w.score.indicator.sort_key,
                w.score.assessment.province.name,
            )
        )
        line.weak = weak

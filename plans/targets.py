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

from indicators.models import Assessment, Indicator, Province, Score
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
    # The recoverable points of this line and every line above it (None past the lines whose
    # recoverable points are known), and whether this is the line where they first cover the
    # points still needed: the lines down to it are the smallest set that would suffice.
    running_total: Decimal | None = None
    closes_gap: bool = False


@dataclass
class MainLine:
    """A main indicator under a "main indicators in the top M" target: the province's official
    value and rank on it in the latest ranking, and the province at rank M on it (the value to
    match, ``_at_rank``)."""

    indicator: Indicator
    value: Decimal | None
    rank: int | None
    in_top: bool
    rival_name: str = ""
    rival_value: Decimal | None = None
    weak: list[WeakLine] = field(default_factory=list)  # its weak components
    order: int | None = None  # its place among the cheapest to bring into the top M

    @property
    def gap(self) -> Decimal | None:
        """The value still to gain on it to match the province at rank M (zero in the top);
        None when either value is unknown."""
        if self.in_top:
            return Decimal("0")
        if self.value is None or self.rival_value is None:
            return None
        return max(self.rival_value - self.value, Decimal("0"))


@dataclass
class TargetLine:
    target: Target
    latest: Position | None
    trend: list[Position]  # the earlier years, oldest first
    # Rank target: the value of the province now at the target rank.
    rival_name: str = ""
    rival_value: Decimal | None = None
    weak: list[WeakLine] = field(default_factory=list)
    # How many provinces' results the weak indicators' province stands for: a merged province
    # without results of its own is the average of its former provinces (the ministry's
    # baseline), so a point won on one of them moves it by a share of a point.
    averaged_over: int = 1
    # Main indicators in the top: every scored main indicator of the latest ranking.
    mains: list[MainLine] = field(default_factory=list)

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

    @property
    def weak_total(self) -> Decimal:
        """The running total at the end: every weak indicator's recoverable points (known)."""
        totals = [w.running_total for w in self.weak if w.running_total is not None]
        return totals[-1] if totals else Decimal("0")

    @property
    def closes_gap(self) -> bool:
        return any(w.closes_gap for w in self.weak)

    @property
    def mains_to_bring_in(self) -> list[MainLine]:
        """The main indicators chosen to bring into the top M (``_choose_mains``), in order."""
        return sorted((m for m in self.mains if m.order), key=lambda m: m.order or 0)


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


def _at_rank(ranked: Iterable[tuple[str, Result]], rank: int) -> tuple[str, Decimal | None]:
    """The province at ``rank`` (name, official value), or when a tie leaves that rank empty
    the last one above it: the value to match to rank ``rank`` or better. ("", None) when no
    province ranks within it."""
    found = min(
        (
            (result.official_rank, name, result.official_value)
            for name, result in ranked
            if result.official_rank is not None and result.official_rank <= rank
        ),
        key=lambda item: (-item[0], item[1]),
        default=None,
    )
    return ("", None) if found is None else (found[1], found[2])


# One ranking: {province id: (its name in the ranking, its result)}.
Ranked = dict[int, tuple[str, Result]]


@dataclass
class Standings:
    """The results of some years, in every ranking of each: the DTI, and with indicators every
    scored main indicator of the set (in code order), as ``year_rankings`` reads them."""

    dti: dict[tuple[int, int], Ranked] = field(default_factory=dict)
    mains: dict[tuple[int, int], dict[Indicator, Ranked]] = field(default_factory=dict)
    totals: dict[int, Decimal] = field(default_factory=dict)  # the set's total points


def results_years(until: int | None = None) -> list[int]:
    """The years with results, oldest first (up to ``until``)."""
    years = Assessment.objects.all()
    if until is not None:
        years = years.filter(year__lte=until)
    return sorted(set(years.values_list("year", flat=True)))


def standings_of(years: Iterable[int], *, with_indicators: bool) -> Standings:
    """Every ranking of ``years`` (``indicators.services.year_rankings``: the ministry's value
    and rank where published, dtiplan's computed ones otherwise)."""
    found = Standings()
    for year in years:
        results = YearResults(year, with_indicators=with_indicators)
        if results.indicator_set is None:
            continue
        found.totals[year] = results.indicator_set.total_points
        for row in year_rankings(year=year, with_indicators=with_indicators, results=results):
            key = (year, row.ranking)
            if row.indicator is None:
                found.dti.setdefault(key, {})[row.province.pk] = (row.name, row.result)
            elif row.indicator.parent_id is None and row.indicator.scored:
                ranked = found.mains.setdefault(key, {}).setdefault(row.indicator, {})
                ranked[row.province.pk] = (row.name, row.result)
        if with_indicators:
            # Every scored main indicator of the set, in code order, ranked or not.
            mains = list(
                results.indicator_set.indicators.filter(parent__isnull=True, scored=True).order_by(
                    "sort_key"
                )
            )
            for key in [key for key in found.dti if key[0] == year]:
                ranked_mains = found.mains.get(key, {})
                found.mains[key] = {i: ranked_mains.get(i, {}) for i in mains}
    return found


def _main_lines(mains: dict[Indicator, Ranked], province_id: int, top: int) -> list[MainLine]:
    lines = []
    for indicator, ranked in mains.items():
        own = ranked.get(province_id)
        value = own[1].official_value if own else None
        rank = own[1].official_rank if own else None
        line = MainLine(indicator, value, rank, in_top=rank is not None and rank <= top)
        if not line.in_top:
            line.rival_name, line.rival_value = _at_rank(ranked.values(), top)
        lines.append(line)
    return lines


def _choose_mains(line: TargetLine) -> None:
    """Numbers the main indicators outside the top M that are cheapest to bring in, smallest
    gap first, as many as are still missing; those without a gap (no value, or no province
    at rank M to compare with) cannot be counted on."""
    missing = line.gap
    if not missing or missing <= 0:
        return
    candidates = [m for m in line.mains if not m.in_top and m.gap is not None]
    candidates.sort(key=lambda m: (m.gap, m.indicator.sort_key))
    for order, main in enumerate(candidates[:missing], start=1):
        main.order = order


def target_lines(*, plans: Iterable[Plan], with_weak: bool = False) -> list[TargetLine]:
    """One line per target of ``plans`` (with a province): the latest position, the trend and,
    with ``with_weak``, the weak indicators of the latest assessment, most recoverable points
    first, with their owners in the plan and the running total that closes the gap."""
    plans = [p for p in plans if p.province_id]
    targets = [t for plan in plans for t in plan.targets.all()]
    if not targets:
        return []
    years = results_years()
    with_indicators = any(t.kind == TargetKind.MAIN_IN_TOP for t in targets)
    found = standings_of(years, with_indicators=with_indicators)
    lines: list[TargetLine] = []
    for plan in plans:
        for target in plan.targets.all():
            top = target.rank if target.kind == TargetKind.MAIN_IN_TOP else None
            positions = []
            for year in years:
                own = found.dti.get((year, target.ranking), {}).get(plan.province_id)
                if own is None or year not in found.totals:
                    continue
                mains = found.mains.get((year, target.ranking), {})
                ranks = [
                    ranked[plan.province_id][1].official_rank
                    for ranked in mains.values()
                    if plan.province_id in ranked
                ]
                positions.append(
                    _position(year, target.ranking, own[1], ranks, top, found.totals[year])
                )
            line = TargetLine(
                target=target,
                latest=positions[-1] if positions else None,
                trend=positions[:-1],
            )
            if line.latest is not None and target.kind == TargetKind.RANK:
                ranked = found.dti[(line.latest.year, target.ranking)]
                line.rival_name, line.rival_value = _at_rank(ranked.values(), target.rank)
            if line.latest is not None and top is not None:
                line.mains = _main_lines(
                    found.mains.get((line.latest.year, target.ranking), {}),
                    plan.province_id,
                    top,
                )
                _choose_mains(line)
            lines.append(line)
    if with_weak:
        _attach_weak(plans, lines)
    return lines


def _attach_weak(plans: list[Plan], lines: list[TargetLine]) -> None:
    """The weak indicators of each plan's latest assessment year: its province's, or for a
    merged province without results of its own, its former provinces' (a plan addresses
    both, ``plans.coverage.provinces_of``). One query per plan (two for a merged province),
    then two."""
    latest: dict[int, list[int]] = {}
    averaged: dict[int, int] = {}
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
        # A merged province's result is the average of every former province, loaded or not.
        formers = 0 if own else Province.objects.filter(successor_id=plan.province_id).count()
        averaged[plan.pk] = max(formers, 1)
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
        line.averaged_over = averaged.get(plan.pk, 1)
        _accumulate(weak, line.points_needed, line.averaged_over)
        for main in line.mains:
            main.weak = [w for w in weak if w.score.main_indicator_id == main.indicator.pk]


def _accumulate(weak: list[WeakLine], needed: Decimal | None, averaged_over: int) -> None:
    """The running total of recoverable points down the list, and the line where it first
    covers ``needed`` (none when nothing is needed or the whole list falls short). A point won
    on one of the former provinces whose average a merged province's result is counts for a
    share of a point."""
    total = Decimal("0")
    closed = not needed or needed <= 0
    for line in weak:
        if line.recoverable is None:
            break
        total += line.recoverable / averaged_over
        line.running_total = total.quantize(TWO_PLACES)
        if not closed and total >= needed:
            line.closes_gap = closed = True


@dataclass(frozen=True)
class ProjectedRank:
    """Where a DTI value would rank among the other provinces' results of ``year``."""

    rank: int
    out_of: int
    year: int
    ranking: int


def projected_rank(*, value: Decimal, province_id: int, year: int) -> ProjectedRank | None:
    """The rank ``value`` would take among the other provinces' latest official DTI values (as
    the targets read them, ``standings_of``) in the ranking of the provinces ``year`` scores
    (the 34 from 2025): from the latest year up to ``year`` that has that ranking. Equal
    values share a rank, as the ministry ranks. None when no year has results to compare."""
    ranking = Province.objects.for_assessment_year(year).count()
    for results_year in reversed(results_years(until=year)):
        ranked = standings_of([results_year], with_indicators=False).dti.get(
            (results_year, ranking), {}
        )
        others = [
            result.official_value
            for province, (_name, result) in ranked.items()
            if province != province_id and result.official_value is not None
        ]
        if others:
            return ProjectedRank(
                rank=1 + sum(1 for other in others if other > value),
                out_of=len(others) + 1,
                year=results_year,
                ranking=ranking,
            )
    return None

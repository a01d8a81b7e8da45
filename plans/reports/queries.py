"""Every figure of the reports, as functions of ``ReportFilters`` and ``now``.

Each function costs a fixed number of queries whatever the number of tasks, units or progress
reports: counts are ``Count(..., filter=Q(...))`` grouped in the database, and per-task facts
(the latest reason for a delay) are ``Subquery`` annotations. tests/test_reports.py holds each
page to the same count for 10 and for 5,000 tasks.

Definitions (docs/reports.md):
- a task counts when it is assigned: drafts and cancelled tasks are left out;
- completed: status completed; overdue: open (assigned or in progress, in a plan in force) with
  its deadline before today (``plans.models.task_overdue_q``: a closed plan's tasks are not
  overdue); in progress: everything else (on time, awaiting verification, or left open in a
  closed plan), so completed + in progress + overdue = total;
- percent complete: completed / total;
- points the plan targets: for each indicator a plan's tasks address, the points still to win
  (max points - points) in the plan's baseline, the latest results of the plan's province
  before the plan's year (a 2026 plan answers DTI 2025). A component is not counted again when
  the plan also addresses its main indicator.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce

from indicators.models import (
    Assessment,
    Indicator,
    Pillar,
    Province,
    Score,
    under_main_indicator_q,
)
from indicators.services import TrendYear, YearReading, province_trend, years_read_under
from plans.coverage import Coverage as CoverageState
from plans.coverage import attach_tasks, with_coverage
from plans.models import (
    Acknowledgement,
    CompletionSubmission,
    Decision,
    ExtensionRequest,
    IndicatorOwnerUnit,
    ItemStatus,
    OwnerRole,
    Plan,
    ProgressUpdate,
    SelfAssessmentItem,
    SelfAssessmentRound,
    Task,
    Unit,
    task_overdue_q,
)
from plans.reports.filters import ReportFilters, report_tasks

ZERO = Decimal("0")
TWO_PLACES = Decimal("0.01")


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"))


def _counts(now: dt.datetime) -> dict[str, Count]:
    """Total, completed and overdue; in progress is the rest (``_in_progress``), which costs the
    database no third test of every task."""
    return {
        "total": Count("pk"),
        "completed": Count("pk", filter=Q(status=Task.Status.COMPLETED)),
        "overdue": Count("pk", filter=task_overdue_q(now)),
    }


def _in_progress(row: dict[str, int]) -> int:
    """Neither completed nor overdue: completed + in progress + overdue = total."""
    return row["total"] - row["completed"] - row["overdue"]


# --- Overview --------------------------------------------------------------------------------


@dataclass
class ProgressLine:
    """One line of the overview: a main indicator, a pillar, or the total."""

    label: str
    total: int = 0
    completed: int = 0
    in_progress: int = 0
    overdue: int = 0
    points_targeted: Decimal = ZERO
    indicator: Indicator | None = None
    pillar: str = ""

    @property
    def percent_complete(self) -> Decimal | None:
        return _percent(self.completed, self.total)

    def add(self, other: ProgressLine) -> None:
        self.total += other.total
        self.completed += other.completed
        self.in_progress += other.in_progress
        self.overdue += other.overdue
        self.points_targeted += other.points_targeted


@dataclass
class Overview:
    indicators: list[ProgressLine]
    pillars: list[ProgressLine]
    total: ProgressLine


# What the overview groups the tasks by: each (plan, indicator) pair, with what the points
# targeted need to know of the plan. The indicator's main indicator is read with the indicators
# (``overview``): grouping by a column of a joined table makes the database join and hash every
# task for it, where the pairs are a few hundred rows.
PAIR = ("plan_id", "plan__province_id", "plan__year", "indicator_id")


def points_targeted(pairs: list[dict]) -> dict[int, Decimal]:
    """Main indicator id → the points the plans' tasks target under it (see the module's
    docstring). ``pairs``: the distinct (plan, indicator) pairs of the tasks (``PAIR``, with
    ``indicator__parent_id``). One query, for the pairs rather than for each task: the scores of
    the plans' provinces on the pairs' indicators, of which each pair takes the latest year
    before its plan's."""
    if not pairs:
        return {}
    scores = Score.objects.filter(
        indicator_id__in={p["indicator_id"] for p in pairs},
        assessment__province_id__in={p["plan__province_id"] for p in pairs},
        assessment__year__lt=max(p["plan__year"] for p in pairs),
    ).order_by("-assessment__year")
    # (province, indicator) → [(year, points to win or None)], the latest year first.
    history: dict[tuple[int, int], list[tuple[int, Decimal | None]]] = defaultdict(list)
    for province_id, indicator_id, year, max_points, points in scores.values_list(
        "assessment__province_id",
        "indicator_id",
        "assessment__year",
        "indicator__max_points",
        "points",
    ):
        to_win = None if max_points is None or points is None else max_points - points
        history[(province_id, indicator_id)].append((year, to_win))
    addressed = {(p["plan_id"], p["indicator_id"]) for p in pairs}
    out: dict[int, Decimal] = defaultdict(Decimal)
    for pair in pairs:
        parent = pair["indicator__parent_id"]
        if parent is not None and (pair["plan_id"], parent) in addressed:
            continue  # its main indicator's points already include it
        baseline = next(
            (
                to_win
                for year, to_win in history[(pair["plan__province_id"], pair["indicator_id"])]
                if year < pair["plan__year"]
            ),
            None,
        )
        if baseline is not None:
            out[parent or pair["indicator_id"]] += Decimal(baseline).quantize(TWO_PLACES)
    return out


def overview(*, filters: ReportFilters, now: dt.datetime) -> Overview:
    """Three queries: the counts per (plan, indicator) pair, read once for both the counts per
    main indicator and the points targeted; the pairs' indicators with their main indicators;
    the baseline scores. The tasks are read once, from their own table only."""
    pairs = list(report_tasks(filters).order_by().values(*PAIR).annotate(**_counts(now)))
    indicators = Indicator.objects.select_related("indicator_set", "parent__indicator_set").in_bulk(
        {p["indicator_id"] for p in pairs}
    )
    mains: dict[int, Indicator] = {}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_counts(now), 0))
    for pair in pairs:
        indicator = indicators[pair["indicator_id"]]
        pair["indicator__parent_id"] = indicator.parent_id
        main = indicator.parent or indicator
        mains[main.pk] = main
        for name in counts[main.pk]:
            counts[main.pk][name] += pair[name]
    targeted = points_targeted(pairs)
    lines = []
    for indicator in sorted(mains.values(), key=lambda i: (i.indicator_set.first_year, i.sort_key)):
        row = counts.get(indicator.pk, {})
        lines.append(
            ProgressLine(
                label=str(indicator),
                indicator=indicator,
                pillar=indicator.pillar,
                total=row.get("total", 0),
                completed=row.get("completed", 0),
                in_progress=_in_progress(row) if row else 0,
                overdue=row.get("overdue", 0),
                points_targeted=targeted.get(indicator.pk, ZERO),
            )
        )
    pillars = {
        value: ProgressLine(label=str(label), pillar=value) for value, label in Pillar.choices
    }
    unassigned = ProgressLine(label="–")
    total = ProgressLine(label="")
    for line in lines:
        pillars.get(line.pillar, unassigned).add(line)
        total.add(line)
    pillar_lines = [p for p in pillars.values() if p.total or p.points_targeted]
    if unassigned.total:
        pillar_lines.append(unassigned)
    return Overview(indicators=lines, pillars=pillar_lines, total=total)


# --- Units -----------------------------------------------------------------------------------


@dataclass
class UnitLine:
    unit: Unit
    lead: int = 0
    completed_on_time: int = 0
    completed_late: int = 0
    overdue: int = 0
    with_role: int = 0
    acknowledged: int = 0
    last_report_at: dt.datetime | None = None

    @property
    def acknowledged_share(self) -> Decimal | None:
        return _percent(self.acknowledged, self.with_role)


def units(*, filters: ReportFilters, now: dt.datetime) -> list[UnitLine]:
    """Per unit: tasks as lead, completed on time and late, overdue now, the share of the tasks
    where it holds any role that it acknowledged, and its last progress report. Four queries:
    three grouped ones, each reading the tasks once (as lead; other roles; acknowledged), then
    the units, each with its last report.

    Completed late: the approved completion was submitted after the deadline then in force
    (``CompletionSubmission.was_overdue``), so an approved extension counts as on time; a task
    completed without a verified submission (set in the admin) counts as on time.
    """
    tasks = report_tasks(filters).order_by()
    late = CompletionSubmission.objects.filter(
        task=OuterRef("pk"), status=Decision.APPROVED, was_overdue=True
    )
    completed = Q(status=Task.Status.COMPLETED)
    # Grouped by status too: the completed group is then known without a test of each task,
    # and PostgreSQL hashes the groups instead of walking the lead unit's index to each task.
    as_lead = (
        tasks.annotate(completed_late=Exists(late))
        .values("lead_unit_id", "status")
        .annotate(
            n=Count("pk"),
            late=Count("pk", filter=completed & Q(completed_late=True)),
            overdue=Count("pk", filter=task_overdue_q(now)),
        )
    )
    lines: dict[int, UnitLine] = {}

    def line(unit_id: int) -> UnitLine:
        return lines.setdefault(unit_id, UnitLine(unit=None))  # type: ignore[arg-type]

    for row in as_lead:
        target = line(row["lead_unit_id"])
        target.lead += row["n"]
        target.with_role += row["n"]
        if row["status"] == Task.Status.COMPLETED:
            target.completed_late += row["late"]
            target.completed_on_time += row["n"] - row["late"]
        target.overdue += row["overdue"]
    # Tasks where the unit holds another role and does not lead: a unit that leads and
    # implements one task counts it once. One join of the tasks and their units.
    other_roles = (
        tasks.annotate(role_unit=F("assignments__unit_id"))
        .filter(role_unit__isnull=False)
        .exclude(role_unit=F("lead_unit_id"))
        .values("role_unit")
        .annotate(n=Count("pk", distinct=True))
    )
    for row in other_roles:
        line(row["role_unit"]).with_role += row["n"]
    # A unit acknowledges a task once (a unique constraint): a plain count is the number of
    # tasks, without the sort of every row a COUNT(DISTINCT) takes.
    acknowledged = (
        Acknowledgement.objects.filter(task__in=tasks.values("pk"))
        .values("unit_id")
        .annotate(n=Count("task_id"))
    )
    for row in acknowledged:
        if row["unit_id"] in lines:
            line(row["unit_id"]).acknowledged = row["n"]
    if filters.unit is not None:
        # The unit filter keeps the tasks where this unit holds a role; their other units are
        # not the question.
        lines = {k: v for k, v in lines.items() if k == filters.unit.pk}
    # Each unit's reports, latest first (the ``progress_unit_latest`` index), up to the first
    # on a task of the report: a few index entries per unit, however many reports there are.
    last_report = (
        ProgressUpdate.objects.filter(unit_id=OuterRef("pk"))
        .filter(Exists(tasks.filter(pk=OuterRef("task_id"))))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    for unit in Unit.objects.filter(pk__in=lines).annotate(last_report_at=Subquery(last_report)):
        lines[unit.pk].unit = unit
        lines[unit.pk].last_report_at = unit.last_report_at
    return sorted(
        lines.values(), key=lambda u: (-u.overdue, -u.lead, u.unit.name if u.unit else "")
    )


# --- Coverage --------------------------------------------------------------------------------


def report_province(filters: ReportFilters) -> Province | None:
    """The province the trend and the coverage are about: the one chosen, else the plan's,
    else the province of the latest plan that names one."""
    if filters.province is not None:
        return filters.province
    if filters.plan is not None and filters.plan.province_id:
        return filters.plan.province
    plans = Plan.objects.filter(province__isnull=False).select_related("province")
    if filters.year is not None:
        plans = plans.filter(year=filters.year)
    plan = plans.order_by("-year", "-pk").first()
    return plan.province if plan else None


@dataclass
class Coverage:
    province: Province | None
    year: int | None
    rows: list[Score] = field(default_factory=list)
    # The indicator set and the weakness rule the year was read under (its own or the default).
    reading: YearReading | None = None

    def _count(self, state: str) -> int:
        return sum(1 for row in self.rows if row.coverage == state)

    @property
    def covered(self) -> int:
        return self._count(CoverageState.COVERED)

    @property
    def drafted(self) -> int:
        return self._count(CoverageState.DRAFTED)

    @property
    def uncovered(self) -> int:
        return self._count(CoverageState.UNCOVERED)


def coverage(
    *, filters: ReportFilters, now: dt.datetime, tasks_per_row: int | None = None
) -> Coverage:
    """The weak indicators of the province's baseline results, each with the tasks of the
    province's plans that address it and whether it is covered, drafted or uncovered
    (``plans.coverage``, the same rule as the weak-indicator list and its draft action).
    The baseline is the latest year of results before the plan's year (or the latest loaded
    when no year is chosen); ``tasks_per_row`` lists only the first tasks of each (a page's
    view, ``plans.coverage.attach_tasks``). Four queries."""
    province = report_province(filters)
    if province is None:
        return Coverage(province=None, year=None)
    plan_year = filters.plan.year if filters.plan is not None else filters.year
    years = province.assessments.order_by("-year").values_list("year", flat=True)
    if plan_year is not None:
        years = years.filter(year__lt=plan_year)
    year = years.first()
    if year is None:
        return Coverage(province=province, year=None)
    weak = (
        Score.objects.weak()
        .with_recoverable()
        .filter(assessment__province=province, assessment__year=year)
        .select_related("assessment__province", "indicator__parent")
    )
    if filters.main_indicator is not None:
        weak = weak.filter(under_main_indicator_q(filters.main_indicator.pk))
    rows = attach_tasks(
        with_coverage(weak).order_by(
            "covered",
            F("recoverable_points").desc(nulls_last=True),  # none when known by value only
            "indicator__sort_key",
        ),
        per_row=tasks_per_row,
    )
    [reading] = years_read_under([year])
    return Coverage(province=province, year=year, rows=rows, reading=reading)


# --- Overdue ---------------------------------------------------------------------------------

# Days overdue: the bands the page groups tasks by (lower bound, upper bound or None).
OVERDUE_BANDS: list[tuple[int, int | None]] = [(1, 7), (8, 30), (31, 90), (91, None)]


def overdue_tasks(*, filters: ReportFilters, now: dt.datetime) -> QuerySet:
    """Overdue tasks, most overdue first, with ``delay_reason``: the latest reason given in a
    progress report or a completion submission, else the reason of the latest extension
    request; empty when the unit gave none."""
    reported = (
        ProgressUpdate.objects.filter(task=OuterRef("pk"))
        .exclude(delay_reason="")
        .order_by("-created_at", "-pk")
        .values("delay_reason")[:1]
    )
    asked = (
        ExtensionRequest.objects.filter(task=OuterRef("pk"))
        .order_by("-requested_at", "-pk")
        .values("reason")[:1]
    )
    last_report = (
        ProgressUpdate.objects.filter(task=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    return (
        report_tasks(filters)
        .overdue(now)
        .with_list_columns()
        .annotate(
            delay_reason=Coalesce(
                Subquery(reported), Subquery(asked), Value(""), output_field=TextField()
            ),
            last_report_at=Subquery(last_report),
        )
        .order_by("deadline", "pk")
    )


@dataclass
class OverdueReport:
    bands: list[tuple[str, int]]
    total: int
    page: Page


def overdue(
    *, filters: ReportFilters, now: dt.datetime, page: int | str = 1, per_page: int = 100
) -> OverdueReport:
    """The count per band of days overdue (one query) and one page of the tasks (two)."""
    tasks = report_tasks(filters).overdue(now).with_days_overdue(now)
    counts = {}
    for low, high in OVERDUE_BANDS:
        q = Q(overdue_by__gte=dt.timedelta(days=low))
        if high is not None:
            q &= Q(overdue_by__lte=dt.timedelta(days=high))
        counts[f"{low}-{high}" if high else f"{low}+"] = Count("pk", filter=q)
    figures = tasks.order_by().aggregate(**counts)
    paginator = Paginator(overdue_tasks(filters=filters, now=now), per_page)
    return OverdueReport(
        bands=list(figures.items()),
        total=sum(figures.values()),
        page=paginator.get_page(page),
    )


# --- Trend -----------------------------------------------------------------------------------


@dataclass
class Trend:
    province: Province | None
    years: list[TrendYear]


def trend(*, filters: ReportFilters, now: dt.datetime) -> Trend:
    """The province's DTI and main indicators by year (``indicators.services.province_trend``):
    its queries grow with the years loaded, never with tasks."""
    province = report_province(filters)
    if province is None:
        return Trend(province=None, years=[])
    # A year filter (a plan year) keeps the results known by then.
    return Trend(
        province=province, years=province_trend(province=province, until_year=filters.year)
    )


# --- Progress per indicator owner ------------------------------------------------------------


@dataclass
class OwnerLine:
    """One presiding unit: the indicators it answers for, the weak ones among them, the tasks
    on them and its self-assessment items of the open round."""

    unit: Unit | None  # None: tasks and items whose indicator has no presiding unit
    indicators: int = 0
    weak: int = 0
    total: int = 0
    completed: int = 0
    in_progress: int = 0
    overdue: int = 0
    items: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ItemStatus.values, 0))

    @property
    def items_total(self) -> int:
        return sum(self.items.values())


@dataclass
class Owners:
    lines: list[OwnerLine]
    # The self-assessment round whose items are counted: the latest one not closed.
    round: SelfAssessmentRound | None


def owner_plans(filters: ReportFilters) -> QuerySet[Plan]:
    """The plans whose indicator owners a report counts: the plan chosen, else the plans of the
    year chosen, else every plan not closed (owners are per plan: a closed plan's would count a
    unit's indicators twice)."""
    if filters.plan is not None:
        return Plan.objects.filter(pk=filters.plan.pk)
    if filters.year is not None:
        return Plan.objects.filter(year=filters.year)
    return Plan.objects.exclude(status=Plan.Status.CLOSED)


def _presiding_unit_of_task() -> Coalesce:
    """A task's presiding unit: its indicator's in the task's plan, else (a component without
    units of its own) its main indicator's, as ``plans.owners.owners_for`` reads them."""

    def presiding(indicator: str) -> Subquery:
        return Subquery(
            IndicatorOwnerUnit.objects.filter(
                role=OwnerRole.PRESIDING,
                owner__plan_id=OuterRef("plan_id"),
                owner__indicator_id=OuterRef(indicator),
            ).values("unit_id")[:1]
        )

    return Coalesce(presiding("indicator_id"), presiding("indicator__parent_id"))


def _weak_by_unit(
    owned: dict[tuple[int, int], int], plans: dict[int, tuple[int | None, int]]
) -> dict[int, int]:
    """Presiding unit id → the weak indicators it answers for, in each plan's baseline (the
    latest results of the plan's province before the plan's year, as the overview's points
    targeted). A weak component counts for its own presiding unit, else its main indicator's.
    Two queries: the provinces' assessment years, the weak scores."""
    provinces = {province for province, _year in plans.values() if province is not None}
    if not provinces or not owned:
        return {}
    years: dict[int, list[int]] = defaultdict(list)
    for province, year in Assessment.objects.filter(province_id__in=provinces).values_list(
        "province_id", "year"
    ):
        years[province].append(year)
    baseline = {
        plan_id: (province, max(y for y in years[province] if y < year))
        for plan_id, (province, year) in plans.items()
        if province is not None and any(y < year for y in years[province])
    }
    if not baseline:
        return {}
    weak = (
        Score.objects.weak()
        .filter(
            assessment__province_id__in={p for p, _y in baseline.values()},
            assessment__year__in={y for _p, y in baseline.values()},
        )
        .values_list(
            "assessment__province_id", "assessment__year", "indicator_id", "indicator__parent_id"
        )
    )
    by_result: dict[tuple[int, int], list[tuple[int, int | None]]] = defaultdict(list)
    for province, year, indicator, parent in weak:
        by_result[(province, year)].append((indicator, parent))
    counts: dict[int, int] = defaultdict(int)
    for plan_id, result in baseline.items():
        for indicator, parent in by_result.get(result, []):
            unit = owned.get((plan_id, indicator)) or owned.get((plan_id, parent or 0))
            if unit is not None:
                counts[unit] += 1
    return counts


def owners(*, filters: ReportFilters, now: dt.datetime) -> Owners:
    """Progress per presiding unit of the plans' indicators (``owner_plans``): how many
    indicators it answers for and how many of them are weak, the tasks on them (completed, in
    progress, overdue, as the overview counts them) and its items of the latest self-assessment
    round not closed, by status. Seven queries whatever the number of tasks or items."""
    plans = owner_plans(filters)
    rows = IndicatorOwnerUnit.objects.filter(role=OwnerRole.PRESIDING, owner__plan__in=plans)
    tasks = report_tasks(ReportFilters(plan=filters.plan, year=filters.year)).filter(plan__in=plans)
    if filters.main_indicator is not None:
        main = filters.main_indicator.pk
        rows = rows.filter(under_main_indicator_q(main, field="owner__indicator"))
        tasks = tasks.for_main_indicator(main)
    lines: dict[int | None, OwnerLine] = {}

    def line(unit_id: int | None) -> OwnerLine:
        return lines.setdefault(unit_id, OwnerLine(unit=None))

    owned: dict[tuple[int, int], int] = {}
    plan_places: dict[int, tuple[int | None, int]] = {}
    for unit_id, plan_id, indicator_id, province_id, year in rows.values_list(
        "unit_id",
        "owner__plan_id",
        "owner__indicator_id",
        "owner__plan__province_id",
        "owner__plan__year",
    ):
        owned[(plan_id, indicator_id)] = unit_id
        plan_places[plan_id] = (province_id, year)
        line(unit_id).indicators += 1
    for unit_id, count in _weak_by_unit(owned, plan_places).items():
        line(unit_id).weak = count
    grouped = (
        tasks.order_by()
        .annotate(presiding_id=_presiding_unit_of_task())
        .values("presiding_id")
        .annotate(**_counts(now))
    )
    for row in grouped:
        target = line(row["presiding_id"])
        target.total = row["total"]
        target.completed = row["completed"]
        target.in_progress = _in_progress(row)
        target.overdue = row["overdue"]
    round_ = SelfAssessmentRound.objects.filter(closed_at__isnull=True).order_by("-year").first()
    if round_ is not None:
        items = SelfAssessmentItem.objects.filter(round=round_)
        if filters.main_indicator is not None:
            items = items.filter(under_main_indicator_q(filters.main_indicator.pk))
        for row in items.order_by().values("unit_id", "status").annotate(n=Count("pk")):
            line(row["unit_id"]).items[row["status"]] += row["n"]
    if filters.unit is not None:
        lines = {k: v for k, v in lines.items() if k == filters.unit.pk}
    for unit in Unit.objects.filter(pk__in=[k for k in lines if k is not None]):
        lines[unit.pk].unit = unit
    ordered = sorted(lines.values(), key=lambda u: (u.unit is None, u.unit.name if u.unit else ""))
    return Owners(lines=ordered, round=round_)

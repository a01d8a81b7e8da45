"""Which weak indicators a province's plans address: "covered", "drafted" and "uncovered",
defined once here and used by the weak-indicator list (``plans.admin_weak_indicators``), its
draft action (``plans.services.draft_tasks_create``), the coverage report
(``plans.reports.queries.coverage``) and the weak-indicator export
(``plans.resources.WeakIndicatorResource``).

This lives in plans, not indicators: what a task is and which plans are in force is plans'
knowledge, and indicators (the lower app) never imports plans.

The rule, for a weak indicator of a province's results (a ``Score`` row):

- only the tasks of that province's plans count: the plan's province is the score's province,
  or the province it merged into (a plan of the merged province addresses its former
  provinces' results). A plan that names no province addresses nobody's results;
- a task addresses its indicator unless it is cancelled or its plan is closed (last year's
  plan no longer addresses this year's results);
- **covered**: at least one addressing task is live: assigned, in progress, awaiting
  verification or completed, in a plan in force. A completed task counts: the plan did what it
  set out to do for that indicator, and a second task for it would only duplicate the first;
- **drafted**: not covered, but a draft task addresses it (a draft task, or any task of a plan
  still in draft), e.g. right after the draft action;
- **uncovered**: no task addresses it: the list flags it and the draft action drafts one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    TextChoices,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _

from indicators.models import Score
from plans.models import Plan, Task


class Coverage(TextChoices):
    COVERED = "covered", _("Addressed by a task")
    DRAFTED = "drafted", _("Only draft tasks")
    UNCOVERED = "uncovered", _("No task")


# How many of a weak row's tasks a page lists; the rest are counted ("and 12 more").
TASKS_PER_ROW = 5

# A task that addresses its indicator; live or draft.
ADDRESSING = ~Q(status=Task.Status.CANCELLED) & ~Q(plan__status=Plan.Status.CLOSED)
DRAFT = Q(status=Task.Status.DRAFT) | Q(plan__status=Plan.Status.DRAFT)
LIVE = ADDRESSING & ~DRAFT


def _addressed(plans: Q, tasks: Q) -> Exists:
    """Whether a plan of the outer score's province (or of the province it merged into) that
    matches ``plans`` has a task on the score's indicator that matches ``tasks``.

    Asked plan first, the task's own conditions apart from its plan's: a province has a few
    plans (most provinces none) and the index on (indicator, plan) finds the first such task
    of each. Asked task first, the database read every task on the indicator for every weak
    row, so the list's cost grew with the tasks.
    """
    of_the_plan = Task.objects.filter(
        tasks, plan_id=OuterRef("pk"), indicator_id=OuterRef(OuterRef("indicator_id"))
    )
    of_the_province = Plan.objects.filter(
        Q(province_id=OuterRef("assessment__province_id"))
        | Q(province_id=OuterRef("assessment__province__successor_id"))
    )
    return Exists(of_the_province.filter(plans, Exists(of_the_plan)))


def with_coverage(scores: QuerySet) -> QuerySet:
    """Scores (or weak indicators) annotated with ``coverage`` (a :class:`Coverage` value) and
    ``covered`` (True when covered). EXISTS subqueries keep one row per score and stay cheap
    for the admin list's COUNT, where a join with a count would multiply rows.

    The tasks themselves are attached to the rows afterwards by :func:`attach_tasks`, in one
    query for a whole page.
    """
    # LIVE and ADDRESSING & DRAFT, each split into what the plan and the task must be.
    closed, draft = Plan.Status.CLOSED, Plan.Status.DRAFT
    cancelled, draft_task = Task.Status.CANCELLED, Task.Status.DRAFT
    return scores.annotate(
        covered=_addressed(~Q(status__in=[closed, draft]), ~Q(status__in=[cancelled, draft_task])),
        drafted=ExpressionWrapper(
            _addressed(Q(status=draft), ~Q(status=cancelled))
            | _addressed(~Q(status=closed), Q(status=draft_task)),
            output_field=BooleanField(),
        ),
    ).annotate(
        coverage=Case(
            When(covered=True, then=Value(Coverage.COVERED.value)),
            When(drafted=True, then=Value(Coverage.DRAFTED.value)),
            default=Value(Coverage.UNCOVERED.value),
        )
    )


def attach_tasks(scores: Iterable[Score], *, per_row: int | None = None) -> list[Score]:
    """Sets ``addressing_tasks`` on each score: the tasks of its province's plans that address
    its indicator (live ones first, then drafts, each marked ``drafted``; soonest deadline
    first), and ``addressing_more``, how many more address it than are listed. One query.

    ``per_row`` keeps the first tasks of each row (a page; the others are counted):
    a page shows a handful per row whatever the plans hold, so its cost does not grow with the
    tasks, while an export passes none and lists every one.

    Each row gets its own list: a prefetch through ``indicator`` would share one list between
    the rows of different provinces with the same indicator.
    """
    rows = list(scores)
    provinces: set[int] = set()
    for score in rows:
        provinces.update(provinces_of(score))
    by_key: dict[tuple[int, int], list[Task]] = defaultdict(list)
    totals: dict[tuple[int, int], int] = defaultdict(int)
    if rows:
        tasks = Task.objects.filter(
            ADDRESSING,
            indicator_id__in={s.indicator_id for s in rows},
            plan__province_id__in=provinces,
        ).select_related("plan", "lead_unit")
        if per_row is not None:
            tasks = _first_of_each_key(tasks, per_row)
        for task in tasks.order_by("deadline", "pk"):
            task.drafted = is_draft(task)
            key = (task.plan.province_id, task.indicator_id)
            by_key[key].append(task)
            totals[key] = getattr(task, "key_total", len(by_key[key]))
    for score in rows:
        keys = [(province_id, score.indicator_id) for province_id in provinces_of(score)]
        found = [task for key in keys for task in by_key[key]]
        # Live tasks before drafts, each group by deadline (``sorted`` keeps that order).
        score.addressing_tasks = sorted(found, key=lambda task: task.drafted)[:per_row]
        score.addressing_more = sum(totals[key] for key in keys) - len(score.addressing_tasks)
    return rows


def _first_of_each_key(tasks: QuerySet, per_row: int) -> QuerySet:
    """The first ``per_row`` tasks of each (province, indicator) in the order a row lists
    them, each with ``key_total``, the count of all its key's tasks (window functions: still
    one query)."""
    key = [F("plan__province_id"), F("indicator_id")]
    draft_last = Case(When(DRAFT, then=Value(1)), default=Value(0))
    return tasks.annotate(
        place=Window(RowNumber(), partition_by=key, order_by=[draft_last, "deadline", "pk"]),
        key_total=Window(Count("pk"), partition_by=key),
    ).filter(place__lte=per_row)


def is_draft(task: Task) -> bool:
    """Whether an addressing task only drafts the work (see :data:`DRAFT`)."""
    return task.status == Task.Status.DRAFT or task.plan.status == Plan.Status.DRAFT


def provinces_of(score: Score) -> list[int]:
    """The provinces whose plans address the score: its own and the one it merged into."""
    province = score.assessment.province
    return [province.pk] + ([province.successor_id] if province.successor_id else [])


def coverage_of(scores: Iterable[Score]) -> dict[int, str]:
    """Each score's :class:`Coverage` value by its id, in one query (the draft action's view of
    the same rule the list shows)."""
    ids = [score.pk for score in scores]
    annotated = with_coverage(Score.objects.filter(pk__in=ids))
    return dict(annotated.values_list("pk", "coverage"))


def plan_addresses(plan: Plan, score: Score) -> bool:
    """Whether ``plan``'s tasks count for ``score``: the plan is of the score's province (or
    of the province it merged into)."""
    return plan.province_id is not None and plan.province_id in provinces_of(score)

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

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Model,
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
from plans.models import Plan, Task, Unit


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
    keys = {
        (province_id, score.indicator_id) for score in rows for province_id in provinces_of(score)
    }
    if not keys:
        tasks, totals = [], {}
    elif per_row is None:
        tasks = list(_addressing(keys))
        totals = Counter(_key_of(task) for task in tasks)
    elif connection.vendor == "postgresql":
        tasks, totals = _first_tasks_postgresql(keys, per_row)
    else:
        tasks = list(_first_of_each_key(_addressing(keys), per_row))
        totals = {_key_of(task): task.key_total for task in tasks}
    by_key: dict[tuple[int, int], list[Task]] = defaultdict(list)
    for task in tasks:
        task.drafted = is_draft(task)
        by_key[_key_of(task)].append(task)
    for score in rows:
        keys_of_row = [(province_id, score.indicator_id) for province_id in provinces_of(score)]
        found = [task for key in keys_of_row for task in by_key[key]]
        found.sort(key=lambda task: (task.drafted, task.deadline, task.pk))
        score.addressing_tasks = found[:per_row]
        listed = len(score.addressing_tasks)
        score.addressing_more = sum(totals.get(key, 0) for key in keys_of_row) - listed
    return rows


def _addressing(keys: set[tuple[int, int]]) -> QuerySet:
    """Every task that addresses an indicator of ``keys`` for its province (and a few more:
    those of the keys' provinces and indicators crossed), with its plan and lead unit."""
    return Task.objects.filter(
        ADDRESSING,
        indicator_id__in={indicator_id for _province_id, indicator_id in keys},
        plan__province_id__in={province_id for province_id, _indicator_id in keys},
    ).select_related("plan", "lead_unit")


def _key_of(task: Task) -> tuple[int, int]:
    return (task.plan.province_id, task.indicator_id)


def _first_of_each_key(tasks: QuerySet, per_row: int) -> QuerySet:
    """The first ``per_row`` tasks of each (province, indicator) in the order a row lists
    them, each with ``key_total``, the count of all its key's tasks (window functions: still
    one query). It reads every task on the indicators: :func:`_first_tasks_postgresql` is
    PostgreSQL's way, this one the others'."""
    key = [F("plan__province_id"), F("indicator_id")]
    draft_last = Case(When(DRAFT, then=Value(1)), default=Value(0))
    return tasks.annotate(
        place=Window(RowNumber(), partition_by=key, order_by=[draft_last, "deadline", "pk"]),
        key_total=Window(Count("pk"), partition_by=key),
    ).filter(place__lte=per_row)


# For each (province, indicator) of a page and each plan of that province still addressing
# results: the count of the plan's tasks on the indicator (read from the index alone) and its
# first ones in the order a row lists them (LIMIT through the index task_addressing_order), so
# the cost follows the page's rows, not the tasks a plan holds on an indicator. Within one plan
# "draft" is the task's own status (a draft plan's tasks are all drafts); the plans' lists are
# merged in Python.
FIRST_TASKS_SQL = """
SELECT task.*, plan.province_id AS plan_province_id, plan.status AS plan_status,
       counted.total AS plan_total, unit.name AS lead_unit_name
FROM unnest(%(provinces)s::bigint[], %(indicators)s::bigint[])
    AS page_key (province_id, indicator_id)
JOIN plans_plan AS plan ON plan.province_id = page_key.province_id AND plan.status <> %(closed)s
CROSS JOIN LATERAL (
    SELECT count(*) FROM plans_task
    WHERE plan_id = plan.id AND indicator_id = page_key.indicator_id AND status <> %(cancelled)s
) AS counted (total)
CROSS JOIN LATERAL (
    SELECT * FROM plans_task
    WHERE plan_id = plan.id AND indicator_id = page_key.indicator_id AND status <> %(cancelled)s
    ORDER BY status = %(draft)s, deadline, id
    LIMIT %(per_row)s
) AS task
JOIN plans_unit AS unit ON unit.id = task.lead_unit_id
"""


def _first_tasks_postgresql(
    keys: set[tuple[int, int]], per_row: int
) -> tuple[list[Task], dict[tuple[int, int], int]]:
    """The first ``per_row`` tasks of each plan on each (province, indicator) of ``keys``, each
    with its plan (id, province and status) and lead unit (id and name), as
    ``select_related`` would give them, and each key's count of addressing tasks. One query
    (:data:`FIRST_TASKS_SQL`)."""
    provinces, indicators = zip(*sorted(keys), strict=True)
    params = {
        "provinces": list(provinces),
        "indicators": list(indicators),
        "closed": Plan.Status.CLOSED,
        "cancelled": Task.Status.CANCELLED,
        "draft": Task.Status.DRAFT,
        "per_row": per_row,
    }
    tasks = list(Task.objects.raw(FIRST_TASKS_SQL, params))
    counted = {}  # (plan, key) -> the plan's count on the key
    for task in tasks:
        task.plan = _loaded(
            Plan, id=task.plan_id, province_id=task.plan_province_id, status=task.plan_status
        )
        task.lead_unit = _loaded(Unit, id=task.lead_unit_id, name=task.lead_unit_name)
        counted[task.plan_id, _key_of(task)] = task.plan_total
    totals: Counter[tuple[int, int]] = Counter()
    for (_plan_id, key), total in counted.items():
        totals[key] += total
    return tasks, totals


def _loaded(model: type[Model], **values: object) -> Model:
    """An instance of ``model`` as the database gave it with only these fields (the others
    are read when first used, as with ``only()``)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


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

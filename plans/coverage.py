"""Which weak indicators the plan addresses: open tasks on an indicator.

This lives in plans, not indicators: what a task is and when it is open is plans' knowledge, and
indicators (the lower app) never imports plans. The weak-indicator admin (plans.admin) and
``plans.resources.WeakIndicatorResource`` both take their coverage from here.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from plans.models import Task


def with_open_tasks(scores: QuerySet) -> QuerySet:
    """Scores (or weak indicators) with ``covered`` (an open task addresses the indicator) and,
    on each row's indicator, ``open_tasks``: those tasks, soonest deadline first.

    ``covered`` is an EXISTS subquery rather than a join with a count: it keeps one row per
    score and stays cheap for the list's COUNT (see PITFALLS: Subquery vs annotate(Count)).
    The tasks themselves come in one more query for the whole page.
    """
    open_tasks = Task.objects.open()
    return scores.annotate(
        covered=Exists(open_tasks.filter(indicator_id=OuterRef("indicator_id")))
    ).prefetch_related(
        Prefetch(
            "indicator__tasks",
            queryset=open_tasks.select_related("plan", "lead_unit").order_by("deadline", "pk"),
            to_attr="open_tasks",
        )
    )

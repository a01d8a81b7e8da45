"""Events: things that happened and that a unit should hear of within minutes, derived from the
plan's state like the reminders are (plans knows nothing of notifications).

- A decision on a unit's request: an extension approved or refused, a completion verified or
  returned. The step is the request's id, the date it counts from the decision's day: one row
  per request and recipient, ever.
- A new task for a unit: the unit holds a role on an open task that it did not hold on a live
  (non-draft) version of the task before, and it has not acknowledged the task yet. The step
  is the unit's id, the date the day the unit got the task: read from the task's and the
  assignments' history, so every run derives the same key and a second run records nothing.
  A unit removed and given the task again later hears of it again.

Only what happened within ``LOOKBACK`` of ``now`` is derived: enough for a run that was missed
(a stopped worker, a weekend), and nothing older is announced as news when the feature starts.
A plan moved from draft to in force does not announce its tasks one by one: the "not
acknowledged" reminder reaches their units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Min, Q
from django.utils import timezone

from notifications.models import Notification
from notifications.recipients import RecipientDirectory
from notifications.rules import Step
from notifications.sweep import DueReminder
from plans.models import (
    Acknowledgement,
    Assignment,
    CompletionSubmission,
    DecidedRequest,
    Decision,
    ExtensionRequest,
    Task,
    Unit,
)

Rule = Notification.Rule

LOOKBACK = dt.timedelta(days=3)

DECISION_RULES: dict[type[DecidedRequest], dict[str, str]] = {
    ExtensionRequest: {
        Decision.APPROVED: Rule.EXTENSION_APPROVED,
        Decision.REFUSED: Rule.EXTENSION_REFUSED,
    },
    CompletionSubmission: {
        Decision.APPROVED: Rule.COMPLETION_VERIFIED,
        Decision.REFUSED: Rule.COMPLETION_RETURNED,
    },
}


# (task id, rule, step, anchor, unit): a step before its task is loaded.
_Found = tuple[int, str, int, dt.date, Unit]


def _decisions(since: dt.datetime, now: dt.datetime, task_ids: list[int] | None) -> list[_Found]:
    """Each request decided in [since, now] (two queries)."""
    found: list[_Found] = []
    for model, rules in DECISION_RULES.items():
        rows = (
            model.objects.decided()
            .filter(decided_at__gte=since, decided_at__lte=now)
            .select_related("unit")
        )
        if task_ids is not None:
            rows = rows.filter(task_id__in=task_ids)
        for row in rows:
            rule = rules[row.status]
            found.append((row.task_id, rule, row.pk, timezone.localdate(row.decided_at), row.unit))
    return found


def _new_units(
    since: dt.datetime, now: dt.datetime, task_ids: list[int] | None
) -> dict[tuple[int, int], dt.datetime]:
    """(task id, unit id) → when the unit got the task, for units that got it in [since, now]
    (at most three queries). A unit gets a task when a live version of the task first names
    it lead, or, for the other roles, at the later of its assignment and the task's first live
    version."""
    historical_task = Task.history.model
    historical_assignment = Assignment.history.model
    recent_tasks = historical_task.objects.filter(history_date__gte=since, history_date__lte=now)
    recent_assignments = historical_assignment.objects.filter(
        history_date__gte=since, history_date__lte=now
    )
    if task_ids is not None:
        recent_tasks = recent_tasks.filter(id__in=task_ids)
        recent_assignments = recent_assignments.filter(task_id__in=task_ids)
    # Subqueries, not id lists: three days of a busy province's reports are many rows.
    changed = Q(id__in=recent_tasks.values("id")) | Q(id__in=recent_assignments.values("task_id"))
    live = historical_task.objects.filter(changed).exclude(status=Task.Status.DRAFT)
    went_live = dict(
        live.values("id").annotate(first=Min("history_date")).values_list("id", "first")
    )
    if not went_live:
        return {}
    got: dict[tuple[int, int], dt.datetime] = {}
    for task_id, unit_id, first in (
        live.values("id", "lead_unit_id")
        .annotate(first=Min("history_date"))
        .values_list("id", "lead_unit_id", "first")
    ):
        got[(task_id, unit_id)] = first
    assigned = (
        historical_assignment.objects.filter(
            Q(task_id__in=recent_tasks.values("id"))
            | Q(task_id__in=recent_assignments.values("task_id"))
        )
        .values("task_id", "unit_id")
        .annotate(first=Min("history_date"))
        .values_list("task_id", "unit_id", "first")
    )
    for task_id, unit_id, first in assigned:
        if task_id in went_live:
            when = max(first, went_live[task_id])
            got[(task_id, unit_id)] = min(got.get((task_id, unit_id), when), when)
    return {key: when for key, when in got.items() if since <= when <= now}


def events_due(*, now: dt.datetime, task_ids: Iterable[int] | None = None) -> list[DueReminder]:
    """Every event row that should exist at ``now`` (of the given tasks, or all), once per
    person it concerns: the unit's active focal points with an address, else its shared
    mailbox (``RecipientDirectory``, the reminders' rule). A constant number of queries."""
    since = now - LOOKBACK
    ids = list(task_ids) if task_ids is not None else None
    found = _decisions(since, now, ids)
    new_units = _new_units(since, now, ids)
    wanted = {task_id for task_id, *_rest in found} | {task_id for task_id, _u in new_units}
    if not wanted:
        return []
    loaded = {
        task.pk: task
        for task in Task.objects.with_list_columns()
        .filter(pk__in=wanted)
        .exclude(status=Task.Status.DRAFT)
    }
    directory = RecipientDirectory(list(loaded.values()))
    acknowledged = set(
        Acknowledgement.objects.filter(task__in=list(loaded)).values_list("task_id", "unit_id")
    )
    steps = [
        Step(loaded[task_id], rule, number, anchor, unit)
        for task_id, rule, number, anchor, unit in found
        if task_id in loaded
    ]
    for (task_id, unit_id), when in new_units.items():
        task = loaded.get(task_id)
        if task is None or not task.is_open or (task_id, unit_id) in acknowledged:
            continue
        unit = next((u for u in directory.acting_units[task_id] if u.pk == unit_id), None)
        if unit is not None:  # it still holds a role
            steps.append(Step(task, Rule.ASSIGNED, unit_id, timezone.localdate(when), unit))
    due: dict[tuple, DueReminder] = {}
    for step in steps:
        for recipient in directory.for_step(step):
            event = DueReminder(step, recipient)
            due.setdefault(event.key, event)
    return list(due.values())

"""The reminder sweep: what is due at a given time, derived from the plan's state.

A pure read: recording the rows is ``services.notifications_create_due``, sending them the
reminders' outbox (``reminder_outbox``). See docs/reminders.md.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import Range
from django.utils import timezone

from notifications.changes import SweepMarker
from notifications.models import Notification, ReminderPolicy, SweepAudience
from notifications.outbox import DeliveryReport
from notifications.recipients import GROUP_OF, Recipient, RecipientDirectory
from notifications.rules import (
    AUDIENCE,
    Rule,
    Step,
    acknowledgement_steps,
    deadline_steps,
    decision_steps,
    horizon,
    item_deadline_steps,
    item_steps,
    no_progress_step,
    task_steps,
)
from notifications.workdays import WorkCalendar
from plans.models import (
    Acknowledgement,
    Assignment,
    CompletionSubmission,
    Decision,
    ExtensionRequest,
    ProgressUpdate,
    SelfAssessmentItem,
    Task,
    Unit,
)

# (task id, item id, rule, step, anchor, address): one of the two ids is None.
ReminderKey = tuple[int | None, int | None, str, int, dt.date, str]


@dataclass(frozen=True)
class DueReminder:
    step: Step
    recipient: Recipient

    @property
    def task(self) -> Task | None:
        return self.step.task

    @property
    def item(self) -> SelfAssessmentItem | None:
        return self.step.item

    @property
    def key(self) -> ReminderKey:
        step = self.step
        task_id = step.task.pk if step.task else None
        item_id = step.item.pk if step.item else None
        return (task_id, item_id, step.rule, step.step, step.anchor, self.recipient.email)


@dataclass
class SweepReport(DeliveryReport):
    due: int = 0
    created: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "due": self.due,
            "created": self.created,
            "emails_sent": self.emails_sent,
            "rows_sent": self.rows_sent,
            "rows_failed": self.rows_failed,
            "rows_skipped": self.rows_skipped,
        }


def work_calendar(today: dt.date) -> WorkCalendar:
    return WorkCalendar(today - dt.timedelta(days=60), today + dt.timedelta(days=60))


Windows = dict[tuple[str, int], list[tuple[dt.date, dt.date]]]


@dataclass(frozen=True)
class Scope:
    """What a derivation looks at. ``everything``: every due step, recorded or not (the
    preview, the dry run). Otherwise (the sweep) the steps that have no row yet, plus every due
    step of the tasks and items of the ``units`` whose people changed since the last sweep,
    and every due step when a group's people (coordinators, steering committee) did."""

    everything: bool = True
    units: frozenset[int] = frozenset()
    groups: bool = False
    # Rules for a group with no one to tell: their steps never get a row, so they are no
    # reason to look at a task (the group's first member makes ``groups`` true).
    nobody: frozenset[str] = frozenset()

    @property
    def quiet(self) -> bool:
        """Only the steps not recorded yet, and nobody's people changed."""
        return not (self.everything or self.units or self.groups)

    def narrow(self, every: Q, new: Q, touched: Callable[[frozenset[int]], Q]) -> Q:
        """``every``: the rows with a due step; ``new``: those with a step not recorded yet;
        ``touched(units)``: those a unit among ``units`` is told about."""
        if self.everything or self.groups:
            return every
        if self.units:
            return new | (every & touched(self.units))
        return new


class Audiences:
    """Whom each unit's focal points and heads, and each group, are told at now, against what
    the last sweep stored (``SweepAudience``): a step recorded before a person joined must
    still reach them, and looking for it costs only the units whose people changed."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.current: dict[str, str] | None = None

    def scope(self) -> Scope:
        """The sweep's scope (three queries, whatever the number of tasks)."""
        self.seen = dict(SweepAudience.objects.values_list("key", "emails"))
        self.current = RecipientDirectory([], units=Unit.objects.all()).audiences()
        changed = {
            key
            for key in self.current.keys() | self.seen.keys()
            if self.current.get(key) != self.seen.get(key)
        }
        kinds = [key.split(":", 1) for key in changed]
        return Scope(
            everything=False,
            units=frozenset(int(name) for kind, name in kinds if kind != "group"),
            groups=any(kind == "group" for kind, _name in kinds),
            nobody=frozenset(
                rule
                for rule, audience in AUDIENCE.items()
                if audience in GROUP_OF and not self.current[f"group:{GROUP_OF[audience]}"]
            ),
        )

    def changed(self) -> bool:
        """Someone's people differ from what the last sweep stored (``save`` has work)."""
        return self.current is not None and self.current != self.seen

    def save(self) -> None:
        """Remember the people the sweep just recorded rows for; nothing when it did not run
        (not a working day)."""
        if not self.changed():
            return
        changed = [
            SweepAudience(key=key, emails=emails)
            for key, emails in self.current.items()
            if self.seen.get(key) != emails
        ]
        if changed:
            SweepAudience.objects.bulk_create(
                changed, update_conflicts=True, unique_fields=["key"], update_fields=["emails"]
            )
        if gone := self.seen.keys() - self.current.keys():
            SweepAudience.objects.filter(key__in=gone).delete()


def _recorded(owner: str, rule: str, step: object, anchor: object = None) -> Exists:
    """A row of ``rule``'s ``step`` (counted from ``anchor``, unless None) exists for the
    outer task or item (``owner``), for whichever recipient: the step was recorded. An index
    lookup on the rows' unique key."""
    rows = Notification.objects.filter(**{owner: OuterRef("pk")}, rule=rule, step=step)
    return Exists(rows if anchor is None else rows.filter(anchor_date=anchor))


def step_windows(
    first: dt.date | None, last: dt.date, steps_of: Callable[[dt.date], list[tuple[str, int]]]
) -> Windows:
    """For each (rule, step) that ``steps_of`` gives a date between ``first`` and ``last``,
    the runs of consecutive dates that give it: a rule's steps in date windows."""
    runs: Windows = defaultdict(list)
    day = first
    while day is not None and day <= last:
        for key in steps_of(day):
            found = runs[key]
            if found and found[-1][1] == day - dt.timedelta(days=1):
                found[-1] = (found[-1][0], day)
            else:
                found.append((day, day))
        day += dt.timedelta(days=1)
    return runs


def _spans(runs: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """``runs`` with the adjacent ones joined: a rule's steps follow one another."""
    spans: list[tuple[dt.date, dt.date]] = []
    for first, last in sorted(runs):
        if spans and spans[-1][1] + dt.timedelta(days=1) >= first:
            spans[-1] = (spans[-1][0], max(spans[-1][1], last))
        else:
            spans.append((first, last))
    return spans


def windows_q(owner: str, field: str, windows: Windows, *, new: Scope | None = None) -> Q:
    """The tasks or items whose date ``field`` gives them a step today: the windows of each
    rule; with ``new`` (the sweep's scope), less those whose step has a row (anchored on the
    date) or has no one to tell. One lookup per rule, its step chosen by window (``CASE``): a
    task two years overdue does not make a hundred subqueries."""
    by_rule: dict[str, list[tuple[int, tuple[dt.date, dt.date]]]] = defaultdict(list)
    for (rule, step), runs in windows.items():
        if not (new and rule in new.nobody):
            by_rule[rule] += [(step, run) for run in runs]
    conditions = []
    for rule, steps in by_rule.items():
        spans = _spans([run for _step, run in steps])
        inside = reduce(operator.or_, (Q(**{f"{field}__range": span}) for span in spans))
        if new:
            # The step is chosen by the row's own date, which must equal the task's: the same
            # answer, without evaluating the task's date once per window (for a silence, that
            # date is itself a lookup of the last report).
            number = Case(
                *(When(Range(F("anchor_date"), run), then=Value(step)) for step, run in steps),
                output_field=IntegerField(),
            )
            inside &= ~_recorded(owner, rule, number, OuterRef(field))
        conditions.append(inside)
    if not conditions:
        return Q(pk__in=[])
    if len(conditions) == 1:
        return conditions[0]  # one rule: its windows' spans are all the bounds there are
    # All the windows' span first: most rows (deadlines months away) fail it at once.
    bounds = [day for runs in windows.values() for run in runs for day in run]
    return Q(**{f"{field}__range": (min(bounds), max(bounds))}) & reduce(operator.or_, conditions)


def candidate_tasks(
    *, today: dt.date, policy: ReminderPolicy, calendar: WorkCalendar, scope: Scope
) -> list[Task]:
    """The open tasks with a step due today (in the sweep's ``scope``), with the date of
    their last report: one query, and one for the oldest deadline and creation.

    Each rule's step is a function of one date (the deadline, the last report's day), so the
    rules themselves tell which date windows have which step today (``step_windows``), and a
    task whose step already has a row is left out by an index lookup in the database: nothing
    recorded is loaded, derived or checked again in Python. A unit given a role on a task
    after a step was recorded is told by the "assigned" event, and reminded from the next
    step on."""
    open_tasks = Task.objects.open()
    oldest = open_tasks.aggregate(deadline=Min("deadline"), created=Min("created_at"))
    last_report = (
        ProgressUpdate.objects.filter(task=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    deadlines = step_windows(
        oldest["deadline"],
        horizon(today, policy, calendar),
        lambda day: deadline_steps(day, today=today, policy=policy, calendar=calendar),
    )
    silences = step_windows(
        oldest["created"] and timezone.localdate(oldest["created"]),
        today - dt.timedelta(days=policy.no_progress_days),
        lambda day: [(Rule.NO_PROGRESS, no_progress_step(day, today=today, policy=policy))],
    )

    # Silent for ``no_progress_days``: created before, and no report since (one anti-join on
    # the recent reports, rather than the last report of every open task).
    silent_since = local_midnight(today - dt.timedelta(days=policy.no_progress_days - 1))
    silent = Q(created_at__lt=silent_since) & ~Q(
        pk__in=ProgressUpdate.objects.filter(created_at__gte=silent_since).values("task_id")
    )

    def due(*, new: bool) -> Q:
        return (
            windows_q("task", "deadline", deadlines, new=scope if new else None)
            | (
                silent
                & windows_q("task", "last_activity_day", silences, new=scope if new else None)
            )
            | unacknowledged_q(today=today, policy=policy, new=new)
        )

    def touched(units: frozenset[int]) -> Q:
        return Q(lead_unit__in=units) | Exists(
            Assignment.objects.filter(task=OuterRef("pk"), unit__in=units)
        )

    return list(
        open_tasks.with_list_columns()
        .annotate(last_activity_at=Coalesce(Subquery(last_report), "created_at"))
        .annotate(last_activity_day=TruncDate("last_activity_at"))
        .filter(scope.narrow(due(new=False), due(new=True), touched))
        .order_by("deadline", "pk")
    )


def unacknowledged_q(*, today: dt.date, policy: ReminderPolicy, new: bool) -> Q:
    """Tasks old enough to be acknowledged by now with a unit holding a role that has not
    acknowledged them (N working days are at least N calendar days: a cheap bound, refined
    per task in Python); with ``new``, only units not reminded yet (the step is the unit)."""
    before = local_midnight(today - dt.timedelta(days=policy.unacknowledged_working_days - 1))
    lead = ~Exists(Acknowledgement.objects.filter(task=OuterRef("pk"), unit=OuterRef("lead_unit")))
    acknowledged = Acknowledgement.objects.filter(task=OuterRef("task"), unit=OuterRef("unit"))
    others = Assignment.objects.filter(task=OuterRef("pk")).filter(~Exists(acknowledged))
    if new:
        lead &= ~_recorded("task", Rule.NOT_ACKNOWLEDGED, OuterRef("lead_unit_id"))
        others = others.filter(
            ~Exists(
                Notification.objects.filter(
                    task=OuterRef("task"), rule=Rule.NOT_ACKNOWLEDGED, step=OuterRef("unit_id")
                )
            )
        )
    return Q(created_at__lt=before) & (lead | Exists(others))


def candidate_items(
    *, today: dt.date, policy: ReminderPolicy, calendar: WorkCalendar, scope: Scope
) -> list[SelfAssessmentItem]:
    """Open self-assessment items with a step due today (in the sweep's ``scope``): their
    round's internal deadline in a step's window (as for tasks), or returned to the unit. One
    query, and one for the oldest deadline."""
    open_items = SelfAssessmentItem.objects.open()
    oldest = open_items.aggregate(deadline=Min("round__deadline"))["deadline"]
    deadlines = step_windows(
        oldest,
        horizon(today, policy, calendar),
        lambda day: item_deadline_steps(day, today=today, policy=policy, calendar=calendar),
    )

    def due(*, new: bool) -> Q:
        returned = Q(pk__in=SelfAssessmentItem.objects.returned())
        if new:
            returned &= ~_recorded("item", Rule.ITEM_RETURNED, 1, OuterRef("returned_on"))
        return (
            windows_q("item", "round__deadline", deadlines, new=scope if new else None) | returned
        )

    return list(
        open_items.annotate(returned_on=TruncDate("reviewed_at"))
        .filter(scope.narrow(due(new=False), due(new=True), lambda units: Q(unit__in=units)))
        .select_related("round", "indicator", "unit")
        .order_by("round__deadline", "pk")
    )


def pending_requests(
    *, today: dt.date, policy: ReminderPolicy, scope: Scope
) -> dict[int, list[dt.date]]:
    """Task id → the local dates of its extension requests and completion submissions still
    waiting for a decision, old enough to be worth a reminder; unless the sweep's ``scope``
    takes every due step (or the coordinators changed), only those not reminded yet (two
    queries; none when there is no coordinator to remind)."""
    before = local_midnight(today - dt.timedelta(days=policy.decision_waiting_working_days - 1))
    waiting: dict[int, list[dt.date]] = defaultdict(list)
    if Rule.WAITING_DECISION in scope.nobody:
        return waiting
    requests = ((ExtensionRequest, "requested_at"), (CompletionSubmission, "submitted_at"))
    for model, field in requests:
        reminded = Notification.objects.filter(
            task=OuterRef("task_id"),
            rule=Rule.WAITING_DECISION,
            step=1,
            anchor_date=OuterRef("day"),
        )
        rows = model.objects.filter(status=Decision.PENDING, **{f"{field}__lt": before})
        if not (scope.everything or scope.groups):
            rows = rows.annotate(day=TruncDate(field)).filter(~Exists(reminded))
        for task_id, at in rows.values_list("task_id", field):
            waiting[task_id].append(timezone.localdate(at))
    return waiting


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def reminders_due(
    *, now: dt.datetime, audiences: Audiences | None = None, mark: SweepMarker | None = None
) -> list[DueReminder]:
    """Every reminder that should exist at ``now``: each due step of each open task, once per
    person it concerns. Nothing is due on a weekend, a public holiday or an announced day off.
    With ``audiences`` (the sweep), the steps recorded already are left out, except for the
    units and groups whose people changed (``Scope``); with ``mark`` too, nothing is derived
    when a complete sweep derived the same day and nothing it reads changed since
    (``changes.SweepMarker``). A constant number of queries, whatever the number of tasks."""
    today = timezone.localdate(now)
    calendar = work_calendar(today)
    if not calendar.is_working_day(today):
        return []
    if mark is not None:
        mark.read()  # before anything is derived, so the derivation sees every change it read
    scope = audiences.scope() if audiences else Scope()
    if mark is not None:
        if mark.quiet(today) and scope.quiet:
            return []
        mark.derived = today
    policy = ReminderPolicy.current()
    tasks = candidate_tasks(today=today, policy=policy, calendar=calendar, scope=scope)
    waiting = pending_requests(today=today, policy=policy, scope=scope)
    known = {task.pk for task in tasks}
    waiting_tasks = (
        list(
            Task.objects.with_list_columns().filter(
                pk__in=[pk for pk in waiting if pk not in known]
            )
        )
        if waiting.keys() - known
        else []
    )
    items = candidate_items(today=today, policy=policy, calendar=calendar, scope=scope)
    directory = RecipientDirectory(tasks + waiting_tasks, items)
    acknowledged: dict[int, set[int]] = defaultdict(set)
    for task_id, unit_id in Acknowledgement.objects.filter(task__in=known).values_list(
        "task_id", "unit_id"
    ):
        acknowledged[task_id].add(unit_id)

    steps: list[Step] = []
    for task in tasks:
        steps += task_steps(
            task,
            today=today,
            policy=policy,
            calendar=calendar,
            last_activity=timezone.localdate(task.last_activity_at),
        )
        steps += acknowledgement_steps(
            task,
            today=today,
            policy=policy,
            calendar=calendar,
            units=directory.acting_units[task.pk],
            acknowledged=acknowledged[task.pk],
        )
    for task in tasks + waiting_tasks:
        if task.pk in waiting:
            steps += decision_steps(
                task, today=today, policy=policy, calendar=calendar, requested_on=waiting[task.pk]
            )
    for item in items:
        steps += item_steps(item, today=today, policy=policy, calendar=calendar)
    due: dict[tuple, DueReminder] = {}
    for step in steps:
        for recipient in directory.for_step(step):
            reminder = DueReminder(step, recipient)
            due.setdefault(reminder.key, reminder)
    return list(due.values())


def recorded_keys(due: list[DueReminder]) -> set[ReminderKey]:
    """The keys of ``due`` that already have a row (one query)."""
    if not due:
        return set()
    task_ids = {d.task.pk for d in due if d.task}
    item_ids = {d.item.pk for d in due if d.item}
    rows = Notification.objects.filter(Q(task__in=task_ids) | Q(item__in=item_ids)).values_list(
        "task_id", "item_id", "rule", "step", "anchor_date", "recipient_email"
    )
    return set(rows)

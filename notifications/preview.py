"""What a run would send, without recording or sending anything: the commands' dry runs and
the admin's preview."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import Notification, ReportDelivery
from notifications.recipients import committee_recipients
from notifications.sweep import reminders_due
from plans.models import Task
from plans.periods import Period


@dataclass(frozen=True)
class PreviewLine:
    """One reminder, about a task or a self-assessment item (``task`` None)."""

    rule: str
    rule_label: str
    task: Task | None
    days_overdue: int
    days_left: int
    title: str
    code: str
    unit_name: str
    deadline: dt.date
    admin_url: str


def reminders_preview(*, now: dt.datetime) -> dict[str, list[PreviewLine]]:
    """What a sweep at ``now`` would send, per recipient, leaving out steps already sent.
    Records nothing; the dry run and the admin's preview both show this."""
    due = reminders_due(now=now)
    done = (
        set(
            Notification.objects.filter(
                Q(task__in={d.task.pk for d in due if d.task})
                | Q(item__in={d.item.pk for d in due if d.item}),
                status__in=[Notification.Status.SENT, Notification.Status.SKIPPED],
            ).values_list("task_id", "item_id", "rule", "step", "anchor_date", "recipient_email")
        )
        if due
        else set()
    )
    today = timezone.localdate(now)
    preview: dict[str, list[PreviewLine]] = defaultdict(list)
    for reminder in due:
        if reminder.key in done:
            continue
        task, item = reminder.task, reminder.item
        if task:
            deadline, title = task.deadline, task.title
            code, unit = task.indicator.code, task.lead_unit
            days_overdue = task.days_overdue(now)
            admin_url = reverse("admin:plans_task_change", args=[task.pk])
        else:
            deadline, title = item.round.deadline, _("Self-assessment item")
            code, unit = item.indicator.code, item.unit
            days_overdue = max(0, (today - deadline).days)
            admin_url = reverse("admin:plans_selfassessmentitem_change", args=[item.pk])
        preview[reminder.recipient.email].append(
            PreviewLine(
                rule=reminder.step.rule,
                rule_label=str(Notification.Rule(reminder.step.rule).label),
                task=task,
                days_overdue=days_overdue,
                days_left=max(0, (deadline - today).days),
                title=title,
                code=code,
                unit_name=unit.name if unit else "–",
                deadline=deadline,
                admin_url=admin_url,
            )
        )
    return dict(sorted(preview.items()))


def report_preview(*, period: Period) -> tuple[list[str], list[str]]:
    """(committee members who would receive the period's pack, those it was already sent to)."""
    emails = sorted(r.email for r in committee_recipients())
    rows = ReportDelivery.objects.filter(period=period.start, kind=period.kind)
    sent = set(
        rows.filter(status=ReportDelivery.Status.SENT).values_list("recipient_email", flat=True)
    )
    return [e for e in emails if e not in sent], sorted(sent)

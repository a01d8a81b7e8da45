"""What a run would send, without recording or sending anything: the commands' dry runs and
the admin's preview."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from notifications.models import Notification, ReportDelivery
from notifications.recipients import committee_recipients
from notifications.sweep import reminders_due
from plans.models import Task


@dataclass(frozen=True)
class PreviewLine:
    rule: str
    rule_label: str
    task: Task
    days_overdue: int
    days_left: int


def reminders_preview(*, now: dt.datetime) -> dict[str, list[PreviewLine]]:
    """What a sweep at ``now`` would send, per recipient, leaving out steps already sent.
    Records nothing; the dry run and the admin's preview both show this."""
    # The tasks' reminders only: the self-assessment's item reminders are not previewed yet.
    due = [d for d in reminders_due(now=now) if d.task]
    done = (
        set(
            Notification.objects.filter(
                task__in={d.task.pk for d in due},
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
        task = reminder.task
        preview[reminder.recipient.email].append(
            PreviewLine(
                rule=reminder.step.rule,
                rule_label=str(Notification.Rule(reminder.step.rule).label),
                task=task,
                days_overdue=task.days_overdue(now),
                days_left=max(0, (task.deadline - today).days),
            )
        )
    return dict(sorted(preview.items()))


def report_preview(*, period: dt.date) -> tuple[list[str], list[str]]:
    """(committee members who would receive the period's pack, those it was already sent to)."""
    emails = sorted(r.email for r in committee_recipients())
    sent = set(
        ReportDelivery.objects.filter(period=period, status=ReportDelivery.Status.SENT).values_list(
            "recipient_email", flat=True
        )
    )
    return [e for e in emails if e not in sent], sorted(sent)

"""Celery tasks: thin wrappers that own scheduling and retries; the work is in services."""

from __future__ import annotations

import datetime as dt

from celery import Task, shared_task
from django.utils import timezone

from notifications.clock import parse_now
from notifications.services import (
    events_send_due,
    monthly_report_send_due,
    notifications_deliver,
    outbox_claims_stale_at,
    password_resets_deliver,
    reminders_send_due,
    report_deliveries_deliver,
)


def _now(value: str | None) -> dt.datetime | None:
    return parse_now(value) if value is not None else None


def _take_over_later(task: Task, now: str | None) -> None:
    """Rows still claimed by some sender after this run: if that sender died (a killed worker
    process), its rows are sent by a delivery run scheduled for when its claims go stale,
    minutes later (NOTIFICATIONS_STALE_CLAIM_SECONDS), not at the next 15-minute run or sweep.
    A live sender's claims stay fresh, so the run then finds nothing of theirs to take. The run
    goes to the queue this one came from (the workers that serve it)."""
    at = outbox_claims_stale_at()
    if at is None:
        return
    wait = max((at - timezone.now()).total_seconds(), 0) + 1
    queue = (task.request.delivery_info or {}).get("routing_key")
    deliver_notifications.apply_async(
        kwargs={"now": now}, countdown=wait, **({"queue": queue} if queue else {})
    )


@shared_task(bind=True, name="notifications.tasks.send_reminders")
def send_reminders(self: Task, now: str | None = None) -> dict[str, object]:
    """The scheduled sweep. ``now`` (ISO, read as ``--now`` is) is for operators replaying a
    day; the default is now."""
    result = reminders_send_due(now=_now(now)).as_dict()
    _take_over_later(self, now)
    return result


@shared_task(bind=True, name="notifications.tasks.deliver_notifications")
def deliver_notifications(self: Task, now: str | None = None) -> dict[str, object]:
    """Retries failed sends between sweeps (after a mail-server outage), and takes over a dead
    sender's rows, creating nothing new: reminders, report packs and password resets. ``now``
    is the replayed day of the run that scheduled it, if any."""
    at = _now(now) or timezone.now()
    report_deliveries_deliver(now=at)
    password_resets_deliver(now=at)
    result = notifications_deliver(now=at, between_sweeps=True).as_dict()
    _take_over_later(self, now)
    return result


@shared_task(bind=True, name="notifications.tasks.send_events")
def send_events(self: Task) -> dict[str, object]:
    """Every few minutes: decisions and new tasks, as inbox rows and e-mails."""
    result = events_send_due().as_dict()
    _take_over_later(self, None)
    return result


@shared_task(bind=True, name="notifications.tasks.send_monthly_report")
def send_monthly_report(self: Task, now: str | None = None) -> dict[str, object]:
    """Daily at 08:00; sends the pack of the month (or quarter, ``REPORTS_PERIOD``) just ended,
    only on the configured working day. Named when the pack was only monthly; the name is kept
    so that beat schedules and queued messages of earlier installs still find it."""
    result = monthly_report_send_due(now=_now(now))
    _take_over_later(self, now)
    return result


@shared_task(bind=True, name="notifications.tasks.send_password_resets")
def send_password_resets(self: Task) -> dict[str, int]:
    """Woken by the reset page after it recorded a request; sends every waiting reset."""
    report = password_resets_deliver()
    _take_over_later(self, None)
    return {
        "sent": report.emails_sent,
        "failed": report.rows_failed,
        "skipped": report.rows_skipped,
    }

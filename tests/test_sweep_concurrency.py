"""Concurrent sweeps report correct counts: each row is counted as new by exactly one sweep.

Four sweeps run in threads, each on its own database connection. A barrier holds every sweep
after it has read which keys exist and before it inserts, so all four try to insert the same
rows: the race that made each of four concurrent sweeps report "1646 new". On PostgreSQL (CI)
the inserts really overlap; on SQLite the database lock serialises them, and the barrier still
makes every sweep believe all the rows are its own.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import timezone

from notifications import services
from notifications.models import EVENT_RULES, Notification, ReportDelivery
from notifications.services import notifications_create_due, report_deliveries_create
from plans import roles
from plans.models import Assignment
from plans.periods import Period
from tests.factories import (
    AssignmentFactory,
    FocalPointFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SWEEPS = 4
NOW = timezone.make_aware(dt.datetime(2026, 7, 1, 8, 0))


def run_together(work: Callable[[], int], barrier_after: str, monkeypatch) -> list[int]:
    """Run ``work`` in SWEEPS threads at once, each stopping at a barrier right after
    ``services.<barrier_after>`` returns; the numbers each reports."""
    barrier = threading.Barrier(SWEEPS, timeout=30)
    original = getattr(services, barrier_after)

    def held(*args, **kwargs):
        result = original(*args, **kwargs)
        barrier.wait()
        return result

    monkeypatch.setattr(services, barrier_after, held)
    results: list[int] = []
    errors: list[BaseException] = []

    def thread() -> None:
        try:
            results.append(work())
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=thread) for _ in range(SWEEPS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_concurrent_sweeps_count_each_new_reminder_once(monkeypatch):
    lead = UnitFactory()
    monitor = UnitFactory()
    for _ in range(3):
        FocalPointFactory(unit=lead)
    FocalPointFactory(unit=monitor)
    for number in range(10):
        task = TaskFactory(lead_unit=lead, deadline=dt.date(2026, 6, 29), title=f"Việc {number}")
        AssignmentFactory(task=task, unit=monitor, role=Assignment.Role.MONITORING)

    def sweep() -> int:
        report = services.SweepReport()
        notifications_create_due(now=NOW, report=report)
        return report.created

    created = run_together(sweep, "recorded_keys", monkeypatch)

    # Reminders only: creating the tasks recorded "new task" news rows too.
    assert Notification.objects.exclude(rule__in=EVENT_RULES).count() == 10 * 4
    assert sum(created) == 40, f"each sweep's 'new': {created}"
    assert Notification.objects.filter(claim_token__isnull=False).count() == 0


def test_concurrent_pack_runs_count_each_new_delivery_once(monkeypatch):
    group = Group.objects.get(name=roles.STEERING_COMMITTEE)
    for number in range(6):
        UserFactory(email=f"bcd{number}@tinh.example").groups.add(group)

    def run() -> int:
        return report_deliveries_create(period=Period(dt.date(2026, 6, 1)), now=NOW).created

    created = run_together(run, "committee_recipients", monkeypatch)

    assert ReportDelivery.objects.count() == 6
    assert sum(created) == 6, f"each run's 'created': {created}"

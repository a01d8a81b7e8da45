"""Benchmark the reminder sweep at provincial scale and print time, peak memory and queries.

    DEBUG=true .venv/bin/python bench/sweep.py                      # SQLite, var/bench.sqlite3
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/dtiplan_bench \
        .venv/bin/python bench/sweep.py --tasks 100000

The database named is emptied of plan data and refilled: never point it at real data.
Shape: 300 units with 2 focal points each, ``--tasks`` open tasks (10,000 by default) of which
10% are overdue, created 1 to 90 days before the sweep; 90% of them acknowledged by their units
with a progress report in the last 20 days (the others get the "not acknowledged" and "no
progress" reminders). E-mail goes to Django's in-memory backend, so the figures are database
and rendering work, not SMTP. ``--skip-build`` reuses the data of the previous run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dtiplan.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from indicators.models import Indicator  # noqa: E402
from notifications.models import Notification, SweepAudience  # noqa: E402
from notifications.services import reminders_send_due  # noqa: E402
from plans.models import (  # noqa: E402
    Acknowledgement,
    Assignment,
    Plan,
    ProgressUpdate,
    Task,
    Unit,
    UnitMembership,
    User,
)

UNITS = 300
NOW = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))  # a Wednesday


def empty() -> None:
    """Remove the plan data. On PostgreSQL one TRUNCATE (deleting row by row writes a history
    row for each of 100,000 tasks and assignments, and takes longer than the benchmark)."""
    models = [Notification, ProgressUpdate, Acknowledgement, Assignment, Task, Plan]
    models += [UnitMembership, Unit]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            tables = ", ".join(model._meta.db_table for model in models)
            cursor.execute(f"TRUNCATE {tables} CASCADE")
    else:
        for model in models:
            model.objects.all().delete()
    User.objects.filter(username__startswith="bench-").delete()


def build(size: int) -> None:
    empty()

    rng = random.Random(2026)
    units = Unit.objects.bulk_create(
        Unit(name=f"Đơn vị {n:03d}", email=f"unit{n}@bench.example") for n in range(UNITS)
    )
    users = User.objects.bulk_create(
        User(username=f"bench-{n}", email=f"bench{n}@bench.example") for n in range(UNITS * 2)
    )
    UnitMembership.objects.bulk_create(
        UnitMembership(unit=units[n // 2], user=user) for n, user in enumerate(users)
    )
    plan = Plan.objects.create(title="Kế hoạch benchmark", year=2026)
    mains = list(Indicator.objects.main())
    today = timezone.localdate(NOW)
    tasks = []
    for n in range(size):
        if n < size // 10:
            deadline = today - dt.timedelta(days=rng.randint(1, 60))
        else:
            deadline = today + dt.timedelta(days=rng.randint(1, 300))
        tasks.append(
            Task(
                plan=plan,
                indicator=rng.choice(mains),
                title=f"Nhiệm vụ {n}",
                lead_unit=rng.choice(units),
                deadline=deadline,
                status=Task.Status.IN_PROGRESS,
            )
        )
    tasks = Task.objects.bulk_create(tasks, batch_size=1000)
    # ``created_at`` is set on insert: backdate the tasks, by day of creation.
    by_age = defaultdict(list)
    for task in tasks:
        task.created_at = NOW - dt.timedelta(days=rng.randint(1, 90))
        by_age[task.created_at].append(task.pk)
    for created_at, ids in by_age.items():
        Task.objects.filter(pk__in=ids).update(created_at=created_at)
    assignments = Assignment.objects.bulk_create(
        (
            Assignment(task=task, unit=rng.choice(units), role=Assignment.Role.MONITORING)
            for task in tasks
        ),
        batch_size=1000,
    )
    followed = [a for a in assignments if rng.random() < 0.9]
    Acknowledgement.objects.bulk_create(
        (
            Acknowledgement(task=a.task, unit=unit, at=a.task.created_at)
            for a in followed
            for unit in {a.task.lead_unit, a.unit}
        ),
        batch_size=1000,
    )
    ProgressUpdate.objects.bulk_create(
        (
            ProgressUpdate(
                task=a.task,
                unit=a.task.lead_unit,
                percent=50,
                created_at=NOW - dt.timedelta(days=rng.randint(0, 19)),
            )
            for a in followed
        ),
        batch_size=1000,
    )


def measure(label: str, *, trace_memory: bool = False) -> None:
    """Time (or, separately, peak memory: tracing slows Python down) and queries of one sweep."""
    # The log keeps the last 9,000 queries only: empty it so the count is this sweep's.
    connection.queries_log.clear()
    if trace_memory:
        tracemalloc.start()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        report = reminders_send_due(now=NOW)
    elapsed = time.perf_counter() - started
    memory = ""
    if trace_memory:
        memory = f"  peak {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB (traced, slower)"
        tracemalloc.stop()
    print(
        f"{label:<28} {elapsed:6.2f} s  {len(queries):5d} queries  "
        f"{report.due} due, {report.created} recorded, "
        f"{report.emails_sent} e-mails ({report.rows_sent} reminders) sent{memory}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000, help="open tasks (10%% overdue)")
    parser.add_argument("--skip-build", action="store_true", help="reuse the data in place")
    parser.add_argument("--no-memory", action="store_true", help="skip the traced run")
    parser.add_argument(
        "--idle-only", action="store_true", help="keep the rows of the last run: idle sweeps only"
    )
    options = parser.parse_args()
    vendor = connection.vendor
    print(
        f"dtiplan sweep benchmark on {vendor}: {UNITS} units, {options.tasks} open tasks, "
        f"{options.tasks // 10} overdue"
    )
    call_command("migrate", verbosity=0)
    if not options.skip_build:
        started = time.perf_counter()
        build(options.tasks)
        print(f"data built in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would soon after a bulk load
    if not options.idle_only:
        Notification.objects.all().delete()
        SweepAudience.objects.all().delete()
        measure("first run")
    measure("same day again (no-op)")
    measure("same day, third run (no-op)")
    if not (options.no_memory or options.idle_only):
        Notification.objects.all().delete()
        measure("first run, memory traced", trace_memory=True)


if __name__ == "__main__":
    main()

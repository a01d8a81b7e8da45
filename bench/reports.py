"""Benchmark the steering committee's reports at national scale: time and queries per page.

    DEBUG=true .venv/bin/python bench/reports.py          # SQLite, var/bench_reports.sqlite3
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/dtiplan_bench_reports \
        .venv/bin/python bench/reports.py

The database named is emptied of plan and score data and refilled: never point it at real data.
Shape (issue 6): 34 provinces with 5 years of scores (a synthetic 98-component set shaped like
Decision 922's, since the real components are not data we hold; every year under DTI2022 for
simplicity), 300 units, 10,000 tasks, 100,000 progress reports. Each report page is requested
through Django's test client as a steering committee member (the whole request: filters,
queries, chart, template); the pack is built as the monthly e-mail builds it (XLSX and DOCX).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dtiplan.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench_reports.sqlite3'}")
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from indicators.models import (  # noqa: E402
    Assessment,
    Indicator,
    IndicatorSet,
    Province,
    Score,
    WeakRule,
)
from indicators.services import assessments_refresh  # noqa: E402
from notifications.models import Notification, ReportDelivery  # noqa: E402
from plans import roles  # noqa: E402
from plans.models import (  # noqa: E402
    Acknowledgement,
    Assignment,
    CompletionSubmission,
    Decision,
    ExtensionRequest,
    IndicatorOwner,
    IndicatorOwnerUnit,
    OwnerRole,
    Plan,
    ProgressUpdate,
    Task,
    Unit,
    User,
)
from plans.periods import Period  # noqa: E402
from plans.reports.exports import pack_files  # noqa: E402

UNITS, TASKS, PROGRESS = 300, 10_000, 100_000
YEARS = range(2021, 2026)
COMPONENTS = {"1": 10, "2": 11, "3": 7, "4": 13, "5": 12, "6": 3, "7": 22, "8": 12, "9": 8}
NOW = timezone.make_aware(dt.datetime(2026, 7, 15, 9, 0))
HOME = "Lạng Sơn"
PAGES = [
    "/admin/reports/",
    "/admin/reports/units/",
    "/admin/reports/owners/",
    "/admin/reports/coverage/",
    "/admin/reports/overdue/",
    "/admin/reports/trend/",
    "/admin/reports/pack/",
    "/admin/reports/?download=xlsx",
    "/admin/reports/units/?download=xlsx",
    "/admin/reports/owners/?download=xlsx",
    "/admin/reports/overdue/?download=xlsx",
]


def build() -> None:
    call_command("migrate", verbosity=0)
    for model in (
        ReportDelivery,
        Notification,
        ProgressUpdate,
        CompletionSubmission,
        ExtensionRequest,
        Acknowledgement,
        Assignment,
        Task,
        Plan,
        Unit,
        Score,
        Assessment,
        WeakRule,
    ):
        model.objects.all().delete()
    User.objects.filter(username__startswith="bench-").delete()
    Indicator.objects.filter(parent__isnull=False).delete()

    rng = random.Random(2026)
    dti = IndicatorSet.objects.get(code="DTI2022")
    mains = {i.code: i for i in Indicator.objects.main().filter(indicator_set=dti)}
    components = []
    for code, count in COMPONENTS.items():
        main = mains[code]
        share = (main.max_points / count).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
        for n in range(1, count + 1):
            components.append(
                Indicator(
                    indicator_set=dti,
                    parent=main,
                    code=f"{code}.{n}",
                    name_vi=f"Chỉ số thành phần {code}.{n}",
                    max_points=share,
                    scored=main.scored,
                    sort_key=f"{code.zfill(4)}.{n:04d}",
                )
            )
    components = Indicator.objects.bulk_create(components)

    provinces = list(Province.objects.for_assessment_year(2025))
    assert len(provinces) == 34, len(provinces)
    for year in YEARS:
        assessments = Assessment.objects.bulk_create(
            Assessment(province=p, year=year, indicator_set=dti) for p in provinces
        )
        Score.objects.bulk_create(
            (
                Score(
                    assessment=a,
                    indicator=c,
                    points=(c.max_points * Decimal(rng.randint(0, 100)) / 100).quantize(
                        Decimal("0.01"), rounding="ROUND_DOWN"
                    ),
                )
                for a in assessments
                for c in components
            ),
            batch_size=2000,
        )
        assessments_refresh(assessment_ids=[a.pk for a in assessments])
        WeakRule.objects.create(year=year, zero_points=True, below_percent=50)

    home = next(p for p in provinces if p.name == HOME)
    plan = Plan.objects.create(title="Kế hoạch benchmark 2026", year=2026, province=home)
    units = Unit.objects.bulk_create(Unit(name=f"Đơn vị {n:03d}") for n in range(UNITS))
    # Each main indicator and every third component has its presiding unit (the others answer
    # through their main indicator's), for the indicator owners' page and sheet.
    owned = list(mains.values()) + components[::3]
    owners = IndicatorOwner.objects.bulk_create(
        IndicatorOwner(plan=plan, indicator=indicator) for indicator in owned
    )
    IndicatorOwnerUnit.objects.bulk_create(
        IndicatorOwnerUnit(owner=owner, unit=units[n % 40], role=OwnerRole.PRESIDING)
        for n, owner in enumerate(owners)
    )
    member = User.objects.create_user(
        "bench-committee", "bench-committee@bench.example", "bench", is_staff=True
    )
    member.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))

    today = timezone.localdate(NOW)
    statuses = [Task.Status.NEW, Task.Status.IN_PROGRESS, Task.Status.COMPLETED]
    scored = [c for c in components if c.scored]
    tasks = Task.objects.bulk_create(
        (
            Task(
                plan=plan,
                indicator=rng.choice(scored),
                title=f"Nhiệm vụ {n}",
                lead_unit=rng.choice(units),
                start_date=today - dt.timedelta(days=200),
                deadline=today + dt.timedelta(days=rng.randint(-150, 150)),
                status=rng.choice(statuses),
                percent_done=rng.randint(0, 100),
            )
            for n in range(TASKS)
        ),
        batch_size=2000,
    )
    Assignment.objects.bulk_create(
        (
            Assignment(task=t, unit=rng.choice(units), role=Assignment.Role.COORDINATING)
            for t in tasks
        ),
        batch_size=2000,
        ignore_conflicts=True,
    )
    Acknowledgement.objects.bulk_create(
        (Acknowledgement(task=t, unit=t.lead_unit) for t in tasks if rng.random() < 0.6),
        batch_size=2000,
    )
    start = timezone.make_aware(dt.datetime(2026, 1, 1))
    ProgressUpdate.objects.bulk_create(
        (
            ProgressUpdate(
                task=tasks[n % TASKS],
                unit=tasks[n % TASKS].lead_unit,
                created_at=start + dt.timedelta(minutes=n * 2),
                percent=rng.randint(0, 100),
                note=f"Báo cáo {n}",
                was_overdue=n % 5 == 0,
                delay_reason="Thiếu kinh phí" if n % 5 == 0 else "",
            )
            for n in range(PROGRESS)
        ),
        batch_size=5000,
    )
    CompletionSubmission.objects.bulk_create(
        (
            CompletionSubmission(
                task=t,
                unit=t.lead_unit,
                document_number=f"{t.pk}/BC",
                document_date=today,
                summary="Đã hoàn thành",
                was_overdue=t.pk % 3 == 0,
                delay_reason="Chậm" if t.pk % 3 == 0 else "",
                status=Decision.APPROVED,
                decided_at=NOW,
            )
            for t in tasks
            if t.status == Task.Status.COMPLETED
        ),
        batch_size=2000,
    )


def measure(runs: int = 3) -> None:
    client = Client()
    client.force_login(User.objects.get(username="bench-committee"))
    vendor = connection.vendor
    print(f"\n{vendor}: {TASKS:,} tasks, {PROGRESS:,} progress reports, 34 provinces x 5 years")
    print(f"{'page':45} {'median':>9} {'queries':>8}")
    for url in PAGES:
        times, queries = [], 0
        for _run in range(runs):
            # The log holds at most 9,000 queries; the build filled it, and a full log makes
            # CaptureQueriesContext count 0.
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url, SERVER_NAME="127.0.0.1")
                times.append(time.perf_counter() - began)
            assert response.status_code == 200, (url, response.status_code)
            queries = len(captured)
        print(f"{url:45} {statistics.median(times):8.2f}s {queries:8d}")
    times = []
    for _run in range(runs):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            _pack, files = pack_files(period=Period(dt.date(2026, 6, 1)), now=timezone.now())
            times.append(time.perf_counter() - began)
    sizes = ", ".join(
        f"{name.rsplit('.', 1)[1]} {len(content) / 1e6:.1f} MB" for name, content, _ in files
    )
    print(f"{'monthly pack (XLSX + DOCX)':45} {statistics.median(times):8.2f}s {len(captured):8d}")
    print(f"  ({sizes})")


if __name__ == "__main__":
    settings.ALLOWED_HOSTS = ["*"]
    began = time.perf_counter()
    build()
    print(f"built in {time.perf_counter() - began:.0f}s")
    measure()

"""Benchmark the self-assessment: opening a round for 47 and for 98 components, and building the
ministry's pack with 500 evidence files.

    DEBUG=true .venv/bin/python bench/self_assessment.py  # var/bench-self-assessment.sqlite3
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/dtiplan_bench_sa \
        .venv/bin/python bench/self_assessment.py

The database named gets two SYNTHETIC indicator sets ("BENCH-SA-47", "BENCH-SA-98": made-up
codes and names in the shape of the 2024 and the Decision 922 sets), their plans, 20 units and
the owners of every main indicator; its self-assessment rounds of the benchmark years are
replaced. Evidence files (500 PDFs of 200 KB, about 100 MB) are written under a temporary
EVIDENCE_ROOT and removed afterwards. Never point it at real data.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dtiplan.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-self-assessment.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from indicators.models import Indicator, IndicatorSet  # noqa: E402
from plans.models import Plan, SelfAssessmentItem, SelfAssessmentRound, Unit  # noqa: E402
from plans.self_assessment import (  # noqa: E402
    self_assessment_evidence_add,
    self_assessment_open,
    self_assessment_save,
)
from plans.self_assessment_pack import pack_write  # noqa: E402
from plans.services import indicator_owner_set  # noqa: E402

# (set code, first year, components per main indicator, max points per main indicator)
SETS = [
    ("BENCH-SA-47", 2095, [6, 6, 6, 6, 6, 6, 6, 5], [125] * 8),
    ("BENCH-SA-98", 2090, [10, 11, 7, 13, 12, 22, 12, 8, 3], [100] * 5 + [200, 150, 150, 0]),
]
EVIDENCE_FILES = 500
FILE_BYTES = 200 * 1024


def build_set(code: str, first_year: int, shape: list[int], points: list[int]) -> IndicatorSet:
    Plan.objects.filter(title__startswith=f"BENCH {code}").delete()
    Indicator.objects.filter(indicator_set__code=code, parent__isnull=False).delete()
    Indicator.objects.filter(indicator_set__code=code).delete()
    IndicatorSet.objects.filter(code=code).delete()
    indicator_set = IndicatorSet.objects.create(
        code=code, name=f"SYNTHETIC {code}", decision="BENCHMARK", first_year=first_year
    )
    for number, (count, main_points) in enumerate(zip(shape, points, strict=True), start=1):
        main = Indicator.objects.create(
            indicator_set=indicator_set,
            code=f"B{number}",
            name_vi=f"Chỉ số chính mẫu {number}",
            max_points=Decimal(main_points),
            scored=main_points > 0,
        )
        each = Decimal(main_points) / count if main_points else Decimal(0)
        Indicator.objects.bulk_create(
            Indicator(
                indicator_set=indicator_set,
                parent=main,
                code=f"B{number}.{n}",
                sort_key=f"B{number}.{n:04d}",
                name_vi=f"Chỉ số thành phần mẫu {number}.{n}",
                max_points=each.quantize(Decimal("0.01")),
                scored=main_points > 0,
            )
            for n in range(1, count + 1)
        )
    return indicator_set


def main() -> None:
    call_command("migrate", verbosity=0)
    units = [Unit.objects.get_or_create(name=f"Đơn vị mẫu {n:02d}")[0] for n in range(1, 21)]
    evidence_root = tempfile.mkdtemp(prefix="bench-sa-evidence-")
    settings.EVIDENCE_ROOT = Path(evidence_root)
    print(f"database: {connection.vendor}")
    rounds = {}
    for code, first_year, shape, points in SETS:
        SelfAssessmentRound.objects.filter(year=first_year).delete()  # items protect the set
        indicator_set = build_set(code, first_year, shape, points)
        plan = Plan.objects.create(title=f"BENCH {code}", year=first_year)
        for index, main in enumerate(indicator_set.indicators.filter(parent__isnull=True)):
            indicator_owner_set(
                plan=plan,
                indicator=main,
                presiding_unit=units[index % 20],
                monitoring_unit=units[(index + 1) % 20],
                coordinating_units=[units[(index + 2) % 20]],
            )
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            opened = self_assessment_open(
                year=first_year, deadline=dt.date(first_year + 1, 1, 15), by=None
            )
            took = time.perf_counter() - started
        rounds[code] = opened.round
        print(
            f"open {code}: {opened.items} items in {took:.2f} s, {len(queries)} queries, "
            f"{len(opened.without_owner)} without owner"
        )

    round_ = rounds["BENCH-SA-98"]
    items = list(SelfAssessmentItem.objects.filter(round=round_).select_related("indicator"))
    body = b"%PDF-1.4\n" + os.urandom(FILE_BYTES - 9)
    started = time.perf_counter()
    for item in items:
        half = (item.max_points / 2).quantize(Decimal("0.01"))
        self_assessment_save(item=item, by=None, points=half, figures="1/2")
    for n in range(EVIDENCE_FILES):
        item = items[n % len(items)]
        upload = SimpleUploadedFile(f"Minh chứng {n % 7}.pdf", body, "application/pdf")
        self_assessment_evidence_add(item=item, by=None, file=upload)
    filled = time.perf_counter() - started
    print(f"filled {len(items)} items and {EVIDENCE_FILES} files in {filled:.1f} s")

    target = Path(tempfile.gettempdir()) / "bench-self-assessment-pack.zip"
    tracemalloc.start()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        with target.open("wb") as out:
            stats = pack_write(round=round_, out=out)
        took = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"pack: {stats.items} items, {stats.files} files, {target.stat().st_size / 1e6:.1f} MB "
        f"in {took:.2f} s, {len(queries)} queries, peak Python memory {peak / 1e6:.1f} MB"
    )
    target.unlink()
    for path in sorted(Path(evidence_root).rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    Path(evidence_root).rmdir()


if __name__ == "__main__":
    main()

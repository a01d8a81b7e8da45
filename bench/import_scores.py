"""Benchmark loading one year of DTI results: 34 provinces × 98 component scores.

    DEBUG=true .venv/bin/python bench/import_scores.py      # SQLite: var/bench-scores.sqlite3
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/dtiplan_bench_scores \
        .venv/bin/python bench/import_scores.py

The database named is emptied of results (assessments, scores) and gets a SYNTHETIC indicator
set: the real 98 components of Decision 922/QĐ-BTTTT are not public data we hold, so the set
"BENCH-SYNTHETIC" copies its shape (9 main indicators with 10, 11, 7, 13, 12, 3, 22, 12 and 8
components, 1,000 points, smart city unscored) with made-up codes "B7.12" and names. Never point
it at real data.

The file goes through the same door as a coordinator's (``manage.py import``, CSV in UTF-8 with
BOM, Vietnamese headers, province names as the ministry writes them), three times: the first
load (3,332 new scores), the same file again (nothing changes) and a corrected file in which
every score changed.
"""

from __future__ import annotations

import csv
import io
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dtiplan.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-scores.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import translation  # noqa: E402

from indicators.models import (  # noqa: E402
    Assessment,
    Indicator,
    IndicatorSet,
    Province,
    Score,
)

YEAR = 2025  # the 34 provinces
SET_CODE = "BENCH-SYNTHETIC"
# (main code, max points, number of components, scored): the shape of Decision 922's Table I.1.
SHAPE = [
    ("1", 100, 10, True),
    ("2", 100, 11, True),
    ("3", 100, 7, True),
    ("4", 100, 13, True),
    ("5", 100, 12, True),
    ("6", 0, 3, False),
    ("7", 200, 22, True),
    ("8", 150, 12, True),
    ("9", 150, 8, True),
]


def build() -> list[Indicator]:
    call_command("migrate", verbosity=0)
    Score.objects.all().delete()
    Assessment.objects.all().delete()
    Indicator.objects.filter(indicator_set__code=SET_CODE, parent__isnull=False).delete()
    Indicator.objects.filter(indicator_set__code=SET_CODE).delete()
    IndicatorSet.objects.filter(code=SET_CODE).delete()
    indicator_set = IndicatorSet.objects.create(
        code=SET_CODE,
        name="SYNTHETIC benchmark set (shape of Decision 922, not real indicators)",
        decision="BENCHMARK",
        first_year=YEAR,
    )
    components = []
    for code, max_points, count, scored in SHAPE:
        main = Indicator.objects.create(
            indicator_set=indicator_set,
            code=f"B{code}",
            name_vi=f"Chỉ số chính GIẢ LẬP {code}",
            max_points=Decimal(max_points),
            scored=scored,
        )
        # Equal shares, the last component taking the rounding remainder.
        share = (Decimal(max_points) / count).quantize(Decimal("0.01"))
        for n in range(1, count + 1):
            last = n == count
            components.append(
                Indicator(
                    indicator_set=indicator_set,
                    parent=main,
                    code=f"B{code}.{n}",
                    name_vi=f"Chỉ số thành phần GIẢ LẬP {code}.{n}",
                    max_points=Decimal(max_points) - share * (count - 1) if last else share,
                    scored=scored,
                )
            )
    for indicator in components:
        indicator.save()  # save() sets the natural sort key
    assert len(components) == 98
    return components


def ministry_name(province: Province) -> str:
    # As the ministry's tables write them: "TP. Đà Nẵng", "Tỉnh Lạng Sơn".
    return f"TP. {province.name}" if province.is_city else f"Tỉnh {province.name}"


def write_file(path: Path, components: list[Indicator], seed: int) -> int:
    rng = random.Random(seed)
    provinces = list(Province.objects.for_assessment_year(YEAR))
    assert len(provinces) == 34
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["STT", "Tỉnh/thành phố", "Năm", "Mã chỉ số", "Điểm"])
    rows = 0
    for province in provinces:
        for indicator in components:
            rows += 1
            cents = rng.randint(0, int(indicator.max_points * 100))
            points = Decimal(cents) / 100
            writer.writerow([rows, ministry_name(province), YEAR, indicator.code, f"{points:.2f}"])
    path.write_bytes(out.getvalue().encode("utf-8-sig"))
    return rows


def measure(label: str, path: Path) -> None:
    started = time.perf_counter()
    out = io.StringIO()
    with CaptureQueriesContext(connection) as queries, translation.override("en"):
        call_command(
            "import", "indicators.resources.ScoreResource", str(path), "--no-input", stdout=out
        )
    elapsed = time.perf_counter() - started
    print(f"{label:<32} {elapsed:6.2f} s  {len(queries):5d} queries  {out.getvalue().strip()}")


def main() -> None:
    print(f"dtiplan score import benchmark on {connection.vendor}: 34 provinces × 98 components")
    started = time.perf_counter()
    components = build()
    print(f"synthetic set built in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        first, corrected = Path(folder) / "dti.csv", Path(folder) / "dti-corrected.csv"
        rows = write_file(first, components, seed=2025)
        write_file(corrected, components, seed=2026)
        print(f"file: {rows} rows, {first.stat().st_size / 1e3:.0f} kB")
        measure("first load", first)
        measure("same file again (no change)", first)
        measure("every score corrected", corrected)
    top = Assessment.objects.filter(year=YEAR).with_rank().order_by("rank").first()
    print(
        f"check: {Assessment.objects.filter(year=YEAR).count()} assessments, "
        f"{Score.objects.filter(assessment__year=YEAR).count()} scores (98 + 8 scored sums "
        f"+ 1 unscored per province); 1st: {top.province.name} {top.value}"
    )


if __name__ == "__main__":
    main()

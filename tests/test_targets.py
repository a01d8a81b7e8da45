"""A plan's targets: where the province stands on the latest published results, the gap, the
earlier years, and what it takes (points still needed, weak indicators by recoverable points
with their owners), as pages and XLSX.

DTI 2024 figures are the ministry's (21 October 2025): Hà Nội 0.8241 (4th of 63, 1st of 34),
Huế 0.7951 (2nd of 34), Hải Phòng 0.7857 (3rd of 34), Hồ Chí Minh 0.7770 (4th of 34), Khánh
Hòa 0.7071 (16th of 34). The 2023 figures for Hà Nội and Khánh Hòa are stand-ins, not
published ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from indicators.models import Province
from plans.models import Plan, Target, TargetKind
from plans.services import indicator_owner_set
from tests.factories import (
    ComponentIndicatorFactory,
    PlanFactory,
    UnitFactory,
    UserFactory,
    dti2024,
)

pytestmark = pytest.mark.django_db

PUBLISHED = [
    ("Hà Nội", 2023, 63, "0,8000", 6),  # stand-in
    ("Khánh Hòa", 2023, 63, "0,6500", 30),  # stand-in
    ("Hà Nội", 2024, 63, "0,8241", 4),
    ("Hà Nội", 2024, 34, "0,8241", 1),
    ("Huế", 2024, 34, "0,7951", 2),
    ("Hải Phòng", 2024, 34, "0,7857", 3),
    ("Hồ Chí Minh", 2024, 34, "0,7770", 4),
    ("Khánh Hòa", 2024, 34, "0,7071", 16),
]


def import_rows(tmp_path: Path, name: str, rows: list[list[object]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path = tmp_path / name
    path.write_bytes(out.getvalue().encode("utf-8-sig"))
    call_command(
        "import",
        "indicators.resources.ScoreResource",
        str(path),
        "--no-input",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )


@pytest.fixture
def published(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Tỉnh, thành phố", "Năm", "Bảng xếp hạng", "Giá trị", "Xếp hạng"]]
    rows.extend([name, year, size, value, rank] for name, year, size, value, rank in PUBLISHED)
    import_rows(tmp_path, "dti.csv", rows)


def plan_for(name: str) -> Plan:
    plan = PlanFactory(
        province=Province.objects.in_force(dt.date(2026, 1, 1)).get(name=name),
        year=2026,
        first_year=2026,
        last_year=2028,
    )
    return plan


def test_targets_report_shows_the_latest_published_position_the_gap_and_the_earlier_years(
    published, admin_client
):
    khanh_hoa = plan_for("Khánh Hòa")
    Target.objects.create(plan=khanh_hoa, kind=TargetKind.RANK, year=2026, rank=10)
    hanoi = plan_for("Hà Nội")
    Target.objects.create(plan=hanoi, kind=TargetKind.RANK, year=2026, rank=3, ranking=63)
    Target.objects.create(plan=hanoi, kind=TargetKind.POINTS, year=2027, points=Decimal("850"))
    admin_client.cookies["django_language"] = "en"

    response = admin_client.get("/admin/reports/targets/")

    assert response.status_code == 200
    lines = {str(line.target): line for line in response.context["lines"]}
    khanh = lines["2026: rank 10 or better of 34"]
    assert (khanh.latest.year, khanh.current, khanh.gap) == (2024, 16, 6)
    hanoi_rank = lines["2026: rank 3 or better of 63"]
    assert (hanoi_rank.current, hanoi_rank.gap) == (4, 1)
    assert hanoi_rank.trend_measures == [(2023, 6)]  # the earlier year, in the same ranking
    hanoi_points = lines["2027: at least 850.00 points"]
    assert (hanoi_points.current, hanoi_points.gap) == (Decimal("824.10"), Decimal("25.90"))
    page = response.content.decode()
    assert "2023: 6" in page and "824.10" in page and "25.90" in page

    download = admin_client.get(f"/admin/reports/targets/?plan={khanh_hoa.pk}&download=xlsx")
    sheet = load_workbook(io.BytesIO(download.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:8] == (
        "Plan",
        "Province",
        "Target",
        "Latest year",
        "Latest position",
        "Rank",
        "Out of",
        "Gap",
    )
    assert len(rows) == 2
    assert rows[1][1:8] == ("Khánh Hòa", "2026: rank 10 or better of 34", 2024, 16, 16, 34, 6)


def test_a_reached_target_says_so(published, admin_client):
    plan = plan_for("Huế")
    Target.objects.create(plan=plan, kind=TargetKind.VALUE, year=2026, value=Decimal("0.75"))
    admin_client.cookies["django_language"] = "en"

    page = admin_client.get("/admin/reports/targets/").content.decode()

    assert "0.7951" in page and "reached" in page


def test_what_it_takes_names_the_province_to_beat_and_the_weak_indicators_by_points_to_win(
    published, tmp_path, admin_client
):
    main = dti2024().indicators.get(code="6")
    small = ComponentIndicatorFactory(
        code="6.1", indicator_set=dti2024(), parent=main, max_points=Decimal("10")
    )
    big = ComponentIndicatorFactory(
        code="6.2", indicator_set=dti2024(), parent=main, max_points=Decimal("40")
    )
    import_rows(
        tmp_path,
        "components.csv",
        [
            ["province", "year", "indicator_code", "points"],
            ["Khánh Hòa", 2024, "6.1", "2"],
            ["Khánh Hòa", 2024, "6.2", "5"],
        ],
    )
    plan = plan_for("Khánh Hòa")
    target = Target.objects.create(plan=plan, kind=TargetKind.RANK, year=2026, rank=4)
    department = UnitFactory(name="=Sở Khoa học và Công nghệ")  # a formula-like name
    indicator_owner_set(plan=plan, indicator=big, presiding_unit=department)
    admin_client.cookies["django_language"] = "en"

    response = admin_client.get(f"/admin/reports/targets/what-it-takes/?target={target.pk}")

    assert response.status_code == 200
    line = response.context["line"]
    assert (line.rival_name, line.rival_value) == ("Hồ Chí Minh", Decimal("0.7770"))
    assert (line.value_needed, line.points_needed) == (Decimal("0.0699"), Decimal("69.90"))
    assert [(w.score.indicator.code, w.recoverable) for w in line.weak] == [
        ("6.2", Decimal("35")),
        ("6.1", Decimal("8")),
    ]
    page = response.content.decode()
    assert "Hồ Chí Minh" in page and "69.90" in page and "=Sở Khoa học và Công nghệ" in page
    assert page.index("6.2") < page.index("6.1")

    download = admin_client.get(
        f"/admin/reports/targets/what-it-takes/?target={target.pk}&download=xlsx"
    )
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == "6.2" and rows[1][5] == 35
    assert rows[1][6] == "'=Sở Khoa học và Công nghệ"  # sanitised: not a formula
    assert rows[2][0] == "6.1" and rows[2][6] in ("", None)
    assert small.pk


def test_the_targets_report_costs_the_same_queries_for_many_plans(
    published, admin_client, django_assert_max_num_queries
):
    for number in range(8):
        plan = PlanFactory(
            province=Province.objects.in_force(dt.date(2026, 1, 1)).get(name="Hà Nội"),
            title=f"KH {number}",
        )
        Target.objects.create(plan=plan, kind=TargetKind.RANK, year=2026, rank=2)
        Target.objects.create(plan=plan, kind=TargetKind.VALUE, year=2026, value=Decimal("0.9"))
    with django_assert_max_num_queries(30):
        response = admin_client.get("/admin/reports/targets/")
    assert len(response.context["lines"]) == 16


def test_a_target_of_another_kind_must_leave_the_other_figures_empty_and_stay_in_the_plan_years():
    plan = PlanFactory(year=2026, first_year=2026, last_year=2027)
    target = Target(plan=plan, kind=TargetKind.RANK, year=2029, rank=40, points=Decimal("800"))
    with pytest.raises(ValidationError) as caught:
        target.full_clean()
    assert set(caught.value.message_dict) == {"year", "rank", "points"}
    with transaction.atomic(), pytest.raises(IntegrityError):
        Target.objects.create(plan=plan, kind=TargetKind.RANK, year=2026, rank=35)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Target.objects.create(plan=plan, kind=TargetKind.VALUE, year=2026, value=Decimal("1.5"))


def test_a_plans_last_year_cannot_be_before_its_first():
    plan = PlanFactory.build(year=2026, first_year=2027, last_year=2026)
    with pytest.raises(ValidationError) as caught:
        plan.full_clean()
    assert "last_year" in caught.value.message_dict
    with transaction.atomic(), pytest.raises(IntegrityError):
        plan.save()


def test_the_plan_admin_edits_targets_inline(admin_client):
    plan = PlanFactory(year=2026, first_year=2026, last_year=2028)
    page = admin_client.get(f"/admin/plans/plan/{plan.pk}/change/").content.decode()
    assert 'name="targets-TOTAL_FORMS"' in page and 'name="first_year"' in page


def test_main_indicators_in_the_top_counts_those_ranked_within_it(
    published, tmp_path, admin_client
):
    # Stand-in ranks of Hà Nội's main indicators in the 34 ranking of 2024, not published ones.
    rows: list[list[object]] = [["province", "year", "ranking", "indicator_code", "rank"]]
    rows.extend(["Hà Nội", 2024, 34, code, rank] for code, rank in [("1", 2), ("2", 5), ("3", 11)])
    import_rows(tmp_path, "mains.csv", rows)
    plan = plan_for("Hà Nội")
    Target.objects.create(plan=plan, kind=TargetKind.MAIN_IN_TOP, year=2026, count=4, rank=10)
    admin_client.cookies["django_language"] = "en"

    response = admin_client.get("/admin/reports/targets/")

    [line] = response.context["lines"]
    assert (str(line.target), line.current, line.gap) == (
        "2026: 4 main indicators in the top 10 of 34",
        2,
        2,
    )


def test_the_targets_report_speaks_vietnamese(published, admin_client):
    plan = plan_for("Khánh Hòa")
    Target.objects.create(plan=plan, kind=TargetKind.RANK, year=2026, rank=10)
    admin_client.cookies["django_language"] = "vi"

    page = admin_client.get("/admin/reports/targets/").content.decode()

    assert "Khoảng cách" in page
    assert "2026: xếp hạng 10 trở lên trong 34 tỉnh, thành phố" in page


def test_an_unknown_target_is_not_found_and_staff_without_the_reports_permission_are_refused(
    client, admin_client
):
    assert admin_client.get("/admin/reports/targets/what-it-takes/?target=999").status_code == 404
    client.force_login(UserFactory(username="staff@tinh.example", is_staff=True))
    assert client.get("/admin/reports/targets/").status_code == 403
    assert client.get("/admin/reports/targets/what-it-takes/").status_code == 403

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
    assert rows[0][5:8] == ("Recoverable points", "Running total", "Presiding unit")
    assert rows[1][0] == "6.2" and rows[1][5] == 35
    assert rows[1][7] == "'=Sở Khoa học và Công nghệ"  # sanitised: not a formula
    # Khánh Hòa of 2026 stands for the average of Khánh Hòa and Ninh Thuận of 2024: a point won
    # on the former Khánh Hòa's indicators is half a point of it.
    assert rows[1][6] == 17.5 and rows[2][0] == "6.1" and rows[2][5:8] == (8, 21.5, None)
    assert "average of its 2 former provinces" in page and "1/2 of a point" in page
    # 21.50 points cannot cover 69.90: no line closes the gap, and the page says so.
    assert not any(row[9] for row in rows[1:])
    assert "All the weak indicators together recover 21.50" in page
    assert "less than the 69.90 still needed" in page
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


def components_of(
    tmp_path: Path,
    main_code: str,
    points: dict[str, tuple[str, str]],
    name: str = "Khánh Hòa",
) -> None:
    """Components of a main indicator of the 2024 set, {code: (max points, points)}, and the
    province's 2024 points on them (under the 63 provinces of that year)."""
    main = dti2024().indicators.get(code=main_code)
    for code, (most, _points) in points.items():
        ComponentIndicatorFactory(
            code=code, indicator_set=dti2024(), parent=main, max_points=Decimal(most)
        )
    rows: list[list[object]] = [["province", "year", "indicator_code", "points"]]
    rows.extend([name, 2024, code, got] for code, (_most, got) in points.items())
    import_rows(tmp_path, f"components-{main_code}.csv", rows)


def test_what_it_takes_adds_up_the_recoverable_points_and_marks_where_the_gap_closes(
    published, tmp_path, admin_client, django_assert_max_num_queries
):
    # Hà Nội (the same province before and after the merger): 0.8241 in 2024, i.e. 824.10
    # points; 857 points need 32.90 more.
    components = {"6.1": ("40", "15"), "6.2": ("10", "2"), "6.3": ("20", "5")}
    components_of(tmp_path, "6", components, name="Hà Nội")
    plan = plan_for("Hà Nội")
    target = Target.objects.create(
        plan=plan, kind=TargetKind.POINTS, year=2026, points=Decimal("857")
    )
    admin_client.cookies["django_language"] = "en"

    with django_assert_max_num_queries(15):
        response = admin_client.get(f"/admin/reports/targets/what-it-takes/?target={target.pk}")

    line = response.context["line"]
    assert line.points_needed == Decimal("32.90")
    assert [(w.score.indicator.code, w.running_total, w.closes_gap) for w in line.weak] == [
        ("6.1", Decimal("25"), False),
        ("6.3", Decimal("40"), True),  # 25 + 15 = 40 ≥ 32.90: the first two suffice
        ("6.2", Decimal("48"), False),
    ]
    page = response.content.decode()
    closing = page.index('class="closes-gap"')
    assert page.index("<td>6.3</td>") < closing < page.index("<td>6.2</td>")
    assert "Closes the gap here: the 2 indicators above recover 40" in page
    assert "covering the 32.90 still needed" in page
    assert "less than the" not in page and "former provinces" not in page

    download = admin_client.get(
        f"/admin/reports/targets/what-it-takes/?target={target.pk}&download=xlsx"
    )
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert [(row[0], row[6], row[9]) for row in rows[1:]] == [
        ("6.1", 25, None),
        ("6.3", 40, "closes the gap here (32.90 points needed)"),
        ("6.2", 48, None),
    ]
    admin_client.cookies["django_language"] = "vi"
    page = admin_client.get(f"/admin/reports/targets/what-it-takes/?target={target.pk}")
    assert "Đủ bù khoảng cách tại đây: 2 chỉ số ở trên giành thêm được 40,00 điểm" in (
        page.content.decode()
    )


# Main indicators 1-4 of the 2024 set in the 34-province ranking: (province, value, rank).
# Stand-in figures, not published ones.
MAINS = {
    "1": [("Hà Nội", "0.9000", 1), ("Khánh Hòa", "0.8800", 2), ("Huế", "0.8000", 3)],
    "2": [
        ("Hà Nội", "0.9000", 1),
        ("Huế", "0.8500", 2),
        ("Hải Phòng", "0.8000", 3),
        ("Khánh Hòa", "0.7000", 5),
    ],
    "3": [
        ("Hà Nội", "0.9000", 1),
        ("Huế", "0.8000", 2),
        ("Hồ Chí Minh", "0.7500", 3),
        ("Khánh Hòa", "0.7200", 4),
    ],
    # A tie at 2 leaves rank 3 empty: the value to match is the last one within the top 3.
    "4": [
        ("Hà Nội", "0.9000", 1),
        ("Huế", "0.8500", 2),
        ("Hải Phòng", "0.8500", 2),
        ("Khánh Hòa", "0.8000", 4),
    ],
}


@pytest.fixture
def mains_published(published, tmp_path: Path) -> None:
    rows: list[list[object]] = [["province", "year", "ranking", "indicator_code", "value", "rank"]]
    rows.extend(
        [name, 2024, 34, code, value, rank]
        for code, ranked in MAINS.items()
        for name, value, rank in ranked
    )
    import_rows(tmp_path, "mains.csv", rows)


def test_what_it_takes_for_main_indicators_in_the_top_brings_in_the_cheapest_first(
    mains_published, tmp_path, admin_client, django_assert_max_num_queries
):
    components_of(tmp_path, "3", {"3.1": ("10", "2"), "3.2": ("40", "5")})
    components_of(tmp_path, "2", {"2.1": ("20", "0")})
    plan = plan_for("Khánh Hòa")
    target = Target.objects.create(
        plan=plan, kind=TargetKind.MAIN_IN_TOP, year=2026, count=3, rank=3
    )
    department = UnitFactory(name="Sở Công Thương")
    indicator_owner_set(
        plan=plan, indicator=dti2024().indicators.get(code="3.2"), presiding_unit=department
    )
    admin_client.cookies["django_language"] = "en"

    with django_assert_max_num_queries(24):
        response = admin_client.get(f"/admin/reports/targets/what-it-takes/?target={target.pk}")

    line = response.context["line"]
    assert (line.current, line.gap) == (1, 2)  # only main indicator 1 is in the top 3
    found = {
        m.indicator.code: (m.value, m.rank, m.in_top, m.rival_name, m.rival_value, m.gap, m.order)
        for m in line.mains
    }
    assert found["1"] == (Decimal("0.88"), 2, True, "", None, 0, None)
    assert found["2"] == (
        Decimal("0.7"),
        5,
        False,
        "Hải Phòng",
        Decimal("0.8"),
        Decimal("0.1"),
        None,
    )
    assert found["3"] == (
        Decimal("0.72"),
        4,
        False,
        "Hồ Chí Minh",
        Decimal("0.75"),
        Decimal("0.03"),
        1,
    )
    assert found["4"] == (Decimal("0.8"), 4, False, "Huế", Decimal("0.85"), Decimal("0.05"), 2)
    assert found["5"][:2] == (None, None) and found["5"][5:] == (None, None)  # nothing published
    assert [m.indicator.code for m in line.mains_to_bring_in] == ["3", "4"]
    assert [(w.score.indicator.code, w.recoverable) for w in line.mains[2].weak] == [
        ("3.2", Decimal("35")),
        ("3.1", Decimal("8")),
    ]
    page = response.content.decode()
    assert "In 2024, 1 main indicator is in the top 3. 2 more to bring in." in page
    assert "to bring in (1)" in page and "to bring in (2)" in page
    assert page.index("to bring in (1)") < page.index("to bring in (2)")
    assert "<td>2.1</td>" not in page  # main indicator 2 is not among the cheapest two
    assert page.index("<td>3.2</td>") < page.index("<td>3.1</td>") and "Sở Công Thương" in page
    assert "No weak component of this main indicator" in page  # under main indicator 4
    assert "<th>Status</th>" in page  # the last column is headed too

    download = admin_client.get(
        f"/admin/reports/targets/what-it-takes/?target={target.pk}&download=xlsx"
    )
    book = load_workbook(io.BytesIO(download.content))
    assert book.sheetnames == ["Main indicators", "Weak components"]
    mains = list(book["Main indicators"].iter_rows(values_only=True))
    assert mains[0][4] == "Province at rank 3"
    assert [(row[0], row[6], row[7], row[8]) for row in mains[1:5]] == [
        ("1", 0, "yes", None),
        ("2", 0.1, "no", None),
        ("3", 0.03, "no", 1),
        ("4", 0.05, "no", 2),
    ]
    components = list(book["Weak components"].iter_rows(values_only=True))
    assert [(row[0], row[1], row[2], row[7], row[8]) for row in components[1:]] == [
        (1, "3", "3.2", 35, "Sở Công Thương"),
        (1, "3", "3.1", 8, None),
    ]
    admin_client.cookies["django_language"] = "vi"
    page = admin_client.get(f"/admin/reports/targets/what-it-takes/?target={target.pk}")
    text = page.content.decode()
    assert "Năm 2024, có 1 chỉ số chính trong nhóm 3 dẫn đầu. Cần đưa thêm 2" in text
    assert "cần đưa vào nhóm (1)" in text and "Tỉnh, thành phố ở thứ hạng 3" in text

"""DTI as the ministry publishes it: values and ranks (no points for DTI 2024), both 2024
rankings (the 63 provinces of that year and the 34 of 1 July 2025), the set of each year, the
weakness rule that never vanishes, and names by year.

The published figures below are the ministry's, as reported on 21 October 2025 (DTI 2024) and
in 2024 (DTI 2023): Hà Nội 0.8241 (4th of 63, 1st of 34), Thừa Thiên Huế 0.7951 (5th of 63;
Huế 2nd of 34), Hải Phòng 0.7857 (3rd of 34: Hải Phòng + Hải Dương), Hồ Chí Minh 0.7770
(4th of 34: Hồ Chí Minh + Bình Dương + Bà Rịa - Vũng Tàu), Khánh Hòa 0.7071 (16th of 34:
Khánh Hòa + Ninh Thuận); Đà Nẵng 0.8340 (1st of 63 in 2023), Bình Dương 0.7411 (7th).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation

from indicators.models import Assessment, IndicatorSet, PublishedResult, Score, WeakRule
from indicators.provinces import ProvinceDirectory
from indicators.services import published_differences, year_rankings
from plans import roles
from tests.factories import ComponentIndicatorFactory, UserFactory, cp1258_bytes, dti2024

pytestmark = pytest.mark.django_db

SCORES = "indicators.resources.ScoreResource"

# The ministry's published DTI 2024 and 2023 figures: (province as published, year, ranking,
# value, rank).
PUBLISHED = [
    ("Đà Nẵng", 2023, 63, "0.8340", 1),
    ("Bình Dương", 2023, 63, "0.7411", 7),
    ("Hà Nội", 2024, 63, "0.8241", 4),
    ("Thừa Thiên Huế", 2024, 63, "0.7951", 5),
    ("Hà Nội", 2024, 34, "0.8241", 1),
    ("Huế", 2024, 34, "0.7951", 2),
    ("Hải Phòng", 2024, 34, "0.7857", 3),
    ("Hồ Chí Minh", 2024, 34, "0.7770", 4),
    ("Khánh Hòa", 2024, 34, "0.7071", 16),
]

# The former provinces' own 2024 values are not in the sources found: these stand-ins are chosen
# so that their average is the published 34-province value, to check that dtiplan derives the
# ministry's figure by the ministry's rule (the average of the former provinces' values, to 4
# decimals). They are not published figures.
FORMER_2024 = {
    "Hải Phòng": [("Hải Phòng", "0.8000"), ("Hải Dương", "0.7714")],
    "Hồ Chí Minh": [
        ("Hồ Chí Minh", "0.8100"),
        ("Bình Dương", "0.7700"),
        ("Bà Rịa - Vũng Tàu", "0.7510"),
    ],
    "Khánh Hòa": [("Khánh Hòa", "0.7300"), ("Ninh Thuận", "0.6842")],
}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def csv_file(path: Path, rows: list[list[object]], encoding: str = "utf-8-sig") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return str(path)


def run_import(path: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", SCORES, path, "--no-input", stdout=out, stderr=err)
    except CommandError as exc:
        raise AssertionError(err.getvalue()) from exc
    return out.getvalue()


def failed_import(path: str) -> list[str]:
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import", SCORES, path, "--no-input", stdout=io.StringIO(), stderr=err)
    return err.getvalue().strip().splitlines()


def published_table(tmp_path: Path, year: int, ranking: int | None = None) -> str:
    """The ministry's DTI table of ``year`` as published: values and ranks, no points, the
    DTI itself (no indicator code), Vietnamese headers, decimal commas."""
    rows: list[list[object]] = [
        ["STT", "Tỉnh, thành phố", "Năm", "Bảng xếp hạng", "Giá trị", "Xếp hạng"]
    ]
    for number, (name, y, size, value, rank) in enumerate(PUBLISHED, start=1):
        if y == year and (ranking is None or size == ranking):
            rows.append([number, name, y, size, value.replace(".", ","), rank])
    return csv_file(tmp_path / f"dti{year}-{ranking}.csv", rows)


def former_values_table(tmp_path: Path) -> str:
    rows: list[list[object]] = [["province", "year", "value"]]
    for formers in FORMER_2024.values():
        rows.extend([name, 2024, value] for name, value in formers)
    return csv_file(tmp_path / "formers.csv", rows)


def rankings(year: int) -> dict[tuple[int, str], tuple[Decimal | None, int | None, str]]:
    """{(ranking, name): (official value, official rank, averaged from)} of the DTI."""
    return {
        (row.ranking, row.name): (
            row.result.official_value,
            row.result.official_rank,
            row.averaged_from,
        )
        for row in year_rankings(year=year)
    }


# --- The published tables import as published ------------------------------------------------


def test_the_published_2024_table_of_values_and_ranks_imports_without_points(tmp_path: Path):
    run_import(published_table(tmp_path, 2024, 63))

    hanoi = Assessment.objects.with_published().get(province__name="Hà Nội", year=2024)
    assert hanoi.indicator_set.code == "DTI2024"
    assert (hanoi.points, hanoi.value) == (None, Decimal("0.8241"))  # no points invented
    assert (hanoi.published_value, hanoi.published_rank) == (Decimal("0.8241"), 4)
    hue = Assessment.objects.with_published().get(province__name="Huế", year=2024)
    assert (hue.value, hue.published_rank) == (Decimal("0.7951"), 5)


@pytest.mark.parametrize(("name", "year", "ranking", "value", "rank"), PUBLISHED)
def test_every_published_figure_is_stored_to_4_decimals_with_its_rank(
    tmp_path: Path, name: str, year: int, ranking: int, value: str, rank: int
):
    run_import(published_table(tmp_path, year))
    stored = PublishedResult.objects.overall().get(
        year=year, ranking=ranking, province__in=_named(name, year, ranking)
    )
    assert (stored.value, stored.rank) == (Decimal(value), rank)


def _named(name: str, year: int, ranking: int) -> list[int]:
    """The province a name means in that ranking: the 34 are those of 1 July 2025."""
    day = dt.date(2025, 7, 1) if ranking == 34 else None
    return [ProvinceDirectory().resolve(name, year, day=day).pk]


def test_the_34_province_values_derived_for_merged_provinces_equal_the_published_ones(
    tmp_path: Path,
):
    run_import(published_table(tmp_path, 2024))
    run_import(former_values_table(tmp_path))

    derived = {
        row.name: row.result
        for row in year_rankings(year=2024)
        if row.ranking == 34 and row.result.is_baseline
    }
    assert {name: result.value for name, result in derived.items()} == {
        "Hải Phòng": Decimal("0.7857"),
        "Hồ Chí Minh": Decimal("0.7770"),
        "Khánh Hòa": Decimal("0.7071"),
    }
    assert derived["Hồ Chí Minh"].averaged == ("Bà Rịa - Vũng Tàu", "Bình Dương", "Hồ Chí Minh")
    assert all(result.published_value == result.value for result in derived.values())
    assert published_differences(years=[2024]) == []


def test_both_2024_rankings_name_provinces_as_they_were_and_use_the_published_ranks(
    tmp_path: Path,
):
    run_import(published_table(tmp_path, 2024))
    run_import(former_values_table(tmp_path))

    both = rankings(2024)
    assert both[(63, "Thừa Thiên Huế")] == (Decimal("0.7951"), 5, "")
    assert both[(63, "Hà Nội")] == (Decimal("0.8241"), 4, "")
    assert both[(34, "Huế")] == (Decimal("0.7951"), 2, "")
    assert both[(34, "Hà Nội")] == (Decimal("0.8241"), 1, "")
    assert both[(34, "Hải Phòng")] == (Decimal("0.7857"), 3, "Hải Dương; Hải Phòng")
    assert both[(34, "Khánh Hòa")] == (Decimal("0.7071"), 16, "Khánh Hòa; Ninh Thuận")
    assert (34, "Thừa Thiên Huế") not in both and (63, "Huế") not in both


def test_the_assessment_export_lists_both_rankings_with_averaged_from(tmp_path: Path):
    run_import(published_table(tmp_path, 2024))
    run_import(former_values_table(tmp_path))
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    call_command("export", "CSV", "indicators.resources.AssessmentResource", stdout=stream)
    rows = list(csv.DictReader(io.StringIO(stream.buffer.getvalue().decode("utf-8-sig"))))

    assert list(rows[0]) == [
        "province",
        "year",
        "framework",
        "ranking",
        "points",
        "value",
        "rank",
        "computed_value",
        "computed_rank",
        "averaged_from",
    ]
    hai_phong = next(r for r in rows if r["province"] == "Hải Phòng" and r["ranking"] == "34")
    assert hai_phong == {
        "province": "Hải Phòng",
        "year": "2024",
        "framework": "DTI2024",
        "ranking": "34",
        "points": "",
        "value": "0.7857",
        "rank": "3",
        "computed_value": "0.7857",
        "computed_rank": hai_phong["computed_rank"],  # among the 34 loaded here, not all
        "averaged_from": "Hải Dương; Hải Phòng",
    }
    assert {r["province"] for r in rows if r["ranking"] == "63"} >= {"Thừa Thiên Huế", "Hải Dương"}


def test_a_derived_value_that_differs_from_the_published_one_is_listed(tmp_path: Path):
    run_import(published_table(tmp_path, 2024, 34))
    run_import(former_values_table(tmp_path))
    run_import(
        csv_file(
            tmp_path / "fix.csv", [["province", "year", "value"], ["Hải Dương", 2024, "0.7700"]]
        )
    )

    [difference] = published_differences(years=[2024])
    assert (difference.name, difference.ranking) == ("Hải Phòng", 34)
    assert (difference.result.published_value, difference.result.value) == (
        Decimal("0.7857"),
        Decimal("0.7850"),
    )


def test_published_ranks_are_not_called_different_while_the_ranking_is_incomplete(
    tmp_path: Path,
):
    run_import(published_table(tmp_path, 2023))  # 2 of the 63 provinces: ranks 1 and 2 here
    assert rankings(2023)[(63, "Bình Dương")] == (Decimal("0.7411"), 7, "")
    assert published_differences(years=[2023]) == []


# --- Sets and years ---------------------------------------------------------------------------


def test_dti_2021_results_import_under_qd_922(tmp_path: Path):
    run_import(
        csv_file(
            tmp_path / "dti2021.csv",
            [["province", "year", "indicator_code", "points"], ["Lạng Sơn", 2021, "7", "98.00"]],
        )
    )
    assessment = Assessment.objects.get(year=2021)
    assert assessment.indicator_set.code == "DTI2022"
    assert assessment.scores.get().value == Decimal("0.4900")


def test_a_windows_1258_file_with_the_ministrys_spellings_imports(tmp_path: Path):
    rows = [
        ["STT", "Tỉnh, thành phố", "Năm", "Chỉ số DTI", "Xếp hạng"],
        [1, "TP. Đà Nẵng", 2023, "0,8340", 1],
        [2, "Thừa Thiên - Huế", 2023, "0,7000", 3],
        [3, "Tỉnh Bắc Kạn", 2023, "0,5000", 40],
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path = tmp_path / "cp1258.csv"
    path.write_bytes(cp1258_bytes(out.getvalue()))

    run_import(str(path))

    values = dict(Assessment.objects.values_list("province__name", "value"))
    assert values == {
        "Đà Nẵng": Decimal("0.8340"),
        "Huế": Decimal("0.7000"),
        "Bắc Kạn": Decimal("0.5000"),
    }


def test_pillar_values_and_ranks_are_stored_as_published(tmp_path: Path):
    run_import(
        csv_file(
            tmp_path / "pillars.csv",
            [
                ["Tỉnh", "Năm", "Trụ cột", "Giá trị", "Xếp hạng"],
                ["Hà Nội", 2024, "Chính quyền số", "0,8100", 2],
                ["Hà Nội", 2024, "Kinh tế số", "0,7900", 1],
            ],
        )
    )
    stored = dict(PublishedResult.objects.values_list("pillar", "rank"))
    assert stored == {"government": 2, "economy": 1}


# --- Bad input: row and column, nothing saved -----------------------------------------------


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        (["Hà Nội", 2024, "", "", "1,2", ""], 'Row 2, column "value": 1.2 is not a value'),
        (["Hà Nội", 2024, "", "", "0,8", "64"], 'Row 2, column "rank": A rank among 63'),
        (["Hà Nội", 2024, 34, "", "0,8", "35"], 'Row 2, column "rank": A rank among 34'),
        (
            ["Hà Nội", 2024, 50, "", "0,8", ""],
            'column "ranking": DTI 2024 has rankings of 63/34',
        ),
        (["Hà Nội", 2024, "", "Trụ cột 9", "0,8", ""], 'Row 2, column "indicator_code"'),
        (["Hà Nội", 2019, "", "", "0,8", ""], 'Row 2, column "year": No indicator set'),
        (["Hà Nội", 2023, "", "7", "0,4901", ""], "Row 2"),  # needs points to disagree below
        (["Hà Nội", 2024, "", "", "0,82411", ""], "more than 4 decimals"),
    ],
)
def test_bad_published_rows_are_refused_with_row_and_column(tmp_path: Path, cells, problem):
    header = ["province", "year", "ranking", "indicator_code", "value", "rank"]
    if cells[3] == "7":  # points and a value that disagree: 98 of 200 is 0.4900
        header, cells = [*header, "points"], [*cells, "98"]
        problem = 'Row 2, column "value": 98 of 200 points is a value of 0.49, not 0.4901.'
    problems = failed_import(csv_file(tmp_path / "bad.csv", [header, cells]))
    assert any(problem in line for line in problems), problems
    assert not Assessment.objects.exists() and not PublishedResult.objects.exists()


# --- Weak rules that never vanish -------------------------------------------------------------


def test_2025_components_without_a_rule_give_a_weak_list_under_the_default_rule(tmp_path, client):
    main = dti2024().indicators.get(code="6")
    for code in ("6.1", "6.2"):
        ComponentIndicatorFactory(
            code=code, indicator_set=dti2024(), parent=main, max_points=Decimal("10")
        )
    run_import(
        csv_file(
            tmp_path / "dti2025.csv",
            [
                ["province", "year", "indicator_code", "points"],
                ["Lạng Sơn", 2025, "6.1", "3"],
                ["Lạng Sơn", 2025, "6.2", "9"],
            ],
        )
    )
    assert not WeakRule.objects.filter(year=2025).exists()
    assert [s.indicator.code for s in Score.objects.weak()] == ["6.1"]

    user = UserFactory(username="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    client.cookies["django_language"] = "en"
    page = client.get("/admin/indicators/weakindicator/").content.decode()
    assert "Default rule (2025 has no weakness rule of its own)" in page
    assert "DTI 2025, indicator set DTI2024" in page
    assert "0 weak indicators" not in page


def test_main_indicators_known_by_value_only_are_weak_below_the_years_average(tmp_path: Path):
    rows: list[list[object]] = [["province", "year", "indicator_code", "value"]]
    for name, value in (("Lạng Sơn", "0,4000"), ("Cao Bằng", "0,6000"), ("Hà Giang", "0,5500")):
        rows.append([name, 2024, "7", value])
    run_import(csv_file(tmp_path / "values.csv", rows))

    weak = Score.objects.weak().select_related("assessment__province")
    assert [s.assessment.province.name for s in weak] == ["Lạng Sơn"]  # below the mean, 0.5167


def test_the_weak_list_shows_an_indicator_known_by_value_only(tmp_path: Path, admin_client):
    rows: list[list[object]] = [["province", "year", "indicator_code", "value"]]
    for name, value in (("Lạng Sơn", "0,4000"), ("Cao Bằng", "0,6000")):
        rows.append([name, 2024, "7", value])
    run_import(csv_file(tmp_path / "values.csv", rows))
    admin_client.cookies["django_language"] = "en"

    response = admin_client.get("/admin/indicators/weakindicator/")

    assert response.status_code == 200
    [row] = response.context["cl"].result_list
    assert (row.points, row.value, row.recoverable_points) == (None, Decimal("0.4000"), None)


def test_a_years_own_rule_applies_to_values_as_a_share_of_1(tmp_path: Path):
    WeakRule.objects.create(year=2024, below_percent=60)
    rows: list[list[object]] = [["province", "year", "indicator_code", "value"]]
    for name, value in (("Lạng Sơn", "0,4000"), ("Cao Bằng", "0,6000"), ("Hà Giang", "0,5500")):
        rows.append([name, 2024, "7", value])
    run_import(csv_file(tmp_path / "values.csv", rows))

    weak = Score.objects.weak().select_related("assessment__province")
    assert sorted(s.assessment.province.name for s in weak) == ["Hà Giang", "Lạng Sơn"]


# --- Names by year ----------------------------------------------------------------------------


def test_a_2022_result_of_thua_thien_hue_exports_under_that_name(tmp_path: Path):
    run_import(
        csv_file(
            tmp_path / "dti2022.csv",
            [["province", "year", "indicator_code", "points"], ["Thừa Thiên Huế", 2022, "7", "98"]],
        )
    )
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    call_command("export", "CSV", SCORES, stdout=stream)
    rows = list(csv.DictReader(io.StringIO(stream.buffer.getvalue().decode("utf-8-sig"))))
    assert [r["province"] for r in rows] == ["Thừa Thiên Huế"]
    assert rankings(2022)[(63, "Thừa Thiên Huế")][1] == 1
    assert rankings(2022)[(34, "Huế")][1] == 1


# --- The admin ------------------------------------------------------------------------------


def test_the_admin_shows_which_years_each_set_applies_to(admin_client):
    IndicatorSet.objects.create(code="DTI2025", name="DTI 2025", decision="—", first_year=2025)
    page = admin_client.get("/admin/indicators/indicatorset/").content.decode()
    assert "2021–2023" in page and "2024" in page
    assert "2025" in page


def test_the_differences_page_lists_what_disagrees(admin_client, tmp_path: Path):
    run_import(published_table(tmp_path, 2024, 34))
    run_import(former_values_table(tmp_path))
    run_import(
        csv_file(
            tmp_path / "fix.csv", [["province", "year", "value"], ["Hải Dương", 2024, "0.7700"]]
        )
    )
    admin_client.cookies["django_language"] = "en"
    page = admin_client.get("/admin/indicators/publishedresult/differences/").content.decode()
    assert "Hải Phòng" in page and "0.7850" in page and "0.7857" in page


def test_max_points_published_later_can_be_filled_in_while_only_values_are_loaded(tmp_path: Path):
    run_import(
        csv_file(
            tmp_path / "values.csv",
            [["province", "year", "indicator_code", "value"], ["Lạng Sơn", 2024, "6", "0,4900"]],
        )
    )
    main = dti2024().indicators.get(code="6")
    main.max_points = Decimal("200")
    main.full_clean()  # allowed: nothing was computed from the unknown max

    main.save()
    run_import(
        csv_file(
            tmp_path / "points.csv",
            [["province", "year", "indicator_code", "points"], ["Lạng Sơn", 2024, "6", "98"]],
        )
    )
    main.refresh_from_db()
    main.max_points = Decimal("250")
    with pytest.raises(ValidationError):
        main.full_clean()  # points were measured against it now


def test_a_task_drafted_from_a_value_only_weak_indicator_cites_the_value(tmp_path: Path):
    from plans.services import draft_tasks_create
    from tests.factories import PlanFactory, UnitFactory

    rows = [["province", "year", "indicator_code", "value"], ["Lạng Sơn", 2024, "7", "0,2350"]]
    run_import(csv_file(tmp_path / "values.csv", rows))
    WeakRule.objects.create(year=2024, below_percent=50)  # 0.2350 is below a value of 0.50
    # The province's own plan: only its plans address its results.
    plan = PlanFactory(year=2026, province=Score.objects.get().assessment.province)

    result = draft_tasks_create(
        plan=plan, scores=list(Score.objects.weak()), lead_unit=UnitFactory()
    )

    [task] = result.created
    assert task.indicator.indicator_set.code == "DTI2024"
    assert "0.2350" in task.description


def test_a_pillar_the_years_set_does_not_have_is_refused(tmp_path: Path):
    later = IndicatorSet.objects.create(
        code="DTI2025", name="DTI 2025", decision="—", first_year=2025
    )
    later.indicators.create(code="1", name_vi="Nhận thức số", pillar="foundation")
    problems = failed_import(
        csv_file(
            tmp_path / "pillar.csv",
            [["Tỉnh", "Năm", "Trụ cột", "Giá trị"], ["Lạng Sơn", 2025, "Kinh tế số", "0,5"]],
        )
    )
    assert problems == ['Row 2, column "Trụ cột": DTI2025 has no pillar “Kinh tế số”.']


def test_the_weakness_rules_page_names_the_years_read_under_the_default(tmp_path, admin_client):
    rows = [["province", "year", "indicator_code", "value"], ["Lạng Sơn", 2024, "7", "0,4"]]
    run_import(csv_file(tmp_path / "values.csv", rows))
    admin_client.cookies["django_language"] = "en"
    page = admin_client.get("/admin/indicators/weakrule/", follow=True).content.decode()
    assert "DTI 2024: Default rule (2024 has no weakness rule of its own)" in page


def test_exported_results_import_back_with_every_published_figure(tmp_path: Path):
    run_import(published_table(tmp_path, 2024))
    run_import(
        csv_file(
            tmp_path / "more.csv",
            [
                ["Tỉnh", "Năm", "Trụ cột", "Giá trị", "Xếp hạng"],
                ["Hà Nội", 2024, "Chính quyền số", "0,8100", 2],
                ["Hà Nội", 2024, "6", "0,7000", 9],
            ],
        )
    )

    def published() -> list[tuple[object, ...]]:
        return sorted(
            PublishedResult.objects.values_list(
                "province__name", "year", "ranking", "indicator__code", "pillar", "value", "rank"
            ),
            key=str,
        )

    before = (published(), sorted(Assessment.objects.values_list("province__name", "value")))
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    call_command("export", "CSV", SCORES, stdout=stream)
    exported = stream.buffer.getvalue()
    assert "Thừa Thiên Huế,2024,DTI2024,,,,0.7951,5" in exported.decode("utf-8-sig")
    Score.objects.all().delete()
    Assessment.objects.all().delete()
    PublishedResult.objects.all().delete()
    path = tmp_path / "back.csv"
    path.write_bytes(exported)

    run_import(str(path))

    assert (
        published(),
        sorted(Assessment.objects.values_list("province__name", "value")),
    ) == before

"""DTI values, ranks, provinces across the 2025 merger, baselines and year over year.

The numbers are written from the ministry's rules (Decision 922/QĐ-BTTTT, the published 2022
ranking): a main indicator's value is points / max, the DTI is total points / 1,000, both to
4 decimals rounded half up; equal values share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from indicators.models import Assessment, IndicatorSet, Province, Score, assessment_years
from indicators.provinces import ProvinceDirectory, ProvinceNameError
from indicators.services import competition_ranks, province_history, value_of, year_over_year
from tests.factories import (
    ComponentIndicatorFactory,
    assessment_with_scores,
    cp1258_bytes,
    dti2022,
    dti2024,
    province,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in their English source; the site's default is Vietnamese."""
    with translation.override("en"):
        yield


# Main-indicator points of one province that add up to 394.13 of 1,000 (DTI 0.3941).
MAIN_POINTS_394_13 = {
    "1": "50.00",
    "2": "40.00",
    "3": "60.50",
    "4": "30.25",
    "5": "45.13",
    "7": "98.00",
    "8": "35.25",
    "9": "35.00",
}


def mains(total: str) -> dict[str, str]:
    """Main-indicator points adding up to ``total``: the rest of 394.13 goes to indicator 7."""
    points = dict(MAIN_POINTS_394_13)
    points["7"] = str(Decimal("98.00") + Decimal(total) - Decimal("394.13"))
    return points


def ranks(year: int) -> dict[str, int]:
    return {
        a.province.name: a.rank
        for a in Assessment.objects.filter(year=year).with_rank().select_related("province")
    }


# --- Values ---------------------------------------------------------------------------------


def test_dti_value_is_total_points_over_1000_to_4_decimals_as_published():
    assessment = assessment_with_scores("Lạng Sơn", 2022, MAIN_POINTS_394_13)
    assert assessment.points == Decimal("394.13")
    assert assessment.value == Decimal("0.3941")


def test_values_round_half_up_not_to_even():
    assessment = assessment_with_scores("Lạng Sơn", 2022, mains("394.25"))
    assert assessment.value == Decimal("0.3943")  # half-even would publish 0.3942
    score = assessment.scores.get(indicator__code="7")
    assert score.points == Decimal("98.12")
    assert value_of(Decimal("123.45"), Decimal("200")) == Decimal("0.6173")


def test_main_indicator_value_is_points_over_its_max():
    assessment = assessment_with_scores("Lạng Sơn", 2022, MAIN_POINTS_394_13)
    values = dict(assessment.scores.values_list("indicator__code", "value"))
    assert values["5"] == Decimal("0.4513")  # 45.13 / 100
    assert values["7"] == Decimal("0.4900")  # 98 / 200
    assert values["8"] == Decimal("0.2350")  # 35.25 / 150
    assert values["9"] == Decimal("0.2333")  # 35 / 150


def test_main_indicator_points_are_the_sum_of_its_components():
    ComponentIndicatorFactory(code="7.1", max_points=Decimal("10"))
    ComponentIndicatorFactory(code="7.2", max_points=Decimal("12"))
    assessment = assessment_with_scores("Lạng Sơn", 2022, {"7.1": "10.00", "7.2": "5.50"})
    main = assessment.scores.get(indicator__code="7")
    assert (main.points, main.derived, main.value) == (Decimal("15.50"), True, Decimal("0.0775"))
    assert assessment.points == Decimal("15.50")
    assert assessment.value == Decimal("0.0155")


def test_unscored_smart_city_indicator_does_not_count_in_the_total():
    assessment = assessment_with_scores("Lạng Sơn", 2022, {**MAIN_POINTS_394_13, "6": "0"})
    assert assessment.points == Decimal("394.13")
    assert assessment.scores.get(indicator__code="6").value is None


# --- Ranks ----------------------------------------------------------------------------------


def test_equal_values_share_a_rank_and_the_next_rank_is_skipped():
    assessment_with_scores("Lạng Sơn", 2022, mains("394.13"))
    assessment_with_scores("Cao Bằng", 2022, mains("500.00"))
    assessment_with_scores("Bắc Kạn", 2022, mains("394.12"))  # also published as 0.3941
    assessment_with_scores("Hà Giang", 2022, mains("300.00"))
    assert ranks(2022) == {"Cao Bằng": 1, "Lạng Sơn": 2, "Bắc Kạn": 2, "Hà Giang": 4}


def test_rank_counts_only_the_provinces_of_that_year():
    assessment_with_scores("Lạng Sơn", 2022, mains("394.13"))
    assessment_with_scores("Cao Bằng", 2022, mains("500.00"))
    assessment_with_scores("Lạng Sơn", 2023, mains("600.00"))
    assert ranks(2022) == {"Cao Bằng": 1, "Lạng Sơn": 2}
    assert ranks(2023) == {"Lạng Sơn": 1}


def test_rank_of_one_province_does_not_change_when_the_list_is_filtered():
    assessment_with_scores("Lạng Sơn", 2022, mains("394.13"))
    assessment_with_scores("Cao Bằng", 2022, mains("500.00"))
    only = Assessment.objects.filter(province__name="Lạng Sơn").with_rank().get()
    assert (only.rank, only.provinces_in_year) == (2, 2)


def test_main_indicator_ranks_follow_the_same_rule():
    assessment_with_scores("Lạng Sơn", 2022, {"7": "98.00"})
    assessment_with_scores("Cao Bằng", 2022, {"7": "150.00"})
    assessment_with_scores("Bắc Kạn", 2022, {"7": "98.00"})
    assessment_with_scores("Hà Giang", 2022, {"7": "10.00"})
    ranked = Score.objects.filter(indicator__code="7").with_rank()
    assert {s.assessment.province.name: s.rank for s in ranked} == {
        "Cao Bằng": 1,
        "Lạng Sơn": 2,
        "Bắc Kạn": 2,
        "Hà Giang": 4,
    }


def test_python_ranking_matches_the_published_rule():
    values = {"a": Decimal("0.5"), "b": Decimal("0.4"), "c": Decimal("0.4"), "d": Decimal("0.3")}
    assert competition_ranks(values) == {"a": 1, "b": 2, "c": 2, "d": 4}


# --- Database invariants ----------------------------------------------------------------------


def test_database_refuses_a_second_score_for_the_same_province_year_and_indicator():
    assessment = assessment_with_scores("Lạng Sơn", 2022, {"7": "98.00"})
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(
            assessment=assessment, indicator=dti2022().indicators.get(code="7"), points=1
        )


def test_database_refuses_negative_points():
    assessment = assessment_with_scores("Lạng Sơn", 2022, {"7": "98.00"})
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.filter(assessment=assessment).update(points=Decimal("-1"))


def test_database_refuses_a_second_assessment_for_a_province_and_year():
    assessment_with_scores("Lạng Sơn", 2022, {"7": "98.00"})
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(province=province("Lạng Sơn"), year=2022, indicator_set=dti2022())


# --- Indicator sets ------------------------------------------------------------------------------


def test_each_year_uses_the_set_in_force_that_year():
    dti2024 = IndicatorSet.objects.get(code="DTI2024")
    assert IndicatorSet.objects.for_year(2020) is None
    assert IndicatorSet.objects.for_year(2021) == dti2022()  # DTI 2021 was scored under QĐ 922
    assert IndicatorSet.objects.for_year(2023) == dti2022()
    assert IndicatorSet.objects.for_year(2024) == dti2024
    assert IndicatorSet.objects.for_year(2025) == dti2024  # until the 2025 set is imported
    later = IndicatorSet.objects.create(
        code="DTI2025", name="Bộ chỉ số 2025", decision="QĐ sửa đổi", first_year=2025
    )
    assert IndicatorSet.objects.for_year(2025) == later
    assert assessment_years(IndicatorSet.objects.all()) == {
        dti2022().pk: (2021, 2023),
        dti2024.pk: (2024, 2024),
        later.pk: (2025, None),
    }


def test_the_2024_set_has_eight_main_indicators_with_pillars_and_no_invented_max_points():
    mains = IndicatorSet.objects.get(code="DTI2024").indicators.main().order_by("sort_key")
    assert [(i.code, i.name_vi, i.pillar) for i in mains] == [
        ("1", "Nhận thức số", "foundation"),
        ("2", "Thể chế số", "foundation"),
        ("3", "Hạ tầng số", "foundation"),
        ("4", "Nhân lực số", "foundation"),
        ("5", "An toàn thông tin mạng", "foundation"),
        ("6", "Hoạt động chính quyền số", "government"),
        ("7", "Hoạt động kinh tế số", "economy"),
        ("8", "Hoạt động xã hội số", "society"),
    ]
    assert all(i.name_en for i in mains)
    assert {i.max_points for i in mains} == {None}  # not published


def test_a_scored_indicator_keeps_its_max_points():
    component = ComponentIndicatorFactory(code="7.1", max_points=Decimal("10"))
    assessment_with_scores("Lạng Sơn", 2022, {"7.1": "4.00"})
    component.max_points = Decimal("20")
    with pytest.raises(Exception, match="already have scores"):
        component.full_clean()


# --- Provinces ----------------------------------------------------------------------------------


def test_63_provinces_before_the_merger_and_34_after():
    assert Province.objects.for_assessment_year(2024).count() == 63
    assert Province.objects.for_assessment_year(2025).count() == 34


def test_an_unchanged_province_is_one_province_on_both_sides_of_the_merger():
    unchanged = Province.objects.filter(valid_from__isnull=True, valid_until__isnull=True)
    assert unchanged.count() == 11
    assert province("Lạng Sơn", 2024) == province("Lạng Sơn", 2025)
    assert province("Huế", 2025).spellings() == ["Huế", "Thừa Thiên Huế", "TT Huế"]


def test_a_merged_province_names_its_former_provinces():
    thai_nguyen = province("Thái Nguyên", 2025)
    assert sorted(p.name for p in thai_nguyen.predecessors.all()) == ["Bắc Kạn", "Thái Nguyên"]
    assert province("Thái Nguyên", 2024) != thai_nguyen
    assert Province.objects.filter(successor__isnull=False).count() == 52


@pytest.mark.parametrize(
    ("written", "year", "meant"),
    [
        ("TP. Đà Nẵng", 2025, "Đà Nẵng"),
        ("Thừa Thiên - Huế", 2022, "Huế"),
        ("Tỉnh Bắc Kạn", 2024, "Bắc Kạn"),
        ("Thành phố Hồ Chí Minh", 2025, "Hồ Chí Minh"),
        ("Hoà Bình", 2023, "Hòa Bình"),  # tone on the other vowel: the same name
        ("Thanh Hoá", 2025, "Thanh Hóa"),
        ("THÀNH PHỐ CẦN THƠ", 2024, "Cần Thơ"),
        ("Bà Rịa-Vũng Tàu", 2024, "Bà Rịa - Vũng Tàu"),
        ("Đăk Lăk", 2024, "Đắk Lắk"),
        ("Da Nang", 2024, "Đà Nẵng"),  # no diacritics at all: matched on letters
    ],
)
def test_province_names_as_the_ministry_writes_them(written, year, meant):
    found = ProvinceDirectory().resolve(written, year)
    assert found == province(meant, year)


def test_decomposed_unicode_from_a_cp1258_file_reads_as_the_same_name():
    decomposed = cp1258_bytes("Bắc Kạn").decode("cp1258")
    assert decomposed != "Bắc Kạn"  # cp1258 writes tones as combining marks
    assert ProvinceDirectory().resolve(decomposed, 2024) == province("Bắc Kạn", 2024)


def test_a_wrong_diacritic_is_not_guessed():
    with pytest.raises(ProvinceNameError, match="Unknown province"):
        ProvinceDirectory().resolve("Hà Nôi", 2024)


def test_the_same_name_means_the_province_of_the_assessment_year():
    directory = ProvinceDirectory()
    before, after = directory.resolve("An Giang", 2024), directory.resolve("An Giang", 2025)
    assert before != after
    assert before.successor == after


def test_a_former_province_in_a_later_year_names_its_successor():
    with pytest.raises(ProvinceNameError, match="merged into Thái Nguyên"):
        ProvinceDirectory().resolve("Bắc Kạn", 2025)


# --- Merged provinces: baseline and history -----------------------------------------------------


def test_merged_province_baseline_averages_its_former_provinces():
    """DTI 2024 for the 34: Tuyên Quang (2025) = average of Hà Giang and Tuyên Quang (2024)."""
    assessment_with_scores("Hà Giang", 2024, mains("400.00"))
    assessment_with_scores("Tuyên Quang", 2024, mains("450.10"))
    history = province_history(province=province("Tuyên Quang", 2025))
    (year_2024,) = history
    assert year_2024.result.points == Decimal("425.05")
    assert year_2024.result.value == Decimal("0.4251")  # 0.42505, half up
    assert sorted(year_2024.result.averaged) == ["Hà Giang", "Tuyên Quang"]
    assert {p.name: r.value for p, r in year_2024.former} == {
        "Hà Giang": Decimal("0.4000"),
        "Tuyên Quang": Decimal("0.4501"),
    }


def test_baseline_averages_each_main_indicator_value():
    assessment_with_scores("Hà Giang", 2024, {"7": "100.00", "8": "30.00"})
    assessment_with_scores("Tuyên Quang", 2024, {"7": "150.01", "8": "45.00"})
    assessment = assessment_with_scores("Tuyên Quang", 2025, {"7": "130.00", "8": "40.00"})
    changes = {c.indicator.code: c for c in year_over_year(assessment=assessment).changes[1:]}
    assert changes["7"].before.points == Decimal("125.005")
    assert changes["7"].before.value == Decimal("0.6250")  # 125.005 / 200 = 0.625025
    assert changes["8"].before.value == Decimal("0.2500")  # 37.5 / 150
    assert changes["8"].points_change == Decimal("2.50")


def test_no_baseline_while_a_former_province_is_missing():
    assessment_with_scores("Hà Giang", 2024, mains("400.00"))
    (year_2024,) = province_history(province=province("Tuyên Quang", 2025))
    assert year_2024.result is None
    assert [p.name for p, _ in year_2024.former] == ["Hà Giang"]


def test_baselines_are_ranked_with_the_unchanged_provinces_among_the_34():
    assessment_with_scores("Hà Giang", 2024, mains("400.00"))
    assessment_with_scores("Tuyên Quang", 2024, mains("450.10"))
    assessment_with_scores("Lạng Sơn", 2024, mains("430.00"))  # unchanged in 2025
    assessment_with_scores("Cao Bằng", 2024, mains("420.00"))  # unchanged in 2025
    (year_2024,) = province_history(province=province("Tuyên Quang", 2025))
    # Among the 63 of 2024: Tuyên Quang 1st, Lạng Sơn 2nd, Cao Bằng 3rd, Hà Giang 4th.
    assert {p.name: r.rank for p, r in year_2024.former} == {"Hà Giang": 4, "Tuyên Quang": 1}
    # Among the 34: Lạng Sơn 0.4300, Tuyên Quang 0.4251, Cao Bằng 0.4200.
    assert (year_2024.result.rank, year_2024.result.out_of) == (2, 3)


# --- Year over year ---------------------------------------------------------------------------


def test_year_over_year_shows_the_change_in_points_value_and_rank():
    ComponentIndicatorFactory(code="7.1", max_points=Decimal("10"))
    ComponentIndicatorFactory(code="7.2", max_points=Decimal("10"))
    assessment_with_scores("Cao Bằng", 2022, {"7.1": "8.00", "7.2": "9.00"})
    assessment_with_scores("Lạng Sơn", 2022, {"7.1": "2.00", "7.2": "10.00"})
    assessment_with_scores("Cao Bằng", 2023, {"7.1": "5.00", "7.2": "9.00"})
    ours = assessment_with_scores("Lạng Sơn", 2023, {"7.1": "6.50", "7.2": "10.00"})

    table = year_over_year(assessment=ours)
    by_line = {c.indicator.code if c.indicator else "DTI": c for c in table.changes}
    assert table.previous_year == 2022 and table.has_previous
    assert list(by_line) == ["DTI", "7", "7.1", "7.2"]
    dti = by_line["DTI"]
    assert (dti.before.points, dti.now.points, dti.points_change) == (
        Decimal("12.00"),
        Decimal("16.50"),
        Decimal("4.50"),
    )
    assert dti.value_change == Decimal("0.0045")
    assert (dti.before.rank, dti.now.rank, dti.rank_change) == (2, 1, 1)
    component = by_line["7.1"]
    assert (component.before.value, component.now.value) == (Decimal("0.2000"), Decimal("0.6500"))
    assert (component.before.rank, component.now.rank, component.rank_change) == (2, 1, 1)


def test_year_over_year_without_a_previous_year_shows_only_this_year():
    ours = assessment_with_scores("Lạng Sơn", 2023, {"7": "98.00"})
    table = year_over_year(assessment=ours)
    assert not table.has_previous
    assert table.changes[0].now.value == Decimal("0.0980")


def test_indicators_of_another_set_are_not_compared():
    later = IndicatorSet.objects.create(
        code="DTI2025", name="Bộ chỉ số 2025", decision="405/QĐ-BKHCN", first_year=2025
    )
    later.indicators.create(code="7", name_vi="Chính quyền số", max_points=Decimal("200"))
    assessment_with_scores("Lạng Sơn", 2024, {"7": "98.00"}, indicator_set=dti2024())
    ours = assessment_with_scores("Lạng Sơn", 2025, {"7": "120.00"}, indicator_set=later)
    dti, main = year_over_year(assessment=ours).changes
    assert dti.points_change == Decimal("22.00")  # the DTI is comparable across sets
    assert main.before is None

"""The report charts read like the tables beside them: round ticks, the language's decimals,
labels that neither overprint nor leave the picture."""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils import translation

from plans.reports import charts

SERIES = (charts.Segment("Lạng Sơn", charts.BLUE), charts.Segment("Trung bình", charts.GREY))


def _trend(values_a, values_b, notes=("xếp hạng 2/2", "xếp hạng 1/2")) -> str:
    return str(
        charts.lines(
            ["2023", "2024"],
            [(SERIES[0], values_a), (SERIES[1], values_b)],
            title="Xu hướng",
            notes=notes,
        )
    )


def _tick_labels(svg: str) -> list[str]:
    return re.findall(r'font-size="10" text-anchor="end">([^<]+)<', svg)


def test_value_axis_ticks_are_round_numbers_in_the_languages_decimals():
    with translation.override("vi"):
        svg = _trend([Decimal("0.3412"), Decimal("0.3801")], [Decimal("0.3000"), Decimal("0.3500")])
    assert _tick_labels(svg) == ["0,0", "0,1", "0,2", "0,3", "0,4"]
    assert "0,3801" in svg and "0.3801" not in svg
    with translation.override("en"):
        svg = _trend([Decimal("0.3412"), Decimal("0.3801")], [Decimal("0.3000"), Decimal("0.3500")])
    assert "0.3801" in svg


def test_labels_of_close_points_do_not_overprint():
    with translation.override("vi"):
        svg = _trend([Decimal("0.5000"), Decimal("0.5100")], [Decimal("0.4990"), Decimal("0.5050")])
    point_label = r'y="([\d.]+)" font-size="11" text-anchor="middle">([\d,]+)<'
    label_y = {text: float(y) for y, text in re.findall(point_label, svg)}
    # At each year one label sits above the higher point and one below the lower: 20+ px apart.
    assert abs(label_y["0,5000"] - label_y["0,4990"]) >= 20
    assert abs(label_y["0,5100"] - label_y["0,5050"]) >= 20


def test_notes_under_the_first_and_last_year_stay_inside_the_picture():
    svg = _trend([Decimal("0.5"), Decimal("0.6")], [Decimal("0.4"), Decimal("0.5")])
    width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))
    for x in re.findall(r'<text x="([\d.]+)"[^>]*fill="#444"[^>]*>xếp hạng', svg):
        # Half of "xếp hạng 2/2" at 11 px is about 35 px.
        assert 40 <= float(x) <= width - 40


def test_a_single_series_bar_writes_its_number_once():
    svg = str(
        charts.stacked_bars(
            [("Sở Nội vụ", [7])], [charts.Segment("Quá hạn", charts.RED)], title="Quá hạn"
        )
    )
    assert re.findall(r">7<", svg) == [">7<"]

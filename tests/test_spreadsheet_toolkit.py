"""The shared spreadsheet toolkit (dtiplan/spreadsheets/) on its own: deadlines as Vietnamese
plans write them, the CSV delimiter, and finding the table below titles in a grid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from dtiplan.spreadsheets.cells import CellError
from dtiplan.spreadsheets.files import csv_delimiter
from dtiplan.spreadsheets.periods import parse_deadline
from dtiplan.spreadsheets.tables import find_table
from dtiplan.spreadsheets.text import spelling_key


@pytest.mark.parametrize(
    ("written", "date", "every"),
    [
        ("30/06/2026", dt.date(2026, 6, 30), None),
        ("Tháng 6/2026", dt.date(2026, 6, 30), None),
        ("tháng 02 năm 2028", dt.date(2028, 2, 29), None),
        ("Quý III/2026", dt.date(2026, 9, 30), None),
        ("Qúy 4 năm 2026", dt.date(2026, 12, 31), None),
        ("6 tháng đầu năm 2026", dt.date(2026, 6, 30), None),
        ("6 tháng cuối năm 2026", dt.date(2026, 12, 31), None),
        ("Trước ngày 15/8/2026", dt.date(2026, 8, 15), None),
        ("Chậm nhất ngày 15 tháng 8 năm 2026", dt.date(2026, 8, 15), None),
        ("Năm 2026", dt.date(2026, 12, 31), None),
        ("Quý II", dt.date(2027, 6, 30), None),  # the plan's year
        ("Thường xuyên", None, "quarter"),
        ("Hàng quý", None, "quarter"),
        ("Hằng năm", None, "year"),
        ("Hằng tháng", None, "month"),
    ],
)
def test_deadlines_as_plans_write_them(written: str, date: dt.date | None, every: str | None):
    deadline = parse_deadline(written, year=2027)
    assert (deadline.date, deadline.every) == (date, every)
    assert deadline.text == ("" if written == "30/06/2026" else written)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("Quý V/2026", "a year has quarters I to IV"),
        ("Tháng 13/2026", "there is no month 13"),
        ("30/02/2026", "is not a date"),
        ("Trước ngày 31/4/2026", "is not a real date"),
        ("Sớm nhất có thể", "is not a deadline we can read"),
    ],
)
def test_a_phrase_that_names_no_real_period_is_an_error(written: str, message: str) -> None:
    with translation.override("en"), pytest.raises(CellError, match=message):
        parse_deadline(written, year=2026)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("Tỉnh, thành phố;Năm;Điểm\r\nA;2024;2,5\r\nB, C;2024;1\r\n", ";"),
        ("Tỉnh, thành phố;Năm\r\n", ";"),
        ('name,short_name\r\n"Sở A, B",SA\r\n', ","),
        ("name,focal_points\r\nA,a@x.vn; b@x.vn\r\n", ","),
        ("a\tb\r\n1\t2\r\n", "\t"),
        ("name\r\nSở A\r\n", ","),
    ],
)
def test_the_csv_delimiter_is_the_one_that_splits_every_line_alike(text: str, delimiter: str):
    assert csv_delimiter(text) == delimiter


def test_the_table_is_found_below_titles_with_a_two_row_header_and_numbered_columns() -> None:
    known = {"nội dung": "title", "chủ trì": "lead", "phối hợp": "coordinating", "stt": None}
    grid = [
        ["PHỤ LỤC", "PHỤ LỤC", "PHỤ LỤC", "PHỤ LỤC"],
        ["STT", "Nội dung", "Đơn vị thực hiện", "Đơn vị thực hiện"],
        ["STT", "Nội dung", "Chủ trì", "Phối hợp"],
        ["(1)", "(2)", "(3)", "(4)"],
        ["1", "Việc A", "Sở X", "Sở Y"],
        ["STT", "Nội dung", "Đơn vị thực hiện", "Đơn vị thực hiện"],  # a new page
        ["STT", "Nội dung", "Chủ trì", "Phối hợp"],
        ["2", "Việc B", "Sở Z", ""],
    ]

    table = find_table([grid], lambda text: known.get(text.casefold()))

    assert [(c.header, c.column) for c in table.columns] == [
        ("STT", None),
        ("Nội dung", "title"),
        ("Chủ trì", "lead"),
        ("Phối hợp", "coordinating"),
    ]
    assert table.header_row == 3
    assert list(table.rows) == [
        (5, ["1", "Việc A", "Sở X", "Sở Y"]),
        (8, ["2", "Việc B", "Sở Z", ""]),
    ]


def test_spellings_compare_with_the_tone_on_either_vowel_but_never_without_diacritics() -> None:
    assert spelling_key("Ủy ban  nhân dân") == spelling_key("UỶ BAN nhân dân")
    assert spelling_key("Hòa Bình") == spelling_key("Hoà Bình")
    assert spelling_key("Văn hóa, Thể thao - Du lịch") == spelling_key("văn hoá thể thao du lịch")
    assert spelling_key("So Tai chinh") != spelling_key("Sở Tài chính")
    assert spelling_key("Hà Nam") != spelling_key("Hà Nội")

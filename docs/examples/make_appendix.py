"""Writes the example plan appendix, ``phu-luc-ke-hoach.docx`` and ``phu-luc-ke-hoach.xlsx``,
laid out as provinces publish it: title rows, a two-row header with merged cells, "STT", the
row numbering the columns, group rows per main indicator, several units in a cell. The units
and indicators are the demo's (``make run``) and those of ``units.csv``.

Run from the project folder: ``.venv/bin/python docs/examples/make_appendix.py``.
"""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
TITLES = [
    "PHỤ LỤC",
    "DANH MỤC NHIỆM VỤ NÂNG CAO CHỈ SỐ CHUYỂN ĐỔI SỐ (DTI) NĂM 2026",
    "(Kèm theo Kế hoạch số 123/KH-UBND ngày 15/01/2026 của UBND tỉnh) - MẪU",
]
UPPER = [
    "STT",
    "Nội dung nhiệm vụ",
    "Chỉ số thành phần",
    "Đơn vị thực hiện",
    "Đơn vị thực hiện",
    "Thời gian hoàn thành",
    "Kết quả/Sản phẩm",
    "Ghi chú",
]
LOWER = ["", "", "", "Chủ trì", "Phối hợp", "", "", ""]
BODY: list[tuple[str, ...] | str] = [
    "I. CHỈ SỐ NHẬN THỨC SỐ",
    (
        "1",
        "Tuyên truyền về chuyển đổi số trên báo, đài của tỉnh",
        "",
        "Sở KH&CN",
        "Sở Nội vụ, Bưu điện tỉnh",
        "Quý III/2026",
        "Tin, bài, phóng sự",
        "",
    ),
    (
        "2",
        "Bồi dưỡng kỹ năng số cho cán bộ, công chức",
        "Chỉ số 1",
        "Sở Nội vụ",
        "Sở KH&CN\nUBND phường Lương Văn Tri",
        "6 tháng đầu năm 2026",
        "Các lớp bồi dưỡng",
        "",
    ),
    "II. CHỈ SỐ AN TOÀN THÔNG TIN MẠNG",
    (
        "1",
        "Diễn tập thực chiến an toàn thông tin mạng cấp tỉnh",
        "5",
        "CA tỉnh",
        "Sở KH&CN và Viettel",
        "Trước ngày 15/8/2026",
        "Báo cáo diễn tập",
        "",
    ),
    "III. CHỈ SỐ HOẠT ĐỘNG CHÍNH QUYỀN SỐ",
    (
        "1",
        "Duy trì cung cấp dịch vụ công trực tuyến toàn trình",
        "",
        "VP UBND",
        "Sở KH&CN, Sở Tài chính",
        "Thường xuyên",
        "Báo cáo quý",
        "Báo cáo trước ngày 20 tháng cuối quý",
    ),
    (
        "2",
        "Tổng kết việc thực hiện Kế hoạch",
        "",
        "Sở KH&CN",
        "Sở Nội vụ; Sở Tài chính",
        "Năm 2026",
        "Báo cáo tổng kết",
        "",
    ),
]


def write_xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Phụ lục"
    width = len(UPPER)
    for number, title in enumerate(TITLES, start=1):
        sheet.cell(number, 1, title).font = Font(bold=number < 3)
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=width)
    header = len(TITLES) + 2
    for column, (upper, lower) in enumerate(zip(UPPER, LOWER, strict=True), start=1):
        sheet.cell(header, column, upper).font = Font(bold=True)
        if lower:
            sheet.cell(header + 1, column, lower).font = Font(bold=True)
        elif upper != "Đơn vị thực hiện":
            sheet.merge_cells(
                start_row=header, start_column=column, end_row=header + 1, end_column=column
            )
    sheet.merge_cells(start_row=header, start_column=4, end_row=header, end_column=5)
    for column in range(1, width + 1):
        sheet.cell(header + 2, column, f"({column})")
    row = header + 3
    for entry in BODY:
        if isinstance(entry, str):
            sheet.cell(row, 1, entry).font = Font(bold=True)
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        else:
            for column, text in enumerate(entry, start=1):
                cell = sheet.cell(row, column, text or None)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        row += 1
    for letter, size in zip("ABCDEFGH", (6, 45, 12, 18, 28, 18, 24, 28), strict=True):
        sheet.column_dimensions[letter].width = size
    book.save(path)


def write_docx(path: Path) -> None:
    document = docx.Document()
    for title in TITLES:
        document.add_paragraph(title)
    width = len(UPPER)
    table = document.add_table(rows=3 + len(BODY), cols=width)
    table.style = "Table Grid"
    for column in range(width):
        if UPPER[column] == "Đơn vị thực hiện":
            table.cell(1, column).text = LOWER[column]
        else:
            table.cell(0, column).merge(table.cell(1, column)).text = UPPER[column]
    table.cell(0, 3).merge(table.cell(0, 4)).text = "Đơn vị thực hiện"
    for column in range(width):
        table.cell(2, column).text = f"({column + 1})"
    for index, entry in enumerate(BODY):
        row = 3 + index
        if isinstance(entry, str):
            table.cell(row, 0).merge(table.cell(row, width - 1)).text = entry
        else:
            for column, text in enumerate(entry):
                table.cell(row, column).text = text
    document.add_paragraph("")
    document.add_paragraph("Nơi nhận: như trên (MẪU).")
    document.save(path)


if __name__ == "__main__":
    write_xlsx(HERE / "phu-luc-ke-hoach.xlsx")
    write_docx(HERE / "phu-luc-ke-hoach.docx")

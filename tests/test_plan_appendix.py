"""The plan as the province issued it: its appendix table, in Word or Excel, imports in one step.

The files are built here as provinces lay them out: title rows above the header, a header of
two rows with merged cells, "STT", a row numbering the columns, group rows per main indicator,
several units in a cell (commas, line breaks, "và"), abbreviations, a unit group, deadlines
written as periods and an ongoing task; in Word, the table continues in a second table with
its header repeated.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import time
import tracemalloc
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from notifications.models import Notification
from notifications.services import reminders_send_due
from plans.models import Plan, Task, Unit, UnitGroup
from plans.ongoing import first_report_date
from plans.services import progress_report
from tests.factories import (
    ComponentIndicatorFactory,
    FocalPointFactory,
    PlanFactory,
    UnitFactory,
    UserFactory,
    dti2024,
    main_indicator,
)

pytestmark = pytest.mark.django_db

TASKS = "plans.resources.TaskResource"
PLAN = "Kế hoạch nâng cao Chỉ số DTI năm 2026"

TITLE_ROWS = [
    "PHỤ LỤC",
    "DANH MỤC NHIỆM VỤ NÂNG CAO CHỈ SỐ DTI NĂM 2026",
    "(Kèm theo Kế hoạch số 123/KH-UBND ngày 15/01/2026 của UBND tỉnh)",
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
    "Kinh phí",
]
LOWER = ["", "", "", "Chủ trì", "Phối hợp", "", "", "", ""]
NUMBERS = [f"({n})" for n in range(1, 10)]
# (STT, task, indicator, lead, coordinating, deadline, output, note); None: a group row.
BODY: list[tuple[str, ...] | str] = [
    "I. CHỈ SỐ NHẬN THỨC SỐ",
    (
        "1",
        "Tuyên truyền về chuyển đổi số",
        "",
        "Sở KH&CN",
        "Sở Nội vụ, Sở Tài chính",
        "Quý III/2026",
        "Tin bài",
        "Phối hợp Báo tỉnh",
    ),
    (
        "2",
        "Tập huấn kỹ năng số",
        "Chỉ số 1",
        "CA tỉnh",
        "UBND các xã, phường",
        "6 tháng đầu năm 2026",
        "",
        "",
    ),
    "II. HOẠT ĐỘNG CHÍNH QUYỀN SỐ",
    (
        "1",
        "Số hóa hồ sơ",
        "6.1",
        "Văn phòng UBND tỉnh",
        "Sở Nội vụ\nSở Tài chính",
        "Tháng 6/2026",
        "",
        "",
    ),
    (
        "2",
        "Vận hành cổng dịch vụ công",
        "",
        "Văn phòng UBND tỉnh",
        "Sở KH&CN và CA tỉnh",
        "Thường xuyên",
        "",
        "",
    ),
    (
        "3",
        "Báo cáo kết quả số hóa",
        "Chỉ số thành phần 1",
        "Văn phòng UBND tỉnh",
        "",
        "Trước ngày 15/8/2026",
        "",
        "",
    ),
    ("4", "Tổng kết năm", "", "Sở Nội vụ", "", "Năm 2026", "", ""),
]
# The lead of rows "2" and "3" of group II is one cell merged over both rows.
MERGED_LEAD_ROWS = (5, 6)  # positions in BODY


def component_of_2024(**fields: str) -> None:
    """A component of "Hoạt động chính quyền số" (main indicator 6 of the 2024 set, the set in
    force for a plan made in 2026)."""
    ComponentIndicatorFactory(
        indicator_set=dti2024(), parent=main_indicator("6", "DTI2024"), code="6.1", **fields
    )


@pytest.fixture
def province_units() -> dict[str, Unit]:
    units = {
        name: UnitFactory(name=name, short_name=short)
        for name, short in (
            ("Sở Khoa học và Công nghệ", "Sở KH&CN"),
            ("Công an tỉnh", ""),
            ("Sở Nội vụ", "SNV"),
            ("Sở Tài chính", "STC"),
            ("Văn phòng UBND tỉnh", "VP UBND"),
            ("UBND xã Hữu Lũng", ""),
            ("UBND phường Đông Kinh", ""),
        )
    }
    units["Công an tỉnh"].aliases = "CA tỉnh"
    units["Công an tỉnh"].save()
    group = UnitGroup.objects.create(name="Ủy ban nhân dân cấp xã", aliases="UBND các xã, phường")
    group.members.set([units["UBND xã Hữu Lũng"], units["UBND phường Đông Kinh"]])
    component_of_2024(name_vi="Chỉ số thành phần 1")
    PlanFactory(title=PLAN, year=2026)
    return units


def body_cells(entry: tuple[str, ...] | str, width: int) -> list[str]:
    if isinstance(entry, str):
        return [entry] * width  # a group row merged across the table
    return [*entry, ""]


def appendix_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    width = len(UPPER)
    for number, title in enumerate(TITLE_ROWS, start=1):
        sheet.cell(number, 1, title)
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=width)
    header = len(TITLE_ROWS) + 2  # an empty row under the titles
    for column, (upper, lower) in enumerate(zip(UPPER, LOWER, strict=True), start=1):
        sheet.cell(header, column, upper)
        if lower:
            sheet.cell(header + 1, column, lower)
        elif upper != "Đơn vị thực hiện":
            sheet.merge_cells(
                start_row=header, start_column=column, end_row=header + 1, end_column=column
            )
    sheet.merge_cells(start_row=header, start_column=4, end_row=header, end_column=5)
    for column, text in enumerate(NUMBERS, start=1):
        sheet.cell(header + 2, column, text)
    first = header + 3
    for index, entry in enumerate(BODY):
        row = first + index
        if isinstance(entry, str):
            sheet.cell(row, 1, entry)
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
            continue
        for column, text in enumerate(entry, start=1):
            if text and not (index == MERGED_LEAD_ROWS[1] and column == 4):
                sheet.cell(row, column, text)
    lead_rows = [first + i for i in MERGED_LEAD_ROWS]
    sheet.merge_cells(start_row=lead_rows[0], start_column=4, end_row=lead_rows[1], end_column=4)
    book.save(path)
    return path


def appendix_docx(path: Path) -> Path:
    document = docx.Document()
    for title in TITLE_ROWS:
        document.add_paragraph(title)
    width = len(UPPER)
    # Split across two tables, as when a table is continued on the next page with its
    # header repeated: the second half of the body goes into the second table.
    halves = [BODY[:3], BODY[3:]]
    offset = 0
    for half in halves:
        table = document.add_table(rows=3 + len(half), cols=width)
        for column in range(width):
            if UPPER[column] == "Đơn vị thực hiện":
                table.cell(1, column).text = LOWER[column]
            else:
                table.cell(0, column).merge(table.cell(1, column)).text = UPPER[column]
        table.cell(0, 3).merge(table.cell(0, 4)).text = "Đơn vị thực hiện"
        for column, text in enumerate(NUMBERS):
            table.cell(2, column).text = text
        for index, entry in enumerate(half):
            row = 3 + index
            if isinstance(entry, str):
                table.cell(row, 0).merge(table.cell(row, width - 1)).text = entry
                continue
            for column, text in enumerate(entry):
                if offset + index == MERGED_LEAD_ROWS[1] and column == 3:
                    continue
                table.cell(row, column).text = text
        for body_index in MERGED_LEAD_ROWS:
            if offset <= body_index < offset + len(half):
                top = 3 + MERGED_LEAD_ROWS[0] - offset
                table.cell(top, 3).merge(table.cell(top + 1, 3)).text = "Văn phòng UBND tỉnh"
                break
        document.add_paragraph("")
        offset += len(half)
    document.add_paragraph("Nơi nhận: như trên.")
    document.save(path)
    return path


def run_import(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("import", TASKS, str(path), "--no-input", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failed_import(path: Path, *args: str) -> list[str]:
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError) as failure:
        call_command(
            "import", TASKS, str(path), "--no-input", *args, stdout=io.StringIO(), stderr=err
        )
    lines = err.getvalue().strip().splitlines()
    return [line for line in lines if not line.startswith("Left out")] + [str(failure.value)]


def tasks() -> list[tuple[object, ...]]:
    rows = []
    for task in Task.objects.select_related("indicator", "lead_unit").order_by("pk"):
        roles = {
            role: sorted(
                a.unit.name for a in task.assignments.select_related("unit") if a.role == role
            )
            for role in ("coordinating", "implementing")
        }
        rows.append(
            (
                task.title,
                task.indicator.code,
                task.lead_unit.name,
                roles["coordinating"],
                task.deadline,
                task.deadline_text,
                task.reporting_period,
                task.expected_output,
                task.note,
            )
        )
    return rows


def expected_tasks() -> list[tuple[object, ...]]:
    ongoing = first_report_date(Plan.objects.get(title=PLAN), "quarter", timezone.localdate())
    vp = "Văn phòng UBND tỉnh"
    return [
        (
            "Tuyên truyền về chuyển đổi số",
            "1",
            "Sở Khoa học và Công nghệ",
            ["Sở Nội vụ", "Sở Tài chính"],
            dt.date(2026, 9, 30),
            "Quý III/2026",
            "",
            "Tin bài",
            "Phối hợp Báo tỉnh",
        ),
        (
            "Tập huấn kỹ năng số",
            "1",
            "Công an tỉnh",
            ["UBND phường Đông Kinh", "UBND xã Hữu Lũng"],
            dt.date(2026, 6, 30),
            "6 tháng đầu năm 2026",
            "",
            "",
            "",
        ),
        (
            "Số hóa hồ sơ",
            "6.1",
            vp,
            ["Sở Nội vụ", "Sở Tài chính"],
            dt.date(2026, 6, 30),
            "Tháng 6/2026",
            "",
            "",
            "",
        ),
        (
            "Vận hành cổng dịch vụ công",
            "6",
            vp,
            ["Công an tỉnh", "Sở Khoa học và Công nghệ"],
            ongoing,
            "Thường xuyên",
            "quarter",
            "",
            "",
        ),
        (
            "Báo cáo kết quả số hóa",
            "6.1",
            vp,
            [],
            dt.date(2026, 8, 15),
            "Trước ngày 15/8/2026",
            "",
            "",
            "",
        ),
        ("Tổng kết năm", "6", "Sở Nội vụ", [], dt.date(2026, 12, 31), "Năm 2026", "", "", ""),
    ]


# --- One step, from either file --------------------------------------------------------------


@pytest.mark.parametrize("build", [appendix_xlsx, appendix_docx], ids=["xlsx", "docx"])
def test_the_appendix_imports_in_one_step_into_the_chosen_plan(
    build, province_units, tmp_path: Path
) -> None:
    path = build(tmp_path / f"phu-luc.{build.__name__.rsplit('_', 1)[1]}")

    out, err = run_import(path, "--plan", PLAN)

    assert "Imported: 6 new, 0 updated, 0 unchanged" in out
    assert 'Left out, not a column we know: "Kinh phí".' in err
    assert tasks() == expected_tasks()
    assert Task.objects.filter(plan__title=PLAN).count() == 6


def test_the_word_and_the_excel_appendix_give_the_same_tasks(province_units, tmp_path: Path):
    run_import(appendix_xlsx(tmp_path / "a.xlsx"), "--plan", PLAN)
    from_excel = tasks()
    out, _err = run_import(appendix_docx(tmp_path / "a.docx"), "--plan", PLAN)
    assert "0 new, 0 updated, 6 unchanged" in out
    assert tasks() == from_excel


def test_a_dry_run_says_how_each_row_was_read(province_units, tmp_path: Path) -> None:
    out, _err = run_import(appendix_xlsx(tmp_path / "a.xlsx"), "--plan", PLAN, "--dry-run")
    assert "Dry run, nothing was saved" in out
    assert not Task.objects.exists()
    # Rows as the spreadsheet numbers them: titles 1-3, blank 4, header 5-6, numbers 7.
    assert "Row 9: Indicator from the group row 8: " in out
    assert "Chủ trì: Sở KH&CN → Sở Khoa học và Công nghệ (short name)" in out
    assert "UBND các xã, phường → group Ủy ban nhân dân cấp xã" in out
    assert "Deadline “Quý III/2026” → 30/09/2026" in out
    assert "Ongoing (Thường xuyên): reported every quarter" in out


# --- Bad input: refused with the row, the column and the nearest names ------------------------


def test_unknown_unit_bad_period_unknown_group_and_two_leads_are_refused(
    province_units, tmp_path: Path
) -> None:
    BODY_BAD = list(BODY)
    BODY_BAD[0] = "I. CHỈ SỐ NHẬN THỨC SÔ"  # a typo: no such main indicator
    BODY_BAD[1] = ("1", "A", "", "Sở KH&CN, Sở Nội vụ", "", "Quý V/2026", "", "")
    BODY_BAD[2] = ("2", "B", "1", "Sở Tai chinh", "Sở Ngoại vụ", "Tháng 13/2026", "", "")
    path = tmp_path / "bad.xlsx"
    original = BODY[:]
    BODY[:] = BODY_BAD
    try:
        appendix_xlsx(path)
    finally:
        BODY[:] = original

    problems = failed_import(path, "--plan", PLAN)

    assert problems[-1] == "Nothing was imported: the file has 6 problems."
    assert problems[:-1] == [
        'Row 8, column "Nội dung nhiệm vụ": Unknown main indicator "I. CHỈ SỐ NHẬN THỨC SÔ". '
        'Did you mean "Nhận thức số"?',
        'Row 9, column "Chủ trì": A task has exactly one lead unit, but this cell names 2: '
        'Sở KH&CN; Sở Nội vụ. Put the others under "implementing_units" or "Phối hợp".',
        'Row 9, column "Thời gian hoàn thành": "Quý V/2026": a year has quarters I to IV.',
        'Row 10, column "Chủ trì": Unknown unit "Sở Tai chinh". Did you mean "Sở Tài chính"?',
        'Row 10, column "Phối hợp": Unknown unit "Sở Ngoại vụ". Did you mean "Sở Nội vụ"?',
        'Row 10, column "Thời gian hoàn thành": "Tháng 13/2026": there is no month 13.',
    ]
    assert not Task.objects.exists()


def test_a_table_without_a_plan_column_needs_the_plan(province_units, tmp_path: Path) -> None:
    problems = failed_import(appendix_xlsx(tmp_path / "a.xlsx"))
    assert 'The required column "plan" is missing' in problems[0]
    unknown = failed_import(appendix_xlsx(tmp_path / "b.xlsx"), "--plan", "Kế hoạch 2062")
    assert 'Unknown plan "Kế hoạch 2062"' in "\n".join(unknown)


# --- Ongoing tasks -----------------------------------------------------------------------------


def test_an_ongoing_task_is_reminded_before_each_quarterly_report_date(tmp_path: Path) -> None:
    lead = UnitFactory(name="Sở Tài chính")
    FocalPointFactory(unit=lead, user=UserFactory(username="focal@stc.example"))
    PlanFactory(title="Kế hoạch 2030", year=2030)
    component_of_2024()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nội dung nhiệm vụ", "Chỉ số", "Cơ quan chủ trì", "Thời gian thực hiện"])
    sheet.append(["Cập nhật dữ liệu mở", "6.1", "Sở Tài chính", "Hằng quý"])
    book.save(tmp_path / "ongoing.xlsx")
    run_import(tmp_path / "ongoing.xlsx", "--plan", "Kế hoạch 2030")
    task = Task.objects.get()
    assert (task.deadline, task.reporting_period) == (dt.date(2030, 3, 31), "quarter")

    def reminded_on(day: dt.date) -> set[str]:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(8)))
        before = set(Notification.objects.values_list("pk", flat=True))
        reminders_send_due(now=moment)
        return set(Notification.objects.exclude(pk__in=before).values_list("rule", flat=True))

    assert "due_soon" in reminded_on(dt.date(2030, 3, 28))  # the first quarter's report is near
    progress_report(
        task=task,
        unit=lead,
        author=None,
        percent=25,
        now=timezone.make_aware(dt.datetime(2030, 3, 29, 9)),
    )
    task.refresh_from_db()
    assert task.deadline == dt.date(2030, 6, 30)  # the next quarter's report date
    assert "due_soon" in reminded_on(dt.date(2030, 6, 26))


# --- Files cannot exhaust the server ---------------------------------------------------------


def _xlsx_with_a_far_cell(path: Path) -> Path:
    """A tiny workbook whose only value is in the last cell Excel has: XFD1048576."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Nội dung nhiệm vụ"
    sheet["XFD1048576"] = "x"
    book.save(path)
    return path


def _csv_with_100000_columns(path: Path) -> Path:
    path.write_bytes(b",".join([b"x"] * 100_000) + b"\r\n" + b",".join([b"1"] * 50_000))
    return path


@pytest.mark.parametrize(
    "build", [_xlsx_with_a_far_cell, _csv_with_100000_columns], ids=["xlsx", "csv"]
)
def test_a_file_reaching_beyond_the_limits_is_refused_quickly_with_little_memory(
    build, tmp_path: Path
) -> None:
    suffix = "xlsx" if "xlsx" in build.__name__ else "csv"
    path = build(tmp_path / f"huge.{suffix}")
    assert path.stat().st_size < 310_000

    tracemalloc.start()
    started = time.monotonic()
    problems = failed_import(path, "--plan", "x")
    elapsed = time.monotonic() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert "a file to import may have at most 20000 rows and 100 columns" in problems[-1]
    assert elapsed < 5
    assert peak < 50 * 1024 * 1024


def test_the_command_can_raise_the_limits(province_units, tmp_path: Path) -> None:
    path = appendix_xlsx(tmp_path / "a.xlsx")
    problems = failed_import(path, "--plan", PLAN, "--max-columns", "5")
    assert "at most 20000 rows and 5 columns" in problems[-1]
    out, _err = run_import(path, "--plan", PLAN, "--max-columns", "200", "--dry-run")
    assert "6 new" in out


def test_a_zip_that_unpacks_beyond_the_limit_is_refused(tmp_path: Path, settings) -> None:
    settings.IMPORT_MAX_UNPACKED_BYTES = 10_000
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * 1_000_000)
    assert "unpacks to" in failed_import(path, "--plan", "x")[-1]


# --- The admin import page ---------------------------------------------------------------------


@pytest.fixture
def coordinator_client(client):
    admin = UserFactory(username="admin@tinh.example", is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    return client


def test_admin_previews_the_word_appendix_in_the_chosen_plan_then_confirms(
    coordinator_client, province_units, tmp_path: Path
) -> None:
    path = appendix_docx(tmp_path / "phu-luc.docx")
    plan = Plan.objects.get(title=PLAN)
    formats = ["csv", "xlsx", "docx"]
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    response = coordinator_client.post(
        reverse("admin:plans_task_import"),
        {"import_file": upload, "format": formats.index("docx"), "plan": plan.pk},
    )

    assert response.status_code == 200
    assert "confirm_form" in response.context, response.context["result"].problems
    page = html.unescape(response.content.decode())
    assert "Left out, not a column we know: “Kinh phí”" in page
    assert "Sở KH&CN → Sở Khoa học và Công nghệ (short name)" in page
    assert "Deadline “Quý III/2026” → 30/09/2026" in page
    assert not Task.objects.exists()

    done = coordinator_client.post(
        reverse("admin:plans_task_process_import"),
        response.context["confirm_form"].initial,
        follow=True,
    )
    assert [str(m) for m in done.context["messages"]] == [
        "Import finished: 6 new, 0 updated, 0 deleted and 0 skipped tasks."
    ]
    assert tasks() == expected_tasks()


def test_admin_shows_every_problem_in_the_page(
    coordinator_client, province_units, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    book.active.append(["Nội dung nhiệm vụ", "Chỉ số", "Cơ quan chủ trì", "Thời hạn"])
    book.active.append(["Việc A", "6.1", "Sở Tai chinh", "Quý V/2026"])
    buffer = io.BytesIO()
    book.save(buffer)
    plan = Plan.objects.get(title=PLAN)
    response = coordinator_client.post(
        reverse("admin:plans_task_import"),
        {
            "import_file": SimpleUploadedFile("a.xlsx", buffer.getvalue()),
            "format": 1,
            "plan": plan.pk,
        },
    )
    page = html.unescape(response.content.decode())
    assert "confirm_form" not in response.context
    assert "validation-error-container" not in page  # nothing hidden behind a hover
    assert 'Unknown unit "Sở Tai chinh". Did you mean "Sở Tài chính"?' in page
    assert '"Quý V/2026": a year has quarters I to IV.' in page


# --- The examples in docs/examples, on the demo ------------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
SAMPLE_PLAN = "Kế hoạch nâng cao chỉ số DTI năm 2026 (mẫu)"


def test_the_examples_import_on_the_demo_in_the_documented_order() -> None:
    call_command("load_demo", "--force", stdout=io.StringIO())
    demo_members = set(Unit.objects.values_list("name", "memberships__user__email"))
    for resource, name in (
        ("indicators.resources.IndicatorResource", "indicators.csv"),
        ("plans.resources.UnitResource", "units.csv"),
        ("plans.resources.PlanResource", "plan.csv"),
        ("plans.resources.TargetResource", "targets.csv"),
        ("plans.resources.TaskResource", "tasks.csv"),
    ):
        out = io.StringIO()
        call_command("import", resource, str(EXAMPLES / name), "--no-input", stdout=out)
        assert "Imported" in out.getvalue() or "Đã nhập" in out.getvalue()
    # The units file matches the demo's focal points: it adds, it never takes anyone away.
    assert demo_members <= set(Unit.objects.values_list("name", "memberships__user__email"))

    out, _err = run_import(EXAMPLES / "phu-luc-ke-hoach.docx", "--plan", SAMPLE_PLAN)
    assert "Imported: 5 new, 0 updated, 0 unchanged" in out
    out, _err = run_import(EXAMPLES / "phu-luc-ke-hoach.xlsx", "--plan", SAMPLE_PLAN)
    assert "0 new, 0 updated, 5 unchanged" in out
    ongoing = Task.objects.get(title="Duy trì cung cấp dịch vụ công trực tuyến toàn trình")
    assert (ongoing.deadline_text, ongoing.reporting_period) == ("Thường xuyên", "quarter")
    assert ongoing.lead_unit.name == "Văn phòng UBND tỉnh"

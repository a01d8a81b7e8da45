"""Spreadsheet imports and exports, as a coordinator meets them: real files (Excel's CSV in
UTF-8 with BOM or cp1258, XLSX), Vietnamese headers, the admin's two steps, ``manage.py import``,
all-or-nothing, errors that name the spreadsheet row (header = row 1) and the user's column."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import tablib
from django.contrib.auth.hashers import is_password_usable
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from pytest_django import DjangoAssertNumQueries, Settings

from indicators.models import Indicator, IndicatorSet
from indicators.resources import IndicatorResource
from plans.models import Assignment, Plan, Task, Unit, UnitMembership, User
from plans.resources import TaskResource, UnitResource
from tests.factories import (
    AssignmentFactory,
    ComponentIndicatorFactory,
    FocalPointFactory,
    PlanFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    dti2024,
    main_indicator,
)

pytestmark = pytest.mark.django_db

TASKS = "plans.resources.TaskResource"
UNITS = "plans.resources.UnitResource"
PLANS = "plans.resources.PlanResource"
INDICATORS = "indicators.resources.IndicatorResource"

TASK_HEADER = [
    "plan",
    "indicator_code",
    "title",
    "lead_unit",
    "implementing_units",
    "coordinating_units",
    "monitoring_unit",
    "start_date",
    "deadline",
    "expected_output",
]


# --- helpers ---------------------------------------------------------------------------------


def csv_text(rows: list[list[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    path.write_bytes(csv_text(rows).encode(encoding))
    return path


_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """What Excel on a Vietnamese Windows writes: letters with circumflex, breve or horn are
    single bytes, tone marks are combining characters after them."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
            tones = "".join(c for c in parts if c in _TONE_MARKS)
            out += (base + tones).encode("cp1258")
    return bytes(out)


# Commands run in the site's language (Vietnamese by default); the tests read the English
# source strings so that they keep passing once the translation is filled in.


def run_import(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("import", *args, "--no-input", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failed_import(*args: str) -> tuple[str, str]:
    """Runs an import that must fail; returns (CommandError message, what was printed)."""
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError) as raised:
        call_command("import", *args, "--no-input", stdout=io.StringIO(), stderr=err)
    return str(raised.value), err.getvalue()


def export_bytes(file_format: str, resource: str) -> bytes:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    call_command("export", file_format, resource, stdout=stream)
    return stream.buffer.getvalue()


def task_row(plan: Plan, code: str, title: str, lead: Unit, **cells: object) -> list[object]:
    row: dict[str, object] = {
        "plan": plan.title,
        "indicator_code": code,
        "title": title,
        "lead_unit": lead.name,
        "implementing_units": "",
        "coordinating_units": "",
        "monitoring_unit": "",
        "start_date": "2026-01-05",
        "deadline": "2026-06-30",
        "expected_output": "",
        **cells,
    }
    return [row[column] for column in TASK_HEADER]


def task_state() -> list[tuple[object, ...]]:
    """Everything a task import can change, to compare before and after."""
    tasks = list(
        Task.objects.order_by("pk").values_list(
            "pk",
            "plan_id",
            "indicator_id",
            "title",
            "lead_unit_id",
            "start_date",
            "deadline",
            "expected_output",
            "updated_at",
        )
    )
    assignments = sorted(Assignment.objects.values_list("pk", "task_id", "unit_id", "role"))
    return [*tasks, *assignments]


@pytest.fixture
def units() -> dict[str, Unit]:
    names = ["Sở Khoa học và Công nghệ", "Sở Tài chính", "Sở Nội vụ", "Văn phòng UBND tỉnh"]
    return {name: UnitFactory(name=name) for name in names}


@pytest.fixture
def plan() -> Plan:
    return PlanFactory(title="Kế hoạch DTI 2026", year=2026)


@pytest.fixture
def superuser_client(client: Client) -> Client:
    admin = UserFactory(username="admin@tinh.example", is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    return client


# --- manage.py import: happy paths -----------------------------------------------------------


def test_indicator_file_imports_components_listed_before_their_new_main(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "indicators.csv",
        [
            ["framework", "code", "parent_code", "name_vi", "name_en", "max_points", "scored"],
            ["DTI2022", "10.1", "10", "MẪU thành phần 1", "SAMPLE component 1", "2,5", "1"],
            ["DTI2022", "7.901", "7", "MẪU thành phần 2", "SAMPLE component 2", "10", "có"],
            ["DTI2022", "10", "", "MẪU chỉ số chính", "SAMPLE main", "20", "0"],
        ],
    )

    out, _err = run_import(INDICATORS, str(path))

    assert "3 new, 0 updated, 0 unchanged" in out
    component = Indicator.objects.get(indicator_set__code="DTI2022", code="10.1")
    assert component.parent.code == "10"
    assert component.max_points == Decimal("2.5")
    assert Indicator.objects.get(code="10").scored is False
    assert Indicator.objects.get(code="7.901").parent.code == "7"


def test_an_unknown_set_without_a_first_year_says_how_to_add_it(
    tmp_path: Path,
) -> None:
    path = write_csv(
        tmp_path / "indicators.csv",
        [
            ["framework", "code", "parent_code", "name_vi", "max_points"],
            ["DTI2025", "1", "", "Nhận thức số", "100"],
        ],
    )

    message, printed = failed_import(INDICATORS, str(path))

    assert 'Row 2, column "framework": Unknown indicator set "DTI2025".' in printed
    assert "If it is a new set, give its first assessment year" in printed
    assert "Nothing was imported" in message


def test_component_cannot_hang_under_another_component(tmp_path: Path) -> None:
    ComponentIndicatorFactory(code="7.50")
    path = write_csv(
        tmp_path / "indicators.csv",
        [
            ["framework", "code", "parent_code", "name_vi", "max_points"],
            ["DTI2022", "7.50.1", "7.50", "Con của thành phần", "1"],
        ],
    )

    _message, printed = failed_import(INDICATORS, str(path))

    assert 'Row 2, column "parent_code": 7.50 is itself a component of 7' in printed
    assert not Indicator.objects.filter(code="7.50.1").exists()


def test_indicator_errors_keep_their_spreadsheet_row_although_mains_import_first(
    tmp_path: Path,
) -> None:
    path = write_csv(
        tmp_path / "indicators.csv",
        [
            ["Bộ chỉ số", "Mã", "Chỉ số chính", "Tên tiếng Việt", "Điểm tối đa"],
            ["DTI2022", "11.1", "11", "MẪU thành phần 1", "abc"],
            ["DTI2022", "11", "", "MẪU chỉ số chính", "20"],
            ["DTI2022", "11.2", "11", "MẪU thành phần 2", "-5"],
        ],
    )

    _message, printed = failed_import(INDICATORS, str(path))

    assert printed.strip().splitlines() == [
        'Row 2, column "Điểm tối đa": "abc" is not a number.',
        'Row 4, column "Điểm tối đa": Ensure this value is greater than or equal to 0.',
    ]
    assert not Indicator.objects.filter(code="11").exists()


def test_exported_indicators_import_back_unchanged(tmp_path: Path) -> None:
    ComponentIndicatorFactory(code="7.2", max_points=Decimal("12.50"))
    path = tmp_path / "indicators.xlsx"
    path.write_bytes(export_bytes("XLSX", INDICATORS))

    out, _err = run_import(INDICATORS, str(path))

    assert "0 new, 0 updated, 18 unchanged" in out


def test_plan_file_imports_and_updates_by_title(tmp_path: Path) -> None:
    PlanFactory(title="Kế hoạch DTI 2025", year=2025, decision="")
    path = write_csv(
        tmp_path / "plans.csv",
        [
            ["Tiêu đề", "Năm", "Số quyết định"],
            ["kế hoạch  DTI 2025", "2025", "45/KH-UBND"],
            ["Kế hoạch DTI 2026", "2026", "123/KH-UBND"],
        ],
    )

    out, _err = run_import(PLANS, str(path))

    assert "1 new, 1 updated, 0 unchanged" in out
    assert Plan.objects.get(title="Kế hoạch DTI 2025").decision == "45/KH-UBND"
    assert Plan.objects.count() == 2


def test_unit_file_creates_accounts_for_new_focal_points_and_matches_existing_by_email(
    tmp_path: Path,
) -> None:
    known = UserFactory(username="an", email="An.Nguyen@tinh.example")
    path = write_csv(
        tmp_path / "units.csv",
        [
            ["name", "short_name", "kind", "email", "parent", "focal_points"],
            # The parent is a new unit further down the file.
            [
                "Trung tâm Phục vụ hành chính công",
                "TTPVHCC",
                "Provincial department",
                "",
                "Văn phòng UBND tỉnh",
                "an.nguyen@tinh.example; Binh.Tran@Tinh.example",
            ],
            ["Văn phòng UBND tỉnh", "VP", "department", "vp@tinh.example", "", ""],
            ["Công an tỉnh", "CA", "agency", "", "", ""],
        ],
    )

    out, _err = run_import(UNITS, str(path))

    assert "3 new, 0 updated, 0 unchanged units" in out
    assert "1 new account for a focal point (binh.tran@tinh.example)" in out
    centre = Unit.objects.get(name="Trung tâm Phục vụ hành chính công")
    assert centre.parent.name == "Văn phòng UBND tỉnh"
    assert centre.kind == Unit.Kind.DEPARTMENT
    assert Unit.objects.get(name="Công an tỉnh").kind == Unit.Kind.AGENCY
    new = User.objects.get(username="binh.tran@tinh.example")
    assert new.email == "binh.tran@tinh.example"
    assert new.is_active and not is_password_usable(new.password)
    focal = set(
        UnitMembership.objects.filter(
            unit=centre, role=UnitMembership.Role.FOCAL_POINT
        ).values_list("user_id", flat=True)
    )
    assert focal == {known.pk, new.pk}


def test_unit_reimport_replaces_focal_points_with_the_files_list(tmp_path: Path) -> None:
    unit = UnitFactory(name="Sở Tài chính")
    leaving = FocalPointFactory(unit=unit, user=UserFactory(email="cu@tinh.example"))
    staying = FocalPointFactory(unit=unit, user=UserFactory(email="giu@tinh.example"))
    head = UnitMembership.objects.create(
        unit=unit, user=leaving.user, role=UnitMembership.Role.HEAD
    )
    path = write_csv(
        tmp_path / "units.csv",
        [["Tên đơn vị", "Cán bộ đầu mối"], ["Sở Tài chính", "giu@tinh.example"]],
    )

    out, _err = run_import(UNITS, str(path))

    assert "0 new, 1 updated" in out
    remaining = UnitMembership.objects.filter(unit=unit)
    assert set(remaining.values_list("pk", flat=True)) == {staying.pk, head.pk}


def test_unit_preview_names_the_focal_points_a_row_would_remove(
    tmp_path: Path, superuser_client: Client
) -> None:
    unit = UnitFactory(name="Sở Tài chính")
    FocalPointFactory(unit=unit, user=UserFactory(email="cu@tinh.example"))
    FocalPointFactory(unit=unit, user=UserFactory(email="giu@tinh.example"))
    rows = [
        ["Tên đơn vị", "Cán bộ đầu mối"],
        ["Sở Tài chính", "giu@tinh.example; moi@tinh.example"],
    ]
    path = write_csv(tmp_path / "units.csv", rows)

    out, _err = run_import(UNITS, str(path), "--dry-run")
    assert "Row 2: No longer focal points of this unit: cu@tinh.example" in out

    upload = SimpleUploadedFile("units.csv", path.read_bytes())
    preview = superuser_client.post(
        reverse("admin:plans_unit_import"), {"import_file": upload, "format": "0"}
    )
    page = html.unescape(preview.content.decode())
    assert "No longer focal points of this unit: cu@tinh.example" in page
    # The focal points cell compares the unit's list now with the file's, struck through.
    [row] = preview.context["result"].valid_rows()
    focal = str(row.diff[UnitResource.Meta.fields.index("focal_points")])

    def text_without(tag: str) -> str:
        return re.sub("<[^>]+>", "", re.sub(f"<{tag}[^>]*>.*?</{tag}>", "", focal))

    assert text_without("ins") == "cu@tinh.example; giu@tinh.example"  # now
    assert text_without("del") == "giu@tinh.example; moi@tinh.example"  # after the import
    assert UnitMembership.objects.filter(unit=unit).count() == 2  # a preview saves nothing


def test_admin_preview_shows_each_cell_as_the_export_writes_it(
    superuser_client: Client, units: dict[str, Unit], plan: Plan
) -> None:
    upload = SimpleUploadedFile(
        "kehoach.csv", csv_text(vietnamese_rows(plan)).encode("utf-8-sig"), content_type="text/csv"
    )
    preview = superuser_client.post(
        reverse("admin:plans_task_import"), {"import_file": upload, "format": "0", "resource": "0"}
    )
    first = [html.unescape(str(cell)) for cell in preview.context["result"].valid_rows()[0].diff]
    # Every unit column filled in as the export writes it (they have no model attribute).
    assert any("Sở Tài chính" in cell for cell in first)  # coordinating
    assert any("Sở Khoa học và Công nghệ" in cell for cell in first)  # monitoring
    assert any("Kế hoạch DTI 2026" in cell for cell in first)


def test_task_file_imports_with_lead_and_assignments(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    ComponentIndicatorFactory(
        code="7.12", indicator_set=dti2024(), parent=main_indicator("7", "DTI2024")
    )
    path = write_csv(
        tmp_path / "tasks.csv",
        [
            TASK_HEADER,
            task_row(
                plan,
                "7.12",
                "Công khai thủ tục hành chính",
                units["Văn phòng UBND tỉnh"],
                implementing_units="Văn phòng UBND tỉnh",
                coordinating_units="Sở Nội vụ; Sở Tài chính",
                monitoring_unit="Sở Khoa học và Công nghệ",
                expected_output="Báo cáo",
            ),
            task_row(plan, "5", "Diễn tập an toàn thông tin", units["Sở Nội vụ"]),
        ],
    )

    out, _err = run_import(TASKS, str(path))

    assert "2 new, 0 updated, 0 unchanged tasks" in out
    task = Task.objects.get(title="Công khai thủ tục hành chính")
    assert task.indicator.code == "7.12" and task.plan == plan
    assert task.lead_unit == units["Văn phòng UBND tỉnh"]
    assert (task.start_date, task.deadline) == (dt.date(2026, 1, 5), dt.date(2026, 6, 30))
    roles = {(a.unit.name, a.role) for a in task.assignments.select_related("unit")}
    assert roles == {
        ("Văn phòng UBND tỉnh", "implementing"),
        ("Sở Nội vụ", "coordinating"),
        ("Sở Tài chính", "coordinating"),
        ("Sở Khoa học và Công nghệ", "monitoring"),
    }
    assert Task.objects.get(title="Diễn tập an toàn thông tin").indicator.code == "5"


def test_dry_run_reports_counts_and_saves_nothing(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    path = write_csv(
        tmp_path / "t.csv", [TASK_HEADER, task_row(plan, "7", "A", units["Sở Nội vụ"])]
    )

    out, _err = run_import(TASKS, str(path), "--dry-run")

    assert "Dry run, nothing was saved" in out and "1 new" in out
    assert not Task.objects.exists()


# --- all or nothing, and errors that name row and column -------------------------------------


def test_one_bad_row_of_ten_imports_nothing_and_names_row_and_column(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    rows = [task_row(plan, "7", f"Nhiệm vụ {n}", units["Sở Nội vụ"]) for n in range(1, 11)]
    rows[5][TASK_HEADER.index("deadline")] = "30/02/2026"  # spreadsheet row 7
    path = write_csv(tmp_path / "tasks.csv", [TASK_HEADER, *rows])

    message, printed = failed_import(TASKS, str(path))

    assert printed.strip() == (
        'Row 7, column "deadline": "30/02/2026" is not a date. '
        "Write it as YYYY-MM-DD or dd/mm/yyyy, e.g. 30/06/2026."
    )
    assert message == "Nothing was imported: the file has 1 problem."
    assert Task.objects.count() == 0


def test_calling_import_data_directly_cannot_ask_for_a_partial_import(
    units: dict[str, Unit], plan: Plan
) -> None:
    dataset = tablib.Dataset(headers=TASK_HEADER)
    dataset.append(task_row(plan, "7", "Tốt", units["Sở Nội vụ"]))
    dataset.append(task_row(plan, "7", "Xấu", units["Sở Nội vụ"], deadline="sometime"))

    result = TaskResource().import_data(
        dataset, use_transactions=False, rollback_on_validation_errors=False
    )

    assert result.has_validation_errors()
    assert result.invalid_rows[0].number == 3
    assert not Task.objects.exists()


def test_lead_unit_cell_with_two_units_is_refused(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    row = task_row(plan, "7", "A", units["Sở Nội vụ"], lead_unit="Sở Nội vụ; Sở Tài chính")
    path = write_csv(tmp_path / "t.csv", [TASK_HEADER, row])

    _message, printed = failed_import(TASKS, str(path))

    assert (
        'Row 2, column "lead_unit": A task has exactly one lead unit, but this cell names 2: '
        'Sở Nội vụ; Sở Tài chính. Put the others under "implementing_units" or '
        '"coordinating_units".'
    ) in printed


def test_task_rules_each_reported_in_their_column(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    lead = units["Sở Nội vụ"]
    path = write_csv(
        tmp_path / "t.csv",
        [
            TASK_HEADER,
            task_row(plan, "7", "Không chủ trì", lead, lead_unit=""),
            task_row(plan, "7", "Phối hợp", lead, coordinating_units="Sở Nội vụ"),
            task_row(plan, "7", "Ngược", lead, start_date="01/07/2026", deadline="30/06/2026"),
            task_row(plan, "7", "Thiếu hạn", lead, deadline=""),
            task_row(plan, "7", "phối  HỢP", lead),
        ],
    )

    _message, printed = failed_import(TASKS, str(path))

    lines = printed.strip().splitlines()
    assert lines == [
        'Row 2, column "lead_unit": Every task needs exactly one lead unit.',
        'Row 3, column "coordinating_units": Sở Nội vụ is the lead unit; it cannot also be a '
        "coordinating unit.",
        'Row 4, column "deadline": The deadline 30/06/2026 is before the start date 01/07/2026.',
        'Row 5, column "deadline": Every task needs a deadline.',
        'Row 6, column "title": This task (same plan, indicator and title) is already on row 3.',
    ]


def test_unknown_unit_suggests_the_closest_names_and_diacritics_count(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        [
            TASK_HEADER,
            # Case and extra spaces are forgiven...
            task_row(plan, "7", "A", units["Sở Nội vụ"], lead_unit="  sở   TÀI chính "),
            # ...missing diacritics are not.
            task_row(plan, "7", "B", units["Sở Nội vụ"], lead_unit="So Tai chinh"),
        ],
    )

    _message, printed = failed_import(TASKS, str(path))

    assert printed.strip() == (
        'Row 3, column "lead_unit": Unknown unit "So Tai chinh". Did you mean "Sở Tài chính"?'
    )


def test_unknown_indicator_code_suggests_codes_of_the_plans_set(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    ComponentIndicatorFactory(
        code="7.12", indicator_set=dti2024(), parent=main_indicator("7", "DTI2024")
    )
    path = write_csv(
        tmp_path / "t.csv", [TASK_HEADER, task_row(plan, "7.21", "A", units["Sở Nội vụ"])]
    )

    _message, printed = failed_import(TASKS, str(path))

    assert 'Row 2, column "indicator_code": Unknown indicator code "7.21".' in printed
    assert 'Did you mean "7.12"' in printed


def test_unknown_columns_are_left_out_and_missing_ones_named(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "t.csv", [["Kế hoạch", "Nhiệm vụ", "Đơn vị chủ trì", "Hạn chót"], ["x"] * 4]
    )

    _message, printed = failed_import(TASKS, str(path))

    # A plan's table carries columns of its own: one nobody knows is left out and said so.
    assert 'Left out, not a column we know: "Hạn chót".' in printed
    assert 'Row 1, column "indicator_code": The required column "indicator_code" is missing.' in (
        printed
    )
    assert 'Row 1, column "deadline": The required column "deadline" is missing.' in printed


# --- real files ------------------------------------------------------------------------------

VIETNAMESE_HEADER = [
    "STT",
    "Kế hoạch",
    "  MÃ CHỈ SỐ ",
    "Tên nhiệm vụ",
    "Đơn vị chủ trì",
    "Đơn vị thực hiện",
    "Đơn vị phối hợp",
    "Đơn vị đầu mối theo dõi",
    "Ngày bắt đầu",
    "Thời hạn hoàn thành",
    "Kết quả dự kiến",
]


def vietnamese_rows(plan: Plan) -> list[list[object]]:
    return [
        VIETNAMESE_HEADER,
        [
            "1",
            plan.title,
            "7",
            "Số hóa hồ sơ",
            "Sở Nội vụ",
            "Sở Nội vụ",
            "Sở Tài chính",
            "Sở Khoa học và Công nghệ",
            "05/01/2026",
            "30/06/2026",
            "Kho hồ sơ số",
        ],
        ["", "", "", "", "", "", "", "", "", "", ""],  # a blank line Excel left in
        ["3", plan.title, "5", "Diễn tập", "Sở Tài chính", "", "", "", "", "31/12/2026", ""],
    ]


def test_vietnamese_headers_in_any_case_and_dd_mm_yyyy_dates(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    path = write_csv(tmp_path / "kehoach.csv", vietnamese_rows(plan))

    out, _err = run_import(TASKS, str(path))

    assert "2 new" in out
    task = Task.objects.get(title="Số hóa hồ sơ")
    assert (task.start_date, task.deadline) == (dt.date(2026, 1, 5), dt.date(2026, 6, 30))
    assert task.expected_output == "Kho hồ sơ số"
    assert set(task.assignments.values_list("role", flat=True)) == {
        "implementing",
        "coordinating",
        "monitoring",
    }


def test_errors_use_the_users_vietnamese_header_and_count_blank_rows(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    rows = vietnamese_rows(plan)
    rows[3][4] = "Sở Tài chánh"  # the row after the blank line: spreadsheet row 4
    path = write_csv(tmp_path / "kehoach.csv", rows)

    _message, printed = failed_import(TASKS, str(path))

    assert printed.strip() == (
        'Row 4, column "Đơn vị chủ trì": Unknown unit "Sở Tài chánh". Did you mean "Sở Tài chính"?'
    )


def test_csv_saved_by_excel_as_utf8_with_bom(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    path = write_csv(tmp_path / "bom.csv", vietnamese_rows(plan), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    out, _err = run_import(TASKS, str(path))

    assert "2 new" in out


def test_csv_saved_by_excel_in_windows_vietnamese_cp1258(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    path = tmp_path / "cp1258.csv"
    path.write_bytes(to_cp1258(csv_text(vietnamese_rows(plan))))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")

    out, _err = run_import(TASKS, str(path))

    assert "2 new" in out
    # Decomposed tone marks were composed: the titles equal what a form would store.
    assert Task.objects.filter(title="Số hóa hồ sơ", lead_unit__name="Sở Nội vụ").exists()


def test_xlsx_with_typed_cells(tmp_path: Path, units: dict[str, Unit], plan: Plan) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Kế hoạch", "Mã chỉ số", "Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn"])
    # Excel stores an indicator code typed as 7 as a number and a date as a date.
    sheet.append([plan.title, 7, "Nhiệm vụ Excel", "Sở Nội vụ", dt.datetime(2026, 9, 30)])
    sheet.append([None, None, None, None, None])
    path = tmp_path / "tasks.xlsx"
    book.save(path)

    out, _err = run_import(TASKS, str(path))

    assert "1 new" in out
    task = Task.objects.get(title="Nhiệm vụ Excel")
    assert (task.indicator.code, task.deadline) == ("7", dt.date(2026, 9, 30))


def test_an_xlsx_named_csv_gets_a_clear_message(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    path = tmp_path / "units.csv"
    book.save(path)

    message, _printed = failed_import(UNITS, str(path))

    assert "This is an Excel workbook (.xlsx), not a CSV file" in message


# --- re-import and round trips ---------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    path = write_csv(tmp_path / "kehoach.csv", vietnamese_rows(plan))
    run_import(TASKS, str(path))
    before = task_state()

    out, _err = run_import(TASKS, str(path))

    assert "0 new, 0 updated, 2 unchanged" in out
    assert task_state() == before


def test_new_lead_cannot_be_one_of_the_tasks_coordinating_units(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    task = TaskFactory(plan=plan, indicator=main_indicator("7", "DTI2024"), title="Nhiệm vụ")
    AssignmentFactory(task=task, unit=units["Sở Tài chính"], role="coordinating")
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["plan", "indicator_code", "title", "lead_unit", "deadline"],
            [plan.title, "7", "Nhiệm vụ", "Sở Tài chính", "2026-06-30"],
        ],
    )

    _message, printed = failed_import(TASKS, str(path))

    assert printed.strip() == (
        'Row 2, column "lead_unit": Sở Tài chính is the lead unit; it cannot also be a '
        "coordinating unit."
    )


def test_reimport_replaces_a_tasks_units_per_role(
    tmp_path: Path, units: dict[str, Unit], plan: Plan
) -> None:
    task = TaskFactory(plan=plan, indicator=main_indicator("7", "DTI2024"), title="Nhiệm vụ")
    AssignmentFactory(task=task, unit=units["Sở Tài chính"], role="coordinating")
    kept = AssignmentFactory(task=task, unit=units["Sở Nội vụ"], role="coordinating")
    monitoring = AssignmentFactory(task=task, unit=units["Sở Tài chính"], role="monitoring")
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["plan", "indicator_code", "title", "lead_unit", "coordinating_units", "deadline"],
            [
                plan.title,
                "7",
                "nhiệm vụ",
                task.lead_unit.name,
                "Sở Nội vụ; Văn phòng UBND tỉnh",
                "2026-06-30",
            ],
        ],
    )

    out, _err = run_import(TASKS, str(path))

    assert "0 new, 1 updated" in out
    assert Task.objects.count() == 1
    coordinating = task.assignments.filter(role="coordinating")
    assert {a.unit.name for a in coordinating} == {"Sở Nội vụ", "Văn phòng UBND tỉnh"}
    assert coordinating.filter(pk=kept.pk).exists()
    # The file has no monitoring column: that role is left as it was.
    assert task.assignments.filter(pk=monitoring.pk).exists()


def test_exported_tasks_import_back_unchanged(tmp_path: Path, units: dict[str, Unit]) -> None:
    plan = PlanFactory(title="Kế hoạch 2026", year=2026)
    indicator = main_indicator("7", "DTI2024")  # the set in force for a 2026 plan
    for n in range(3):
        task = TaskFactory(
            plan=plan,
            indicator=indicator,
            lead_unit=units["Sở Nội vụ"],
            expected_output=f"Sản phẩm {n}",
        )
        AssignmentFactory(task=task, unit=units["Sở Tài chính"], role="coordinating")
        AssignmentFactory(task=task, unit=units["Văn phòng UBND tỉnh"], role="coordinating")
        AssignmentFactory(task=task, unit=units["Sở Khoa học và Công nghệ"], role="monitoring")
    TaskFactory(
        plan=plan,
        indicator=indicator,
        lead_unit=units["Sở Tài chính"],
        start_date=None,
        title="- gạch đầu",
    )
    before = task_state()
    path = tmp_path / "export.csv"
    path.write_bytes(export_bytes("CSV", TASKS))

    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    exported = [*TASK_HEADER[:9], "deadline_text", "reporting_period", "expected_output", "note"]
    assert lines[0] == ",".join(exported)
    assert "Sở Tài chính; Văn phòng UBND tỉnh" in lines[1]
    assert ",2026-01-05,2026-06-30," in lines[1]

    out, _err = run_import(TASKS, str(path))

    assert "0 new, 0 updated, 4 unchanged" in out
    assert task_state() == before


def test_exported_units_import_back_unchanged(tmp_path: Path) -> None:
    parent = UnitFactory(name="Văn phòng UBND tỉnh", kind="department")
    child = UnitFactory(name="Trung tâm PVHCC", parent=parent, kind="other", email="")
    FocalPointFactory(unit=child, user=UserFactory(email="a@tinh.example"))
    FocalPointFactory(unit=child, user=UserFactory(email="b@tinh.example"))
    UnitFactory(name="UBND huyện A, huyện B", kind="local", short_name="")
    memberships = sorted(UnitMembership.objects.values_list("pk", "unit_id", "user_id", "role"))
    units_before = sorted(Unit.objects.values_list())
    path = tmp_path / "units.csv"
    path.write_bytes(export_bytes("CSV", UNITS))

    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert [row["name"] for row in rows] == [
        "Trung tâm PVHCC",
        "UBND huyện A, huyện B",
        "Văn phòng UBND tỉnh",
    ]
    assert rows[0]["focal_points"] == "a@tinh.example; b@tinh.example"
    assert rows[0]["parent"] == "Văn phòng UBND tỉnh"

    out, _err = run_import(UNITS, str(path))

    assert "0 new, 0 updated, 3 unchanged" in out
    assert sorted(Unit.objects.values_list()) == units_before
    assert sorted(UnitMembership.objects.values_list("pk", "unit_id", "user_id", "role")) == (
        memberships
    )


def test_export_neutralises_formulas_and_the_file_still_imports_back(tmp_path: Path) -> None:
    UnitFactory(name='=HYPERLINK("http://evil.example","Bấm")', short_name="+1", email="")
    UnitFactory(name="@SUM(A1)", short_name="-2", email="")
    path = tmp_path / "units.csv"
    path.write_bytes(export_bytes("CSV", UNITS))

    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    cells = {row["name"]: row["short_name"] for row in rows}
    assert cells == {
        '\'=HYPERLINK("http://evil.example","Bấm")': "'+1",
        "'@SUM(A1)": "'-2",
    }

    before = sorted(Unit.objects.values_list("name", "short_name"))
    out, _err = run_import(UNITS, str(path))
    assert "0 new, 0 updated, 2 unchanged" in out
    assert sorted(Unit.objects.values_list("name", "short_name")) == before


def test_cells_starting_with_tab_or_carriage_return_are_escaped_in_xlsx_too() -> None:
    UnitFactory(name="\tTab", short_name="\rCR")
    dataset = UnitResource().export(force_native_type=True)
    assert (dataset.dict[0]["name"], dataset.dict[0]["short_name"]) == ("'\tTab", "'\rCR")


# --- the example files in docs/ --------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
# In this order: tasks name the sample indicators, the units and the plan.
EXAMPLE_FILES = [
    (INDICATORS, "indicators_indicator", "indicators.csv", 3),
    (UNITS, "plans_unit", "units.csv", 9),
    ("plans.resources.UnitGroupResource", "plans_unitgroup", "unit-groups.csv", 2),
    (PLANS, "plans_plan", "plan.csv", 1),
    ("plans.resources.TargetResource", "plans_target", "targets.csv", 4),
    (TASKS, "plans_task", "tasks.csv", 3),
]


def test_docs_examples_import_with_the_command_and_again_unchanged() -> None:
    for resource, _admin, name, count in EXAMPLE_FILES:
        out, _err = run_import(resource, str(EXAMPLES / name))
        assert f"{count} new, 0 updated, 0 unchanged" in out
    for resource, _admin, name, count in EXAMPLE_FILES:
        out, _err = run_import(resource, str(EXAMPLES / name))
        assert f"0 new, 0 updated, {count} unchanged" in out
    assert Assignment.objects.count() == 9
    samples = Indicator.objects.filter(parent__isnull=False)
    assert all("SAMPLE" in i.name_en and "MẪU" in i.name_vi for i in samples)


def test_docs_examples_import_through_the_admin_for_every_resource(
    superuser_client: Client,
) -> None:
    for _resource, admin, name, count in EXAMPLE_FILES:
        upload = SimpleUploadedFile(name, (EXAMPLES / name).read_bytes())
        preview = superuser_client.post(
            reverse(f"admin:{admin}_import"), {"import_file": upload, "format": "0"}
        )
        assert "confirm_form" in preview.context, preview.context.get("result")

        done = superuser_client.post(
            reverse(f"admin:{admin}_process_import"),
            preview.context["confirm_form"].initial,
            follow=True,
        )

        [message] = [str(m) for m in done.context["messages"]]
        assert message.startswith(f"Import finished: {count} new, 0 updated")
    assert Task.objects.count() == 3


# --- the admin: upload, preview, confirm -----------------------------------------------------


def test_admin_import_previews_then_confirms(
    superuser_client: Client, units: dict[str, Unit], plan: Plan
) -> None:
    upload = SimpleUploadedFile(
        "kehoach.csv", to_cp1258(csv_text(vietnamese_rows(plan))), content_type="text/csv"
    )
    response = superuser_client.post(
        reverse("admin:plans_task_import"), {"import_file": upload, "format": "0", "resource": "0"}
    )

    assert response.status_code == 200
    assert not Task.objects.exists()  # the preview is a dry run
    page = html.unescape(response.content.decode())
    assert "Số hóa hồ sơ" in page and "Sở Tài chính" in page
    confirm = response.context["confirm_form"]

    response = superuser_client.post(
        reverse("admin:plans_task_process_import"), confirm.initial, follow=True
    )

    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Import finished: 2 new, 0 updated, 0 deleted and 0 skipped tasks."]
    assert Task.objects.count() == 2
    assert Assignment.objects.count() == 3


def test_admin_preview_shows_row_and_column_and_offers_no_confirm(
    superuser_client: Client, units: dict[str, Unit], plan: Plan
) -> None:
    rows = vietnamese_rows(plan)
    rows[3][4] = "Sở Tài chánh"
    upload = SimpleUploadedFile("kehoach.csv", csv_text(rows).encode("utf-8-sig"))

    response = superuser_client.post(
        reverse("admin:plans_task_import"), {"import_file": upload, "format": "0", "resource": "0"}
    )

    assert "confirm_form" not in response.context
    invalid = response.context["result"].invalid_rows
    assert [(row.number, row.error_dict) for row in invalid] == [
        (4, {"Đơn vị chủ trì": ['Unknown unit "Sở Tài chánh". Did you mean "Sở Tài chính"?']})
    ]
    page = html.unescape(response.content.decode())
    assert 'Unknown unit "Sở Tài chánh". Did you mean "Sở Tài chính"?' in page
    assert not Task.objects.exists()


def test_admin_imports_units_from_xlsx(superuser_client: Client) -> None:
    book = openpyxl.Workbook()
    book.active.append(["Tên đơn vị", "Tên viết tắt", "Loại", "Đầu mối"])
    book.active.append(["Sở Xây dựng", "SXD", "department", "xd@tinh.example"])
    content = io.BytesIO()
    book.save(content)
    upload = SimpleUploadedFile("units.xlsx", content.getvalue())

    response = superuser_client.post(
        reverse("admin:plans_unit_import"), {"import_file": upload, "format": "1", "resource": "0"}
    )
    response = superuser_client.post(
        reverse("admin:plans_unit_process_import"), response.context["confirm_form"].initial
    )

    assert response.status_code == 302
    unit = Unit.objects.get(name="Sở Xây dựng")
    assert unit.members.get().email == "xd@tinh.example"


def test_admin_confirm_after_the_data_changed_imports_nothing_and_says_so(
    superuser_client: Client, units: dict[str, Unit], plan: Plan
) -> None:
    upload = SimpleUploadedFile("kehoach.csv", csv_text(vietnamese_rows(plan)).encode())
    preview = superuser_client.post(
        reverse("admin:plans_task_import"), {"import_file": upload, "format": "0"}
    )
    units["Sở Tài chính"].delete()  # someone else removes a unit the file names

    response = superuser_client.post(
        reverse("admin:plans_task_process_import"),
        preview.context["confirm_form"].initial,
        follow=True,
    )

    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith('Nothing was imported. Row 2, column "Đơn vị phối hợp": Unknown unit')
    assert response.redirect_chain[-1][0] == reverse("admin:plans_task_import")
    assert not Task.objects.exists()


def test_admin_preview_names_an_unknown_header(superuser_client: Client) -> None:
    upload = SimpleUploadedFile("plans.csv", "Tiêu đề,Năm,Ngân sách\nKH,2026,1\n".encode())

    response = superuser_client.post(
        reverse("admin:plans_plan_import"), {"import_file": upload, "format": "0"}
    )

    [invalid] = response.context["result"].invalid_rows
    assert invalid.number == 1
    assert invalid.error_dict == {
        "Ngân sách": [
            'Unknown column "Ngân sách". The columns are: '
            "title, year, decision, first_year, last_year."
        ]
    }
    assert "confirm_form" not in response.context


def test_admin_says_so_when_an_xlsx_is_uploaded_as_csv(superuser_client: Client) -> None:
    content = io.BytesIO()
    openpyxl.Workbook().save(content)
    upload = SimpleUploadedFile("plans.xlsx", content.getvalue())

    response = superuser_client.post(
        reverse("admin:plans_plan_import"), {"import_file": upload, "format": "0"}
    )

    assert response.context["form"].errors["import_file"] == [
        "This is an Excel workbook (.xlsx), not a CSV file: choose the xlsx format."
    ]


def test_admin_reads_csv_xlsx_and_word_tables(superuser_client: Client) -> None:
    response = superuser_client.get(reverse("admin:plans_plan_import"))

    choices = [label for value, label in response.context["form"].fields["format"].choices if value]
    assert choices == ["csv", "xlsx", "docx"]


def test_admin_refuses_a_file_over_the_size_limit_before_reading_it(
    superuser_client: Client, settings: Settings
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024
    upload = SimpleUploadedFile("plans.csv", b"title,year\n" + b"x" * 2000 + b",2026\n")

    response = superuser_client.post(
        reverse("admin:plans_plan_import"), {"import_file": upload, "format": "0", "resource": "0"}
    )

    assert response.context["form"].errors["import_file"] == [
        "The file is 2.0\xa0KB; files up to 1.0\xa0KB can be imported. Split it into smaller files."
    ]
    assert "result" not in response.context


def test_admin_export_of_tasks_is_a_csv_with_bom_in_the_import_layout(
    superuser_client: Client,
) -> None:
    TaskFactory(title="=cmd|' /C calc'!A0")

    columns = {f"taskresource_{column}": "on" for column in TASK_HEADER}
    response = superuser_client.post(
        reverse("admin:plans_task_export"), {"format": "0", "resource": "0", **columns}
    )

    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff" + ",".join(TASK_HEADER))
    assert ",'=cmd|' /C calc'!A0," in text


# --- cost ------------------------------------------------------------------------------------


def test_task_import_costs_the_same_number_of_queries_for_10_and_50_rows(
    units: dict[str, Unit], django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    """Lookups are one query per table, rows are written in bulk and assignments in one
    DELETE and one INSERT: the count does not grow with the rows.

    Measured on SQLite, 19 for 10 new rows and for 50: 7 lookups (plans, units, unit groups,
    indicator sets, indicators, existing tasks, their assignments), 1 INSERT of tasks, 1 INSERT
    of assignments, 1 INSERT ... SELECT each copying their history rows, and 8
    SAVEPOINT/RELEASE statements of the import's nested transactions. Django splits an INSERT
    on SQLite at 999 parameters (PostgreSQL at 65,535), which adds a statement per some 40
    rows, not per row."""

    def import_rows(count: int) -> int:
        plan = PlanFactory()
        rows = [
            task_row(
                plan,
                "7",
                f"Nhiệm vụ {n}",
                units["Sở Nội vụ"],
                implementing_units="Sở Nội vụ",
                coordinating_units="Sở Tài chính; Văn phòng UBND tỉnh",
                monitoring_unit="Sở Khoa học và Công nghệ",
            )
            for n in range(count)
        ]
        dataset = tablib.Dataset(*rows, headers=TASK_HEADER)
        with CaptureQueriesContext(connection) as queries:
            result = TaskResource().import_data(dataset)
        assert not result.has_validation_errors() and not result.has_errors()
        assert Task.objects.filter(plan=plan).count() == count
        return len(queries)

    few, many = import_rows(10), import_rows(50)
    assert many - few <= 2, (few, many)
    plan = PlanFactory()
    rows = [
        task_row(plan, "7", f"N {n}", units["Sở Nội vụ"], coordinating_units="Sở Tài chính")
        for n in range(50)
    ]
    with django_assert_max_num_queries(20):
        TaskResource().import_data(tablib.Dataset(*rows, headers=TASK_HEADER))
    assert Assignment.objects.filter(task__plan=plan).count() == 50


def test_indicator_export_layout(tmp_path: Path) -> None:
    ComponentIndicatorFactory(code="7.3", max_points=Decimal("2.50"), name_en="")
    dataset = IndicatorResource().export()
    row = next(r for r in dataset.dict if r["code"] == "7.3")
    assert row == {
        "framework": "DTI2022",
        "first_year": "2021",
        "code": "7.3",
        "parent_code": "7",
        "name_vi": row["name_vi"],
        "name_en": "",
        "max_points": "2.5",
        "scored": "1",
        "pillar": "",
    }


def test_a_later_set_is_added_by_import_with_its_first_year(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "dti2025.csv",
        [
            ["Bộ chỉ số", "Năm áp dụng", "Mã chỉ số", "Chỉ số chính", "Tên tiếng Việt", "Trụ cột"],
            ["DTI2025", "2025", "1", "", "Nhận thức số", "Nền tảng chung"],
            ["DTI2025", "2025", "1.1", "1", "MẪU thành phần", ""],
            ["DTI2025", "2025", "2", "", "Chính quyền số", "Chính quyền số"],
        ],
    )
    out, _err = run_import(INDICATORS, str(path))

    assert "3 new" in out
    later = IndicatorSet.objects.get(code="DTI2025")
    assert later.first_year == 2025
    assert IndicatorSet.objects.for_year(2025) == later
    assert IndicatorSet.objects.for_year(2024).code == "DTI2024"
    assert later.indicators.get(code="2").pillar == "government"
    assert later.indicators.get(code="1.1").max_points is None  # not given, never made up


def test_unit_import_costs_three_statements_per_row_plus_a_fixed_few(
    units: dict[str, Unit],
) -> None:
    """Units save row by row (a row may name a parent saved just before): a SAVEPOINT, an
    INSERT and a RELEASE per row. Parents, accounts and memberships cost no query per row
    (measured: 40 for 10 rows, 160 for 50)."""

    def import_rows(count: int) -> int:
        rows = [
            [f"Phòng {count}-{n}", "Văn phòng UBND tỉnh", f"p{count}.{n}@tinh.example; chung@x.vn"]
            for n in range(count)
        ]
        dataset = tablib.Dataset(*rows, headers=["name", "parent", "focal_points"])
        with CaptureQueriesContext(connection) as queries:
            result = UnitResource().import_data(dataset)
        assert result.totals["new"] == count
        return len(queries)

    ten, fifty = import_rows(10), import_rows(50)
    assert fifty - ten == 3 * 40
    assert ten <= 3 * 10 + 12
    assert UnitMembership.objects.filter(user__email="chung@x.vn").count() == 60


def test_empty_focal_points_and_mailbox_cells_keep_what_the_unit_has(tmp_path: Path) -> None:
    """A sheet listing only some units' people must not remove everyone else's."""
    unit = Unit.objects.create(name="Sở Nội vụ", email="snv@tinh.example")
    person = User.objects.create_user(username="nam@snv.example", email="nam@snv.example")
    unit.memberships.create(user=person, role=UnitMembership.Role.FOCAL_POINT)
    path = tmp_path / "units.csv"
    path.write_text(
        "name,short_name,kind,email,parent,focal_points\nSở Nội vụ,SNV,department,,,\n",
        encoding="utf-8",
    )

    run_import(UNITS, str(path))

    unit.refresh_from_db()
    assert unit.short_name == "SNV"
    assert unit.email == "snv@tinh.example"
    assert list(unit.members.values_list("email", flat=True)) == ["nam@snv.example"]


# --- batches ---------------------------------------------------------------------------------
# A task table is read, checked and written IMPORT_BATCH_ROWS rows at a time (1,000 on a site);
# these tests use batches of a few rows so that files cross batch boundaries.


def test_an_error_in_a_later_batch_imports_nothing_of_the_earlier_batches(
    tmp_path: Path, units: dict[str, Unit], plan: Plan, settings: Settings
) -> None:
    settings.IMPORT_BATCH_ROWS = 3
    rows = [
        task_row(
            plan, "7", f"Nhiệm vụ {n}", units["Sở Nội vụ"], coordinating_units="Sở Tài chính"
        )
        for n in range(1, 11)
    ]
    rows[8][TASK_HEADER.index("lead_unit")] = "Sở Tài chánh"  # row 10: the third batch
    path = write_csv(tmp_path / "tasks.csv", [TASK_HEADER, *rows])

    message, printed = failed_import(TASKS, str(path), "--plan", plan.title)

    assert printed.strip() == (
        'Row 10, column "lead_unit": Unknown unit "Sở Tài chánh". Did you mean "Sở Tài chính"?'
    )
    assert message == "Nothing was imported: the file has 1 problem."
    assert not Task.objects.exists()
    assert not Assignment.objects.exists()
    assert not Task.history.exists()


def test_the_same_task_in_two_batches_is_refused_on_the_later_row(
    tmp_path: Path, units: dict[str, Unit], plan: Plan, settings: Settings
) -> None:
    settings.IMPORT_BATCH_ROWS = 2
    rows = [task_row(plan, "7", f"Nhiệm vụ {n}", units["Sở Nội vụ"]) for n in range(1, 7)]
    rows.append(task_row(plan, "7", "NHIỆM VỤ 1", units["Sở Tài chính"]))  # row 8, batch 4
    header = ["Kế hoạch", "Mã chỉ số", "Nhiệm vụ", *TASK_HEADER[3:]]
    path = write_csv(tmp_path / "tasks.csv", [header, *rows])

    _message, printed = failed_import(TASKS, str(path))

    assert printed.strip() == (
        'Row 8, column "Nhiệm vụ": This task (same plan, indicator and title) is already on '
        "row 2."
    )
    assert not Task.objects.exists()


def test_a_file_crossing_batches_imports_like_one_batch(
    tmp_path: Path, units: dict[str, Unit], plan: Plan, settings: Settings
) -> None:
    rows = [
        task_row(
            plan,
            "7",
            f"Nhiệm vụ {n}",
            units["Sở Nội vụ"],
            implementing_units="Sở Nội vụ",
            coordinating_units="Sở Tài chính; Văn phòng UBND tỉnh",
        )
        for n in range(1, 8)
    ]
    path = write_csv(tmp_path / "tasks.csv", [TASK_HEADER, *rows])
    settings.IMPORT_BATCH_ROWS = 3

    out, _err = run_import(TASKS, str(path))

    assert "7 new, 0 updated, 0 unchanged" in out
    assert Assignment.objects.filter(task__plan=plan).count() == 7 * 3
    assert Task.history.filter(history_type="+").count() == 7
    settings.IMPORT_BATCH_ROWS = 2
    out, _err = run_import(TASKS, str(path))  # the same file again, in other batches
    assert "0 new, 0 updated, 7 unchanged" in out


def test_task_import_queries_grow_with_batches_never_with_rows(
    tmp_path: Path,
    units: dict[str, Unit],
    settings: Settings,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """Lookups are loaded once (per plan), then each batch of rows costs a fixed number of
    bulk statements whatever it holds: the plans, units, groups, sets, indicators, tasks and
    assignments queries, then per batch the INSERTs of tasks, assignments and their history
    (SQLite splits an INSERT at 999 values) and their savepoints: measured, 17 statements per
    500 rows on SQLite, 10 per 1,000 on PostgreSQL. A query per row would be thousands."""
    settings.IMPORT_BATCH_ROWS = 500

    def import_file(count: int) -> int:
        plan = PlanFactory()
        rows = [
            task_row(
                plan, "7", f"Nhiệm vụ {n}", units["Sở Nội vụ"], coordinating_units="Sở Tài chính"
            )
            for n in range(count)
        ]
        path = write_csv(tmp_path / f"tasks-{count}.csv", [TASK_HEADER, *rows])
        with CaptureQueriesContext(connection) as queries:
            run_import(TASKS, str(path))
        assert Task.objects.filter(plan=plan).count() == count
        return len(queries)

    one_batch, five_batches = import_file(500), import_file(2500)
    # Measured on SQLite: 28 and 96, so 17 statements per batch of 500 rows.
    assert five_batches - one_batch <= 4 * 25, (one_batch, five_batches)
    plan = PlanFactory()
    rows = [task_row(plan, "7", f"N {n}", units["Sở Nội vụ"]) for n in range(2500)]
    path = write_csv(tmp_path / "tasks.csv", [TASK_HEADER, *rows])
    with django_assert_max_num_queries(2500 // 10):
        run_import(TASKS, str(path))

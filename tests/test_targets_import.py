"""A plan's assessment years and targets in and out of spreadsheets, as the issued plan states
them ("năm 2026 và các năm tiếp theo", "đạt tối thiểu 800/1.000 điểm", "nằm trong top 10/34",
"4/8 chỉ số chính trong top 10"): the command, the admin's two steps, and back out."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation

from plans import roles
from plans.models import Plan, Target, TargetKind
from tests.factories import PlanFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
PLANS = "plans.resources.PlanResource"
TARGETS = "plans.resources.TargetResource"
SAMPLE_PLAN = "Kế hoạch nâng cao chỉ số DTI năm 2026 (mẫu)"


def run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("import", *args, "--no-input", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError):
        call_command("import", *args, "--no-input", stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def csv_file(tmp_path: Path, text: str, name: str = "targets.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig")
    return str(path)


def targets_of(plan: Plan) -> list[tuple]:
    return [
        (t.year, t.kind, t.points, t.value, t.rank, t.count, t.ranking)
        for t in plan.targets.order_by("year", "kind", "rank")
    ]


EXAMPLE_TARGETS = [
    (2026, TargetKind.MAIN_IN_TOP, None, None, 10, 4, 34),
    (2026, TargetKind.POINTS, Decimal("800"), None, None, None, 34),
    (2026, TargetKind.RANK, None, None, 10, None, 34),
    (2027, TargetKind.RANK, None, None, 8, None, 34),
]


def test_the_example_plan_and_its_targets_import_as_the_plan_states_them_and_again_unchanged():
    assert "1 new" in run(PLANS, str(EXAMPLES / "plan.csv"))
    out = run(TARGETS, str(EXAMPLES / "targets.csv"))
    assert "4 new, 0 updated, 0 unchanged targets" in out
    plan = Plan.objects.get(title=SAMPLE_PLAN)
    assert (plan.first_year, plan.last_year) == (2026, 2027)
    assert targets_of(plan) == EXAMPLE_TARGETS
    assert "0 new, 0 updated, 4 unchanged targets" in run(TARGETS, str(EXAMPLES / "targets.csv"))


def test_targets_and_years_export_and_import_back_unchanged(tmp_path):
    run(PLANS, str(EXAMPLES / "plan.csv"))
    run(TARGETS, str(EXAMPLES / "targets.csv"))
    for resource, name in ((PLANS, "plans.csv"), (TARGETS, "targets.csv")):
        stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        call_command("export", "CSV", resource, stdout=stream)
        (tmp_path / name).write_bytes(stream.buffer.getvalue())
    exported = (tmp_path / "targets.csv").read_text(encoding="utf-8-sig")
    assert exported.splitlines()[0] == "plan,year,kind,points,value,rank,count,ranking"
    assert f"{SAMPLE_PLAN},2026,Điểm DTI,800,,,,34" in exported
    assert "2026,first_year" not in exported
    assert f"{SAMPLE_PLAN},2026,123/KH-UBND,2026,2027" in (tmp_path / "plans.csv").read_text(
        encoding="utf-8-sig"
    )

    Target.objects.all().delete()
    Plan.objects.update(first_year=None, last_year=None)
    assert "1 updated" in run(PLANS, str(tmp_path / "plans.csv"))
    assert "4 new" in run(TARGETS, str(tmp_path / "targets.csv"))
    plan = Plan.objects.get(title=SAMPLE_PLAN)
    assert (plan.first_year, plan.last_year) == (2026, 2027)
    assert targets_of(plan) == EXAMPLE_TARGETS


def test_a_plan_whose_last_year_is_before_its_first_is_refused_on_its_row_and_column(tmp_path):
    path = csv_file(
        tmp_path,
        "Tiêu đề,Năm,Từ năm,Đến năm\nKế hoạch A,2026,2026,2027\nKế hoạch B,2026,2027,2025\n",
        "plans.csv",
    )
    err = refused(PLANS, path)
    assert 'Row 3, column "Đến năm": The last assessment year cannot be before the first.' in err
    assert not Plan.objects.exists()  # row 2 was good: nothing is saved all the same


def test_bad_targets_are_each_named_by_row_and_column_and_nothing_is_imported(tmp_path):
    PlanFactory(title="Kế hoạch DTI", year=2026, first_year=2026, last_year=2027)
    path = csv_file(
        tmp_path,
        "Kế hoạch,Năm,Loại mục tiêu,Điểm,Thứ hạng,Số chỉ số chính\n"
        "Kế hoạch DTI,2026,Điểm,800/1.000,,\n"
        "Kế hoạch DTI,2026,Hạng nhất,,,\n"
        "Kế hoạch DTI,2026,Thứ hạng,,40,\n"
        "Kế hoạch DTI,2027,Điểm,1200,,\n"
        "Kế hoạch DTI,2027,Điểm,800/100,,\n"
        "Kế hoạch DTI,2030,Thứ hạng,,5/34,\n"
        "Kế hoạch DTI,2026,Chỉ số chính,,10,4/9\n"
        "Kế hoạch DTI,2027,Thứ hạng,,10/34,\n"
        "Kế hoạch DTI,2026,Giá trị DTI,,5,\n"
        "Kế hoạch DTX,2026,Điểm,800,,\n",
    )
    err = refused(TARGETS, path)
    assert 'Row 3, column "Loại mục tiêu": "Hạng nhất" is not one of:' in err
    assert 'Row 4, column "Thứ hạng": The ranking has only 34 provinces.' in err
    assert 'Row 5, column "Điểm": Ensure this value is less than or equal to 1000.' in err
    assert 'Row 6, column "Điểm": The DTI is scored out of 1000 points, not 100.' in err
    assert 'Row 7, column "Năm": The plan runs from 2026 to 2027.' in err
    assert (
        'Row 8, column "Số chỉ số chính": The indicator set in force in 2026 has 8 main '
        "indicators, not 9." in err
    )
    assert "Row 9" not in err
    assert 'Row 10, column "Thứ hạng": Leave it empty for this kind of target.' in err
    assert 'Row 10, column "value": This target needs it.' in err
    assert 'Row 11, column "Kế hoạch": Unknown plan "Kế hoạch DTX".' in err
    assert not Target.objects.exists()


def test_the_same_target_twice_in_a_file_is_refused(tmp_path):
    PlanFactory(title="Kế hoạch DTI", year=2026)
    path = csv_file(
        tmp_path,
        "plan,year,kind,rank\nKế hoạch DTI,2026,rank,10\nKế hoạch DTI,2026,Thứ hạng,12\n",
    )
    assert 'Row 3, column "kind": This target is already on row 2.' in refused(TARGETS, path)


def test_an_excel_date_in_the_count_column_says_how_to_write_the_fraction(tmp_path):
    import datetime as dt

    import openpyxl

    PlanFactory(title="Kế hoạch DTI", year=2026)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Kế hoạch", "Năm", "Loại mục tiêu", "Thứ hạng", "Số chỉ số chính"])
    sheet.append(["Kế hoạch DTI", 2026, "Chỉ số chính", 10, dt.datetime(2026, 8, 4)])
    book.save(tmp_path / "targets.xlsx")
    err = refused(TARGETS, str(tmp_path / "targets.xlsx"))
    assert 'Row 2, column "Số chỉ số chính": This cell holds a date' in err
    assert "'4/8" in err


@pytest.fixture
def coordinator_client(client):
    user = UserFactory(username="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_admin_imports_targets_with_a_preview_and_exports_them(coordinator_client):
    run(PLANS, str(EXAMPLES / "plan.csv"))
    upload = SimpleUploadedFile("targets.csv", (EXAMPLES / "targets.csv").read_bytes())
    preview = coordinator_client.post(
        "/admin/plans/target/import/", {"import_file": upload, "format": "0"}
    )
    assert "confirm_form" in preview.context, preview.context.get("result")
    assert not Target.objects.exists()  # the preview is a dry run
    page = preview.content.decode()
    assert "DTI points" in page and "Main indicators in the top" in page
    done = coordinator_client.post(
        "/admin/plans/target/process_import/", preview.context["confirm_form"].initial, follow=True
    )
    [message] = [str(m) for m in done.context["messages"]]
    assert message.startswith("Import finished: 4 new, 0 updated")
    assert targets_of(Plan.objects.get(title=SAMPLE_PLAN)) == EXAMPLE_TARGETS

    fields = ["plan", "year", "kind", "points", "value", "rank", "count", "ranking"]
    exported = coordinator_client.post(
        "/admin/plans/target/export/",
        {"format": "0", "resource": "0", **{f"targetresource_{n}": "on" for n in fields}},
    )
    assert exported.status_code == 200
    assert f"{SAMPLE_PLAN},2027,Rank among the provinces,,,8,,34" in exported.content.decode(
        "utf-8-sig"
    )

"""Unit groups ("UBND các xã, phường") come in from a sheet, their members written as plans
write units; a bad cell names its row and column and nothing is saved."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from plans.models import UnitGroup
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db

GROUPS = "plans.resources.UnitGroupResource"


@pytest.fixture
def units():
    return {
        "snv": UnitFactory(name="Sở Nội vụ", short_name="SNV"),
        "stc": UnitFactory(name="Sở Tài chính", short_name="STC"),
        "xa": UnitFactory(name="UBND xã Mẫu Sơn", short_name="X. Mẫu Sơn"),
    }


def sheet(tmp_path: Path, text: str) -> str:
    path = tmp_path / "nhom.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("import", GROUPS, *args, "--no-input", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def members(name: str) -> set[str]:
    return {u.name for u in UnitGroup.objects.get(name=name).members.all()}


def test_vietnamese_headers_names_and_short_names_make_the_groups(tmp_path, units):
    path = sheet(
        tmp_path,
        "Tên nhóm,Tên gọi khác,Đơn vị thành viên\n"
        '"Các sở, ngành","Sở, ban, ngành",SNV; Sở Tài chính\n'
        "UBND cấp xã,,X. Mẫu Sơn\n",
    )
    assert "2 new, 0 updated, 0 unchanged" in run(path)
    assert members("Các sở, ngành") == {"Sở Nội vụ", "Sở Tài chính"}
    assert members("UBND cấp xã") == {"UBND xã Mẫu Sơn"}
    assert UnitGroup.objects.get(name="Các sở, ngành").aliases == "Sở, ban, ngành"
    # The same sheet again changes nothing.
    assert "0 new, 0 updated, 2 unchanged" in run(path)


def test_a_row_replaces_the_members_and_an_empty_cell_keeps_them(tmp_path, units):
    run(sheet(tmp_path, 'name,members\n"Các sở, ngành",SNV; STC\nUBND cấp xã,X. Mẫu Sơn\n'))
    out = run(sheet(tmp_path, 'name,members\n"các sở,  ngành",STC\nUBND cấp xã,\n'))
    assert "0 new, 1 updated, 1 unchanged" in out
    assert members("Các sở, ngành") == {"Sở Tài chính"}  # matched ignoring case and spaces
    assert members("UBND cấp xã") == {"UBND xã Mẫu Sơn"}


def test_an_unknown_unit_names_its_row_and_column_and_saves_nothing(tmp_path, units):
    path = sheet(tmp_path, 'name,members\nNhóm A,SNV\n"Nhóm B","STC; Sở Tài chánh"\nNhóm A,STC\n')
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError):
        call_command("import", GROUPS, path, "--no-input", stdout=io.StringIO(), stderr=err)
    text = err.getvalue()
    assert (
        'Row 3, column "members": Unknown unit "Sở Tài chánh". Did you mean "Sở Tài chính"?' in text
    )
    assert 'Row 4, column "name": The unit group "Nhóm A" is already on row 2.' in text
    assert not UnitGroup.objects.exists()


def test_export_writes_what_the_import_reads(tmp_path, units):
    run(sheet(tmp_path, 'name,aliases,members\n"Các sở, ngành",Sở ngành; Các sở,SNV; STC\n'))
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    call_command("export", "CSV", GROUPS, stdout=out)
    out.flush()
    written = out.buffer.getvalue().decode("utf-8-sig")
    assert written.splitlines()[1] == '"Các sở, ngành",Sở ngành; Các sở,Sở Nội vụ; Sở Tài chính'
    again = tmp_path / "again.csv"
    again.write_text(written, encoding="utf-8")
    assert "0 new, 0 updated, 1 unchanged" in run(str(again))

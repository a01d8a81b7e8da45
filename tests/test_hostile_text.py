"""Text that people type cannot break any output: control characters and U+FFFE/U+FFFF are
stripped by the forms on the way in and by every export on the way out (rows stored before
either existed included)."""

from __future__ import annotations

import io

import docx as python_docx
import pytest
import time_machine

from plans.models import ExtensionRequest, ProgressUpdate
from tests.test_portal import alice, task_a, unit_a  # noqa: F401  (fixtures)
from tests.test_reports import NOW, _sheet, committee_member, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

HOSTILE = "Đã khảo sát\x01 xong\x0b bước 1\ufffe\uffff"


def test_exports_survive_control_characters_stored_before_the_fix(
    world, client, committee_member  # noqa: F811  (fixtures imported above)
):
    # Written straight to the database, as rows saved before forms cleaned their text.
    ProgressUpdate.objects.filter(task=world["stuck"]).update(
        note=HOSTILE, delay_reason="Thiếu\x01 kinh phí\uffff"
    )
    ExtensionRequest.objects.filter(task=world["waiting"]).update(reason="Chờ\x0b nhà thầu")
    world["stuck"].title = "Đang trễ\x02"
    world["stuck"].save()

    with time_machine.travel(NOW, tick=False):
        overdue = client.get("/admin/reports/overdue/?download=xlsx")
        pack = client.get("/admin/reports/pack/?period=2026-05&download=xlsx")
        pack_docx = client.get("/admin/reports/pack/?period=2026-05&download=docx")

    assert overdue.status_code == pack.status_code == pack_docx.status_code == 200
    _wb, sheet = _sheet(overdue.content)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert ("Đang trễ", "Thiếu kinh phí") in [(r[0], r[7]) for r in rows]
    document = python_docx.Document(io.BytesIO(pack_docx.content))
    texts = {cell.text for row in document.tables[0].rows for cell in row.cells}
    assert "Chờ nhà thầu" in " ".join(texts)


def test_the_progress_form_strips_control_characters_and_keeps_line_breaks(
    client, alice, task_a  # noqa: F811  (fixtures imported above)
):
    response = client.post(
        f"/tasks/{task_a.pk}/progress/", {"percent": 30, "note": "Dòng 1\r\nDòng 2\x01\uffff"}
    )
    assert response.status_code == 302
    assert ProgressUpdate.objects.get().note == "Dòng 1\nDòng 2"

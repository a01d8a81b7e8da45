"""The attack battery on every output: formula payloads, control characters, U+FFFE/U+FFFF,
line breaks and markup written into every free-text column of every row (straight to the
database, as rows stored before the forms cleaned their text), then every export is produced:
the admin's export of each resource in each format, each report's XLSX, the pack's XLSX and
DOCX, the portal's task export, and the e-mails (reminders and the pack).

Each must answer (no 500, no ``IllegalCharacterError``), carry no character an XML file
cannot hold, and hold no cell a spreadsheet would run as a formula. A model, field, resource
or report added later is covered without editing this file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import docx as python_docx
import openpyxl
import pytest
import time_machine
from django import forms
from django.apps import apps
from django.contrib import admin
from django.core import mail
from django.db import DataError, IntegrityError, models, transaction
from django.db.models.functions import Concat, Left
from django.urls import URLPattern, get_resolver, reverse

from notifications.services import reminders_send_due, report_send
from plans.models import Target, TargetKind, UnitGroup, User
from plans.periods import Period
from plans.self_assessment import self_assessment_open
from plans.services import indicator_owner_set
from tests.factories import PlanFactory, focal_point_of, main_indicator
from tests.test_reports import NOW, committee_member, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

PAYLOAD = '=HYPERLINK("http://evil.example","Bấm")\x01\x0b\ufffe\r\n<script>x</script> '
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FORMULA = ("=", "+", "@", "\t", "\r")
NUMBER = re.compile(r"^-?\d+([.,]\d+)?%?$")
# Fields whose text other code parses (codes, addresses, names people sign in with, files):
# forms and imports validate them, so a hostile value cannot be stored there.
PARSED = {"code", "username", "password", "email", "file", "language", "short_name"}


def poisonable(field: models.Field) -> bool:
    return (
        isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and not isinstance(field, models.EmailField | models.URLField | models.SlugField)
        and not field.primary_key
        and not field._validators  # parsed by its validator (a list of days, a number)
        and field.name not in PARSED
        and not field.name.endswith(("_code", "_email"))
    )


def poison_every_text() -> int:
    """Prefix every non-empty free-text value of every row in our apps with PAYLOAD (kept
    unique and within its length); a column whose database rules refuse it (a check tying it to
    another column) is left alone. The number of columns poisoned."""
    columns = 0
    for label in ("indicators", "plans", "notifications"):
        for model in apps.get_app_config(label).get_models():
            if model is User or model._meta.label.startswith(("plans.Historical",)):
                continue
            for field in model._meta.concrete_fields:
                if not poisonable(field):
                    continue
                value = Concat(models.Value(PAYLOAD), models.F(field.name))
                if isinstance(field, models.CharField) and field.max_length:
                    value = Left(value, field.max_length)
                try:
                    with transaction.atomic():
                        changed = (
                            model.objects.exclude(**{field.name: ""})
                            .exclude(**{f"{field.name}__isnull": True})
                            .update(**{field.name: value})
                        )
                except (IntegrityError, DataError):
                    continue
                columns += bool(changed)
    return columns


def problems_in_cells(where: str, rows: list[list[object]]) -> list[str]:
    found = []
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if not isinstance(cell, str):
                continue
            if UNSAFE.search(cell):
                found.append(f"{where} r{r}c{c}: control character in {cell[:40]!r}")
            if cell.startswith(FORMULA) or (cell.startswith("-") and not NUMBER.match(cell)):
                found.append(f"{where} r{r}c{c}: formula {cell[:40]!r}")
    return found


def xlsx_rows(content: bytes) -> list[list[object]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]


def csv_rows(content: bytes | str) -> list[list[object]]:
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    return list(csv.reader(io.StringIO(text)))


def docx_problems(where: str, content: bytes) -> list[str]:
    """Every text of the document (paragraphs and tables), and the XML itself."""
    document = python_docx.Document(io.BytesIO(content))
    texts = [p.text for p in document.paragraphs]
    texts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    found = [f"{where}: control character in {t[:40]!r}" for t in texts if UNSAFE.search(t)]
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        xml = package.read("word/document.xml").decode("utf-8")
    if "<script>" in xml:
        found.append(f"{where}: raw markup in the XML")
    return found


@pytest.fixture
def poisoned(world):  # noqa: F811  (fixture imported above)
    # Rows for every export and report the battery walks: an indicator's owner, a target and
    # a self-assessment round (under Decision 922, whose indicators have max points).
    plan = PlanFactory(title="Kế hoạch DTI 2023", year=2023, province=world["plan"].province)
    indicator_owner_set(plan=plan, indicator=main_indicator("7"), presiding_unit=world["a"])
    Target.objects.create(plan=plan, year=2023, kind=TargetKind.POINTS, points=800)
    self_assessment_open(year=2023, deadline=dt.date(2026, 5, 29), by=None, plan=plan)
    UnitGroup.objects.create(name="UBND các xã, phường").members.add(world["a"])
    assert poison_every_text() > 15, "the battery found too few text columns to poison"
    return world


def test_every_admin_export_of_every_resource_is_safe(poisoned, client):
    """Through the admin's own export page, as people use it: each resource it offers, in
    each format, every field selected."""
    client.force_login(User.objects.create_superuser("root", "root@tinh.example", "x"))
    exported, found = [], []
    for model, model_admin in admin.site._registry.items():
        if not hasattr(model_admin, "get_export_resource_classes"):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_export")
        form = client.get(url).context["form"]
        selected = {
            name: "on"
            for name, field in form.fields.items()
            if isinstance(field, forms.BooleanField) and field.initial
        }
        resources = form.fields["resource"].choices if "resource" in form.fields else [(0, "")]
        for resource, resource_name in resources:
            for fmt, fmt_name in form.fields["format"].choices:
                if fmt_name.lower() not in ("csv", "xlsx") or fmt == "":
                    continue
                name = f"{url} {resource_name} {fmt_name}"
                response = client.post(url, {**selected, "resource": resource, "format": fmt})
                assert response.status_code == 200, name
                assert response.get("Content-Disposition", "").startswith("attachment"), name
                rows = (
                    xlsx_rows(response.content)
                    if fmt_name.lower() == "xlsx"
                    else csv_rows(response.content)
                )
                assert len(rows) > 1, f"{name}: nothing exported, the test would prove nothing"
                exported.append(name)
                found += problems_in_cells(name, rows)
    assert len(exported) >= 8, exported
    assert found == []


def report_paths() -> list[str]:
    resolver = get_resolver()
    reports = next(
        entry for entry in resolver.url_patterns if str(entry.pattern) == "admin/reports/"
    )
    return [
        "/admin/reports/" + str(entry.pattern)
        for entry in reports.url_patterns
        if isinstance(entry, URLPattern)
    ]


def test_every_report_download_and_the_pack_are_safe(poisoned, client, committee_member):  # noqa: F811
    found = []
    with time_machine.travel(NOW, tick=False):
        for path in report_paths():
            page = client.get(path, {"period": "2026-05"})
            assert page.status_code == 200, path
            download = client.get(path, {"period": "2026-05", "download": "xlsx"})
            assert download.status_code == 200, path
            found += problems_in_cells(path, xlsx_rows(download.content))
        docx = client.get("/admin/reports/pack/", {"period": "2026-05", "download": "docx"})
        assert docx.status_code == 200
        found += docx_problems("pack DOCX", docx.content)
    assert found == []


def test_the_portal_task_export_is_safe(poisoned, client):
    task = poisoned["stuck"]
    client.force_login(focal_point_of(task.lead_unit, "focal@tinh.example"))
    found = []
    for fmt in ("csv", "xlsx"):
        response = client.get("/export/tasks/", {"format": fmt})
        assert response.status_code == 200, fmt
        rows = csv_rows(response.content) if fmt == "csv" else xlsx_rows(response.content)
        assert len(rows) > 1, f"{fmt}: no task exported"
        found += problems_in_cells(f"portal {fmt}", rows)
    assert found == []


def test_the_emails_are_safe(poisoned, committee_member):  # noqa: F811
    focal_point_of(poisoned["stuck"].lead_unit, "focal@tinh.example")
    reminders = reminders_send_due(now=NOW)
    pack = report_send(period=Period(NOW.date().replace(month=5, day=1)), now=NOW)
    assert reminders.rows_failed == 0 and pack.failed == 0, reminders.errors + pack.errors
    assert reminders.emails_sent and pack.sent
    found = []
    for message in mail.outbox:
        parts = [message.subject, message.body]
        parts += [content for content, _mime in getattr(message, "alternatives", [])]
        for part in parts:
            if UNSAFE.search(part):
                found.append(f"{message.to}: control character in {part[:60]!r}")
        for alternative, mime in getattr(message, "alternatives", []):
            if mime == "text/html" and "<script>" in alternative:
                found.append(f"{message.to}: unescaped markup in the HTML part")
        for name, content, _mime in message.attachments:
            if name.endswith(".xlsx"):
                found += problems_in_cells(name, xlsx_rows(content))
            elif name.endswith(".docx"):
                found += docx_problems(name, content)
    assert found == []

"""The small things a first week trips over: a file not silently dropped, a task awaiting
verification that does not read 0 %, an October pack counting up to 31 October, and labels
that read right to the person who gets them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from notifications.models import Notification
from plans.models import Task
from plans.periods import Period
from plans.reports import exports
from tests.factories import PDF_BYTES, TaskFactory, UnitFactory, focal_point_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    return UnitFactory(name="Sở Nội vụ")


def test_a_file_sent_with_a_form_that_fails_is_named_to_attach_again(client, unit):
    task = TaskFactory(lead_unit=unit, deadline=timezone.localdate() + dt.timedelta(days=30))
    client.force_login(focal_point_of(unit))
    page = client.post(
        f"/tasks/{task.pk}/progress/",
        {
            "percent": "150",  # refused: more than 100
            "evidence_file": SimpleUploadedFile("bien-ban.pdf", PDF_BYTES, "application/pdf"),
        },
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "bien-ban.pdf" in text and "đính kèm lại" in text
    assert not task.progress_updates.exists()


def test_a_task_awaiting_verification_reads_as_done_pending_the_check(client, unit):
    task = TaskFactory(lead_unit=unit, status=Task.Status.SUBMITTED, percent_done=0)
    client.force_login(focal_point_of(unit))
    page = client.get(task.get_absolute_url()).content.decode()
    assert "100%" in page and "chờ xác nhận" in page
    assert " 0%" not in page


def test_the_october_pack_counts_days_overdue_up_to_31_october():
    TaskFactory(title="Trễ hạn", deadline=dt.date(2026, 10, 20))
    sent = timezone.make_aware(dt.datetime(2026, 11, 3, 8, 0))
    pack = exports.pack_build(period=Period(dt.date(2026, 10, 1)), now=sent)
    with translation.override("vi"):
        (row,) = pack.rows
    assert "quá hạn 11 ngày" in row[6]
    assert pack.overdue[0].days_overdue(pack.as_of) == 11


def test_the_coordinators_escalation_reads_as_a_task_to_follow_up():
    with translation.override("vi"):
        label = str(Notification.Rule.ESCALATE_COORDINATORS.label)
    assert "đôn đốc" in label

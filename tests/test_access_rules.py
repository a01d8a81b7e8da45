"""The rules under the portal, at the database and service level: groups, visibility,
invariants that no door can break, and what uploads are accepted."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from plans import roles, services
from plans.models import (
    Acknowledgement,
    Assignment,
    CompletionSubmission,
    Decision,
    Evidence,
    ExtensionRequest,
    ProgressUpdate,
    Task,
    UnitMembership,
)
from plans.uploads import validate_evidence_file
from tests.factories import (
    PNG_BYTES,
    AssignmentFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    focal_point_of,
    pdf_upload,
)

pytestmark = pytest.mark.django_db


def later(days: int = 30) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def test_groups_after_migrate_hold_the_right_permissions():
    def codes(name: str) -> set[str]:
        group = Group.objects.get(name=name)
        return set(group.permissions.values_list("codename", flat=True))

    coordinator = codes(roles.COORDINATOR)
    assert {"view_all_tasks", "verify_completion", "decide_extension", "add_task"} <= coordinator
    steering = codes(roles.STEERING_COMMITTEE)
    assert "view_all_tasks" in steering and "view_historicaltask" in steering
    assert all(code.startswith("view_") for code in steering)
    assert codes(roles.FOCAL_POINT) == set()


def test_visible_to_follows_unit_memberships_and_hides_drafts():
    unit = UnitFactory()
    head = UserFactory()
    UnitMembership.objects.create(unit=unit, user=head, role=UnitMembership.Role.HEAD)
    led = TaskFactory(lead_unit=unit)
    monitored = TaskFactory()
    AssignmentFactory(task=monitored, unit=unit, role=Assignment.Role.MONITORING)
    TaskFactory()  # another unit's
    TaskFactory(lead_unit=unit, status=Task.Status.DRAFT)

    assert set(Task.objects.visible_to(head)) == {led, monitored}
    assert not Task.objects.visible_to(AnonymousUser()).exists()
    inactive = focal_point_of(unit, is_active=False)
    assert not Task.objects.visible_to(inactive).exists()
    steering = UserFactory()
    steering.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    assert Task.objects.visible_to(steering).count() == 4


def test_database_keeps_one_pending_extension_and_a_later_deadline():
    task = TaskFactory()
    ExtensionRequest.objects.create(
        task=task,
        unit=task.lead_unit,
        previous_deadline=task.deadline,
        new_deadline=task.deadline + dt.timedelta(days=5),
        reason="a",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.create(
            task=task,
            unit=task.lead_unit,
            previous_deadline=task.deadline,
            new_deadline=task.deadline + dt.timedelta(days=9),
            reason="b",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.create(
            task=TaskFactory(),
            unit=task.lead_unit,
            previous_deadline=task.deadline,
            new_deadline=task.deadline,
            reason="c",
            status=Decision.APPROVED,
            decided_at=timezone.now(),
        )


def test_database_refuses_a_refusal_without_reason_and_a_decision_without_time():
    task = TaskFactory()
    fields = {
        "task": task,
        "unit": task.lead_unit,
        "document_number": "1/BC",
        "document_date": timezone.localdate(),
        "summary": "x",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        CompletionSubmission.objects.create(
            **fields, status=Decision.REFUSED, decided_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CompletionSubmission.objects.create(**fields, status=Decision.APPROVED)


def test_database_refuses_an_overdue_report_without_a_reason_and_evidence_without_content():
    task = TaskFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressUpdate.objects.create(task=task, unit=task.lead_unit, percent=5, was_overdue=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Evidence.objects.create(task=task, unit=task.lead_unit)
    with pytest.raises(IntegrityError), transaction.atomic():
        Acknowledgement.objects.bulk_create([Acknowledgement(task=task, unit=task.lead_unit)] * 2)


def test_services_refuse_work_on_a_task_that_is_not_open():
    task = TaskFactory(status=Task.Status.SUBMITTED, deadline=later())
    user = focal_point_of(task.lead_unit)
    with pytest.raises(ValidationError):
        services.progress_report(task=task, unit=task.lead_unit, author=user, percent=50)
    with pytest.raises(ValidationError):
        services.extension_request(
            task=task, unit=task.lead_unit, by=user, new_deadline=later(60), reason="x"
        )


def test_services_refuse_a_person_acting_for_a_unit_they_do_not_belong_to():
    task = TaskFactory(deadline=later())
    stranger = focal_point_of(UnitFactory())
    with pytest.raises(PermissionDenied):
        services.progress_report(task=task, unit=task.lead_unit, author=stranger, percent=5)
    with pytest.raises(PermissionDenied):
        services.completion_submit(
            task=task,
            unit=task.lead_unit,
            by=stranger,
            document_number="1",
            document_date=timezone.localdate(),
            summary="x",
            document=pdf_upload(),
        )
    with pytest.raises(PermissionDenied):
        services.task_acknowledge(task=task, unit=task.lead_unit, by=stranger)


def test_a_monitoring_unit_that_submitted_cannot_verify_itself_but_a_coordinator_can():
    unit = UnitFactory()
    task = TaskFactory(lead_unit=unit, deadline=later())
    AssignmentFactory(task=task, unit=unit, role=Assignment.Role.MONITORING)
    user = focal_point_of(unit)
    submission = services.completion_submit(
        task=task,
        unit=unit,
        by=user,
        document_number="9/BC",
        document_date=timezone.localdate(),
        summary="Xong",
        document=pdf_upload(),
    )
    with pytest.raises(PermissionDenied):
        services.completion_verify(submission=submission, by=user)
    coordinator = UserFactory()
    coordinator.groups.add(Group.objects.get(name=roles.COORDINATOR))
    services.completion_verify(submission=submission, by=coordinator)
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    with pytest.raises(ValidationError):
        services.completion_refuse(submission=submission, by=coordinator, reason="late")


def test_a_person_in_both_the_lead_and_the_monitoring_unit_cannot_verify_the_lead(client):
    """Two hats, one person: submitting for the lead unit and verifying for the monitoring unit
    would be checking one's own work."""
    lead, monitor = UnitFactory(), UnitFactory()
    task = TaskFactory(lead_unit=lead, deadline=later())
    AssignmentFactory(task=task, unit=monitor, role=Assignment.Role.MONITORING)
    both = focal_point_of(lead)
    UnitMembership.objects.create(unit=monitor, user=both)
    submission = services.completion_submit(
        task=task,
        unit=lead,
        by=both,
        document_number="10/BC",
        document_date=timezone.localdate(),
        summary="Xong",
        document=pdf_upload(),
    )
    with pytest.raises(PermissionDenied):
        services.completion_verify(submission=submission, by=both)
    # A colleague who is only in the monitoring unit may.
    services.completion_verify(submission=submission, by=focal_point_of(monitor))
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED


def test_tasks_of_a_draft_plan_are_not_shown_to_units_nor_reminded():
    from notifications.services import reminders_send_due

    unit = UnitFactory()
    person = focal_point_of(unit)
    task = TaskFactory(lead_unit=unit, deadline=timezone.localdate() - dt.timedelta(days=3))
    task.plan.status = "draft"
    task.plan.save()
    assert not Task.objects.visible_to(person).exists()
    assert not Task.objects.open().exists()
    assert reminders_send_due(now=timezone.now() + dt.timedelta(days=1)).due == 0
    task.plan.status = "active"
    task.plan.save()
    assert Task.objects.visible_to(person).get() == task


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bao-cao.docx", _zip(["[Content_Types].xml", "word/document.xml"])),
        ("so-lieu.xlsx", _zip(["[Content_Types].xml", "xl/workbook.xml"])),
        ("trinh-chieu.pptx", _zip(["[Content_Types].xml", "ppt/presentation.xml"])),
        ("van-ban.odt", _zip(["mimetype", "content.xml"])),
        ("cu.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),
        ("anh.PNG", PNG_BYTES),
        ("anh.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 16),
    ],
)
def test_office_documents_and_images_are_accepted(name, content):
    validate_evidence_file(SimpleUploadedFile(name, content))


def test_a_word_file_that_is_really_a_spreadsheet_is_refused():
    with pytest.raises(ValidationError):
        validate_evidence_file(SimpleUploadedFile("a.docx", _zip(["xl/workbook.xml"])))

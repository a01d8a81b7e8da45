"""The focal-point portal through HTTP: who sees what, who may do what, and what it records."""

from __future__ import annotations

import datetime as dt
import os
import time
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from plans import roles
from plans.models import (
    Acknowledgement,
    Assignment,
    Comment,
    CompletionSubmission,
    Decision,
    Evidence,
    ExtensionRequest,
    ProgressUpdate,
    Task,
)
from tests.factories import (
    PDF_BYTES,
    AssignmentFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    focal_point_of,
    pdf_upload,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def soon(days: int = 30) -> dt.date:
    return TODAY + dt.timedelta(days=days)


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


@pytest.fixture
def unit_a():
    return UnitFactory(name="Sở Nội vụ")


@pytest.fixture
def unit_b():
    return UnitFactory(name="Sở Tài chính")


@pytest.fixture
def task_a(unit_a):
    return TaskFactory(lead_unit=unit_a, title="Nhiệm vụ của A", deadline=soon())


@pytest.fixture
def task_b(unit_b):
    return TaskFactory(lead_unit=unit_b, title="Nhiệm vụ của B", deadline=soon())


@pytest.fixture
def alice(client, unit_a):
    """Focal point of unit A, signed in."""
    user = focal_point_of(unit_a, "alice@snv.tinh.example")
    client.force_login(user)
    return user


def member_of(group: str, username: str, **fields: object):
    user = UserFactory(username=username, **fields)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def coordinator():
    return member_of(roles.COORDINATOR, "dti@skhcn.tinh.example", is_staff=True)


@pytest.fixture
def steering():
    return member_of(roles.STEERING_COMMITTEE, "bcd@tinh.example", is_staff=True)


def evidence_for(task: Task, unit) -> Evidence:
    update = ProgressUpdate.objects.create(task=task, unit=unit, percent=10)
    evidence = Evidence(task=task, unit=unit, progress_update=update, original_name="b.pdf")
    evidence.file.save("b.pdf", SimpleUploadedFile("b.pdf", PDF_BYTES), save=False)
    evidence.save()
    return evidence


# --- Who sees what -------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_portal_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200


def test_focal_point_sees_the_tasks_where_their_unit_holds_any_role(
    client, alice, unit_a, task_a, task_b
):
    coordinated = TaskFactory(title="A phối hợp", deadline=soon())
    AssignmentFactory(task=coordinated, unit=unit_a, role=Assignment.Role.COORDINATING)
    TaskFactory(lead_unit=unit_a, title="Bản nháp", status=Task.Status.DRAFT)

    response = client.get("/")
    titles = {task.title for task in response.context["tasks"]}
    assert titles == {"Nhiệm vụ của A", "A phối hợp"}
    assert "Nhiệm vụ của B" not in response.content.decode()


def test_focal_point_cannot_open_another_units_task(client, alice, task_b):
    """Every door on B's task answers 404 to A, as if it did not exist."""
    for url in [
        f"/tasks/{task_b.pk}/",
        f"/tasks/{task_b.pk}/progress/",
        f"/tasks/{task_b.pk}/completion/",
        f"/tasks/{task_b.pk}/extension/",
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        f"/tasks/{task_b.pk}/acknowledge/",
        f"/tasks/{task_b.pk}/comment/",
        f"/tasks/{task_b.pk}/progress/",
    ]:
        assert client.post(url, {"percent": 50, "text": "x"}).status_code == 404, url
    assert not ProgressUpdate.objects.exists()
    assert not Comment.objects.exists()
    assert not Acknowledgement.objects.exists()


def test_focal_point_cannot_download_another_units_evidence(
    client, alice, unit_a, unit_b, task_a, task_b
):
    theirs = evidence_for(task_b, unit_b)
    ours = evidence_for(task_a, unit_a)
    assert client.get(f"/evidence/{theirs.pk}/").status_code == 404

    response = client.get(f"/evidence/{ours.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert 'attachment; filename="b.pdf"' in response["Content-Disposition"]


def test_focal_point_cannot_decide_or_see_requests_of_another_unit(client, alice, unit_b, task_b):
    request = ExtensionRequest.objects.create(
        task=task_b,
        unit=unit_b,
        previous_deadline=task_b.deadline,
        new_deadline=task_b.deadline + dt.timedelta(days=10),
        reason="Chờ kinh phí",
    )
    assert client.get(f"/extensions/{request.pk}/decide/").status_code == 404


def test_focal_point_export_holds_only_their_units_rows(client, alice, task_a, task_b):
    response = client.get("/export/tasks/?format=csv")
    assert response.status_code == 200
    content = response.content.decode("utf-8-sig")
    assert "Nhiệm vụ của A" in content
    assert "Nhiệm vụ của B" not in content


def test_evidence_is_stored_under_a_random_name_outside_media(client, alice, task_a, settings):
    client.post(
        f"/tasks/{task_a.pk}/progress/",
        {"percent": 30, "note": "Đã khảo sát", "evidence_file": pdf_upload("Báo cáo 1.pdf")},
    )
    evidence = Evidence.objects.get()
    stored = Path(settings.EVIDENCE_ROOT) / evidence.file.name
    assert stored.read_bytes() == PDF_BYTES
    assert "Báo cáo" not in evidence.file.name and evidence.file.name.endswith(".pdf")
    assert len(Path(evidence.file.name).stem) == 32  # 128 random bits
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*"))
    assert evidence.original_name == "Báo cáo 1.pdf"


# --- What each role may do -----------------------------------------------------------------


def test_steering_committee_reads_everything_and_changes_nothing(
    client, steering, unit_a, task_a, task_b
):
    submission = CompletionSubmission.objects.create(
        task=task_a, unit=unit_a, document_number="1/BC", document_date=TODAY, summary="Xong"
    )
    extension = ExtensionRequest.objects.create(
        task=task_b,
        unit=task_b.lead_unit,
        previous_deadline=task_b.deadline,
        new_deadline=task_b.deadline + dt.timedelta(days=10),
        reason="Chờ kinh phí",
    )
    Task.objects.filter(pk=task_a.pk).update(status=Task.Status.SUBMITTED)
    client.force_login(steering)

    listing = client.get("/")
    assert {t.title for t in listing.context["tasks"]} == {"Nhiệm vụ của A", "Nhiệm vụ của B"}
    page = client.get(f"/tasks/{task_b.pk}/")
    assert page.status_code == 200
    assert f"/tasks/{task_b.pk}/progress/" not in page.content.decode()

    posts = {
        f"/tasks/{task_b.pk}/progress/": {"percent": 90},
        f"/tasks/{task_b.pk}/completion/": {"document_number": "1"},
        f"/tasks/{task_b.pk}/extension/": {"new_deadline": "2099-01-01", "reason": "x"},
        f"/tasks/{task_b.pk}/acknowledge/": {},
        f"/tasks/{task_b.pk}/comment/": {"text": "x"},
        f"/extensions/{extension.pk}/decide/": {"decision": "approve"},
        f"/completions/{submission.pk}/decide/": {"decision": "approve"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url

    # The admin: lists open, nothing changes, the decision actions are not offered.
    assert client.get("/admin/plans/extensionrequest/").status_code == 200
    response = client.post(
        "/admin/plans/extensionrequest/",
        {"action": "approve", "_selected_action": [extension.pk]},
    )
    assert response.status_code in (200, 302)
    assert client.post(f"/admin/plans/task/{task_b.pk}/delete/", {"post": "yes"}).status_code == 403

    extension.refresh_from_db()
    submission.refresh_from_db()
    task_b.refresh_from_db()
    assert extension.status == Decision.PENDING
    assert submission.status == Decision.PENDING
    assert task_b.percent_done == 0 and Task.objects.count() == 2
    assert not ProgressUpdate.objects.exists() and not Comment.objects.exists()


def test_coordinating_unit_comments_but_does_not_report(client, alice, unit_a):
    task = TaskFactory(deadline=soon())
    AssignmentFactory(task=task, unit=unit_a, role=Assignment.Role.COORDINATING)

    assert client.get(f"/tasks/{task.pk}/").status_code == 200
    assert client.post(f"/tasks/{task.pk}/progress/", {"percent": 50}).status_code == 403
    assert client.post(f"/tasks/{task.pk}/extension/", {}).status_code == 403
    response = client.post(f"/tasks/{task.pk}/comment/", {"text": "Sẵn sàng hỗ trợ"})
    assert response.status_code == 302
    assert Comment.objects.get().unit == unit_a
    assert client.post(f"/tasks/{task.pk}/acknowledge/").status_code == 302
    assert Acknowledgement.objects.get().unit == unit_a


def test_implementing_unit_reports_progress_with_a_pdf_and_a_link(client, alice, unit_a):
    task = TaskFactory(deadline=soon())
    AssignmentFactory(task=task, unit=unit_a, role=Assignment.Role.IMPLEMENTING)
    response = client.post(
        f"/tasks/{task.pk}/progress/",
        {
            "percent": 40,
            "note": "Đã triển khai 4/10 huyện",
            "evidence_file": pdf_upload(),
            "evidence_link": "https://dichvucong.tinh.example/bao-cao",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    task.refresh_from_db()
    assert (task.status, task.percent_done) == (Task.Status.IN_PROGRESS, 40)
    update = ProgressUpdate.objects.get()
    assert (update.unit, update.author) == (unit_a, alice)
    assert update.evidence.count() == 2
    record = task.history.latest()
    assert record.history_user == alice and record.status == Task.Status.IN_PROGRESS


def test_acknowledging_records_who_and_when_once(client, alice, unit_a, task_a):
    client.post(f"/tasks/{task_a.pk}/acknowledge/")
    client.post(f"/tasks/{task_a.pk}/acknowledge/")
    ack = Acknowledgement.objects.get()
    assert (ack.unit, ack.by) == (unit_a, alice)
    assert "Not acknowledged" not in client.get("/").content.decode()


def test_a_report_on_an_overdue_task_must_give_the_reason_for_the_delay(client, alice, unit_a):
    task = TaskFactory(lead_unit=unit_a, start_date=ago(60), deadline=ago(3))
    response = client.post(f"/tasks/{task.pk}/progress/", {"percent": 70})
    assert response.status_code == 200
    assert "delay_reason" in response.context["form"].errors
    assert not ProgressUpdate.objects.exists()

    response = client.post(
        f"/tasks/{task.pk}/progress/", {"percent": 70, "delay_reason": "Chờ phê duyệt kinh phí"}
    )
    assert response.status_code == 302
    update = ProgressUpdate.objects.get()
    assert update.was_overdue and update.delay_reason == "Chờ phê duyệt kinh phí"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("virus.exe", b"MZ\x90\x00", "type"),
        ("bao-cao.pdf", b"<html><script>alert(1)</script>", "content"),
        ("bang.xlsx", b"PK\x03\x04not really a zip", "content"),
        ("anh.png", b"GIF89a" + b"0" * 20, "content"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_uploads_are_checked_by_extension_and_content(client, alice, task_a, name, content, code):
    response = client.post(
        f"/tasks/{task_a.pk}/progress/",
        {"percent": 10, "evidence_file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["evidence_file"][0].code == code
    assert not ProgressUpdate.objects.exists() and not Evidence.objects.exists()


def test_uploads_larger_than_the_limit_are_refused(client, alice, task_a, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1024
    big = SimpleUploadedFile("lon.pdf", PDF_BYTES + b"0" * 2048)
    response = client.post(f"/tasks/{task_a.pk}/progress/", {"percent": 10, "evidence_file": big})
    assert response.context["form"].errors.as_data()["evidence_file"][0].code == "too_large"
    assert not Evidence.objects.exists()


# --- Completion and verification -----------------------------------------------------------


def submit_completion(client, task: Task) -> None:
    response = client.post(
        f"/tasks/{task.pk}/completion/",
        {
            "document_number": "45/BC-SNV",
            "document_date": TODAY.isoformat(),
            "summary": "Đã hoàn thành",
            "document": pdf_upload("bc-45.pdf"),
        },
    )
    assert response.status_code == 302, response.context["form"].errors


def test_completion_waits_for_the_monitoring_unit_to_verify_it(client, alice, unit_a, task_a):
    monitor = UnitFactory(name="Sở Khoa học và Công nghệ")
    AssignmentFactory(task=task_a, unit=monitor, role=Assignment.Role.MONITORING)
    submit_completion(client, task_a)
    task_a.refresh_from_db()
    assert task_a.status == Task.Status.SUBMITTED
    submission = CompletionSubmission.objects.get()
    assert submission.evidence.get().original_name == "bc-45.pdf"
    # The task and its completion say the same thing: awaiting verification.
    client.cookies["django_language"] = "vi"
    page = client.get(f"/tasks/{task_a.pk}/").content.decode()
    assert 's-submitted">Chờ xác nhận kết quả</span>' in page
    assert 'd-pending">Chờ xác nhận kết quả</span>' in page
    assert "Chờ quyết định" not in page

    # The submitting unit cannot verify its own work.
    assert (
        client.post(f"/completions/{submission.pk}/decide/", {"decision": "approve"}).status_code
        == 403
    )

    client.force_login(focal_point_of(monitor, "kiemtra@skhcn.tinh.example"))
    response = client.post(
        f"/completions/{submission.pk}/decide/", {"decision": "approve", "note": "Đạt"}
    )
    assert response.status_code == 302
    task_a.refresh_from_db()
    submission.refresh_from_db()
    assert (task_a.status, task_a.percent_done) == (Task.Status.COMPLETED, 100)
    assert submission.status == Decision.APPROVED and submission.decided_by is not None


def test_a_refused_completion_goes_back_to_work_with_the_reason(client, alice, coordinator, task_a):
    submit_completion(client, task_a)
    submission = CompletionSubmission.objects.get()
    client.force_login(coordinator)
    no_reason = client.post(f"/completions/{submission.pk}/decide/", {"decision": "refuse"})
    assert no_reason.status_code == 200 and "note" in no_reason.context["form"].errors

    client.post(
        f"/completions/{submission.pk}/decide/",
        {"decision": "refuse", "note": "Thiếu văn bản ký số"},
    )
    task_a.refresh_from_db()
    submission.refresh_from_db()
    assert task_a.status == Task.Status.IN_PROGRESS
    assert (submission.status, submission.decision_note) == (
        Decision.REFUSED,
        "Thiếu văn bản ký số",
    )


def test_coordinator_cannot_mark_a_task_completed_by_editing_it_in_the_admin(
    client, coordinator, task_a
):
    from tests.test_tasks import task_form

    client.force_login(coordinator)
    data = task_form(task_a.plan, task_a.indicator, task_a.lead_unit, status="completed")
    for prefix in ["acknowledgements", "evidence", "extension_requests", "completions", "comments"]:
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
    response = client.post(f"/admin/plans/task/{task_a.pk}/change/", data)
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    task_a.refresh_from_db()
    assert task_a.status == Task.Status.NEW


# --- Extensions ----------------------------------------------------------------------------


def test_an_approved_extension_moves_the_deadline_and_keeps_the_original(
    client, alice, coordinator, task_a
):
    first = task_a.deadline
    new = first + dt.timedelta(days=45)
    response = client.post(
        f"/tasks/{task_a.pk}/extension/",
        {"new_deadline": new.strftime("%d/%m/%Y"), "reason": "Chờ nhà cung cấp"},
    )
    assert response.status_code == 302, response.context["form"].errors
    request = ExtensionRequest.objects.get()
    assert (request.previous_deadline, request.status) == (first, Decision.PENDING)
    task_a.refresh_from_db()
    assert task_a.deadline == first, "the deadline moves only on approval"

    # Only coordinators decide.
    assert (
        client.post(f"/extensions/{request.pk}/decide/", {"decision": "approve"}).status_code == 403
    )

    client.force_login(coordinator)
    assert request.task.title in client.get("/decisions/").content.decode()
    client.post(f"/extensions/{request.pk}/decide/", {"decision": "approve"})
    task_a.refresh_from_db()
    request.refresh_from_db()
    assert (task_a.deadline, task_a.original_deadline) == (new, first)
    assert (request.status, request.decided_by) == (Decision.APPROVED, coordinator)
    latest = task_a.history.latest()
    assert (latest.deadline, latest.history_user) == (new, coordinator)
    assert latest.prev_record.deadline == first


def test_an_extension_must_move_the_deadline_later(client, alice, task_a):
    response = client.post(
        f"/tasks/{task_a.pk}/extension/",
        {"new_deadline": task_a.deadline.isoformat(), "reason": "x"},
    )
    assert "new_deadline" in response.context["form"].errors
    assert not ExtensionRequest.objects.exists()


def test_coordinator_approves_extensions_from_the_admin_too(client, coordinator, task_a):
    request = ExtensionRequest.objects.create(
        task=task_a,
        unit=task_a.lead_unit,
        previous_deadline=task_a.deadline,
        new_deadline=task_a.deadline + dt.timedelta(days=10),
        reason="Chờ kinh phí",
    )
    client.force_login(coordinator)
    client.post(
        "/admin/plans/extensionrequest/", {"action": "approve", "_selected_action": [request.pk]}
    )
    task_a.refresh_from_db()
    assert task_a.deadline == request.new_deadline


# --- History in the admin ------------------------------------------------------------------


def test_admin_shows_the_tasks_history_and_allows_no_revert(client, coordinator, task_a):
    task_a.title = "Tên mới"
    task_a._history_user = coordinator
    task_a.save()
    client.force_login(coordinator)
    page = client.get(f"/admin/plans/task/{task_a.pk}/history/")
    assert page.status_code == 200
    assert "Tên mới" in page.content.decode()
    first = task_a.history.earliest()
    url = f"/admin/plans/task/{task_a.pk}/history/{first.history_id}/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"title": "Đổi"}).status_code == 403
    task_a.refresh_from_db()
    assert task_a.title == "Tên mới"


def test_admin_queryset_of_a_focal_point_is_their_units_tasks(rf, alice, task_a, task_b):
    from django.contrib.admin.sites import site

    request = rf.get("/admin/plans/task/")
    request.user = alice
    admin = site._registry[Task]
    assert list(admin.get_queryset(request)) == [task_a]


# --- The list's cost -----------------------------------------------------------------------


def test_task_list_costs_the_same_queries_for_5_and_500_tasks(
    client, alice, unit_a, django_assert_max_num_queries
):
    """Expected queries: session, user, the user's units (filter), the user's permissions
    (user, groups), main indicators (filter choices), counts (one aggregate), the page's count
    and rows (plan, indicator, parent, lead unit joined), the page's roles and
    acknowledgements, and the unread notifications count in the header."""
    counts = {}
    for total in (5, 500):
        missing = total - Task.objects.count()
        tasks = TaskFactory.create_batch(missing, lead_unit=unit_a, deadline=soon())
        for task in tasks[::3]:
            AssignmentFactory(task=task, unit=unit_a, role=Assignment.Role.MONITORING)
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(12):
            response = client.get("/?overdue=false&role=lead")
        assert response.status_code == 200
        assert response.context["page"].paginator.count == total
        counts[total] = len(queries)
    assert counts[5] == counts[500], counts


def test_task_page_costs_the_same_queries_with_1_and_8_of_everything(
    client, alice, unit_a, coordinator, django_assert_max_num_queries
):
    """Reports with evidence files, decided extension requests, returned completions with
    their evidence, comments and acknowledgements each load in a fixed few queries (authors
    and deciders joined, evidence prefetched), however many the task has."""
    counts = []
    for size in (1, 8):
        task = TaskFactory(lead_unit=unit_a, title=f"Nhiệm vụ {size}", deadline=soon())
        for n in range(size):
            evidence = evidence_for(task, unit_a)
            evidence.progress_update.author = alice
            evidence.progress_update.save()
            ExtensionRequest.objects.create(
                task=task,
                unit=unit_a,
                requested_by=alice,
                previous_deadline=task.deadline,
                new_deadline=task.deadline + dt.timedelta(days=30 + n),
                reason=f"Lý do {n}",
                status=Decision.REFUSED,
                decided_by=coordinator,
                decided_at=timezone.now(),
                decision_note="Không đủ căn cứ",
            )
            returned = CompletionSubmission.objects.create(
                task=task,
                unit=unit_a,
                submitted_by=alice,
                document_number=f"{n}/BC",
                document_date=TODAY,
                summary="Đã hoàn thành",
                status=Decision.REFUSED,
                decided_by=coordinator,
                decided_at=timezone.now(),
                decision_note="Thiếu minh chứng",
            )
            Evidence.objects.create(
                task=task, unit=unit_a, completion=returned, link=f"https://vb.tinh.example/{n}"
            )
            Comment.objects.create(task=task, unit=unit_a, author=alice, text=f"Ý kiến {n}")
            other = UnitFactory(name=f"Sở phối hợp {size}-{n}")
            AssignmentFactory(task=task, unit=other, role=Assignment.Role.IMPLEMENTING)
            Acknowledgement.objects.create(task=task, unit=other, by=coordinator)
        with django_assert_max_num_queries(30) as captured:
            page = client.get(f"/tasks/{task.pk}/").content.decode()
        assert page.count("b.pdf") >= size
        assert all(f"https://vb.tinh.example/{n}" in page for n in range(size))
        assert all(f"Ý kiến {n}" in page and f"{n}/BC" in page for n in range(size))
        assert all(f"Sở phối hợp {size}-{n}" in page for n in range(size))
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


# --- Login and language --------------------------------------------------------------------


def test_portal_login_works_and_locks_out_after_repeated_failures(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory(username="lan@vpubnd.tinh.example")
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": "correct-horse-battery-staple"},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    client.logout()
    for _ in range(3):
        response = client.post("/accounts/login/", {"username": user.username, "password": "x"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "30" in page and "/accounts/password_reset/" in page
    # Locked: even the right password is refused now.
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": "correct-horse-battery-staple"},
    )
    assert response.status_code == 429


def test_switching_language_is_remembered_for_the_person(client, alice):
    response = client.post("/language/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.language == "en"
    assert 'lang="en"' in client.get("/").content.decode()


# --- Spreadsheets: only coordinators import; exports follow visibility ---------------------


def test_only_coordinators_import_tasks(client, steering, alice, unit_a, coordinator):
    import tablib
    from django.core.exceptions import PermissionDenied

    from plans.resources import TaskResource
    from tests.factories import PlanFactory
    from tests.test_imports import TASK_HEADER, task_row

    client.force_login(steering)
    assert client.get("/admin/plans/task/import/").status_code == 403

    plan = PlanFactory()
    dataset = tablib.Dataset(task_row(plan, "7", "Nhập từ bảng", unit_a), headers=TASK_HEADER)
    refused = TaskResource().import_data(dataset, user=alice)
    assert isinstance(refused.base_errors[0].error, PermissionDenied)
    assert not Task.objects.filter(title="Nhập từ bảng").exists()

    result = TaskResource().import_data(dataset, user=coordinator)
    assert not result.has_errors() and not result.has_validation_errors()
    imported = Task.objects.get(title="Nhập từ bảng")
    record = imported.history.get()
    assert (record.history_type, record.history_user) == ("+", coordinator)


def test_admin_export_of_a_focal_point_in_the_admin_is_their_units_rows(rf, alice, task_a, task_b):
    from django.contrib.admin.sites import site

    request = rf.get("/admin/plans/task/export/")
    request.user = alice
    admin = site._registry[Task]
    assert list(admin.get_export_queryset(request)) == [task_a]


def test_deleting_a_task_removes_its_evidence_files_once_committed(
    client, alice, task_a, settings, django_capture_on_commit_callbacks
):
    client.post(
        f"/tasks/{task_a.pk}/progress/",
        {"percent": 30, "note": "Đã khảo sát", "evidence_file": pdf_upload("Báo cáo 1.pdf")},
    )
    stored = Path(settings.EVIDENCE_ROOT) / Evidence.objects.get().file.name
    assert stored.exists()

    with django_capture_on_commit_callbacks(execute=True):
        task_a.delete()

    assert not stored.exists()


def test_orphaned_evidence_files_are_listed_and_removed_on_request(client, alice, task_a, settings):
    client.post(
        f"/tasks/{task_a.pk}/progress/",
        {"percent": 30, "note": "Đã khảo sát", "evidence_file": pdf_upload("Báo cáo 1.pdf")},
    )
    kept = Path(settings.EVIDENCE_ROOT) / Evidence.objects.get().file.name
    stray = Path(settings.EVIDENCE_ROOT) / "2026" / "01" / "0123456789abcdef.pdf"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(PDF_BYTES)
    two_hours_ago = time.time() - 7200
    for path in (kept, stray):
        os.utime(path, (two_hours_ago, two_hours_ago))

    listed = StringIO()
    call_command("evidence_orphans", stdout=listed)
    assert "2026/01/0123456789abcdef.pdf" in listed.getvalue()
    assert "Found 1 orphaned evidence file(s)." in listed.getvalue()
    assert stray.exists(), "listing removes nothing"

    call_command("evidence_orphans", "--delete", stdout=StringIO())
    assert not stray.exists()
    assert kept.exists(), "a file its row names stays"

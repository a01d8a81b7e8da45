"""Deciding extension requests and completions in the admin: one at a time on the request's
decide page, several at once through the list's actions (a refusal asks its reason), through
the same services as the portal, with links both ways."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from plans import roles
from plans.models import CompletionSubmission, Decision, ExtensionRequest, Task
from tests.factories import TaskFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def member_of(group: str, username: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def coordinator(client):
    user = member_of(roles.COORDINATOR, "dti@skhcn.tinh.example")
    client.force_login(user)
    return user


def extension(title: str = "Số hóa hồ sơ") -> ExtensionRequest:
    task = TaskFactory(title=title, lead_unit=UnitFactory(), deadline=TODAY + dt.timedelta(days=5))
    return ExtensionRequest.objects.create(
        task=task,
        unit=task.lead_unit,
        previous_deadline=task.deadline,
        new_deadline=task.deadline + dt.timedelta(days=30),
        reason="Chờ kinh phí",
    )


def completion(title: str = "Đào tạo kỹ năng số") -> CompletionSubmission:
    task = TaskFactory(title=title, lead_unit=UnitFactory(), status=Task.Status.SUBMITTED)
    return CompletionSubmission.objects.create(
        task=task,
        unit=task.lead_unit,
        document_number="45/BC-SNV",
        document_date=TODAY,
        summary="Đã xong",
    )


def test_the_request_page_offers_deciding_and_the_portal_page(client, coordinator):
    request = extension()
    page = client.get(f"/admin/plans/extensionrequest/{request.pk}/change/").content.decode()
    assert f"/admin/plans/extensionrequest/{request.pk}/decide/" in page
    assert f"/extensions/{request.pk}/decide/" in page
    portal = client.get(f"/extensions/{request.pk}/decide/").content.decode()
    assert f"/admin/plans/extensionrequest/{request.pk}/change/" in portal


def test_coordinator_refuses_an_extension_on_its_admin_page_with_a_reason(client, coordinator):
    request = extension()
    url = f"/admin/plans/extensionrequest/{request.pk}/decide/"
    assert "Chờ kinh phí" in client.get(url).content.decode()

    without_reason = client.post(url, {"decision": "refuse", "note": " "})
    assert without_reason.status_code == 200
    assert without_reason.context["form"].errors["note"]
    request.refresh_from_db()
    assert request.status == Decision.PENDING

    done = client.post(url, {"decision": "refuse", "note": "Không đủ căn cứ"})
    assert done.status_code == 302
    request.refresh_from_db()
    request.task.refresh_from_db()
    assert (request.status, request.decision_note, request.decided_by) == (
        Decision.REFUSED,
        "Không đủ căn cứ",
        coordinator,
    )
    assert request.task.deadline == request.previous_deadline
    # Decided: the page no longer offers deciding, and the decide URL says so.
    page = client.get(f"/admin/plans/extensionrequest/{request.pk}/change/").content.decode()
    assert "/decide/" not in page
    assert client.get(url).status_code == 302


def test_coordinator_verifies_a_completion_on_its_admin_page(client, coordinator):
    submission = completion()
    client.post(
        f"/admin/plans/completionsubmission/{submission.pk}/decide/",
        {"decision": "approve", "note": "Đạt"},
    )
    submission.task.refresh_from_db()
    assert submission.task.status == Task.Status.COMPLETED
    assert submission.task.percent_done == 100


def test_refusing_several_extensions_asks_the_reason_once(client, coordinator):
    first, second = extension("Một"), extension("Hai")
    selected = {"action": "refuse", "_selected_action": [first.pk, second.pk]}
    asked = client.post("/admin/plans/extensionrequest/", selected)
    assert asked.status_code == 200
    assert "Một" in asked.content.decode() and 'name="reason"' in asked.content.decode()
    assert ExtensionRequest.objects.pending().count() == 2

    client.post(
        "/admin/plans/extensionrequest/", {**selected, "apply": "1", "reason": "Hết hạn mức"}
    )
    assert set(ExtensionRequest.objects.values_list("status", "decision_note")) == {
        (Decision.REFUSED, "Hết hạn mức")
    }


def test_returning_several_completions_sends_the_tasks_back_to_work(client, coordinator):
    first, second = completion("Một"), completion("Hai")
    client.post(
        "/admin/plans/completionsubmission/",
        {
            "action": "return_for_work",
            "_selected_action": [first.pk, second.pk],
            "apply": "1",
            "reason": "Thiếu biên bản",
        },
    )
    assert set(Task.objects.values_list("status", flat=True)) == {Task.Status.IN_PROGRESS}
    assert set(CompletionSubmission.objects.values_list("status", flat=True)) == {Decision.REFUSED}


def test_the_steering_committee_reads_requests_but_cannot_decide_them(client):
    client.force_login(member_of(roles.STEERING_COMMITTEE, "bcd@tinh.example"))
    request = extension()
    page = client.get(f"/admin/plans/extensionrequest/{request.pk}/change/")
    assert page.status_code == 200
    assert "/decide/" not in page.content.decode()
    decide = client.post(
        f"/admin/plans/extensionrequest/{request.pk}/decide/", {"decision": "approve"}
    )
    assert decide.status_code == 403
    request.refresh_from_db()
    assert request.status == Decision.PENDING


def test_approving_a_selection_leaves_the_decided_ones_and_says_how_many(client, coordinator):
    pending, decided = extension("Một"), extension("Hai")
    client.post(
        f"/admin/plans/extensionrequest/{decided.pk}/decide/",
        {"decision": "refuse", "note": "Không"},
    )
    response = client.post(
        "/admin/plans/extensionrequest/",
        {"action": "approve", "_selected_action": [pending.pk, decided.pk]},
        follow=True,
    )
    said = [str(m) for m in response.context["messages"]]
    assert any("1 đề nghị đã chọn đã được quyết định trước đó" in m for m in said), said
    assert any("Đã chấp thuận 1 đề nghị gia hạn" in m for m in said), said
    decided.refresh_from_db()
    assert decided.status == Decision.REFUSED

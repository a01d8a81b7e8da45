"""Events reach people within minutes: a decision on a unit's request or a new task is in the
unit's inbox at once and in an e-mail at the next short run, once; people who want news only
in the morning get it with the morning's e-mail."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from notifications.services import events_send_due, reminders_send_due
from plans import services
from plans.models import ExtensionRequest, Task, User
from tests.factories import TaskFactory, UnitFactory, UserFactory, focal_point_of

pytestmark = pytest.mark.django_db

Rule = Notification.Rule


@pytest.fixture
def coordinator():
    from django.contrib.auth.models import Group

    from plans import roles

    user = UserFactory(username="dti@skhcn.tinh.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    return user


@pytest.fixture
def unit():
    return UnitFactory(name="Sở Nội vụ")


@pytest.fixture
def nam(unit):
    return focal_point_of(unit, "nam@snv.tinh.example", first_name="Nam", last_name="Hoàng Văn")


def refused_extension(task: Task, by: User, **kwargs) -> ExtensionRequest:
    request = services.extension_request(
        task=task,
        unit=task.lead_unit,
        by=None,
        new_deadline=task.deadline + dt.timedelta(days=30),
        reason="Chờ kinh phí",
    )
    return services.extension_decide(
        request=request, by=by, approve=False, note="Không đủ căn cứ", **kwargs
    )


def test_a_refused_extension_is_in_the_units_inbox_at_once_and_mailed_once(
    client, coordinator, unit, nam, django_capture_on_commit_callbacks
):
    task = TaskFactory(lead_unit=unit, title="Số hóa hồ sơ", deadline=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        refused_extension(task, coordinator)

    client.force_login(nam)
    inbox = client.get("/notifications/").content.decode()
    assert "Số hóa hồ sơ" in inbox
    assert "lý do: Không đủ căn cứ" in inbox, "the inbox says why"
    assert Notification.objects.get(rule=Rule.EXTENSION_REFUSED).recipient == nam

    report = events_send_due()
    assert report.emails_sent == 1
    (message,) = mail.outbox
    assert message.to == ["nam@snv.tinh.example"]
    assert "Không đủ căn cứ" in message.body
    assert "Số hóa hồ sơ" in message.subject
    events_send_due()
    assert len(mail.outbox) == 1, "a second run sends nothing more"


def test_the_subject_decodes_without_a_leading_space(coordinator, unit, nam):
    task = TaskFactory(
        lead_unit=unit,
        title="Đào tạo kỹ năng số cho cán bộ, công chức toàn tỉnh",
        deadline=timezone.localdate(),
    )
    refused_extension(task, coordinator)
    events_send_due()
    raw = mail.outbox[0].message().as_bytes()
    subject = email.message_from_bytes(raw, policy=policy.default)["subject"]
    assert subject.startswith("[dtiplan]")


def test_a_unit_given_a_new_task_hears_of_it_unless_it_acknowledged(unit, nam):
    other = UnitFactory()
    other_person = focal_point_of(other, "lan@stc.tinh.example")
    task = TaskFactory(lead_unit=unit, title="Nhiệm vụ mới")
    services.task_units_set(task=task, lead=unit, implementing=[other], by=None)
    services.task_acknowledge(task=task, unit=other, by=other_person)

    events_send_due()
    assert [m.to for m in mail.outbox] == [["nam@snv.tinh.example"]]
    assert Notification.objects.get().rule == Rule.ASSIGNED


def test_a_draft_task_is_news_only_once_it_is_assigned(unit, nam):
    task = TaskFactory(lead_unit=unit, status=Task.Status.DRAFT)
    events_send_due()
    assert mail.outbox == []
    task.status = Task.Status.NEW
    task.save()
    events_send_due()
    assert len(mail.outbox) == 1
    assert "Nhiệm vụ" in mail.outbox[0].subject


def test_who_wants_news_in_the_morning_gets_it_with_the_mornings_email(
    client, coordinator, unit, nam
):
    client.force_login(nam)
    client.post("/profile/", {"language": "vi", "event_emails": "digest"})
    nam.refresh_from_db()
    assert nam.event_emails == User.EventEmails.DIGEST

    task = TaskFactory(lead_unit=unit, deadline=timezone.localdate())
    refused_extension(task, coordinator)
    events_send_due()
    assert mail.outbox == []
    assert Notification.objects.for_person(nam).exists(), "the inbox has it already"

    monday = timezone.make_aware(dt.datetime(2026, 11, 30, 8, 0))
    reminders_send_due(now=monday)
    assert [m.to for m in mail.outbox] == [["nam@snv.tinh.example"]]


def test_the_events_run_costs_the_same_queries_for_3_and_30_new_tasks(
    django_assert_max_num_queries,
):
    """Decisions (2), changed tasks and their first live versions (3), the tasks, their
    units and people (3), acknowledgements, existing keys, the counted insert (a savepoint,
    the insert, the count: 3); delivery: a pick, a claim, the rows, still-due checks (5), one
    update per recipient, a last empty pick."""
    for count in (3, 30):
        Notification.objects.all().delete()
        Task.objects.all().delete()
        unit = UnitFactory()
        focal_point_of(unit)
        for _ in range(count):
            TaskFactory(lead_unit=unit)
        with django_assert_max_num_queries(25):
            report = events_send_due()
        assert (report.created, report.emails_sent) == (count, 1)

"""The overdue reminder sweep, with a fixed clock (Asia/Ho_Chi_Minh local dates)."""

from __future__ import annotations

import datetime as dt
import io
import socket
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.core import mail
from django.core.management import CommandError, call_command

from notifications.models import Notification
from notifications.services import reminders_send_due
from plans.models import Assignment, Task, UnitMembership
from tests.factories import (
    AssignmentFactory,
    FocalPointFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE = dt.date(2026, 6, 30)


def at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=HCM)


@pytest.fixture
def overdue_task() -> Task:
    """A task due 30/06 whose lead unit has two focal points and whose monitoring unit has one."""
    lead = UnitFactory(name="Sở Nội vụ")
    FocalPointFactory(unit=lead, user=UserFactory(username="an@noivu.example"))
    FocalPointFactory(unit=lead, user=UserFactory(username="binh@noivu.example"))
    monitor = UnitFactory(name="Sở Khoa học và Công nghệ")
    FocalPointFactory(unit=monitor, user=UserFactory(username="chi@skhcn.example"))
    task = TaskFactory(lead_unit=lead, deadline=DEADLINE, title="Số hóa hồ sơ TTHC")
    AssignmentFactory(task=task, unit=monitor, role=Assignment.Role.MONITORING)
    # Coordinating and implementing units are not reminded of overdue work.
    AssignmentFactory(task=task, role=Assignment.Role.COORDINATING)
    return task


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_task_due_today_is_not_overdue(overdue_task):
    reminders_send_due(now=at(DEADLINE, 23))
    assert not Task.objects.overdue(at(DEADLINE, 23)).exists()
    rules = set(Notification.objects.values_list("rule", flat=True))
    assert rules == {Notification.Rule.DUE_TODAY}
    assert "quá hạn" not in mail.outbox[0].subject


def test_task_is_overdue_from_the_next_local_day(overdue_task):
    # 17:30 UTC on 30/06 is already 00:30 on 01/07 in Hà Nội.
    just_after_midnight = dt.datetime(2026, 6, 30, 17, 30, tzinfo=dt.UTC)
    assert list(Task.objects.overdue(just_after_midnight)) == [overdue_task]
    assert overdue_task.days_overdue(just_after_midnight) == 1


@pytest.mark.parametrize(
    "status",
    [Task.Status.COMPLETED, Task.Status.CANCELLED, Task.Status.DRAFT, Task.Status.SUBMITTED],
)
def test_done_cancelled_draft_and_submitted_tasks_are_never_overdue(overdue_task, status):
    overdue_task.status = status
    overdue_task.save()
    for day in (DEADLINE - dt.timedelta(days=1), DEADLINE, DEADLINE + dt.timedelta(days=40)):
        assert reminders_send_due(now=at(day)).due == 0
    assert mail.outbox == []


def test_overdue_task_reminds_lead_and_monitoring_focal_points_once(overdue_task):
    reminders_send_due(now=at(DEADLINE + dt.timedelta(days=3)))
    assert recipients() == ["an@noivu.example", "binh@noivu.example", "chi@skhcn.example"]
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 3

    # The schedule fires again the same day, then the next day: nobody hears twice.
    reminders_send_due(now=at(DEADLINE + dt.timedelta(days=3), 9))
    reminders_send_due(now=at(DEADLINE + dt.timedelta(days=4)))
    assert len(mail.outbox) == 3


def test_reminder_is_in_vietnamese_and_names_everything_needed(overdue_task):
    reminders_send_due(now=at(dt.date(2026, 7, 3)))
    message = next(m for m in mail.outbox if m.to == ["chi@skhcn.example"])
    body = message.body
    assert "quá hạn" in message.subject
    assert "Số hóa hồ sơ TTHC" in body
    assert f"{overdue_task.indicator.code}. {overdue_task.indicator.name_vi}" in body
    assert overdue_task.plan.title in body
    assert "30/06/2026" in body
    assert "3 ngày" in body  # days overdue
    assert "Sở Nội vụ" in body  # the lead unit
    assert f"https://dti.tinh.example/tasks/{overdue_task.pk}/" in body
    html = message.alternatives[0][0]
    assert "Số hóa hồ sơ TTHC" in html and "30/06/2026" in html


def test_english_speaking_focal_point_gets_english(overdue_task):
    user = overdue_task.lead_unit.memberships.first().user
    user.language = "en"
    user.save()
    reminders_send_due(now=at(dt.date(2026, 7, 3)))
    message = next(m for m in mail.outbox if m.to == [user.email])
    assert "overdue" in message.subject
    assert "3 days overdue" in message.body


def test_unit_without_focal_points_is_reminded_at_its_shared_mailbox():
    lead = UnitFactory(email="VanThu@SoTaiChinh.example")
    TaskFactory(lead_unit=lead, deadline=DEADLINE)
    reminders_send_due(now=at(dt.date(2026, 7, 1)))
    assert recipients() == ["vanthu@sotaichinh.example"]


def test_inactive_focal_point_is_skipped_and_mailbox_used_instead(overdue_task):
    lead = overdue_task.lead_unit
    for membership in lead.memberships.all():
        membership.user.is_active = False
        membership.user.save()
    reminders_send_due(now=at(dt.date(2026, 7, 1)))
    assert recipients() == ["chi@skhcn.example", lead.email.lower()]


def test_person_who_is_focal_point_of_lead_and_monitoring_unit_gets_one_email(overdue_task):
    monitor = overdue_task.assignments.get(role=Assignment.Role.MONITORING).unit
    an = overdue_task.lead_unit.memberships.get(user__username="an@noivu.example").user
    FocalPointFactory(unit=monitor, user=an)
    reminders_send_due(now=at(dt.date(2026, 7, 1)))
    assert recipients().count("an@noivu.example") == 1


def test_one_email_per_person_lists_all_their_overdue_tasks(overdue_task):
    second = TaskFactory(
        lead_unit=overdue_task.lead_unit, deadline=dt.date(2026, 6, 1), title="Cấp chữ ký số"
    )
    reminders_send_due(now=at(dt.date(2026, 7, 1)))
    to_an = [m for m in mail.outbox if m.to == ["an@noivu.example"]]
    assert len(to_an) == 1
    assert "Số hóa hồ sơ TTHC" in to_an[0].body and second.title in to_an[0].body
    # The most overdue task comes first.
    assert to_an[0].body.index(second.title) < to_an[0].body.index("Số hóa hồ sơ TTHC")


def test_extended_deadline_restarts_the_reminder(overdue_task):
    reminders_send_due(now=at(dt.date(2026, 7, 1)))
    assert len(mail.outbox) == 3
    overdue_task.deadline = dt.date(2026, 7, 15)
    overdue_task.save()
    reminders_send_due(now=at(dt.date(2026, 7, 10)))
    assert "quá hạn" not in mail.outbox[-1].subject  # due soon, no longer overdue
    sent_overdue = Notification.objects.filter(rule="overdue", status="sent")
    assert sent_overdue.count() == 3
    reminders_send_due(now=at(dt.date(2026, 7, 16)))
    # Step 1 of "overdue" again, counted from the new deadline.
    assert sent_overdue.filter(step=1, anchor_date=dt.date(2026, 7, 15)).count() == 3


def test_reminder_for_task_completed_before_retry_is_not_sent(overdue_task, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    reminders_send_due(now=at(dt.date(2026, 7, 1)))
    assert Notification.objects.filter(status=Notification.Status.FAILED).count() == 3
    overdue_task.status = Task.Status.COMPLETED
    overdue_task.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reminders_send_due(now=at(dt.date(2026, 7, 2)))
    assert mail.outbox == []
    assert Notification.objects.filter(status=Notification.Status.SKIPPED).count() == 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


def test_smtp_server_down_is_retried_later_without_duplicates(overdue_task, settings):
    """A real SMTP conversation on loopback: first the server is down, then it is back."""
    port = _free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    day = dt.date(2026, 7, 1)

    report = reminders_send_due(now=at(day))
    assert report.rows_failed == 3 and report.emails_sent == 0
    failed = Notification.objects.filter(status=Notification.Status.FAILED)
    assert failed.count() == 3
    assert all("Connection refused" in n.last_error or "Errno" in n.last_error for n in failed)
    assert {n.attempts for n in failed} == {1}

    # Within the back-off window nothing is retried even if the sweep runs again.
    reminders_send_due(now=at(day, 8).replace(minute=5))
    assert Notification.objects.get(recipient_email="an@noivu.example").attempts == 1

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        reminders_send_due(now=at(day, 9))
        reminders_send_due(now=at(day, 10))
        reminders_send_due(now=at(day + dt.timedelta(days=1)))
    finally:
        controller.stop()
    delivered = sorted(m["To"] for m in inbox.messages)
    assert delivered == ["an@noivu.example", "binh@noivu.example", "chi@skhcn.example"]
    sent = Notification.objects.filter(status=Notification.Status.SENT)
    assert sent.count() == 3 and {n.attempts for n in sent} == {2}
    assert all(n.last_error == "" for n in sent)


def test_sweep_query_count_does_not_grow_with_tasks(django_assert_max_num_queries):
    """Expected: calendar exceptions, the last complete sweep's mark and whether anything
    changed since, the changes' ids, the triggers that record changes (present?), the people
    last told (``SweepAudience``), every unit,
    their focal points and heads, the groups, policy, the oldest open task's deadline and
    creation, candidate tasks, pending extensions and completions, the oldest open item's
    deadline, candidate self-assessment items, their units, memberships, acknowledgements,
    existing keys, insert (in its own transaction: savepoint, insert, counting its rows by
    clearing their token, release), then in one transaction: the people told remembered (one
    upsert), the mark locked, the changes seen removed, the mark moved on; delivery:
    calendar, then per batch of 25 recipients: pick, claim, load rows, the tasks' units and
    memberships (still a recipient?), acknowledgements, pending requests, last reports (still
    due?), one update per recipient, and a last empty pick. 5 and 60 tasks cost the same. One
    more on SQLite: with the row's ``item`` column, 60 rows pass its 999-parameter limit, so
    the insert goes in two batches."""
    for count in (5, 60):
        Notification.objects.all().delete()
        Task.objects.all().delete()
        lead = UnitFactory()
        FocalPointFactory(unit=lead)
        for _ in range(count):
            TaskFactory(lead_unit=lead, deadline=DEADLINE)
        with django_assert_max_num_queries(40):
            report = reminders_send_due(now=at(dt.date(2026, 7, 1)))
        assert report.rows_sent == count


def _overdue_tasks(count: int) -> None:
    """``count`` open tasks led by one unit with a focal point: overdue by 1 to 40 days, or
    due within the next two weeks."""
    lead = UnitFactory()
    FocalPointFactory(unit=lead)
    for n in range(count):
        TaskFactory(lead_unit=lead, deadline=DEADLINE - dt.timedelta(days=n % 54 - 13))


def test_the_idle_sweep_looks_at_no_task_and_costs_the_same_for_20_and_200(
    django_assert_max_num_queries,
):
    """A second sweep the same day finds every due step recorded: the database leaves out
    every task (``due`` is 0: nothing is derived, loaded or checked in Python), and its
    queries do not depend on the number of open tasks."""
    counts = []
    for count in (20, 200):
        Notification.objects.all().delete()
        Task.objects.all().delete()
        _overdue_tasks(count)
        first = reminders_send_due(now=at(dt.date(2026, 7, 1)))
        assert first.created >= count // 2
        with django_assert_max_num_queries(15) as captured:
            again = reminders_send_due(now=at(dt.date(2026, 7, 1), 14))
        assert (again.due, again.created, again.emails_sent) == (0, 0, 0)
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_a_sweep_with_nothing_new_records_nothing_and_a_new_step_is_recorded_once(
    overdue_task,
):
    reminders_send_due(now=at(DEADLINE + dt.timedelta(days=1)))
    rows = Notification.objects.count()
    assert rows == 3 and len(mail.outbox) == 3
    mail.outbox.clear()
    # Days 2 to 6 overdue: still the first overdue step, recorded on day 1.
    for day in (dt.date(2026, 7, 2), dt.date(2026, 7, 3), dt.date(2026, 7, 6)):
        report = reminders_send_due(now=at(day))
        assert (report.due, report.created, report.emails_sent) == (0, 0, 0)
    assert Notification.objects.count() == rows and mail.outbox == []
    # Day 7: the second overdue step and the escalation to the lead unit's head (its shared
    # mailbox: it has none), once per person, and nothing more on a re-run.
    assert reminders_send_due(now=at(dt.date(2026, 7, 7))).created == 4
    assert reminders_send_due(now=at(dt.date(2026, 7, 7), 14)).created == 0
    new = Notification.objects.filter(created_at=at(dt.date(2026, 7, 7)))
    assert sorted(new.values_list("rule", "step")) == sorted(
        [(Notification.Rule.ESCALATE_HEAD, 1)] + [(Notification.Rule.OVERDUE, 2)] * 3
    )
    assert len(mail.outbox) == 4


def test_a_focal_point_who_joins_after_a_step_was_recorded_is_reminded_of_it(overdue_task):
    reminders_send_due(now=at(DEADLINE + dt.timedelta(days=1)))
    mail.outbox.clear()
    FocalPointFactory(unit=overdue_task.lead_unit, user=UserFactory(username="dung@noivu.example"))
    report = reminders_send_due(now=at(dt.date(2026, 7, 2)))
    assert report.created == 1 and recipients() == ["dung@noivu.example"]
    assert "Số hóa hồ sơ TTHC" in mail.outbox[0].body
    # Remembered: the next sweep is idle again.
    assert reminders_send_due(now=at(dt.date(2026, 7, 3))).due == 0


def test_send_reminders_dry_run_prints_per_recipient_and_records_nothing(overdue_task, capsys):
    call_command("send_reminders", "--dry-run", "--now", "2026-07-03")
    out = capsys.readouterr().out
    assert "an@noivu.example: 1 nhắc việc" in out
    assert "Số hóa hồ sơ TTHC" in out and "quá hạn 3 ngày" in out
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_send_reminders_run_again_says_everything_due_had_been_recorded(overdue_task, capsys):
    call_command("send_reminders", "--now", "2026-07-03")
    capsys.readouterr()
    call_command("send_reminders", "--now", "2026-07-03T10:00")
    out = capsys.readouterr().out
    assert "0 nhắc việc mới đến hạn hôm nay" in out
    assert "đã được ghi nhận ở lần chạy trước" in out and "đã gửi 0 thư" in out


def test_send_reminders_command_sends_with_given_now(overdue_task, capsys):
    call_command("send_reminders", "--now", "2026-07-03T08:00+07:00")
    out = capsys.readouterr().out
    assert "Nhắc việc lúc 08:00, Thứ 6 03/07/2026:" in out
    assert "đã gửi 3 thư" in out and "0 mục không gửi được" in out
    assert "{" not in out, "a summary in words, not a dict"
    assert len(mail.outbox) == 3


def test_send_reminders_on_a_weekend_says_why_and_names_the_next_working_day(overdue_task, capsys):
    call_command("send_reminders", "--now", "2026-07-04")
    out = capsys.readouterr().out
    assert "04/07/2026 không phải ngày làm việc" in out
    assert "Thứ 2 06/07/2026" in out and "--now 2026-07-06" in out
    assert mail.outbox == []


def test_send_reminders_names_the_public_holiday(overdue_task, capsys):
    call_command("send_reminders", "--dry-run", "--now", "2026-09-02")
    out = capsys.readouterr().out
    assert "ngày nghỉ lễ (Quốc khánh)" in out and "--dry-run --now 2026-09-03" in out


def test_send_reminders_rejects_a_bad_now():
    with pytest.raises(CommandError, match="not an ISO date"):
        call_command("send_reminders", "--now", "03/07/2026")


def test_now_as_a_bare_date_means_the_8_oclock_sweep():
    from notifications.clock import parse_now

    assert parse_now("2026-07-03") == at(dt.date(2026, 7, 3), 8)
    assert parse_now("2026-07-03T17:30") == at(dt.date(2026, 7, 3), 17).replace(minute=30)
    assert parse_now("2026-07-03T01:00Z") == at(dt.date(2026, 7, 3), 8)
    with pytest.raises(ValueError, match="not an ISO date"):
        parse_now("2026-02-30")


@pytest.mark.parametrize(
    ("value", "local_time"),
    [
        ("2026-07-03", dt.time(8)),
        ("2026-07-03T17:30", dt.time(17, 30)),
        ("2026-07-03T01:00Z", dt.time(8)),
    ],
)
@pytest.mark.parametrize("door", ["command", "celery"])
def test_the_command_and_the_celery_task_read_now_alike(overdue_task, door, value, local_time):
    from notifications.tasks import send_reminders

    if door == "command":
        call_command("send_reminders", "--now", value, stdout=io.StringIO())
    else:
        send_reminders(now=value)
    recorded = {n.created_at for n in Notification.objects.all()}
    assert recorded == {dt.datetime.combine(dt.date(2026, 7, 3), local_time, tzinfo=HCM)}
    assert len(mail.outbox) == 3


def test_the_celery_task_rejects_a_bad_now_as_the_command_does():
    from notifications.tasks import send_reminders

    with pytest.raises(ValueError, match="not an ISO date"):
        send_reminders(now="03/07/2026")
    assert not Notification.objects.exists()


def test_a_focal_point_who_left_the_unit_before_a_retry_is_not_written_to(overdue_task, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    reminders_send_due(now=at(dt.date(2026, 7, 1)))  # the mail server is down: all fail
    overdue_task.lead_unit.memberships.filter(user__username="binh@noivu.example").delete()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reminders_send_due(now=at(dt.date(2026, 7, 1), 10))
    assert recipients() == ["an@noivu.example", "chi@skhcn.example"]
    left = Notification.objects.get(recipient_email="binh@noivu.example")
    assert left.status == Notification.Status.SKIPPED


def _mail_server_down(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def test_a_unit_taken_off_the_task_before_a_retry_is_not_written_to(overdue_task, settings):
    _mail_server_down(settings)
    reminders_send_due(now=at(dt.date(2026, 7, 1)))  # all fail
    overdue_task.assignments.filter(role=Assignment.Role.MONITORING).delete()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reminders_send_due(now=at(dt.date(2026, 7, 1), 10))
    assert recipients() == ["an@noivu.example", "binh@noivu.example"]
    dropped = Notification.objects.get(recipient_email="chi@skhcn.example")
    assert dropped.status == Notification.Status.SKIPPED


def test_a_head_who_stepped_down_is_not_sent_the_escalation_on_a_retry(overdue_task, settings):
    head = UnitMembership.objects.create(
        unit=overdue_task.lead_unit,
        user=UserFactory(username="giamdoc@noivu.example", language="en"),
        role=UnitMembership.Role.HEAD,
    )
    _mail_server_down(settings)
    week_late = DEADLINE + dt.timedelta(days=7)
    reminders_send_due(now=at(week_late))  # all fail, the escalation to the head too
    # Still a member of the unit, but no longer its head.
    head.role = UnitMembership.Role.FOCAL_POINT
    head.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reminders_send_due(now=at(week_late, 10))
    escalation = Notification.objects.get(
        rule=Notification.Rule.ESCALATE_HEAD, recipient_email="giamdoc@noivu.example"
    )
    assert escalation.status == Notification.Status.SKIPPED
    to_him = [m for m in mail.outbox if m.to == ["giamdoc@noivu.example"]]
    assert len(to_him) == 1  # as a focal point: the overdue reminder only
    assert "Số hóa hồ sơ TTHC" in to_him[0].body
    assert "== Overdue tasks ==" in to_him[0].body
    assert "escalated to you" not in to_him[0].body

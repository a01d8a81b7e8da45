"""The reminder cadence over working days, with a fixed clock: which step goes out on which day."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from notifications.models import CalendarException, Notification, ReminderPolicy
from notifications.services import reminders_send_due
from plans import roles
from plans.models import (
    Acknowledgement,
    Assignment,
    CompletionSubmission,
    ExtensionRequest,
    Task,
    UnitMembership,
    User,
)
from plans.services import progress_report
from tests.factories import FocalPointFactory, TaskFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(8), tzinfo=HCM)


def days(start: dt.date, end: dt.date):
    while start <= end:
        yield start
        start += dt.timedelta(days=1)


def run_daily(start: dt.date, end: dt.date) -> dict[dt.date, set[tuple[str, int, str]]]:
    """Run the sweep at 08:00 every calendar day; what each day recorded and sent."""
    sent: dict[dt.date, set[tuple[str, int, str]]] = defaultdict(set)
    for day in days(start, end):
        before = set(Notification.objects.values_list("pk", flat=True))
        reminders_send_due(now=at(day))
        for row in Notification.objects.exclude(pk__in=before):
            assert row.status == Notification.Status.SENT, row.last_error
            sent[day].add((row.rule, row.step, row.recipient_email))
    return dict(sent)


@pytest.fixture
def people():
    lead = UnitFactory(name="Sở Tài chính", email="vanthu@stc.example")
    focal = FocalPointFactory(unit=lead, user=UserFactory(username="focal@stc.example")).user
    head = UserFactory(username="giamdoc@stc.example")
    UnitMembership.objects.create(unit=lead, user=head, role=UnitMembership.Role.HEAD)
    coordinator = UserFactory(username="dti@skhcn.example")
    coordinator.groups.add(Group.objects.get(name=roles.COORDINATOR))
    steering = UserFactory(username="bcd@ubnd.example")
    steering.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    return {
        "lead": lead,
        "focal": focal.email,
        "head": head.email,
        "coordinator": coordinator.email,
        "steering": steering.email,
    }


def test_due_soon_7_3_1_working_days_before_then_due_today(people):
    # Friday 24/07/2026: 7, 3 and 1 working days before are Wed 15, Tue 21 and Thu 23 July.
    TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 7, 24))
    sent = run_daily(dt.date(2026, 7, 10), dt.date(2026, 7, 24))
    focal = people["focal"]
    assert sent == {
        dt.date(2026, 7, 15): {("due_soon", 1, focal)},
        dt.date(2026, 7, 21): {("due_soon", 2, focal)},
        dt.date(2026, 7, 23): {("due_soon", 3, focal)},
        dt.date(2026, 7, 24): {("due_today", 1, focal)},
    }


def test_holidays_and_make_up_saturday_shift_the_working_days(people):
    """National Day 2026: Mon 31/08 (substitute), Tue 1 and Wed 2/09 are off; Saturday 22/08 is
    the announced make-up working day. A deadline of Fri 04/09 is 7 working days after 22/08."""
    CalendarException.objects.create(
        date=dt.date(2026, 8, 22), kind=CalendarException.Kind.WORKING_DAY, note="Make-up day"
    )
    TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 9, 4))
    sent = run_daily(dt.date(2026, 8, 15), dt.date(2026, 9, 4))
    focal = people["focal"]
    assert sent == {
        dt.date(2026, 8, 22): {("due_soon", 1, focal)},  # a Saturday, but a working day
        dt.date(2026, 8, 27): {("due_soon", 2, focal)},
        dt.date(2026, 9, 3): {("due_soon", 3, focal)},
        dt.date(2026, 9, 4): {("due_today", 1, focal)},
    }


def test_nothing_is_sent_on_weekends_holidays_or_announced_days_off(people):
    CalendarException.objects.create(date=dt.date(2026, 6, 12), kind="day_off", note="Nghỉ bù")
    TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 5, 29))
    for day in (
        dt.date(2026, 6, 6),
        dt.date(2026, 6, 7),
        dt.date(2026, 6, 12),
        dt.date(2026, 9, 2),
        dt.date(2027, 2, 8),
    ):
        assert reminders_send_due(now=at(day)).due == 0, day
    assert mail.outbox == []


def test_cadence_and_escalation_ladder_over_40_days(people):
    TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 6, 1))  # a Monday
    sent = run_daily(dt.date(2026, 6, 2), dt.date(2026, 7, 11))
    focal, head, coordinator, steering = (
        people["focal"],
        people["head"],
        people["coordinator"],
        people["steering"],
    )
    assert sent == {
        dt.date(2026, 6, 2): {("overdue", 1, focal)},  # day 1
        dt.date(2026, 6, 8): {("overdue", 2, focal), ("escalate_head", 1, head)},  # day 7
        dt.date(2026, 6, 15): {  # day 14
            ("overdue", 3, focal),
            ("escalate_coordinators", 1, coordinator),
        },
        dt.date(2026, 6, 22): {("overdue", 4, focal)},
        dt.date(2026, 6, 29): {("overdue", 5, focal)},
        dt.date(2026, 7, 1): {("steering_digest", 202627, steering)},  # day 30
        dt.date(2026, 7, 6): {("overdue", 6, focal), ("steering_digest", 202628, steering)},
    }


def test_one_email_per_person_per_run_with_every_reminder_in_it(people):
    other_unit = UnitFactory(name="Sở Nội vụ")
    FocalPointFactory(unit=other_unit, user=UserFactory(username=people["focal"]))
    TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 6, 30), title="Quá hạn một")
    TaskFactory(lead_unit=other_unit, deadline=dt.date(2026, 7, 2), title="Sắp đến hạn")
    TaskFactory(lead_unit=other_unit, deadline=dt.date(2026, 7, 1), title="Đến hạn hôm nay")
    reminders_send_due(now=at(dt.date(2026, 7, 1)))
    to_focal = [m for m in mail.outbox if m.to == [people["focal"]]]
    assert len(to_focal) == 1
    body = to_focal[0].body
    assert body.index("Quá hạn một") < body.index("Đến hạn hôm nay") < body.index("Sắp đến hạn")
    assert Notification.objects.filter(recipient_email=people["focal"]).count() == 3


def test_reminders_stop_when_the_task_is_completed(people):
    task = TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 6, 1))
    reminders_send_due(now=at(dt.date(2026, 6, 2)))
    task.status = Task.Status.COMPLETED
    task.save()
    assert run_daily(dt.date(2026, 6, 3), dt.date(2026, 7, 31)) == {}


def test_catch_up_after_three_missed_days_sends_the_missed_steps_once(people):
    TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 6, 1))
    reminders_send_due(now=at(dt.date(2026, 6, 2)))
    # The schedule did not run on 8, 9 and 10 June (day 7 was the 8th).
    sent = run_daily(dt.date(2026, 6, 11), dt.date(2026, 6, 12))
    assert sent == {
        dt.date(2026, 6, 11): {
            ("overdue", 2, people["focal"]),
            ("escalate_head", 1, people["head"]),
        }
    }


def test_no_progress_for_30_days_reminds_until_a_report_comes(people):
    task = TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 12, 31))
    Task.objects.filter(pk=task.pk).update(
        created_at=timezone.make_aware(dt.datetime(2026, 5, 4, 9, 0))
    )
    Acknowledgement.objects.create(task=task, unit=people["lead"], at=at(dt.date(2026, 5, 4)))
    sent = run_daily(dt.date(2026, 6, 1), dt.date(2026, 6, 4))
    assert sent == {dt.date(2026, 6, 3): {("no_progress", 1, people["focal"])}}  # 30 days on
    with timezone.override(HCM):
        progress_report(task=task, unit=people["lead"], author=None, percent=20)
    report = task.progress_updates.get()
    report.created_at = at(dt.date(2026, 6, 5))
    report.save()
    assert run_daily(dt.date(2026, 6, 5), dt.date(2026, 7, 3)) == {}
    assert run_daily(dt.date(2026, 7, 6), dt.date(2026, 7, 6)) == {
        dt.date(2026, 7, 6): {("no_progress", 1, people["focal"])}  # 31 days after 05/06
    }


def test_a_task_silent_for_60_days_gets_the_second_no_progress_reminder_once(people):
    """The sweep looks for the step not recorded yet by the date it counts from: the first
    step's row does not hide the second, and no day in between sends anything."""
    task = TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 12, 31))
    Task.objects.filter(pk=task.pk).update(created_at=at(dt.date(2026, 5, 4)))
    Acknowledgement.objects.create(task=task, unit=people["lead"], at=at(dt.date(2026, 5, 4)))
    assert run_daily(dt.date(2026, 6, 1), dt.date(2026, 7, 10)) == {
        dt.date(2026, 6, 3): {("no_progress", 1, people["focal"])},  # 30 days on
        dt.date(2026, 7, 3): {("no_progress", 2, people["focal"])},  # 60 days on, a Friday
    }


def test_coordinator_can_change_the_cadence_in_the_admin(admin_client, people):
    policy = ReminderPolicy.current()
    form = {f.name: getattr(policy, f.name) for f in ReminderPolicy._meta.fields if f.editable}
    form.update({"due_soon_working_days": "5, 2", "remind_due_today": ""})
    response = admin_client.post(f"/admin/notifications/reminderpolicy/{policy.pk}/change/", form)
    assert response.status_code == 302
    TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 7, 24))
    sent = run_daily(dt.date(2026, 7, 10), dt.date(2026, 7, 24))
    assert sorted(sent) == [dt.date(2026, 7, 17), dt.date(2026, 7, 22)]


def test_admin_refuses_a_cadence_that_makes_no_sense(admin_client):
    policy = ReminderPolicy.current()
    form = {f.name: getattr(policy, f.name) for f in ReminderPolicy._meta.fields if f.editable}
    form.update({"due_soon_working_days": "7, soon", "overdue_second_day": "1"})
    response = admin_client.post(f"/admin/notifications/reminderpolicy/{policy.pk}/change/", form)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "due_soon_working_days" in errors and "__all__" in errors
    assert ReminderPolicy.current().due_soon_working_days == "7, 3, 1"


def test_admin_previews_the_next_sweep_per_recipient(admin_client, people):
    TaskFactory(
        lead_unit=people["lead"],
        deadline=timezone.localdate() - dt.timedelta(days=3),
        title="Cập nhật cổng dịch vụ công",
    )
    page = admin_client.get("/admin/notifications/notification/preview/").content.decode()
    assert people["focal"] in page and "Cập nhật cổng dịch vụ công" in page
    assert Notification.objects.count() == 0


def test_unit_that_has_not_acknowledged_in_3_working_days_is_reminded_once(people):
    """Created Thursday 02/07: three working days later is Tuesday 07/07. Only the unit that
    has not acknowledged hears about it; an acknowledgement before the retry makes it moot."""
    task = TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 12, 31))
    helper = UnitFactory(name="Công an tỉnh")
    FocalPointFactory(unit=helper, user=UserFactory(username="ca@congan.example"))
    Assignment.objects.create(task=task, unit=helper, role=Assignment.Role.COORDINATING)
    Task.objects.filter(pk=task.pk).update(created_at=at(dt.date(2026, 7, 2)))
    Acknowledgement.objects.create(task=task, unit=helper, at=at(dt.date(2026, 7, 2)))

    sent = run_daily(dt.date(2026, 7, 2), dt.date(2026, 7, 31))
    assert sent == {dt.date(2026, 7, 7): {("not_acknowledged", people["lead"].pk, people["focal"])}}


def test_a_unit_given_a_role_that_has_not_acknowledged_is_reminded_though_the_lead_has(people):
    """The lead acknowledged, the implementing unit did not: only its focal point is reminded,
    on the third working day, and the sweeps after that send nothing more."""
    task = TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 12, 31))
    helper = UnitFactory(name="Sở Công Thương")
    FocalPointFactory(unit=helper, user=UserFactory(username="ct@sct.example"))
    Assignment.objects.create(task=task, unit=helper, role=Assignment.Role.IMPLEMENTING)
    Task.objects.filter(pk=task.pk).update(created_at=at(dt.date(2026, 7, 2)))
    Acknowledgement.objects.create(task=task, unit=people["lead"], at=at(dt.date(2026, 7, 2)))

    sent = run_daily(dt.date(2026, 7, 2), dt.date(2026, 7, 31))
    assert sent == {dt.date(2026, 7, 7): {("not_acknowledged", helper.pk, "ct@sct.example")}}


def test_requests_waiting_two_working_days_remind_the_coordinators(people):
    task = TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 7, 30))
    Acknowledgement.objects.create(task=task, unit=people["lead"], at=at(dt.date(2026, 7, 1)))
    Task.objects.filter(pk=task.pk).update(created_at=at(dt.date(2026, 7, 1)))
    ExtensionRequest.objects.create(
        task=task,
        unit=people["lead"],
        requested_at=at(dt.date(2026, 7, 3)),  # a Friday
        previous_deadline=task.deadline,
        new_deadline=dt.date(2026, 8, 30),
        reason="Chờ kinh phí",
    )
    sent = run_daily(dt.date(2026, 7, 3), dt.date(2026, 7, 8))
    assert sent == {dt.date(2026, 7, 7): {("waiting_decision", 1, people["coordinator"])}}

    # Decided meanwhile: a failed send that is retried later is dropped, not sent.
    ExtensionRequest.objects.update(
        status="refused", decided_at=at(dt.date(2026, 7, 8)), decision_note="Không"
    )
    Notification.objects.update(status=Notification.Status.PENDING)
    reminders_send_due(now=at(dt.date(2026, 7, 9)))
    assert set(Notification.objects.values_list("status", flat=True)) == {"skipped"}


def test_completion_waiting_for_verification_reminds_the_coordinators(people):
    task = TaskFactory(
        lead_unit=people["lead"], deadline=dt.date(2026, 7, 30), status=Task.Status.SUBMITTED
    )
    CompletionSubmission.objects.create(
        task=task,
        unit=people["lead"],
        submitted_at=at(dt.date(2026, 7, 6)),
        document_number="12/BC-STC",
        document_date=dt.date(2026, 7, 6),
        summary="Đã hoàn thành",
    )
    sent = run_daily(dt.date(2026, 7, 6), dt.date(2026, 7, 9))
    assert sent == {dt.date(2026, 7, 8): {("waiting_decision", 1, people["coordinator"])}}


def test_a_report_made_before_a_retry_drops_the_no_progress_reminder(people, settings):
    task = TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 12, 31))
    Task.objects.filter(pk=task.pk).update(created_at=at(dt.date(2026, 5, 4)))
    Acknowledgement.objects.create(task=task, unit=people["lead"], at=at(dt.date(2026, 5, 4)))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: the send fails
    reminders_send_due(now=at(dt.date(2026, 6, 3)))
    assert Notification.objects.get().status == Notification.Status.FAILED
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    progress_report(task=task, unit=people["lead"], author=None, percent=30)
    task.progress_updates.update(created_at=at(dt.date(2026, 6, 3)) + dt.timedelta(hours=2))
    reminders_send_due(now=at(dt.date(2026, 6, 4)))
    assert Notification.objects.get().status == Notification.Status.SKIPPED
    assert mail.outbox == []


def test_a_person_in_two_units_that_have_not_acknowledged_is_reminded_for_each(people):
    task = TaskFactory(lead_unit=people["lead"], deadline=dt.date(2026, 12, 31))
    other = UnitFactory(name="Sở Công Thương")
    FocalPointFactory(unit=other, user=User.objects.get(email=people["focal"]))
    Assignment.objects.create(task=task, unit=other, role=Assignment.Role.IMPLEMENTING)
    Task.objects.filter(pk=task.pk).update(created_at=at(dt.date(2026, 7, 2)))
    reminders_send_due(now=at(dt.date(2026, 7, 7)))
    rows = Notification.objects.filter(rule="not_acknowledged", recipient_email=people["focal"])
    assert sorted(rows.values_list("step", flat=True)) == sorted([people["lead"].pk, other.pk])
    assert len(mail.outbox) == 1  # still one e-mail for the person

"""The monthly report pack by e-mail: once per period and person, on the configured working
day, retried after a failure, and by hand with ``manage.py send_report``."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.utils import timezone, translation

from notifications.models import CalendarException, Notification, ReportDelivery
from notifications.report_schedule import sending_day
from notifications.services import monthly_report_send_due, report_send
from plans import roles
from plans.models import Plan, Task
from plans.periods import Period
from plans.reports.exports import pack_headers, pack_rows
from tests.factories import PlanFactory, TaskFactory, UserFactory, main_indicator

pytestmark = pytest.mark.django_db

MAY = Period(dt.date(2026, 5, 1))


def at(day: dt.date, hour: int = 8) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def committee():
    group = Group.objects.get(name=roles.STEERING_COMMITTEE)
    members = [
        UserFactory(username="chu.tich@tinh.example", first_name="An"),
        UserFactory(username="pho.chu.tich@tinh.example", language="en"),
    ]
    UserFactory(username="nghi.huu@tinh.example", is_active=False).groups.add(group)
    for member in members:
        member.groups.add(group)
    TaskFactory(title="Số hóa hồ sơ", deadline=dt.date(2026, 5, 20))
    return members


def test_the_pack_goes_once_per_period_even_when_the_schedule_fires_twice(committee):
    first = report_send(period=MAY, now=at(dt.date(2026, 6, 1)))
    second = report_send(period=MAY, now=at(dt.date(2026, 6, 1), 9))
    assert (first.sent, second.sent, second.created) == (2, 0, 0)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "chu.tich@tinh.example",
        "pho.chu.tich@tinh.example",
    ]
    assert set(ReportDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_the_email_carries_the_pack_as_xlsx_and_docx(committee):
    report_send(period=MAY, now=at(dt.date(2026, 6, 1)))
    message = next(m for m in mail.outbox if m.to == ["chu.tich@tinh.example"])
    assert "05/2026" in message.subject
    names = [name for name, _content, _mime in message.attachments]
    assert names == ["dtiplan-bao-cao-2026-05.xlsx", "dtiplan-bao-cao-2026-05.docx"]
    workbook = openpyxl.load_workbook(io.BytesIO(message.attachments[0][1]))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    with translation.override("vi"):  # chu.tich reads Vietnamese
        assert list(rows[0]) == pack_headers()
    assert rows[1][1] == "Số hóa hồ sơ"
    english = next(m for m in mail.outbox if m.to == ["pho.chu.tich@tinh.example"])
    assert "report pack for 05/2026" in english.subject


def test_building_and_sending_the_pack_costs_the_same_queries_for_3_and_30_tasks(
    committee, django_assert_max_num_queries
):
    """Each task's row of the pack names its lead unit, its coordinating units, its last
    report, its pending extension, its completion and its evidence: annotations and one query
    for the coordinating units, not queries per task (the overdue sheet, the figures and the
    progress per indicator owner too)."""
    from plans.models import Assignment, Evidence, ExtensionRequest, ProgressUpdate
    from tests.factories import AssignmentFactory, UnitFactory

    counts = []
    for size in (3, 30):
        ReportDelivery.objects.all().delete()
        mail.outbox.clear()
        for count in range(Task.objects.filter(title__startswith="Nhiệm vụ").count(), size):
            task = TaskFactory(
                title=f"Nhiệm vụ {count}",
                deadline=dt.date(2026, 5, 1) + dt.timedelta(days=count % 60),
            )
            coordinating = UnitFactory(name=f"Sở phối hợp {count}")
            AssignmentFactory(task=task, unit=coordinating, role=Assignment.Role.COORDINATING)
            ProgressUpdate.objects.create(
                task=task, unit=task.lead_unit, percent=40, note=f"Báo cáo {count}"
            )
            Evidence.objects.create(task=task, unit=task.lead_unit, link="https://x.example")
            ExtensionRequest.objects.create(
                task=task,
                unit=task.lead_unit,
                previous_deadline=task.deadline,
                new_deadline=task.deadline + dt.timedelta(days=30),
                reason=f"Chờ kinh phí {count}",
            )
        with django_assert_max_num_queries(30) as captured:
            report_send(period=MAY, now=at(dt.date(2026, 6, 1)))
        counts.append(len(captured))
        message = next(m for m in mail.outbox if m.to == ["chu.tich@tinh.example"])
        workbook = openpyxl.load_workbook(io.BytesIO(message.attachments[0][1]))
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))[1:]
        assert len(rows) == size + 1  # and the committee fixture's task
        for n in range(size):
            (row,) = [r for r in rows if r[1] == f"Nhiệm vụ {n}"]
            assert row[4] == f"Sở phối hợp {n}" and f"Báo cáo {n}" in row[6]
            assert f"Chờ kinh phí {n}" in row[8] and "1 tệp hoặc đường dẫn" in row[9]
    assert counts[0] == counts[1], counts


def test_schedule_sends_on_the_first_working_day_only(committee):
    # 1 June 2026 is a Monday; 30 May a Saturday.
    assert monthly_report_send_due(now=at(dt.date(2026, 5, 30)))["period"] is None
    assert monthly_report_send_due(now=at(dt.date(2026, 6, 2)))["period"] is None
    assert mail.outbox == []
    assert monthly_report_send_due(now=at(dt.date(2026, 6, 1)))["period"] == "2026-05"
    assert len(mail.outbox) == 2
    monthly_report_send_due(now=at(dt.date(2026, 6, 1), 10))  # beat fired again
    assert len(mail.outbox) == 2


def test_a_day_off_moves_the_sending_day(settings):
    CalendarException.objects.create(date=dt.date(2026, 6, 1), kind="day_off")
    assert sending_day(dt.date(2026, 6, 1)) == dt.date(2026, 6, 2)
    settings.REPORTS_MONTHLY_WORKING_DAY = 3
    assert sending_day(dt.date(2026, 6, 1)) == dt.date(2026, 6, 4)
    # 1 August 2026 is a Saturday.
    settings.REPORTS_MONTHLY_WORKING_DAY = 1
    assert sending_day(dt.date(2026, 8, 1)) == dt.date(2026, 8, 3)


def test_a_quarterly_pack_goes_after_each_quarter_once_named_as_the_quarter(committee, settings):
    settings.REPORTS_PERIOD = "quarter"
    # 1 June: a month ends but no quarter; 1 July (a Wednesday): the second quarter's pack.
    assert monthly_report_send_due(now=at(dt.date(2026, 6, 1)))["period"] is None
    assert monthly_report_send_due(now=at(dt.date(2026, 7, 1)))["period"] == "2026-Q2"
    monthly_report_send_due(now=at(dt.date(2026, 7, 1), 10))  # beat fired again
    assert monthly_report_send_due(now=at(dt.date(2026, 8, 3)))["period"] is None
    assert len(mail.outbox) == 2
    vietnamese = next(m for m in mail.outbox if m.to == ["chu.tich@tinh.example"])
    assert "bộ báo cáo Quý II/2026" in vietnamese.subject
    assert "mỗi quý một lần" in vietnamese.body
    english = next(m for m in mail.outbox if m.to == ["pho.chu.tich@tinh.example"])
    assert "report pack for Q2 2026" in english.subject
    names = [name for name, _content, _mime in english.attachments]
    assert names == ["dtiplan-bao-cao-2026-Q2.xlsx", "dtiplan-bao-cao-2026-Q2.docx"]
    workbook = openpyxl.load_workbook(io.BytesIO(english.attachments[0][1]))
    assert workbook.sheetnames[0] == "Báo cáo quý"  # built in the site's language
    assert "Đơn vị phụ trách chỉ số" in workbook.sheetnames
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[1][1] == "Số hóa hồ sơ"  # due 20 May: within the quarter
    assert set(ReportDelivery.objects.values_list("period", "kind")) == {
        (dt.date(2026, 4, 1), "quarter")
    }


def test_julys_monthly_pack_and_the_third_quarters_are_two_periods(committee):
    july = Period(dt.date(2026, 7, 1))
    third_quarter = Period(dt.date(2026, 7, 1), "quarter")
    assert report_send(period=july, now=at(dt.date(2026, 8, 3))).sent == 2
    assert report_send(period=third_quarter, now=at(dt.date(2026, 10, 1))).sent == 2
    assert report_send(period=third_quarter, now=at(dt.date(2026, 10, 1), 9)).sent == 0
    assert len(mail.outbox) == 4


def test_the_pack_page_offers_quarters_when_the_pack_is_quarterly(committee, client, settings):
    settings.REPORTS_PERIOD = "quarter"
    member = committee[0]
    member.is_staff = True  # the admin's reports need a staff account
    member.save()
    client.force_login(member)
    client.cookies["django_language"] = "en"
    with time_machine.travel(at(dt.date(2026, 7, 15)), tick=False):
        page = client.get("/admin/reports/pack/")
        download = client.get("/admin/reports/pack/?period=2026-Q2&download=xlsx")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Quarterly pack" in text and 'value="2026-Q2" selected' in text
    assert "for Q2 2026" in text
    assert download["Content-Disposition"] == 'attachment; filename="dtiplan-bao-cao-2026-Q2.xlsx"'


def test_a_failed_send_is_recorded_and_retried_once(committee, settings):
    settings.EMAIL_BACKEND = "tests.test_monthly_report.BrokenBackend"
    result = report_send(period=MAY, now=at(dt.date(2026, 6, 1)))
    assert result.failed == 2
    row = ReportDelivery.objects.first()
    assert (row.status, row.attempts) == (Notification.Status.FAILED, 1)
    assert "mail server down" in row.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    again = report_send(period=MAY, now=at(dt.date(2026, 6, 1), 12))
    assert again.sent == 2
    assert len(mail.outbox) == 2


def test_send_report_command_dry_run_records_nothing(committee):
    out = io.StringIO()
    call_command("send_report", "--period", "2026-05", "--dry-run", stdout=out)
    assert "would send to chu.tich@tinh.example" in out.getvalue()
    assert not ReportDelivery.objects.exists()
    call_command("send_report", "--period", "2026-05", stdout=io.StringIO())
    call_command("send_report", "--period", "2026-05", stdout=io.StringIO())
    assert len(mail.outbox) == 2
    out = io.StringIO()
    call_command("send_report", "--period", "2026-05", "--dry-run", stdout=out)
    assert "already sent to chu.tich@tinh.example" in out.getvalue()


@pytest.mark.parametrize("door", ["command", "celery"])
def test_the_command_and_the_celery_task_read_now_alike(committee, door):
    """A bare date is the scheduled run at 08:00 that day; the pack is the month before."""
    from notifications.tasks import send_monthly_report

    if door == "command":
        call_command("send_report", "--now", "2026-06-01", stdout=io.StringIO())
    else:
        send_monthly_report(now="2026-06-01")
    rows = ReportDelivery.objects.all()
    assert {(row.report_period, row.created_at) for row in rows} == {(MAY, at(dt.date(2026, 6, 1)))}
    assert len(mail.outbox) == 2


def test_packs_are_claimed_a_bounded_batch_of_people_at_a_time(committee, settings, monkeypatch):
    """While the first pack is on its way, the next person's row is not yet claimed: another
    worker may take it, and a sender that dies strands at most one batch."""
    from notifications.report_outbox import ReportOutbox

    monkeypatch.setattr(ReportOutbox, "batch_recipients", 1)
    settings.EMAIL_BACKEND = "tests.test_monthly_report.WatchingBackend"
    WatchingBackend.seen = []
    result = report_send(period=MAY, now=at(dt.date(2026, 6, 1)))
    assert result.sent == 2
    assert WatchingBackend.seen == [
        [("chu.tich@tinh.example", "sending"), ("pho.chu.tich@tinh.example", "pending")],
        [("chu.tich@tinh.example", "sent"), ("pho.chu.tich@tinh.example", "sending")],
    ]


def test_a_member_who_left_the_committee_before_a_retry_is_not_sent_the_pack(committee, settings):
    settings.EMAIL_BACKEND = "tests.test_monthly_report.BrokenBackend"
    report_send(period=MAY, now=at(dt.date(2026, 6, 1)))  # the mail server is down: all fail
    left, switched_off = committee
    left.groups.clear()
    switched_off.is_active = False
    switched_off.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    newcomer = UserFactory(username="moi@tinh.example")
    newcomer.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    result = monthly_report_send_due(now=at(dt.date(2026, 6, 1), 12))  # the retry
    assert [m.to for m in mail.outbox] == [["moi@tinh.example"]]
    assert result["skipped"] == 2
    assert dict(ReportDelivery.objects.values_list("recipient_email", "status")) == {
        "chu.tich@tinh.example": "skipped",
        "pho.chu.tich@tinh.example": "skipped",
        "moi@tinh.example": "sent",
    }


class WatchingBackend(locmem.EmailBackend):
    """Notes every row's status at the moment each message is handed to the mail server."""

    seen: list[list[tuple[str, str]]] = []

    def send_messages(self, messages):
        WatchingBackend.seen.append(
            list(
                ReportDelivery.objects.order_by("recipient_email").values_list(
                    "recipient_email", "status"
                )
            )
        )
        return super().send_messages(messages)


class BrokenBackend:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def open(self) -> None:
        raise ConnectionRefusedError("mail server down")

    def close(self) -> None:
        pass


def test_the_pack_page_is_named_after_the_period_shown(committee, client, settings):
    settings.REPORTS_PERIOD = "month"
    member = committee[0]
    member.is_staff = True
    member.save()
    client.force_login(member)
    client.cookies["django_language"] = "en"
    with time_machine.travel(at(dt.date(2026, 7, 15)), tick=False):
        monthly = client.get("/admin/reports/pack/").content.decode()
        quarter = client.get("/admin/reports/pack/?period=2026-Q2").content.decode()
    assert "<h1>Monthly pack</h1>" in monthly
    assert "<h1>Quarterly pack</h1>" in quarter and 'value="2026-Q2" selected' in quarter


def test_the_pack_pages_first_rows_are_the_packs_first_rows():
    """The preview picks its rows on its own (on PostgreSQL through task_pack_order, without
    sorting every task): the same rows, in the same order, as the pack itself."""
    today = dt.date(2026, 7, 1)
    later = PlanFactory(year=2027, status=Plan.Status.ACTIVE)
    first = PlanFactory(year=2026, status=Plan.Status.ACTIVE)
    closed = PlanFactory(year=2025, status=Plan.Status.CLOSED)
    n = 0
    for plan in (later, first, closed):
        for code in ("8", "1", "4"):
            for days, status in ((30, "new"), (5, "in_progress"), (1, "draft"), (2, "cancelled")):
                n += 1
                TaskFactory(
                    plan=plan,
                    indicator=main_indicator(code),
                    title=f"Nhiệm vụ {n}",
                    status=status,
                    deadline=today + dt.timedelta(days=days),
                )
    now = at(today)
    whole = [row[1] for row in pack_rows(now)]
    # The work tasks of the plans not closed: by plan year, then indicator, then deadline.
    assert len(whole) == 12 and whole[:2] == ["Nhiệm vụ 18", "Nhiệm vụ 17"]
    for limit in (1, 5, 7, 50):
        assert [row[1] for row in pack_rows(now, limit=limit)] == whole[:limit]

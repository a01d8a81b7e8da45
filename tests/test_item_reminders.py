"""Reminders for the self-assessment's items: the same sweep, outbox and digest as the tasks'.

A unit's items not submitted are reminded 7, 3 and 1 working days before the round's internal
deadline, then overdue on the task cadence, escalated to the unit's head and the coordinators;
an item returned to the unit is reminded once per return; a submitted or accepted one is not.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from notifications.models import Notification
from notifications.services import notifications_create_due, reminders_send_due
from plans import roles
from plans.models import SelfAssessmentItem, UnitMembership
from plans.self_assessment import (
    self_assessment_accept,
    self_assessment_close,
    self_assessment_open,
    self_assessment_return,
    self_assessment_save,
    self_assessment_submit,
)
from plans.services import indicator_owner_set
from tests.factories import (
    ComponentIndicatorFactory,
    PlanFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    focal_point_of,
)

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = 2023
DEADLINE = dt.date(2024, 1, 15)  # a Monday
Rule = Notification.Rule


def at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=HCM)


@pytest.fixture
def unit():
    return UnitFactory(name="Sở Nội vụ", email="")


@pytest.fixture
def focal(unit):
    return focal_point_of(unit, "dau.moi@snv.example", email="dau.moi@snv.example")


@pytest.fixture
def head(unit):
    user = UserFactory(username="giam.doc@snv.example", email="giam.doc@snv.example")
    UnitMembership.objects.create(unit=unit, user=user, role=UnitMembership.Role.HEAD)
    return user


@pytest.fixture
def coordinator():
    user = UserFactory(username="dti@skhcn.example", email="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    return user


@pytest.fixture
def item(unit, focal, coordinator) -> SelfAssessmentItem:
    """The round of YEAR, with the unit presiding over component 7.1 (the only owned item)."""
    component = ComponentIndicatorFactory(code="7.1", max_points=Decimal("10"))
    plan = PlanFactory(year=YEAR)
    indicator_owner_set(plan=plan, indicator=component, presiding_unit=unit)
    self_assessment_open(year=YEAR, deadline=DEADLINE, by=coordinator, plan=plan)
    return SelfAssessmentItem.objects.get(unit=unit)


def rows_to(email: str) -> list[tuple[str, int]]:
    return sorted(
        Notification.objects.filter(recipient_email=email, item__isnull=False).values_list(
            "rule", "step"
        )
    )


def mails_to(email: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if email in m.to]


def test_the_late_unit_is_reminded_once_per_step(item, focal):
    # 7 working days before the Monday deadline: Thursday 4 January.
    reminders_send_due(now=at(dt.date(2024, 1, 4)))
    reminders_send_due(now=at(dt.date(2024, 1, 4), hour=9))
    assert rows_to(focal.email) == [(Rule.ITEM_DUE_SOON, 1)]
    assert len(mails_to(focal.email)) == 1
    message = mails_to(focal.email)[0]
    assert "7.1" in message.body and "15/01/2024" in message.body
    assert message.subject.startswith("[dtiplan]")

    reminders_send_due(now=at(dt.date(2024, 1, 10)))  # 3 working days before
    reminders_send_due(now=at(dt.date(2024, 1, 12)))  # 1 working day before
    reminders_send_due(now=at(dt.date(2024, 1, 12), hour=10))
    assert rows_to(focal.email) == [
        (Rule.ITEM_DUE_SOON, 1),
        (Rule.ITEM_DUE_SOON, 2),
        (Rule.ITEM_DUE_SOON, 3),
    ]
    assert len(mails_to(focal.email)) == 3

    reminders_send_due(now=at(dt.date(2024, 1, 16)))  # a day late
    reminders_send_due(now=at(dt.date(2024, 1, 16), hour=9))
    assert (Rule.ITEM_OVERDUE, 1) in rows_to(focal.email)
    assert len(mails_to(focal.email)) == 4


def test_escalation_reaches_the_units_head_then_the_coordinators(item, focal, head, coordinator):
    reminders_send_due(now=at(dt.date(2024, 1, 22)))  # 7 days late
    assert rows_to(head.email) == [(Rule.ITEM_ESCALATE_HEAD, 1)]
    assert rows_to(coordinator.email) == []
    assert (Rule.ITEM_OVERDUE, 2) in rows_to(focal.email)
    reminders_send_due(now=at(dt.date(2024, 1, 29)))  # 14 days late
    assert (Rule.ITEM_ESCALATE_COORDINATORS, 1) in rows_to(coordinator.email)
    assert len(mails_to(head.email)) == 1
    # The coordinators are asked to follow the unit up, not to fill the item in.
    to_coordinator = mails_to(coordinator.email)[0].body
    assert "đôn đốc" in to_coordinator and "Đề nghị nhập điểm" not in to_coordinator


def test_a_returned_item_reminds_its_unit_once_per_return(item, focal, coordinator):
    self_assessment_save(item=item, by=focal, points="8", figures="8/10")
    self_assessment_submit(item=item, by=focal, now=at(dt.date(2024, 1, 2)))
    self_assessment_return(
        item=item, by=coordinator, comment="Bổ sung minh chứng", now=at(dt.date(2024, 1, 3))
    )
    reminders_send_due(now=at(dt.date(2024, 1, 3), hour=10))
    reminders_send_due(now=at(dt.date(2024, 1, 3), hour=11))
    assert rows_to(focal.email) == [(Rule.ITEM_RETURNED, 1)]
    assert len(mails_to(focal.email)) == 1
    assert "Bổ sung minh chứng" in mails_to(focal.email)[0].body


def test_a_submitted_or_accepted_item_is_not_reminded(item, focal, head, coordinator):
    self_assessment_save(item=item, by=focal, points="8", figures="8/10")
    self_assessment_submit(item=item, by=focal)
    reminders_send_due(now=at(dt.date(2024, 1, 12)))
    self_assessment_accept(item=item, by=coordinator)
    reminders_send_due(now=at(dt.date(2024, 1, 29)))
    assert not Notification.objects.filter(item=item).exists()
    assert rows_to(focal.email) == [] and rows_to(head.email) == []


def test_a_closed_round_sends_no_reminders(item, focal, head, coordinator):
    notifications_create_due(now=at(dt.date(2024, 1, 4)))  # recorded, not yet sent
    self_assessment_close(round=item.round, by=coordinator, now=at(dt.date(2024, 1, 4), 8))
    report = reminders_send_due(now=at(dt.date(2024, 1, 4), hour=9))
    assert report.rows_skipped == 1 and mail.outbox == []
    for day in (dt.date(2024, 1, 16), dt.date(2024, 1, 29), dt.date(2024, 6, 3)):
        reminders_send_due(now=at(day))
    assert mail.outbox == []
    assert list(Notification.objects.filter(item=item).values_list("rule", "status")) == [
        (Rule.ITEM_DUE_SOON, Notification.Status.SKIPPED)
    ]


def test_an_item_submitted_before_the_row_was_sent_is_skipped(item, focal):
    notifications_create_due(now=at(dt.date(2024, 1, 4)))
    assert rows_to(focal.email) == [(Rule.ITEM_DUE_SOON, 1)]
    self_assessment_save(item=item, by=focal, points="8", figures="8/10")
    self_assessment_submit(item=item, by=focal)
    report = reminders_send_due(now=at(dt.date(2024, 1, 4), hour=9))
    assert report.rows_skipped == 1
    assert mails_to(focal.email) == []
    row = Notification.objects.get(item=item)
    assert row.status == Notification.Status.SKIPPED


def test_items_and_tasks_share_one_digest(item, unit, focal):
    TaskFactory(
        lead_unit=unit,
        start_date=dt.date(2023, 6, 1),
        deadline=dt.date(2024, 1, 3),
        title="Số hóa hồ sơ",
    )
    reminders_send_due(now=at(dt.date(2024, 1, 4)))
    assert len(mails_to(focal.email)) == 1
    message = mails_to(focal.email)[0]
    assert "Số hóa hồ sơ" in message.body and "7.1" in message.body
    assert message.subject == (
        "[dtiplan] Nhắc việc: 1 nhiệm vụ (1 quá hạn) và 1 mục tự đánh giá cần chú ý"
    )


def test_the_subject_of_a_mixed_digest_counts_tasks_and_items_in_english(item, unit, focal):
    focal.language = "en"
    focal.save()
    component = ComponentIndicatorFactory(code="7.2", max_points=Decimal("5"))
    SelfAssessmentItem.objects.create(
        round=item.round, indicator=component, unit=unit, max_points=Decimal("5")
    )
    TaskFactory(lead_unit=unit, start_date=dt.date(2023, 6, 1), deadline=dt.date(2024, 1, 5))
    reminders_send_due(now=at(dt.date(2024, 1, 4)))
    assert [m.subject for m in mails_to(focal.email)] == [
        "[dtiplan] Reminder: 1 task and 2 self-assessment items need your attention"
    ]


def test_a_row_is_about_a_task_or_an_item_once_per_step(item, focal):
    notifications_create_due(now=at(dt.date(2024, 1, 4)))
    row = Notification.objects.get(item=item)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            item=item,
            rule=row.rule,
            step=row.step,
            anchor_date=row.anchor_date,
            recipient_email=row.recipient_email,
            created_at=row.created_at,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            rule=row.rule,
            step=2,
            anchor_date=row.anchor_date,
            recipient_email=row.recipient_email,
            created_at=row.created_at,
        )


def test_item_reminders_keep_the_sweeps_query_count(item, focal, django_assert_max_num_queries):
    """The items cost one query in the sweep and none per item: 1 and 30 items the same.
    (8 of the 35 are the last complete sweep's mark: read, changes, triggers, and the
    transaction that moves it on.)"""
    for extra in range(29):
        component = ComponentIndicatorFactory(code=f"7.{extra + 2}", max_points=Decimal("5"))
        SelfAssessmentItem.objects.create(
            round=item.round, indicator=component, unit=item.unit, max_points=Decimal("5")
        )
    with django_assert_max_num_queries(35):
        report = reminders_send_due(now=at(dt.date(2024, 1, 4)))
    assert report.rows_sent == 30


def test_the_inbox_lists_an_item_reminder_linking_to_the_item(item, focal, client):
    notifications_create_due(now=at(dt.date(2024, 1, 4)))
    client.force_login(focal)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert item.get_absolute_url() in page and "7.1" in page


def test_the_admins_delivery_log_names_the_item(item, focal, admin_client):
    notifications_create_due(now=at(dt.date(2024, 1, 4)))
    page = admin_client.get(reverse("admin:notifications_notification_changelist"))
    assert page.status_code == 200
    assert "2023 – 7.1" in page.content.decode()


def test_the_dry_run_lists_item_reminders_and_records_nothing(item, focal, capsys):
    call_command("send_reminders", "--dry-run", "--now", "2024-01-04")
    out = capsys.readouterr().out
    assert "dau.moi@snv.example: 1" in out
    assert "[7.1]" in out and "15/01/2024" in out and "Sở Nội vụ" in out
    assert Notification.objects.count() == 0


def test_the_admins_preview_lists_item_reminders(item, focal, admin_client):
    # The next working day's sweep: by the machine's clock the 2024 round is long overdue.
    page = admin_client.get(reverse("admin:notifications_notification_preview"))
    assert page.status_code == 200
    assert f"/selfassessmentitem/{item.pk}/" in page.content.decode()

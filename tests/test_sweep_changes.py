"""The same-day sweep that finds nothing changed derives nothing; any change to what the
reminders are derived from, however it is written, still yields its step in the next sweep of
the same day (notifications.changes)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications import services
from notifications.changes import SweepMarker, triggers_installed
from notifications.models import (
    CalendarException,
    Notification,
    ReminderPolicy,
    SweepChange,
    SweepMark,
)
from notifications.services import notifications_create_due, reminders_send_due
from notifications.sweep import Audiences, SweepReport, reminders_due
from plans import roles
from plans.models import (
    Acknowledgement,
    Assignment,
    CompletionSubmission,
    ExtensionRequest,
    Plan,
    ProgressUpdate,
    SelfAssessmentItem,
    SelfAssessmentRound,
    Task,
    Unit,
    UnitMembership,
)
from plans.self_assessment import self_assessment_open
from plans.services import indicator_owner_set
from tests.factories import (
    FocalPointFactory,
    PlanFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = dt.date(2026, 7, 1)  # a Wednesday
DEADLINE = dt.date(2026, 6, 30)
Rule = Notification.Rule


def at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=HCM)


def rows(**filters: object) -> set[tuple[str, int]]:
    return set(Notification.objects.filter(**filters).values_list("rule", "step"))


@pytest.fixture
def world() -> SimpleNamespace:
    """An overdue task (acknowledged by its lead unit, reported on 40 and 5 days ago), a task
    due soon, a task of a plan still in draft, another unit with a focal point and no role, a
    unit nobody can be told at, a coordinator, a self-assessment item due in December; then a
    complete sweep at 08:00."""
    lead = UnitFactory(name="Sở Nội vụ")
    FocalPointFactory(unit=lead, user=UserFactory(username="an@noivu.example"))
    other = UnitFactory(name="Sở Tư pháp")
    FocalPointFactory(unit=other, user=UserFactory(username="binh@stp.example"))
    silent = UnitFactory(name="Sở Xây dựng", email="")
    coordinator = UserFactory(username="dti@skhcn.example", is_staff=True)
    coordinator.groups.add(Group.objects.get(name=roles.COORDINATOR))

    task = TaskFactory(lead_unit=lead, deadline=DEADLINE, title="Số hóa hồ sơ")
    Task.objects.filter(pk=task.pk).update(created_at=at(DAY - dt.timedelta(days=60)))
    Acknowledgement.objects.create(task=task, unit=lead, at=at(DAY - dt.timedelta(days=59)))
    for days in (40, 5):
        ProgressUpdate.objects.create(
            task=task, unit=lead, percent=100 - days, created_at=at(DAY - dt.timedelta(days=days))
        )
    soon = TaskFactory(plan=task.plan, lead_unit=lead, deadline=dt.date(2026, 7, 3))
    drafted = TaskFactory(
        plan=PlanFactory(status=Plan.Status.DRAFT), lead_unit=lead, deadline=DEADLINE
    )
    unheard = TaskFactory(plan=task.plan, lead_unit=silent, deadline=DEADLINE)

    assessed = PlanFactory(year=2023)
    indicator_owner_set(plan=assessed, indicator=task.indicator, presiding_unit=lead)
    self_assessment_open(year=2023, deadline=dt.date(2026, 12, 31), by=coordinator, plan=assessed)

    first = reminders_send_due(now=at(DAY))
    assert first.created and first.rows_sent == first.created
    assert SweepMark.objects.get().day == DAY and not SweepChange.objects.exists()
    assert notifications_create_due(now=at(DAY, 9)) == []
    return SimpleNamespace(
        task=task,
        soon=soon,
        drafted=drafted,
        unheard=unheard,
        lead=lead,
        other=other,
        silent=silent,
        item=SelfAssessmentItem.objects.get(unit=lead),
    )


def _deadline_updated(w):
    Task.objects.filter(pk=w.task.pk).update(deadline=DAY - dt.timedelta(days=7))
    return {"task": w.task, "anchor_date": DAY - dt.timedelta(days=7), "rule": Rule.OVERDUE}


def _task_bulk_created(w):
    [new] = Task.objects.bulk_create(
        [TaskFactory.build(plan=w.task.plan, indicator=w.task.indicator, lead_unit=w.lead)]
    )
    return {"task": new, "rule": Rule.OVERDUE}


def _acknowledgement_deleted(w):
    Acknowledgement.objects.filter(task=w.task).delete()
    return {"task": w.task, "rule": Rule.NOT_ACKNOWLEDGED, "step": w.lead.pk}


def _unit_given_a_role(w):
    Assignment.objects.bulk_create(
        [Assignment(task=w.task, unit=w.other, role=Assignment.Role.IMPLEMENTING)]
    )
    return {"task": w.task, "rule": Rule.NOT_ACKNOWLEDGED, "step": w.other.pk}


def _last_report_deleted(w):
    ProgressUpdate.objects.filter(created_at__gte=at(DAY - dt.timedelta(days=10))).delete()
    return {"task": w.task, "rule": Rule.NO_PROGRESS}


def _extension_requested(w):
    ExtensionRequest.objects.create(
        task=w.task,
        unit=w.lead,
        requested_at=at(DAY - dt.timedelta(days=10)),
        previous_deadline=DEADLINE,
        new_deadline=DEADLINE + dt.timedelta(days=30),
        reason="Chờ kinh phí",
    )
    return {"task": w.task, "rule": Rule.WAITING_DECISION}


def _completion_submitted(w):
    CompletionSubmission.objects.bulk_create(
        [
            CompletionSubmission(
                task=w.task,
                unit=w.lead,
                submitted_at=at(DAY - dt.timedelta(days=10)),
                document_date=DAY - dt.timedelta(days=10),
                document_number="12/BC-SNV",
                summary="Đã hoàn thành",
            )
        ]
    )
    return {"task": w.task, "rule": Rule.WAITING_DECISION}


def _policy_edited(w):
    ReminderPolicy.objects.update(escalate_head_after_days=1)
    return {"task": w.task, "rule": Rule.ESCALATE_HEAD}


def _day_off_announced(w):
    # The day before the deadline is off: the last "due soon" step is due today instead.
    CalendarException.objects.create(date=DAY + dt.timedelta(days=1), kind="day_off")
    return {"task": w.soon, "rule": Rule.DUE_SOON, "step": 3}


def _plan_put_in_force(w):
    Plan.objects.filter(pk=w.drafted.plan_id).update(status=Plan.Status.ACTIVE)
    return {"task": w.drafted, "rule": Rule.OVERDUE}


def _recorded_row_deleted(w):
    Notification.objects.filter(task=w.task, rule=Rule.OVERDUE).delete()
    return {"task": w.task, "rule": Rule.OVERDUE}


def _unit_mailbox_set(w):
    Unit.objects.filter(pk=w.silent.pk).update(email="xaydung@tinh.example")
    return {"task": w.unheard, "rule": Rule.OVERDUE, "recipient_email": "xaydung@tinh.example"}


def _focal_point_added(w):
    user = UserFactory(username="chi@xaydung.example")
    UnitMembership.objects.bulk_create(
        [UnitMembership(unit=w.silent, user=user, role=UnitMembership.Role.FOCAL_POINT)]
    )
    return {"task": w.unheard, "rule": Rule.OVERDUE, "recipient_email": "chi@xaydung.example"}


def _round_deadline_moved(w):
    SelfAssessmentRound.objects.update(deadline=DEADLINE)
    return {"item": w.item, "rule": Rule.ITEM_OVERDUE}


def _item_returned(w):
    SelfAssessmentItem.objects.filter(pk=w.item.pk).update(
        status=SelfAssessmentItem.Status.RETURNED,
        reviewed_at=at(DAY - dt.timedelta(days=1)),
        review_comment="Thiếu minh chứng",
    )
    return {"item": w.item, "rule": Rule.ITEM_RETURNED}


CHANGES: list[Callable[[SimpleNamespace], dict]] = [
    _deadline_updated,
    _task_bulk_created,
    _acknowledgement_deleted,
    _unit_given_a_role,
    _last_report_deleted,
    _extension_requested,
    _completion_submitted,
    _policy_edited,
    _day_off_announced,
    _plan_put_in_force,
    _recorded_row_deleted,
    _unit_mailbox_set,
    _focal_point_added,
    _round_deadline_moved,
    _item_returned,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_a_change_after_a_complete_sweep_yields_its_step_the_same_day(world, change):
    expected = change(world)
    assert not Notification.objects.filter(**expected).exists()
    notifications_create_due(now=at(DAY, 14))
    assert Notification.objects.filter(**expected).exists()
    # Recorded once: the next sweep is idle again.
    assert notifications_create_due(now=at(DAY, 15)) == []


def test_the_idle_sweep_reads_no_task_nor_recorded_row(world):
    with CaptureQueriesContext(connection) as captured:
        report = reminders_send_due(now=at(DAY, 14))
    assert (report.due, report.created, report.emails_sent) == (0, 0, 0)
    tables = (
        '"plans_task"',
        '"plans_assignment"',
        '"plans_acknowledgement"',
        '"plans_progressupdate"',
    )
    read = [q["sql"] for q in captured if any(t in q["sql"] for t in tables)]
    assert read == []
    derived = [q["sql"] for q in captured if '"notifications_notification"' in q["sql"]]
    # Only the delivery's pick of addresses still to send (the partial index), none found.
    assert len(derived) == 1 and "DISTINCT" in derived[0]
    assert len(captured) <= 10


def test_a_change_after_one_rolled_back_in_the_same_transaction_is_seen(world):
    with transaction.atomic():
        try:
            with transaction.atomic():
                Task.objects.filter(pk=world.task.pk).update(title="Bản nháp")
                raise RuntimeError
        except RuntimeError:
            pass
        Task.objects.filter(pk=world.task.pk).update(deadline=DAY - dt.timedelta(days=7))
    notifications_create_due(now=at(DAY, 14))
    assert rows(task=world.task, anchor_date=DAY - dt.timedelta(days=7))


def drop_task_trigger() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER dtiplan_sweep_change ON plans_task")
        else:
            cursor.execute("DROP TRIGGER dtiplan_sweep_change_plans_task_update")


def test_without_its_triggers_the_sweep_derives_in_full(world):
    drop_task_trigger()
    assert not triggers_installed()
    Task.objects.filter(pk=world.task.pk).update(deadline=DAY - dt.timedelta(days=7))
    assert not SweepChange.objects.exists()  # the change went unrecorded
    notifications_create_due(now=at(DAY, 14))
    assert rows(task=world.task, anchor_date=DAY - dt.timedelta(days=7))


def test_a_release_puts_the_triggers_back_and_unsets_the_mark(world):
    """What a change written while a trigger was missing (a table rebuilt by a migration on
    SQLite) needs: ``migrate`` installs the triggers again and the next sweep derives."""
    drop_task_trigger()
    Task.objects.filter(pk=world.task.pk).update(deadline=DAY - dt.timedelta(days=7))
    call_command("migrate", verbosity=0)
    assert triggers_installed() and SweepMark.objects.get().day is None
    notifications_create_due(now=at(DAY, 14))
    assert rows(task=world.task, anchor_date=DAY - dt.timedelta(days=7))
    assert notifications_create_due(now=at(DAY, 15)) == []


def test_a_sweep_that_fails_before_its_rows_are_in_leaves_the_change_for_the_next(
    world, monkeypatch
):
    _policy_edited(world)

    def fails(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "rows_insert_counted", fails)
    with pytest.raises(RuntimeError):
        notifications_create_due(now=at(DAY, 14))
    monkeypatch.undo()
    assert SweepChange.objects.exists()
    notifications_create_due(now=at(DAY, 15))
    assert rows(task=world.task, rule=Rule.ESCALATE_HEAD)


def test_a_sweep_that_raced_another_does_not_claim_the_day(world):
    """Today's sweep derives; a change comes; a replay of another day sees it, records and
    completes; today's sweep then records what it derived, without the change. It must not mark
    the day complete (the replay removed the change's trace): the next sweep looks again."""
    audiences, mark = Audiences(), SweepMarker()
    _policy_edited(world)  # something to derive, so today's sweep does not skip
    due = reminders_due(now=at(DAY, 14), audiences=audiences, mark=mark)
    Task.objects.filter(pk=world.task.pk).update(deadline=DAY - dt.timedelta(days=7))
    notifications_create_due(now=at(DAY - dt.timedelta(days=2)))  # Monday, replayed
    services._record(due, at(DAY, 14), SweepReport())
    with transaction.atomic():
        audiences.save()
        mark.complete()
    assert SweepMark.objects.get().day is None
    notifications_create_due(now=at(DAY, 15))
    assert rows(task=world.task, anchor_date=DAY - dt.timedelta(days=7))


def test_a_replay_of_another_day_does_not_make_today_idle(world):
    Task.objects.filter(pk=world.task.pk).update(deadline=DAY - dt.timedelta(days=7))
    call_command("send_reminders", "--now", "2026-06-29", stdout=io.StringIO())
    assert not SweepChange.objects.exists()  # the replay saw the change, for its own day
    notifications_create_due(now=at(DAY, 14))
    assert rows(task=world.task, anchor_date=DAY - dt.timedelta(days=7))


def test_a_dry_run_changes_nothing(world):
    _policy_edited(world)
    call_command("send_reminders", "--dry-run", "--now", "2026-07-01T14:00", stdout=io.StringIO())
    assert SweepChange.objects.exists() and not rows(rule=Rule.ESCALATE_HEAD)
    notifications_create_due(now=at(DAY, 15))
    assert rows(task=world.task, rule=Rule.ESCALATE_HEAD)

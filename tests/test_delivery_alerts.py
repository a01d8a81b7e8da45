"""A pack delivery that keeps failing is shown to the coordinators, with its error, on the
admin's index; so are reminders that keep failing. Before, a pack that could never be sent (an
attachment the server refused, a broken export) was retried every 15 minutes unnoticed."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest
from django.contrib.auth.models import Group
from django.core.mail.backends import locmem
from django.utils import timezone

from notifications.models import FAILING_AFTER_ATTEMPTS, Notification, ReportDelivery
from notifications.services import report_deliveries_deliver, report_send
from plans import roles
from plans.periods import Period
from tests.factories import TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

MAY = Period(dt.date(2026, 5, 1))
ERROR = "Message rejected: attachment <too large> for this server"


class RefusingBackend(locmem.EmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPDataError(554, ERROR)


def in_group(group: str, **fields) -> object:
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def failing_pack(settings):
    """The pack to one member, refused by the mail server at every attempt."""
    in_group(roles.STEERING_COMMITTEE, username="chu.tich@tinh.example")
    TaskFactory(title="Số hóa hồ sơ", deadline=dt.date(2026, 5, 20))
    settings.EMAIL_BACKEND = "tests.test_delivery_alerts.RefusingBackend"
    now = timezone.make_aware(dt.datetime(2026, 6, 1, 8))
    report_send(period=MAY, now=now)
    return now


def retry(now: dt.datetime, times: int) -> None:
    for hour in range(1, times + 1):
        report_deliveries_deliver(now=now + dt.timedelta(hours=6 * hour))


def test_a_pack_that_keeps_failing_is_shown_to_coordinators_with_its_error(client, failing_pack):
    coordinator = in_group(roles.COORDINATOR, username="dti@skhcn.example")
    client.force_login(coordinator)

    retry(failing_pack, FAILING_AFTER_ATTEMPTS - 2)
    assert "delivery-alert" not in client.get("/admin/").content.decode(), (
        "a passing failure is not an alert yet"
    )

    retry(failing_pack + dt.timedelta(days=1), 1)
    row = ReportDelivery.objects.get()
    assert (row.status, row.attempts) == ("failed", FAILING_AFTER_ATTEMPTS)
    page = client.get("/admin/").content.decode()
    assert "delivery-alert" in page
    assert "05/2026 → chu.tich@tinh.example" in page
    assert "Message rejected: attachment &lt;too large&gt; for this server" in page
    assert "/admin/notifications/reportdelivery/?status__exact=failed" in page


def test_the_alert_is_for_coordinators_only(client, failing_pack):
    retry(failing_pack, FAILING_AFTER_ATTEMPTS)
    member = in_group(roles.STEERING_COMMITTEE, username="pho.chu.tich@tinh.example")
    client.force_login(member)
    assert "delivery-alert" not in client.get("/admin/").content.decode()


def test_reminders_that_keep_failing_are_shown_with_the_latest_error(client):
    coordinator = in_group(roles.COORDINATOR, username="dti@skhcn.example")
    task = TaskFactory()
    for n, attempts in enumerate([FAILING_AFTER_ATTEMPTS, FAILING_AFTER_ATTEMPTS + 2, 1]):
        Notification.objects.create(
            task=task,
            rule=Notification.Rule.OVERDUE,
            step=1,
            anchor_date=task.deadline,
            recipient_email=f"p{n}@tinh.example",
            created_at=timezone.now(),
            status=Notification.Status.FAILED,
            attempts=attempts,
            last_error=f"SMTPServerDisconnected: try {n}",
            next_attempt_at=timezone.now() + dt.timedelta(minutes=n),
        )
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    page = client.get("/admin/").content.decode()
    assert "2 reminders keep failing to be sent" in page
    assert "SMTPServerDisconnected: try 1" in page

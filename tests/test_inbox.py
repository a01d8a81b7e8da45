"""The portal's notifications page: a person sees their own reminders and an unread count."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications.models import Notification
from notifications.services import reminders_send_due
from tests.factories import FocalPointFactory, TaskFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def two_people():
    """Two units with one overdue task each; each focal point is reminded of their own."""
    a, b = UnitFactory(name="Sở Y tế"), UnitFactory(name="Sở Giáo dục")
    ana = FocalPointFactory(unit=a, user=UserFactory(username="ana@syt.example")).user
    bao = FocalPointFactory(unit=b, user=UserFactory(username="bao@sgd.example")).user
    TaskFactory(lead_unit=a, deadline=dt.date(2026, 6, 29), title="Bệnh án điện tử")
    TaskFactory(lead_unit=b, deadline=dt.date(2026, 6, 29), title="Học bạ số")
    reminders_send_due(now=dt.datetime(2026, 7, 1, 8, tzinfo=HCM))
    return ana, bao


def test_person_sees_only_their_own_notifications_with_an_unread_count(client, two_people):
    ana, _bao = two_people
    client.force_login(ana)
    page = client.get("/notifications/").content.decode()
    assert "Bệnh án điện tử" in page
    assert "Học bạ số" not in page
    home = client.get("/").content.decode()
    assert 'class="badge" aria-label="1 ' in home


def test_mark_as_read_clears_the_count_and_cannot_touch_anothers(client, two_people):
    ana, bao = two_people
    theirs = Notification.objects.get(recipient=bao)
    client.force_login(ana)
    client.post("/notifications/read/", {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None  # someone else's row: nothing happens

    mine = Notification.objects.get(recipient=ana)
    response = client.post("/notifications/read/", {"id": mine.pk})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'class="badge"' not in client.get("/").content.decode()


def test_mark_all_as_read(client, two_people):
    ana, _bao = two_people
    client.force_login(ana)
    client.post("/notifications/read/")
    assert not Notification.objects.for_person(ana).unread().exists()


def test_inbox_needs_a_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_mark_read_refuses_get(client, two_people):
    client.force_login(two_people[0])
    assert client.get("/notifications/read/").status_code == 405


def test_the_inbox_costs_the_same_queries_for_3_and_15_decisions(
    client, django_assert_max_num_queries
):
    """Each decision row says who decided: the deciders load with the requests (one query
    per kind of request), not one per row. Session, user, the rows' count and page, the
    requests decided, the user's permissions (two), the unread count (the menu)."""
    from django.contrib.auth.models import Group

    from notifications.services import events_record
    from plans import roles, services

    coordinator = UserFactory(username="dti@skhcn.example", first_name="Minh", last_name="Trần")
    coordinator.groups.add(Group.objects.get(name=roles.COORDINATOR))
    counts = []
    for size in (3, 15):
        unit = UnitFactory()
        person = FocalPointFactory(unit=unit).user
        for n in range(size):
            task = TaskFactory(
                lead_unit=unit,
                title=f"Nhiệm vụ {size}-{n}",
                deadline=timezone.localdate() + dt.timedelta(days=10),
            )
            request = services.extension_request(
                task=task,
                unit=unit,
                by=None,
                new_deadline=task.deadline + dt.timedelta(days=30),
                reason="Chờ kinh phí",
            )
            services.extension_decide(
                request=request, by=coordinator, approve=False, note="Thiếu căn cứ"
            )
        events_record()
        client.force_login(person)
        with django_assert_max_num_queries(8) as captured:
            page = client.get("/notifications/").content.decode()
        assert all(f"Nhiệm vụ {size}-{n}<" in page for n in range(size))
        assert page.count("người quyết định: Trần Minh") == size
        counts.append(len(captured))
    assert counts[0] == counts[1], counts

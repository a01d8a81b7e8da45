"""Accounts: a focal point created by an import activates it; a coordinator cannot take over a
stronger account."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from unittest.mock import patch

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import PasswordResetMail
from notifications.services import password_resets_deliver
from notifications.tasks import deliver_notifications
from plans import roles
from plans.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.mark.parametrize("reset_url", ["/accounts/password_reset/", "/admin/password_reset/"])
def test_focal_point_created_by_a_unit_import_activates_the_account(client, reset_url):
    call_command(
        "import", "plans.resources.UnitResource", str(EXAMPLES / "units.csv"), "--no-input"
    )
    person = User.objects.get(email="an.nguyen@tinh.example")
    assert not person.has_usable_password()

    response = client.post(reset_url, {"email": "An.Nguyen@tinh.example"})
    assert response.status_code == 302
    assert mail.outbox == [], "the e-mail goes from the background, not the request"
    password_resets_deliver()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["an.nguyen@tinh.example"]

    link = re.search(r"https?://[^/]+(/\S+/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    new = "Ha-Noi-2026-chuyen-doi-so"
    done = client.post(set_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    signed_in = client.post("/accounts/login/", {"username": person.username, "password": new})
    assert signed_in.status_code == 302


def test_an_imported_focal_point_is_told_by_name_how_to_activate_the_account(client):
    person = User.objects.create(
        username="an.nguyen@tinh.example",
        email="an.nguyen@tinh.example",
        first_name="An",
        last_name="Nguyễn Văn",
    )
    person.set_unusable_password()
    person.save()
    client.post("/accounts/password_reset/", {"email": "an.nguyen@tinh.example"})
    password_resets_deliver()
    (message,) = mail.outbox
    assert message.subject == "[dtiplan] Kích hoạt tài khoản"
    assert message.body.startswith("Kính gửi Nguyễn Văn An,")
    assert "Để kích hoạt tài khoản" in message.body
    assert "Tên đăng nhập của anh/chị là địa chỉ thư điện tử: an.nguyen@tinh.example" in (
        message.body
    )


def test_a_password_reset_is_worded_as_a_reset(client):
    UserFactory(username="lan@stc.example", first_name="Lan", last_name="Trần Thị")
    client.post("/accounts/password_reset/", {"email": "lan@stc.example"})
    password_resets_deliver()
    (message,) = mail.outbox
    assert message.subject == "[dtiplan] Đặt lại mật khẩu"
    assert "Kính gửi Trần Thị Lan," in message.body and "kích hoạt" not in message.body


def test_switched_off_account_gets_no_reset_email(client):
    UserFactory(username="cu@tinh.example", is_active=False)
    client.post("/accounts/password_reset/", {"email": "cu@tinh.example"})
    password_resets_deliver()
    assert mail.outbox == []


@pytest.fixture
def coordinator(client):
    user = UserFactory(username="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    return user


def test_coordinator_cannot_reset_or_edit_a_superusers_account(client, coordinator):
    boss = User.objects.create_superuser("root", "root@tinh.example", "s3cret-Original!")
    response = client.post(
        f"/admin/plans/user/{boss.pk}/password/",
        {"password1": "Taken-Over-2026!", "password2": "Taken-Over-2026!"},
    )
    assert response.status_code == 403
    response = client.post(f"/admin/plans/user/{boss.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    boss.refresh_from_db()
    assert boss.check_password("s3cret-Original!")


def test_coordinator_cannot_take_over_a_steering_committee_account(client, coordinator):
    member = UserFactory(username="bcd@ubnd.example", email="bcd@ubnd.example", is_staff=True)
    member.set_password("Ban-Chi-Dao-2026!")
    member.save()
    member.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))

    reset = client.post(
        f"/admin/plans/user/{member.pk}/password/",
        {"password1": "Taken-Over-2026!", "password2": "Taken-Over-2026!"},
    )
    assert reset.status_code == 403
    page = client.get(f"/admin/plans/user/{member.pk}/change/")
    assert b'name="email"' not in page.content, "the pack's address cannot be redirected"
    edit = client.post(
        f"/admin/plans/user/{member.pk}/change/",
        {"username": member.username, "email": "attacker@example.com"},
    )
    assert edit.status_code in (302, 403)
    member.refresh_from_db()
    assert member.email == "bcd@ubnd.example"
    assert member.check_password("Ban-Chi-Dao-2026!")


def test_coordinator_still_manages_focal_points(client, coordinator):
    person = UserFactory(username="dm@snv.example")
    response = client.post(
        f"/admin/plans/user/{person.pk}/password/",
        {"password1": "Dau-Moi-2026-moi!", "password2": "Dau-Moi-2026-moi!"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password("Dau-Moi-2026-moi!")


def _fail(client, username: str, **headers: str) -> int:
    response = client.post(
        "/accounts/login/", {"username": username, "password": "wrong"}, headers=headers
    )
    return response.status_code


def test_spoofed_forwarded_for_does_not_escape_the_lockout(client):
    UserFactory(username="victim@tinh.example")
    for n in range(5):
        _fail(client, "victim@tinh.example", x_forwarded_for=f"6.6.6.{n}")
    assert _fail(client, "victim@tinh.example", x_forwarded_for="9.9.9.9") == 429


def test_behind_a_proxy_an_attacker_cannot_lock_out_the_victims_address(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    victim = UserFactory(username="victim@tinh.example")
    victim.set_password("Mat-khau-dung-2026")
    victim.save()
    for _ in range(6):  # all through the proxy (REMOTE_ADDR 127.0.0.1), from 6.6.6.6
        _fail(client, victim.username, x_forwarded_for="1.2.3.4, 6.6.6.6")
    assert _fail(client, victim.username, x_forwarded_for="6.6.6.6") == 429
    response = client.post(
        "/accounts/login/",
        {"username": victim.username, "password": "Mat-khau-dung-2026"},
        headers={"x_forwarded_for": "7.7.7.7"},
    )
    assert response.status_code == 302


def test_putting_someone_in_the_steering_committee_gives_them_staff_status(admin_client):
    member = UserFactory(username="pho.chu.tich@ubnd.example")
    steering = Group.objects.get(name=roles.STEERING_COMMITTEE)
    response = admin_client.post(
        f"/admin/plans/user/{member.pk}/change/",
        {
            "username": member.username,
            "email": member.email,
            "first_name": "Văn A",
            "last_name": "Nguyễn",
            "is_active": "on",
            "groups": [steering.pk],
            "language": "vi",
            "date_joined_0": "01/01/2026",
            "date_joined_1": "08:00:00",
        },
    )
    assert response.status_code == 302, response.context["adminform"].errors
    member.refresh_from_db()
    assert member.is_staff
    assert member.get_full_name() == "Nguyễn Văn A"


def test_password_reset_mails_one_address_at_most_3_times_an_hour(client):
    UserFactory(username="lan@stc.example")
    for _ in range(5):
        response = client.post("/accounts/password_reset/", {"email": "lan@stc.example"})
        assert response.status_code == 302  # the same answer every time: nothing to learn
        password_resets_deliver()
    assert len(mail.outbox) == 3


def test_password_reset_works_while_the_shared_cache_is_down(client, settings, caplog):
    """Redis down: the reset page still sends the e-mail (the limit counts in this process) and
    the outage is logged, instead of answering 500."""
    settings.CACHES = {
        **settings.CACHES,
        # Nothing listens on port 1: every cache call fails with a connection error.
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    UserFactory(email="focal@tinh.example")

    for _ in range(4):
        response = client.post("/accounts/password_reset/", {"email": "focal@tinh.example"})
        assert response.status_code == 302
        password_resets_deliver()

    assert len(mail.outbox) == 3, "the limit still holds, counted in this process"
    assert "Cache unavailable" in caplog.text


def _reset_request(client, email: str, capture_callbacks):
    """The page's answer, its SQL (the typed address blanked out) and its after-commit work."""
    with (
        CaptureQueriesContext(connection) as queries,
        capture_callbacks() as callbacks,
    ):
        response = client.post("/accounts/password_reset/", {"email": email})
    sql = [query["sql"].replace(email, "<address>") for query in queries.captured_queries]
    sql = [re.sub(r"'\d{4}-\d\d-\d\d[ T][\d:.+]+'", "<time>", statement) for statement in sql]
    return response, sql, callbacks


def test_password_reset_does_the_same_work_for_known_and_unknown_addresses(
    client, django_capture_on_commit_callbacks
):
    """The timing leak: the page used to send the e-mail in the request for a known address
    only. Now both requests run the same statements, send nothing, and leave the same one job
    for after the commit; the e-mail arrives when the background sender runs."""
    UserFactory(email="known@tinh.example")

    known = _reset_request(client, "known@tinh.example", django_capture_on_commit_callbacks)
    unknown = _reset_request(client, "nobody@tinh.example", django_capture_on_commit_callbacks)

    assert known[0].status_code == unknown[0].status_code == 302
    assert known[0]["Location"] == unknown[0]["Location"]
    assert known[1] == unknown[1] and known[1], "the same SQL, whichever address"
    assert len(known[2]) == len(unknown[2]) == 1
    assert mail.outbox == [], "no e-mail is sent in the request"

    with patch("notifications.tasks.send_password_resets.apply_async") as enqueue:
        for callback in [*known[2], *unknown[2]]:
            callback()
    assert enqueue.call_count == 2

    password_resets_deliver()
    assert [message.to for message in mail.outbox] == [["known@tinh.example"]]
    assert "/reset/" in mail.outbox[0].body
    statuses = dict(PasswordResetMail.objects.values_list("recipient_email", "status"))
    assert statuses == {"known@tinh.example": "sent", "nobody@tinh.example": "skipped"}


def test_password_reset_page_answers_while_the_task_queue_is_down(client, caplog):
    """The queue unreachable after the commit: the page still answers as usual and the request
    waits for the 15-minute delivery job (deliver_notifications)."""
    UserFactory(email="focal@tinh.example")
    with patch(
        "notifications.tasks.send_password_resets.apply_async",
        side_effect=ConnectionRefusedError("broker down"),
    ), TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/accounts/password_reset/", {"email": "focal@tinh.example"})
    assert response.status_code == 302
    assert "Task queue unavailable" in caplog.text

    deliver_notifications()
    assert [message.to for message in mail.outbox] == [["focal@tinh.example"]]


def test_a_reset_request_older_than_a_day_is_not_sent(client):
    UserFactory(email="late@tinh.example")
    client.post("/accounts/password_reset/", {"email": "late@tinh.example"})
    password_resets_deliver(now=timezone.now() + dt.timedelta(days=1, minutes=1))
    assert mail.outbox == []
    assert PasswordResetMail.objects.get().status == PasswordResetMail.Status.SKIPPED
    password_resets_deliver(now=timezone.now() + dt.timedelta(days=8))
    assert not PasswordResetMail.objects.exists(), "finished rows are removed after a week"


def test_an_operator_sees_whether_a_reset_email_went_out_and_cannot_edit_it(client, admin_client):
    """Someone says the reset e-mail never came: the admin lists the request and its state."""
    UserFactory(email="hoa@tinh.example")
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/accounts/password_reset/", {"email": "hoa@tinh.example"})
    row = PasswordResetMail.objects.get()

    listing = admin_client.get("/admin/notifications/passwordresetmail/?q=hoa@")
    assert listing.status_code == 200
    assert "hoa@tinh.example" in listing.content.decode()
    assert row.get_status_display() in listing.content.decode()

    page = admin_client.get(f"/admin/notifications/passwordresetmail/{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.get("/admin/notifications/passwordresetmail/add/").status_code == 403

"""The attack battery on the portal, over every URL the URLconf serves outside the admin and
the sign-in pages: a URL added later is attacked without editing this file.

- Cross-unit: a focal point of unit A asks for every URL with every id of unit B's objects
  (tasks, progress reports, evidence, comments, requests, notifications), by GET (bare and
  with hostile query parameters) and by POST (a payload filling every portal form, acting "on
  behalf of" unit B). Never a 500, never a page with B's data, never a change to anything.
- The steering committee reads everything by design (``Task.objects.visible_to``), so its GETs
  may show B's data; its POSTs, like the focal point's, change nothing.
- CSRF: every URL's POST, by a signed-in person on their own objects, without the token, is
  refused (403) and changes nothing; the same POST with the token is not refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from notifications.models import Notification
from plans import roles
from plans.models import (
    Comment,
    CompletionSubmission,
    Evidence,
    ExtensionRequest,
    ProgressUpdate,
    Task,
    Unit,
    User,
)
from tests.factories import PDF_BYTES, TaskFactory, UnitFactory, UserFactory, focal_point_of

pytestmark = pytest.mark.django_db

# Served by other rules: the admin (its own permissions, tested with the admin), the sign-in
# and reset pages, Django's language switch, the favicon redirect.
NOT_PORTAL = ("admin/", "accounts/", "i18n/", "favicon.ico")
SECRET = "BÍ-MẬT-B"  # in every text of unit B's objects
TODAY = timezone.localdate()


@dataclass(frozen=True)
class PortalUrl:
    name: str  # namespaced, for reverse()
    route: str
    params: tuple[str, ...]


def portal_urls(
    patterns: list | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[PortalUrl]:
    """Every URL pattern reachable from the root URLconf, minus NOT_PORTAL."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(NOT_PORTAL):
            continue
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from portal_urls(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            assert entry.name, f"{route}: the battery reverses URLs by name; name this one"
            converters = entry.pattern.converters
            for param, converter in converters.items():
                assert type(converter).__name__ == "IntConverter", (
                    f"{route}: teach the battery how to fill <{param}>"
                )
            yield PortalUrl(namespace + entry.name, route, tuple(converters))


PORTAL_URLS = list(portal_urls())


def test_the_battery_sees_the_portal():
    names = {url.name for url in PORTAL_URLS}
    assert {"portal:task_detail", "portal:evidence_download", "notifications:mark_read"} <= names


@pytest.fixture
def world():
    """Unit A (with a focal point and its own task) and unit B, whose every object carries
    SECRET in its text."""
    unit_a = UnitFactory(name="Sở Nội vụ")
    unit_b = UnitFactory(name=f"Sở Tài chính {SECRET}")
    alice = focal_point_of(unit_a, "alice@snv.tinh.example")
    bob = focal_point_of(unit_b, "bob@stc.tinh.example")
    # A's own task, with an id none of B's objects can have: acting on it would be a change
    # A may make.
    TaskFactory(
        pk=900_000, lead_unit=unit_a, title="Việc của A", deadline=TODAY + dt.timedelta(days=30)
    )
    ids = objects_of(unit_b, bob, "B")
    return {"alice": alice, "bob": bob, "unit_a": unit_a, "unit_b": unit_b, "ids": ids}


def objects_of(unit: Unit, person: User, label: str) -> set[int]:
    """A task of ``unit`` with one of everything on it; the ids of all of them."""
    secret = SECRET if label == "B" else label
    task = TaskFactory(
        lead_unit=unit, title=f"Nhiệm vụ {secret}", deadline=TODAY + dt.timedelta(days=30)
    )
    done = TaskFactory(
        lead_unit=unit, title=f"Đã xong {secret}", deadline=TODAY + dt.timedelta(days=30)
    )
    update = ProgressUpdate.objects.create(
        task=task, unit=unit, author=person, percent=40, note=f"Ghi chú {secret}"
    )
    evidence = Evidence(
        task=task, unit=unit, uploaded_by=person, progress_update=update, original_name="b.pdf"
    )
    evidence.file.save("b.pdf", SimpleUploadedFile("b.pdf", PDF_BYTES), save=False)
    evidence.save()
    comment = Comment.objects.create(task=task, unit=unit, author=person, text=f"Ý kiến {secret}")
    extension = ExtensionRequest.objects.create(
        task=task,
        unit=unit,
        requested_by=person,
        previous_deadline=task.deadline,
        new_deadline=task.deadline + dt.timedelta(days=20),
        reason=f"Lý do {secret}",
    )
    completion = CompletionSubmission.objects.create(
        task=done,
        unit=unit,
        submitted_by=person,
        document_number="12/BC",
        document_date=TODAY,
        summary=f"Kết quả {secret}",
    )
    Task.objects.filter(pk=done.pk).update(status=Task.Status.SUBMITTED)
    notification = Notification.objects.create(
        task=task,
        rule=Notification.Rule.DUE_SOON,
        step=1,
        anchor_date=task.deadline,
        recipient_email=person.email,
        recipient=person,
        unit=unit,
        created_at=timezone.now(),
    )
    return {
        obj.pk
        for obj in (task, done, update, evidence, comment, extension, completion, notification)
    } | {unit.pk}


def payload(object_id: int, unit: Unit) -> dict[str, object]:
    """Fills every portal form at once, on behalf of ``unit``."""
    return {
        "unit": unit.pk,
        "percent": 100,
        "note": '=HYPERLINK("http://evil.example")',
        "delay_reason": "x",
        "document_number": "99/BC",
        "document_date": TODAY.strftime("%d/%m/%Y"),
        "summary": "Xong",
        "new_deadline": (TODAY + dt.timedelta(days=90)).strftime("%d/%m/%Y"),
        "reason": "Cần thêm thời gian",
        "text": "Bình luận",
        "decision": "approve",
        "id": object_id,
        "language": "en",
        "next": "https://evil.example/",
    }


def query(object_id: int, unit: Unit) -> dict[str, object]:
    return {
        "unit": unit.pk,
        "task": object_id,
        "id": object_id,
        "format": "csv",
        "page": 1,
        "q": SECRET,
        "status": "overdue",
    }


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the apps' models (accounts aside: the language switch saves a person's own
    language), to compare before and after."""
    rows: dict[str, list[tuple]] = {}
    for label in ("indicators", "plans", "notifications"):
        for model in apps.get_app_config(label).get_models():
            if model is User:
                continue
            rows[model._meta.label] = sorted(model.objects.values_list(), key=repr)
    return rows


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def urls_for(url: PortalUrl, ids: set[int]) -> list[tuple[int, str]]:
    if not url.params:
        return [(min(ids), reverse(url.name))]
    return [(i, reverse(url.name, kwargs=dict.fromkeys(url.params, i))) for i in sorted(ids)]


REFUSED = {302, 403, 404, 405}


def attack(client: Client, url: PortalUrl, world, *, reads_everything: bool) -> list[str]:
    """GET and POST ``url`` with every id of unit B; what went wrong, as readable lines."""
    found: list[str] = []
    for object_id, path in urls_for(url, world["ids"]):
        for method, response in (
            ("GET", client.get(path)),
            ("GET?", client.get(path, query(object_id, world["unit_b"]))),
            ("POST", client.post(path, payload(object_id, world["unit_b"]))),
        ):
            status = response.status_code
            if status not in REFUSED | {200}:
                found.append(f"{method} {path}: {status}")
            elif status == 302 and "evil.example" in response.get("Location", ""):
                found.append(f"{method} {path}: redirects off the site")
            elif status == 200 and not reads_everything and SECRET in body(response):
                found.append(f"{method} {path}: shows unit B's data")
    return found


@pytest.mark.parametrize("url", PORTAL_URLS, ids=lambda url: url.name)
def test_a_focal_point_of_another_unit_gets_nothing_and_changes_nothing(client, world, url):
    client.force_login(world["alice"])
    before = snapshot()
    found = attack(client, url, world, reads_everything=False)
    assert found == []
    assert snapshot() == before


@pytest.mark.parametrize("url", PORTAL_URLS, ids=lambda url: url.name)
def test_a_steering_committee_member_changes_nothing(client, world, url):
    member = UserFactory(username="bcd@tinh.example", is_staff=True)
    member.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    client.force_login(member)
    before = snapshot()
    found = attack(client, url, world, reads_everything=True)
    assert found == []
    assert snapshot() == before


# --- CSRF ----------------------------------------------------------------------------------

# The public forms outside the portal: each must refuse a POST without the token as well.
PUBLIC_POSTS = [
    "/accounts/login/",
    "/accounts/password_reset/",
    "/admin/login/",
    "/admin/password_reset/",
    "/i18n/setlang/",
]


def test_every_post_without_the_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["bob"])
    before = snapshot()
    refused: list[str] = []
    for url in PORTAL_URLS:
        for object_id, path in urls_for(url, world["ids"]):
            response = client.post(path, payload(object_id, world["unit_b"]))
            if response.status_code != 403:
                refused.append(f"POST {path}: {response.status_code}")
    for path in PUBLIC_POSTS:
        response = Client(enforce_csrf_checks=True).post(path, {"email": "bob@stc.tinh.example"})
        if response.status_code != 403:
            refused.append(f"POST {path}: {response.status_code}")
    assert refused == []
    assert snapshot() == before


def test_the_same_post_with_the_token_is_accepted(world):
    """The CSRF test above is not vacuous: with the token, bob's comment goes in."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["bob"])
    task = Task.objects.get(title=f"Nhiệm vụ {SECRET}")
    client.get(reverse("portal:task_detail", kwargs={"pk": task.pk}))
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("portal:comment_create", kwargs={"pk": task.pk}),
        {"unit": world["unit_b"].pk, "text": "Đã phối hợp", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert Comment.objects.filter(text="Đã phối hợp").exists()

"""Who acts for which unit on a task, and who may verify a completion: one rule each, and the
list pages agree with the pages they link to."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from plans import roles
from plans.access import task_access
from plans.models import (
    Assignment,
    CompletionSubmission,
    Decision,
    Task,
    Unit,
    UnitMembership,
    User,
)
from tests.factories import AssignmentFactory, TaskFactory, UnitFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def submit(task: Task, unit: Unit, by: User | None) -> CompletionSubmission:
    task.status = Task.Status.SUBMITTED
    task.save()
    return CompletionSubmission.objects.create(
        task=task,
        unit=unit,
        submitted_by=by,
        document_number="45/BC",
        document_date=TODAY,
        summary="Đã hoàn thành",
    )


_people = itertools.count()


def member(*units: Unit, coordinator: bool = False, **fields: object) -> User:
    # No password: hashing one per person would make the matrix below slow.
    username = f"member{next(_people)}@tinh.example"
    user = User.objects.create(username=username, email=username, **fields)
    for unit in units:
        UnitMembership.objects.create(unit=unit, user=user)
    if coordinator:
        user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    return user


def listed_on_decisions(client) -> set[int]:
    response = client.get("/decisions/")
    assert response.status_code == 200
    return {c.pk for c in response.context["completions"]}


def test_decisions_lists_only_the_completions_the_person_may_open(
    client, django_assert_max_num_queries
):
    """A person who is focal point of both the lead and the monitoring unit would check their
    own unit's work: the verify page answers 403, so /decisions/ does not list it either."""
    lead, monitor = UnitFactory(name="Sở Nội vụ"), UnitFactory(name="Sở KH&CN")
    task = TaskFactory(lead_unit=lead, deadline=TODAY + dt.timedelta(days=30))
    AssignmentFactory(task=task, unit=monitor, role=Assignment.Role.MONITORING)
    submission = submit(task, lead, by=member(lead))
    both = member(lead, monitor)
    only_monitor = member(monitor)
    coordinator = member(coordinator=True, is_staff=True)

    client.force_login(both)
    assert listed_on_decisions(client) == set()
    assert client.get(f"/completions/{submission.pk}/decide/").status_code == 403

    for person in (only_monitor, coordinator):
        client.force_login(person)
        # Session, user, permissions (2), unread notifications, extensions, completions.
        with django_assert_max_num_queries(7):
            listed = listed_on_decisions(client)
        assert listed == {submission.pk}
        assert client.get(f"/completions/{submission.pk}/decide/").status_code == 200


def test_who_may_verify_is_one_rule_on_the_list_and_on_the_verify_page(client):
    """For every way a person can belong to the units of a task, and every submitter, the
    completions /decisions/ lists are exactly those the verify page lets them open."""
    lead, implementing, coordinating, monitor_1, monitor_2 = (
        UnitFactory(name=name) for name in ("Lead", "Impl", "Coord", "Mon 1", "Mon 2")
    )
    units = [lead, implementing, coordinating, monitor_1, monitor_2]

    def task_with_every_role(lead_unit: Unit = lead) -> Task:
        task = TaskFactory(lead_unit=lead_unit, deadline=TODAY + dt.timedelta(days=30))
        AssignmentFactory(task=task, unit=implementing, role=Assignment.Role.IMPLEMENTING)
        AssignmentFactory(task=task, unit=coordinating, role=Assignment.Role.COORDINATING)
        AssignmentFactory(task=task, unit=monitor_1, role=Assignment.Role.MONITORING)
        AssignmentFactory(task=task, unit=monitor_2, role=Assignment.Role.MONITORING)
        return task

    people = [
        member(*combination)
        for size in range(len(units) + 1)
        for combination in itertools.combinations(units, size)
    ]
    people += [
        member(coordinator=True),
        member(lead, coordinator=True),
        member(monitor_2, is_active=False),
    ]
    colleague = member(lead, implementing)
    submit(task_with_every_role(), lead, by=None)  # recorded by an import
    submit(task_with_every_role(), implementing, by=colleague)
    # A monitoring unit that also leads submits: its other monitoring unit may verify.
    monitor_leads = task_with_every_role(lead_unit=monitor_1)
    submit(monitor_leads, monitor_1, by=colleague)
    for person in people[::3]:
        submit(task_with_every_role(), lead, by=person)
    pending = list(CompletionSubmission.objects.select_related("task"))

    seen_both_ways = set()
    for number, person in enumerate(people):
        by_rule = {s.pk for s in pending if task_access(person, s.task).can_verify(s)}
        by_query = set(
            CompletionSubmission.objects.verifiable_by(person).values_list("pk", flat=True)
        )
        assert by_query == by_rule, person.units.all()
        if person.is_active and number % 4 == 0:  # and through HTTP, for some
            client.force_login(person)
            assert listed_on_decisions(client) == by_rule
            for pk in by_rule:
                assert client.get(f"/completions/{pk}/decide/").status_code == 200
        seen_both_ways |= by_rule
    # The matrix exercises both answers for every submission.
    assert seen_both_ways == {s.pk for s in pending}
    assert CompletionSubmission.objects.filter(status=Decision.PENDING).count() == len(pending)

"""Who acts for which unit on a task, and who may verify a completion: one rule each, and the
list pages agree with the pages they link to."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from plans import roles
from plans.access import task_access, unit_roles
from plans.models import (
    Assignment,
    CompletionSubmission,
    Decision,
    ExtensionRequest,
    Task,
    TaskRole,
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


def test_decisions_costs_the_same_queries_for_2_and_12_requests_of_each_kind(
    client, django_assert_max_num_queries
):
    """Each listed extension request and completion names its task and unit: they load with
    the rows, not one query per row."""
    coordinator = member(coordinator=True, is_staff=True)
    client.force_login(coordinator)
    counts = []
    for size in (2, 12):
        for n in range(size):
            unit = UnitFactory(name=f"Sở {size}-{n}")
            asked = TaskFactory(lead_unit=unit, title=f"Gia hạn {size}-{n}")
            ExtensionRequest.objects.create(
                task=asked,
                unit=unit,
                previous_deadline=asked.deadline,
                new_deadline=asked.deadline + dt.timedelta(days=30),
                reason="Chờ kinh phí",
            )
            done = TaskFactory(lead_unit=unit, title=f"Hoàn thành {size}-{n}")
            submit(done, unit, by=member(unit))
        with django_assert_max_num_queries(7) as captured:
            page = client.get("/decisions/").content.decode()
        for n in range(size):
            assert f"Gia hạn {size}-{n}<" in page and f"Hoàn thành {size}-{n}<" in page
            assert f"Sở {size}-{n} · " in page
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


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


# --- Which units a person acts for: one function (plans.access.unit_roles) ----------------


def test_the_list_the_task_page_and_the_reminders_agree_on_who_acts_on_a_task(client):
    """One unit leads; another implements and coordinates; a third only coordinates. A person
    in the first two sees the same units and roles on the list and on the task page, and the
    reminders tell the leading and implementing units, not the coordinating one."""
    from notifications.recipients import RecipientDirectory

    lead, both_roles, coordinating, elsewhere = (
        UnitFactory(name=n) for n in ("Sở Nội vụ", "Sở Tài chính", "Sở Y tế", "Sở GD")
    )
    task = TaskFactory(lead_unit=lead, deadline=TODAY + dt.timedelta(days=30))
    AssignmentFactory(task=task, unit=both_roles, role=Assignment.Role.COORDINATING)
    AssignmentFactory(task=task, unit=both_roles, role=Assignment.Role.IMPLEMENTING)
    AssignmentFactory(task=task, unit=coordinating, role=Assignment.Role.COORDINATING)
    AssignmentFactory(task=TaskFactory(), unit=elsewhere, role=Assignment.Role.IMPLEMENTING)
    person = member(lead, both_roles, elsewhere)
    client.force_login(person)

    row = next(t for t in client.get("/").context["tasks"] if t.pk == task.pk)
    access = task_access(person, task)
    directory = RecipientDirectory(list(Task.objects.with_list_columns().filter(pk=task.pk)))

    assert row.my_roles == ["Chủ trì", "Thực hiện", "Phối hợp"]
    assert row.needs_ack
    assert access.roles == {
        lead: {TaskRole.LEAD},
        both_roles: {TaskRole.IMPLEMENTING, TaskRole.COORDINATING},
    }
    assert access.reporting_units == sorted([lead, both_roles], key=lambda u: u.name)
    assert directory.acting_units[task.pk] == [lead, both_roles, coordinating]
    assert directory.units_by_task[task.pk] == [lead, both_roles]


def test_unit_roles_costs_one_query_whatever_the_number_of_tasks(django_assert_num_queries):
    units = [UnitFactory() for _ in range(3)]
    tasks = []
    for number in range(30):
        task = TaskFactory(lead_unit=units[number % 3])
        AssignmentFactory(task=task, unit=units[(number + 1) % 3], role=Assignment.Role.MONITORING)
        tasks.append(task)
    mine = {units[0].pk: units[0]}
    with django_assert_num_queries(1):
        every_unit = unit_roles(tasks)
    with django_assert_num_queries(1):
        only_mine = unit_roles(tasks, mine)
    with django_assert_num_queries(0):
        assert unit_roles(tasks, {}) == {task.pk: {} for task in tasks}
        assert unit_roles([], mine) == {}
    assert all(len(roles_) == 2 for roles_ in every_unit.values())
    assert sum(1 for roles_ in only_mine.values() if roles_) == 20
    assert {frozenset(r) for roles_ in only_mine.values() for r in roles_.values()} == {
        frozenset({TaskRole.LEAD}),
        frozenset({TaskRole.MONITORING}),
    }


def test_task_page_costs_the_same_queries_however_many_units_act_on_it(
    client, django_assert_max_num_queries
):
    """The person's units and their roles on the task are two queries (``task_access``), and
    each section of the page a fixed few, whatever the number of units acting on it."""
    counts = []
    for size in (1, 8):
        units = [UnitFactory() for _ in range(size)]
        task = TaskFactory(lead_unit=units[0], deadline=TODAY + dt.timedelta(days=30))
        for unit in units[1:]:
            AssignmentFactory(task=task, unit=unit, role=Assignment.Role.IMPLEMENTING)
        client.force_login(member(*units))
        with django_assert_max_num_queries(17) as captured:
            assert client.get(f"/tasks/{task.pk}/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts

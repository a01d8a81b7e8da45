"""The rules on a task's units, its deadline, a unit's focal points and the unit tree are the
services' (``plans.services``): the admin, the imports and the portal call them, so each rule
says the same thing at each door. Each rule is tried here through at least two doors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from indicators.models import IndicatorSet
from plans import roles, services
from plans.models import Assignment, Plan, Task, Unit, UnitMembership, User
from tests.factories import (
    AssignmentFactory,
    FocalPointFactory,
    PlanFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
)
from tests.test_imports import TASKS, UNITS, failed_import, run_import, write_csv

pytestmark = pytest.mark.django_db

# The Vietnamese a coordinator reads in the admin (their default language).
LEAD_COORDINATING_VI = "là đơn vị chủ trì, không thể đồng thời là đơn vị phối hợp."
TWICE_VI = "được ghi hai lần trong cùng vai trò này."
LOOP_VI = "các đơn vị sẽ tạo thành vòng lặp."


@pytest.fixture
def coordinator(client: Client) -> User:
    user = UserFactory(username="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    return user


@pytest.fixture
def plan() -> Plan:
    return PlanFactory(title="Kế hoạch DTI 2026", year=2026)


def task_change_form(task: Task, **overrides: object) -> dict[str, object]:
    """The admin's change form of a task with no records yet, as the browser posts it."""
    data: dict[str, object] = {
        "plan": task.plan_id,
        "indicator": task.indicator_id,
        "title": task.title,
        "description": task.description,
        "expected_output": task.expected_output,
        "lead_unit": task.lead_unit_id,
        "start_date": task.start_date.strftime("%d/%m/%Y") if task.start_date else "",
        "deadline": task.deadline.strftime("%d/%m/%Y"),
        "status": task.status,
        "percent_done": str(task.percent_done),
    }
    for prefix in (
        "assignments",
        "acknowledgements",
        "progress_updates",
        "evidence",
        "extension_requests",
        "completions",
        "comments",
    ):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    data.update(overrides)
    return data


def with_rows(data: dict[str, object], rows: list[tuple[Unit, str]]) -> dict[str, object]:
    data["assignments-TOTAL_FORMS"] = str(len(rows))
    for number, (unit, role) in enumerate(rows):
        data[f"assignments-{number}-unit"] = unit.pk
        data[f"assignments-{number}-role"] = role
    return data


def row_errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The messages shown on the task page's unit rows and above them."""
    formset = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "assignments"
    )
    messages = [str(m) for errors in formset.errors for ms in errors.values() for m in ms]
    return messages + [str(m) for m in formset.non_form_errors()]


def english_messages(error: ValidationError) -> dict[str, list[str]]:
    """The services translate as they raise: the calls below run in English."""
    with translation.override("en"):
        return error.message_dict


# --- A task's units: the lead is not also coordinating ---------------------------------------


def test_service_refuses_the_lead_as_a_coordinating_unit_and_writes_nothing() -> None:
    task = TaskFactory()
    helper = UnitFactory(name="Sở Tài chính")

    with translation.override("en"), pytest.raises(ValidationError) as raised:
        services.task_units_set(
            task=task, lead=helper, coordinating=[helper], implementing=[], monitoring=[], by=None
        )

    assert english_messages(raised.value) == {
        "coordinating": ["Sở Tài chính is the lead unit; it cannot also be a coordinating unit."]
    }
    task.refresh_from_db()
    assert task.lead_unit != helper
    assert not Assignment.objects.exists()


def test_admin_shows_the_lead_coordinating_refusal_on_the_row(
    client: Client, coordinator: User
) -> None:
    lead = UnitFactory(name="Sở Nội vụ")
    task = TaskFactory(lead_unit=lead)

    response = client.post(
        f"/admin/plans/task/{task.pk}/change/",
        with_rows(task_change_form(task), [(lead, Assignment.Role.COORDINATING)]),
    )

    assert response.status_code == 200
    assert row_errors(response) == [f"Sở Nội vụ {LEAD_COORDINATING_VI}"]
    assert not Assignment.objects.exists()


def test_admin_refuses_a_new_lead_that_is_already_coordinating(
    client: Client, coordinator: User
) -> None:
    task = TaskFactory()
    helper = AssignmentFactory(task=task, role=Assignment.Role.COORDINATING).unit
    data = task_change_form(task, lead_unit=helper.pk)
    data.update(
        {
            "assignments-TOTAL_FORMS": "1",
            "assignments-INITIAL_FORMS": "1",
            "assignments-0-id": task.assignments.get().pk,
            "assignments-0-task": task.pk,
            "assignments-0-unit": helper.pk,
            "assignments-0-role": Assignment.Role.COORDINATING,
        }
    )

    response = client.post(f"/admin/plans/task/{task.pk}/change/", data)

    assert row_errors(response) == [f"{helper.name} {LEAD_COORDINATING_VI}"]
    task.refresh_from_db()
    assert task.lead_unit != helper


# --- A task's units: a unit holds a role once -------------------------------------------------


def test_service_refuses_a_unit_twice_in_one_role() -> None:
    task = TaskFactory()
    twice = UnitFactory(name="Sở Tài chính")

    with translation.override("en"), pytest.raises(ValidationError) as raised:
        services.task_units_set(task=task, lead=task.lead_unit, monitoring=[twice, twice], by=None)

    assert english_messages(raised.value) == {
        "monitoring": ["Sở Tài chính is listed twice in this role."]
    }
    assert not Assignment.objects.exists()


def test_admin_marks_the_second_row_of_a_unit_entered_twice_in_one_role(
    client: Client, coordinator: User
) -> None:
    task = TaskFactory()
    twice = UnitFactory(name="Sở Tài chính")
    rows = [(twice, Assignment.Role.MONITORING), (twice, Assignment.Role.MONITORING)]

    response = client.post(
        f"/admin/plans/task/{task.pk}/change/", with_rows(task_change_form(task), rows)
    )

    formset = next(
        i.formset
        for i in response.context["inline_admin_formsets"]
        if i.formset.prefix == "assignments"
    )
    assert [dict(errors) for errors in formset.errors] == [
        {},
        {"unit": [f"Sở Tài chính {TWICE_VI}"]},
    ]
    assert not Assignment.objects.exists()


# --- A task's units: set through every door, with history -------------------------------------


def test_admin_sets_a_tasks_units_through_the_service_with_the_coordinator_as_author(
    client: Client, coordinator: User
) -> None:
    task = TaskFactory()
    old = AssignmentFactory(task=task, role=Assignment.Role.MONITORING)
    helper, monitor = UnitFactory(), UnitFactory()
    data = with_rows(
        task_change_form(task),
        [(helper, Assignment.Role.IMPLEMENTING), (monitor, Assignment.Role.MONITORING)],
    )

    response = client.post(f"/admin/plans/task/{task.pk}/change/", data)

    assert response.status_code == 302, row_errors(response)
    assert sorted(task.assignments.values_list("unit_id", "role")) == sorted(
        [(helper.pk, "implementing"), (monitor.pk, "monitoring")]
    )
    assert not Assignment.objects.filter(pk=old.pk).exists()
    added = Assignment.history.filter(history_type="+", unit=helper).get()
    assert added.history_user == coordinator


def test_service_leaves_a_role_not_given_as_it_is() -> None:
    task = TaskFactory()
    monitoring = AssignmentFactory(task=task, role=Assignment.Role.MONITORING)
    helper = UnitFactory()

    services.task_units_set(task=task, lead=task.lead_unit, implementing=[helper], by=None)

    assert sorted(task.assignments.values_list("unit_id", "role")) == sorted(
        [(helper.pk, "implementing"), (monitoring.unit_id, "monitoring")]
    )


def test_service_refuses_a_task_without_a_lead() -> None:
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        services.task_units_set(task=TaskFactory(), lead=None, by=None)
    assert english_messages(raised.value) == {"lead": ["Every task needs exactly one lead unit."]}


# --- Moving a deadline keeps the first one ----------------------------------------------------


def test_service_moves_a_deadline_twice_and_keeps_the_first() -> None:
    task = TaskFactory(deadline=dt.date(2026, 6, 30))

    services.task_deadline_move(task=task, deadline=dt.date(2026, 8, 31), by=None)
    services.task_deadline_move(task=task, deadline=dt.date(2026, 9, 30), by=None)

    task.refresh_from_db()
    assert (task.deadline, task.original_deadline) == (dt.date(2026, 9, 30), dt.date(2026, 6, 30))


def test_admin_moves_a_deadline_twice_and_keeps_the_first(
    client: Client, coordinator: User
) -> None:
    task = TaskFactory(deadline=dt.date(2026, 6, 30))

    for new in ("31/08/2026", "30/09/2026"):
        task.refresh_from_db()
        response = client.post(
            f"/admin/plans/task/{task.pk}/change/", task_change_form(task, deadline=new)
        )
        assert response.status_code == 302

    task.refresh_from_db()
    assert (task.deadline, task.original_deadline) == (dt.date(2026, 9, 30), dt.date(2026, 6, 30))
    assert "30/06/2026" in client.get(f"/admin/plans/task/{task.pk}/change/").content.decode()


def test_import_moving_a_deadline_keeps_the_first(tmp_path: Path, plan: Plan) -> None:
    # The import reads codes in the indicator set in force for the plan's year.
    indicator = IndicatorSet.objects.for_year(plan.year).indicators.get(code="7")
    task = TaskFactory(plan=plan, indicator=indicator, deadline=dt.date(2026, 6, 30))
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["plan", "indicator_code", "title", "lead_unit", "deadline"],
            [plan.title, "7", task.title, task.lead_unit.name, "31/08/2026"],
        ],
    )

    run_import(TASKS, str(path))

    task.refresh_from_db()
    assert (task.deadline, task.original_deadline) == (dt.date(2026, 8, 31), dt.date(2026, 6, 30))
    assert task.history.latest().original_deadline == dt.date(2026, 6, 30)


# --- A unit's focal points --------------------------------------------------------------------


def test_service_sets_focal_points_creating_an_account_for_a_new_address() -> None:
    unit = UnitFactory()
    known = UserFactory(username="an", email="An@tinh.example")
    leaving = FocalPointFactory(unit=unit).user
    head = UnitMembership.objects.create(unit=unit, user=leaving, role=UnitMembership.Role.HEAD)

    new = services.unit_focal_points_set(
        wanted={unit: ["an@tinh.example", "Moi@Tinh.example"]}, by=None
    )

    assert new == ["moi@tinh.example"]
    account = User.objects.get(username="moi@tinh.example")
    assert account.is_active and not is_password_usable(account.password)
    focal = unit.memberships.filter(role=UnitMembership.Role.FOCAL_POINT)
    assert set(focal.values_list("user_id", flat=True)) == {known.pk, account.pk}
    assert UnitMembership.objects.filter(pk=head.pk).exists(), "a head is not a focal point"


def test_service_refuses_a_bad_focal_point_address_and_writes_nothing() -> None:
    unit = UnitFactory()

    with translation.override("en"), pytest.raises(ValidationError) as raised:
        services.unit_focal_points_set(wanted={unit: ["ok@tinh.example", "không-hợp-lệ"]}, by=None)

    assert english_messages(raised.value) == {
        "focal_points": ['"không-hợp-lệ" is not a valid e-mail address.']
    }
    assert not User.objects.filter(username="ok@tinh.example").exists()


def test_import_refuses_a_bad_focal_point_address_in_its_row_and_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "units.csv",
        [["name", "focal_points"], ["Sở Nội vụ", "ok@tinh.example; không-hợp-lệ"]],
    )

    _message, printed = failed_import(UNITS, str(path))

    assert printed.strip() == (
        'Row 2, column "focal_points": "không-hợp-lệ" is not a valid e-mail address.'
    )
    assert not Unit.objects.exists()


# --- The unit tree has no loop ----------------------------------------------------------------


@pytest.fixture
def tree() -> tuple[Unit, Unit]:
    office = UnitFactory(name="Văn phòng UBND tỉnh")
    centre = UnitFactory(name="Trung tâm Phục vụ hành chính công", parent=office)
    return office, centre


def test_service_refuses_a_parent_under_the_unit(tree: tuple[Unit, Unit]) -> None:
    office, centre = tree
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        services.unit_parent_check(unit=office, parent=centre)
    assert english_messages(raised.value) == {
        "parent": [
            '"Trung tâm Phục vụ hành chính công" is under "Văn phòng UBND tỉnh" already; the '
            "units would form a loop."
        ]
    }


def unit_change_form(unit: Unit, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": unit.name,
        "short_name": unit.short_name,
        "kind": unit.kind,
        "email": unit.email,
        "parent": unit.parent_id or "",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_admin_refuses_a_loop_in_the_unit_tree(
    client: Client, coordinator: User, tree: tuple[Unit, Unit]
) -> None:
    office, centre = tree

    response = client.post(
        f"/admin/plans/unit/{office.pk}/change/", unit_change_form(office, parent=centre.pk)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [
        f'"Trung tâm Phục vụ hành chính công" đã trực thuộc "Văn phòng UBND tỉnh"; {LOOP_VI}'
    ]
    office.refresh_from_db()
    assert office.parent is None


def test_admin_refuses_a_unit_as_its_own_parent(
    client: Client, coordinator: User, tree: tuple[Unit, Unit]
) -> None:
    office, _centre = tree

    response = client.post(
        f"/admin/plans/unit/{office.pk}/change/", unit_change_form(office, parent=office.pk)
    )

    assert (
        "Một đơn vị không thể là đơn vị cấp trên của chính nó."
        in (response.context["adminform"].form.errors["parent"])
    )


def test_import_refuses_a_loop_in_the_unit_tree(tmp_path: Path, tree: tuple[Unit, Unit]) -> None:
    path = write_csv(
        tmp_path / "units.csv",
        [["name", "parent"], ["Văn phòng UBND tỉnh", "Trung tâm Phục vụ hành chính công"]],
    )

    _message, printed = failed_import(UNITS, str(path))

    assert printed.strip() == (
        'Row 2, column "parent": "Trung tâm Phục vụ hành chính công" is under "Văn phòng UBND '
        'tỉnh" already; the units would form a loop.'
    )


def test_import_refuses_a_new_unit_as_its_own_parent(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "units.csv", [["name", "parent"], ["Sở Mới", "sở mới"]])

    _message, printed = failed_import(UNITS, str(path))

    assert printed.strip() == 'Row 2, column "parent": A unit cannot be its own parent unit.'

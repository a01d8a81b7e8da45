"""The admin's task search: every word typed is found in the task's title, its indicator
(code, names) or its lead unit (name, short name). On PostgreSQL it is answered by an index
(``plans.search``): a word begins a word of the title, with or without its accents; on SQLite
it is the admin's own ``icontains``. What both agree on is asserted on both."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from plans import roles
from plans.models import Task
from tests.factories import (
    ComponentIndicatorFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    main_indicator,
)

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the index search is PostgreSQL's"
)


@pytest.fixture
def coordinator(client):
    user = UserFactory(username="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    return user


@pytest.fixture
def plan_tasks(db):
    health = UnitFactory(name="Sở Y tế", short_name="SYT")
    finance = UnitFactory(name="Sở Tài chính", short_name="STC")
    records = ComponentIndicatorFactory(
        parent=main_indicator("5"), code="5.3", name_vi="Bệnh án điện tử", name_en="Records"
    )
    payments = ComponentIndicatorFactory(
        parent=main_indicator("5"), code="5.4", name_vi="Thanh toán trực tuyến", name_en="Pay"
    )
    for title, unit, indicator in [
        ("Triển khai nền tảng họp trực tuyến", finance, payments),
        ("Số hóa hồ sơ khám chữa bệnh", health, records),
        ("Nhiệm vụ 99", finance, records),
        ("Nhiệm vụ 199", health, payments),
    ]:
        TaskFactory(title=title, lead_unit=unit, indicator=indicator)


def titles(client, query: str) -> set[str]:
    response = client.get("/admin/plans/task/", {"q": query})
    assert response.status_code == 200
    return {task.title for task in response.context["cl"].result_list}


def test_a_word_of_the_title_finds_its_tasks(client, coordinator, plan_tasks):
    assert titles(client, "họp") == {"Triển khai nền tảng họp trực tuyến"}
    assert titles(client, "Số hóa") == {"Số hóa hồ sơ khám chữa bệnh"}
    assert titles(client, "Nhiệm vụ") == {"Nhiệm vụ 99", "Nhiệm vụ 199"}


def test_an_indicator_code_or_name_finds_the_tasks_on_it(client, coordinator, plan_tasks):
    on_records = {"Số hóa hồ sơ khám chữa bệnh", "Nhiệm vụ 99"}
    assert titles(client, "5.3") == on_records
    assert titles(client, "Bệnh án") == on_records
    assert titles(client, "5.4") == {"Triển khai nền tảng họp trực tuyến", "Nhiệm vụ 199"}


def test_a_unit_name_or_short_name_finds_the_tasks_it_leads(client, coordinator, plan_tasks):
    led_by_finance = {"Triển khai nền tảng họp trực tuyến", "Nhiệm vụ 99"}
    assert titles(client, "Tài chính") == led_by_finance
    assert titles(client, "STC") == led_by_finance


def test_every_word_must_be_found_in_one_field_or_another(client, coordinator, plan_tasks):
    # "Nhiệm vụ" in the titles, "5.3" the indicator, "Tài chính" the unit.
    assert titles(client, "Nhiệm vụ 5.3") == {"Nhiệm vụ 99"}
    assert titles(client, "Nhiệm vụ Tài chính") == {"Nhiệm vụ 99"}
    assert titles(client, "hồ sơ 5.3 SYT") == {"Số hóa hồ sơ khám chữa bệnh"}
    assert titles(client, "hồ sơ 5.4") == set()


def test_a_word_found_nowhere_finds_nothing(client, coordinator, plan_tasks):
    assert titles(client, "xyzzy") == set()
    assert titles(client, "Nhiệm vụ xyzzy") == set()
    page = client.get("/admin/plans/task/", {"q": "xyzzy"})
    assert page.context["cl"].result_count == 0


def test_a_task_is_found_by_its_new_title_and_unit_once_changed(client, coordinator, plan_tasks):
    task = Task.objects.get(title="Nhiệm vụ 199")
    task.title = "Cấp chữ ký số cho cán bộ"
    task.lead_unit = UnitFactory(name="Văn phòng UBND tỉnh", short_name="VP")
    task.save()
    assert titles(client, "chữ ký") == {"Cấp chữ ký số cho cán bộ"}
    assert titles(client, "Văn phòng") == {"Cấp chữ ký số cho cán bộ"}
    assert titles(client, "Nhiệm vụ") == {"Nhiệm vụ 99"}


def test_the_searched_list_costs_the_same_queries_for_5_and_50_tasks(
    client, coordinator, django_assert_max_num_queries
):
    """The task list's queries (session, user, permissions, count, page, filters' choices, the
    deadline drill-down) and, on PostgreSQL, one query each for the indicators and units."""
    counts = []
    for count in (5, 50):
        TaskFactory.create_batch(count - Task.objects.count())
        with django_assert_max_num_queries(17) as captured:
            response = client.get("/admin/plans/task/", {"q": "Nhiệm vụ 7.1"})
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


@on_postgresql
def test_a_title_word_is_found_by_its_beginning_not_its_middle(client, coordinator, plan_tasks):
    assert titles(client, "99") == {"Nhiệm vụ 99"}  # not "Nhiệm vụ 199"
    assert titles(client, "Nhiệm vụ 19") == {"Nhiệm vụ 199"}
    assert titles(client, "nền tả") == {"Triển khai nền tảng họp trực tuyến"}
    assert titles(client, "ảng") == set()


@on_postgresql
def test_accents_typed_are_matched_and_a_word_typed_without_finds_every_form(
    client, coordinator, plan_tasks
):
    assert titles(client, "nhiem vu 99") == {"Nhiệm vụ 99"}
    assert titles(client, "kham chua benh") == {"Số hóa hồ sơ khám chữa bệnh"}
    # "Sở" (the units' "department") is not "Số" (digital); "so" is either.
    assert titles(client, "Số hóa") == {"Số hóa hồ sơ khám chữa bệnh"}
    assert titles(client, "Sở") == {task.title for task in Task.objects.all()}
    assert titles(client, "so hoa") == {"Số hóa hồ sơ khám chữa bệnh"}
    assert titles(client, "tai chinh") == {"Triển khai nền tảng họp trực tuyến", "Nhiệm vụ 99"}
    # Typed with decomposed accents (some keyboards), found as typed composed.
    assert titles(client, "Nhi\u0065\u0323\u0302m vu\u0323 99") == {"Nhiệm vụ 99"}


@on_postgresql
def test_a_quoted_phrase_finds_its_words_in_a_row(client, coordinator, plan_tasks):
    assert titles(client, '"hồ sơ khám"') == {"Số hóa hồ sơ khám chữa bệnh"}
    assert titles(client, '"khám hồ sơ"') == set()


@on_postgresql
@pytest.mark.parametrize(
    "query", ["it's", "a\\b", "99 & !vụ", "(nhiệm | vụ):*", "'", '"', "-", "5.3 -- ;"]
)
def test_query_syntax_typed_in_the_box_is_only_text_to_look_for(
    client, coordinator, plan_tasks, query
):
    response = client.get("/admin/plans/task/", {"q": query})
    assert response.status_code == 200


@on_postgresql
def test_the_search_reads_the_index_not_every_task(client, coordinator, plan_tasks):
    """With sequential scans priced out, the plan of the searched count reads the index
    ``task_search``: the query asks for the indexed column as the index holds it."""
    from plans.search import task_search

    found = task_search(Task.objects.all(), "Nhiệm vụ 5.3 Tài")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = found.values("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "task_search" in plan, plan
    assert {t.title for t in found} == {"Nhiệm vụ 99"}

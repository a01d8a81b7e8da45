"""Weak indicators: the year's rules decide, the admin list shows what can still be won and who
works on it, and one action drafts the missing tasks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from indicators.models import Score, WeakIndicator, WeakRule
from plans import roles
from plans.models import Plan, Task
from tests.factories import (
    ComponentIndicatorFactory,
    FocalPointFactory,
    PlanFactory,
    TaskFactory,
    UnitFactory,
    UserFactory,
    assessment_with_scores,
    main_indicator,
    province,
)

pytestmark = pytest.mark.django_db

URL = "/admin/indicators/weakindicator/"


@pytest.fixture
def components():
    """Four components of main indicator 7 (digital government activities), 10 points each."""
    return {
        code: ComponentIndicatorFactory(code=code, max_points=Decimal("10"))
        for code in ("7.1", "7.2", "7.3", "7.4")
    }


@pytest.fixture
def coordinator(client):
    user = UserFactory(username="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    client.cookies["django_language"] = "en"  # pages asserted in English
    return user


def weak(year: int = 2024, province: str = "Lạng Sơn") -> list[str]:
    rows = Score.objects.filter(assessment__year=year, assessment__province__name=province)
    return sorted(s.indicator.code for s in rows.weak().select_related("indicator"))


# --- Rules ---------------------------------------------------------------------------------


def test_a_year_without_a_rule_is_read_under_the_default_rule_below_half_the_max(components):
    assessment_with_scores(
        "Lạng Sơn", 2024, {"7.1": "0", "7.2": "4.99", "7.3": "5.00", "7.4": "10.00"}
    )
    assert weak() == ["7.1", "7.2"]


def test_below_a_share_of_max_points_is_weak_and_exactly_at_it_is_not(components):
    WeakRule.objects.create(year=2024, zero_points=True, below_percent=50)
    assessment_with_scores(
        "Lạng Sơn", 2024, {"7.1": "0", "7.2": "4.99", "7.3": "5.00", "7.4": "10.00"}
    )
    assert weak() == ["7.1", "7.2"]


def test_a_score_exactly_at_the_share_is_not_weak_despite_floating_point():
    """0.29 × 100 is 28.999… in floating point (SQLite's decimal arithmetic)."""
    ComponentIndicatorFactory(code="7.1", max_points=Decimal("1"))
    WeakRule.objects.create(year=2024, zero_points=False, below_percent=29)
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0.29"})
    assert weak() == []


def test_zero_is_not_weak_when_the_rule_says_so(components):
    WeakRule.objects.create(year=2024, zero_points=False)
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0"})
    assert weak() == []


def test_rules_are_per_year(components):
    WeakRule.objects.create(year=2023, zero_points=True, below_percent=80)
    assessment_with_scores("Lạng Sơn", 2023, {"7.1": "7.00"})
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "7.00"})
    assert weak(2023) == ["7.1"]
    assert weak(2024) == []


def test_under_a_main_indicator_ranked_too_low_every_component_with_points_to_win_is_weak(
    components,
):
    WeakRule.objects.create(year=2024, zero_points=False, main_rank_worse_than=1)
    full = {"7.1": "10.00", "7.2": "10.00", "7.3": "10.00", "7.4": "10.00"}
    assessment_with_scores("Cao Bằng", 2024, full)  # 1st on indicator 7
    assessment_with_scores(
        "Lạng Sơn", 2024, {"7.1": "9.00", "7.2": "8.00", "7.3": "10.00", "7.4": "10.00"}
    )
    assert weak(province="Lạng Sơn") == ["7.1", "7.2"]
    assert weak(province="Cao Bằng") == []


def test_a_main_indicator_scored_without_components_is_listed_itself():
    WeakRule.objects.create(year=2024, zero_points=True, main_rank_worse_than=1)
    assessment_with_scores("Cao Bằng", 2024, {"7": "150.00", "3": "0"})
    assessment_with_scores("Lạng Sơn", 2024, {"7": "120.00", "3": "0"})
    assert weak(province="Lạng Sơn") == ["3", "7"]


def test_a_main_indicator_made_of_component_scores_is_not_listed_twice(components):
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0", "7.2": "0"})
    assert weak() == ["7.1", "7.2"]  # not "7", although its points (0) are the sum


def test_the_unscored_smart_city_indicator_is_never_weak():
    assessment_with_scores("Lạng Sơn", 2024, {"6": "0"})
    assert weak() == []


# --- The admin list ---------------------------------------------------------------------------


def listed(client, query: str = "") -> list[WeakIndicator]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_weak_list_is_ordered_by_points_still_to_win(client, coordinator, components):
    ComponentIndicatorFactory(code="7.5", max_points=Decimal("20"))
    WeakRule.objects.create(year=2024, below_percent=50)
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0", "7.2": "2.50", "7.5": "5.00"})
    rows = listed(client)
    assert [(r.indicator.code, r.recoverable_points) for r in rows] == [
        ("7.5", Decimal("15.00")),
        ("7.1", Decimal("10.00")),
        ("7.2", Decimal("7.50")),
    ]


def test_weak_list_shows_last_years_points_and_the_tasks_of_the_provinces_plans(
    client, coordinator, components
):
    assessment_with_scores("Lạng Sơn", 2023, {"7.1": "3.00", "7.2": "0"})
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0", "7.2": "0", "7.3": "0", "7.4": "0"})
    plan = PlanFactory(province=province("Lạng Sơn"))
    closed = PlanFactory(province=province("Lạng Sơn"), year=2025, status=Plan.Status.CLOSED)
    in_progress = Task.Status.IN_PROGRESS
    TaskFactory(plan=plan, indicator=components["7.1"], title="Số hóa hồ sơ", status=in_progress)
    TaskFactory(plan=plan, indicator=components["7.2"], title="Bản nháp", status=Task.Status.DRAFT)
    TaskFactory(plan=plan, indicator=components["7.3"], title="Bỏ", status=Task.Status.CANCELLED)
    TaskFactory(plan=closed, indicator=components["7.4"], title="Năm ngoái", status=in_progress)

    page = client.get(f"{URL}?assessment__year=2024").content.decode()
    rows = {r.indicator.code: r for r in listed(client, "assessment__year=2024")}
    assert rows["7.1"].last_year_points == Decimal("3.00")
    assert [t.title for t in rows["7.1"].addressing_tasks] == ["Số hóa hồ sơ"]
    assert {code: row.coverage for code, row in rows.items()} == {
        "7.1": "covered",
        "7.2": "drafted",
        "7.3": "uncovered",  # a cancelled task addresses nothing
        "7.4": "uncovered",  # nor does last year's closed plan
    }
    assert "Số hóa hồ sơ" in page
    assert "Draft: <a" in page and "Bản nháp" in page
    assert page.count("No task") == 2


def test_a_plan_in_draft_drafts_and_a_closed_plan_addresses_nothing(
    client, coordinator, components
):
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0", "7.2": "0", "7.3": "0"})
    lang_son = province("Lạng Sơn")
    in_draft = PlanFactory(province=lang_son, status=Plan.Status.DRAFT)
    closed = PlanFactory(province=lang_son, year=2025, status=Plan.Status.CLOSED)
    TaskFactory(plan=in_draft, indicator=components["7.1"], status=Task.Status.IN_PROGRESS)
    TaskFactory(plan=in_draft, indicator=components["7.2"], status=Task.Status.CANCELLED)
    TaskFactory(plan=closed, indicator=components["7.3"], status=Task.Status.DRAFT)
    rows = {r.indicator.code: r.coverage for r in listed(client, "assessment__year=2024")}
    assert rows == {"7.1": "drafted", "7.2": "uncovered", "7.3": "uncovered"}


def test_last_years_points_of_a_merged_province_average_its_former_provinces(
    client, coordinator, components
):
    assessment_with_scores("Hà Giang", 2024, {"7.1": "2.00"})
    assessment_with_scores("Tuyên Quang", 2024, {"7.1": "5.00"})
    assessment_with_scores("Tuyên Quang", 2025, {"7.1": "0"})
    (row,) = listed(client, "assessment__year=2025")
    assert row.last_year_points == Decimal("3.5")


def test_weak_list_filters_by_province_year_main_indicator_and_coverage(
    client, coordinator, components
):
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0", "7.2": "0", "3": "0"})
    cao_bang = assessment_with_scores("Cao Bằng", 2024, {"7.1": "0"})
    assessment_with_scores("Lạng Sơn", 2023, {"7.1": "0"})
    TaskFactory(indicator=components["7.2"], plan=PlanFactory(province=province("Lạng Sơn")))

    def rows(query: str) -> set[tuple[str, int, str]]:
        return {
            (r.assessment.province.name, r.assessment.year, r.indicator.code)
            for r in listed(client, query)
        }

    assert rows(f"province={cao_bang.province_id}") == {("Cao Bằng", 2024, "7.1")}
    assert rows("assessment__year=2023") == {("Lạng Sơn", 2023, "7.1")}
    assert rows(f"main_indicator={main_indicator('3').pk}") == {("Lạng Sơn", 2024, "3")}
    assert rows("covered=yes") == {("Lạng Sơn", 2024, "7.2")}
    assert ("Lạng Sơn", 2024, "7.2") not in rows("covered=no")


def test_weak_list_costs_the_same_queries_for_25_and_50_rows(
    client, coordinator, django_assert_max_num_queries
):
    """Expected, 15: session, user, the user's and the groups' permissions, the filters' choices
    (provinces, main indicators, years), the count, the page (rules, ranks, last year's points
    and coverage are subqueries in it), the open tasks of the page's indicators, the banner
    naming each year's set and rule (the years, the sets, the rules), and the indicators' owners
    (the province's plans, then their units)."""
    indicators = [
        ComponentIndicatorFactory(code=f"7.{n}", max_points=Decimal("10")) for n in range(1, 26)
    ]
    for indicator in indicators[::2]:
        TaskFactory(indicator=indicator)
    for name, rows in (("Lạng Sơn", 25), ("Cao Bằng", 50)):
        assessment_with_scores(name, 2024, {i.code: "0" for i in indicators})
        with django_assert_max_num_queries(15):
            response = client.get(URL)
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == rows


def test_a_weak_row_lists_its_first_five_tasks_and_links_to_the_rest(
    client, coordinator, components, django_assert_max_num_queries
):
    """However many tasks a plan holds on an indicator, a row lists five (live first, soonest
    deadline first) and says how many more, with a link to them: the page costs the same."""
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0"})
    plan = PlanFactory(province=province("Lạng Sơn"))
    one = components["7.1"]
    TaskFactory(plan=plan, indicator=one, title="Nháp", status=Task.Status.DRAFT)
    for n in range(1, 8):
        TaskFactory(plan=plan, indicator=one, title=f"Việc {n}", deadline=dt.date(2026, 9, n))

    with django_assert_max_num_queries(15):
        page = client.get(URL).content.decode()
    [row] = listed(client)
    assert [t.title for t in row.addressing_tasks] == [f"Việc {n}" for n in range(1, 6)]
    assert "Việc 6" not in page and "Nháp" not in page
    more = f'href="/admin/plans/task/?indicator__id__exact={one.pk}">and 3 more tasks</a>'
    assert more in page
    response = client.get(f"/admin/plans/task/?indicator__id__exact={one.pk}")
    assert len(response.context["cl"].result_list) == 8  # the link lists every one


def test_a_weak_row_lists_the_soonest_tasks_of_all_its_plans_live_first_and_counts_the_rest(
    client, coordinator, components, django_assert_max_num_queries
):
    """A merged province's row lists the first tasks of its own plans and of the province it
    merged into together: live ones by deadline, then drafts (a draft task, or any task of a
    plan in draft); cancelled tasks and closed plans' tasks are neither listed nor counted."""
    assessment_with_scores("Hà Giang", 2024, {"7.1": "0"})  # merged into Tuyên Quang in 2025
    own = PlanFactory(year=2024, province=province("Hà Giang"))
    drafting = PlanFactory(year=2024, province=province("Hà Giang"), status=Plan.Status.DRAFT)
    merged = PlanFactory(year=2025, province=province("Tuyên Quang", 2025))
    closed = PlanFactory(
        year=2025, province=province("Tuyên Quang", 2025), status=Plan.Status.CLOSED
    )
    for plan, title, day, status in [
        (own, "A1", 5, Task.Status.NEW),
        (own, "A2", 1, Task.Status.DRAFT),
        (own, "A3", 7, Task.Status.IN_PROGRESS),
        (own, "Huỷ", 2, Task.Status.CANCELLED),
        (merged, "B1", 3, Task.Status.COMPLETED),
        (merged, "B2", 6, Task.Status.NEW),
        (drafting, "C1", 4, Task.Status.NEW),
        (closed, "Đã đóng", 1, Task.Status.NEW),
    ]:
        TaskFactory(
            plan=plan,
            indicator=components["7.1"],
            title=title,
            deadline=dt.date(2026, 9, day),
            status=status,
        )

    with django_assert_max_num_queries(15):
        page = client.get(URL).content.decode()
    [row] = listed(client)
    assert [(t.title, t.drafted) for t in row.addressing_tasks] == [
        ("B1", False),
        ("A1", False),
        ("B2", False),
        ("A3", False),
        ("A2", True),
    ]
    assert "Draft: <a" in page and ">and 1 more task</a>" in page  # C1
    assert "Huỷ" not in page and "Đã đóng" not in page


# --- Drafting tasks -------------------------------------------------------------------------


def draft_action(client, rows: list[WeakIndicator], **form) -> object:
    data = {"action": "create_draft_tasks", "_selected_action": [r.pk for r in rows], **form}
    return client.post(URL, data)


def test_action_asks_for_the_plan_then_drafts_one_task_per_indicator(
    client, coordinator, components
):
    department = UnitFactory(name="Sở Khoa học và Công nghệ")
    FocalPointFactory(unit=department, user=coordinator)
    lang_son = province("Lạng Sơn")
    PlanFactory(title="Kế hoạch 2025", year=2025, status=Plan.Status.CLOSED, province=lang_son)
    PlanFactory(title="Không tỉnh", year=2026)  # names no province: addresses nobody's results
    plan = PlanFactory(title="Kế hoạch 2026", year=2026, province=lang_son)
    assessment_with_scores("Lạng Sơn", 2023, {"7.1": "0"})
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0", "7.2": "0"})
    assessment_with_scores("Cao Bằng", 2024, {"7.1": "0"})
    rows = listed(client)
    assert len(rows) == 4

    page = draft_action(client, rows)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial == {
        "plan": plan.pk,
        "deadline": dt.date(2026, 12, 31),
        "lead_unit": department.pk,
    }
    assert list(form.fields["plan"].queryset) == [plan]  # not closed, and names its province

    response = draft_action(
        client, rows, apply="1", plan=plan.pk, lead_unit=department.pk, deadline=""
    )
    assert response.status_code == 302
    tasks = Task.objects.order_by("indicator__sort_key")
    # 7.1 once, though weak two years; Cao Bằng's results are not this plan's.
    assert [t.indicator.code for t in tasks] == ["7.1", "7.2"]
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("Cao Bằng 7.1" in m for m in messages)
    assert {(t.plan, t.status, t.lead_unit, t.deadline) for t in tasks} == {
        (plan, Task.Status.DRAFT, department, dt.date(2026, 12, 31))
    }
    assert "7.1" in tasks[0].title and components["7.1"].name_vi in tasks[0].title


def test_drafting_again_creates_nothing_new(client, coordinator, components):
    plan, lead = PlanFactory(year=2026, province=province("Lạng Sơn")), UnitFactory()
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0"})
    rows = listed(client)
    form = {"apply": "1", "plan": plan.pk, "lead_unit": lead.pk, "deadline": "30/06/2026"}
    draft_action(client, rows, **form)
    response = draft_action(client, rows, **form)
    assert Task.objects.count() == 1
    assert Task.objects.get().deadline == dt.date(2026, 6, 30)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("7.1" in m for m in messages)


def test_drafting_needs_a_lead_unit(client, coordinator, components):
    plan = PlanFactory(year=2026, province=province("Lạng Sơn"))
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0"})
    response = draft_action(client, listed(client), apply="1", plan=plan.pk, lead_unit="")
    assert response.status_code == 200
    assert "lead_unit" in response.context["form"].errors
    assert Task.objects.count() == 0


def test_steering_committee_sees_the_list_but_cannot_draft_tasks(client, components):
    member = UserFactory(username="bcd@tinh.example", is_staff=True)
    member.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    client.force_login(member)
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0"})
    response = client.get(URL)
    assert response.status_code == 200
    assert "create_draft_tasks" not in response.content.decode()
    draft_action(
        client, listed(client), apply="1", plan=PlanFactory().pk, lead_unit=UnitFactory().pk
    )
    assert Task.objects.count() == 0


# --- Covered, drafted, uncovered: one rule for the list, the action and the report ----------


def draft_form(plan: Plan) -> dict[str, object]:
    return {"apply": "1", "plan": plan.pk, "lead_unit": UnitFactory().pk, "deadline": ""}


def test_right_after_drafting_the_list_shows_the_indicators_as_drafted(
    client, coordinator, components
):
    plan = PlanFactory(year=2026, province=province("Lạng Sơn"))
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0", "7.2": "0"})
    draft_action(client, listed(client), **draft_form(plan))

    rows = listed(client)
    assert {r.indicator.code: r.coverage for r in rows} == {"7.1": "drafted", "7.2": "drafted"}
    page = client.get(URL).content.decode()
    assert "No task" not in page
    assert page.count("Draft: <a") == 2
    assert {r.indicator.code for r in listed(client, "covered=drafted")} == {"7.1", "7.2"}
    assert listed(client, "covered=no") == []


def test_an_indicator_whose_only_task_is_completed_is_covered_for_the_list_and_the_action(
    client, coordinator, components
):
    plan = PlanFactory(year=2026, province=province("Lạng Sơn"))
    TaskFactory(plan=plan, indicator=components["7.1"], status=Task.Status.COMPLETED)
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0"})

    (row,) = listed(client)
    assert row.coverage == "covered"
    assert "No task" not in client.get(URL).content.decode()
    response = draft_action(client, [row], **draft_form(plan))
    assert Task.objects.count() == 1  # nothing drafted: the list did not ask for a task
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("no new task: 7.1" in m for m in messages)


def test_a_task_of_another_provinces_plan_covers_nothing(client, coordinator, components):
    lang_son_plan = PlanFactory(year=2026, province=province("Lạng Sơn"))
    TaskFactory(plan=lang_son_plan, indicator=components["7.1"], title="Việc của Lạng Sơn")
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0"})
    assessment_with_scores("Cao Bằng", 2024, {"7.1": "0"})

    rows = {r.assessment.province.name: r for r in listed(client)}
    assert rows["Lạng Sơn"].coverage == "covered"
    assert rows["Cao Bằng"].coverage == "uncovered"
    assert rows["Cao Bằng"].addressing_tasks == []
    assert [t.title for t in rows["Lạng Sơn"].addressing_tasks] == ["Việc của Lạng Sơn"]

    cao_bang_plan = PlanFactory(year=2026, province=province("Cao Bằng"))
    draft_action(client, [rows["Cao Bằng"]], **draft_form(cao_bang_plan))
    (drafted,) = Task.objects.filter(plan=cao_bang_plan)
    assert drafted.indicator.code == "7.1"


def test_a_plan_of_a_merged_province_addresses_its_former_provinces_results(
    client, coordinator, components
):
    plan = PlanFactory(year=2025, province=province("Tuyên Quang", 2025))
    TaskFactory(plan=plan, indicator=components["7.1"])
    assessment_with_scores("Hà Giang", 2024, {"7.1": "0"})  # merged into Tuyên Quang in 2025
    (row,) = listed(client)
    assert row.coverage == "covered"

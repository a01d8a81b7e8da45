"""What a coordinator sees of the results in the admin: the assessment list with ranks, an
assessment's page with its year over year, a merged province's history, the year's rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from indicators.models import Assessment, Indicator, Province, WeakRule
from plans import roles
from tests.factories import (
    ComponentIndicatorFactory,
    UserFactory,
    assessment_with_scores,
    province,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(client):
    user = UserFactory(username="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    client.force_login(user)
    client.cookies["django_language"] = "en"  # pages asserted in English
    return user


def test_assessment_list_shows_value_and_national_rank_even_when_filtered(client, coordinator):
    assessment_with_scores("Cao Bằng", 2023, {"7": "150.00"})
    ours = assessment_with_scores("Lạng Sơn", 2023, {"7": "98.00"})
    response = client.get("/admin/indicators/assessment/?q=Lạng")
    (row,) = response.context["cl"].result_list
    assert (row, row.value, row.rank, row.provinces_in_year) == (ours, Decimal("0.0980"), 2, 2)


def test_assessment_list_costs_the_same_queries_for_3_and_30_provinces(
    client, coordinator, django_assert_max_num_queries
):
    """Expected, 8: session, user, permissions (2), the filters' choices (years, indicator
    sets), the count and the page, ranks included as subqueries."""
    names = [p.name for p in Province.objects.for_assessment_year(2023)]
    for count in (3, 30):
        for name in names[Assessment.objects.count() : count]:
            assessment_with_scores(name, 2023, {"7": "100.00"})
        with django_assert_max_num_queries(8):
            response = client.get("/admin/indicators/assessment/")
        assert len(response.context["cl"].result_list) == count


def test_assessment_page_shows_the_change_since_last_year(client, coordinator):
    ComponentIndicatorFactory(code="7.1", max_points=Decimal("10"))
    assessment_with_scores("Lạng Sơn", 2022, {"7.1": "2.00"})
    ours = assessment_with_scores("Lạng Sơn", 2023, {"7.1": "6.50"})
    response = client.get(f"/admin/indicators/assessment/{ours.pk}/change/")
    assert response.status_code == 200
    table = response.context["year_over_year"]
    dti, _main, component = table.changes
    assert (dti.before.points, dti.now.points) == (Decimal("2.00"), Decimal("6.50"))
    assert component.value_change == Decimal("0.4500")
    page = response.content.decode()
    assert "+4.50" in page
    assert "+0.4500" in page


def test_assessment_page_costs_the_same_queries_for_2_and_60_indicators(
    client, coordinator, django_assert_max_num_queries
):
    """Expected, at most 20: session, user, permissions (2), the admin's object and form
    (assessment, province, set, content type), the provinces, and for each of the two years its
    assessments, its published results, the set's max points and the scores; then the set's
    indicators."""
    for count in (2, 60):
        Assessment.objects.all().delete()
        for n in range(Indicator.objects.components().count() + 1, count + 1):
            ComponentIndicatorFactory(code=f"7.{n}", max_points=Decimal("3"))
        points = {f"7.{n}": "1.00" for n in range(1, count + 1)}
        assessment_with_scores("Lạng Sơn", 2022, points)
        ours = assessment_with_scores("Lạng Sơn", 2023, points)
        with django_assert_max_num_queries(20):
            response = client.get(f"/admin/indicators/assessment/{ours.pk}/change/")
        assert len(response.context["year_over_year"].changes) == count + 2


def test_assessments_are_read_only_in_the_admin(client, coordinator):
    ours = assessment_with_scores("Lạng Sơn", 2023, {"7": "98.00"})
    page = client.get(f"/admin/indicators/assessment/{ours.pk}/change/")
    assert not page.context["has_change_permission"]
    assert client.get("/admin/indicators/assessment/add/").status_code == 403


def test_merged_province_page_shows_former_provinces_and_the_baseline(client, coordinator):
    assessment_with_scores("Hà Giang", 2024, {"7": "100.00"})
    assessment_with_scores("Tuyên Quang", 2024, {"7": "150.01"})
    merged = province("Tuyên Quang", 2025)
    response = client.get(f"/admin/indicators/province/{merged.pk}/change/")
    (year_2024,) = response.context["history"]
    assert year_2024.result.value == Decimal("0.1250")  # (100 + 150.01) / 2 / 1000, half up
    page = response.content.decode()
    assert "Hà Giang" in page
    assert "0.1000" in page


def test_coordinator_sets_the_years_weakness_rules_in_the_admin(client, coordinator):
    response = client.post(
        "/admin/indicators/weakrule/add/",
        {"year": "2024", "zero_points": "on", "below_percent": "50", "main_rank_worse_than": ""},
    )
    assert response.status_code == 302
    rule = WeakRule.objects.get()
    assert (rule.year, rule.zero_points, rule.below_percent, rule.main_rank_worse_than) == (
        2024,
        True,
        50,
        None,
    )


def test_a_share_above_100_percent_is_refused(client, coordinator):
    response = client.post(
        "/admin/indicators/weakrule/add/", {"year": "2024", "below_percent": "150"}
    )
    assert response.status_code == 200
    assert "below_percent" in response.context["adminform"].form.errors

"""Indicator owners: per plan, each indicator's presiding, monitoring and coordinating units;
written by one service (admin, import), read by the draft action, the weak list and the
portal."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
import tablib
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from dtiplan.spreadsheets.errors import import_problems
from indicators.models import WeakIndicator
from plans import roles
from plans.models import IndicatorOwner, IndicatorOwnerUnit, OwnerRole, Plan, Task
from plans.owners import owners_for
from plans.resources import IndicatorOwnerResource
from plans.services import indicator_owner_set
from tests.factories import (
    ComponentIndicatorFactory,
    PlanFactory,
    UnitFactory,
    UserFactory,
    assessment_with_scores,
    focal_point_of,
    main_indicator,
    province,
)

pytestmark = pytest.mark.django_db

EXPORT_FIELDS = [
    "plan",
    "indicator_code",
    "presiding_unit",
    "monitoring_unit",
    "coordinating_units",
]


@pytest.fixture
def units():
    return {
        "snv": UnitFactory(name="Sở Nội vụ"),
        "stc": UnitFactory(name="Sở Tài chính"),
        "skhcn": UnitFactory(name="Sở Khoa học và Công nghệ"),
        "vp": UnitFactory(name="Văn phòng UBND tỉnh"),
    }


@pytest.fixture
def plan():
    # 2023: a year the DTI 2022 set of the migrations (whose indicators the factories make) is
    # in force, however later sets are loaded.
    return PlanFactory(title="Kế hoạch DTI 2026", year=2023, province=province("Lạng Sơn", 2024))


@pytest.fixture
def coordinator(client):
    user = UserFactory(username="dti@skhcn.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.COORDINATOR))
    return user


def roles_of(plan: Plan, code: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    rows = IndicatorOwnerUnit.objects.filter(owner__plan=plan, owner__indicator__code=code)
    for row in rows.select_related("unit").order_by("unit__name"):
        found.setdefault(row.role, []).append(row.unit.name)
    return found


# --- The rules --------------------------------------------------------------------------------


def test_setting_owners_replaces_the_indicators_units(plan, units):
    seven = main_indicator("7")
    indicator_owner_set(
        plan=plan,
        indicator=seven,
        presiding_unit=units["snv"],
        monitoring_unit=units["skhcn"],
        coordinating_units=[units["stc"], units["vp"]],
    )
    indicator_owner_set(
        plan=plan, indicator=seven, presiding_unit=units["stc"], coordinating_units=[units["snv"]]
    )
    assert roles_of(plan, "7") == {"presiding": ["Sở Tài chính"], "coordinating": ["Sở Nội vụ"]}
    assert IndicatorOwner.objects.count() == 1


def test_presiding_unit_cannot_also_coordinate_or_monitor(plan, units):
    with pytest.raises(ValidationError) as error:
        indicator_owner_set(
            plan=plan,
            indicator=main_indicator("7"),
            presiding_unit=units["snv"],
            monitoring_unit=units["snv"],
            coordinating_units=[units["snv"]],
        )
    assert set(error.value.message_dict) == {"monitoring_unit", "coordinating_units"}
    assert not IndicatorOwner.objects.exists()


def test_the_database_refuses_a_second_role_for_a_unit_and_a_second_presiding_unit(plan, units):
    owner = indicator_owner_set(
        plan=plan, indicator=main_indicator("7"), presiding_unit=units["snv"]
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorOwnerUnit.objects.create(
            owner=owner, unit=units["snv"], role=OwnerRole.COORDINATING
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorOwnerUnit.objects.create(owner=owner, unit=units["stc"], role=OwnerRole.PRESIDING)
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorOwner.objects.create(plan=plan, indicator=main_indicator("7"))


def test_an_indicator_outside_the_plans_year_set_is_refused(units):
    old_plan = PlanFactory(year=2019)  # before any set in force
    with pytest.raises(ValidationError) as error:
        indicator_owner_set(
            plan=old_plan, indicator=main_indicator("7"), presiding_unit=units["snv"]
        )
    assert "indicator" in error.value.message_dict


def test_a_component_without_its_own_units_answers_through_its_main_indicator(plan, units):
    component = ComponentIndicatorFactory(code="7.1")
    own = ComponentIndicatorFactory(code="7.2")
    indicator_owner_set(plan=plan, indicator=main_indicator("7"), presiding_unit=units["snv"])
    indicator_owner_set(plan=plan, indicator=own, presiding_unit=units["stc"])
    found = owners_for([plan.pk], [component, own])
    assert found[(plan.pk, component.pk)].presiding == units["snv"]
    assert found[(plan.pk, component.pk)].inherited
    assert found[(plan.pk, own.pk)].presiding == units["stc"]


# --- The import -------------------------------------------------------------------------------


def owner_file(*rows: list[str], headers: list[str] | None = None) -> tablib.Dataset:
    headers = headers or [
        "STT",
        "Kế hoạch",
        "Mã chỉ số",
        "Đơn vị chủ trì",
        "Đơn vị đầu mối theo dõi",
        "Cơ quan, đơn vị phối hợp",
    ]
    return tablib.Dataset(*[["1", *row] for row in rows], headers=headers)


def test_import_reads_vietnamese_headers_and_unit_names_as_people_write_them(plan, units):
    ComponentIndicatorFactory(code="7.1")
    data = owner_file(
        [
            "kế hoạch dti 2026",
            "7",
            "SỞ NỘI VỤ",
            "Sở Khoa học và Công nghệ",
            "Sở Tài chính; Văn phòng UBND tỉnh",
        ],
        ["Kế hoạch DTI 2026", "7.1", "Sở  Tài chính", "", ""],
    )
    result = IndicatorOwnerResource().import_data(data)
    assert not import_problems(result)
    assert roles_of(plan, "7") == {
        "coordinating": ["Sở Tài chính", "Văn phòng UBND tỉnh"],
        "monitoring": ["Sở Khoa học và Công nghệ"],
        "presiding": ["Sở Nội vụ"],
    }
    assert roles_of(plan, "7.1") == {"presiding": ["Sở Tài chính"]}

    # The same file again changes nothing; a changed row changes only that indicator.
    again = IndicatorOwnerResource().import_data(data)
    assert {row.import_type for row in again.rows} == {"skip"}
    data[1] = ["1", "Kế hoạch DTI 2026", "7.1", "Sở Nội vụ", "", "Sở Tài chính"]
    IndicatorOwnerResource().import_data(data)
    assert roles_of(plan, "7.1") == {"presiding": ["Sở Nội vụ"], "coordinating": ["Sở Tài chính"]}


def test_import_is_all_or_nothing_with_the_row_and_column_of_each_problem(plan, units):
    data = owner_file(
        ["Kế hoạch DTI 2026", "7", "Sở Nội vụ", "", ""],
        ["Kế hoạch DTI 2026", "99", "Sở Nội vụ", "", ""],
        ["Kế hoạch DTI 2026", "8", "Sở Nội Vu", "", ""],
        ["Kế hoạch DTI 2026", "9", "Sở Tài chính", "", "Sở Tài chính"],
        ["Kế hoạch DTI 2026", "7", "Sở Tài chính", "", ""],
    )
    problems = {
        (p.row, p.column) for p in import_problems(IndicatorOwnerResource().import_data(data))
    }
    assert problems == {
        (3, "Mã chỉ số"),
        (4, "Đơn vị chủ trì"),
        (5, "Cơ quan, đơn vị phối hợp"),
        (6, "Mã chỉ số"),
    }
    assert not IndicatorOwner.objects.exists()
    assert not IndicatorOwnerUnit.objects.exists()


def test_import_suggests_the_unit_meant(plan, units):
    data = owner_file(["Kế hoạch DTI 2026", "8", "Sở Nội Vu", "", ""])
    [problem] = import_problems(IndicatorOwnerResource().import_data(data))
    assert "Sở Nội vụ" in problem.message


def test_export_writes_the_import_columns(plan, units):
    indicator_owner_set(
        plan=plan,
        indicator=main_indicator("7"),
        presiding_unit=units["snv"],
        coordinating_units=[units["vp"], units["stc"]],
    )
    dataset = IndicatorOwnerResource().export()
    assert dataset.headers == [
        "plan",
        "indicator_code",
        "presiding_unit",
        "monitoring_unit",
        "coordinating_units",
    ]
    assert list(dataset[0]) == [
        "Kế hoạch DTI 2026",
        "7",
        "Sở Nội vụ",
        "",
        "Sở Tài chính; Văn phòng UBND tỉnh",
    ]


# --- Where owners show ------------------------------------------------------------------------


def test_admin_adds_an_indicators_units_and_refuses_a_presiding_coordinator(
    client, coordinator, plan, units
):
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    url = "/admin/plans/indicatorowner/add/"
    form = {
        "plan": plan.pk,
        "indicator": main_indicator("7").pk,
        "presiding_unit": units["snv"].pk,
        "monitoring_unit": units["skhcn"].pk,
        "coordinating_units": [units["snv"].pk, units["stc"].pk],
    }
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "cannot also be a coordinating unit" in refused.content.decode()
    form["coordinating_units"] = [units["stc"].pk]
    assert client.post(url, form).status_code == 302
    assert roles_of(plan, "7") == {
        "coordinating": ["Sở Tài chính"],
        "monitoring": ["Sở Khoa học và Công nghệ"],
        "presiding": ["Sở Nội vụ"],
    }
    listing = client.get("/admin/plans/indicatorowner/").content.decode()
    assert "Sở Khoa học và Công nghệ" in listing


def test_a_drafted_task_takes_the_indicators_presiding_unit_as_lead(
    client, coordinator, plan, units
):
    client.force_login(coordinator)
    seven_one = ComponentIndicatorFactory(code="7.1", max_points=Decimal("10"))
    ComponentIndicatorFactory(code="7.2", max_points=Decimal("10"))
    indicator_owner_set(plan=plan, indicator=seven_one, presiding_unit=units["snv"])
    assessment_with_scores("Lạng Sơn", 2024, {"7.1": "0", "7.2": "0"})
    rows = list(WeakIndicator.objects.weak())
    client.post(
        "/admin/indicators/weakindicator/",
        {
            "action": "create_draft_tasks",
            "_selected_action": [r.pk for r in rows],
            "apply": "1",
            "plan": plan.pk,
            "lead_unit": units["vp"].pk,
            "deadline": "",
        },
    )
    leads = dict(Task.objects.values_list("indicator__code", "lead_unit__name"))
    assert leads == {"7.1": "Sở Nội vụ", "7.2": "Văn phòng UBND tỉnh"}


def test_weak_list_shows_each_indicators_presiding_unit_in_bounded_queries(
    client, coordinator, plan, units, django_assert_max_num_queries
):
    client.force_login(coordinator)
    indicators = [ComponentIndicatorFactory(code=f"7.{n}") for n in range(1, 21)]
    for indicator in indicators:
        indicator_owner_set(
            plan=plan, indicator=indicator, presiding_unit=units["snv"], monitoring_unit=units["vp"]
        )
    assessment_with_scores("Lạng Sơn", 2024, {i.code: "0" for i in indicators})
    # The list's own (tests/test_weak_indicators.py), the owners among them: plans and units.
    with django_assert_max_num_queries(15):
        page = client.get("/admin/indicators/weakindicator/")
    assert page.content.decode().count("Sở Nội vụ") >= 20


def test_focal_points_portal_lists_the_indicators_their_unit_presides_over_or_monitors(
    client, plan, units, django_assert_max_num_queries
):
    indicator_owner_set(plan=plan, indicator=main_indicator("7"), presiding_unit=units["snv"])
    indicator_owner_set(
        plan=plan,
        indicator=main_indicator("8"),
        presiding_unit=units["stc"],
        monitoring_unit=units["snv"],
    )
    indicator_owner_set(
        plan=plan,
        indicator=main_indicator("9"),
        presiding_unit=units["stc"],
        coordinating_units=[units["snv"]],
    )
    indicator_owner_set(plan=plan, indicator=main_indicator("3"), presiding_unit=units["vp"])
    client.force_login(focal_point_of(units["snv"]))
    # Session, user, the person's units, permissions (2), the indicators, their units, the
    # notifications badge: the same for 4 indicators or 400.
    with django_assert_max_num_queries(8):
        page = client.get("/indicators/")
    codes = [owner.indicator.code for owner in page.context["owners"]]
    assert codes == ["7", "8"]  # not 9 (only coordinates), never 3 (another unit's)

    client.force_login(focal_point_of(UnitFactory(name="Sở Y tế")))
    assert client.get("/indicators/").context["owners"] == []


def test_admin_owner_list_costs_the_same_queries_for_few_and_many_owners(
    client, coordinator, plan, units, django_assert_max_num_queries
):
    client.force_login(coordinator)
    for count in (3, 30):
        for n in range(IndicatorOwner.objects.count() + 1, count + 1):
            indicator_owner_set(
                plan=plan,
                indicator=ComponentIndicatorFactory(code=f"7.{n}"),
                presiding_unit=units["snv"],
                monitoring_unit=units["vp"],
                coordinating_units=[units["stc"]],
            )
        with django_assert_max_num_queries(12):
            page = client.get("/admin/plans/indicatorowner/")
        assert len(page.context["cl"].result_list) == count


def test_admin_imports_owners_with_a_preview_and_exports_them_back(
    client, coordinator, plan, units
):
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    text = (
        "STT,Kế hoạch,Mã chỉ số,Đơn vị chủ trì,Đơn vị phối hợp\n"
        "1,Kế hoạch DTI 2026,7,Sở Nội vụ,Sở Tài chính; Văn phòng UBND tỉnh\n"
    )
    upload = SimpleUploadedFile("owners.csv", text.encode("utf-8-sig"), content_type="text/csv")
    preview = client.post(
        "/admin/plans/indicatorowner/import/", {"import_file": upload, "format": "0"}
    )
    assert "confirm_form" in preview.context, preview.context.get("result")
    assert not IndicatorOwner.objects.exists()  # the preview is a dry run
    page = html.unescape(preview.content.decode())
    assert "Kế hoạch DTI 2026" in page
    assert "Sở Tài chính; Văn phòng UBND tỉnh" in page  # the units as the export writes them
    done = client.post(
        "/admin/plans/indicatorowner/process_import/",
        preview.context["confirm_form"].initial,
        follow=True,
    )
    assert done.status_code == 200
    assert roles_of(plan, "7") == {
        "coordinating": ["Sở Tài chính", "Văn phòng UBND tỉnh"],
        "presiding": ["Sở Nội vụ"],
    }

    exported = client.post(
        "/admin/plans/indicatorowner/export/",
        {
            "format": "0",
            "resource": "0",
            **{f"indicatorownerresource_{n}": "on" for n in EXPORT_FIELDS},
        },
    )
    assert exported.status_code == 200
    body = exported.content.decode("utf-8-sig")
    assert "Sở Tài chính; Văn phòng UBND tỉnh" in body


def test_import_reads_units_as_plans_write_them_short_names_and_abbreviations(plan, units):
    units["vp"].short_name = "VP UBND"
    units["vp"].save()
    data = owner_file(["Kế hoạch DTI 2026", "7", "Sở KH&CN", "", "VP UBND; Sở Tài chính"])
    assert not import_problems(IndicatorOwnerResource().import_data(data))
    assert roles_of(plan, "7") == {
        "coordinating": ["Sở Tài chính", "Văn phòng UBND tỉnh"],
        "presiding": ["Sở Khoa học và Công nghệ"],
    }


# --- The owners on the plan's page ------------------------------------------------------------


def plan_page_form(plan: Plan, owners: list[dict], **extra) -> dict:
    """The plan's change form as the browser posts it: the plan's fields, no targets, and the
    owner rows given (``id`` for an existing row)."""
    data = {
        "title": plan.title,
        "year": plan.year,
        "decision": plan.decision,
        "status": plan.status,
        "province": plan.province_id or "",
        "first_year": "",
        "last_year": "",
        "targets-TOTAL_FORMS": 0,
        "targets-INITIAL_FORMS": 0,
        "indicator_owners-TOTAL_FORMS": len(owners),
        "indicator_owners-INITIAL_FORMS": sum(1 for row in owners if row.get("id")),
    }
    for n, row in enumerate(owners):
        for name, value in row.items():
            data[f"indicator_owners-{n}-{name}"] = value
        data[f"indicator_owners-{n}-plan"] = plan.pk
    data.update(extra)
    return data


def test_plan_page_lists_its_owners_in_bounded_queries(
    client, coordinator, plan, units, django_assert_max_num_queries
):
    client.force_login(coordinator)
    for n in range(1, 41):
        indicator_owner_set(
            plan=plan,
            indicator=ComponentIndicatorFactory(code=f"7.{n}"),
            presiding_unit=units["snv"],
            monitoring_unit=units["vp"],
            coordinating_units=[units["stc"], units["skhcn"]],
        )
    with django_assert_max_num_queries(16):
        page = client.get(f"/admin/plans/plan/{plan.pk}/change/")
    rows = [
        {
            "id": owner.pk,
            "indicator": owner.indicator_id,
            "presiding_unit": units["snv"].pk,
            "monitoring_unit": units["vp"].pk,
            "coordinating_units": [units["stc"].pk, units["skhcn"].pk],
        }
        for owner in IndicatorOwner.objects.order_by("indicator__sort_key")
    ]
    # Saving the plan checks every row without a query per row (and rewrites none).
    with django_assert_max_num_queries(25):
        saved = client.post(
            f"/admin/plans/plan/{plan.pk}/change/",
            plan_page_form(plan, rows, decision="124/KH-UBND"),
        )
    assert saved.status_code == 302
    assert Plan.objects.get().decision == "124/KH-UBND"
    owners = page.context["inline_admin_formsets"][1].formset
    assert len(owners.initial_forms) == 40
    row = owners.initial_forms[0]
    assert row.initial["presiding_unit"] == units["snv"].pk
    assert sorted(row.initial["coordinating_units"]) == sorted([units["stc"].pk, units["skhcn"].pk])
    body = page.content.decode()
    assert f'<option value="{units["vp"].pk}" selected>Văn phòng UBND tỉnh</option>' in body


def test_plan_page_adds_and_changes_owners_with_the_owners_rules(client, coordinator, plan, units):
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    url = f"/admin/plans/plan/{plan.pk}/change/"
    row = {
        "indicator": main_indicator("7").pk,
        "presiding_unit": units["snv"].pk,
        "monitoring_unit": units["snv"].pk,
        "coordinating_units": [units["snv"].pk, units["stc"].pk],
    }
    refused = client.post(url, plan_page_form(plan, [row]))
    assert refused.status_code == 200
    body = html.unescape(refused.content.decode())
    assert "Sở Nội vụ presides over the indicator; another unit monitors it." in body
    assert "cannot also be a coordinating unit" in body
    assert not IndicatorOwner.objects.exists()

    row.update(monitoring_unit=units["skhcn"].pk, coordinating_units=[units["stc"].pk])
    assert client.post(url, plan_page_form(plan, [row])).status_code == 302
    assert roles_of(plan, "7") == {
        "coordinating": ["Sở Tài chính"],
        "monitoring": ["Sở Khoa học và Công nghệ"],
        "presiding": ["Sở Nội vụ"],
    }

    owner = IndicatorOwner.objects.get()
    changed = {**row, "id": owner.pk, "presiding_unit": units["vp"].pk, "coordinating_units": []}
    assert client.post(url, plan_page_form(plan, [changed])).status_code == 302
    assert roles_of(plan, "7") == {
        "monitoring": ["Sở Khoa học và Công nghệ"],
        "presiding": ["Văn phòng UBND tỉnh"],
    }
    assert IndicatorOwner.objects.get().pk == owner.pk  # the same row, its units replaced


def test_plan_page_refuses_a_second_row_for_an_indicator_and_one_outside_the_plans_set(
    client, coordinator, plan, units
):
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    owner = indicator_owner_set(
        plan=plan, indicator=main_indicator("7"), presiding_unit=units["snv"]
    )
    url = f"/admin/plans/plan/{plan.pk}/change/"
    kept = {"id": owner.pk, "indicator": main_indicator("7").pk, "presiding_unit": units["snv"].pk}
    again = {"indicator": main_indicator("7").pk, "presiding_unit": units["stc"].pk}
    refused = client.post(url, plan_page_form(plan, [kept, again]))
    assert refused.status_code == 200
    assert "Please correct the duplicate data for indicator." in refused.content.decode()

    later_set = {
        "indicator": main_indicator("1", set_code="DTI2024").pk,
        "presiding_unit": units["stc"].pk,
    }
    refused = client.post(url, plan_page_form(plan, [kept, later_set]))
    assert refused.status_code == 200
    # The rows offer the indicators of the set in force in the plan's year only.
    assert "Select a valid choice." in refused.content.decode()
    assert roles_of(plan, "7") == {"presiding": ["Sở Nội vụ"]}
    assert IndicatorOwner.objects.count() == 1


def test_plan_page_deletes_an_owner_row(client, coordinator, plan, units):
    client.force_login(coordinator)
    owner = indicator_owner_set(
        plan=plan, indicator=main_indicator("7"), presiding_unit=units["snv"]
    )
    row = {
        "id": owner.pk,
        "indicator": main_indicator("7").pk,
        "presiding_unit": units["snv"].pk,
        "DELETE": "on",
    }
    assert (
        client.post(f"/admin/plans/plan/{plan.pk}/change/", plan_page_form(plan, [row])).status_code
        == 302
    )
    assert not IndicatorOwner.objects.exists()


def test_a_new_plans_page_has_no_owner_rows_until_it_is_saved(client, coordinator):
    client.force_login(coordinator)
    page = client.get("/admin/plans/plan/add/")
    assert page.status_code == 200
    assert "indicator_owners-TOTAL_FORMS" not in page.content.decode()


def test_the_steering_committee_reads_the_plans_owners_without_changing_them(client, plan, units):
    member = UserFactory(username="bcd@tinh.example", is_staff=True)
    member.groups.add(Group.objects.get(name=roles.STEERING_COMMITTEE))
    client.force_login(member)
    indicator_owner_set(
        plan=plan,
        indicator=main_indicator("7"),
        presiding_unit=units["snv"],
        coordinating_units=[units["stc"]],
    )
    page = client.get(f"/admin/plans/plan/{plan.pk}/change/")
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    assert "Sở Nội vụ" in body and "Sở Tài chính" in body
    assert "indicator_owners-0-presiding_unit" not in body  # shown, not editable

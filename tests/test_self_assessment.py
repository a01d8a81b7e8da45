"""The self-assessment round: opened by a coordinator, filled in by the presiding units through
the portal with evidence, checked by the monitoring unit or a coordinator; readiness and the
pack for the ministry."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from plans import roles
from plans.models import ItemStatus, SelfAssessmentEvidence, SelfAssessmentItem, SelfAssessmentRound
from plans.self_assessment import (
    readiness,
    self_assessment_accept,
    self_assessment_close,
    self_assessment_open,
    self_assessment_reopen,
    self_assessment_return,
    self_assessment_save,
    self_assessment_submit,
)
from plans.self_assessment_pack import pack_bytes
from plans.services import indicator_owner_set
from plans.uploads import evidence_orphans
from tests.factories import (
    PDF_BYTES,
    ComponentIndicatorFactory,
    PlanFactory,
    UnitFactory,
    UserFactory,
    assessment_with_scores,
    focal_point_of,
    main_indicator,
    pdf_upload,
    province,
)

pytestmark = pytest.mark.django_db

# A year the DTI 2022 set of the migrations is in force, however later sets are loaded.
YEAR = 2023
DEADLINE = dt.date(2024, 1, 15)


@pytest.fixture
def units():
    return {
        "snv": UnitFactory(name="Sở Nội vụ"),
        "skhcn": UnitFactory(name="Sở Khoa học và Công nghệ"),
        "stc": UnitFactory(name="Sở Tài chính"),
    }


@pytest.fixture
def components():
    return {
        code: ComponentIndicatorFactory(code=code, max_points=Decimal("10"))
        for code in ("7.1", "7.2", "7.3")
    }


@pytest.fixture
def plan(units, components):
    plan = PlanFactory(title="Kế hoạch DTI 2023", year=YEAR)
    # Main indicator 7 (and so 7.1 and 7.2) to Sở Nội vụ, checked by Sở KH&CN; 7.3 its own.
    indicator_owner_set(
        plan=plan,
        indicator=main_indicator("7"),
        presiding_unit=units["snv"],
        monitoring_unit=units["skhcn"],
    )
    indicator_owner_set(plan=plan, indicator=components["7.3"], presiding_unit=units["stc"])
    return plan


def member_of(group: str, username: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def coordinator():
    return member_of(roles.COORDINATOR, "dti@skhcn.tinh.example")


@pytest.fixture
def opened(plan, coordinator):
    return self_assessment_open(year=YEAR, deadline=DEADLINE, by=coordinator)


def item(code: str) -> SelfAssessmentItem:
    return SelfAssessmentItem.objects.get(
        indicator__code=code, indicator__indicator_set__code="DTI2022"
    )


# --- Opening ----------------------------------------------------------------------------------


def test_opening_creates_one_item_per_scored_indicator_owned_by_its_presiding_unit(opened, units):
    items = {i.indicator.code: i for i in SelfAssessmentItem.objects.select_related("indicator")}
    # The three components of 7, and the scored main indicators without components (the
    # migrations' set lists only main indicators elsewhere); not 6 (collected, not scored).
    assert set(items) == {"1", "2", "3", "4", "5", "7.1", "7.2", "7.3", "8", "9"}
    assert opened.items == 10
    assert items["7.1"].unit == units["snv"] and items["7.1"].monitoring_unit == units["skhcn"]
    assert items["7.3"].unit == units["stc"] and items["7.3"].monitoring_unit is None
    assert items["7.1"].max_points == Decimal("10")
    assert {i.code for i in opened.without_owner} == {"1", "2", "3", "4", "5", "8", "9"}
    assert all(i.status == ItemStatus.NOT_STARTED for i in items.values())


def test_a_second_round_for_the_same_year_is_refused(opened, coordinator):
    with pytest.raises(ValidationError) as error:
        self_assessment_open(year=YEAR, deadline=DEADLINE, by=coordinator)
    assert "year" in error.value.message_dict
    assert SelfAssessmentRound.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        SelfAssessmentRound.objects.create(
            year=YEAR, indicator_set=opened.round.indicator_set, deadline=DEADLINE
        )


def test_only_coordinators_open_a_round(plan, units):
    with pytest.raises(PermissionDenied):
        self_assessment_open(year=YEAR, deadline=DEADLINE, by=focal_point_of(units["snv"]))


def test_command_opens_a_round_and_refuses_a_second(plan, capsys):
    call_command("self_assessment_open", "--year", str(YEAR), "--deadline", "2024-01-15")
    out = capsys.readouterr().out
    assert "10 item(s)" in out and "No presiding unit for 7" in out
    with pytest.raises(CommandError, match="2023"):  # "already open", in the site's language
        call_command("self_assessment_open", "--year", str(YEAR), "--deadline", "2024-01-15")


def test_admin_opens_a_round_from_its_form(client, coordinator, plan):
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    response = client.post(
        "/admin/plans/selfassessmentround/add/",
        {"year": YEAR, "deadline": "2024-01-15", "plan": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert "10 items created" in response.content.decode()
    assert SelfAssessmentRound.objects.get().plan == plan
    again = client.post(
        "/admin/plans/selfassessmentround/add/", {"year": YEAR, "deadline": "2024-01-15"}
    )
    assert "already open" in again.content.decode()


# --- The rules of an item ---------------------------------------------------------------------


def test_points_above_the_max_or_below_zero_are_refused_by_the_service_and_the_database(
    opened, units
):
    person = focal_point_of(units["snv"])
    for points in ("10.01", "-1", "abc", "1.234"):
        with pytest.raises(ValidationError):
            self_assessment_save(item=item("7.1"), by=person, points=points)
    with pytest.raises(IntegrityError), transaction.atomic():
        SelfAssessmentItem.objects.filter(pk=item("7.1").pk).update(points=Decimal("11"))
    saved = self_assessment_save(item=item("7.1"), by=person, points="7,5", figures="75/100")
    assert saved.points == Decimal("7.5") and saved.status == ItemStatus.IN_PROGRESS


def test_only_the_presiding_unit_edits_and_an_accepted_item_is_final(opened, units, coordinator):
    person = focal_point_of(units["snv"])
    monitor = focal_point_of(units["skhcn"])
    with pytest.raises(PermissionDenied):
        self_assessment_save(item=item("7.3"), by=person, points="1")
    with pytest.raises(PermissionDenied):
        self_assessment_save(item=item("7.1"), by=monitor, points="1")
    self_assessment_save(item=item("7.1"), by=person, points="8")
    self_assessment_submit(item=item("7.1"), by=person)
    with pytest.raises(ValidationError):
        self_assessment_save(item=item("7.1"), by=person, points="9")
    with pytest.raises(PermissionDenied):  # nobody checks their own submission
        self_assessment_accept(item=item("7.1"), by=person)
    self_assessment_accept(item=item("7.1"), by=monitor)
    with pytest.raises(ValidationError):
        self_assessment_save(item=item("7.1"), by=coordinator, points="9")
    with pytest.raises(ValidationError):
        self_assessment_return(item=item("7.1"), by=coordinator, comment="bổ sung")


def test_a_returned_item_goes_back_to_the_unit_and_is_resubmitted_with_history(
    opened, units, coordinator
):
    person = focal_point_of(units["snv"])
    self_assessment_save(item=item("7.2"), by=person, points="6")
    with pytest.raises(ValidationError):
        self_assessment_submit(item=item("7.3"), by=focal_point_of(units["stc"]))  # no points
    self_assessment_submit(item=item("7.2"), by=person)
    with pytest.raises(ValidationError):
        self_assessment_return(item=item("7.2"), by=coordinator, comment="  ")
    self_assessment_return(item=item("7.2"), by=coordinator, comment="Bổ sung minh chứng")
    returned = item("7.2")
    assert returned.status == ItemStatus.RETURNED
    assert returned.review_comment == "Bổ sung minh chứng"
    self_assessment_save(item=returned, by=person, points="7")
    self_assessment_submit(item=item("7.2"), by=person)
    self_assessment_accept(item=item("7.2"), by=coordinator)
    history = [
        (h.status, h.history_user)
        for h in item("7.2").history.order_by("history_date", "history_id")
    ]
    assert [status for status, _user in history] == [
        "not_started",
        "in_progress",
        "submitted",
        "returned",
        "returned",
        "submitted",
        "accepted",
    ]
    assert history[3][1] == coordinator and history[2][1] == person


# --- Through the portal -----------------------------------------------------------------------


def test_a_focal_point_completes_an_item_with_evidence_in_the_portal(client, opened, units):
    person = focal_point_of(units["snv"])
    client.force_login(person)
    listing = client.get("/self-assessment/")
    assert [i.indicator.code for i in listing.context["items"]] == ["7.1", "7.2"]
    target = item("7.1")
    url = f"/self-assessment/items/{target.pk}/"
    assert client.get(url).status_code == 200

    refused = client.post(url + "save/", {"points": "12", "figures": ""})
    assert refused.status_code == 200 and refused.context["item_form"].errors
    client.post(url + "save/", {"points": "9,5", "figures": "1.245/1.300 cán bộ đã được tập huấn"})
    client.post(url + "evidence/", {"file": pdf_upload("danh-sach.pdf")})
    client.post(url + "evidence/", {"link": "https://dichvucong.tinh.gov.vn/bao-cao"})
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00", content_type="application/pdf")
    assert client.post(url + "evidence/", {"file": fake}).context["evidence_form"].errors
    assert client.post(url + "submit/").status_code == 302

    target.refresh_from_db()
    assert target.status == ItemStatus.SUBMITTED
    assert target.points == Decimal("9.5")
    assert target.figures == "1.245/1.300 cán bộ đã được tập huấn"
    assert target.evidence.count() == 2
    file = target.evidence.exclude(file="").get()
    download = client.get(f"/self-assessment/evidence/{file.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert download["Cache-Control"] == "private, no-store"
    # Submitted: the unit can no longer change it.
    assert client.post(url + "save/", {"points": "1"}).status_code == 403


def test_another_units_items_and_evidence_answer_404(client, opened, units):
    owner = focal_point_of(units["stc"])
    self_assessment_save(item=item("7.3"), by=owner, points="1")
    evidence = SelfAssessmentEvidence(item=item("7.3"), original_name="mat.pdf")
    evidence.file.save("mat.pdf", SimpleUploadedFile("mat.pdf", PDF_BYTES), save=False)
    evidence.save()

    client.force_login(focal_point_of(units["snv"]))
    other = item("7.3")
    assert client.get(f"/self-assessment/items/{other.pk}/").status_code == 404
    assert (
        client.post(f"/self-assessment/items/{other.pk}/save/", {"points": "1"}).status_code == 404
    )
    assert client.get(f"/self-assessment/evidence/{evidence.pk}/").status_code == 404
    assert client.post(f"/self-assessment/evidence/{evidence.pk}/remove/").status_code == 404
    assert "7.3" not in [i.indicator.code for i in client.get("/self-assessment/").context["items"]]


def test_the_monitoring_unit_sees_and_returns_but_does_not_edit(client, opened, units):
    person = focal_point_of(units["snv"])
    self_assessment_save(item=item("7.1"), by=person, points="4")
    self_assessment_submit(item=item("7.1"), by=person)
    client.force_login(focal_point_of(units["skhcn"]))
    url = f"/self-assessment/items/{item('7.1').pk}/"
    page = client.get(url)
    assert page.context["review_form"] is not None and page.context["item_form"] is None
    assert client.post(url + "save/", {"points": "1"}).status_code == 403
    missing = client.post(url + "review/", {"decision": "return", "comment": ""})
    assert missing.context["review_form"].errors
    client.post(url + "review/", {"decision": "return", "comment": "Bổ sung minh chứng"})
    assert item("7.1").status == ItemStatus.RETURNED


# --- Closing a round --------------------------------------------------------------------------


def test_a_closed_round_refuses_changes_through_the_portal_with_a_clear_message(
    client, opened, units, coordinator
):
    person = focal_point_of(units["snv"])
    self_assessment_save(item=item("7.2"), by=person, points="4")
    self_assessment_submit(item=item("7.2"), by=person)
    self_assessment_close(round=opened.round, by=coordinator)
    client.force_login(person)
    client.cookies["django_language"] = "en"
    url = f"/self-assessment/items/{item('7.1').pk}/"
    page = client.get(url)
    assert page.context["item_form"] is None and page.context["evidence_form"] is None
    assert "The round was closed on" in page.content.decode()
    for action, data in [("save/", {"points": "5"}), ("evidence/", {"link": "https://x.vn"})]:
        refused = client.post(url + action, data, follow=True)
        assert "The self-assessment round DTI 2023 was closed on" in refused.content.decode()
    client.post(url + "submit/")
    assert (item("7.1").status, item("7.1").points) == (ItemStatus.NOT_STARTED, None)
    assert not item("7.1").evidence.exists()
    # Nor can the submitted item be checked, by the portal or the service.
    client.force_login(focal_point_of(units["skhcn"]))
    client.post(f"/self-assessment/items/{item('7.2').pk}/review/", {"decision": "accept"})
    with pytest.raises(ValidationError, match="closed"):
        self_assessment_accept(item=item("7.2"), by=coordinator)
    assert item("7.2").status == ItemStatus.SUBMITTED


def test_only_a_coordinator_closes_and_reopens_a_round(opened, units, coordinator):
    with pytest.raises(PermissionDenied):
        self_assessment_close(round=opened.round, by=focal_point_of(units["snv"]))
    closed = self_assessment_close(round=opened.round, by=coordinator)
    assert closed.is_closed and closed.closed_by == coordinator
    reopened = self_assessment_reopen(round=closed, by=coordinator)
    assert not reopened.is_closed
    saved = self_assessment_save(item=item("7.1"), by=focal_point_of(units["snv"]), points="3")
    assert saved.points == Decimal("3")


def test_a_coordinator_closes_a_round_in_the_admin_and_the_readiness_page_says_so(
    client, opened, coordinator
):
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    done = client.post(
        "/admin/plans/selfassessmentround/",
        {"action": "close", "_selected_action": [opened.round.pk]},
        follow=True,
    )
    assert "1 round(s) closed." in done.content.decode()
    assert SelfAssessmentRound.objects.get().is_closed
    page = client.get("/admin/reports/self-assessment/").content.decode()
    assert "Closed on" in page and "no longer reminded" in page
    # The round's and its items' admin pages are read-only now.
    round_page = client.get(f"/admin/plans/selfassessmentround/{opened.round.pk}/change/")
    assert 'name="deadline"' not in round_page.content.decode()
    item_page = client.get(f"/admin/plans/selfassessmentitem/{item('7.1').pk}/change/")
    assert item_page.status_code == 200 and 'name="unit"' not in item_page.content.decode()
    client.post(
        "/admin/plans/selfassessmentround/",
        {"action": "reopen", "_selected_action": [opened.round.pk]},
    )
    assert not SelfAssessmentRound.objects.get().is_closed


def test_item_list_costs_the_same_queries_for_few_and_many_items(
    client, opened, units, django_assert_max_num_queries
):
    person = focal_point_of(units["snv"])
    client.force_login(person)
    with django_assert_max_num_queries(10):
        few = client.get("/self-assessment/")
    assert len(few.context["items"]) == 2
    SelfAssessmentItem.objects.update(unit=units["snv"], monitoring_unit=None)
    with django_assert_max_num_queries(10):
        many = client.get("/self-assessment/")
    assert len(many.context["items"]) == 10


# --- Readiness and the pack -------------------------------------------------------------------


def walk_the_round(units, coordinator) -> None:
    """7.1 accepted (8 points, a file), 7.2 submitted (6.5, no evidence), 7.3 returned (3)."""
    snv, stc = focal_point_of(units["snv"]), focal_point_of(units["stc"])
    self_assessment_save(item=item("7.1"), by=snv, points="8", figures="=SUM(A1)")
    evidence = SelfAssessmentEvidence(item=item("7.1"), original_name="Quyết định 1.pdf")
    evidence.file.save("x.pdf", SimpleUploadedFile("x.pdf", PDF_BYTES), save=False)
    evidence.save()
    SelfAssessmentEvidence.objects.create(item=item("7.1"), link="https://tinh.gov.vn/qd")
    self_assessment_submit(item=item("7.1"), by=snv)
    self_assessment_accept(item=item("7.1"), by=coordinator)
    self_assessment_save(item=item("7.2"), by=snv, points="6.5")
    self_assessment_submit(item=item("7.2"), by=snv)
    self_assessment_save(item=item("7.3"), by=stc, points="3")
    self_assessment_submit(item=item("7.3"), by=stc)
    self_assessment_return(item=item("7.3"), by=coordinator, comment="Bổ sung minh chứng")


def test_readiness_counts_by_status_and_unit_and_projects_the_dti_value(opened, units, coordinator):
    walk_the_round(units, coordinator)
    data = readiness(round=opened.round)
    assert data.total == 10
    assert data.counts["accepted"] == 1 and data.counts["submitted"] == 1
    assert data.counts["returned"] == 1 and data.counts["not_started"] == 7
    assert data.without_evidence == 9
    # Accepted and submitted points over the set's 1,000: (8 + 6.5) / 1000.
    assert data.counted_points == Decimal("14.5")
    assert data.projected_value == Decimal("0.0145")
    by_unit = {line.unit.name if line.unit else None: line for line in data.units}
    assert by_unit["Sở Nội vụ"].total == 2 and by_unit["Sở Nội vụ"].without_evidence == 1
    assert by_unit[None].counts["not_started"] == 7


def test_readiness_page_in_the_reports(
    client, opened, units, coordinator, django_assert_max_num_queries
):
    walk_the_round(units, coordinator)
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    with django_assert_max_num_queries(12):
        page = client.get("/admin/reports/self-assessment/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "0.0145" in text and "Sở Nội vụ" in text and "No presiding unit" in text
    sheet = client.get("/admin/reports/self-assessment/?year=2023&download=xlsx")
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.values)
    assert rows[-1][0] == "Total" and rows[-1][1] == 10
    focal = focal_point_of(units["snv"])
    client.force_login(focal)
    assert client.get("/admin/reports/self-assessment/").status_code in (302, 403)


def test_readiness_page_projects_the_rank_among_the_other_provinces_latest_results(
    client, opened, plan, units, coordinator, django_assert_max_num_queries
):
    walk_the_round(units, coordinator)  # projected value 0.0145
    plan.province = province("Khánh Hòa", YEAR)
    plan.save()
    # Results of 2022, the latest year up to the round's (stand-in points on main indicator 1):
    # Hà Nội above, Hải Phòng level (a shared rank), Cần Thơ below; Khánh Hòa's own result is
    # not another province's. 2021 is older and 2024 after the round's year: neither counts.
    for name, points in [("Hà Nội", "20"), ("Hải Phòng", "14.5"), ("Cần Thơ", "10")]:
        assessment_with_scores(name, 2022, {"1": points})
    assessment_with_scores("Khánh Hòa", 2022, {"1": "90"})
    assessment_with_scores("Cần Thơ", 2021, {"1": "90"})
    assessment_with_scores("Cần Thơ", 2024, {"1": "90"})
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"

    with django_assert_max_num_queries(13):
        page = client.get("/admin/reports/self-assessment/")

    rank = page.context["projected_rank"]
    assert (rank.rank, rank.out_of, rank.year, rank.ranking) == (2, 4, 2022, 63)
    text = page.content.decode()
    assert "Projected rank 2 of 4" in text
    assert "the other provinces’ DTI 2022 results, ranking of 63 provinces" in text


def test_readiness_page_says_plainly_when_there_is_nothing_to_rank_against(
    client, opened, plan, coordinator
):
    client.force_login(coordinator)
    client.cookies["django_language"] = "en"
    text = client.get("/admin/reports/self-assessment/").content.decode()
    assert "No projected rank: the round’s plan names no province" in text
    plan.province = province("Khánh Hòa", YEAR)
    plan.save()
    assessment_with_scores("Khánh Hòa", 2022, {"1": "90"})  # its own: no other province
    text = client.get("/admin/reports/self-assessment/").content.decode()
    assert "No projected rank: no published results of the other provinces" in text
    assert "Projected rank" not in text


def test_the_pack_holds_one_row_per_indicator_and_the_evidence_by_code(
    client, opened, units, coordinator, tmp_path
):
    walk_the_round(units, coordinator)
    archive = zipfile.ZipFile(io.BytesIO(pack_bytes(round=opened.round)))
    names = archive.namelist()
    assert names == ["self-assessment-2023.xlsx", "7.1/Quyết định 1.pdf"]
    assert archive.read("7.1/Quyết định 1.pdf") == PDF_BYTES
    rows = list(load_workbook(io.BytesIO(archive.read(names[0]))).active.values)
    assert len(rows) == 11
    by_code = {row[0]: row for row in rows[1:]}
    _code, _name, max_points, points, figures, _status, unit, evidence = by_code["7.1"]
    assert (max_points, points, unit) == (10, 8, "Sở Nội vụ")
    assert figures == "'=SUM(A1)"  # a formula is written as text
    assert evidence == "Quyết định 1.pdf\nhttps://tinh.gov.vn/qd"
    assert by_code["7.3"][5] == "Bị trả lại"  # the site's language: Vietnamese

    target = tmp_path / "pack.zip"
    call_command("self_assessment_pack", "--year", "2023", str(target))
    assert zipfile.ZipFile(target).namelist() == names

    client.force_login(coordinator)
    download = client.get(f"/admin/plans/selfassessmentround/{opened.round.pk}/pack/")
    assert download.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist() == names
    client.force_login(focal_point_of(units["snv"]))
    assert client.get(f"/admin/plans/selfassessmentround/{opened.round.pk}/pack/").status_code in (
        302,
        403,
    )


def test_item_evidence_files_are_not_orphans(opened, units, settings):
    evidence = SelfAssessmentEvidence(item=item("7.1"), original_name="a.pdf")
    evidence.file.save("a.pdf", SimpleUploadedFile("a.pdf", PDF_BYTES), save=False)
    evidence.save()
    path = settings.EVIDENCE_ROOT / evidence.file.name
    old = path.stat().st_mtime - 7200
    os.utime(path, (old, old))
    assert evidence_orphans() == []


def test_admin_item_list_costs_the_same_queries_for_few_and_many_items(
    client, opened, coordinator, units, django_assert_max_num_queries
):
    client.force_login(coordinator)
    with django_assert_max_num_queries(14):
        few = client.get(f"/admin/plans/selfassessmentitem/?unit__id__exact={units['snv'].pk}")
    assert len(few.context["cl"].result_list) == 2
    with django_assert_max_num_queries(14):
        many = client.get("/admin/plans/selfassessmentitem/")
    assert len(many.context["cl"].result_list) == 10

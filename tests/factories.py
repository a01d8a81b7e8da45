"""factory_boy factories: the smallest valid objects, with the DTI 2022 set from migrations."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory

from indicators.models import Assessment, Indicator, IndicatorSet, Province, Score
from indicators.services import assessments_refresh
from plans.models import Assignment, Plan, Task, Unit, UnitMembership, User


def dti2022() -> IndicatorSet:
    return IndicatorSet.objects.get(code="DTI2022")


def dti2024() -> IndicatorSet:
    """The set of the 2024 assessment, in force for later years until a later set is imported:
    the set of a plan made in 2026."""
    return IndicatorSet.objects.get(code="DTI2024")


def main_indicator(code: str = "7", set_code: str = "DTI2022") -> Indicator:
    return Indicator.objects.get(indicator_set__code=set_code, code=code)


class ComponentIndicatorFactory(DjangoModelFactory):
    class Meta:
        model = Indicator

    indicator_set = factory.LazyFunction(dti2022)
    parent = factory.LazyFunction(main_indicator)
    code = factory.Sequence(lambda n: f"7.{n + 1}")
    name_vi = factory.Sequence(lambda n: f"Chỉ số thành phần {n + 1}")
    name_en = factory.Sequence(lambda n: f"Component {n + 1}")
    max_points = Decimal("10")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}@tinh.example")
    email = factory.LazyAttribute(lambda o: o.username)
    password = factory.django.Password("correct-horse-battery-staple")


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"Sở số {n}")
    short_name = factory.Sequence(lambda n: f"S{n}")
    email = factory.Sequence(lambda n: f"unit{n}@tinh.example")


class FocalPointFactory(DjangoModelFactory):
    class Meta:
        model = UnitMembership

    unit = factory.SubFactory(UnitFactory)
    user = factory.SubFactory(UserFactory)
    role = UnitMembership.Role.FOCAL_POINT


class PlanFactory(DjangoModelFactory):
    class Meta:
        model = Plan

    title = factory.Sequence(lambda n: f"Kế hoạch nâng cao DTI số {n}")
    year = 2026
    decision = "123/KH-UBND"


class TaskFactory(DjangoModelFactory):
    class Meta:
        model = Task

    plan = factory.SubFactory(PlanFactory)
    indicator = factory.SubFactory(ComponentIndicatorFactory)
    title = factory.Sequence(lambda n: f"Nhiệm vụ {n}")
    lead_unit = factory.SubFactory(UnitFactory)
    start_date = dt.date(2026, 1, 5)
    deadline = dt.date(2026, 6, 30)
    status = Task.Status.NEW


class AssignmentFactory(DjangoModelFactory):
    class Meta:
        model = Assignment

    task = factory.SubFactory(TaskFactory)
    unit = factory.SubFactory(UnitFactory)
    role = Assignment.Role.MONITORING


def focal_point_of(unit: Unit, username: str | None = None, **user_fields: object) -> User:
    """A person who is focal point of ``unit`` (and of nothing else)."""
    user = UserFactory(**({"username": username} if username else {}), **user_fields)
    FocalPointFactory(unit=unit, user=user)
    return user


# The smallest files that pass the content checks of plans.uploads.
PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf_upload(name: str = "bao-cao.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


# --- DTI results ------------------------------------------------------------------------------


def province(name: str, year: int = 2024) -> Province:
    """The province a file of ``year`` means by ``name`` (the 63 up to 2024, the 34 from 2025)."""
    return Province.objects.for_assessment_year(year).get(name=name)


def assessment_with_scores(
    name: str, year: int, points: dict[str, str], indicator_set: IndicatorSet | None = None
) -> Assessment:
    """An assessment with the given points per indicator code, and its results computed.

    The set defaults to Decision 922's, whose max points are known, for tests of the points
    arithmetic in any year (merger baselines need results on both sides of 2025). Real 2024
    and 2025 results are scored under the 2024 set; the import enforces that, this shortcut
    does not."""
    indicator_set = indicator_set or dti2022()
    assessment = Assessment.objects.create(
        province=province(name, year), year=year, indicator_set=indicator_set
    )
    indicators = {i.code: i for i in indicator_set.indicators.all()}
    Score.objects.bulk_create(
        Score(assessment=assessment, indicator=indicators[code], points=Decimal(value))
        for code, value in points.items()
    )
    assessments_refresh(assessment_ids=[assessment.pk])
    assessment.refresh_from_db()
    return assessment


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def cp1258_bytes(text: str) -> bytes:
    """``text`` as Excel saves it in the Windows Vietnamese code page: letters with their vowel
    marks precomposed (ă, ơ, ê), tones as separate combining characters (cp1258 has no ắ)."""
    out: list[str] = []
    tones: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if char in _TONE_MARKS:
            tones.append(char)
        elif unicodedata.combining(char):
            out[-1] = unicodedata.normalize("NFC", out[-1] + char)  # a vowel mark: ă, â, ơ
        else:
            out.extend(tones)  # the tones of the previous letter, after its vowel marks
            tones = []
            out.append(char)
    out.extend(tones)
    return "".join(out).encode("cp1258")

"""factory_boy factories: the smallest valid objects, with the DTI 2022 set from migrations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory

from indicators.models import Indicator, IndicatorSet
from plans.models import Assignment, Plan, Task, Unit, UnitMembership, User


def dti2022() -> IndicatorSet:
    return IndicatorSet.objects.get(code="DTI2022")


def main_indicator(code: str = "7") -> Indicator:
    return Indicator.objects.get(indicator_set__code="DTI2022", code=code)


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

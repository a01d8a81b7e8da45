"""/admin/reports/: mounted in dtiplan/urls.py ahead of the admin's own URLs."""

from __future__ import annotations

from django.urls import path

from plans.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("units/", views.units, name="units"),
    path("owners/", views.owners, name="owners"),
    path("coverage/", views.coverage, name="coverage"),
    path("overdue/", views.overdue, name="overdue"),
    path("trend/", views.trend, name="trend"),
    path("pack/", views.pack, name="pack"),
    path("self-assessment/", views.self_assessment, name="self_assessment"),
    path("targets/", views.targets, name="targets"),
    path("targets/what-it-takes/", views.what_it_takes, name="what_it_takes"),
]

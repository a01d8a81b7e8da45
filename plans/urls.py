"""The focal-point portal, at the site's root."""

from django.urls import path

from plans import views, views_assessment

app_name = "portal"

urlpatterns = [
    path("", views.task_list, name="task_list"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/acknowledge/", views.task_acknowledge, name="task_acknowledge"),
    path("tasks/<int:pk>/progress/", views.progress_create, name="progress_create"),
    path("tasks/<int:pk>/completion/", views.completion_create, name="completion_create"),
    path("tasks/<int:pk>/extension/", views.extension_create, name="extension_create"),
    path("tasks/<int:pk>/comment/", views.comment_create, name="comment_create"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension_decide"),
    path("completions/<int:pk>/decide/", views.completion_decide, name="completion_decide"),
    path("decisions/", views.decisions, name="decisions"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("export/tasks/", views.task_export, name="task_export"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.language, name="language"),
    path("indicators/", views_assessment.my_indicators, name="my_indicators"),
    path(
        "self-assessment/",
        views_assessment.self_assessment_items,
        name="self_assessment_items",
    ),
    path(
        "self-assessment/items/<int:pk>/",
        views_assessment.self_assessment_item,
        name="self_assessment_item",
    ),
    path(
        "self-assessment/items/<int:pk>/save/",
        views_assessment.self_assessment_save_view,
        name="self_assessment_save",
    ),
    path(
        "self-assessment/items/<int:pk>/evidence/",
        views_assessment.self_assessment_evidence_view,
        name="self_assessment_evidence_add",
    ),
    path(
        "self-assessment/items/<int:pk>/submit/",
        views_assessment.self_assessment_submit_view,
        name="self_assessment_submit",
    ),
    path(
        "self-assessment/items/<int:pk>/review/",
        views_assessment.self_assessment_review_view,
        name="self_assessment_review",
    ),
    path(
        "self-assessment/evidence/<int:pk>/",
        views_assessment.self_assessment_evidence_download,
        name="self_assessment_evidence",
    ),
    path(
        "self-assessment/evidence/<int:pk>/remove/",
        views_assessment.self_assessment_evidence_remove_view,
        name="self_assessment_evidence_remove",
    ),
]

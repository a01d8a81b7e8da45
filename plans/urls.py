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
    path("language/", views.language, name="language"),
    path("indicators/", views_assessment.my_indicators, name="my_indicators"),
]

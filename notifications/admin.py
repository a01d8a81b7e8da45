from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The delivery log: what was due, to whom, and what happened. Rows are written only by the
    sweep, so the log is read-only; an operator can ask for failed rows to be retried now."""

    list_display = [
        "created_at",
        "rule",
        "step",
        "task",
        "recipient_email",
        "status",
        "attempts",
        "sent_at",
        "short_error",
    ]
    list_filter = ["status", "rule", "created_at"]
    search_fields = ["recipient_email", "task__title"]
    list_select_related = ["task"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    show_full_result_count = False

    @admin.display(description=_("last error"))
    def short_error(self, obj: Notification) -> str:
        return obj.last_error[:80]

    @admin.action(description=_("Retry the selected failed reminders on the next delivery run"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = queryset.filter(status=Notification.Status.FAILED).update(
            next_attempt_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d reminder will be retried.",
                "%(count)d reminders will be retried.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not request.user.has_perm("notifications.change_notification"):
            actions.pop("retry_now", None)
        return actions

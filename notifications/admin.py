from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from dtiplan.admin_lists import BigListAdmin
from notifications.models import (
    CalendarException,
    Notification,
    PasswordResetMail,
    ReminderPolicy,
    ReportDelivery,
)
from notifications.preview import reminders_preview
from notifications.workdays import WorkCalendar


@admin.register(Notification)
class NotificationAdmin(BigListAdmin):
    """The delivery log: what was due, to whom, and what happened. Rows are written only by the
    sweep, so the log is read-only; an operator can ask for failed rows to be retried now."""

    list_display = [
        "created_at",
        "rule",
        "step",
        "task",
        "item",
        "recipient_email",
        "status",
        "attempts",
        "sent_at",
        "short_error",
    ]
    list_filter = ["status", "rule", "created_at"]
    search_fields = ["recipient_email", "task__title"]
    list_select_related = ["task", "item__round", "item__indicator"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]

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

    def get_urls(self) -> list[URLPattern]:
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("preview/", preview, name="notifications_notification_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """What the next sweep (the next working day at 08:00) would send, per recipient."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        calendar = WorkCalendar(today, today + dt.timedelta(days=60))
        day = calendar.add_working_days(today, 1)
        when = timezone.make_aware(dt.datetime.combine(day, dt.time(8, 0)))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Reminders the next sweep would send"),
            "when": when,
            "preview": reminders_preview(now=when),
        }
        return TemplateResponse(request, "admin/notifications/preview.html", context)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not request.user.has_perm("notifications.change_notification"):
            actions.pop("retry_now", None)
        return actions


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    """One row: the cadence every reminder follows."""

    fieldsets = [
        (
            _("Before and on the deadline"),
            {"fields": ["due_soon_working_days", "remind_due_today"]},
        ),
        (
            _("After the deadline"),
            {"fields": ["overdue_first_day", "overdue_second_day", "overdue_repeat_days"]},
        ),
        (
            _("Escalation"),
            {
                "fields": [
                    "escalate_head_after_days",
                    "escalate_coordinators_after_days",
                    "steering_digest_after_days",
                ]
            },
        ),
        (
            _("Silence and pending decisions"),
            {
                "fields": [
                    "unacknowledged_working_days",
                    "no_progress_days",
                    "decision_waiting_working_days",
                ]
            },
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        policy = ReminderPolicy.current()
        return redirect("admin:notifications_reminderpolicy_change", policy.pk)


@admin.register(CalendarException)
class CalendarExceptionAdmin(admin.ModelAdmin):
    """Make-up working days and extra days off the government announces each year; public
    holidays themselves (Tết and the others) are known without entering them."""

    list_display = ["date", "kind", "note"]
    list_filter = ["kind"]
    date_hierarchy = "date"


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    """Who was sent which period's report pack. Written only by the schedule and
    ``manage.py send_report``, so read-only here."""

    list_display = ["period_display", "recipient_email", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "period"]
    search_fields = ["recipient_email"]
    readonly_fields = [f.name for f in ReportDelivery._meta.fields]

    @admin.display(description=_("period"), ordering="period")
    def period_display(self, obj: ReportDelivery) -> str:
        return obj.report_period.label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PasswordResetMail)
class PasswordResetMailAdmin(admin.ModelAdmin):
    """Password-reset e-mails asked for on the public page, and whether each went out: what an
    operator checks when someone says the e-mail never came. Written only by the reset page
    and its sender (rows are removed after a week), so read-only here."""

    list_display = ["created_at", "recipient_email", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status"]
    search_fields = ["recipient_email"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in PasswordResetMail._meta.fields if f.editable]
    exclude = ["claim_token"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

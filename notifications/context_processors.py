"""What notifications adds to pages it does not own: the notifications link, with the unread
count, in the portal's navigation; e-mails that keep failing, on the admin's index.

The portal and the admin's index (``plans``' templates) render whatever ``portal_nav`` and
``admin_alerts`` hold, so they need to know nothing of notifications: the dependency keeps
pointing notifications → plans.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import Notification, ReportDelivery


def portal_nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def items() -> list[dict[str, object]]:
        # Evaluated only when a page renders the navigation (one COUNT query).
        return [
            {
                "label": _("Notifications"),
                "url": reverse("notifications:inbox"),
                "badge": Notification.objects.for_person(user).unread().count(),
                "badge_label": _("unread"),
            }
        ]

    return {"portal_nav": SimpleLazyObject(items)}


def admin_alerts(request: HttpRequest) -> dict[str, object]:
    """For coordinators (who may act on deliveries): report packs and reminders that keep
    failing (``OutboxQuerySet.failing``), with their errors, so a pack that cannot be sent is
    seen and fixed rather than retried unnoticed. Two queries, only on a page that shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}

    def alerts() -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        if user.has_perm("notifications.change_reportdelivery"):
            packs = list(ReportDelivery.objects.failing().order_by("-period", "recipient_email"))
            if packs:
                found.append(
                    {
                        "message": ngettext(
                            "The report pack keeps failing to reach %(count)d person:",
                            "The report pack keeps failing to reach %(count)d people:",
                            len(packs),
                        )
                        % {"count": len(packs)},
                        "rows": [
                            {
                                "label": str(row),
                                "attempts": row.attempts,
                                "error": row.last_error,
                            }
                            for row in packs[:20]
                        ],
                        "url": reverse("admin:notifications_reportdelivery_changelist")
                        + "?status__exact=failed",
                        "link": _("See the report deliveries"),
                    }
                )
        if user.has_perm("notifications.change_notification"):
            failing = Notification.objects.failing().order_by("-next_attempt_at", "-pk")
            latest = failing.first()
            if latest is not None:
                count = failing.count()
                found.append(
                    {
                        "message": ngettext(
                            "%(count)d reminder keeps failing to be sent; the latest error:",
                            "%(count)d reminders keep failing to be sent; the latest error:",
                            count,
                        )
                        % {"count": count},
                        "rows": [
                            {
                                "label": latest.recipient_email,
                                "attempts": latest.attempts,
                                "error": latest.last_error,
                            }
                        ],
                        "url": reverse("admin:notifications_notification_changelist")
                        + "?status__exact=failed",
                        "link": _("See the delivery log"),
                    }
                )
        return found

    return {"admin_alerts": SimpleLazyObject(alerts)}

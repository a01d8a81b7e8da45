"""Adds the notifications link, with the unread count, to the portal's navigation.

The portal (``plans``) renders whatever ``portal_nav`` holds, so it needs to know nothing of
notifications: the dependency keeps pointing notifications → plans.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from notifications.models import Notification


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

"""The groups every installation has, with their permissions, kept in sync after migrate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

COORDINATOR = "Coordinator"
FOCAL_POINT = "Unit focal point"
STEERING_COMMITTEE = "Steering committee"
# Groups whose members work in the admin (and so need Staff status).
ADMIN_GROUPS = (COORDINATOR, STEERING_COMMITTEE)

# Group names are data (stored in the database), so they stay in English; these are their
# display names for people.
GROUP_LABELS = {
    COORDINATOR: _("Coordinator"),
    FOCAL_POINT: _("Unit focal point"),
    STEERING_COMMITTEE: _("Steering committee"),
}

_APPS = ("indicators", "plans", "notifications")


def ensure_groups(**_: Any) -> None:
    """Coordinators manage everything in our apps, including ``plans.view_all_tasks``,
    ``plans.verify_completion`` and ``plans.decide_extension``; the steering committee may only
    look. Unit focal points work in the portal, not the admin: what they see and do follows
    from their unit memberships (``Task.objects.visible_to``), so their group has no rights."""
    ours = Permission.objects.filter(content_type__app_label__in=_APPS)
    coordinator, _created = Group.objects.get_or_create(name=COORDINATOR)
    coordinator.permissions.set(ours)
    steering, _created = Group.objects.get_or_create(name=STEERING_COMMITTEE)
    steering.permissions.set(ours.filter(codename__startswith="view_"))
    focal, _created = Group.objects.get_or_create(name=FOCAL_POINT)
    focal.permissions.clear()

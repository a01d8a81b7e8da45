"""The portal's notifications page: what the reminders told this person, unread first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from notifications.digest import decision_for, decisions_of
from notifications.models import Notification

PAGE_SIZE = 30


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    notifications = (
        Notification.objects.for_person(request.user)
        .select_related(
            "task",
            "task__indicator",
            "task__lead_unit",
            "item__round",
            "item__indicator",
            "item__unit",
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    decisions = decisions_of(rows)  # what was decided and why, for the decision rows
    for row in rows:
        row.decision = decision_for(row, decisions)
    return render(request, "notifications/inbox.html", {"page": page, "rows": rows})


@require_POST
@login_required
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of the person's notifications as read. Only the
    person's own rows are touched: another person's id simply matches nothing."""
    rows = Notification.objects.for_person(request.user).unread()
    if request.POST.get("id"):
        rows = rows.filter(pk=request.POST["id"] if request.POST["id"].isdigit() else 0)
    rows.update(read_at=timezone.now())
    return redirect("notifications:inbox")

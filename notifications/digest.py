"""The reminder e-mail: everything due for one address in one run, in sections by rule."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from notifications.models import Notification

# The order of sections in a digest: what needs acting on first.
SECTION_ORDER = [
    Notification.Rule.WAITING_DECISION,
    Notification.Rule.ESCALATE_COORDINATORS,
    Notification.Rule.ESCALATE_HEAD,
    Notification.Rule.STEERING_DIGEST,
    Notification.Rule.OVERDUE,
    Notification.Rule.DUE_TODAY,
    Notification.Rule.DUE_SOON,
    Notification.Rule.NOT_ACKNOWLEDGED,
    Notification.Rule.NO_PROGRESS,
]
SECTION_TITLES = {
    Notification.Rule.WAITING_DECISION: _("Requests waiting for your decision"),
    Notification.Rule.ESCALATE_COORDINATORS: _("Overdue tasks escalated to the coordinators"),
    Notification.Rule.ESCALATE_HEAD: _("Overdue tasks of your unit, escalated to you as its head"),
    Notification.Rule.STEERING_DIGEST: _("Weekly digest: tasks long overdue"),
    Notification.Rule.OVERDUE: _("Overdue tasks"),
    Notification.Rule.DUE_TODAY: _("Tasks due today"),
    Notification.Rule.DUE_SOON: _("Tasks due soon"),
    Notification.Rule.NOT_ACKNOWLEDGED: _("New tasks not yet acknowledged"),
    Notification.Rule.NO_PROGRESS: _("Open tasks without a recent progress report"),
}


def _item(row: Notification, now: dt.datetime) -> dict[str, object]:
    task = row.task
    return {
        "task": task,
        "rule": row.rule,
        "days_overdue": task.days_overdue(now),
        "days_left": max(0, (task.deadline - timezone.localdate(now)).days),
        "last_activity": row.anchor_date if row.rule == Notification.Rule.NO_PROGRESS else None,
        "url": settings.SITE_URL + task.get_absolute_url(),
    }


def digest_message(rows: list[Notification], now: dt.datetime) -> EmailMultiAlternatives:
    """One e-mail for everything that concerns an address in this run, in sections by rule."""
    first = rows[0]
    recipient_email = first.recipient_email
    language = first.recipient.language if first.recipient else settings.LANGUAGE_CODE
    by_rule: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.task.deadline, r.task.pk)):
        by_rule[row.rule].append(_item(row, now))
    with translation.override(language):
        sections = [
            {"rule": rule, "title": str(SECTION_TITLES[rule]), "items": by_rule[rule]}
            for rule in SECTION_ORDER
            if by_rule.get(rule)
        ]
        context = {
            "sections": sections,
            "count": len({row.task_id for row in rows}),
            "overdue": len({row.task_id for row in rows if row.task.is_overdue(now)}),
            "recipient": first.recipient,
            "unit": first.unit,
            "site_url": settings.SITE_URL,
        }
        subject = render_to_string("notifications/email/digest_subject.txt", context)
        text = render_to_string("notifications/email/digest.txt", context)
        html = render_to_string("notifications/email/digest.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[recipient_email]
    )
    message.attach_alternative(html, "text/html")
    return message

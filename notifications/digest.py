"""The e-mail of one run to one address: everything due for it, in sections by rule.

The same message carries the morning's reminders and the news of the day (decisions on the
unit's requests, new tasks); sent by the short-interval run, it carries news only and says so.
Its closing lines follow what the reader is asked to do: a focal point reports or asks for
time, a unit's head has the focal point do it, a coordinator decides and follows up, the
steering committee reads the reports.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from dtiplan.mail import CleanSubjectEmail
from notifications.models import EVENT_RULES, ITEM_RULES, Notification
from notifications.rules import AUDIENCE, Audience
from plans.models import CompletionSubmission, DecidedRequest, ExtensionRequest

Rule = Notification.Rule

# The order of sections in a message: news first, then what needs acting on first.
SECTION_ORDER = [
    Rule.EXTENSION_REFUSED,
    Rule.COMPLETION_RETURNED,
    Rule.EXTENSION_APPROVED,
    Rule.COMPLETION_VERIFIED,
    Rule.ASSIGNED,
    Rule.WAITING_DECISION,
    Rule.ESCALATE_COORDINATORS,
    Rule.ESCALATE_HEAD,
    Rule.STEERING_DIGEST,
    Rule.OVERDUE,
    Rule.DUE_TODAY,
    Rule.DUE_SOON,
    Rule.NOT_ACKNOWLEDGED,
    Rule.NO_PROGRESS,
    # The self-assessment's items, after the tasks.
    Rule.ITEM_RETURNED,
    Rule.ITEM_ESCALATE_COORDINATORS,
    Rule.ITEM_ESCALATE_HEAD,
    Rule.ITEM_OVERDUE,
    Rule.ITEM_DUE_SOON,
]
SECTION_TITLES = {
    Rule.EXTENSION_REFUSED: _("Extension requests refused"),
    Rule.COMPLETION_RETURNED: _("Completions returned for more work"),
    Rule.EXTENSION_APPROVED: _("Extension requests approved"),
    Rule.COMPLETION_VERIFIED: _("Completions verified: the tasks are completed"),
    Rule.ASSIGNED: _("New tasks for your unit"),
    Rule.WAITING_DECISION: _("Requests waiting for your decision"),
    Rule.ESCALATE_COORDINATORS: _("Overdue tasks escalated to the coordinators"),
    Rule.ESCALATE_HEAD: _("Overdue tasks of your unit, escalated to you as its head"),
    Rule.STEERING_DIGEST: _("Weekly digest: tasks long overdue"),
    Rule.OVERDUE: _("Overdue tasks"),
    Rule.DUE_TODAY: _("Tasks due today"),
    Rule.DUE_SOON: _("Tasks due soon"),
    Rule.NOT_ACKNOWLEDGED: _("New tasks not yet acknowledged"),
    Rule.NO_PROGRESS: _("Open tasks without a recent progress report"),
    Rule.ITEM_RETURNED: _("Self-assessment items returned to your unit for more evidence"),
    Rule.ITEM_ESCALATE_COORDINATORS: _(
        "Self-assessment items not submitted after the internal deadline: to follow up"
    ),
    Rule.ITEM_ESCALATE_HEAD: _(
        "Self-assessment items of your unit not submitted, escalated to you as its head"
    ),
    Rule.ITEM_OVERDUE: _("Self-assessment items not submitted by the internal deadline"),
    Rule.ITEM_DUE_SOON: _("Self-assessment items due soon"),
}
DECISION_MODELS: dict[str, type[DecidedRequest]] = {
    Rule.EXTENSION_APPROVED: ExtensionRequest,
    Rule.EXTENSION_REFUSED: ExtensionRequest,
    Rule.COMPLETION_VERIFIED: CompletionSubmission,
    Rule.COMPLETION_RETURNED: CompletionSubmission,
}

# What the reader is asked to do, by whom the rows address (in this order when several).
CLOSINGS = {
    Audience.RESPONSIBLE: _("Please report progress, or ask for an extension, on the task's page."),
    Audience.HEADS: _(
        "Please have your unit's focal point report progress on these tasks, or ask for an "
        "extension, on the task's page."
    ),
    Audience.COORDINATORS: _(
        "Please decide the waiting requests on the Decisions page, and follow up the overdue "
        "tasks with their lead units."
    ),
    Audience.STEERING: _("The reports in the administration show the whole plan's progress."),
}
ITEMS_CLOSING = _(
    "Please enter each self-assessment item's points, figures and evidence on its page and "
    "submit it before the internal deadline."
)
ITEMS_FOLLOW_UP = _(
    "Please follow up the units whose self-assessment items are late, on the round's "
    "readiness page."
)
ACKNOWLEDGE = _("Please open each new task and acknowledge its receipt.")
NEWS = _("The details are on the task's page.")


def decisions_of(rows: list[Notification]) -> dict[tuple[str, int], DecidedRequest]:
    """The requests the decision rows tell of, with who decided them (one query per kind of
    request present)."""
    wanted: dict[type[DecidedRequest], set[int]] = defaultdict(set)
    for row in rows:
        if row.rule in DECISION_MODELS:
            wanted[DECISION_MODELS[row.rule]].add(row.step)
    found: dict[tuple[str, int], DecidedRequest] = {}
    for model, pks in wanted.items():
        for request in model.objects.filter(pk__in=pks).select_related("decided_by"):
            found[(model.__name__, request.pk)] = request
    return found


def decision_for(
    row: Notification, decisions: dict[tuple[str, int], DecidedRequest]
) -> DecidedRequest | None:
    """The request a decision row tells of, from ``decisions_of``'s answer."""
    model = DECISION_MODELS.get(row.rule)
    return decisions.get((model.__name__, row.step)) if model else None


def _item(
    row: Notification, now: dt.datetime, decisions: dict[tuple[str, int], DecidedRequest]
) -> dict[str, object]:
    if row.item_id:
        item = row.item
        deadline = item.round.deadline
        today = timezone.localdate(now)
        return {
            "item": item,
            "rule": row.rule,
            "deadline": deadline,
            "days_overdue": max(0, (today - deadline).days),
            "days_left": max(0, (deadline - today).days),
            "is_event": False,
            "url": settings.SITE_URL + item.get_absolute_url(),
        }
    task = row.task
    return {
        "task": task,
        "rule": row.rule,
        "days_overdue": task.days_overdue(now),
        "days_left": max(0, (task.deadline - timezone.localdate(now)).days),
        "last_activity": row.anchor_date if row.rule == Rule.NO_PROGRESS else None,
        "decision": decision_for(row, decisions),
        "is_event": row.rule in EVENT_RULES,
        "url": settings.SITE_URL + task.get_absolute_url(),
    }


def closing_lines(rules: set[str]) -> list[str]:
    """The closing lines for a message holding rows of ``rules``, one per kind of reader."""
    audiences = {AUDIENCE[Rule(rule)] for rule in rules if rule not in EVENT_RULES | ITEM_RULES}
    if Rule.NOT_ACKNOWLEDGED in rules:
        audiences.add(Audience.RESPONSIBLE)
    lines = [str(CLOSINGS[a]) for a in CLOSINGS if a in audiences]
    if rules & (ITEM_RULES - {Rule.ITEM_ESCALATE_COORDINATORS}):
        lines.insert(0, str(ITEMS_CLOSING))
    if Rule.ITEM_ESCALATE_COORDINATORS in rules:
        lines.append(str(ITEMS_FOLLOW_UP))
    if Rule.ASSIGNED in rules:
        lines.insert(0, str(ACKNOWLEDGE))
    if not lines:
        lines.append(str(NEWS))
    return lines


def _order(row: Notification) -> tuple[dt.date, int]:
    if row.item_id:
        return (row.item.round.deadline, row.item_id)
    return (row.task.deadline, row.task_id)


def digest_message(rows: list[Notification], now: dt.datetime) -> CleanSubjectEmail:
    """One e-mail for everything that concerns an address in this run, in sections by rule."""
    first = rows[0]
    recipient_email = first.recipient_email
    language = first.recipient.language if first.recipient else settings.LANGUAGE_CODE
    decisions = decisions_of(rows)
    by_rule: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in sorted(rows, key=_order):
        by_rule[row.rule].append(_item(row, now, decisions))
    rules = set(by_rule)
    task_rows = [row for row in rows if row.task_id]
    news_only = rules <= EVENT_RULES
    with translation.override(language):
        sections = [
            {"rule": rule, "title": str(SECTION_TITLES[rule]), "items": by_rule[rule]}
            for rule in SECTION_ORDER
            if by_rule.get(rule)
        ]
        context = {
            "sections": sections,
            "count": len({row.task_id for row in task_rows}),
            "overdue": len({row.task_id for row in task_rows if row.task.is_overdue(now)}),
            # The subject counts the items beside the tasks (alone when there is no task).
            "item_count": len({row.item_id for row in rows if row.item_id}),
            "news_only": news_only,
            # One task: the subject names it and its most important news.
            "single": (
                sections[0]["items"][0] if len({r.task_id for r in task_rows}) == 1 else None
            ),
            "single_rule": str(Rule(sections[0]["rule"]).label),
            "closings": closing_lines(rules),
            "recipient": first.recipient,
            "unit": first.unit,
            "site_url": settings.SITE_URL,
            "settings_url": settings.SITE_URL + reverse("portal:profile"),
        }
        subject = render_to_string("notifications/email/digest_subject.txt", context)
        text = render_to_string("notifications/email/digest.txt", context)
        html = render_to_string("notifications/email/digest.html", context)
    message = CleanSubjectEmail(subject=" ".join(subject.split()), body=text, to=[recipient_email])
    message.attach_alternative(html, "text/html")
    return message

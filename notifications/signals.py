"""Events reach the inbox at once: when a request is decided or a task or its units change,
the task's events are recorded right after the change commits.

The same derivation as the short-interval run (``events_record``), limited to the task that
changed; that run catches whatever does not pass through ``save()`` (bulk imports).
Notifications listens to plans' signals; plans knows nothing of notifications.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from plans.models import Assignment, CompletionSubmission, ExtensionRequest, Task

logger = logging.getLogger(__name__)


def _record_events(task_id: int) -> None:
    from notifications.services import events_record

    try:
        events_record(task_ids=[task_id])
    except Exception:  # the change itself is committed; the short run records it later
        logger.exception("Could not record the events of task %s now", task_id)


# A task's save can make news only through these: a task going live, a new lead unit.
TASK_NEWS_FIELDS = frozenset({"status", "lead_unit", "lead_unit_id"})


def _task_changed(
    sender: type, instance: Any, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    task_id = instance.pk if isinstance(instance, Task) else instance.task_id
    if isinstance(instance, Task) and (
        instance.status == Task.Status.DRAFT
        or (update_fields is not None and not update_fields & TASK_NEWS_FIELDS)
    ):
        return  # a draft, or a progress report's percent: nothing to tell
    if isinstance(instance, ExtensionRequest | CompletionSubmission) and instance.is_pending:
        return
    transaction.on_commit(partial(_record_events, task_id))


def connect() -> None:
    for model in (Task, Assignment, ExtensionRequest, CompletionSubmission):
        post_save.connect(_task_changed, sender=model, dispatch_uid=f"events-{model.__name__}")

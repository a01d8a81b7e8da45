"""Business actions on plans and tasks. Views, admin actions, imports and tasks call these.

Each action checks who may do it (``plans.access``) and what state allows it, locks the task
row so that two people acting at once are serialised, and records who did it: on the row it
creates, and in the task's history (``_history_user``), whatever door it came through.

Errors: ``PermissionDenied`` when the person may not do this on this task (the portal shows
403; a task they cannot see at all never reaches a service, it is a 404 before), and
``ValidationError`` when the state or the input does not allow it (shown on the form).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from indicators.models import Indicator, Score
from plans.access import task_access
from plans.coverage import Coverage, coverage_of, plan_addresses
from plans.models import (
    Acknowledgement,
    Comment,
    CompletionSubmission,
    Decision,
    Evidence,
    ExtensionRequest,
    Plan,
    ProgressUpdate,
    Task,
    Unit,
    User,
)
from plans.owners import Owners, owners_for
from plans.uploads import validate_evidence_file

# Statuses in which a unit still works on the task: it may report, submit, ask for time.
WORKING_STATUSES = Task.OPEN_STATUSES


def _locked(task: Task) -> Task:
    """The task re-read under a row lock (PostgreSQL), so that checks and writes see the
    latest status and deadline even when two people act at the same moment."""
    return Task.objects.select_for_update().get(pk=task.pk)


def _require_working(task: Task) -> None:
    if task.status not in WORKING_STATUSES:
        raise ValidationError(
            _("This task is %(status)s: nothing more can be reported on it.")
            % {"status": task.get_status_display().lower()},
            code="status",
        )


def _require_reporting_unit(task: Task, unit: Unit, by: User | None) -> None:
    """The unit reports on the task (lead or implementing) and ``by`` acts for it. A person with
    ``plans.add_progressupdate`` (a coordinator) may record a report on a unit's behalf, e.g.
    one received on paper; ``by=None`` is the system itself (an import)."""
    if not Task.objects.filter(pk=task.pk).reported_by(unit).exists():
        raise ValidationError(
            _("Only the lead and implementing units report on this task."), code="role"
        )
    if by is None or by.has_perm("plans.add_progressupdate"):
        return
    if unit not in task_access(by, task).reporting_units:
        raise PermissionDenied(_("You do not act for %(unit)s on this task.") % {"unit": unit})


def _require_delay_reason(task: Task, now: dt.datetime, delay_reason: str) -> bool:
    """Once a task is overdue, every report on it must say why it is late."""
    overdue = task.is_overdue(now)
    if overdue and not delay_reason.strip():
        raise ValidationError(
            {"delay_reason": _("The task is overdue: give the reason for the delay.")},
            code="delay_reason",
        )
    return overdue


def _evidence(
    *,
    task: Task,
    unit: Unit,
    by: User | None,
    now: dt.datetime,
    file: UploadedFile | None = None,
    link: str = "",
    progress_update: ProgressUpdate | None = None,
    completion: CompletionSubmission | None = None,
) -> Evidence:
    evidence = Evidence(
        task=task,
        unit=unit,
        uploaded_by=by,
        uploaded_at=now,
        progress_update=progress_update,
        completion=completion,
        link=link,
    )
    if file is not None:
        validate_evidence_file(file)
        evidence.file = file
        evidence.original_name = PurePath(file.name or "").name[:255]
        evidence.size = file.size
    evidence.full_clean(exclude=["file"])
    evidence.save()
    return evidence


@transaction.atomic
def task_acknowledge(
    *, task: Task, unit: Unit, by: User, now: dt.datetime | None = None
) -> Acknowledgement:
    """The unit has received the task. Idempotent: a second acknowledgement changes nothing."""
    if unit not in task_access(by, task).acting_units:
        raise PermissionDenied(_("You do not act for %(unit)s on this task.") % {"unit": unit})
    ack, _created = Acknowledgement.objects.get_or_create(
        task=task, unit=unit, defaults={"by": by, "at": now or timezone.now()}
    )
    return ack


@transaction.atomic
def progress_report(
    *,
    task: Task,
    unit: Unit,
    author: User | None,
    percent: int,
    note: str = "",
    delay_reason: str = "",
    evidence_file: UploadedFile | None = None,
    evidence_link: str = "",
    now: dt.datetime | None = None,
) -> ProgressUpdate:
    """Record a unit's progress and carry it to the task: a first report on a newly assigned
    task marks it in progress. A report on an overdue task must give the reason for the delay;
    evidence (a file or a link, or both) is attached to the report."""
    now = now or timezone.now()
    task = _locked(task)
    _require_working(task)
    _require_reporting_unit(task, unit, author)
    was_overdue = _require_delay_reason(task, now, delay_reason)
    update = ProgressUpdate(
        task=task,
        unit=unit,
        author=author,
        percent=percent,
        note=note,
        created_at=now,
        was_overdue=was_overdue,
        delay_reason=delay_reason.strip(),
    )
    update.full_clean()
    update.save()
    if evidence_file is not None:
        _evidence(
            task=task, unit=unit, by=author, now=now, file=evidence_file, progress_update=update
        )
    if evidence_link:
        _evidence(
            task=task, unit=unit, by=author, now=now, link=evidence_link, progress_update=update
        )
    task.percent_done = percent
    fields = ["percent_done", "updated_at"]
    if task.status == Task.Status.NEW:
        task.status = Task.Status.IN_PROGRESS
        fields.append("status")
    task._history_user = author  # type: ignore[attr-defined]
    task.save(update_fields=fields)
    return update


@transaction.atomic
def completion_submit(
    *,
    task: Task,
    unit: Unit,
    by: User | None,
    document_number: str,
    document_date: dt.date,
    summary: str,
    document: UploadedFile,
    delay_reason: str = "",
    now: dt.datetime | None = None,
) -> CompletionSubmission:
    """The unit says the task is done and files the completion document. The task waits for
    verification (``submitted``); it is not completed yet."""
    now = now or timezone.now()
    task = _locked(task)
    _require_working(task)
    _require_reporting_unit(task, unit, by)
    was_overdue = _require_delay_reason(task, now, delay_reason)
    if document is None:
        raise ValidationError({"document": _("Attach the completion document.")})
    submission = CompletionSubmission(
        task=task,
        unit=unit,
        submitted_by=by,
        submitted_at=now,
        document_number=document_number.strip(),
        document_date=document_date,
        summary=summary.strip(),
        was_overdue=was_overdue,
        delay_reason=delay_reason.strip(),
    )
    submission.full_clean()
    submission._history_user = by  # type: ignore[attr-defined]
    submission.save()
    _evidence(task=task, unit=unit, by=by, now=now, file=document, completion=submission)
    task.status = Task.Status.SUBMITTED
    task._history_user = by  # type: ignore[attr-defined]
    task.save(update_fields=["status", "updated_at"])
    return submission


def _pending_submission(
    submission: CompletionSubmission, by: User
) -> tuple[CompletionSubmission, Task]:
    task = _locked(submission.task)
    submission = CompletionSubmission.objects.select_for_update().get(pk=submission.pk)
    if submission.status != Decision.PENDING or task.status != Task.Status.SUBMITTED:
        raise ValidationError(_("This submission has already been decided."), code="decided")
    if not task_access(by, task).can_verify(submission):
        raise PermissionDenied(
            _("Only a coordinator or another monitoring unit can verify this completion.")
        )
    return submission, task


@transaction.atomic
def completion_verify(
    *, submission: CompletionSubmission, by: User, note: str = "", now: dt.datetime | None = None
) -> CompletionSubmission:
    """A coordinator or a monitoring unit accepts the evidence: the task is completed."""
    submission, task = _pending_submission(submission, by)
    submission.status = Decision.APPROVED
    submission.decided_by = by
    submission.decided_at = now or timezone.now()
    submission.decision_note = note.strip()
    submission._history_user = by  # type: ignore[attr-defined]
    submission.save()
    task.status = Task.Status.COMPLETED
    task.percent_done = 100
    task._history_user = by  # type: ignore[attr-defined]
    task.save(update_fields=["status", "percent_done", "updated_at"])
    return submission


@transaction.atomic
def completion_refuse(
    *, submission: CompletionSubmission, by: User, reason: str, now: dt.datetime | None = None
) -> CompletionSubmission:
    """The evidence is not enough: the task goes back to work, with the reason on record."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the refusal.")})
    submission, task = _pending_submission(submission, by)
    submission.status = Decision.REFUSED
    submission.decided_by = by
    submission.decided_at = now or timezone.now()
    submission.decision_note = reason.strip()
    submission._history_user = by  # type: ignore[attr-defined]
    submission.save()
    task.status = Task.Status.IN_PROGRESS
    task._history_user = by  # type: ignore[attr-defined]
    task.save(update_fields=["status", "updated_at"])
    return submission


@transaction.atomic
def extension_request(
    *,
    task: Task,
    unit: Unit,
    by: User | None,
    new_deadline: dt.date,
    reason: str,
    now: dt.datetime | None = None,
) -> ExtensionRequest:
    """The unit asks for a later deadline; the deadline moves only when a coordinator
    approves."""
    now = now or timezone.now()
    task = _locked(task)
    _require_working(task)
    _require_reporting_unit(task, unit, by)
    if new_deadline <= task.deadline:
        raise ValidationError(
            {
                "new_deadline": _("The new deadline must be after the current one (%(date)s).")
                % {"date": f"{task.deadline:%d/%m/%Y}"}
            }
        )
    if new_deadline <= timezone.localdate(now):
        raise ValidationError({"new_deadline": _("The new deadline must be in the future.")})
    if task.extension_requests.filter(status=Decision.PENDING).exists():
        raise ValidationError(
            _("This task already has an extension request awaiting a decision."), code="pending"
        )
    request = ExtensionRequest(
        task=task,
        unit=unit,
        requested_by=by,
        requested_at=now,
        previous_deadline=task.deadline,
        new_deadline=new_deadline,
        reason=reason.strip(),
    )
    request.full_clean()
    request._history_user = by  # type: ignore[attr-defined]
    request.save()
    return request


@transaction.atomic
def extension_decide(
    *,
    request: ExtensionRequest,
    by: User,
    approve: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> ExtensionRequest:
    """A coordinator approves (the deadline moves; the first deadline stays on record in
    ``Task.original_deadline``) or refuses with a reason."""
    if not by.has_perm("plans.decide_extension"):
        raise PermissionDenied(_("Only a coordinator decides extension requests."))
    task = _locked(request.task)
    request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != Decision.PENDING:
        raise ValidationError(_("This request has already been decided."), code="decided")
    if not approve and not note.strip():
        raise ValidationError({"note": _("Give the reason for the refusal.")})
    if approve and request.new_deadline <= task.deadline:
        raise ValidationError(
            _("The deadline has meanwhile been moved to %(date)s, past the requested date.")
            % {"date": f"{task.deadline:%d/%m/%Y}"}
        )
    request.status = Decision.APPROVED if approve else Decision.REFUSED
    request.decided_by = by
    request.decided_at = now or timezone.now()
    request.decision_note = note.strip()
    request._history_user = by  # type: ignore[attr-defined]
    request.save()
    if approve:
        if task.original_deadline is None:
            task.original_deadline = task.deadline
        task.deadline = request.new_deadline
        task._history_user = by  # type: ignore[attr-defined]
        task.save(update_fields=["deadline", "original_deadline", "updated_at"])
    return request


@transaction.atomic
def comment_post(
    *, task: Task, unit: Unit, by: User, text: str, now: dt.datetime | None = None
) -> Comment:
    """Any unit with a role on the task may comment (it is all a coordinating unit does)."""
    if unit not in task_access(by, task).acting_units:
        raise PermissionDenied(_("You do not act for %(unit)s on this task.") % {"unit": unit})
    comment = Comment(
        task=task, unit=unit, author=by, text=text.strip(), created_at=now or timezone.now()
    )
    comment.full_clean()
    comment.save()
    return comment


@dataclass(frozen=True)
class DraftTasks:
    created: list[Task]
    already_planned: list[Indicator]
    other_province: list[Score]


def _presiding(owners: Owners | None) -> Unit | None:
    return owners.presiding if owners else None


@transaction.atomic
def draft_tasks_create(
    *, plan: Plan, scores: Iterable[Score], lead_unit: Unit, deadline: dt.date | None = None
) -> DraftTasks:
    """One draft task in ``plan`` for each indicator of ``scores`` (weak indicators), for the
    coordinator to complete and assign. Only the indicators ``plans.coverage`` counts as
    uncovered get one (the rule the weak-indicator list shows), so running this twice creates
    nothing the second time; results of a province other than the plan's are left out.

    A task needs its one lead unit (a database invariant other code relies on): the draft takes
    the indicator's presiding unit in the plan (``plans.owners``), else the lead the
    coordinator chose for the batch; the deadline defaults to the end of
    the plan's year. Drafts are not open tasks: nobody is reminded until they are assigned.
    """
    deadline = deadline or dt.date(plan.year, 12, 31)
    scores = list(scores)
    coverage = coverage_of(scores)
    owners = owners_for([plan.pk], [score.indicator for score in scores])
    titles = {(i, t.lower()) for i, t in plan.tasks.values_list("indicator_id", "title")}
    seen: set[int] = set()
    created: list[Task] = []
    already: list[Indicator] = []
    elsewhere: list[Score] = []
    for score in scores:
        indicator = score.indicator
        if not plan_addresses(plan, score):
            elsewhere.append(score)
            continue
        if indicator.pk in seen:  # the same indicator weak in several years: one task
            continue
        seen.add(indicator.pk)
        if coverage[score.pk] != Coverage.UNCOVERED:
            already.append(indicator)
            continue
        # Stored text, written once in the coordinator's language; they edit it afterwards.
        title = _("Raise indicator %(code)s: %(name)s") % {
            "code": indicator.code,
            "name": indicator.name_vi,
        }
        title = title[: Task._meta.get_field("title").max_length - 8]  # room for " (n)"
        # A cancelled task may hold the same title (titles are unique per plan and indicator).
        base, number = title, 1
        while (indicator.pk, title.lower()) in titles:
            number += 1
            title = f"{base} ({number})"
        description = _(
            "DTI %(year)s, %(province)s: %(points)s of %(max)s points, %(recoverable)s points "
            "still to win."
        ) % {
            "year": score.assessment.year,
            "province": score.assessment.province.name,
            "points": score.points,
            "max": indicator.max_points,
            "recoverable": indicator.max_points - score.points,
        }
        created.append(
            Task(
                plan=plan,
                indicator=indicator,
                title=title,
                description=description,
                lead_unit=_presiding(owners.get((plan.pk, indicator.pk))) or lead_unit,
                deadline=deadline,
                status=Task.Status.DRAFT,
            )
        )
    # With history, like every other write to tasks (a plain bulk_create would leave none).
    created = bulk_create_with_history(created, Task)
    return DraftTasks(created=created, already_planned=already, other_province=elsewhere)

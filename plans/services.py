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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from dtiplan.history import history_copy
from indicators.models import Indicator, Score
from plans.access import task_access
from plans.coverage import Coverage, coverage_of, plan_addresses
from plans.models import (
    Acknowledgement,
    Assignment,
    Comment,
    CompletionSubmission,
    DecidedRequest,
    Decision,
    Evidence,
    ExtensionRequest,
    IndicatorOwner,
    IndicatorOwnerUnit,
    OwnerRole,
    Plan,
    ProgressUpdate,
    Task,
    TaskRole,
    Unit,
    UnitMembership,
    User,
)
from plans.ongoing import next_report_date
from plans.owners import Owners, check_indicator_in_plan_year, check_owner_units, owners_for


def _locked(task: Task) -> Task:
    """The task re-read under a row lock (PostgreSQL), so that checks and writes see the
    latest status and deadline even when two people act at the same moment."""
    return Task.objects.select_for_update().get(pk=task.pk)


def _require_working(task: Task) -> None:
    if not task.accepts_reports:
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
        evidence.attach_file(file)
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
    if (following := next_report_date(task)) is not None:
        # An ongoing task: this period is reported, the next report date is its deadline.
        task.deadline = following
        fields.append("deadline")
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


# --- Decisions on requests (completions, extensions) -------------------------------------------

_Request = TypeVar("_Request", bound=DecidedRequest)


def _locked_request(row: _Request) -> _Request:
    """The request re-read under a row lock (after its task's), so that two people deciding
    at once cannot both see it pending."""
    return type(row).objects.select_for_update().get(pk=row.pk)


def _require_refusal_reason(note: str, *, field: str) -> None:
    if not note.strip():
        raise ValidationError({field: _("Give the reason for the refusal.")}, code="reason")


def _decision_record(
    row: _Request, *, approve: bool, by: User, note: str, now: dt.datetime | None
) -> _Request:
    """Approve or refuse a pending request, recording who, when and why (with history)."""
    row.status = Decision.APPROVED if approve else Decision.REFUSED
    row.decided_by = by
    row.decided_at = now or timezone.now()
    row.decision_note = note.strip()
    row._history_user = by  # type: ignore[attr-defined]
    row.save()
    return row


def _pending_submission(
    submission: CompletionSubmission, by: User
) -> tuple[CompletionSubmission, Task]:
    task = _locked(submission.task)
    submission = _locked_request(submission)
    if not submission.is_pending or task.status != Task.Status.SUBMITTED:
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
    _decision_record(submission, approve=True, by=by, note=note, now=now)
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
    _require_refusal_reason(reason, field="reason")
    submission, task = _pending_submission(submission, by)
    _decision_record(submission, approve=False, by=by, note=reason, now=now)
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
    if task.extension_requests.pending().exists():
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
    request = _locked_request(request)
    if not request.is_pending:
        raise ValidationError(_("This request has already been decided."), code="decided")
    if not approve:
        _require_refusal_reason(note, field="note")
    if approve and request.new_deadline <= task.deadline:
        raise ValidationError(
            _("The deadline has meanwhile been moved to %(date)s, past the requested date.")
            % {"date": f"{task.deadline:%d/%m/%Y}"}
        )
    _decision_record(request, approve=approve, by=by, note=note, now=now)
    if approve:
        task_deadline_move(task=task, deadline=request.new_deadline, by=by)
    return request


def task_deadline_move(
    *, task: Task, deadline: dt.date, by: User | None, save: bool = True
) -> Task:
    """Move the task's deadline; the first deadline ever set stays on record in
    ``Task.original_deadline``, whoever moves it (an approved extension, the admin, an import).

    ``save=False`` only changes ``task`` in memory, for a caller that saves the task with its
    other changes (the admin's change form, an import's batch)."""
    if deadline == task.deadline:
        return task
    if task.original_deadline is None:
        task.original_deadline = task.deadline
    task.deadline = deadline
    if save:
        task._history_user = by  # type: ignore[attr-defined]
        task.save(update_fields=["deadline", "original_deadline", "updated_at"])
    return task


# --- A task's units ---------------------------------------------------------------------------


def task_units_check(
    *,
    lead: Unit | None,
    implementing: Iterable[Unit],
    coordinating: Iterable[Unit],
    monitoring: Iterable[Unit],
) -> None:
    """The role rules, checked before anything is written: a task has exactly one lead unit;
    the lead is not also a coordinating unit (it presides, it does not assist); a unit holds a
    role once. The lead may also implement or monitor.

    Raises ``ValidationError`` keyed by role (``TaskRole`` values: "lead", "implementing",
    "coordinating", "monitoring"); each message carries the unit in ``params["unit"]`` so that
    a form can mark the row and an import the column."""
    errors: dict[str, list[ValidationError]] = {}
    if lead is None:
        errors[TaskRole.LEAD] = [
            ValidationError(_("Every task needs exactly one lead unit."), code="lead")
        ]
    given = {
        TaskRole.IMPLEMENTING: list(implementing),
        TaskRole.COORDINATING: list(coordinating),
        TaskRole.MONITORING: list(monitoring),
    }
    for role, units in given.items():
        seen: set[int] = set()
        for unit in units:
            if unit.pk in seen:
                errors.setdefault(role, []).append(
                    ValidationError(
                        _("%(unit)s is listed twice in this role."),
                        code="duplicate",
                        params={"unit": unit},
                    )
                )
            seen.add(unit.pk)
    if lead is not None and lead.pk in {unit.pk for unit in given[TaskRole.COORDINATING]}:
        errors.setdefault(TaskRole.COORDINATING, []).append(
            ValidationError(
                _("%(unit)s is the lead unit; it cannot also be a coordinating unit."),
                code="lead_coordinating",
                params={"unit": lead},
            )
        )
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class TaskUnits:
    """A task's units as someone wants them. The lead is ``task.lead_unit``; a role left
    ``None`` keeps the units it has."""

    task: Task
    implementing: Sequence[Unit] | None = None
    coordinating: Sequence[Unit] | None = None
    monitoring: Sequence[Unit] | None = None

    def given(self) -> dict[str, Sequence[Unit]]:
        roles = {
            Assignment.Role.IMPLEMENTING: self.implementing,
            Assignment.Role.COORDINATING: self.coordinating,
            Assignment.Role.MONITORING: self.monitoring,
        }
        return {role: units for role, units in roles.items() if units is not None}


@dataclass(frozen=True)
class TaskUnitsChanged:
    """What ``task_units_set`` wrote, for the admin's change message."""

    added: list[Assignment]
    removed: list[Assignment]


# task id → role → {unit: assignment id}: a set of tasks' assignments as read once.
TaskUnitsNow = dict[int, dict[str, dict[Unit, int]]]


def task_units_read(*, tasks: Iterable[Task] | QuerySet[Task]) -> TaskUnitsNow:
    """The tasks' implementing, coordinating and monitoring units, in one query (a queryset
    of tasks stays a subquery)."""
    current: TaskUnitsNow = {}
    for assignment in Assignment.objects.filter(task__in=tasks).select_related("unit"):
        roles = current.setdefault(assignment.task_id, {})
        roles.setdefault(assignment.role, {})[assignment.unit] = assignment.pk
    return current


@transaction.atomic
def task_units_set(
    *,
    task: Task,
    lead: Unit | None,
    implementing: Sequence[Unit] | None = None,
    coordinating: Sequence[Unit] | None = None,
    monitoring: Sequence[Unit] | None = None,
    by: User | None,
) -> TaskUnitsChanged:
    """Give the task its lead unit and, for each role given, exactly these units (a role left
    ``None`` keeps its units). The role rules are ``task_units_check``'s; nothing is written
    when one fails. Returns the assignments added and removed."""
    locked = _locked(task)
    current = task_units_read(tasks=[locked]).get(locked.pk, {})

    def kept(role: str, units: Sequence[Unit] | None) -> Iterable[Unit]:
        return list(current.get(role, {})) if units is None else units

    task_units_check(
        lead=lead,
        implementing=kept(Assignment.Role.IMPLEMENTING, implementing),
        coordinating=kept(Assignment.Role.COORDINATING, coordinating),
        monitoring=kept(Assignment.Role.MONITORING, monitoring),
    )
    assert lead is not None  # task_units_check refuses a task without one
    if locked.lead_unit_id != lead.pk:
        locked.lead_unit = lead
        locked._history_user = by  # type: ignore[attr-defined]
        locked.save(update_fields=["lead_unit", "updated_at"])
    task.lead_unit = lead
    return _assignments_write(
        [
            TaskUnits(
                task=locked,
                implementing=implementing,
                coordinating=coordinating,
                monitoring=monitoring,
            )
        ],
        {locked.pk: current},
        by,
    )


def task_units_set_many(
    *, wanted: Sequence[TaskUnits], by: User | None, current: TaskUnitsNow | None = None
) -> None:
    """``task_units_set`` for many saved tasks at once (an import), whose leads are already
    saved: one DELETE and one INSERT, however many tasks. ``current`` is what
    ``task_units_read`` gave the caller earlier in the same transaction (else it is read
    here). Every task is checked before anything is written."""
    if current is None:
        current = task_units_read(tasks=[change.task for change in wanted])
    problems: list[ValidationError] = []
    for change in wanted:
        now = current.get(change.task.pk, {})
        given = change.given()
        try:
            task_units_check(
                lead=change.task.lead_unit,
                **{
                    role.value: given.get(role, list(now.get(role, {}))) for role in Assignment.Role
                },
            )
        except ValidationError as error:
            problems.append(ValidationError(f"{change.task}: {'; '.join(error.messages)}"))
    if problems:
        raise ValidationError(problems)
    # Nothing is refused past this point: no savepoint needed (and none to pay for per import).
    with transaction.atomic(savepoint=False):
        _assignments_write(wanted, current, by)


def _assignments_write(
    wanted: Iterable[TaskUnits], current: TaskUnitsNow, by: User | None
) -> TaskUnitsChanged:
    """Each role given becomes exactly its units: what went away is deleted and what is new
    inserted; an assignment that stays keeps its row (and its history)."""
    stale: list[Assignment] = []
    missing: list[Assignment] = []
    for change in wanted:
        now = current.get(change.task.pk, {})
        for role, units in change.given().items():
            have = now.get(role, {})
            keep = {unit.pk for unit in units}
            stale += [
                Assignment(pk=pk, task=change.task, unit=unit, role=role)
                for unit, pk in have.items()
                if unit.pk not in keep
            ]
            missing += [
                Assignment(task=change.task, unit=unit, role=role)
                for unit in units
                if unit not in have
            ]
    if stale:
        Assignment.objects.filter(pk__in=[assignment.pk for assignment in stale]).delete()
    if missing:
        # Assignments have history; a plain bulk_create would leave none.
        Assignment.objects.bulk_create(missing, batch_size=500)
        history_copy(Assignment, [a.pk for a in missing], history_type="+", user=by)
    return TaskUnitsChanged(added=missing, removed=stale)


# --- Units ------------------------------------------------------------------------------------


def unit_parent_check(*, unit: Unit, parent: Unit | None) -> None:
    """A unit is not its own parent and not under one of its own sub-units: the tree has no
    loop. Walks up from ``parent`` through ``Unit.parent``, so parents wired in memory (an
    import) cost no query. Raises ``ValidationError`` on "parent"."""
    if parent is None:
        return
    if parent is unit or (unit.pk is not None and parent.pk == unit.pk):
        raise ValidationError(
            {"parent": _("A unit cannot be its own parent unit.")}, code="own_parent"
        )
    if unit.pk is None:
        return  # a new unit has nothing under it yet
    ancestor: Unit | None = parent
    visited: set[int] = set()
    while ancestor is not None and ancestor.pk not in visited:
        if ancestor.pk == unit.pk:
            raise ValidationError(
                {
                    "parent": _(
                        '"%(parent)s" is under "%(name)s" already; the units would form a loop.'
                    )
                    % {"parent": parent.name, "name": unit.name}
                },
                code="loop",
            )
        visited.add(ancestor.pk)
        ancestor = ancestor.parent


def focal_point_emails_clean(*, emails: Iterable[str]) -> list[str]:
    """The addresses, lower-cased, once each. Each must be a valid address short enough to
    become the username of the account it may create. Raises ``ValidationError`` on
    "focal_points" with one message per bad address."""
    longest = User._meta.get_field("username").max_length
    clean: list[str] = []
    bad: list[str] = []
    for email in emails:
        try:
            validate_email(email)
            valid = len(email) <= longest
        except ValidationError:
            valid = False
        if not valid:
            bad.append(_('"%(email)s" is not a valid e-mail address.') % {"email": email})
        elif email.lower() not in clean:
            clean.append(email.lower())
    if bad:
        raise ValidationError({"focal_points": bad}, code="email")
    return clean


def accounts_find(*, emails: Iterable[str]) -> dict[str, User]:
    """lower-cased address → the account it names, in one query: matched by e-mail ignoring
    case, or by a username equal to the address (how ``unit_focal_points_set`` names the
    accounts it creates); an e-mail match wins."""
    wanted = {email.lower() for email in emails}
    if not wanted:
        return {}
    matches = list(
        User.objects.annotate(email_l=Lower("email"), username_l=Lower("username")).filter(
            Q(email_l__in=wanted) | Q(username_l__in=wanted)
        )
    )
    found = {user.username.lower(): user for user in matches}
    found.update({user.email.lower(): user for user in matches if user.email})
    return {email: user for email, user in found.items() if email in wanted}


# unit id → {user id: focal-point membership}: some units' focal points as read once.
FocalPointsNow = dict[int, dict[int, UnitMembership]]


def unit_focal_points_read(*, units: Iterable[Unit | int]) -> FocalPointsNow:
    """The units' focal-point memberships with their people, in one query."""
    current: FocalPointsNow = {}
    memberships = UnitMembership.objects.filter(
        role=UnitMembership.Role.FOCAL_POINT,
        unit__in=[unit.pk if isinstance(unit, Unit) else unit for unit in units],
    ).select_related("user")
    for membership in memberships:
        current.setdefault(membership.unit_id, {})[membership.user_id] = membership
    return current


def unit_focal_points_set(
    *,
    wanted: Mapping[Unit, Sequence[str]],
    by: User | None,
    accounts: Mapping[str, User] | None = None,
    current: FocalPointsNow | None = None,
) -> list[str]:
    """Each unit's focal points become exactly these addresses' accounts (other memberships,
    e.g. heads, stay). An address without an account gets a new active account with no usable
    password; its owner sets one through "Forgotten your password?" on the login page.
    Returns the new accounts' addresses.

    A fixed number of queries for any number of units; a caller that read them earlier in the
    same transaction passes ``accounts`` (``accounts_find``) and ``current``
    (``unit_focal_points_read``) instead of paying for them twice."""
    cleaned = {unit: focal_point_emails_clean(emails=emails) for unit, emails in wanted.items()}
    all_emails = {email for emails in cleaned.values() for email in emails}
    users = dict(accounts_find(emails=all_emails) if accounts is None else accounts)
    if current is None:
        current = unit_focal_points_read(units=list(cleaned))
    new = sorted(all_emails - set(users))
    # Nothing is refused past this point: no savepoint needed (and none to pay for per import).
    with transaction.atomic(savepoint=False):
        created = []
        for email in new:
            user = User(username=email, email=email, is_active=True)
            user.set_unusable_password()
            created.append(user)
        User.objects.bulk_create(created)
        users.update({user.email: user for user in created})
        stale: list[int] = []
        missing: list[UnitMembership] = []
        for unit, emails in cleaned.items():
            have = current.get(unit.pk, {})
            keep = {users[email].pk for email in emails}
            stale += [membership.pk for user_id, membership in have.items() if user_id not in keep]
            missing += [
                UnitMembership(unit=unit, user_id=user_id, role=UnitMembership.Role.FOCAL_POINT)
                for user_id in keep - set(have)
            ]
        if stale:
            UnitMembership.objects.filter(pk__in=stale).delete()
        # Memberships have history (who was focal point when); bulk_create alone skips it.
        bulk_create_with_history(missing, UnitMembership, default_user=by)
    return new


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
        if score.recoverable is not None:
            description = _(
                "DTI %(year)s, %(province)s: %(points)s of %(max)s points, %(recoverable)s "
                "points still to win."
            ) % {
                "year": score.assessment.year,
                "province": score.assessment.province.name,
                "points": score.points,
                "max": indicator.max_points,
                "recoverable": score.recoverable,
            }
        else:  # published as a value only: the max points are not known
            description = _("DTI %(year)s, %(province)s: value %(value)s.") % {
                "year": score.assessment.year,
                "province": score.assessment.province.name,
                "value": score.value,
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


# --- Indicator owners ---------------------------------------------------------------------------
# Who answers for each indicator of a plan (plans.owners reads them and states the rules).


@transaction.atomic
def indicator_owner_set(
    *,
    plan: Plan,
    indicator: Indicator,
    presiding_unit: Unit,
    monitoring_unit: Unit | None = None,
    coordinating_units: Iterable[Unit] = (),
    by: User | None = None,
) -> IndicatorOwner:
    """Give ``indicator`` its units in ``plan``: exactly these, replacing what it had."""
    coordinating = list({unit.pk: unit for unit in coordinating_units}.values())
    errors = check_owner_units(presiding_unit, monitoring_unit, coordinating)
    problem = check_indicator_in_plan_year(plan, indicator)
    if problem:
        errors.setdefault("indicator", []).append(problem)
    if errors:
        raise ValidationError(errors)
    owner, _created = IndicatorOwner.objects.get_or_create(plan=plan, indicator=indicator)
    indicator_owner_units_set(
        owner=owner,
        presiding=presiding_unit,
        monitoring=monitoring_unit,
        coordinating=coordinating,
        by=by,
    )
    return owner


def indicator_owner_units_set(
    *,
    owner: IndicatorOwner,
    presiding: Unit,
    monitoring: Unit | None,
    coordinating: Sequence[Unit],
    by: User | None,
    now: list[IndicatorOwnerUnit] | None = None,
) -> None:
    """The owner's role rows become exactly these: one DELETE of the rows that changed and one
    INSERT of the new ones (a unit changing role is deleted first, so the one-role-per-unit
    constraint holds throughout). ``now``: the owner's rows when already loaded."""
    wanted = {presiding.pk: OwnerRole.PRESIDING}
    if monitoring is not None:
        wanted[monitoring.pk] = OwnerRole.MONITORING
    for unit in coordinating:
        wanted.setdefault(unit.pk, OwnerRole.COORDINATING)
    rows = now if now is not None else list(owner.units.all())
    have = {row.unit_id: row for row in rows}
    stale = [row.pk for unit_id, row in have.items() if wanted.get(unit_id) != row.role]
    missing = [
        IndicatorOwnerUnit(owner=owner, unit_id=unit_id, role=role)
        for unit_id, role in wanted.items()
        if unit_id not in have or have[unit_id].role != role
    ]
    if stale:
        IndicatorOwnerUnit.objects.filter(pk__in=stale).delete()
    if missing:
        bulk_create_with_history(missing, IndicatorOwnerUnit, default_user=by)

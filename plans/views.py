"""The focal-point portal: server-rendered pages, thin views over the services.

Every view starts from ``Task.objects.visible_to(request.user)``: a task outside it, or a row
of such a task (evidence, a request), answers 404 whatever the URL. What the person may do on a
visible task comes from ``plans.access.task_access``; a forbidden action answers 403.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from plans import services
from plans.access import TaskAccess, task_access, unit_roles
from plans.decisions import COMPLETION, EXTENSION, Decider
from plans.filters import DUE_SOON_DAYS, TaskFilter, task_counts
from plans.forms import (
    CommentForm,
    CompletionForm,
    DecisionForm,
    ExtensionForm,
    ProfileForm,
    ProgressForm,
)
from plans.models import (
    Acknowledgement,
    CompletionSubmission,
    Evidence,
    ExtensionRequest,
    Task,
    TaskRole,
    Unit,
    User,
)

PAGE_SIZE = 25


def _visible(request: HttpRequest) -> QuerySet[Task]:
    return Task.objects.visible_to(request.user)


def _task_or_404(request: HttpRequest, pk: int) -> Task:
    return get_object_or_404(_visible(request).with_list_columns(), pk=pk)


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    """ "My unit's tasks". Queries do not grow with the number of tasks: session and user, the
    user's units, permissions, the filter's indicator choices, the counts (one aggregate), the
    page (count and rows with plan, indicator and lead unit joined), and for the rows on the
    page the roles and acknowledgements of the person's units (two queries)."""
    now = timezone.now()
    visible = _visible(request)
    filterset = TaskFilter(request.GET or None, queryset=visible, request=request, now=now)
    tasks = filterset.qs.with_list_columns().order_by("deadline", "pk")
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    _annotate_my_roles(rows, filterset.units, now)
    # Empty fields of the filter form are dropped, so "?status=&overdue=true" is the overdue
    # quick filter and page links stay short.
    query = request.GET.copy()
    query.pop("page", None)
    for key in [k for k, values in query.lists() if not any(values)]:
        del query[key]
    return render(
        request,
        "portal/task_list.html",
        {
            "filter": filterset,
            "page": page,
            "tasks": rows,
            "counts": task_counts(visible, now),
            "due_soon_days": DUE_SOON_DAYS,
            "query": query.urlencode(),
            "quick": _quick_filter(query.urlencode()),
            "has_units": bool(filterset.unit_ids),
            "today": timezone.localdate(now),
        },
    )


def _quick_filter(query: str) -> str:
    """Which of the quick-filter chips the current query is, to highlight it."""
    if not query:
        return "all"
    if query == "overdue=true":
        return "overdue"
    if query == f"due_within={DUE_SOON_DAYS}":
        return "due_soon"
    if query.startswith("status=") and "&" not in query:
        return query.removeprefix("status=")
    return ""


def _annotate_my_roles(tasks: list[Task], units: dict[int, Unit], now: dt.datetime) -> None:
    """For each task on the page: the roles the person's units hold (``unit_roles``), and
    whether all those units have acknowledged it. Two queries for the whole page."""
    mine = unit_roles(tasks, units)
    acked: dict[int, set[int]] = defaultdict(set)
    if units and tasks:
        for task_id, unit_id in Acknowledgement.objects.filter(
            task_id__in=[t.pk for t in tasks], unit_id__in=list(units)
        ).values_list("task_id", "unit_id"):
            acked[task_id].add(unit_id)
    labels = dict(TaskRole.choices)
    for task in tasks:
        held = set().union(*mine[task.pk].values())
        acting = {unit.pk for unit in mine[task.pk]}
        task.my_roles = [labels[r] for r in TaskRole.values if r in held]
        task.needs_ack = bool(acting - acked[task.pk]) and task.is_open
        task.overdue = task.is_overdue(now)
        task.late_days = task.days_overdue(now)


@login_required
@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    access = task_access(request.user, task)
    return render(request, "portal/task_detail.html", _detail_context(request, task, access))


def _detail_context(request: HttpRequest, task: Task, access: TaskAccess) -> dict[str, Any]:
    now = timezone.now()
    evidence = Prefetch("evidence", queryset=Evidence.objects.order_by("uploaded_at", "pk"))
    acknowledged = {a.unit_id: a for a in task.acknowledgements.select_related("by", "unit")}
    changes = _task_changes(task)
    pending_completion = next((c for c in task.completions.all() if c.is_pending), None)
    return {
        "task": task,
        "access": access,
        "now": now,
        "overdue": task.is_overdue(now),
        "days_overdue": task.days_overdue(now),
        "assignments": task.assignments.select_related("unit").order_by("role", "unit__name"),
        "to_acknowledge": [u for u in access.acting_units if u.pk not in acknowledged],
        "acknowledgements": list(acknowledged.values()),
        "updates": task.progress_updates.select_related("unit", "author").prefetch_related(
            evidence
        ),
        "completions": task.completions.select_related("unit", "submitted_by", "decided_by")
        .prefetch_related(evidence)
        .order_by("-submitted_at"),
        "pending_completion": pending_completion,
        "can_verify_pending": bool(pending_completion and access.can_verify(pending_completion)),
        "extensions": task.extension_requests.select_related(
            "unit", "requested_by", "decided_by"
        ).order_by("-requested_at"),
        "comments": task.comments.select_related("unit", "author"),
        "comment_form": CommentForm(units=access.acting_units) if access.can_comment else None,
        "changes": changes,
        "is_working": task.accepts_reports,
    }


# What the task page's history shows: the fields people act on. FK fields by attname.
_HISTORY_FIELDS = [
    "status",
    "deadline",
    "original_deadline",
    "percent_done",
    "lead_unit_id",
    "start_date",
    "title",
]
HISTORY_SHOWN = 50


def _task_changes(task: Task) -> list[dict[str, Any]]:
    """The task's recorded changes, newest first, each as field: old → new. Two queries:
    the history rows (one more than shown, to diff the oldest shown) and the unit names."""
    records = list(
        task.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : HISTORY_SHOWN + 1
        ]
    )
    unit_ids = {r.lead_unit_id for r in records}
    names = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
    changes = []
    for record, previous in zip(records, [*records[1:], None], strict=True):
        if len(changes) == HISTORY_SHOWN:
            break
        if previous is None:
            if record.history_type == "+":
                changes.append({"record": record, "created": True, "fields": []})
            continue
        fields = []
        for name in _HISTORY_FIELDS:
            old, new = getattr(previous, name), getattr(record, name)
            if old != new:
                label = Task._meta.get_field(name.removesuffix("_id")).verbose_name
                fields.append(
                    {
                        "name": label,
                        "old": _history_value(name, old, names),
                        "new": _history_value(name, new, names),
                    }
                )
        if fields:
            changes.append({"record": record, "created": False, "fields": fields})
    return changes


def _history_value(field: str, value: Any, unit_names: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if field == "status":
        return str(Task.Status(value).label)
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if field == "lead_unit_id":
        return unit_names.get(value, str(value))
    if field == "percent_done":
        return f"{value}%"
    return str(value)


@login_required
@require_POST
def task_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    access = task_access(request.user, task)
    if not access.acting_units:
        raise PermissionDenied
    for unit in access.acting_units:
        services.task_acknowledge(task=task, unit=unit, by=request.user)
    messages.success(request, _("Receipt acknowledged."))
    return redirect(task)


def _action(
    request: HttpRequest,
    pk: int,
    *,
    template: str,
    make_form: Callable[[Task, TaskAccess, bool, dict[str, Any]], Form],
    allowed: Callable[[Task, TaskAccess], bool],
    perform: Callable[[Task, Form], object],
    done: str,
    title: str,
) -> HttpResponse:
    """The shape every "do something on a task" page shares: 404 for an invisible task, 403
    when the person may not do it, the service's validation errors back on the form."""
    task = _task_or_404(request, pk)
    access = task_access(request.user, task)
    if not allowed(task, access):
        raise PermissionDenied
    overdue = task.is_overdue(timezone.now())
    bound: dict[str, Any] = (
        {"data": request.POST, "files": request.FILES} if request.method == "POST" else {}
    )
    form = make_form(task, access, overdue, bound)
    if request.method == "POST" and form.is_valid():
        try:
            perform(task, form)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, done)
            return redirect(task)
    # A browser cannot send a file again by itself: after an error the person must attach it
    # again, and the page says so by name rather than silently dropping it.
    dropped = [upload.name for upload in request.FILES.values()] if request.method == "POST" else []
    return render(
        request,
        template,
        {
            "task": task,
            "form": form,
            "overdue": overdue,
            "title": title,
            "access": access,
            "dropped_files": dropped,
        },
    )


def _errors_to_form(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
@require_http_methods(["GET", "POST"])
def progress_create(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(task: Task, form: Form) -> object:
        data = form.cleaned_data
        return services.progress_report(
            task=task,
            unit=data["unit"],
            author=request.user,
            percent=data["percent"],
            note=data["note"],
            delay_reason=data.get("delay_reason", ""),
            evidence_file=data["evidence_file"] or None,
            evidence_link=data["evidence_link"],
        )

    return _action(
        request,
        pk,
        template="portal/task_form.html",
        make_form=lambda task, access, overdue, bound: ProgressForm(
            **bound,
            units=access.reporting_units,
            overdue=overdue,
            initial={"percent": task.percent_done},
        ),
        allowed=lambda task, access: access.can_report_now,
        perform=perform,
        done=_("Progress reported."),
        title=_("Report progress"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def completion_create(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(task: Task, form: Form) -> object:
        data = form.cleaned_data
        return services.completion_submit(
            task=task,
            unit=data["unit"],
            by=request.user,
            document_number=data["document_number"],
            document_date=data["document_date"],
            summary=data["summary"],
            document=data["document"],
            delay_reason=data.get("delay_reason", ""),
        )

    return _action(
        request,
        pk,
        template="portal/task_form.html",
        make_form=lambda task, access, overdue, bound: CompletionForm(
            **bound, units=access.reporting_units, overdue=overdue
        ),
        allowed=lambda task, access: access.can_report_now,
        perform=perform,
        done=_("Completion submitted. The task is completed once it is verified."),
        title=_("Submit completion"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def extension_create(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(task: Task, form: Form) -> object:
        data = form.cleaned_data
        return services.extension_request(
            task=task,
            unit=data["unit"],
            by=request.user,
            new_deadline=data["new_deadline"],
            reason=data["reason"],
        )

    return _action(
        request,
        pk,
        template="portal/task_form.html",
        make_form=lambda task, access, overdue, bound: ExtensionForm(
            **bound, units=access.reporting_units
        ),
        allowed=lambda task, access: access.can_report_now,
        perform=perform,
        done=_("Extension requested. The coordinator will decide."),
        title=_("Request an extension"),
    )


@login_required
@require_POST
def comment_create(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    access = task_access(request.user, task)
    if not access.can_comment:
        raise PermissionDenied
    form = CommentForm(request.POST, units=access.acting_units)
    if form.is_valid():
        services.comment_post(
            task=task,
            unit=form.cleaned_data["unit"],
            by=request.user,
            text=form.cleaned_data["text"],
        )
        messages.success(request, _("Comment posted."))
    else:
        messages.error(request, _("The comment was empty or too long."))
    return redirect(task)


def _decide(
    request: HttpRequest, row: ExtensionRequest | CompletionSubmission, decider: Decider
) -> HttpResponse:
    """The portal's decide page, for either kind of request (``plans.decisions``)."""
    user: User = request.user  # type: ignore[assignment]
    if not decider.allowed(user, row):
        raise PermissionDenied
    form = DecisionForm(
        request.POST or None,
        decider=decider,
    )
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        try:
            if form.cleaned_data["decision"] == "approve":
                decider.approve(row, by=user, note=note)
            else:
                decider.refuse(row, by=user, reason=note)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect(row.task)
    opts = row._meta
    admin_url = (
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
        if user.is_staff
        else ""
    )
    return render(
        request,
        "portal/decide.html",
        {
            "row": row,
            "task": row.task,
            "form": form,
            "title": decider.title,
            "admin_url": admin_url,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def extension_decide(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(
        ExtensionRequest.objects.select_related("task", "unit", "requested_by"),
        pk=pk,
        task__in=_visible(request).values("pk"),
    )
    return _decide(request, row, EXTENSION)


@login_required
@require_http_methods(["GET", "POST"])
def completion_decide(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(
        CompletionSubmission.objects.select_related("task", "unit", "submitted_by"),
        pk=pk,
        task__in=_visible(request).values("pk"),
    )
    return _decide(request, row, COMPLETION)


@login_required
@require_GET
def decisions(request: HttpRequest) -> HttpResponse:
    """What waits for this person's decision: extension requests (coordinators) and the
    completions they may verify (``verifiable_by``, the rule the verify page applies), so
    everything listed opens. Queries do not grow with the rows: at most 200 of each."""
    user: User = request.user  # type: ignore[assignment]
    visible = _visible(request).values("pk")
    extensions: QuerySet[ExtensionRequest] = ExtensionRequest.objects.none()
    if user.has_perm("plans.decide_extension"):
        extensions = (
            ExtensionRequest.objects.pending()
            .filter(task__in=visible)
            .select_related("task", "unit")
        )
    completions = (
        CompletionSubmission.objects.verifiable_by(user)
        .pending()
        .filter(task__in=visible)
        .select_related("task", "unit")
    )
    return render(
        request,
        "portal/decisions.html",
        {"extensions": extensions[:200], "completions": completions[:200]},
    )


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """The only way to read an evidence file: after the same visibility rule as its task."""
    evidence = get_object_or_404(
        Evidence.objects.exclude(file=""), pk=pk, task__in=_visible(request).values("pk")
    )
    return evidence.download()


@login_required
@require_GET
def task_export(request: HttpRequest) -> HttpResponse:
    """The person's visible tasks as a spreadsheet, in the import format (TaskResource)."""
    from plans.resources import TaskResource

    kind = request.GET.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        raise Http404
    queryset = _visible(request).with_list_columns().order_by("plan", "deadline", "pk")
    dataset = TaskResource().export(queryset=queryset)
    if kind == "xlsx":
        content: bytes | str = dataset.export("xlsx")
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = "\ufeff" + dataset.export("csv")  # a BOM, so Excel reads Vietnamese as UTF-8
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="tasks.{kind}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The person's own settings: language, and when decisions and new tasks come by e-mail."""
    user: User = request.user  # type: ignore[assignment]
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your settings are saved."))
        response = redirect("portal:profile")
        # The switch's cookie wins over the saved language (dtiplan.middleware): keep them equal.
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
        return response
    units = user.memberships.select_related("unit").order_by("unit__name")
    return render(request, "portal/profile.html", {"form": form, "memberships": units})


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, and for a signed-in person also their saved language, so the
    reminders they get by e-mail speak it too."""
    code = request.POST.get("language", "")
    if request.user.is_authenticated and code in dict(User.Language.choices):
        User.objects.filter(pk=request.user.pk).update(language=code)
    return set_language(request)

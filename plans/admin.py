from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from dtiplan.admin_lists import BigListAdmin
from dtiplan.forms import PrintableTextMixin
from dtiplan.spreadsheets.admin import SafeImportMixin

# admin_weak_indicators registers the weak-indicator list (shown under DTI indicators);
# admin_owners the indicator owners.
from plans import admin_weak_indicators, roles  # noqa: F401
from plans.admin_decisions import DecisionAdmin
from plans.admin_filters import MainIndicatorFilter
from plans.admin_imports import PlanChoiceImportMixin
from plans.admin_owners import PlanOwnersFormSet, PlanOwnersInline
from plans.decisions import COMPLETION, EXTENSION
from plans.models import (
    Acknowledgement,
    Assignment,
    Comment,
    CompletionSubmission,
    DecidedRequest,
    Evidence,
    ExtensionRequest,
    Plan,
    ProgressUpdate,
    Target,
    Task,
    Unit,
    UnitMembership,
    User,
)
from plans.resources import PlanResource, TargetResource, TaskResource, UnitResource
from plans.search import task_search
from plans.services import (
    progress_report,
    task_deadline_move,
    task_units_check,
    task_units_set,
    unit_parent_check,
)


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """simple-history's pages, made safe: its history view falls back to the historical rows
    when the object is outside ``get_queryset`` and its "revert" form saves on POST even when
    the button is hidden. Here both answer 404 for rows the person cannot see, and the revert
    form only shows: history is a record, changes go through the change form and services."""

    def _require_visible(self, request: HttpRequest, object_id: str) -> None:
        if request.user.has_perm("plans.view_all_tasks"):
            return  # may see everything, including the history of a deleted row
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict | None = None,
    ) -> HttpResponse:
        self._require_visible(request, object_id)
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class TaskScopedAdmin(BigListAdmin):
    """For rows that belong to a task: the admin shows only rows of tasks the person may see
    (``Task.objects.visible_to``), so a focal point who reaches the admin sees no more there
    than in the portal, and a change view of another unit's row answers 404. Such tables grow
    with the tasks (``BigListAdmin``)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.has_perm("plans.view_all_tasks"):
            return queryset
        return queryset.filter(task__in=Task.objects.visible_to(request.user).values("pk"))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Preferences"), {"fields": ("language",)}),
    )

    def _outranks(self, request: HttpRequest, obj: Any) -> bool:
        """Someone with rights the acting person lacks (a superuser, another staff member with
        more permissions, a staff member of a group the acting person is not in, such as the
        steering committee): a coordinator may not change, reset or delete them, or they could
        sign in as that account or redirect its e-mail (the monthly pack)."""
        if obj is None or request.user.is_superuser or obj.pk == request.user.pk:
            return False
        if obj.is_superuser:
            return True
        if obj.is_staff and not set(obj.groups.all()) <= set(request.user.groups.all()):
            return True
        return not obj.get_all_permissions() <= request.user.get_all_permissions()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Also guards the password-change view, which asks this question for the user.
        return super().has_change_permission(request, obj) and not self._outranks(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._outranks(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # A coordinator manages people but cannot grant rights, including to themselves.
        hidden = {"is_superuser", "groups", "user_permissions"}
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]})
            for name, opts in fieldsets
        ]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Coordinators and steering committee members work in the admin: putting someone in
        either group gives them Staff status too, instead of a sign-in that silently fails."""
        super().save_related(request, form, formsets, change)
        user = form.instance
        if not user.is_staff and user.groups.filter(name__in=roles.ADMIN_GROUPS).exists():
            user.is_staff = True
            user.save(update_fields=["is_staff"])


class MembershipInline(admin.TabularInline):
    model = UnitMembership
    extra = 1
    autocomplete_fields = ["user"]


class UnitAdminForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["name", "short_name", "kind", "email", "parent", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            # The same loop check as the units import: no loop enters through either door.
            unit_parent_check(unit=self.instance, parent=data.get("parent"))
        except ValidationError as error:
            self.add_error(None, error)
        return data


@admin.register(Unit)
class UnitAdmin(SafeImportMixin, ImportExportModelAdmin, ReadOnlyHistoryAdmin):
    resource_classes = [UnitResource]
    form = UnitAdminForm
    list_display = ["name", "short_name", "kind", "email", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "email"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    inlines = [MembershipInline]


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    fields = ["year", "kind", "points", "value", "rank", "count", "ranking"]


@admin.register(Target)
class TargetAdmin(SafeImportMixin, ImportExportModelAdmin):
    """Every plan's targets in one list, for import and export (``TargetResource``); a plan's
    own are also edited on its page."""

    resource_classes = [TargetResource]
    list_display = ["plan", "year", "kind", "points", "value", "rank", "count", "ranking"]
    list_filter = ["plan", "year", "kind"]
    list_select_related = ["plan"]
    autocomplete_fields = ["plan"]
    fields = ["plan", "year", "kind", "points", "value", "rank", "count", "ranking"]


@admin.register(Plan)
class PlanAdmin(SafeImportMixin, ImportExportModelAdmin):
    resource_classes = [PlanResource]
    inlines = [TargetInline, PlanOwnersInline]
    list_display = ["title", "year", "first_year", "last_year", "province", "decision", "status"]
    list_filter = ["status", "year"]
    search_fields = ["title", "decision"]
    list_select_related = ["province"]
    autocomplete_fields = ["province"]

    def get_inlines(self, request: HttpRequest, obj: Plan | None) -> list:
        # The owners' indicators are those of the set in force in the plan's year: the plan
        # is saved first.
        return self.inlines if obj is not None else [TargetInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if isinstance(formset, PlanOwnersFormSet):
            formset.save_through_service(by=request.user)
        else:
            super().save_formset(request, form, formset, change)


class AssignmentFormSet(forms.BaseInlineFormSet):
    """The task's other units. The role rules are ``task_units_check``'s, shown on the rows
    they concern; ``TaskAdmin.save_formset`` writes them through ``task_units_set``."""

    def rows_by_role(self) -> dict[str, list[forms.Form]]:
        rows: dict[str, list[forms.Form]] = {role: [] for role in Assignment.Role}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data.get("DELETE") and data.get("unit") and data.get("role") in rows:
                rows[data["role"]].append(form)
        return rows

    def units_by_role(self) -> dict[str, list[Unit]]:
        return {
            str(role): [form.cleaned_data["unit"] for form in forms_]
            for role, forms_ in self.rows_by_role().items()
        }

    def clean(self) -> None:
        # Not super().clean(): its duplicate-row check says less clearly what task_units_check
        # says below ("... is listed twice in this role").
        if not self.instance.lead_unit_id:
            return  # the task's own form says the lead is missing
        try:
            task_units_check(lead=self.instance.lead_unit, **self.units_by_role())
        except ValidationError as error:
            self._show_on_rows(error)

    def _show_on_rows(self, error: ValidationError) -> None:
        rows = self.rows_by_role()
        marks: list[tuple[forms.Form, ValidationError]] = []
        unplaced: list[ValidationError] = []
        for role, problems in error.error_dict.items():
            for problem in problems:
                unit = (problem.params or {}).get("unit")
                candidates = [
                    form
                    for form in rows.get(role, [])
                    if form.cleaned_data["unit"] == unit and all(form is not f for f, _p in marks)
                ]
                if candidates:
                    # The later row of a pair is the one to fix.
                    marks.append((candidates[-1], problem))
                else:
                    unplaced.append(problem)
        for form, problem in marks:
            form.add_error("unit", problem)
        if unplaced:
            raise ValidationError(unplaced)


class TaskAdminForm(PrintableTextMixin, forms.ModelForm):
    class Meta:
        model = Task
        fields = [
            "plan",
            "indicator",
            "title",
            "description",
            "expected_output",
            "note",
            "lead_unit",
            "start_date",
            "deadline",
            "deadline_text",
            "reporting_period",
            "status",
            "percent_done",
        ]

    def clean_status(self) -> str:
        """Completion is gated on evidence: "awaiting verification" and "completed" are reached
        only through a completion submission and its verification, never by editing."""
        status = self.cleaned_data["status"]
        before = self.instance.status if self.instance.pk else None
        gated = {Task.Status.SUBMITTED, Task.Status.COMPLETED}
        if status in gated and status != before:
            raise ValidationError(
                _(
                    "A task becomes %(status)s only through a completion submission and its "
                    "verification (see the task's completion submissions)."
                )
                % {"status": Task.Status(status).label}
            )
        return status


class AssignmentInline(admin.TabularInline):
    model = Assignment
    formset = AssignmentFormSet
    extra = 2
    autocomplete_fields = ["unit"]
    verbose_name = _("other unit")
    verbose_name_plural = _("implementing, coordinating and monitoring units")


class RecordInline(admin.TabularInline):
    """What units said and did on a task: shown on the task's page, never edited there."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields or [])

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Read-only foreign keys and each row's __str__ would otherwise cost a query per row.
        related = [
            f.name
            for f in self.model._meta.fields
            if f.is_relation and f.name in (self.fields or [])
        ]
        return super().get_queryset(request).select_related("task", *related)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProgressInline(RecordInline):
    model = ProgressUpdate
    fields = ["created_at", "unit", "author", "percent", "note", "delay_reason"]


class ExtensionInline(RecordInline):
    model = ExtensionRequest
    fields = [
        "requested_at",
        "unit",
        "previous_deadline",
        "new_deadline",
        "reason",
        "status",
        "decided_by",
        "decision_note",
    ]


class CompletionInline(RecordInline):
    model = CompletionSubmission
    fields = [
        "submitted_at",
        "unit",
        "document_number",
        "document_date",
        "summary",
        "status",
        "decided_by",
        "decision_note",
    ]


def evidence_link(evidence: Evidence) -> str:
    return format_html(
        '<a href="{}" rel="noopener noreferrer">{}</a>', evidence.get_absolute_url(), evidence
    )


class EvidenceInline(RecordInline):
    model = Evidence
    fields = ["uploaded_at", "unit", "uploaded_by", "document"]
    show_change_link = False

    @admin.display(description=_("file or link"))
    def document(self, obj: Evidence) -> str:
        return evidence_link(obj)


class AcknowledgementInline(RecordInline):
    model = Acknowledgement
    fields = ["unit", "by", "at"]
    show_change_link = False


class CommentInline(RecordInline):
    model = Comment
    fields = ["created_at", "unit", "author", "text"]
    show_change_link = False


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "yes":
            return queryset.overdue(now)
        if self.value() == "no":
            return queryset.not_overdue(now)
        return queryset


class UnitFilter(admin.SimpleListFilter):
    """Tasks where a unit holds any role: the same rule as ``Task.objects.for_unit``."""

    title = _("unit (any role)")
    parameter_name = "unit"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(str(u.pk), u.name) for u in Unit.objects.filter(is_active=True).only("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.for_unit(int(self.value()))
        return queryset


@admin.register(Task)
class TaskAdmin(
    PlanChoiceImportMixin,
    SafeImportMixin,
    ImportExportModelAdmin,
    ReadOnlyHistoryAdmin,
    BigListAdmin,
):
    resource_classes = [TaskResource]
    form = TaskAdminForm
    list_display = [
        "title_short",
        "indicator",
        "lead_unit",
        "deadline",
        "status",
        "progress",
    ]
    list_filter = ["plan", "status", UnitFilter, MainIndicatorFilter, OverdueFilter]
    search_fields = [
        "title",
        "indicator__code",
        "indicator__name_vi",
        "indicator__name_en",
        "lead_unit__name",
        "lead_unit__short_name",
    ]
    autocomplete_fields = ["indicator", "lead_unit", "plan"]
    date_hierarchy = "deadline"
    inlines = [
        AssignmentInline,
        AcknowledgementInline,
        ProgressInline,
        EvidenceInline,
        ExtensionInline,
        CompletionInline,
        CommentInline,
    ]
    readonly_fields = ["original_deadline", "created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {"fields": ["plan", "indicator", "title", "description", "expected_output", "note"]},
        ),
        (
            _("Responsibility and time"),
            {
                "fields": [
                    "lead_unit",
                    "start_date",
                    "deadline",
                    "deadline_text",
                    "reporting_period",
                    "original_deadline",
                ]
            },
        ),
        (_("State"), {"fields": ["status", "percent_done", "created_at", "updated_at"]}),
    ]
    history_list_display = ["status", "deadline", "percent_done"]

    @admin.display(description=_("title"), ordering="title")
    def title_short(self, task: Task) -> str:
        # Clipped to three lines by the admin stylesheet; the whole title shows on hover.
        return format_html('<span class="clamp" title="{}">{}</span>', task.title, task.title)

    @admin.display(description=_("percent done"), ordering="percent_done")
    def progress(self, task: Task) -> str:
        # As the portal shows it: a submitted task reads 100%, awaiting the coordinator's
        # verification, whatever its last progress report said.
        if task.status == Task.Status.SUBMITTED:
            return f"100% · {_('awaiting verification')}"
        return f"{task.percent_done}%"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The same rule as the portal's: a focal point who reaches the admin sees their units'
        # tasks only (another unit's change, history and export answer 404 or leave it out).
        return Task.objects.visible_to(request.user).with_list_columns()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # On PostgreSQL, by indexes (plans.search): the same words found, at a cost that does
        # not grow with the tasks. Elsewhere, the admin's icontains of each search field.
        if search_term and connections[queryset.db].vendor == "postgresql":
            return task_search(queryset, search_term), False
        return super().get_search_results(request, queryset, search_term)

    def get_inlines(self, request: HttpRequest, obj: Task | None) -> list:
        # A new task has no records yet: only its units are entered with it.
        return self.inlines if obj else [AssignmentInline]

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        if change and "deadline" in form.changed_data:
            # The form already put the new deadline on the task: move it from the stored one,
            # so that the first deadline stays on record, as an approved extension does.
            moved_to = obj.deadline
            obj.deadline = form.initial["deadline"]
            task_deadline_move(task=obj, deadline=moved_to, by=request.user, save=False)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if not isinstance(formset, AssignmentFormSet):
            super().save_formset(request, form, formset, change)
            return
        changed = task_units_set(
            task=form.instance,
            lead=form.instance.lead_unit,
            **formset.units_by_role(),
            by=request.user,
        )
        # What the admin's change message and history list read after a formset's save().
        formset.new_objects = changed.added
        formset.deleted_objects = changed.removed
        formset.changed_objects = []


class ProgressUpdateForm(PrintableTextMixin, forms.ModelForm):
    class Meta:
        model = ProgressUpdate
        fields = ["task", "unit", "percent", "note", "delay_reason"]

    def clean(self) -> dict[str, Any]:
        # The service enforces these too; checking here puts the message on the form.
        data = super().clean()
        task: Task | None = data.get("task")
        if task is None:
            return data
        if task.status not in Task.OPEN_STATUSES:
            self.add_error("task", _("Progress can be reported only on an open task."))
        elif task.is_overdue(timezone.now()) and not (data.get("delay_reason") or "").strip():
            self.add_error("delay_reason", _("The task is overdue: give the reason for the delay."))
        return data


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(TaskScopedAdmin):
    form = ProgressUpdateForm
    list_display = ["task", "unit", "author", "created_at", "percent"]
    list_filter = ["unit"]
    list_select_related = ["task", "unit", "author"]
    autocomplete_fields = ["task", "unit"]
    fields = ["task", "unit", "percent", "note", "delay_reason"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A report is a record of what a unit said: it is not edited afterwards.
        return self.fields if obj else []

    def save_model(
        self, request: HttpRequest, obj: ProgressUpdate, form: Any, change: bool
    ) -> None:
        if change:
            return
        progress_report(
            task=obj.task,
            unit=obj.unit,
            author=request.user,
            percent=obj.percent,
            note=obj.note,
            delay_reason=obj.delay_reason,
        )


@admin.register(Assignment)
class AssignmentAdmin(TaskScopedAdmin, ReadOnlyHistoryAdmin):
    """Assignments are edited on the task's page; this list is where their history is read."""

    list_display = ["task", "unit", "role"]
    list_filter = ["role"]
    list_select_related = ["task", "unit"]
    search_fields = ["task__title", "unit__name"]
    autocomplete_fields = ["task", "unit"]


def _request_fields(model: type[DecidedRequest]) -> list[str]:
    """A request's fields as they read: what was asked, then the decision (the decision's
    fields come first in the model, from its base class)."""
    asked = [f.name for f in model._meta.fields if f.name not in model.DECISION_FIELDS]
    return [*asked, *model.DECISION_FIELDS]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(DecisionAdmin, TaskScopedAdmin, ReadOnlyHistoryAdmin):
    """Requests are made in the portal; a coordinator decides here (the request's decide
    page, or the selected rows) or in the portal, through the same service."""

    decider = EXTENSION
    list_display = [
        "task_title",
        "unit",
        "requested_at",
        "new_deadline",
        "status",
        "decided_by",
    ]
    list_filter = ["status"]
    list_select_related = ["task", "unit", "decided_by"]
    search_fields = ["task__title", "unit__name", "reason"]
    actions = ["approve", "refuse"]
    readonly_fields = _request_fields(ExtensionRequest)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decisions go through the decide page and the actions, never by editing

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("plans.decide_extension")

    @admin.action(description=_("Approve the selected extension requests"), permissions=["decide"])
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.approve_selected(request, queryset)

    @admin.action(
        description=_("Refuse the selected extension requests (asks the reason)"),
        permissions=["decide"],
    )
    def refuse(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.refuse_selected(request, queryset)


@admin.register(CompletionSubmission)
class CompletionSubmissionAdmin(DecisionAdmin, TaskScopedAdmin, ReadOnlyHistoryAdmin):
    decider = COMPLETION
    list_display = [
        "task_title",
        "unit",
        "document_number",
        "submitted_at",
        "status",
        "decided_by",
    ]
    list_filter = ["status"]
    list_select_related = ["task", "unit", "decided_by"]
    search_fields = ["task__title", "unit__name", "document_number"]
    actions = ["verify", "return_for_work"]
    readonly_fields = _request_fields(CompletionSubmission)
    inlines = [EvidenceInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("plans.verify_completion")

    @admin.action(
        description=_("Verify the selected completions (the tasks become completed)"),
        permissions=["decide"],
    )
    def verify(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.approve_selected(request, queryset)

    @admin.action(
        description=_("Return the selected completions for more work (asks the reason)"),
        permissions=["decide"],
    )
    def return_for_work(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self.refuse_selected(request, queryset)


@admin.register(Evidence)
class EvidenceAdmin(TaskScopedAdmin):
    list_display = ["__str__", "task", "unit", "uploaded_by", "uploaded_at", "size"]
    list_select_related = ["task", "unit", "uploaded_by"]
    search_fields = ["task__title", "original_name", "link"]
    readonly_fields = [f.name for f in Evidence._meta.fields if f.name != "file"] + ["document"]
    exclude = ["file"]

    @admin.display(description=_("file or link"))
    def document(self, obj: Evidence) -> str:
        return evidence_link(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The self-assessment's admin builds on the classes above.
from plans import admin_self_assessment  # noqa: E402, F401
